"""create, add, list, update, delete, destroy: the description of the group, not its processes."""

from __future__ import annotations

import sys
from typing import Optional

import msgspec

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

__all__ = ["run_add", "run_create", "run_delete", "run_destroy", "run_list", "run_update"]


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


def run_list(parsed: Parsed) -> int:
    home = home_of(parsed)
    search = search_of(parsed, 0)
    names = home.select(search, empty_ok=search.pattern is None)
    if not parsed.settings["long-listing"]:
        if names:
            sys.stdout.write("\n".join(names) + "\n")
        return 0
    rows = [_long_row(home, name) for name in names]
    if rows:
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[3]]
            sys.stdout.write("  ".join(cells).rstrip() + "\n")
    return 0


SUMMARY_LIMIT = 60


def _summary(data: Optional[bytes]) -> str:
    """A line for the settings of a role: its top-level fields as name=value."""
    if data is None:
        return "-"
    try:
        value = msgspec.json.decode(data).get("value")
    except (msgspec.DecodeError, AttributeError):
        return "(damaged)"
    if isinstance(value, dict):
        text = " ".join(f"{k}={msgspec.json.encode(v).decode()}" for k, v in value.items())
    else:
        text = msgspec.json.encode(value).decode()
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 3] + "..."


def _long_row(home: Home, name: str) -> list[str]:
    role = home.role(name).role
    assert role is not None
    properties = []
    if role.retry is not None:
        properties.append("retry=" + msgspec.json.encode(role.retry).decode())
    if role.storage is not None:
        properties.append(f"storage={role.storage}")
    return [name, role.executable, _summary(home.read_value(name, "settings")), " ".join(properties) or "-"]


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
