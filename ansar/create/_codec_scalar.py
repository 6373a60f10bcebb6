"""Converters of single values: booleans, numbers, text, bytes, UUIDs, enumerations, types, addresses."""

from __future__ import annotations

from . import _registry
from ._codec_base import _Codec, _Context, _expected, _Mismatch, _module_class, _show, _Text
from ._codec_resolve import _BUILTIN_BY_NAME

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Optional

__all__ = [
    "_AddressCodec", "_BinaryCodec", "_BlockCodec", "_BooleanCodec", "_CharacterCodec", "_EnumerationCodec",
    "_Float4Codec", "_FloatCodec", "_IntegerCodec", "_RuneCodec", "_StringCodec", "_TypeCodec", "_UUIDCodec",
    "_UnicodeCodec",
    "_WordCodec",
]


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
    limit = float("inf")  # the largest magnitude the type holds

    def _check(self, value: float) -> float:
        value = _finite(value)
        if abs(value) > self.limit:
            raise _Mismatch(f"Expected float of at most {self.limit:g} in magnitude, got {value!r}")
        return value

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            return self._check(float(value))
        raise _Mismatch(f"Expected float, got {type(value).__name__}")

    def dec(self, word: _Any, ctx: _Context) -> _Any:
        if type(word) is float or type(word) is int:
            return self._check(float(word))
        raise _expected("float", word)

    def parse(self, text: str) -> _Any:
        try:
            value = float(text.strip())
        except ValueError:
            raise _Mismatch(f"Expected float, got {text!r}") from None
        return self._check(value)


class _Float4Codec(_FloatCodec):
    limit = 3.4028234663852886e38  # IEEE single precision


def _finite(value: float) -> float:
    # JSON has no NaN or infinity: such a value would be written as null and fail at the next read.
    if value != value or value in (float("inf"), float("-inf")):
        raise _Mismatch(f"Expected a finite float, got {value!r}")
    return value


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
