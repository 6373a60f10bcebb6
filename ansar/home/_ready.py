"""Is a running role ready for the roles after it (property ``ready``)?

``ready`` is seconds (the role's program calls ``ar.ready(self)``, which creates
``<lock folder>/<role>.ready``), or ``{"seconds": S, "port": P}`` (a TCP connect to 127.0.0.1:P
succeeds), or ``{"seconds": S, "text": T}`` (a record of the role's current execution in its log
storage contains T). The seconds bound how long a dependent waits. A role without the property
is ready once it is started (holds its lock). The checks look only; the caller knows the role
runs and holds its lock, so a ready file left by an earlier execution (removed when the role
takes its lock) never counts.
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Callable, Optional

import msgspec

from ansar.create._ready import ready_file
from ansar.create._records import ReadyCheck
from ansar.create._role import HomeError, RoleContext

__all__ = ["POLL", "CONNECT_SECONDS", "ReadyCheck", "TextScan", "Watch", "check_of", "is_ready", "not_ready_text"]

POLL = 0.05  # seconds between looks while a dependent waits
CONNECT_SECONDS = 0.25  # one connect attempt of the port form


def check_of(context: RoleContext) -> Optional[ReadyCheck]:
    """The role's ``ready`` property as a ReadyCheck (seconds alone as the file form), or None."""
    value = getattr(context.role, "ready", None)
    if value is None or isinstance(value, ReadyCheck):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ReadyCheck(seconds=float(value))
    try:
        return msgspec.convert(value, ReadyCheck)
    except msgspec.ValidationError as e:
        raise HomeError(f"{context.record_path()}: {e} (in ready)") from None


def not_ready_text(role: str, check: ReadyCheck) -> str:
    """``server-0 not ready after 30.0s``: the condition of a dependent that waited too long."""
    return f"{role} not ready after {float(check.seconds)}s"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_SECONDS):
            return True
    except OSError:
        return False


_HEADER = re.compile(rb"^\S+ \S <[0-9a-f]{8}>(\S+) - ")


class TextScan:
    """Looks for a text in the records a role stored since ``since`` (seconds since the epoch),
    reading on from where the last look ended. Lines of ``ansar`` itself (the start line it
    writes before the role's own) do not count."""

    def __init__(self, folder: str, text: str, since: float) -> None:
        self.folder = folder
        self.text = text.encode()
        self.since = since

    def found(self) -> bool:
        from ._logs import Window, read_window

        last: Optional[bytes] = None
        try:
            for piece in read_window(self.folder, Window(begin=self.since)):
                for line in piece.splitlines():
                    header = _HEADER.match(line)
                    if header is not None:
                        last = line[:23]
                        if header.group(1) == b"ansar":
                            continue
                    if self.text in line:
                        return True
        except (OSError, HomeError):
            return False
        if last is not None:
            from ._history import epoch_of

            try:
                self.since = max(self.since, epoch_of(last.decode()))
            except ValueError:  # a line that only looks like a record: read from where we were
                pass
        return False


def is_ready(context: RoleContext, check: ReadyCheck, scan: Optional[TextScan] = None) -> bool:
    """Whether the role, which runs and holds its lock, passes ``check`` now."""
    if check.port is not None:
        return _port_open(check.port)
    if check.text is not None:
        return (scan or TextScan(context.logs_path(), check.text, 0.0)).found()
    return os.path.exists(ready_file(context.lock_path()))


class Watch:
    """A role that others wait for, from the moment it was started (or first looked at).

    ``poll()`` is True once it is ready (and stays so), False once its seconds have passed
    without, None meanwhile. Without a check it is ready at once."""

    def __init__(self, context: RoleContext, check: Optional[ReadyCheck], since: float,
                 clock: Callable[[], float] = time.monotonic, look: Callable[..., bool] = is_ready) -> None:
        self.context = context
        self.check = check
        self.clock = clock
        self.look = look
        self.deadline = clock() + check.seconds if check is not None else 0.0
        self.scan = TextScan(context.logs_path(), check.text, since) if check is not None and check.text else None
        self.ready = check is None

    def poll(self) -> Optional[bool]:
        if self.ready:
            return True
        assert self.check is not None
        if self.look(self.context, self.check, self.scan):
            self.ready = True
            return True
        return False if self.clock() >= self.deadline else None

    def why(self) -> str:
        assert self.check is not None
        return f"not ready after {float(self.check.seconds)}s"

