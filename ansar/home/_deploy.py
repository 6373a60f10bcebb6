"""What a deploy would change in a home, and the record of roles a deploy (or snapshot) stopped.

``plan_deploy`` reads a build folder (executables) and a snapshot (the layout ``ansar snapshot``
writes) against the home, without changing anything: every entry of the snapshot must name a role
or an executable of the home, and every changed settings or input document is checked by the
executable that will run it (the build's, when the build replaces it). Only then is there a plan:
transfers of files, values to store, and the roles they affect.

Roles stopped for a deploy are recorded in ``<home>/.deploy-stopped.json`` before they are
stopped and the record is removed once they are started again; a deploy killed in between leaves
the record for the next one, which starts them once its own work is done.
"""

from __future__ import annotations

import os
from typing import Optional

import msgspec

from ansar.create._role import HomeError, RoleContext

from . import _store
from ._executable import Encoding, dump_input, dump_settings
from ._home import Home
from ._names import BadValue
from ._transfer import BIN_MASK, Transfer, compute_transfer

__all__ = [
    "INPUT", "MODEL", "Plan", "RESOURCE", "SETTINGS", "STOPPED_RECORD", "Stopped", "Value", "check_folder",
    "clear_stopped", "plan_deploy", "read_stopped", "store_value", "write_stopped",
]

# The snapshot's layout.
SETTINGS = "settings-by-role"
INPUT = "input-by-role"
MODEL = "model-by-role"
RESOURCE = "resource-by-executable"

STOPPED_RECORD = ".deploy-stopped.json"
STOPPED_VERSION = 1


class Value:
    """A settings or input document to store for a role, as its executable printed it."""

    __slots__ = ("role", "kind", "encoding")

    def __init__(self, role: str, kind: str, encoding: Encoding) -> None:
        self.role = role
        self.kind = kind  # "settings" or "input"
        self.encoding = encoding


class Plan:
    """The work of one deploy: ``transfers`` (bin first, then resources, then models), ``values``
    to store, the ``affected`` roles (in the order found) and a line for each thing detected."""

    def __init__(self) -> None:
        self.transfers: list[Transfer] = []
        self.values: list[Value] = []
        self.affected: list[str] = []
        self.detected: list[str] = []

    def affect(self, names: list[str]) -> int:
        """Add roles to the affected ones; returns how many were new."""
        new = [n for n in names if n not in self.affected]
        self.affected.extend(new)
        return len(new)

    @property
    def empty(self) -> bool:
        return not self.transfers and not self.values


def check_folder(path: str, what: str) -> str:
    """``path`` as an absolute path if it is a folder that can be read, else HomeError naming it."""
    absolute = os.path.abspath(path)
    if not os.path.isdir(absolute):
        there = os.path.lexists(absolute)
        raise HomeError(f"{absolute}: {what} {'is not a folder' if there else 'not found'}")
    if not os.access(absolute, os.R_OK | os.X_OK):
        raise HomeError(f"{absolute}: cannot read the {what} (permission denied)")
    return absolute


def _executable(e: os.DirEntry) -> bool:
    if e.name.startswith("."):
        return False
    try:
        return e.is_file() and os.access(e.path, os.X_OK)
    except OSError:
        return False


def _entries(folder: str, want_json: bool) -> list[tuple[str, str]]:
    """``(name, path)`` of each entry of a snapshot section (hidden ones left out): folders, or
    ``<name>.json`` files with ``want_json``; anything else is refused, named."""
    try:
        with os.scandir(folder) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise HomeError(f"{folder}: cannot read ({e.strerror})") from None
    found = []
    for e in entries:
        if want_json:
            if not e.name.endswith(".json") or not e.is_file():
                raise HomeError(f"{e.path}: expected <role>.json in {os.path.basename(folder)}")
            found.append((e.name[:-5], e.path))
        else:
            if not e.is_dir():
                raise HomeError(f"{e.path}: expected a folder in {os.path.basename(folder)}")
            found.append((e.name, e.path))
    return found


def _same_value(ours: Optional[bytes], theirs: bytes) -> bool:
    """The same document, whatever its layout (the home keeps what the executable printed)."""
    if ours is None:
        return False
    if ours == theirs:
        return True
    try:
        return msgspec.json.decode(ours) == msgspec.json.decode(theirs)
    except msgspec.DecodeError:
        return False


