"""A home: create, open, and change the roles it describes.

Every change is made inside the home's lock and through ``_store``; a change that is refused is
refused before anything is written, so the home is left as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

import msgspec

from ansar.create._role import (
    HOME_VERSION,
    REDIRECT_KINDS,
    HomeError,
    HomeRecord,
    RoleContext,
    RoleRecord,
    open_home,
    read_record,
)

from . import _store
from ._names import BadValue, Search, check_name

if TYPE_CHECKING:
    from ._executable import Encoding

__all__ = ["DEFAULT_HOME", "Home", "create_home", "open_existing_home"]

DEFAULT_HOME = ".ansar-home"
_ROLE_FILES = ("settings", "input", "history")  # <kind folder>/<role>.json, beside the record
_ROLE_FOLDERS = ("model", "tmp", "logs")  # <kind folder>/<role>/
def _envelope(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode({"value": value}), indent=4) + b"\n"


class Home:
    """An open home. ``path`` is absolute."""

    def __init__(self, context: RoleContext):
        self.context = context
        self.path = context.home_path
        self.record: HomeRecord = context.home

    # Reading.
    def folder(self, kind: str) -> str:
        return self.context.folder(kind)

    def role(self, name: str) -> RoleContext:
        """The context of one role with its record read, or HomeError naming it."""
        context = self._context(name)
        path = context.record_path()
        if not os.path.exists(path):
            raise HomeError(f'role "{name}" not found in {self.path}')
        context.role = read_record(path, RoleRecord)
        return context

    def role_context(self, name: str) -> RoleContext:
        """The paths of a role, without reading its record."""
        return RoleContext(self.path, self.record, name, None)

    _context = role_context

    def names(self) -> list[str]:
        """Every role, sorted."""
        folder = self.folder("role")
        try:
            entries = os.listdir(folder)
        except FileNotFoundError:
            raise HomeError(f"{folder}: missing (a damaged home)") from None
        return sorted(e[:-5] for e in entries if e.endswith(".json") and not e.startswith("."))

    def select(self, search: Search, *, empty_ok: bool = False) -> list[str]:
        return search.select(self.names(), empty_ok=empty_ok)

    def executable_path(self, executable: str) -> str:
        """Where ``executable`` is: the home's bin folder (or where bin was redirected)."""
        check_name(executable, "executable")
        path = os.path.join(self.folder("bin"), executable)
        if not os.path.isfile(path):
            raise HomeError(f'executable "{executable}" not found in {self.folder("bin")}')
        if not os.access(path, os.X_OK):
            raise HomeError(f"{path}: not executable")
        return path

    def read_value(self, name: str, kind: str) -> Optional[bytes]:
        """The stored settings or input of a role, or None when its executable has none."""
        context = self._context(name)
        path = context.settings_path() if kind == "settings" else context.input_path()
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise HomeError(f"{path}: cannot read ({e.strerror})") from None

    def running(self, names: Iterable[str]) -> list[tuple[str, int]]:
        """``(role, pid)`` of every running role among ``names``."""
        from ._running import is_running

        found = []
        for name in names:
            pid = is_running(self._context(name))
            if pid is not None:
                found.append((name, pid))
        return found

    # Changing.
    def add(self, executable: str, names: list[str], settings: Encoding, input: Encoding) -> None:
        """New roles running ``executable``, each with these settings and input."""
        record = _envelope(RoleRecord(executable=executable))
        with _store.home_lock(self.path):
            taken = [n for n in names if os.path.exists(self._context(n).record_path())]
            if taken:
                raise HomeError(f'role "{taken[0]}" already exists in {self.path}')
            resource = os.path.join(self.folder("resource"), executable)
            _store.make_folder(resource)
            for name in names:
                context = self._context(name)
                self._write_value(context.settings_path(), settings)
                self._write_value(context.input_path(), input)
                for kind in _ROLE_FOLDERS:
                    _store.make_folder(os.path.join(self.folder(kind), name))
                _store.write_file(context.record_path(), record)  # last: now the role exists

    def store_values(self, kind: str, values: Mapping[str, Encoding]) -> None:
        """Replace the settings (``kind`` "settings") or input ("input") of existing roles."""
        with _store.home_lock(self.path):
            self._check_exist(values)
            for name, encoding in values.items():
                context = self._context(name)
                path = context.settings_path() if kind == "settings" else context.input_path()
                self._write_value(path, encoding)

    def set_property(self, names: Iterable[str], property: str, value: Any) -> None:
        """Set (or with None clear) a property of each role."""
        from ._properties import with_property

        with _store.home_lock(self.path):
            contexts = [self.role(name) for name in names]  # every record readable before any write
            for context in contexts:
                assert context.role is not None
                record = with_property(context.role, property, value)
                _store.write_file(context.record_path(), _envelope(record))

    def delete(self, names: Iterable[str]) -> None:
        """Remove roles and everything the home keeps for them (not their executable's resources)."""
        with _store.home_lock(self.path):
            for name in names:
                self._remove_role(name)

    def destroy(self) -> None:
        """Remove the home, and what its roles own in folders redirected elsewhere. A redirected
        bin is the user's and is left alone."""
        with _store.home_lock(self.path):
            names = self.names()
            executables = set()
            for name in names:
                try:
                    executables.add(self.role(name).role.executable)  # type: ignore[union-attr]
                except HomeError:
                    pass  # a damaged record: its resources stay behind, its role files go
            parent, base = os.path.split(self.path)
            doomed = os.path.join(parent, f".{base}.destroyed-{os.getpid()}")
            try:
                os.rename(self.path, doomed)  # from here on the home is gone for every reader
            except OSError as e:
                raise HomeError(f"{self.path}: cannot remove ({e.strerror})") from None
            for kind, folder in self.record.redirect.items():
                if kind == "bin":
                    continue
                for name in names:
                    self._remove_owned(kind, folder, name)
                if kind == "resource":
                    for executable in executables:
                        _store.remove_tree(os.path.join(folder, executable))
        _store.remove_tree(doomed)

    # Inside the lock.
    def _check_exist(self, names: Iterable[str]) -> None:
        for name in names:
            if not os.path.exists(self._context(name).record_path()):
                raise HomeError(f'role "{name}" not found in {self.path}')

    @staticmethod
    def _write_value(path: str, encoding: Encoding) -> None:
        if encoding.empty:
            _store.remove_file(path)
        else:
            data = encoding.data if encoding.data.endswith(b"\n") else encoding.data + b"\n"
            _store.write_file(path, data)

    def _remove_role(self, name: str) -> None:
        context = self._context(name)
        _store.remove_file(context.record_path())  # first: from here on the role is gone
        for kind in REDIRECT_KINDS:
            self._remove_owned(kind, self.folder(kind), name)

    @staticmethod
    def _remove_owned(kind: str, folder: str, name: str) -> None:
        if kind in _ROLE_FILES or kind == "role":
            _store.remove_file(os.path.join(folder, name + ".json"))
        elif kind in _ROLE_FOLDERS:
            _store.remove_tree(os.path.join(folder, name))
        elif kind == "lock":
            _store.remove_file(os.path.join(folder, name + ".pid"))
            _store.remove_file(os.path.join(folder, name + ".lock"))


