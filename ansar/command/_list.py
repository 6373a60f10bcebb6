"""list: the roles of a home, one a line, sorted; ``-l`` adds executable, settings and properties."""

from __future__ import annotations

import sys
from typing import Optional

import msgspec

from ansar.home import Home

from ._args import Parsed
from ._common import home_of, search_of

__all__ = ["run_list"]


def run_list(parsed: Parsed) -> int:
    home = home_of(parsed)
    search = search_of(parsed, 0)
    names = home.select(search, empty_ok=search.pattern is None)  # no search: an empty home is fine
    if not parsed.settings["long-listing"]:
        if names:
            sys.stdout.write("\n".join(_shown(n) for n in names) + "\n")
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
        text = " ".join(f"{k if _plain_key(k) else _json(k)}={_json(v)}" for k, v in value.items())
    else:
        text = _json(value)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 3] + "..."


def _shown(name: str) -> str:
    """A name as listed: quoted as a JSON string when it holds a newline or another character
    that is not printable (a file put in the home by hand), so that each role is one line."""
    return name if name.isprintable() else _json(name)


def _plain_key(key: str) -> bool:
    return key.isprintable() and "=" not in key and " " not in key


def _json(value: object) -> str:
    """``value`` as JSON with every character that is not printable escaped: not only the
    newlines and C0 controls JSON escapes itself but DEL, the C1 controls (a terminal reads
    U+009B as an escape), line separators and format characters such as bidi overrides."""
    text = msgspec.json.encode(value).decode()
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(ord(c)) for c in text)


def _escape(code: int) -> str:
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _long_row(home: Home, name: str) -> list[str]:
    role = home.role(name, listed=True).role
    assert role is not None
    properties = []
    if role.retry is not None:
        properties.append("retry=" + msgspec.json.encode(role.retry).decode())
    if role.storage is not None:
        properties.append(f"storage={role.storage}")
    return [_shown(name), role.executable, _summary(home.read_value(name, "settings")), " ".join(properties) or "-"]
