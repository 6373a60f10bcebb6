"""create, add, update, delete, destroy: the description of the group, not its processes."""

from __future__ import annotations

from typing import Optional

from ansar.home import (
    DEFAULT_TEMPLATE,
    BadValue,
    Encoding,
    Home,
    HomeError,
    Search,
    create_home,
    dump_input,
    dump_settings,
    expand_template,
)

from ._args import HOME_PATH, Parsed, Usage
from ._common import clear_running, home_of, search_of

__all__ = ["run_add", "run_create", "run_delete", "run_destroy", "run_update"]


def run_create(parsed: Parsed) -> int:
    path = parsed.words[0] if parsed.words else parsed.settings["home-path"]
    if parsed.words and parsed.settings["home-path"] not in (HOME_PATH.default, parsed.words[0]):
        raise Usage(f'create: two homes given ("{parsed.words[0]}" and --home-path={parsed.settings["home-path"]})')
    create_home(path, parsed.prefixed)
    return 0


def run_add(parsed: Parsed) -> int:
    if parsed.settings["command"] is not None:
        return _add_command(parsed)
    if not parsed.words:
        raise Usage("add: needs <executable> or --command=<line> (ansar add --help)")
    executable = parsed.words[0]
    template = parsed.words[1] if len(parsed.words) > 1 else DEFAULT_TEMPLATE
    names = expand_template(template, executable, parsed.settings["start"], parsed.settings["count"])
    home = home_of(parsed, 2)
    path = home.executable_path(executable)
    taken = sorted(set(names).intersection(home.names()))
    if taken:
        raise HomeError(f'role "{taken[0]}" already exists in {home.path}')
    settings = dump_settings(path, overrides=parsed.passed)
    input = dump_input(path)
    home.add(executable, names, settings, input)
    return 0


COMMAND_TEMPLATE = "command-{number}"


def _add_command(parsed: Parsed) -> int:
    """``add --command=<line> [role-template] [home-path]``: roles running a command line."""
    from ansar.home._command import COMMAND, check_line, command_settings

    if parsed.passed:
        raise Usage(f'add: a command role takes no setting of an executable ("{parsed.passed[0]}")')
    if len(parsed.words) > 2:
        raise Usage(f'add: unexpected word "{parsed.words[2]}" (ansar add --help)')
    line = check_line(parsed.settings["command"])
    template = parsed.words[0] if parsed.words else COMMAND_TEMPLATE
    names = expand_template(template, "command", parsed.settings["start"], parsed.settings["count"])
    home = home_of(parsed, 1)
    home.add(COMMAND, names, Encoding(command_settings(line), False), Encoding(b"", True))
    return 0


def _update_command(parsed: Parsed, home: Home, names: list[str]) -> dict[str, Encoding]:
    """``update --command=<line>``: the new line of every matched role, each a command role."""
    from ansar.home._command import check_line, command_settings, is_command

    line = check_line(parsed.settings["command"])
    if parsed.passed:
        raise Usage(f'update: --command goes with no setting of an executable ("{parsed.passed[0]}")')
    for name in names:
        if not is_command(home.role(name, listed=True).role):
            raise BadValue(f'cannot update "{name}": --command is for command roles (it runs an executable)')
    encoding = Encoding(command_settings(line), False)
    return {name: encoding for name in names}


def run_update(parsed: Parsed) -> int:
    if not parsed.passed and parsed.settings["command"] is None:
        raise Usage("update: nothing to change (give --<setting>=<value>, or --command=<line>)")
    home = home_of(parsed)
    search = search_of(parsed, 0)
    # The match, the settings each change builds on and the store are one change under the home's
    # lock: a role deleted meanwhile is no longer matched, a concurrent update is not lost.
    with home.locked():
        names = home.select(search)
        if parsed.settings["command"] is not None:
            values = _update_command(parsed, home, names)
        else:
            values = _updated(home, names, parsed.passed)
        home.store_values("settings", values)
    return 0


def _updated(home: Home, names: list[str], passed: list[str]) -> dict[str, Encoding]:
    """The new settings of each role: its executable asked with the stored settings and ``passed``."""
    # Roles with the same executable and the same settings get the same answer: ask once.
    groups: dict[tuple[str, Optional[bytes]], list[str]] = {}
    from ansar.home._command import is_command

    for name in names:
        role = home.role(name, listed=True).role
        assert role is not None
        if is_command(role):
            raise BadValue(f'cannot update "{name}": a command role has only --command=<line>')
        groups.setdefault((role.executable, home.read_document(name, "settings")), []).append(name)

    def ask(key: tuple[str, Optional[bytes]]) -> Encoding:
        executable, current = key
        first = groups[key][0]
        path = home.executable_path(executable)
        settings_file = home.value_path(first, "settings") if current is not None else None
        try:
            return dump_settings(path, settings_file, passed)
        except BadValue as e:
            if settings_file is not None:
                _check_stored(path, settings_file)  # blame a stored file the executable refuses
            raise BadValue(f'cannot update "{first}": {e}') from None
        except HomeError as e:
            raise HomeError(f'cannot update "{first}": {e}') from None

    keys = list(groups)
    if len(keys) == 1:
        answers = [ask(keys[0])]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(keys))) as pool:
            answers = list(pool.map(ask, keys))
    values: dict[str, Encoding] = {}
    for key, encoding in zip(keys, answers, strict=True):
        if encoding.empty:
            raise BadValue(f'cannot update "{groups[key][0]}": executable "{key[0]}" has no settings')
        for name in groups[key]:
            values[name] = encoding
    return values


def _check_stored(executable: str, settings_file: str) -> None:
    """HomeError naming ``settings_file`` as damaged if its executable refuses it as it is."""
    try:
        dump_settings(executable, settings_file)
    except BadValue as e:
        raise HomeError(f"{settings_file}: damaged (the stored settings are refused: {e})") from None


def run_delete(parsed: Parsed) -> int:
    home = home_of(parsed)
    search = search_of(parsed, 0)
    with home.locked():  # matched and removed in one change
        names = home.select(search)
        clear_running(home, names, search, "delete", parsed.force)
        home.delete(names)
    return 0


def run_destroy(parsed: Parsed) -> int:
    if parsed.force:
        import os

        path = parsed.words[0] if parsed.words else parsed.settings["home-path"]
        if not os.path.lexists(path):
            return 0  # -f: nothing there is nothing to destroy (a make clean from a fresh checkout)
    home = home_of(parsed, 0)
    home.check_destroy()
    with home.locked():
        names = home.names()
        clear_running(home, names, Search(None), "destroy", parsed.force)
        home.destroy()
    return 0
