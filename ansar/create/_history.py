"""A component's own record of its executions: one line of history at start-up, its value at exit.

``<history folder>/<role>.json`` holds ``{"value": [record, ...]}``, oldest first, the last
``KEEP`` only. A record is ``{"start": <time>, "pid": <int>}`` while its process runs and gains
``"end"`` (and ``"value"``, the JSON form of the result's ``value`` member) when it ends. Times are
UTC ISO 8601 to the millisecond.

Both calls run while the component holds its role lock, so they are the only writers; a reader
that closes records left open by a lost process takes that lock first (``ansar.home._history``).
This runs in every component's start-up and exit: stdlib json only, and a damaged or unwritable
file never stops the component (a damaged one is kept aside as ``<role>.json.damaged``).
"""

from __future__ import annotations

import json
import os
import sys

from ._atomic import write_atomic
from .log import format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from ._role import RoleContext

__all__ = ["FAULTED", "KEEP", "close_execution", "close_lost", "lost_value", "open_execution"]

KEEP = 128
FAULTED = "ansar.create.lifecycle.Faulted"
TIMED_OUT = "ansar.create.lifecycle.TimedOut"


LOST = "lost"  # the explanation of lost_value: what ``ansar start --restore`` looks for


def lost_value(pid: int) -> list:
    """The value recorded for an execution whose process ended without one (SIGKILL, power loss)."""
    return [FAULTED, {"condition": f"process {pid} ended without a result (killed or lost)", "explanation": LOST},
            []]


def close_lost(records: list, stamp: float, *, spare_last: bool = False, value: Optional[list] = None) -> int:
    """Close the open records (dicts) as lost, ended at ``stamp``; return how many.

    ``spare_last``: leave the last record open (its process may still be running). ``value``: the
    value to close them with instead (``ansar stop`` closes what it had to kill as Aborted).
    """
    end = format_time(stamp)
    closed = 0
    for record in records[:-1] if spare_last else records:
        if "end" not in record:
            record["end"] = end
            if value is not None:
                record["value"] = value
            elif end >= record.get("deadline", "~"):  # ISO times of one form compare as text
                # Past its deadline: most likely the kernel's last resort of the timeout property
                # (a process hung in C code cannot record its own end).
                record["value"] = [TIMED_OUT, {}, []]
            else:
                record["value"] = lost_value(record["pid"])
            closed += 1
    return closed


def open_execution(context: RoleContext, pid: int, stamp: float, timeout: Optional[float] = None) -> None:
    """Append an open record for this process, started at ``stamp`` (epoch seconds); with a
    ``timeout`` property, the record carries its ``deadline``.

    A record still open from an earlier process is closed as lost: this process holds the role
    lock, so that one cannot be running.
    """
    path = context.history_path()
    records = _load(path, context.role_name)
    if records is None:
        return
    close_lost(records, stamp)
    record: dict = {"start": format_time(stamp), "pid": pid}
    if timeout is not None:
        record["deadline"] = format_time(stamp + timeout)
    records.append(record)
    _store(path, records, context.role_name)


def close_execution(context: RoleContext, pid: int, stamp: float, value: object) -> None:
    """Record the end (``stamp``) and ``value`` (decoded JSON of the result's ``value``, or None).

    The last record is closed if it is this process's open one; otherwise (the file was lost or
    replaced meanwhile) a closed record is appended, starting at ``stamp``, so the value is kept.
    """
    path = context.history_path()
    records = _load(path, context.role_name)
    if records is None:
        return
    end = format_time(stamp)
    if records and "end" not in records[-1] and records[-1]["pid"] == pid:
        record = records[-1]
    else:
        record = {"start": end, "pid": pid}
        records.append(record)
    record["end"] = end
    if value is not None:
        record["value"] = value
    _store(path, records, context.role_name)


_FIELDS = {"start", "pid", "end", "value", "deadline"}


def _valid(document: Any) -> bool:
    if not isinstance(document, dict) or set(document) != {"value"} or not isinstance(document["value"], list):
        return False
    for record in document["value"]:
        if not isinstance(record, dict) or not isinstance(record.get("start"), str):
            return False
        pid = record.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or not set(record) <= _FIELDS:
            return False
        if "end" in record and not isinstance(record["end"], str):
            return False
    return True


def _load(path: str, role: str) -> Optional[list]:
    """The records, [] for a new or damaged file (set aside), None if the history cannot be kept."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        except OSError as e:
            _complain(role, path, e)
            return None
        return []
    except OSError as e:
        _complain(role, path, e)
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        document = None
    if _valid(document):
        return document["value"]
    try:
        os.replace(path, path + ".damaged")
    except OSError as e:
        _complain(role, path, e)
        return None
    sys.stderr.write(f"{role}: {path}: damaged history kept aside as {path}.damaged; starting a new one\n")
    return []


def _store(path: str, records: list, role: str) -> None:
    try:
        data = json.dumps({"value": records[-KEEP:]}, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as e:  # a value that is not the JSON it should be
        sys.stderr.write(f"{role}: cannot keep history in {path} ({e})\n")
        return
    try:
        write_atomic(path, data, 0o600)
    except OSError as e:
        _complain(role, path, e)


def _complain(role: str, path: str, e: OSError) -> None:
    sys.stderr.write(f"{role}: cannot keep history in {path} ({e.strerror})\n")
