"""Reading a window of a role's stored log lines (``ansar log``).

A window is ``[begin, end)``, or ``count`` records from ``begin``. A record is a line that starts
with a time (``2026-12-03T17:00:00.123 ^ <00000009>snooze - text``) and the lines after it that do
not (a print, a traceback); lines before any record in the oldest file take that file's time.
Finding the window reads only what it needs: the file is picked by name (files are named by the
time of their first line), then the record by bisecting the file on byte offsets. Times are
compared to the millisecond, as stored. Bisecting assumes times only grow: after the clock steps
back, a window may start a little off.
"""

from __future__ import annotations

import os
import re
import time
from typing import Callable, Iterator, Optional, Sequence

import msgspec

from ansar.create._logstore import log_files
from ansar.create._role import HomeError, RoleContext
from ansar.create.log import format_time

from ._names import BadValue
from ._timespec import parse_span, parse_time, period_start, utc_seconds

__all__ = ["DEFAULT_BACK", "Window", "read_window", "resolve_window", "to_local"]

DEFAULT_BACK = 300.0  # no begin option: the last five minutes
CHUNK = 64 * 1024  # reading forward
PROBE = 4 * 1024  # reading while bisecting
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} ")
_RECORD = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) ", re.MULTILINE)
_BEGIN = ("last", "back", "from", "start")
_END = ("to", "span", "count")


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[begin, end)`` in seconds since the epoch; ``count`` records at most."""

    begin: float
    end: Optional[float] = None
    count: Optional[int] = None


def _one(given: dict[str, object], names: Sequence[str], what: str) -> Optional[str]:
    chosen = [n for n in names if given.get(n) is not None]
    if len(chosen) > 1:
        shown = " and ".join(f"--{n}={given[n]}" for n in chosen)
        options = ", ".join(f"--{n}" for n in names)
        raise BadValue(f"log: give at most one {what} option of {options} (not {shown})")
    return chosen[0] if chosen else None


def resolve_window(
    context: RoleContext,
    *,
    clock: bool = False,
    last: Optional[str] = None,
    back: Optional[str] = None,
    from_: Optional[str] = None,
    start: Optional[int] = None,
    to: Optional[str] = None,
    span: Optional[str] = None,
    count: Optional[int] = None,
    now: Optional[float] = None,
    history: Optional[Callable[[], list]] = None,
) -> Window:
    """The window the ``ansar log`` options describe (at most one begin and one end option).

    ``history`` gives the role's executions (``ansar.home._history.read_history`` by default),
    read only for ``start``.
    """
    given = {"last": last, "back": back, "from": from_, "start": start, "to": to, "span": span, "count": count}
    first = _one(given, _BEGIN, "begin")
    final = _one(given, _END, "end")
    now = time.time() if now is None else now
    end: Optional[float] = None
    if first is None:
        begin = now - DEFAULT_BACK
    elif first == "last":
        begin = period_start(str(last), now, local=clock)
    elif first == "back":
        begin = now - parse_span(str(back), "back")
    elif first == "from":
        begin = parse_time(str(from_), "from", local=clock)
    else:
        assert start is not None
        begin, end = _execution(context, start, history)
    if final == "to":
        end = parse_time(str(to), "to", local=clock)
    elif final == "span":
        end = begin + parse_span(str(span), "span")
    elif final == "count":
        assert count is not None
        if count < 1:
            raise BadValue(f'"--count={count}" is not a number of records (1 or more)')
        end = None
    return Window(begin, end, count)


def _execution(
    context: RoleContext, index: int, history: Optional[Callable[[], list]]
) -> tuple[float, Optional[float]]:
    """Start of execution ``index`` and start of the one after it (None if it is the latest)."""
    if history is None:
        from ._history import read_history

        executions = read_history(context)
    else:
        executions = history()
    n = len(executions)
    at = index + n if index < 0 else index
    if not 0 <= at < n:
        held = "none" if n == 0 else f"{n}: 0 to {n - 1}, or -{n} to -1"
        raise HomeError(f'role "{context.role_name}" has no execution {index} (its history holds {held})')

    def start_of(i: int) -> float:
        text = executions[i].start
        try:
            return parse_time(text, "start")
        except BadValue:
            raise HomeError(f'{context.history_path()}: start "{text}" of execution {i} is not an ISO time') from None

    return start_of(at), start_of(at + 1) if at + 1 < n else None


# Finding a time in the files.


def _line_time(name: str) -> bytes:
    """``20261203T170000.123-000007.log`` -> ``2026-12-03T17:00:00.123``, the time as lines have it."""
    w = name[:19]
    return f"{w[0:4]}-{w[4:6]}-{w[6:8]}T{w[9:11]}:{w[11:13]}:{w[13:15]}{w[15:19]}".encode()


def _records(fd: int, offset: int, limit: int) -> Iterator[tuple[int, bytes]]:
    """(offset, time) of each record starting at or after ``offset``, until ``limit``.

    Reads start small and double: a bisect's probe needs a few lines, a scan needs more.
    """
    size = PROBE
    position, skip = (0, False) if offset == 0 else (offset - 1, True)  # skip: to after the next newline
    while position < limit:
        data = os.pread(fd, size, position)
        if not data:
            return
        begin = 0
        if skip:
            newline = data.find(b"\n")
            if newline < 0:
                position += len(data)
                continue
            begin = newline + 1
        cut = data.rfind(b"\n") + 1  # position + begin starts a line
        if cut > begin:
            for match in _RECORD.finditer(data, begin, cut):
                yield position + match.start(), match.group(1)
            position, skip = position + cut, False
        elif begin and len(data) == size and len(data) - begin < 24:
            position, skip = position + begin, False  # too little of the line to tell: read it again
        else:  # a line longer than this read, or the last line without its newline
            if _STAMP.match(data, begin):
                yield position + begin, data[begin:begin + 23]
            position, skip = position + len(data), True
        size = min(size * 2, CHUNK)


def _first_record(fd: int, size: int, key: bytes) -> int:
    """The offset of the first record at or after time ``key`` in one file, or ``size`` if none."""
    low, high = 0, size  # records before low are earlier than key; the answer is at or before high
    while high - low > PROBE:
        middle = (low + high) // 2
        found = next(_records(fd, middle, high), None)
        if found is None or found[0] >= high:
            high = middle  # nothing starts in [middle, high): the answer is before, or at high
            continue
        offset, stamp = found
        if stamp < key:
            low = offset + 1
        else:
            high = offset
    for offset, stamp in _records(fd, low, size):
        if stamp >= key:
            return offset
    return size


class _Files:
    """The open files of a log folder, oldest first; a file removed meanwhile is left out."""

    def __init__(self, folder: str) -> None:
        self.names: list[str] = []
        self.fds: list[int] = []
        for name in log_files(folder):
            try:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                continue  # trimmed by the role while we listed
            self.names.append(name)
            self.fds.append(fd)

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def size(self, i: int) -> int:
        return os.fstat(self.fds[i]).st_size

    def locate(self, key: bytes) -> tuple[int, int]:
        """(file, offset) of the first record at or after ``key``; the end of the last file if none."""
        compact = key.decode().replace("-", "").replace(":", "")
        chosen = 0
        for i, name in enumerate(self.names):
            if name[:19] < compact:
                chosen = i
            else:
                break
        if chosen == 0 and _line_time(self.names[0]) >= key and not _STAMP.match(os.pread(self.fds[0], 24, 0)):
            return 0, 0  # lines before any record: they count from the oldest file's time
        for i in range(chosen, len(self.fds)):
            size = self.size(i)
            offset = _first_record(self.fds[i], size, key)
            if offset < size:
                return i, offset
        return len(self.fds) - 1, self.size(len(self.fds) - 1)

    def bytes_between(self, begin: tuple[int, int], end: Optional[tuple[int, int]]) -> Iterator[bytes]:
        """The bytes from ``begin`` up to ``end`` (None: to the end of the last file), in pieces."""
        last = len(self.fds) - 1 if end is None else end[0]
        for i in range(begin[0], last + 1):
            position = begin[1] if i == begin[0] else 0
            stop = end[1] if end is not None and i == end[0] else self.size(i)
            size = PROBE
            while position < stop:
                data = os.pread(self.fds[i], min(size, stop - position), position)
                size = min(size * 2, CHUNK)
                if not data:
                    break
                position += len(data)
                yield data


def _whole_lines(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The same bytes in pieces that end at line ends; a last line without its newline gets one."""
    carry = b""
    for piece in pieces:
        cut = piece.rfind(b"\n") + 1
        if cut == 0:
            carry += piece
            continue
        yield carry + piece[:cut]
        carry = piece[cut:]
    if carry:
        yield carry + b"\n"