def plan_deploy(home: Home, build: Optional[str], snapshot: Optional[str], *, check: bool = True) -> Plan:
    """What deploying ``build`` (a folder of executables) and ``snapshot`` would change; nothing is
    changed. HomeError, naming the entry, for anything that cannot be deployed.

    With ``check`` false no executable is asked: a settings or input document that differs from
    the home's is taken for a change (a first look, to see whether there is anything to do)."""
    plan = Plan()
    contexts = {name: home.role(name) for name in home.names()}
    by_executable: dict[str, list[str]] = {}
    for name, context in contexts.items():
        assert context.role is not None
        by_executable.setdefault(context.role.executable, []).append(name)
    replaced: dict[str, str] = {}  # executable -> its path in the build
    bin_folder = home.folder("bin")

    if build is not None and not _same_folder(build, bin_folder):
        transfer = compute_transfer(build, bin_folder, remove=False, top_only=True, accept=_executable,
                                    mask=BIN_MASK)
        if transfer.deltas:
            plan.transfers.append(transfer)
            changed = transfer.copied_names()
            replaced = {name: os.path.join(build, name) for name in changed}
            roles = [r for name in changed for r in by_executable.get(name, [])]
            if changed:
                added = plan.affect(roles)
                plan.detected.append(f"Detected {len(changed)} changing executables (added {added} associated roles)")
    if snapshot is None:
        return plan

    sections = {s: _entries(os.path.join(snapshot, s), s in (SETTINGS, INPUT))
                for s in (RESOURCE, MODEL, SETTINGS, INPUT)}
    known = set(by_executable) | set(_listing(home.folder("resource")))
    for name, path in sections[RESOURCE]:
        if name not in known:
            raise HomeError(f'{path}: executable "{name}" not found in {home.path}')
    for section in (MODEL, SETTINGS, INPUT):
        for name, path in sections[section]:
            if name not in contexts:
                raise HomeError(f'{path}: role "{name}" not found in {home.path}')

    for name, path in sections[RESOURCE]:
        transfer = _mirror(path, os.path.join(home.folder("resource"), name))
        if transfer is not None:
            plan.transfers.append(transfer)
            added = plan.affect(by_executable.get(name, []))
            plan.detected.append(f'Detected {len(transfer.deltas)} resource changes for "{name}" '
                                 f"(added {added} associated roles)")
    for name, path in sections[MODEL]:
        transfer = _mirror(path, contexts[name].model_path())
        if transfer is not None:
            plan.transfers.append(transfer)
            plan.affect([name])
            plan.detected.append(f'Detected {len(transfer.deltas)} model changes for "{name}"')
    for section, kind, text in ((SETTINGS, "settings", "settings change"), (INPUT, "input", "input changes")):
        for name, path in sections[section]:
            context = contexts[name]
            value = _checked_value(home, context, kind, path, replaced, check)
            if value is not None:
                plan.values.append(value)
                plan.affect([name])
                plan.detected.append(f'Detected {text} for "{name}"')
    return plan


def _listing(folder: str) -> list[str]:
    try:
        return [n for n in os.listdir(folder) if not n.startswith(".")]
    except OSError:
        return []


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _mirror(source: str, target: str) -> Optional[Transfer]:
    try:
        transfer = compute_transfer(source, target)
    except OSError as e:
        raise HomeError(f"{e.filename or source}: cannot read ({e.strerror})") from None
    for delta in transfer.copies:
        _inside(source, os.path.join(source, delta.path))
    return transfer if transfer.deltas else None


def _inside(source: str, path: str) -> None:
    """Refuse a snapshot's symbolic link that leads out of the snapshot: the home would read or
    write through it outside itself."""
    if not os.path.islink(path):
        return
    top = os.path.realpath(source)
    if not os.path.realpath(path).startswith(top + os.sep):
        raise HomeError(f'{path}: a symbolic link out of the snapshot (to "{os.readlink(path)}")')


def _checked_value(home: Home, context: RoleContext, kind: str, path: str,
                   replaced: dict[str, str], check: bool = True) -> Optional[Value]:
    """The value of ``path`` to store for the role, or None when the home has it already."""
    theirs = _store.read_file(path)
    assert theirs is not None and context.role is not None
    where = context.settings_path() if kind == "settings" else context.input_path()
    ours = _store.read_file(where)
    if _same_value(ours, theirs):
        return None
    if not check:
        return Value(context.role_name, kind, Encoding(theirs, False))
    executable = context.role.executable
    program = replaced.get(executable) or home.executable_path(executable)
    try:
        encoding = dump_settings(program, path) if kind == "settings" else dump_input(program, path)
    except BadValue as e:
        text = str(e) if path in str(e) else f"{path}: {e}"
        raise HomeError(text) from None  # a file of the snapshot, not the command line: exit 1
    if encoding.empty and kind == "settings":
        raise HomeError(f'{path}: role "{context.role_name}" has no settings (executable "{executable}" takes none)')
    if encoding.empty and ours is None:
        return None  # no input either way
    if ours is not None and _same_value(ours, encoding.data):
        return None  # the same value written differently
    return Value(context.role_name, kind, encoding)


def store_value(home: Home, value: Value) -> None:
    """Write (or, for an empty input, remove) one role's value; the caller holds the home lock."""
    context = home.role_context(value.role)
    path = context.settings_path() if value.kind == "settings" else context.input_path()
    encoding = value.encoding
    if encoding.empty:
        _store.remove_file(path)
    else:
        _store.write_file(path, encoding.data if encoding.data.endswith(b"\n") else encoding.data + b"\n")


# --- roles stopped for a deploy ------------------------------------------------------------------


class Stopped(msgspec.Struct, forbid_unknown_fields=True):
    version: int = STOPPED_VERSION
    roles: list[str] = []


class _StoppedDocument(msgspec.Struct, forbid_unknown_fields=True):
    value: Stopped


def _stopped_path(home: Home) -> str:
    return os.path.join(home.path, STOPPED_RECORD)


def read_stopped(home: Home) -> list[str]:
    """Roles an earlier deploy stopped and did not start again (it was killed)."""
    path = _stopped_path(home)
    data = _store.read_file(path)
    if data is None:
        return []
    try:
        record = msgspec.json.decode(data, type=_StoppedDocument).value
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise HomeError(f"{path}: {e}") from None
    if record.version > STOPPED_VERSION:
        raise HomeError(f"{path}: format {record.version} is newer than this ansar ({STOPPED_VERSION})")
    return list(record.roles)


def write_stopped(home: Home, roles: list[str]) -> None:
    """Record ``roles`` as stopped by this deploy, atomically, before stopping them."""
    data = msgspec.json.format(msgspec.json.encode(_StoppedDocument(Stopped(roles=sorted(set(roles))))), indent=4)
    _store.write_file(_stopped_path(home), data + b"\n")


def clear_stopped(home: Home) -> None:
    _store.remove_file(_stopped_path(home))
