"""The messages of an object's life: start, stop, results and the timers.

Plain classes (not msgspec Structs) so that ``import ansar.create`` stays light; the codec
encodes them from the schemas registered here.
"""

from __future__ import annotations

from ._registry import register

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

__all__ = [
    "Aborted", "Ack", "Cannot", "Completed", "Enquiry", "Faulted", "Maybe", "Message", "Nak", "SelectTimer",
    "Signal", "Start", "Stop", "T1", "T2", "T3", "T4", "TimedOut",
]


class Message:
    """A value with named fields, compared by type and fields."""

    __slots__: tuple = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self), *(getattr(self, f) for f in self.__slots__)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__ if getattr(self, f) is not None)
        return f"{type(self).__name__}({fields})"


class Start(Message):
    """The first message a class-based object receives."""

    __slots__ = ()


class Stop(Message):
    """A request to end as soon as possible; SIGINT and SIGTERM arrive as this."""

    __slots__ = ()


class Ack(Message):
    """A plain success, with nothing more to say."""

    __slots__ = ()


class Nak(Message):
    """A plain refusal."""

    __slots__ = ()


class Maybe(Message):
    """An attempt that did not succeed and may be tried again (under a retry property)."""

    __slots__ = ()


class Cannot(Message):
    """An attempt that will never succeed: give up retrying."""

    __slots__ = ()


class Aborted(Message):
    """Work ended early, usually by a Stop or an interrupt."""

    __slots__ = ()


class Faulted(Message):
    """Work failed; ``condition`` says what went wrong and ``explanation`` why."""

    __slots__ = ("condition", "explanation", "error_code", "exit_code")

    def __init__(
        self,
        condition: Optional[str] = None,
        explanation: Optional[str] = None,
        error_code: Optional[int] = None,
        exit_code: Optional[int] = None,
    ) -> None:
        self.condition = condition
        self.explanation = explanation
        self.error_code = error_code
        self.exit_code = exit_code

    def __str__(self) -> str:
        if self.condition and self.explanation:
            return f"{self.condition} ({self.explanation})"
        return self.condition or self.explanation or "faulted"


class Completed(Message):
    """An object ended; ``value`` is what it returned. Sent to its parent."""

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value


class TimedOut(Message):
    """A wait ended because its time ran out."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: Optional[float] = None) -> None:
        self.seconds = seconds


class Signal(Message):
    """A signal the program received other than SIGINT and SIGTERM (those are Stop): SIGHUP,
    SIGUSR1 or SIGUSR2, sent to the main object (``ansar signal <role> --signal=HUP``)."""

    __slots__ = ("number",)

    def __init__(self, number: int = 0) -> None:
        self.number = number


class SelectTimer(Message):
    """The time given to ``select(seconds=...)`` ran out."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is SelectTimer

    __hash__ = Message.__hash__


class Enquiry(Message):
    """A request for the receiver's status or report."""

    __slots__ = ()


class T1(Message):
    """Timer 1 expired (see ``Point.start``)."""

    __slots__ = ()


class T2(Message):
    """Timer 2 expired."""

    __slots__ = ()


class T3(Message):
    """Timer 3 expired."""

    __slots__ = ()


class T4(Message):
    """Timer 4 expired."""

    __slots__ = ()


for _cls in (Start, Stop, Ack, Nak, Maybe, Cannot, Aborted, Enquiry, SelectTimer, T1, T2, T3, T4):
    register(_cls, {})
register(Faulted, factory=lambda d: {
    "condition": d.Unicode(), "explanation": d.Unicode(), "error_code": d.Integer8(), "exit_code": d.Integer8(),
})
register(Completed, factory=lambda d: {"value": d.Any()})
register(TimedOut, factory=lambda d: {"seconds": d.Float8()})
register(Signal, factory=lambda d: {"number": d.Integer8()})
del _cls
