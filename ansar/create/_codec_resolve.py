"""Types to descriptors: resolve, register_class, typing forms, Structs and the fields of classes."""

from __future__ import annotations

import sys
import types
from collections import deque

from . import _registry
from . import descriptors as d
from ._codec_base import CodecError, _Codec, _codecs, _module_class

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Optional

# msgspec and typing are imported on first use, not here: binding a class at a program's start-up
# loads this module, and a tool that prints nothing should not pay for them. A typing form or a
# Struct can only exist when its module was imported, so sys.modules tells.

__all__ = [
    "_BUILTIN_BY_CLASS", "_BUILTIN_BY_NAME", "_NO_DEFAULT", "_BigInt", "_Binary", "_Field", "_Fixed", "_TextMap",
    "_TupleOf", "_class_descriptor", "_init_defaults", "_is_enum", "_is_struct", "_plain_fields", "_resolve",
    "_struct_fields", "_takes_any_keyword", "register_class", "resolve",
]


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


# ---------------------------------------------------------------------------------------------
# Resolving what a schema says into descriptors.

_PYTHON: dict[type, _Any] = {
    bool: d.Boolean(), int: d.Integer8(), float: d.Float8(), str: d.Unicode(), bytes: d.String(),
    bytearray: d.Block(), list: d.VectorOf(d.Any()), tuple: d.VectorOf(d.Any()),
    dict: d.MapOf(d.Any(), d.Any()), set: d.SetOf(d.Any()), frozenset: d.SetOf(d.Any()),
    deque: d.DequeOf(d.Any()), object: d.Any(), type(None): d.Any(),
}

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


# ---------------------------------------------------------------------------------------------
# Fields of classes.

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
