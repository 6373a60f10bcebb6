"""The codec's ground: its error, the state of one document and the base of every converter."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Callable, Optional

    from . import descriptors as d

__all__ = [
    "CodecError", "_Codec", "_Context", "_Mismatch", "_Text", "_codecs", "_expected", "_kind", "_module_class",
    "_show",
]


class CodecError(Exception):
    """A value did not match its type, or a document was damaged. One line, with the path."""


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


class _Context:
    """Pointer state of one document."""

    __slots__ = (
        "aliases", "keep", "pointer", "collectors", "refs", "next", "foreign", "bodies", "objects", "strict",
    )

    def __init__(self, bodies: Optional[dict] = None, strict: bool = False) -> None:
        self.strict = strict  # refuse fields a class does not have (files a person wrote)
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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        """Resolve the converters of parts with ``codec_of`` (called after this one is cached, so
        recursion ends). Passed in, not imported, so the part modules need not import the public one."""


class _Text(_Codec):
    """Scalars whose command-line text is their JSON text."""

    def parse(self, text: str) -> _Any:
        return self.dec(text, _Context())


def _show(value: _Any) -> str:
    if isinstance(value, (str, bytes)) and len(value) <= 40:
        return repr(value)
    return type(value).__name__


def _module_class(module: str, name: str) -> _Any:
    """The class ``module.name`` if the module was imported (so a value of it can exist)."""
    m = sys.modules.get(module)
    return getattr(m, name, None) if m is not None else None


# Converters built so far, by descriptor: filled by codec._codec_of, emptied by
# register_class (a converter built before may hold a class's old fields).
_codecs: dict[d.Descriptor, _Codec] = {}
