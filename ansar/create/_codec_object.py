"""Converters of user-defined classes and Structs, pointers, Any, and Incognito for unknown types."""

from __future__ import annotations

from . import _registry
from . import descriptors as d
from ._codec_base import _Codec, _Context, _expected, _Mismatch
from ._codec_resolve import (
    _BUILTIN_BY_CLASS,
    _BUILTIN_BY_NAME,
    _NO_DEFAULT,
    _class_descriptor,
    _Field,
    _init_defaults,
    _is_enum,
    _is_struct,
    _plain_fields,
    _struct_fields,
    _takes_any_keyword,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Callable, Optional

__all__ = ["Incognito", "_AnyCodec", "_ObjectCodec", "_PointerCodec"]


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


_BUILDING = object()  # a pointer whose body is being decoded, so not yet there to refer to


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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
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
            f.codec = codec_of(f.type)
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
                if self.forbid_unknown or ctx.strict:
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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.target = codec_of(self.element)

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
    codec_of: Callable[[_Any], _Codec]

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.codec_of = codec_of  # the converters of the types values carry are found as they come

    def enc(self, value: _Any, ctx: _Context) -> _Any:
        if value is None:
            return None
        if isinstance(value, Incognito):
            return self._incognito(value, ctx)
        name, codec = _named_codec(type(value), self.codec_of)
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
        codec = _codec_by_name(name, self.codec_of)
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


def _named_codec(cls: type, codec_of: Callable[[_Any], _Codec]) -> tuple[str, _Codec]:
    """The type name and converter a value of ``cls`` is written with under Any."""
    art = cls.__dict__.get("__art__")
    if art is None:
        name = _BUILTIN_BY_CLASS.get((cls.__module__, cls.__qualname__))
        if name is not None:
            return name, codec_of(_BUILTIN_BY_NAME[name][1])
        if _is_struct(cls) or (_is_enum(cls) and cls.__module__ != d.__name__):
            art = _registry.register(cls).__art__  # type: ignore[attr-defined]
        else:
            for base in (bool, int, float, str, bytes, bytearray, list, tuple, dict, set):
                if issubclass(cls, base):  # e.g. an Address is an int
                    name = base.__name__
                    return name, codec_of(_BUILTIN_BY_NAME[name][1])
            raise _Mismatch(f"Cannot encode {cls.__qualname__}: type not registered (see bind)")
    return art.path, codec_of(_class_descriptor(cls))


def _codec_by_name(name: str, codec_of: Callable[[_Any], _Codec]) -> Optional[_Codec]:
    cls = _registry.lookup(name)
    if cls is not None:
        return codec_of(_class_descriptor(cls))
    entry = _BUILTIN_BY_NAME.get(name)
    return codec_of(entry[1]) if entry is not None else None
