"""The messages of an object's life: start, stop, results and the timers."""

from __future__ import annotations

from typing import Any, Optional

import msgspec

from ._registry import register

__all__ = [
    "Aborted", "Ack", "Cannot", "Completed", "Enquiry", "Faulted", "Maybe", "Nak", "SelectTimer",
    "Start", "Stop", "T1", "T2", "T3", "T4", "TimedOut",
]


class Start(msgspec.Struct, frozen=True):
    """The first message a class-based object receives."""


class Stop(msgspec.Struct, frozen=True):
    """A request to end as soon as possible; SIGINT and SIGTERM arrive as this."""


class Ack(msgspec.Struct, frozen=True):
    """A plain success, with nothing more to say."""


class Nak(msgspec.Struct, frozen=True):
    """A plain refusal."""


class Maybe(msgspec.Struct, frozen=True):
    """An attempt that did not succeed and may be tried again (under a retry property)."""


class Cannot(msgspec.Struct, frozen=True):
    """An attempt that will never succeed: give up retrying."""


class Aborted(msgspec.Struct, frozen=True):
    """Work ended early, usually by a Stop or an interrupt."""


class Faulted(msgspec.Struct, frozen=True):
    """Work failed; ``condition`` says what went wrong and ``explanation`` why."""

    condition: Optional[str] = None
    explanation: Optional[str] = None
    error_code: Optional[int] = None
    exit_code: Optional[int] = None

    def __str__(self) -> str:
        if self.condition and self.explanation:
            return f"{self.condition} ({self.explanation})"
        return self.condition or self.explanation or "faulted"


class Completed(msgspec.Struct, frozen=True):
    """An object ended; ``value`` is what it returned. Sent to its parent."""

    value: Any = None


class TimedOut(msgspec.Struct, frozen=True):
    """A wait ended because its time ran out."""

    seconds: Optional[float] = None


class SelectTimer(msgspec.Struct, frozen=True):
    """The time given to ``select(seconds=...)`` ran out."""


class Enquiry(msgspec.Struct, frozen=True):
    """A request for the receiver's status or report."""


class T1(msgspec.Struct, frozen=True):
    """Timer 1 expired (see ``Point.start``)."""


class T2(msgspec.Struct, frozen=True):
    """Timer 2 expired."""


class T3(msgspec.Struct, frozen=True):
    """Timer 3 expired."""


class T4(msgspec.Struct, frozen=True):
    """Timer 4 expired."""


for _cls in (Start, Stop, Ack, Nak, Maybe, Cannot, Aborted, Faulted, Completed, TimedOut,
             SelectTimer, Enquiry, T1, T2, T3, T4):
    register(_cls)
del _cls
