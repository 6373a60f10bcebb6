"""A home: create, open, and change the roles it describes.

Every change is made inside the home's lock and through ``_store``. What a change reads (the
roles a search matches, the values it builds on) is read inside the same lock, so two commands
never build on the same old value. A change of several files is all or nothing: a refused change
leaves the home as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ContextManager, Iterable, Mapping, Optional

import msgspec

from ansar.create._role import (
    COMMAND,
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
from ._names import BadValue, Search, check_name, quoted

if TYPE_CHECKING:
    from ._executable import Encoding

__all__ = ["DEFAULT_HOME", "Home", "create_home", "open_existing_home"]

DEFAULT_HOME = ".ansar-home"
_ROLE_FILES = ("settings", "input", "history")  # <kind folder>/<role>.json, beside the record
_ROLE_FOLDERS = ("model", "tmp", "logs")  # <kind folder>/<role>/


def _envelope(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode({"value": value}), indent=4) + b"\n"


class _Document(msgspec.Struct):
    value: msgspec.Raw = msgspec.Raw(b"null")


_document = msgspec.json.Decoder(_Document)


class Home:
    """An open home. ``path`` is absolute."""

    def __init__(self, context: RoleContext):
        self.context = context
        self.path = context.home_path
        self.record: HomeRecord = context.home

    # Reading.
    def folder(self, kind: str) -> str:
        return self.context.folder(kind)

    def role(self, name: str, *, listed: bool = False) -> RoleContext:
        """The context of one role with its record read, or HomeError naming it. A name the user
        gave must be plain (BadValue); ``listed`` names come from ``names()`` as they are."""
        if not listed:
            check_name(name)
        context = self._context(name)
        path = context.record_path()
        if not os.path.exists(path):
            raise HomeError(f"role {quoted(name)} not found in {self.path}")
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
        """Where ``executable`` is: the home's bin folder (or where bin was redirected). A command
        role's marker (``_command.COMMAND``) is given back as it is: it runs no file of bin."""
        if executable == COMMAND:
            return COMMAND
        check_name(executable, "executable")
        path = os.path.join(self.folder("bin"), executable)
        if not os.path.isfile(path):
            raise HomeError(f'executable "{executable}" not found in {self.folder("bin")}')
        if not os.access(path, os.X_OK):
            raise HomeError(f"{path}: not executable")
        return path

    def value_path(self, name: str, kind: str) -> str:
        """The file of a role's settings (``kind`` "settings") or input ("input")."""
        context = self._context(name)
        return context.settings_path() if kind == "settings" else context.input_path()

    def read_value(self, name: str, kind: str) -> Optional[bytes]:
        """The stored settings or input of a role, or None when its executable has none."""
        return _store.read_file(self.value_path(name, kind))

    def read_document(self, name: str, kind: str) -> Optional[bytes]:
        """``read_value``, and HomeError naming the file when it is not a ``{"value": ...}`` document."""
        data = self.read_value(name, kind)
        if data is not None:
            try:
                _document.decode(data)
            except msgspec.DecodeError as e:
                path = self.value_path(name, kind)
                raise HomeError(f'{path}: damaged (not a {{"value": ...}} document: {e})') from None
        return data

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
    def locked(self) -> ContextManager[None]:
        """Hold the home's lock: a search matched and values read inside it are still true when the
        change made inside it is stored. Every method below takes it (a thread may nest it)."""
        return _store.home_lock(self.path)

    def check_lock(self) -> None:
        """HomeError now if the home's lock cannot be taken (a read-only home), before work that
        would otherwise be lost at the store."""
        with self.locked():
            pass

    def add(self, executable: str, names: list[str], settings: Encoding, input: Encoding) -> None:
        """New roles running ``executable``, each with these settings and input."""
        record = _envelope(RoleRecord(executable=executable))
        with self.locked(), _store.Change() as change:
            taken = [n for n in names if os.path.exists(self._context(n).record_path())]
            if taken:
                raise HomeError(f"role {quoted(taken[0])} already exists in {self.path}")
            resource = os.path.join(self.folder("resource"), executable)
            if executable != COMMAND and not os.path.isdir(resource):
                change.make_folder(resource)
            for name in names:
                context = self._context(name)
                self._change_value(change, context.settings_path(), settings)
                self._change_value(change, context.input_path(), input)
                change.remove(context.history_path())  # left by an older ansar: not this role's
                for kind in _ROLE_FOLDERS:
                    change.make_folder(os.path.join(self.folder(kind), name))
            for name in names:
                change.write(self._context(name).record_path(), record)  # last: now the roles exist

    def store_values(self, kind: str, values: Mapping[str, Encoding]) -> None:
        """Replace the settings (``kind`` "settings") or input ("input") of existing roles."""
        with self.locked(), _store.Change() as change:
            self._check_exist(values)
            for name, encoding in values.items():
                self._change_value(change, self.value_path(name, kind), encoding)

    def set_property(self, names: Iterable[str], property: str, value: Any) -> None:
        """Set (or with None clear) a property of each role."""
        from ._properties import with_property

        with self.locked(), _store.Change() as change:
            contexts = [self.role(name, listed=True) for name in names]  # every record readable first
            for context in contexts:
                assert context.role is not None
                record = with_property(context.role, property, value)
                change.write(context.record_path(), _envelope(record))

    def delete(self, names: Iterable[str]) -> None:
        """Remove roles and everything the home keeps for them (not their executable's resources)."""
        with self.locked(), _store.Change() as change:
            names = list(names)
            self._check_exist(names)
            for name in names:
                change.remove(self._context(name).record_path())  # first: from here on the role is gone
            for name in names:
                for kind in REDIRECT_KINDS:
                    self._remove_owned(change, kind, self.folder(kind), name)

    def check_destroy(self) -> None:
        """HomeError if ``destroy`` would be refused whatever runs: a home reached through a
        symbolic link (removing the link would leave the home whole; removing what it names,
        something the user may not have meant)."""
        if os.path.islink(self.path):
            raise HomeError(
                f"{self.path}: is a symbolic link to {os.readlink(self.path)}, not destroyed "
                f"(destroy {os.path.realpath(self.path)} itself, then remove the link)"
            )

    def destroy(self) -> None:
        """Remove the home, and what its roles own in folders redirected elsewhere. A redirected
        bin is the user's and is left alone. See ``check_destroy``."""
        self.check_destroy()
        change = _store.Change()
        with self.locked():
            names = self.names()
            executables = set()
            for name in names:
                try:
                    executables.add(self.role(name, listed=True).role.executable)  # type: ignore[union-attr]
                except HomeError:
                    pass  # a damaged record: its resources stay behind, its role files go
            change.remove(self.path)  # first: from here on the home is gone for every reader
            for kind, folder in self.record.redirect.items():
                if kind == "bin":
                    continue
                for name in names:
                    self._remove_owned(change, kind, folder, name)
                if kind == "resource":
                    for executable in executables:
                        change.remove(os.path.join(folder, executable))
            change.commit(finish=False)
        change.finish()  # the lock file went with the home: delete what was moved aside only now

    # Inside the lock.
    def _check_exist(self, names: Iterable[str]) -> None:
        for name in names:
            if not os.path.exists(self._context(name).record_path()):
                raise HomeError(f"role {quoted(name)} not found in {self.path}")

    @staticmethod
    def _change_value(change: _store.Change, path: str, encoding: Encoding) -> None:
        if encoding.empty:
            change.remove(path)
        else:
            data = encoding.data if encoding.data.endswith(b"\n") else encoding.data + b"\n"
            change.write(path, data)

    @staticmethod
    def _remove_owned(change: _store.Change, kind: str, folder: str, name: str) -> None:
        if kind in _ROLE_FILES or kind == "role":
            change.remove(os.path.join(folder, name + ".json"))
        elif kind in _ROLE_FOLDERS:
            change.remove(os.path.join(folder, name))
        elif kind == "lock":
            change.remove(os.path.join(folder, name + ".pid"))
            change.remove(os.path.join(folder, name + ".lock"))


