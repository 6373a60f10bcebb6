"""Type descriptors: the names a schema gives to the types of its fields.

A descriptor may be written as a class (``ar.Integer8``) or an instance (``ar.Integer8()``); the
codec (``ansar.create.codec.resolve``) turns either into an instance. Descriptors only describe;
``ansar.create.codec`` does the encoding and decoding.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections import deque
    from typing import Any as _Any
    from typing import Iterator

__all__ = [
    "Address", "Any", "ArrayOf", "Block", "Boolean", "Byte", "Character", "ClockTime", "DequeOf",
    "Descriptor", "Enumeration", "Float4", "Float8", "Integer2", "Integer4", "Integer8", "MapOf",
    "PointerTo", "Rune", "SetOf", "String", "TargetAddress", "TimeDelta", "TimeSpan", "Type",
    "UUID", "Unicode", "Unsigned2", "Unsigned4", "Unsigned8", "UserDefined", "VectorOf", "Word",
    "default_deque", "default_map", "default_set", "default_vector",
]


class Descriptor:
    """The base of every descriptor. Two descriptors are equal when they describe the same type."""

    __slots__ = ()

    def _key(self) -> tuple:
        return ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(_name(k) for k in self._key())})"


def _name(part: _Any) -> str:
    if isinstance(part, type):
        return part.__qualname__
    return repr(part)


class Boolean(Descriptor):
    """``bool``; JSON true/false."""

    __slots__ = ()


class _Integer(Descriptor):
    __slots__ = ()
    low = 0
    high = 0


class Byte(_Integer):
    """``int`` in 0..255."""

    __slots__ = ()
    low, high = 0, 255


class Integer2(_Integer):
    """``int`` in 16 signed bits."""

    __slots__ = ()
    low, high = -(2**15), 2**15 - 1


class Integer4(_Integer):
    """``int`` in 32 signed bits."""

    __slots__ = ()
    low, high = -(2**31), 2**31 - 1


class Integer8(_Integer):
    """``int`` in 64 signed bits."""

    __slots__ = ()
    low, high = -(2**63), 2**63 - 1


class Unsigned2(_Integer):
    """``int`` in 16 unsigned bits."""

    __slots__ = ()
    low, high = 0, 2**16 - 1


class Unsigned4(_Integer):
    """``int`` in 32 unsigned bits."""

    __slots__ = ()
    low, high = 0, 2**32 - 1


class Unsigned8(_Integer):
    """``int`` in 64 unsigned bits."""

    __slots__ = ()
    low, high = 0, 2**64 - 1


class Float4(Descriptor):
    """``float`` (ints accepted)."""

    __slots__ = ()


class Float8(Descriptor):
    """``float`` (ints accepted)."""

    __slots__ = ()


class Character(Descriptor):
    """``bytes`` of length 1; Latin-1 text in JSON."""

    __slots__ = ()


class Rune(Descriptor):
    """``str`` of length 1."""

    __slots__ = ()


class String(Descriptor):
    """``bytes``; Latin-1 text in JSON, so files stay readable."""

    __slots__ = ()


class Unicode(Descriptor):
    """``str``."""

    __slots__ = ()


class Block(Descriptor):
    """``bytearray`` (bytes accepted); base64 text in JSON."""

    __slots__ = ()


class ClockTime(Descriptor):
    """``float`` seconds since the epoch; ISO 8601 local time in JSON."""

    __slots__ = ()


class WorldTime(Descriptor):
    """``datetime.datetime``; ISO 8601 UTC without an offset in JSON."""

    __slots__ = ()


class TimeSpan(Descriptor):
    """``float`` seconds; text like ``"1m30.5s"`` in JSON."""

    __slots__ = ()


class TimeDelta(Descriptor):
    """``datetime.timedelta``; text like ``"1d2h"`` in JSON."""

    __slots__ = ()


class UUID(Descriptor):
    """``uuid.UUID``; its text in JSON."""

    __slots__ = ()


class Type(Descriptor):
    """A registered class; its full type name in JSON."""

    __slots__ = ()


class Address(Descriptor):
    """The address of an object: an int (or list of ints) in JSON."""

    __slots__ = ()


class TargetAddress(Address):
    """An address messages are sent to."""

    __slots__ = ()


class Word(Descriptor):
    """Any JSON-able builtin value, passed through as it is."""

    __slots__ = ()


class Any(Descriptor):
    """A value of any registered type; ``[type name, body, [aliases]]`` in JSON."""

    __slots__ = ()


class VectorOf(Descriptor):
    """A ``list`` of ``element``; a JSON list."""

    __slots__ = ("element",)

    def __init__(self, element: _Any = Any) -> None:
        self.element = element

    def _key(self) -> tuple:
        return (self.element,)


class SetOf(VectorOf):
    """A ``set`` of ``element``; a JSON list."""

    __slots__ = ()


class DequeOf(VectorOf):
    """A ``collections.deque`` of ``element``; a JSON list."""

    __slots__ = ()


class ArrayOf(VectorOf):
    """A ``list`` of exactly ``size`` items of ``element``."""

    __slots__ = ("size",)

    def __init__(self, element: _Any, size: int) -> None:
        super().__init__(element)
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"ArrayOf size must be a non-negative int, not {size!r}")
        self.size = size

    def _key(self) -> tuple:
        return (self.element, self.size)


class MapOf(Descriptor):
    """A ``dict`` of ``key`` to ``value``; a JSON list of ``[key, value]`` pairs."""

    __slots__ = ("key", "value")

    def __init__(self, key: _Any = Any, value: _Any = Any) -> None:
        self.key = key
        self.value = value

    def _key(self) -> tuple:
        return (self.key, self.value)


class UserDefined(Descriptor):
    """An instance of ``cls``, a registered class; a JSON object of its fields."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        if not isinstance(cls, type):
            raise TypeError(f"UserDefined needs a class, not {cls!r}")
        self.cls = cls

    def _key(self) -> tuple:
        return (self.cls,)


