"""Reading a role's history of executions, closing the records of lost processes, waiting for one.

The file is written by the component itself (``ansar.create._history``, which describes it). A
record left open by a process that is gone (SIGKILL, power loss) is closed here, the next time
anyone looks, as a Faulted that says so. Only the role's last record can be open while it runs, so
earlier open records are lost whatever the role is doing; they are rewritten only under the role
lock, which a starting role needs too.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional

import msgspec

from ansar.create._atomic import write_atomic
from ansar.create._history import KEEP, LOST, close_lost
from ansar.create._role import HomeError, RoleContext
from ansar.create.log import format_time

from ._running import is_running

__all__ = ["Execution", "close_stopped", "epoch_of", "failed", "format_span", "read_history", "record_unstarted",
           "wait_execution", "was_lost"]

POLL = 0.1  # seconds between looks at the file while waiting for an execution to end


class Execution(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One execution of a role: UTC ISO 8601 ``start`` and ``end`` (None while open), its value."""

    start: str
    pid: int
    end: Optional[str] = None
    value: Any = None
    deadline: Optional[str] = None  # with a timeout property: when it was to be stopped


class _Document(msgspec.Struct, forbid_unknown_fields=True):
    value: list[Execution]


_decoder = msgspec.json.Decoder(_Document)
_encoder = msgspec.json.Encoder()


