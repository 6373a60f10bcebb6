"""Log records, the levels that pick which are shown, and where they go.

A record is one line: ``<time> <marker> <<address>>name - text``; on stderr it starts with the
process id, ``[<pid>] ``. Markers: ``+`` created,
``X`` destroyed, ``>`` sent, ``<`` received, ``^`` console, ``~`` trace, ``_`` debug,
``?`` warning or fault, ``=`` failed test, ``(`` ``)`` process started and ended.
"""

from __future__ import annotations

import os
import sys
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Protocol, TextIO
else:
    Protocol = object

__all__ = [
    "LogRecord", "LogSink", "StreamSink", "USER_LOG", "format_record", "log_level", "set_log_level",
    "set_sink", "write",
]


class USER_LOG:
    """Ordered levels: a level shows its own records and every lower one.

    Plain integers rather than an Enum, to keep ``import ansar.create`` light.
    """

    NONE = 0
    FAULT = 1
    WARNING = 2
    CONSOLE = 3
    OBJECT = 4
    TRACE = 5
    DEBUG = 6
    names = ("NONE", "FAULT", "WARNING", "CONSOLE", "OBJECT", "TRACE", "DEBUG")

    @classmethod
    def from_name(cls, name: str) -> int:
        """The level called ``name`` (any case); ValueError names the choices."""
        try:
            return cls.names.index(name.upper())
        except ValueError:
            raise ValueError(f'"{name}" is not a log level (expected one of {", ".join(cls.names)})') from None


class LogRecord:
    """One logged event. ``stamp`` is seconds since the epoch (UTC)."""

    __slots__ = ("stamp", "marker", "level", "address", "name", "text")

    def __init__(self, stamp: float, marker: str, level: int, address: int, name: str, text: str) -> None:
        self.stamp = stamp
        self.marker = marker
        self.level = level
        self.address = address
        self.name = name
        self.text = text


class LogSink(Protocol):
    """Where records go: stderr for tools and foreground runs, a role's storage in the background."""

    def write(self, record: LogRecord) -> None: ...


def format_time(stamp: float, local: bool = False) -> str:
    """ISO 8601 to the millisecond, UTC unless ``local``."""
    whole = int(stamp)
    ms = int((stamp - whole) * 1000)
    t = time.localtime(whole) if local else time.gmtime(whole)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03d" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms
    )


def format_record(record: LogRecord, local: bool = False) -> str:
    return f"{format_time(record.stamp, local)} {record.marker} <{record.address:08x}>{record.name} - {record.text}"


class StreamSink:
    """Writes formatted lines to a text stream (stderr by default), one write per line, each
    starting with the process id (``[00438217] 2023-04-06T01:52:17.317 ^ ...``), so the lines of
    several processes sharing a terminal can be told apart."""

    def __init__(self, stream: Optional[TextIO] = None, local: bool = False) -> None:
        self.stream = stream
        self.local = local
        self._lock = threading.RLock()  # re-entrant: a signal handler may log mid-write
        self._pid = -1
        self._prefix = ""

    def write(self, record: LogRecord) -> None:
        pid = os.getpid()
        if pid != self._pid:  # once per process (and again in a forked child)
            self._pid, self._prefix = pid, "[%08d] " % pid
        line = self._prefix + format_record(record, self.local) + "\n"
        stream = self.stream or sys.stderr
        with self._lock:
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken stderr must not take the program down


_sink: LogSink = StreamSink()
_level: int = USER_LOG.NONE  # read directly by callers on hot paths


def set_sink(sink: LogSink) -> LogSink:
    """Send records to ``sink``; returns the previous sink."""
    global _sink
    previous, _sink = _sink, sink
    return previous


def set_log_level(level: int) -> None:
    global _level
    _level = int(level)


def log_level() -> int:
    return _level


def write(level: int, marker: str, address: int, name: str, text: str) -> None:
    """Record one event if ``level`` is shown."""
    if level <= _level:
        _sink.write(LogRecord(time.time(), marker, level, address, name, text))
