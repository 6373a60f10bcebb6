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


def run_update(parsed: Parsed) -> int:
    if not parsed.passed:
        raise Usage("update: nothing to change (give --<setting>=<value>)")
    home = home_of(parsed)
    search = search_of(parsed, 0)
    # The match, the settings each change builds on and the store are one change under the home's
    # lock: a role deleted meanwhile is no longer matched, a concurrent update is not lost.
    with home.locked():
        names = home.select(search)
        values = _updated(home, names, parsed.passed)
        home.store_values("settings", values)
    return 0


def _updated(home: Home, names: list[str], passed: list[str]) -> dict[str, Encoding]:
    """The new settings of each role: its executable asked with the stored settings and ``passed``."""
    # Roles with the same executable and the same settings get the same answer: ask once.
    groups: dict[tuple[str, Optional[bytes]], list[str]] = {}
    for name in names:
        role = home.role(name, listed=True).role
        assert role is not None
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
