"""Encoding values to JSON and back, as schemas of descriptors describe them.

A file (or a program's stdout) holds one document, ``{"value": <word>}``, plus a top-level
``"pointer"`` list of ``[alias, body]`` pairs when ``PointerTo`` fields were used. A *word* is the
JSON-able form of one value (lists, dicts, str, int, float, bool, None).

Each type gets one converter, built on first use and cached. Errors keep the path to the part
that was wrong, msgspec style: ``settings.json: Expected int, got str - at $.seconds``.
"""

from __future__ import annotations

import sys
import types
from collections import deque

from . import _registry
from . import descriptors as d

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Optional

# msgspec and typing are imported on first use, not here: binding a class at a program's start-up
# loads this module, and a tool that prints nothing should not pay for them. A typing form or a
# Struct can only exist when its module was imported, so sys.modules tells.

__all__ = [
    "CodecError", "Incognito", "decode", "decode_document", "encode", "from_word", "parse_argument",
    "register_class", "resolve", "to_word",
]


class CodecError(Exception):
    """A value did not match its type, or a document was damaged. One line, with the path."""


class Incognito:
    """A value whose type this program does not know: kept as it was read, written back unchanged."""

    __slots__ = ("type_name", "body", "pointers")

    def __init__(self, type_name: str, body: _Any, pointers: Optional[list] = None) -> None:
        self.type_name = type_name
        self.body = body  # the JSON word, as read
        self.pointers = pointers or []  # the [alias, body] pairs the body refers to

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Incognito):
            return NotImplemented
        return (self.type_name, self.body, self.pointers) == (other.type_name, other.body, other.pointers)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Incognito({self.type_name!r}, {self.body!r})"


# Descriptors used only where msgspec's own forms are wanted (inside a Struct).
class _TextMap(d.Descriptor):
    """``dict[str, V]`` written as a JSON object."""

    __slots__ = ("value",)

    def __init__(self, value: _Any = d.Any) -> None:
        self.value = value

    def _key(self) -> tuple:
        return (self.value,)


class _Binary(d.Descriptor):
    """``bytes`` written as base64 text."""

    __slots__ = ()


class _TupleOf(d.VectorOf):
    """A ``tuple`` of any length; a JSON list."""

    __slots__ = ()


class _Fixed(d.Descriptor):
    """``tuple[A, B, ...]``; a JSON list, one item per type."""

    __slots__ = ("items",)

    def __init__(self, items: tuple) -> None:
        self.items = items

    def _key(self) -> tuple:
        return self.items


class _BigInt(d.Descriptor):
    """A Python ``int`` of any size (``int`` under Any)."""

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# Errors and the state of one encoding or decoding.