def _first_records(pieces: Iterator[bytes], count: int, end: Optional[bytes]) -> Iterator[bytes]:
    """The pieces holding the first ``count`` records (a record's continuation lines with it)."""
    seen = 1  # the window's first record (or the lines before any record, which count as one)
    first = True
    for piece in pieces:
        stop = None
        for match in _RECORD.finditer(piece):
            if first and match.start() == 0:
                continue
            if seen >= count or end is not None and match.group(1) >= end:
                stop = match.start()
                break
            seen += 1
        first = False
        if stop is not None:
            if stop:
                yield piece[:stop]
            return
        yield piece


def read_window(folder: str, window: Window) -> Iterator[bytes]:
    """The stored lines of ``window`` as stored (UTC), in pieces of whole lines."""
    files = _Files(folder)
    try:
        if not files.fds:
            return
        key = format_time(window.begin).encode()
        end = format_time(window.end).encode() if window.end is not None else None
        if end is not None and end <= key:
            return
        begin = files.locate(key)
        if window.count is None:
            stop = files.locate(end) if end is not None else None
            yield from _whole_lines(files.bytes_between(begin, stop))
        else:
            yield from _first_records(_whole_lines(files.bytes_between(begin, None)), window.count, end)
    finally:
        files.close()


def to_local(piece: bytes) -> bytes:
    """``piece`` with the UTC time at the start of each record line turned into local time."""
    cache: dict[bytes, bytes] = {}

    def local(match: re.Match[bytes]) -> bytes:
        stamp = match.group(1)
        second = stamp[:19]
        shown = cache.get(second)
        if shown is None:
            utc = utc_seconds(int(second[0:4]), int(second[5:7]), int(second[8:10]), int(second[11:13]),
                              int(second[14:16]), int(second[17:19]))
            shown = format_time(utc, local=True)[:19].encode()
            cache[second] = shown
        return shown + stamp[19:] + b" "

    return _RECORD.sub(local, piece)
