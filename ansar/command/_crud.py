"""create, add, update, delete, destroy: the description of the group, not its processes."""

from __future__ import annotations

from typing import Optional

from ansar.home import (
    DEFAULT_TEMPLATE,
    BadValue,
    Encoding,
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
    names = home.select(search_of(parsed, 0))
    # Roles with the same executable and the same settings get the same answer: ask once.
    groups: dict[tuple[str, Optional[bytes]], list[str]] = {}
    for name in names:
        role = home.role(name).role
        assert role is not None
        groups.setdefault((role.executable, home.read_value(name, "settings")), []).append(name)

    def ask(key: tuple[str, Optional[bytes]]) -> Encoding:
        executable, current = key
        first = groups[key][0]
        settings_file = home.role_context(first).settings_path() if current is not None else None
        try:
            return dump_settings(home.executable_path(executable), settings_file, parsed.passed)
        except HomeError as e:
            raise type(e)(f'cannot update "{first}": {e}') from None

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
    home.store_values("settings", values)
    return 0


def run_delete(parsed: Parsed) -> int:
    home = home_of(parsed)
    search = search_of(parsed, 0)
    names = home.select(search)
    clear_running(home, names, search, "delete", parsed.force)
    home.delete(names)
    return 0


def run_destroy(parsed: Parsed) -> int:
    home = home_of(parsed, 0)
    names = home.names()
    clear_running(home, names, Search(None), "destroy", parsed.force)
    home.destroy()
    return 0