def open_existing_home(path: str) -> Home:
    """The home at ``path``, or HomeError naming what is wrong with it."""
    absolute = os.path.abspath(path)
    if os.path.lexists(absolute) and not os.path.isdir(absolute):
        raise HomeError(f"{absolute}: not a home folder (it is a file)")
    if not os.path.exists(os.path.join(absolute, "home.json")) and os.path.isdir(absolute):
        raise HomeError(f"{absolute}: not a home (no home.json)")
    _check_owner(absolute)
    return Home(open_home(absolute))


def _check_owner(absolute: str) -> None:
    """A home belongs to one user: working on another's (even as root) would leave files its owner
    cannot read, or run roles as the wrong user."""
    try:
        owner = os.stat(absolute).st_uid
    except OSError:
        return  # missing: open_home names it
    me = os.geteuid()
    if owner != me:
        raise HomeError(f"{absolute}: owned by {_user(owner)}, not by {_user(me)} (run ansar as its owner)")


def _user(uid: int) -> str:
    try:
        import pwd

        return f'user "{pwd.getpwuid(uid).pw_name}" (uid {uid})'
    except (KeyError, ImportError):
        return f"uid {uid}"


def _redirect_target(kind: str, where: str) -> tuple[str, bool]:
    """The absolute folder of a redirect and whether it must be made; HomeError if it cannot be.

    bin must exist: it holds the user's executables. Another kind's folder is made if its parent
    exists; a deeper path that does not exist is refused, never made silently.
    """
    absolute = os.path.abspath(where)
    if os.path.isdir(absolute):
        return absolute, False
    if os.path.lexists(absolute):
        raise HomeError(f'redirect of "{kind}" to {absolute}: not a folder')
    if kind == "bin":
        raise HomeError(f'redirect of "bin" to {absolute}: no such folder (bin must exist and hold the executables)')
    parent = os.path.dirname(absolute)
    if not os.path.isdir(parent):
        raise HomeError(f'redirect of "{kind}" to {absolute}: no such folder {parent} (only the last folder is made)')
    return absolute, True