def open_existing_home(path: str) -> Home:
    """The home at ``path``, or HomeError naming what is wrong with it."""
    absolute = os.path.abspath(path)
    if not os.path.exists(os.path.join(absolute, "home.json")) and os.path.isdir(absolute):
        raise HomeError(f"{absolute}: not a home (no home.json)")
    return Home(open_home(absolute))


def create_home(path: str, redirect: Optional[Mapping[str, str]] = None) -> Home:
    """A new, empty home at ``path`` with some folders ``redirect``-ed (kind to path) elsewhere."""
    absolute = os.path.abspath(path)
    moved: dict[str, str] = {}
    for kind, where in (redirect or {}).items():
        if kind not in REDIRECT_KINDS:
            raise BadValue(f'cannot redirect "{kind}" (there is {", ".join(sorted(REDIRECT_KINDS))})')
        if not where:
            raise BadValue(f'redirect of "{kind}" has no path')
        moved[kind] = os.path.abspath(where)
        if moved[kind] == absolute or moved[kind].startswith(absolute + os.sep):
            raise BadValue(f'redirect of "{kind}" to {moved[kind]} is inside the home itself')
    if os.path.exists(os.path.join(absolute, "home.json")):
        raise HomeError(f"{absolute}: a home already exists")
    if os.path.lexists(absolute) and not (os.path.isdir(absolute) and not os.listdir(absolute)):
        raise HomeError(f"{absolute}: exists and is not an empty folder")
    parent = os.path.dirname(absolute)
    _store.make_folder(parent)
    try:
        os.mkdir(absolute, 0o700)  # the claim: of two creates of one home, one fails here
    except FileExistsError:
        if os.listdir(absolute):
            raise HomeError(f"{absolute}: a home already exists") from None
    except OSError as e:
        raise HomeError(f"{absolute}: cannot create ({e.strerror})") from None
    os.chmod(absolute, 0o700)
    with _store.home_lock(absolute):
        for kind in REDIRECT_KINDS + ("role",):
            _store.make_folder(moved.get(kind) or os.path.join(absolute, kind))
        # The version is written out even though it is the default: a later ansar must see it.
        record = {"version": HOME_VERSION, "redirect": moved} if moved else {"version": HOME_VERSION}
        # Written last: until it is there, the folder is not a home to any other command.
        _store.write_file(os.path.join(absolute, "home.json"), _envelope(record))
    return Home(open_home(absolute))
