"""Times and spans as ``ansar log`` takes them: ``--back=2m30.5s``, ``--from=2026-12-03T17:00``,
``--last=WEEK``.

Every function takes the setting's name for its error, a ``BadValue`` naming the setting and the
form expected (exit 2). Times are seconds since the epoch; a time without an offset is UTC, or
local time when ``local`` (``--clock``). ``now`` is passed in so that tests choose it.
"""

from __future__ import annotations

import re
import time

from ._names import BadValue

__all__ = ["PERIODS", "parse_span", "parse_time", "period_start", "utc_seconds"]

PERIODS = ("MONTH", "WEEK", "DAY", "HOUR", "HALF", "QUARTER", "TEN", "FIVE", "MINUTE")
_MINUTES = {"HOUR": 60, "HALF": 30, "QUARTER": 15, "TEN": 10, "FIVE": 5, "MINUTE": 1}

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_SPAN = re.compile(rf"(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?")
_SPAN_UNITS = (86400.0, 3600.0, 60.0, 1.0)
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)"
    r"(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d\d:?\d\d)?"
)
SPAN_FORM = "a span such as 10s, 2m30.5s, 1h30m or 1d"
TIME_FORM = "an ISO 8601 time such as 2026-12-03T17:00:00.123 or 2026-12-03"


def _days(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a date of the proleptic Gregorian calendar (no calendar or datetime
    import: ``ansar log`` starts faster without them)."""
    year -= month <= 2
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    of_era_days = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    return era * 146097 + of_era_days - 719468


def utc_seconds(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Seconds since the epoch of a UTC date and time (``calendar.timegm``)."""
    return ((_days(year, month, day) * 24 + hour) * 60 + minute) * 60 + second


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_span(text: str, setting: str) -> float:
    """Seconds in ``text``: days, hours, minutes, seconds in that order, each optional (``1h30m``)."""
    match = _SPAN.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        raise BadValue(f'"--{setting}={text}" is not {SPAN_FORM}')
    return sum(float(part) * unit for part, unit in zip(match.groups(), _SPAN_UNITS, strict=True) if part)


def parse_time(text: str, setting: str, *, local: bool = False) -> float:
    """Seconds since the epoch of an ISO 8601 date or time; without an offset UTC, or local if ``local``."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise BadValue(f'"--{setting}={text}" is not {TIME_FORM}')
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    fields = [int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)]
    if not (1 <= fields[1] <= 12 and 1 <= fields[2] <= _month_days(fields[0], fields[1])
            and fields[3] < 24 and fields[4] < 60 and fields[5] < 60):
        raise BadValue(f'"--{setting}={text}" is not {TIME_FORM} (no such date or time)')
    part = float("0." + fraction) if fraction else 0.0
    if offset is None:
        if local:
            return time.mktime((*fields, 0, 0, -1)) + part
        return utc_seconds(*fields) + part
    seconds = 0
    if offset != "Z":
        digits = offset[1:].replace(":", "")
        seconds = (int(digits[:2]) * 60 + int(digits[2:])) * 60
        if offset[0] == "-":
            seconds = -seconds
    return utc_seconds(*fields) - seconds + part


def period_start(period: str, now: float, *, local: bool = False) -> float:
    """The start of the current ``period`` (one of PERIODS) at ``now``; WEEK starts Monday 00:00."""
    name = period.upper()
    if name not in PERIODS:
        raise BadValue(f'"--last={period}" is not one of {", ".join(PERIODS)}')
    t = time.localtime(now) if local else time.gmtime(now)
    year, month, day = t.tm_year, t.tm_mon, t.tm_mday
    hour = minute = 0
    isdst = -1
    if name == "MONTH":
        day = 1
    elif name == "WEEK":
        monday = time.gmtime((_days(year, month, day) - t.tm_wday) * 86400)  # tm_wday: Monday is 0
        year, month, day = monday.tm_year, monday.tm_mon, monday.tm_mday
    elif name != "DAY":
        hour = t.tm_hour
        minute = t.tm_min - t.tm_min % _MINUTES[name]
        isdst = t.tm_isdst  # the same side of a change of clocks as now
    if local:
        return time.mktime((year, month, day, hour, minute, 0, 0, 0, isdst))
    return float(utc_seconds(year, month, day, hour, minute))
