"""The table of types a program can encode and decode, keyed by full type name."""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["Art", "lookup", "register", "registered", "type_name"]


class Art:
    """What the runtime knows of a registered class (``Class.__art__``)."""

    __slots__ = ("name", "path", "schema")

    def __init__(self, name: str, path: str, schema: Any = None) -> None:
        self.name = name  # the bare class name, e.g. "Ack"
        self.path = path  # the full type name, e.g. "ansar.create.lifecycle.Ack"
        self.schema = schema  # field name -> descriptor, filled in by the codec


_by_name: dict[str, type] = {}


def type_name(cls: type) -> str:
    """The full name a value of ``cls`` is encoded with: module and qualified class name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type, schema: Any = None) -> type:
    """Record ``cls`` under its full name and attach its ``__art__``."""
    path = type_name(cls)
    cls.__art__ = Art(cls.__name__, path, schema)  # type: ignore[attr-defined]
    _by_name[path] = cls
    return cls


def lookup(name: str) -> Optional[type]:
    """The class registered under ``name``, or None."""
    return _by_name.get(name)


def registered(cls: type) -> bool:
    """True when ``cls`` itself (not only a base) was registered."""
    return "__art__" in cls.__dict__