def epoch_of(text: str) -> float:
    """Epoch seconds of a history time (``2026-12-03T17:00:00.123``, UTC); ValueError if it is not one."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def format_span(seconds: float) -> str:
    """A duration for people: ``12.7s``, ``1m46.3s``, ``7h30m``, ``1d1h`` (negative counts as 0)."""
    tenths = max(0, round(seconds * 10))
    if tenths < 600:
        return f"{tenths // 10}.{tenths % 10}s"
    if tenths < 36000:
        minutes, rest = divmod(tenths, 600)
        return f"{minutes}m{rest // 10}.{rest % 10}s"
    minutes = tenths // 600
    if minutes < 24 * 60:
        return f"{minutes // 60}h{minutes % 60}m"
    hours = minutes // 60
    return f"{hours // 24}d{hours % 24}h"


def _read(path: str) -> list[Execution]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None
    try:
        records = _decoder.decode(data).value
    except msgspec.DecodeError as e:  # ValidationError included
        raise HomeError(f"{path}: damaged history ({e})") from None
    for i, record in enumerate(records):
        for name in ("start", "end"):
            text = getattr(record, name)
            try:
                if text is not None:
                    epoch_of(text)
            except ValueError:
                raise HomeError(f"{path}: damaged history (not a time - at $.value[{i}].{name})") from None
    return records


def _closed(records: list[Execution], stamp: float, *, spare_last: bool,
            value: Optional[list] = None) -> tuple[list[Execution], int]:
    builtins = msgspec.to_builtins(records)
    count = close_lost(builtins, stamp, spare_last=spare_last, value=value)
    if not count:
        return records, 0
    return msgspec.convert(builtins, list[Execution]), count


@contextlib.contextmanager
def _role_lock_taken(context: RoleContext) -> Iterator[bool]:
    """Try the role's lock (as a starting role takes it) and hold it for the block; the block is
    given False when another process holds it or the lock file was replaced meanwhile."""
    import fcntl

    lock_path = context.lock_path()
    try:
        os.makedirs(os.path.dirname(lock_path), mode=0o700, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise HomeError(f"{lock_path}: cannot open ({e.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = os.fstat(fd).st_ino == os.stat(lock_path).st_ino  # not a file replaced meanwhile
        except (BlockingIOError, FileNotFoundError):
            taken = False
        yield taken
    finally:
        os.close(fd)  # releases the lock


def _write(path: str, records: list[Execution]) -> None:
    try:
        write_atomic(path, _encoder.encode(_Document(records[-KEEP:])), 0o600)
    except OSError as e:
        raise HomeError(f"{path}: cannot write ({e.strerror})") from None


def _close_under_lock(context: RoleContext, value: Optional[list] = None) -> Optional[list[Execution]]:
    """Take the role lock, re-read and close every open record (as lost, or with ``value``);
    None if the lock is taken."""
    with _role_lock_taken(context) as taken:
        if not taken:
            return None
        path = context.history_path()
        records, count = _closed(_read(path), time.time(), spare_last=False, value=value)
        if count:
            _write(path, records)
        return records


def read_history(context: RoleContext, *, close_stale: bool = True) -> list[Execution]:
    """The role's executions, oldest first; [] if it has never run.

    With ``close_stale``, an open record of a process that is gone is closed as
    ``ansar.create.lifecycle.Faulted`` (written back while holding the role lock). Earlier open
    records of a running role are returned closed but left in the file for the next look.
    HomeError for a damaged file.
    """
    records = _read(context.history_path())
    if not close_stale or all(r.end is not None for r in records):
        return records
    if is_running(context) is None:
        closed = _close_under_lock(context)
        if closed is not None:
            return closed
    return _closed(records, time.time(), spare_last=True)[0]


def close_stopped(context: RoleContext) -> None:
    """After ``ansar stop``: an execution its process could not close (it had to be killed) is
    closed as ``ansar.create.lifecycle.Aborted``, as a stop by ansar is, not as lost."""
    if is_running(context) is None and any(r.end is None for r in _read(context.history_path())):
        _close_under_lock(context, ["ansar.create.lifecycle.Aborted", {}, []])


def record_unstarted(context: RoleContext, began: float, value: list) -> None:
    """An execution of ``ansar run`` that ended before its process held the role lock (settings it
    refused, a crash at import): recorded, so that ``history`` and ``run --failed`` see it. Nothing
    is written if the process did record itself (its record is closed if it could not do that), or if
    another instance holds the lock now."""
    with _role_lock_taken(context) as taken:
        if not taken:
            return
        path = context.history_path()
        records = _read(path)
        if records and epoch_of(records[-1].start) >= began - 0.001:
            # The process opened an execution of its own; one it could not close (it was killed,
            # or its timeout's SIGALRM ended it) is closed now, as the next look would.
            if records[-1].end is None:
                records, count = _closed(records, time.time(), spare_last=False)
                if count:
                    _write(path, records)
            return
        records.append(Execution(start=format_time(began), pid=0, end=format_time(time.time()), value=value))
        _write(path, records)


def was_lost(execution: Execution) -> bool:
    """The execution ended without a result: its process was lost (SIGKILL, a crash)."""
    value = execution.value
    return (isinstance(value, list) and len(value) > 1 and isinstance(value[1], dict)
            and value[1].get("explanation") == LOST)


def failed(execution: Execution) -> bool:
    """The execution's value is a Faulted, Aborted or TimedOut, or a TestReport with failures."""
    value = execution.value
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        return False
    kind = value[0]
    if kind in ("ansar.create.lifecycle.Faulted", "ansar.create.lifecycle.Aborted", "ansar.create.lifecycle.TimedOut"):
        return True
    body = value[1] if len(value) > 1 and isinstance(value[1], dict) else {}
    return kind == "ansar.create.test.TestReport" and bool(body.get("failed"))


def _nap(seconds: float) -> None:
    time.sleep(seconds)


def wait_execution(
    context: RoleContext,
    execution: Execution,
    *,
    seconds: Optional[float] = None,
    clock: Callable[[], float] = time.monotonic,
) -> Optional[Execution]:
    """Wait until ``execution`` has ended (polling the file); its closed record, or None after ``seconds``.

    A process killed meanwhile is found lost and closed by ``read_history``, which ends the wait.
    HomeError if the record is no longer there (the file was damaged and replaced).
    """
    deadline = None if seconds is None else clock() + seconds
    while True:
        found = _find(read_history(context), execution)
        if found is None:
            raise HomeError(f"{context.history_path()}: the execution started {execution.start} is no longer recorded")
        if found.end is not None:
            return found
        left = POLL if deadline is None else deadline - clock()
        if left <= 0:
            return None
        _nap(min(POLL, left))


def _find(records: list[Execution], execution: Execution) -> Optional[Execution]:
    # Its own record, or the closed one its process appended if the file was replaced meanwhile.
    for record in reversed(records):
        if record.pid == execution.pid and record.start >= execution.start:
            return record
        if record.start < execution.start:
            break
    return None
