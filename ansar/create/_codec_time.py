"""Converters of times: ISO 8601 dates and times, and spans like ``1m30.5s``."""

from __future__ import annotations

from ._codec_base import _Context, _expected, _Mismatch, _module_class, _Text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any

__all__ = ["_ClockTimeCodec", "_TimeDeltaCodec", "_TimeSpanCodec", "_WorldTimeCodec"]


def _iso_in(text: str) -> _Any:
    """Parse ISO 8601 text; fractions of any length and a trailing Z are accepted."""
    import datetime

    t = text.strip()
    if t[-1:] in ("Z", "z"):
        t = t[:-1] + "+00:00"
    dot = t.find(".", 10)
    if dot != -1:
        end = dot + 1
        while end < len(t) and t[end].isdigit():
            end += 1
        t = t[: dot + 1] + (t[dot + 1 : end] + "000000")[:6] + t[end:]
    try:
        return datetime.datetime.fromisoformat(t)
    except ValueError:
        raise _Mismatch(f"Expected ISO 8601 date and time, got {text!r}") from None


def _iso_out(naive: _Any) -> str:
    text = naive.isoformat()
    return text.rstrip("0") if naive.microsecond else text


class _WorldTimeCodec(_Text):
    name = "datetime"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        cls = _module_class("datetime", "datetime")
        if cls is None or not isinstance(value, cls):
            raise _Mismatch(f"Expected datetime, got {type(value).__name__}")
        if value.tzinfo is not None:
            import datetime

            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return _iso_out(value)

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not str:
            raise _expected("str", word)
        import datetime

        value = _iso_in(word)
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)


class _ClockTimeCodec(_Text):
    name = "datetime"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise _Mismatch(f"Expected float, got {type(value).__name__}")
        import datetime

        try:
            return _iso_out(datetime.datetime.fromtimestamp(value))
        except (OverflowError, OSError, ValueError):
            raise _Mismatch(f"Expected seconds since the epoch, got {value!r}") from None

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is float or type(word) is int:
            return float(word)
        if type(word) is not str:
            raise _expected("str", word)
        return _iso_in(word).timestamp()


_UNITS = {"d": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000}


def _span_text(micro: int) -> str:
    sign = "-" if micro < 0 else ""
    rest = abs(micro)
    parts = []
    for unit in "dhm":
        n, rest = divmod(rest, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    seconds, fraction = divmod(rest, 1_000_000)
    if fraction:
        parts.append(f"{seconds}.{fraction:06d}".rstrip("0") + "s")
    elif seconds or not parts:
        parts.append(f"{seconds}s")
    return sign + "".join(parts)


def _span_micro(text: str) -> int:
    import re

    t = text.strip()
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)", t)
    if m:
        pieces = [(m.group(2), "s")]
    else:
        m = re.fullmatch(r"([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)[dhms])+)", t)
        pieces = re.findall(r"(\d+(?:\.\d*)?|\.\d+)([dhms])", m.group(2)) if m else []
        units = [u for _, u in pieces]
        if not pieces or units != sorted(set(units), key="dhms".index):
            raise _Mismatch(f"Expected a time span like '1m30.5s', got {text!r}")
    total = 0
    for number, unit in pieces:
        whole, _, fraction = number.partition(".")
        scale = _UNITS[unit]
        total += int(whole or "0") * scale
        if fraction:
            digits = 10 ** len(fraction)
            total += (int(fraction) * scale * 2 + digits) // (2 * digits)
    return -total if m.group(1) == "-" else total  # type: ignore[union-attr]


class _TimeSpanCodec(_Text):
    name = "time span"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            if value != value or value in (float("inf"), float("-inf")):
                raise _Mismatch(f"Expected a finite time span, got {value!r}")
            return _span_text(round(value * 1_000_000))
        raise _Mismatch(f"Expected float, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is float or type(word) is int:
            return float(word)
        if type(word) is not str:
            raise _expected("str", word)
        return _span_micro(word) / 1_000_000


class _TimeDeltaCodec(_Text):
    name = "time span"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        cls = _module_class("datetime", "timedelta")
        if cls is None or not isinstance(value, cls):
            raise _Mismatch(f"Expected timedelta, got {type(value).__name__}")
        return _span_text((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        import datetime

        if type(word) is float or type(word) is int:
            return datetime.timedelta(seconds=word)
        if type(word) is not str:
            raise _expected("str", word)
        return datetime.timedelta(microseconds=_span_micro(word))