class PointerTo(Descriptor):
    """A value of ``element`` that other fields may share, or that may form a cycle."""

    __slots__ = ("element",)

    def __init__(self, element: _Any = Any) -> None:
        self.element = element

    def _key(self) -> tuple:
        return (self.element,)


class Enumeration(Descriptor):
    """A set of named ints, and the type of a field holding one of them.

    ``Op = Enumeration(ADD=0, SUB=1)`` gives ``Op.ADD`` (an ``IntEnum`` member, equal to 0),
    ``Op(1)`` (``Op.SUB``), ``Op['SUB']`` and iteration over the members. ``Enumeration(Colour)``
    describes an existing ``enum.Enum`` class. A member is written in JSON by its name.
    """

    __slots__ = ("enum",)

    def __init__(self, *enum_class: type, **members: int) -> None:
        if enum_class:
            if len(enum_class) != 1 or members:
                raise TypeError("Enumeration takes one Enum class or NAME=value members")
            self.enum = enum_class[0]
        else:
            import enum

            self.enum = enum.IntEnum("Enumeration", members)  # type: ignore[misc]

    def _key(self) -> tuple:
        return (self.enum,)

    def __getattr__(self, name: str) -> _Any:
        if name.startswith("__") or name == "enum":
            raise AttributeError(name)
        try:
            return self.enum[name]  # type: ignore[index]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> _Any:
        return self.enum[name]  # type: ignore[index]

    def __call__(self, value: _Any) -> _Any:
        return self.enum(value)

    def __iter__(self) -> Iterator[_Any]:
        return iter(self.enum)  # type: ignore[call-overload]

    def __len__(self) -> int:
        return len(self.enum)  # type: ignore[arg-type]

    def __contains__(self, item: object) -> bool:
        return item in self.enum.__members__.values()

    def __repr__(self) -> str:
        names = ", ".join(f"{m.name}={m.value!r}" for m in self.enum)  # type: ignore[attr-defined]
        return f"Enumeration({names})"


def default_vector() -> list:
    """A fresh empty list, for a default."""
    return []


def default_set() -> set:
    """A fresh empty set, for a default."""
    return set()


def default_map() -> dict:
    """A fresh empty dict, for a default."""
    return {}


def default_deque() -> deque:
    """A fresh empty deque, for a default."""
    from collections import deque

    return deque()
