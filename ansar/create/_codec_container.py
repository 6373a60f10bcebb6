"""Converters of containers: vectors, tuples, arrays, sets, deques and maps."""

from __future__ import annotations

from collections import deque

from ._codec_base import _Codec, _Context, _expected, _Mismatch, _show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any
    from typing import Callable

__all__ = [
    "_ArrayCodec", "_DequeCodec", "_FixedCodec", "_MapCodec", "_SetCodec", "_TextMapCodec", "_TupleCodec",
    "_VectorCodec",
]


class _VectorCodec(_Codec):
    name = "array"
    accepts: tuple = (list, tuple, deque)
    make: _Any = list

    def __init__(self, element: _Any) -> None:
        self.element = element
        self.item: _Codec = None  # type: ignore[assignment]

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.item = codec_of(self.element)

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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.items = [codec_of(t) for t in self.types]

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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.key = codec_of(self.key_type)
        self.value = codec_of(self.value_type)

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

    def setup(self, codec_of: Callable[[_Any], _Codec]) -> None:
        self.value = codec_of(self.value_type)

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
