"""Folders and files of encoded values: what a component keeps between runs.

``ar.model_folder()`` (and ``resource_folder``, ``tmp_folder``) is the role's folder in its home,
or None for a program run as a tool. ``folder.file('word-map', ar.MapOf(ar.String, ar.String))``
names ``word-map.json``; ``store(value)`` replaces it atomically and ``recover()`` reads it back.
"""

from __future__ import annotations

import os

from ._atomic import write_atomic as _write_atomic
from .codec import decode_document, encode
from .descriptors import Any as _AnyType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional

__all__ = [
    "File", "FileNotFound", "Folder", "model_folder", "resource_folder", "set_folders", "tmp_folder",
]


class FileNotFound(Exception):
    """The file to recover does not exist. The text names its path."""



def write_atomic(path: str, data: bytes) -> None:
    """Replace the file at ``path`` with ``data``: a reader sees the old file or the new, never part."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    _write_atomic(path, data)


class File:
    """One file in a folder holding one value of type ``t``."""

    def __init__(self, path: str, t: Any = _AnyType) -> None:
        self.path = path
        self.t = t

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def __repr__(self) -> str:
        return f"File({self.path!r})"

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def store(self, value: Any, version: Optional[int] = None) -> None:
        """Encode ``value`` and replace the file with it, creating the folder when needed.

        A ``version`` is written beside the value, as the top-level "version" member.
        """
        members = {} if version is None else {"version": version}
        write_atomic(self.path, encode(value, self.t, pretty=True, **members) + b"\n")

    def recover(self) -> tuple[Any, Any]:
        """The stored value and its version (None when the file has none).

        Raises FileNotFound when there is no file, and CodecError naming the path when it is damaged.
        """
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise FileNotFound(f"{self.path}: not found") from None
        value, document = decode_document(data, self.t, source=self.path)
        return value, document.get("version")

    def remove(self) -> None:
        """Delete the file; no error when it was not there."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Folder:
    """A folder of files and sub-folders; created when something is stored in it."""

    def __init__(self, path: str) -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"Folder({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Folder) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def file(self, name: str, t: Any = _AnyType) -> File:
        """The file ``name`` (``name.json`` when it has no extension) holding a value of ``t``."""
        if not os.path.splitext(name)[1]:
            name += ".json"
        return File(os.path.join(self.path, name), t)

    def folder(self, name: str) -> Folder:
        """The sub-folder ``name``, created if missing."""
        path = os.path.join(self.path, name)
        os.makedirs(path, exist_ok=True)
        return Folder(path)

    def matching(self, pattern: Optional[str] = None) -> Iterator[str]:
        """The names of the files here (sorted, no temporary files), those matching the regular
        expression ``pattern`` when given."""
        try:
            names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            return
        test = None
        if pattern is not None:
            import re

            test = re.compile(pattern).fullmatch
        for name in names:
            if name.startswith(".") or not os.path.isfile(os.path.join(self.path, name)):
                continue
            if test is None or test(name):
                yield name

    def each(self, t: Any = _AnyType, pattern: Optional[str] = None) -> Iterator[File]:
        """A File of ``t`` for each ``.json`` file here (or each file matching ``pattern``)."""
        for name in self.matching(pattern if pattern is not None else r".*\.json"):
            yield File(os.path.join(self.path, name), t)


_folders: dict[str, Optional[Folder]] = {"model": None, "resource": None, "tmp": None}


def set_folders(model: Optional[str], resource: Optional[str], tmp: Optional[str]) -> None:
    """Where this role's model, resource and tmp folders are (called by the runtime at start-up)."""
    _folders["model"] = Folder(model) if model else None
    _folders["resource"] = Folder(resource) if resource else None
    _folders["tmp"] = Folder(tmp) if tmp else None


def model_folder() -> Optional[Folder]:
    """The role's model folder (its persistent data), or None when the program has no home."""
    return _folders["model"]


def resource_folder() -> Optional[Folder]:
    """The executable's resource folder (read-only materials), or None when the program has no home."""
    return _folders["resource"]


def tmp_folder() -> Optional[Folder]:
    """The role's tmp folder, or None when the program has no home."""
    return _folders["tmp"]
