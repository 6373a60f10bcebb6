"""The table of types a program can encode and decode, keyed by full type name."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

__all__ = ["Art", "lookup", "register", "registered", "type_name"]


class Art:
    """What the runtime knows of a registered class (``Class.__art__``)."""

    __slots__ = ("name", "path", "_schema", "_factory")

    def __init__(self, name: str, path: str, schema: Any = None, factory: Optional[Callable] = None) -> None:
        self.name = name  # the bare class name, e.g. "Ack"
        self.path = path  # the full type name, e.g. "ansar.create.lifecycle.Ack"
        self._schema = schema  # field name -> descriptor, filled in by the codec
        self._factory = factory  # builds the schema on first use (keeps start-up light)

    @property
    def schema(self) -> Any:
        if self._schema is None and self._factory is not None:
            from . import descriptors

            self._schema = self._factory(descriptors)
            self._factory = None
        return self._schema

    @schema.setter
    def schema(self, value: Any) -> None:
        self._schema = value
        self._factory = None


_by_name: dict[str, type] = {}


def type_name(cls: type) -> str:
    """The full name a value of ``cls`` is encoded with: module and qualified class name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type, schema: Any = None, factory: Optional[Callable] = None) -> type:
    """Record ``cls`` under its full name and attach its ``__art__``.

    ``factory(descriptors_module)`` may stand in for ``schema``: it runs on first use.
    """
    path = type_name(cls)
    cls.__art__ = Art(cls.__name__, path, schema, factory)  # type: ignore[attr-defined]
    _by_name[path] = cls
    return cls


def lookup(name: str) -> Optional[type]:
    """The class registered under ``name``, or None.

    The runtime's own types register as their modules load, and its modules load on first use:
    a name of one of them (``ansar.create.test.TestReport`` in a child's result, say) loads it.
    """
    cls = _by_name.get(name)
    if cls is None and name.startswith("ansar.create."):
        module = name.rpartition(".")[0]
        if module.count(".") == 2 and module.rpartition(".")[2].isidentifier():
            import importlib

            try:
                importlib.import_module(module)
            except ImportError:
                return None
            cls = _by_name.get(name)
    return cls


def registered(cls: type) -> bool:
    """True when ``cls`` itself (not only a base) was registered."""
    return "__art__" in cls.__dict__
