"""Encoding values to JSON and back, as schemas of descriptors describe them.

A file (or a program's stdout) holds one document, ``{"value": <word>}``, plus a top-level
``"pointer"`` list of ``[alias, body]`` pairs when ``PointerTo`` fields were used. A *word* is the
JSON-able form of one value (lists, dicts, str, int, float, bool, None).

Each type gets one converter, built on first use and cached. Errors keep the path to the part
that was wrong, msgspec style: ``settings.json: Expected int, got str - at $.seconds``.

This module is the public face: it builds the converters and holds the entry points. The parts
live in private modules: ``_codec_base`` (error, document state, base converter), ``_codec_scalar``,
``_codec_time``, ``_codec_container``, ``_codec_object`` (classes, pointers, Any) and
``_codec_resolve`` (types to descriptors, register_class).
"""

from __future__ import annotations

from . import descriptors as d
from ._codec_base import CodecError, _Codec, _codecs, _Context, _kind, _Mismatch
from ._codec_container import (
    _ArrayCodec,
    _DequeCodec,
    _FixedCodec,
    _MapCodec,
    _SetCodec,
    _TextMapCodec,
    _TupleCodec,
    _VectorCodec,
)
from ._codec_object import Incognito, _AnyCodec, _ObjectCodec, _PointerCodec
from ._codec_resolve import _BigInt, _Binary, _Fixed, _TextMap, _TupleOf, register_class, resolve
from ._codec_scalar import (
    _AddressCodec,
    _BinaryCodec,
    _BlockCodec,
    _BooleanCodec,
    _CharacterCodec,
    _EnumerationCodec,
    _Float4Codec,
    _FloatCodec,
    _IntegerCodec,
    _RuneCodec,
    _StringCodec,
    _TypeCodec,
    _UnicodeCodec,
    _UUIDCodec,
    _WordCodec,
)
from ._codec_time import _ClockTimeCodec, _TimeDeltaCodec, _TimeSpanCodec, _WorldTimeCodec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any

__all__ = [
    "CodecError", "Incognito", "decode", "decode_document", "encode", "from_word", "parse_argument",
    "register_class", "resolve", "to_word",
]

# The public classes keep this module's name, so tracebacks, pickles and type names are unchanged.
CodecError.__module__ = __name__
Incognito.__module__ = __name__


# ---------------------------------------------------------------------------------------------
# Descriptors into converters.

_SIMPLE: dict[type, _Any] = {
    d.Boolean: _BooleanCodec, d.Float4: _Float4Codec, d.Float8: _FloatCodec, d.Character: _CharacterCodec,
    d.Rune: _RuneCodec, d.String: _StringCodec, d.Unicode: _UnicodeCodec, d.Block: _BlockCodec,
    _Binary: _BinaryCodec, d.ClockTime: _ClockTimeCodec, d.WorldTime: _WorldTimeCodec,
    d.TimeSpan: _TimeSpanCodec, d.TimeDelta: _TimeDeltaCodec, d.UUID: _UUIDCodec, d.Type: _TypeCodec,
    d.Address: _AddressCodec, d.TargetAddress: _AddressCodec, d.Word: _WordCodec, d.Any: _AnyCodec,
}


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
        codec.setup(_codec_of)
    except BaseException:
        _codecs.pop(descriptor, None)
        raise
    return codec


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


def decode_document(data: _Any, t: _Any = d.Any, source: str = "", strict: bool = False) -> tuple[_Any, dict]:
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
        value = None if word is None else codec.dec(word, _Context(bodies, strict))
    except _Mismatch as e:
        raise _failed(e, source) from None
    return value, document


def decode(data: _Any, t: _Any = d.Any, source: str = "", strict: bool = False) -> _Any:
    """The value of the JSON document ``data`` (bytes or str), as type ``t``.

    Raises CodecError, naming ``source`` (a file name, say) and the path of a mismatch. With
    ``strict``, a field that a class does not have is an error rather than ignored: for files
    a person writes (settings, input), where it is most likely a misspelling.
    """
    return decode_document(data, t, source, strict)[0]


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