class _Mismatch(Exception):
    """Raised inside; path segments are added on the way out, innermost first."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.path: list[str] = []

    def message(self) -> str:
        if not self.path:
            return self.text
        return f"{self.text} - at ${''.join(reversed(self.path))}"


_JSON_KINDS = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "array",
               dict: "object"}


def _kind(word: _Any) -> str:
    return _JSON_KINDS.get(type(word)) or type(word).__name__


def _expected(what: str, word: _Any) -> _Mismatch:
    return _Mismatch(f"Expected {what}, got {_kind(word)}")


_BUILDING = object()


class _Context:
    """Pointer state of one document."""

    __slots__ = ("aliases", "keep", "pointer", "collectors", "refs", "next", "foreign", "bodies", "objects")

    def __init__(self, bodies: Optional[dict] = None) -> None:
        self.aliases: dict[int, _Any] = {}  # id(object) -> alias
        self.keep: list = []  # pointed-to objects, alive until the end so ids stay unique
        self.pointer: list = []  # [alias, body] pairs written
        self.collectors: list[set] = []  # aliases referred to, per open Any or pointer body
        self.refs: dict[_Any, set] = {}  # alias -> aliases its body refers to
        self.next = 0
        self.foreign: dict[_Any, _Any] = {}  # aliases written back from Incognito values
        self.bodies = bodies if bodies is not None else {}  # alias -> body word, when decoding
        self.objects: dict[_Any, _Any] = {}  # alias -> object decoded

    def note(self, alias: _Any) -> None:
        if self.collectors:
            self.collectors[-1].add(alias)

    def new_alias(self) -> int:
        self.next += 1
        while self.next in self.foreign:
            self.next += 1
        return self.next

    def closure(self, aliases: set) -> list:
        seen: set = set()
        todo = list(aliases)
        while todo:
            a = todo.pop()
            if a in seen:
                continue
            seen.add(a)
            todo.extend(self.refs.get(a, ()))
        return sorted(seen, key=lambda a: (type(a).__name__, a))


# ---------------------------------------------------------------------------------------------
# Converters: one per descriptor, with enc(value, ctx) -> word and dec(word, ctx) -> value.

class _Codec:
    name = "value"

    def enc(self, value: _Any, ctx: _Context) -> _Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def dec(self, word: _Any, ctx: _Context) -> _Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def parse(self, text: str) -> _Any:
        """A command-line value: JSON, as in files."""
        import msgspec

        try:
            word = msgspec.json.decode(text.encode())
        except msgspec.DecodeError:
            raise _Mismatch(f"Expected {self.name} (as JSON), got {text!r}") from None
        return self.dec(word, _Context())

    def shell(self) -> _Any:
        """An empty value that ``fill`` completes, so a pointer cycle can refer to it; or None."""
        return None

    def setup(self) -> None:
        """Resolve the converters of parts (after this one is cached, so recursion ends)."""


class _Text(_Codec):
    """Scalars whose command-line text is their JSON text."""

    def parse(self, text: str) -> _Any:
        return self.dec(text, _Context())


class _BooleanCodec(_Codec):
    name = "bool"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if value is True or value is False:
            return value
        raise _Mismatch(f"Expected bool, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if word is True or word is False:
            return word
        raise _expected("bool", word)

    def parse(self, text: str) -> _Any:
        t = text.strip().lower()
        if t in ("true", "yes", "on", "1"):
            return True
        if t in ("false", "no", "off", "0"):
            return False
        raise _Mismatch(f"Expected bool, got {text!r}")


class _IntegerCodec(_Codec):
    name = "int"

    def __init__(self, low: Optional[int], high: Optional[int]) -> None:
        self.low = low
        self.high = high

    def _check(self, n: int) -> int:
        if self.low is not None and not (self.low <= n <= self.high):  # type: ignore[operator]
            raise _Mismatch(f"Expected int in range {self.low}..{self.high}, got {n}")
        return n

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return self._check(int(value))
        raise _Mismatch(f"Expected int, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is int:
            return self._check(word)
        raise _expected("int", word)

    def parse(self, text: str) -> _Any:
        try:
            n = int(text.strip())
        except ValueError:
            raise _Mismatch(f"Expected int, got {text!r}") from None
        return self._check(n)


class _FloatCodec(_Codec):
    name = "float"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch(f"Expected float, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is float or type(word) is int:
            return float(word)
        raise _expected("float", word)

    def parse(self, text: str) -> _Any:
        try:
            return float(text.strip())
        except ValueError:
            raise _Mismatch(f"Expected float, got {text!r}") from None


class _UnicodeCodec(_Text):
    name = "str"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, str):
            return str(value)
        raise _Mismatch(f"Expected str, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is str:
            return word
        raise _expected("str", word)


class _RuneCodec(_UnicodeCodec):
    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, str) and len(value) == 1:
            return str(value)
        raise _Mismatch(f"Expected str of length 1, got {_show(value)}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is str and len(word) == 1:
            return word
        raise _Mismatch(f"Expected str of length 1, got {_show(word)}")


def _show(value: _Any) -> str:
    if isinstance(value, (str, bytes)) and len(value) <= 40:
        return repr(value)
    return type(value).__name__


class _StringCodec(_Text):
    name = "str"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).decode("latin-1")
        if isinstance(value, str):
            _latin1(value)
            return str(value)
        raise _Mismatch(f"Expected bytes, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is str:
            return _latin1(word)
        raise _expected("str", word)


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise _Mismatch("Expected Latin-1 text, got characters beyond it") from None


class _CharacterCodec(_StringCodec):
    def enc(self, value: _Any, ctx: _Context) -> _Any:
        word = super().enc(value, ctx)
        if len(word) != 1:
            raise _Mismatch(f"Expected bytes of length 1, got {_show(value)}")
        return word

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        value = super().dec(word, ctx)
        if len(value) != 1:
            raise _Mismatch(f"Expected str of length 1, got {_show(word)}")
        return value


class _BlockCodec(_Text):
    name = "base64 str"
    make: type = bytearray

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            import base64

            return base64.b64encode(value).decode("ascii")
        raise _Mismatch(f"Expected bytes, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not str:
            raise _expected("str", word)
        import base64
        import binascii

        try:
            return self.make(base64.b64decode(word, validate=True))
        except (binascii.Error, ValueError):
            raise _Mismatch("Expected base64 text") from None


class _BinaryCodec(_BlockCodec):
    make = bytes


def _module_class(module: str, name: str) -> _Any:
    """The class ``module.name`` if the module was imported (so a value of it can exist)."""
    m = sys.modules.get(module)
    return getattr(m, name, None) if m is not None else None


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


class _UUIDCodec(_Text):
    name = "UUID"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        cls = _module_class("uuid", "UUID")
        if cls is not None and isinstance(value, cls):
            return str(value)
        raise _Mismatch(f"Expected UUID, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not str:
            raise _expected("str", word)
        import uuid

        try:
            return uuid.UUID(word)
        except ValueError:
            raise _Mismatch(f"Expected UUID text, got {word!r}") from None


class _EnumerationCodec(_Text):
    name = "enumeration name"

    def __init__(self, enum: _Any) -> None:
        self.enum = enum

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, self.enum):
            return value.name
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                return (self.enum[value] if isinstance(value, str) else self.enum(value)).name
            except (KeyError, ValueError):
                pass
        raise _Mismatch(f"Expected {self.enum.__name__} member, got {value!r}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is str:
            try:
                return self.enum[word]
            except KeyError:
                raise _Mismatch(f"Invalid enum value {word!r}") from None
        if type(word) is int:
            try:
                return self.enum(word)
            except ValueError:
                raise _Mismatch(f"Invalid enum value {word!r}") from None
        raise _expected("str", word)


class _TypeCodec(_Text):
    name = "type name"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, type):
            raise _Mismatch(f"Expected a class, got {type(value).__name__}")
        art = value.__dict__.get("__art__")
        return art.path if art is not None else _registry.type_name(value)

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not str:
            raise _expected("str", word)
        cls = _registry.lookup(word)
        if cls is None:
            entry = _BUILTIN_BY_NAME.get(word)
            cls = entry[0] if entry is not None else None
        if cls is None:
            raise _Mismatch(f"Unknown type name {word!r}")
        return cls


class _AddressCodec(_Codec):
    name = "address"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, (tuple, list)) and all(type(v) is int for v in value):
            return list(value)
        if hasattr(value, "__index__"):
            return value.__index__()
        raise _Mismatch(f"Expected address, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is int:
            address = _module_class("ansar.create.point", "Address")  # the runtime's, when loaded
            return address(word) if address is not None else word
        if type(word) is list and all(type(v) is int for v in word):
            return tuple(word)
        raise _expected("address (int or list of int)", word)


class _WordCodec(_Codec):
    name = "JSON"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        return value

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        return word

    def parse(self, text: str) -> _Any:
        import msgspec

        try:
            return msgspec.json.decode(text.encode())
        except msgspec.DecodeError:
            return text


class _VectorCodec(_Codec):
    name = "array"
    accepts: tuple = (list, tuple, deque)
    make: _Any = list

    def __init__(self, element: _Any) -> None:
        self.element = element
        self.item: _Codec = None  # type: ignore[assignment]

    def setup(self) -> None:
        self.item = _codec_of(self.element)

    def _items(self, value: _Any) -> _Any:
        return value

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, self.accepts):
            raise _Mismatch(f"Expected {self.make.__name__}, got {type(value).__name__}")
        enc = self.item.enc
        out = []
        i = 0
        try:
            for i, v in enumerate(self._items(value)):  # noqa: B007 - i names the failing item
                out.append(None if v is None else enc(v, ctx))
        except _Mismatch as e:
            e.path.append(f"[{i}]")
            raise
        return out

    def _decoded(self, word: _Any, ctx: _Context) -> list:
        if type(word) is not list:
            raise _expected("array", word)
        dec = self.item.dec
        out = []
        i = 0
        try:
            for i, w in enumerate(word):  # noqa: B007 - i names the failing item
                out.append(None if w is None else dec(w, ctx))
        except _Mismatch as e:
            e.path.append(f"[{i}]")
            raise
        return out

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        out = self._decoded(word, ctx)
        return out if self.make is list else self.make(out)

    def shell(self) -> _Any:
        return self.make() if self.make is not tuple else None

    def fill(self, obj: _Any, word: _Any, ctx: _Context) -> None:
        obj.extend(self._decoded(word, ctx))


class _TupleCodec(_VectorCodec):
    make = tuple


class _ArrayCodec(_VectorCodec):
    def __init__(self, element: _Any, size: int) -> None:
        super().__init__(element)
        self.size = size

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, self.accepts) and len(value) != self.size:
            raise _Mismatch(f"Expected array of length {self.size}, got {len(value)}")
        return super().enc(value, ctx)

    def _decoded(self, word: _Any, ctx: _Context) -> list:
        if type(word) is list and len(word) != self.size:
            raise _Mismatch(f"Expected array of length {self.size}, got {len(word)}")
        return super()._decoded(word, ctx)


class _SetCodec(_VectorCodec):
    accepts = (set, frozenset, list, tuple)
    make = set

    def _items(self, value: _Any) -> _Any:
        if isinstance(value, (set, frozenset)):
            try:
                return sorted(value)  # files that do not change from run to run
            except TypeError:
                pass
        return value

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        try:
            return set(self._decoded(word, ctx))
        except TypeError:
            raise _Mismatch("Expected hashable items in a set") from None

    def fill(self, obj: _Any, word: _Any, ctx: _Context) -> None:
        try:
            obj.update(self._decoded(word, ctx))
        except TypeError:
            raise _Mismatch("Expected hashable items in a set") from None


class _DequeCodec(_VectorCodec):
    make = deque


class _FixedCodec(_Codec):
    name = "array"

    def __init__(self, items: tuple) -> None:
        self.types = items
        self.items: list[_Codec] = []

    def setup(self) -> None:
        self.items = [_codec_of(t) for t in self.types]

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, (tuple, list)) or len(value) != len(self.items):
            raise _Mismatch(f"Expected tuple of length {len(self.items)}, got {_show(value)}")
        out = []
        i = 0
        try:
            for i, (c, v) in enumerate(zip(self.items, value, strict=True)):  # noqa: B007
                out.append(None if v is None else c.enc(v, ctx))
        except _Mismatch as e:
            e.path.append(f"[{i}]")
            raise
        return out

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not list or len(word) != len(self.items):
            raise _expected(f"array of length {len(self.items)}", word)
        out = []
        i = 0
        try:
            for i, (c, w) in enumerate(zip(self.items, word, strict=True)):  # noqa: B007
                out.append(None if w is None else c.dec(w, ctx))
        except _Mismatch as e:
            e.path.append(f"[{i}]")
            raise
        return tuple(out)


class _MapCodec(_Codec):
    name = "map"

    def __init__(self, key: _Any, value: _Any) -> None:
        self.key_type = key
        self.value_type = value
        self.key: _Codec = None  # type: ignore[assignment]
        self.value: _Codec = None  # type: ignore[assignment]

    def setup(self) -> None:
        self.key = _codec_of(self.key_type)
        self.value = _codec_of(self.value_type)

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, dict):
            raise _Mismatch(f"Expected dict, got {type(value).__name__}")
        out = []
        i, part = 0, 0
        try:
            for i, (k, v) in enumerate(value.items()):  # noqa: B007 - i names the failing item
                part = 0
                kw = None if k is None else self.key.enc(k, ctx)
                part = 1
                out.append([kw, None if v is None else self.value.enc(v, ctx)])
        except _Mismatch as e:
            e.path.append(f"[{i}][{part}]")
            raise
        return out

    def _pairs(self, word: _Any, ctx: _Context) -> list:
        if type(word) is dict:  # also read the object form, for hand-written files
            word = [[k, v] for k, v in word.items()]
        elif type(word) is not list:
            raise _expected("array of [key, value] pairs", word)
        out = []
        i, part = 0, 0
        try:
            for i, pair in enumerate(word):  # noqa: B007 - i names the failing item
                if type(pair) is not list or len(pair) != 2:
                    raise _expected("[key, value] pair", pair)
                part = 0
                k = None if pair[0] is None else self.key.dec(pair[0], ctx)
                part = 1
                out.append((k, None if pair[1] is None else self.value.dec(pair[1], ctx)))
        except _Mismatch as e:
            e.path.append(f"[{i}][{part}]" if type(word[i]) is list and len(word[i]) == 2 else f"[{i}]")
            raise
        return out

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        try:
            return dict(self._pairs(word, ctx))
        except TypeError:
            raise _Mismatch("Expected hashable keys in a map") from None

    def shell(self) -> _Any:
        return {}

    def fill(self, obj: _Any, word: _Any, ctx: _Context) -> None:
        try:
            obj.update(self._pairs(word, ctx))
        except TypeError:
            raise _Mismatch("Expected hashable keys in a map") from None


class _TextMapCodec(_Codec):
    name = "object"

    def __init__(self, value: _Any) -> None:
        self.value_type = value
        self.value: _Codec = None  # type: ignore[assignment]

    def setup(self) -> None:
        self.value = _codec_of(self.value_type)

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, dict):
            raise _Mismatch(f"Expected dict, got {type(value).__name__}")
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Mismatch(f"Expected str keys, got {type(k).__name__}")
            try:
                out[k] = None if v is None else self.value.enc(v, ctx)
            except _Mismatch as e:
                e.path.append(f".{k}")
                raise
        return out

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is not dict:
            raise _expected("object", word)
        out = {}
        for k, w in word.items():
            try:
                out[k] = None if w is None else self.value.dec(w, ctx)
            except _Mismatch as e:
                e.path.append(f".{k}")
                raise
        return out

    def shell(self) -> _Any:
        return {}

    def fill(self, obj: _Any, word: _Any, ctx: _Context) -> None:
        obj.update(self.dec(word, ctx))


_NO_DEFAULT = object()


class _Field:
    __slots__ = ("name", "key", "type", "codec", "default", "factory")

    def __init__(self, name: str, key: str, t: _Any, default: _Any = _NO_DEFAULT, factory: _Any = None):
        self.name = name  # the attribute
        self.key = key  # the JSON member
        self.type = t
        self.codec: _Codec = None  # type: ignore[assignment]
        self.default = default
        self.factory = factory

    def is_default(self, value: _Any) -> bool:
        try:
            if self.factory is not None:
                return bool(value == self.factory())
            return self.default is not _NO_DEFAULT and bool(value == self.default)
        except Exception:
            return False


class _ObjectCodec(_Codec):
    """A registered class (or msgspec.Struct): a JSON object of the fields that are not None."""

    name = "object"

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: list[_Field] = []
        self.by_key: dict[str, _Field] = {}
        self.required: list[_Field] = []
        self.omit_defaults = False
        self.forbid_unknown = False
        self.frozen = False
        self.takes: Optional[set] = None  # the fields __init__ accepts; None when all

    def setup(self) -> None:
        cls = self.cls
        if _is_struct(cls):
            config = cls.__struct_config__  # type: ignore[attr-defined]
            self.omit_defaults = config.omit_defaults
            self.forbid_unknown = config.forbid_unknown_fields
            self.frozen = config.frozen
            fields = _struct_fields(cls)
        else:
            defaults = _init_defaults(cls)
            fields = _plain_fields(cls, defaults)
            if not _takes_any_keyword(cls):
                self.takes = set(defaults)
        for f in fields:
            f.codec = _codec_of(f.type)
        self.fields = fields
        self.by_key = {f.key: f for f in fields}
        self.required = [f for f in fields if f.default is _NO_DEFAULT and f.factory is None]

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if not isinstance(value, self.cls):
            raise _Mismatch(f"Expected {self.cls.__name__}, got {type(value).__name__}")
        out = {}
        for f in self.fields:
            v = getattr(value, f.name, None)
            if v is None or (self.omit_defaults and f.is_default(v)):
                continue
            try:
                out[f.key] = f.codec.enc(v, ctx)
            except _Mismatch as e:
                e.path.append(f".{f.key}")
                raise
        return out

    def _arguments(self, word: _Any, ctx: _Context) -> dict:
        if type(word) is not dict:
            raise _expected("object", word)
        arguments = {}
        for key, w in word.items():
            f = self.by_key.get(key)
            if f is None:
                if self.forbid_unknown:
                    raise _Mismatch(f"Object contains unknown field {key}")
                continue
            try:
                arguments[f.name] = None if w is None else f.codec.dec(w, ctx)
            except _Mismatch as e:
                e.path.append(f".{key}")
                raise
        return arguments

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        arguments = self._arguments(word, ctx)
        for f in self.required:
            if f.name not in arguments:
                raise _Mismatch(f"Object missing required field {f.key}")
        later = {}
        if self.takes is not None:
            for name in [n for n in arguments if n not in self.takes]:
                later[name] = arguments.pop(name)
        try:
            obj = self.cls(**arguments)
            for name, value in later.items():
                setattr(obj, name, value)
        except (TypeError, ValueError, AttributeError) as e:
            raise _Mismatch(f"Cannot build {self.cls.__name__} ({e})") from None
        return obj

    def shell(self) -> _Any:
        if self.frozen:
            return None
        try:
            return self.cls()
        except Exception:
            return None

    def fill(self, obj: _Any, word: _Any, ctx: _Context) -> None:
        for name, value in self._arguments(word, ctx).items():
            setattr(obj, name, value)


class _PointerCodec(_Codec):
    name = "pointer alias"

    def __init__(self, element: _Any) -> None:
        self.element = element
        self.target: _Codec = None  # type: ignore[assignment]

    def setup(self) -> None:
        self.target = _codec_of(self.element)

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        alias = ctx.aliases.get(id(value))
        if alias is not None:
            ctx.note(alias)
            return alias
        alias = ctx.new_alias()
        ctx.aliases[id(value)] = alias
        ctx.keep.append(value)
        ctx.note(alias)
        slot = [alias, None]
        ctx.pointer.append(slot)
        ctx.collectors.append(set())
        try:
            slot[1] = self.target.enc(value, ctx)
        finally:
            ctx.refs[alias] = ctx.collectors.pop()
        return alias

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) not in (int, str):
            raise _expected("pointer alias", word)
        obj = ctx.objects.get(word, ctx)
        if obj is _BUILDING:
            raise _Mismatch(f"Pointer {word!r} forms a cycle through a value that cannot be built in place")
        if obj is not ctx:
            return obj
        if word not in ctx.bodies:
            raise _Mismatch(f"Unknown pointer alias {word!r}")
        body = ctx.bodies[word]
        shell = self.target.shell() if body is not None else None
        if shell is not None:
            ctx.objects[word] = shell
            self.target.fill(shell, body, ctx)  # type: ignore[attr-defined]
            return shell
        ctx.objects[word] = _BUILDING
        try:
            obj = None if body is None else self.target.dec(body, ctx)
        finally:
            ctx.objects.pop(word, None)
        ctx.objects[word] = obj
        return obj


class _AnyCodec(_Codec):
    name = "[type name, body, aliases]"

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if value is None:
            return None
        if isinstance(value, Incognito):
            return self._incognito(value, ctx)
        name, codec = _named_codec(type(value))
        ctx.collectors.append(set())
        try:
            body = codec.enc(value, ctx)
        except _Mismatch as e:
            e.path.append("[1]")
            raise
        finally:
            used = ctx.collectors.pop()
        if used:
            if ctx.collectors:
                ctx.collectors[-1].update(used)
            return [name, body, ctx.closure(used)]
        return [name, body, []]

    def _incognito(self, value: Incognito, ctx: _Context) -> _Any:
        aliases = []
        for alias, body in value.pointers:
            aliases.append(alias)
            if alias in ctx.foreign:
                if ctx.foreign[alias] != body:
                    raise _Mismatch(f"Pointer alias {alias!r} of two unknown values differs")
                continue
            if any(alias == slot[0] for slot in ctx.pointer):
                raise _Mismatch(f"Pointer alias {alias!r} of an unknown value is already in use")
            ctx.foreign[alias] = body
            ctx.pointer.append([alias, body])
        if ctx.collectors:
            ctx.collectors[-1].update(aliases)
        return [value.type_name, value.body, aliases]

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if word is None:
            return None
        if type(word) is not list or len(word) not in (2, 3) or type(word[0]) is not str:
            raise _expected("[type name, body, aliases]", word)
        name = word[0]
        codec = _codec_by_name(name)
        if codec is None:
            aliases = word[2] if len(word) == 3 and type(word[2]) is list else []
            pointers = [[a, ctx.bodies[a]] for a in aliases if type(a) in (int, str) and a in ctx.bodies]
            return Incognito(name, word[1], pointers)
        if word[1] is None:
            return None
        try:
            return codec.dec(word[1], ctx)
        except _Mismatch as e:
            e.path.append("[1]")
            raise


# ---------------------------------------------------------------------------------------------
# Types by name, under Any.

# Builtin values travel under Any by these names: (class, descriptor).
_BUILTIN_BY_NAME: dict[str, tuple] = {
    "bool": (bool, d.Boolean()), "int": (int, _BigInt()), "float": (float, d.Float8()),
    "str": (str, d.Unicode()), "bytes": (bytes, d.String()), "bytearray": (bytearray, d.Block()),
    "list": (list, d.VectorOf(d.Any())), "tuple": (tuple, _TupleOf(d.Any())),
    "dict": (dict, d.MapOf(d.Any(), d.Any())), "set": (set, d.SetOf(d.Any())),
    "collections.deque": (deque, d.DequeOf(d.Any())),
    "datetime.datetime": (None, d.WorldTime()), "datetime.timedelta": (None, d.TimeDelta()),
    "uuid.UUID": (None, d.UUID()),
}
_BUILTIN_BY_CLASS = {("builtins", name) if "." not in name else tuple(name.rsplit(".", 1)): name
                     for name in _BUILTIN_BY_NAME}


def _named_codec(cls: type) -> tuple[str, _Codec]:
    """The type name and converter a value of ``cls`` is written with under Any."""
    art = cls.__dict__.get("__art__")
    if art is None:
        name = _BUILTIN_BY_CLASS.get((cls.__module__, cls.__qualname__))
        if name is not None:
            return name, _codec_of(_BUILTIN_BY_NAME[name][1])
        if _is_struct(cls) or (_is_enum(cls) and cls.__module__ != d.__name__):
            art = _registry.register(cls).__art__  # type: ignore[attr-defined]
        else:
            for base in (bool, int, float, str, bytes, bytearray, list, tuple, dict, set):
                if issubclass(cls, base):  # e.g. an Address is an int
                    name = base.__name__
                    return name, _codec_of(_BUILTIN_BY_NAME[name][1])
            raise _Mismatch(f"Cannot encode {cls.__qualname__}: type not registered (see bind)")
    return art.path, _codec_of(_class_descriptor(cls))


def _codec_by_name(name: str) -> Optional[_Codec]:
    cls = _registry.lookup(name)
    if cls is not None:
        return _codec_of(_class_descriptor(cls))
    entry = _BUILTIN_BY_NAME.get(name)
    return _codec_of(entry[1]) if entry is not None else None


def _class_descriptor(cls: type) -> d.Descriptor:
    return d.Enumeration(cls) if _is_enum(cls) else d.UserDefined(cls)


def _is_struct(cls: _Any) -> bool:
    msgspec = sys.modules.get("msgspec")
    return (msgspec is not None and isinstance(cls, type) and not isinstance(cls, types.GenericAlias)
            and issubclass(cls, msgspec.Struct))


def _is_enum(cls: _Any) -> bool:
    enum = sys.modules.get("enum")
    return (enum is not None and isinstance(cls, type) and not isinstance(cls, types.GenericAlias)
            and issubclass(cls, enum.Enum))


# ---------------------------------------------------------------------------------------------
# Resolving what a schema says into descriptors, and descriptors into converters.

_SIMPLE: dict[type, _Any] = {
    d.Boolean: _BooleanCodec, d.Float4: _FloatCodec, d.Float8: _FloatCodec, d.Character: _CharacterCodec,
    d.Rune: _RuneCodec, d.String: _StringCodec, d.Unicode: _UnicodeCodec, d.Block: _BlockCodec,
    _Binary: _BinaryCodec, d.ClockTime: _ClockTimeCodec, d.WorldTime: _WorldTimeCodec,
    d.TimeSpan: _TimeSpanCodec, d.TimeDelta: _TimeDeltaCodec, d.UUID: _UUIDCodec, d.Type: _TypeCodec,
    d.Address: _AddressCodec, d.TargetAddress: _AddressCodec, d.Word: _WordCodec, d.Any: _AnyCodec,
}

_PYTHON: dict[type, _Any] = {
    bool: d.Boolean(), int: d.Integer8(), float: d.Float8(), str: d.Unicode(), bytes: d.String(),
    bytearray: d.Block(), list: d.VectorOf(d.Any()), tuple: d.VectorOf(d.Any()),
    dict: d.MapOf(d.Any(), d.Any()), set: d.SetOf(d.Any()), frozenset: d.SetOf(d.Any()),
    deque: d.DequeOf(d.Any()), object: d.Any(), type(None): d.Any(),
}

_codecs: dict[d.Descriptor, _Codec] = {}
_resolved: dict[tuple, d.Descriptor] = {}


def resolve(t: _Any) -> d.Descriptor:
    """The descriptor instance for ``t``: a descriptor (class or instance), a Python type, a
    registered class, a msgspec.Struct, an Enum class or a typing form (``list[int]``,
    ``Optional[X]``, ``X | None``, ``typing.Any``)."""
    return _resolve(t, False)


def _resolve(t: _Any, in_struct: bool) -> d.Descriptor:
    try:
        return _resolved[(t, in_struct)]
    except KeyError:
        pass
    except TypeError:  # unhashable
        return _resolve_new(t, in_struct)
    descriptor = _resolve_new(t, in_struct)
    _resolved[(t, in_struct)] = descriptor
    return descriptor


def _resolve_new(t: _Any, in_struct: bool) -> d.Descriptor:
    r = lambda x: _resolve(x, in_struct)  # noqa: E731
    is_class = isinstance(t, type) and not isinstance(t, types.GenericAlias)
    if is_class and issubclass(t, d.Descriptor):
        try:
            t = t()
        except TypeError:
            raise CodecError(f"{t.__name__} needs arguments, e.g. {t.__name__}(...)") from None
    if isinstance(t, d.Descriptor):
        if isinstance(t, d.ArrayOf):
            return d.ArrayOf(r(t.element), t.size)
        if isinstance(t, (d.VectorOf, d.PointerTo)):
            return type(t)(r(t.element))
        if isinstance(t, d.MapOf):
            return d.MapOf(r(t.key), r(t.value))
        if isinstance(t, _TextMap):
            return _TextMap(r(t.value))
        if isinstance(t, _Fixed):
            return _Fixed(tuple(r(x) for x in t.items))
        return t
    typing = sys.modules.get("typing")
    if typing is not None and t is typing.Any:
        return d.Any()
    if in_struct and t is bytes:
        return _Binary()
    if in_struct and t is dict:
        return _TextMap(d.Any())
    if is_class:
        python = _PYTHON.get(t)
        if python is not None:
            return python
        if t is _module_class("datetime", "datetime"):
            return d.WorldTime()
        if t is _module_class("datetime", "timedelta"):
            return d.TimeDelta()
        if t is _module_class("uuid", "UUID"):
            return d.UUID()
        if _is_enum(t):
            return d.Enumeration(t)
        return d.UserDefined(t)
    union = getattr(typing, "Union", None)
    if isinstance(t, types.UnionType) or (union is not None and getattr(t, "__origin__", None) is union):
        rest = [a for a in t.__args__ if a is not type(None)]
        return r(rest[0]) if len(rest) == 1 else d.Any()
    origin = getattr(t, "__origin__", None)
    args = getattr(t, "__args__", None) or ()
    if origin is not None:
        return _resolve_generic(t, origin, args, in_struct)
    if isinstance(t, str):
        cls = _registry.lookup(t)
        if cls is not None:
            return _class_descriptor(cls)
    raise CodecError(f"Cannot use {t!r} as a type")


def _resolve_generic(t: _Any, origin: _Any, args: tuple, in_struct: bool) -> d.Descriptor:
    import collections.abc as abc

    r = lambda x: _resolve(x, in_struct)  # noqa: E731
    first = r(args[0]) if args else d.Any()
    typing = sys.modules.get("typing")
    if typing is not None and origin is typing.Literal:
        return d.Word()
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return d.VectorOf(first)
        return _Fixed(tuple(r(a) for a in args))
    if origin in (list, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection):
        return d.VectorOf(first)
    if origin in (set, frozenset, abc.Set, abc.MutableSet):
        return d.SetOf(first)
    if origin is deque:
        return d.DequeOf(first)
    if origin in (dict, abc.Mapping, abc.MutableMapping):
        value = r(args[1]) if len(args) > 1 else d.Any()
        if in_struct and (not args or args[0] is str):
            return _TextMap(value)
        return d.MapOf(first, value)
    if origin is type:
        return d.Type()
    if isinstance(origin, type) and not isinstance(origin, types.GenericAlias):
        return r(origin)
    raise CodecError(f"Cannot use {t!r} as a type")


def _codec_of(t: _Any) -> _Codec:
    try:
        return _codecs[t]
    except (KeyError, TypeError):
        pass
    descriptor = resolve(t)
    codec = _codecs.get(descriptor)
    if codec is not None:
        return codec
    kind = type(descriptor)
    if kind in _SIMPLE:
        codec = _SIMPLE[kind]()
    elif isinstance(descriptor, d._Integer):
        codec = _IntegerCodec(descriptor.low, descriptor.high)
    elif isinstance(descriptor, _BigInt):
        codec = _IntegerCodec(None, None)
    elif isinstance(descriptor, d.Enumeration):
        codec = _EnumerationCodec(descriptor.enum)
    elif isinstance(descriptor, d.ArrayOf):
        codec = _ArrayCodec(descriptor.element, descriptor.size)
    elif isinstance(descriptor, (d.SetOf, d.DequeOf, _TupleOf, d.VectorOf)):
        codec = {d.SetOf: _SetCodec, d.DequeOf: _DequeCodec, _TupleOf: _TupleCodec}.get(
            kind, _VectorCodec)(descriptor.element)
    elif isinstance(descriptor, d.MapOf):
        codec = _MapCodec(descriptor.key, descriptor.value)
    elif isinstance(descriptor, _TextMap):
        codec = _TextMapCodec(descriptor.value)
    elif isinstance(descriptor, _Fixed):
        codec = _FixedCodec(descriptor.items)
    elif isinstance(descriptor, d.PointerTo):
        codec = _PointerCodec(descriptor.element)
    elif isinstance(descriptor, d.UserDefined):
        codec = _ObjectCodec(descriptor.cls)
    else:
        raise CodecError(f"No converter for {descriptor!r}")
    _codecs[descriptor] = codec
    try:
        codec.setup()
    except BaseException:
        _codecs.pop(descriptor, None)
        raise
    return codec


# ---------------------------------------------------------------------------------------------
# Fields of classes.

def _struct_fields(cls: type) -> list[_Field]:
    import msgspec

    out = []
    for f in msgspec.structs.fields(cls):
        default = _NO_DEFAULT if f.default is msgspec.NODEFAULT else f.default
        factory = None if f.default_factory is msgspec.NODEFAULT else f.default_factory
        out.append(_Field(f.name, f.encode_name, _resolve(f.type, True), default, factory))
    return out


def _plain_fields(cls: type, defaults: dict[str, _Any]) -> list[_Field]:
    art = cls.__dict__.get("__art__")
    if art is not None and art.schema is not None:
        schema = art.schema
    else:
        schema = {name: _from_default(value) for name, value in defaults.items()}
    # A field __init__ does not take is not required; it is set after construction.
    return [_Field(name, name, resolve(t), defaults.get(name)) for name, t in schema.items()]


_VARKEYWORDS = 0x08  # CO_VARKEYWORDS: __init__ takes **kwargs


def _takes_any_keyword(cls: type) -> bool:
    code = getattr(getattr(cls, "__init__", None), "__code__", None)
    return code is not None and bool(code.co_flags & _VARKEYWORDS)


def _init_defaults(cls: type) -> dict[str, _Any]:
    """Parameter name -> default (or _NO_DEFAULT) of ``cls.__init__``, without inspect."""
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    if code is None:
        return {}
    count = code.co_argcount
    names = code.co_varnames[:count]
    keywords = code.co_varnames[count : count + code.co_kwonlyargcount]
    defaults = init.__defaults__ or ()  # type: ignore[union-attr]
    kwdefaults = init.__kwdefaults__ or {}  # type: ignore[union-attr]
    first = count - len(defaults)
    out: dict[str, _Any] = {}
    for i, name in enumerate(names[1:], start=1):
        out[name] = defaults[i - first] if i >= first else _NO_DEFAULT
    for name in keywords:
        out[name] = kwdefaults.get(name, _NO_DEFAULT)
    return out


def _from_default(value: _Any) -> d.Descriptor:
    """The descriptor a default value implies (``seconds=1.0`` is Float8, None is Any)."""
    if value is None or value is _NO_DEFAULT:
        return d.Any()
    cls = type(value)
    if cls in (list, tuple, deque, set, frozenset):
        element = _from_default(next(iter(value))) if value else d.Any()
        kind = {deque: d.DequeOf, set: d.SetOf, frozenset: d.SetOf}.get(cls, d.VectorOf)
        return kind(element)
    if cls is dict:
        if value:
            k, v = next(iter(value.items()))
            return d.MapOf(_from_default(k), _from_default(v))
        return d.MapOf(d.Any(), d.Any())
    if _is_enum(cls):
        return d.Enumeration(cls)
    return resolve(cls)


def register_class(cls: type, object_schema: Optional[dict] = None) -> type:
    """Register ``cls`` (a plain class or a msgspec.Struct) so its values can be encoded by name.

    ``object_schema`` maps field names to types; without it, fields and types follow the keyword
    defaults of ``__init__`` (``seconds=1.0`` is a float, a None default is Any). The schema is
    kept on ``cls.__art__.schema``.
    """
    schema: Optional[dict]
    if _is_struct(cls):
        import msgspec

        try:
            schema = {f.name: _resolve(f.type, True) for f in msgspec.structs.fields(cls)}
        except Exception:  # a forward reference not defined yet; worked out on first use
            schema = None
    elif object_schema is not None:
        schema = {name: resolve(t) for name, t in object_schema.items()}
    else:
        schema = {name: _from_default(v) for name, v in _init_defaults(cls).items()}
    _registry.register(cls, schema)
    _codecs.clear()  # converters built before may hold the class's old fields
    return cls


# ---------------------------------------------------------------------------------------------
# The public entry points.

def _failed(e: _Mismatch, source: str) -> CodecError:
    return CodecError(f"{source}: {e.message()}" if source else e.message())


def to_word(value: _Any, t: _Any = d.Any) -> _Any:
    """The JSON-able form of one value (no document around it, so no PointerTo)."""
    codec = _codec_of(t)
    ctx = _Context()
    try:
        word = None if value is None else codec.enc(value, ctx)
    except _Mismatch as e:
        raise _failed(e, "") from None
    if ctx.pointer:
        raise CodecError("Pointers need a whole document: use encode(), not to_word()")
    return word


def from_word(word: _Any, t: _Any = d.Any) -> _Any:
    """The value of one JSON-able word, as ``to_word`` made it."""
    codec = _codec_of(t)
    try:
        return None if word is None else codec.dec(word, _Context())
    except _Mismatch as e:
        raise _failed(e, "") from None


def encode(value: _Any, t: _Any = d.Any, pretty: bool = False, **members: _Any) -> bytes:
    """The JSON document ``{"value": ...}`` for ``value`` of type ``t``; keys sorted.

    ``pretty`` indents it for people. Extra top-level ``members`` (e.g. ``version=1``) are written
    beside the value.
    """
    codec = _codec_of(t)
    ctx = _Context()
    try:
        word = None if value is None else codec.enc(value, ctx)
    except _Mismatch as e:
        raise _failed(e, "") from None
    document = dict(members)
    document["value"] = word
    if ctx.pointer:
        document["pointer"] = ctx.pointer
    import msgspec

    try:
        data = msgspec.json.encode(document, order="sorted")
    except (TypeError, ValueError, OverflowError) as e:
        raise CodecError(f"Cannot encode as JSON ({e})") from None
    return msgspec.json.format(data, indent=4) if pretty else data


def decode_document(data: _Any, t: _Any = d.Any, source: str = "") -> tuple[_Any, dict]:
    """Like ``decode``, also returning the whole document (to read members such as "version")."""
    import msgspec

    prefix = f"{source}: " if source else ""
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        raise CodecError(f"{prefix}{e}") from None
    except TypeError as e:
        raise CodecError(f"{prefix}Expected bytes or str, got {type(data).__name__} ({e})") from None
    if type(document) is not dict:
        raise CodecError(f"{prefix}Expected a document object, got {_kind(document)}")
    if "value" not in document:
        raise CodecError(f"{prefix}Object missing required field value")
    bodies = {}
    pointer = document.get("pointer")
    if pointer is not None:
        if type(pointer) is not list:
            raise CodecError(f"{prefix}Expected array, got {_kind(pointer)} - at pointer")
        for i, pair in enumerate(pointer):
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (int, str):
                raise CodecError(f"{prefix}Expected [alias, body], got {_kind(pair)} - at pointer[{i}]")
            bodies[pair[0]] = pair[1]
    codec = _codec_of(t)
    word = document["value"]
    try:
        value = None if word is None else codec.dec(word, _Context(bodies))
    except _Mismatch as e:
        raise _failed(e, source) from None
    return value, document


def decode(data: _Any, t: _Any = d.Any, source: str = "") -> _Any:
    """The value of the JSON document ``data`` (bytes or str), as type ``t``.

    Raises CodecError, naming ``source`` (a file name, say) and the path of a mismatch.
    """
    return decode_document(data, t, source)[0]


def parse_argument(text: str, t: _Any) -> _Any:
    """The value of a ``--name=value`` command-line argument of type ``t``.

    Scalars are their plain text (``5.0``, ``abc``, ``true``, ``1m30s``); containers, classes and
    Any are JSON, as in files.
    """
    codec = _codec_of(t)
    try:
        return codec.parse(text)
    except _Mismatch as e:
        raise _failed(e, "") from None