def create_home(path: str, redirect: Optional[Mapping[str, str]] = None) -> Home:
    """A new, empty home at ``path`` with some folders ``redirect``-ed (kind to path) elsewhere.

    The home's parent folder must exist; see ``_redirect_target`` for redirects. All or nothing.
    """
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
    if not os.path.isdir(parent):
        raise HomeError(f"{absolute}: no such folder {parent} (the home's parent folder must exist)")
    made = {kind: _redirect_target(kind, where) for kind, where in moved.items()}
    existed = os.path.isdir(absolute)
    try:
        os.mkdir(absolute, 0o700)  # the claim: of two creates of one home, one fails here
    except FileExistsError:
        if os.listdir(absolute):
            raise HomeError(f"{absolute}: a home already exists") from None
    except OSError as e:
        raise HomeError(f"{absolute}: cannot create ({e.strerror})") from None
    try:
        os.chmod(absolute, 0o700)
        with _store.home_lock(absolute), _store.Change() as change:
            for kind in REDIRECT_KINDS + ("role",):
                if kind not in made:
                    change.make_folder(os.path.join(absolute, kind))
                elif made[kind][1]:
                    change.make_folder(made[kind][0])
            # The version is written out even though it is the default: a later ansar must see it.
            record = {"version": HOME_VERSION, "redirect": moved} if moved else {"version": HOME_VERSION}
            # Written last: until it is there, the folder is not a home to any other command.
            change.write(os.path.join(absolute, "home.json"), _envelope(record))
    except BaseException:
        if not os.path.exists(os.path.join(absolute, "home.json")):
            if existed:
                _empty(absolute)  # the user's empty folder stays, empty
            else:
                _store.remove_tree(absolute)
        raise
    return Home(open_home(absolute))


def _empty(folder: str) -> None:
    for entry in os.listdir(folder):
        _store.remove_tree(os.path.join(folder, entry))
