"""Where a role's files live inside a home, and reading the records a component needs.

This is the runtime's read-only view of the home; ``ansar.home`` writes it. The layout, by kind::

    <home>/home.json            format version and folder redirects
    <home>/role/<role>.json     executable and properties (retry, storage, timeout)
    <home>/settings/<role>.json <home>/input/<role>.json
    <home>/model/<role>/        <home>/tmp/<role>/        <home>/logs/<role>/
    <home>/lock/<role>.lock     <home>/lock/<role>.pid      <home>/history/<role>.json
    <home>/resource/<executable>/
    <home>/bin/                 deployed executables

Each kind of folder may be redirected elsewhere when the home is created.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from ._records import HomeRecord, RoleRecord, read_record

__all__ = [
    "COMMAND", "FOLDER_KINDS", "HOME_VERSION", "HomeError", "HomeRecord", "REDIRECT_KINDS", "RoleContext",
    "RoleRecord", "empty_folder", "take_lock", "open_home", "open_role", "read_component", "read_record",
]

HOME_VERSION = 1
COMMAND = "(command)"  # the executable of a command role (ansar add --command=...): no file of bin
FOLDER_KINDS = ("bin", "settings", "input", "model", "resource", "tmp", "logs", "lock", "history", "role")
# Every kind but the role records may live outside the home (``ansar create --redirect-<kind>=``).
REDIRECT_KINDS = FOLDER_KINDS[:-1]


class HomeError(Exception):
    """A home, or a file in it, is missing or damaged. The text is one line naming the path."""


def __getattr__(name: str) -> Any:
    # The msgspec records load on first use: a component's start-up does without them.
    if name in ("HomeRecord", "RoleRecord", "Envelope", "read_record"):
        from . import _records

        return getattr(_records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RoleContext:
    """Paths and records of one role in one home."""

    def __init__(self, home_path: str, home: HomeRecord, role_name: str, role: Optional[RoleRecord]):
        self.home_path = home_path
        self.home = home
        self.role_name = role_name
        self.role = role

    def folder(self, kind: str) -> str:
        """The folder that holds files of ``kind`` for every role (redirects applied)."""
        return self.home.redirect.get(kind) or os.path.join(self.home_path, kind)

    def settings_path(self) -> str:
        return os.path.join(self.folder("settings"), self.role_name + ".json")

    def input_path(self) -> str:
        return os.path.join(self.folder("input"), self.role_name + ".json")

    def record_path(self) -> str:
        return os.path.join(self.folder("role"), self.role_name + ".json")

    def history_path(self) -> str:
        return os.path.join(self.folder("history"), self.role_name + ".json")

    def lock_path(self) -> str:
        return os.path.join(self.folder("lock"), self.role_name + ".lock")

    def pid_path(self) -> str:
        """The process id of the running role, written by it once it holds ``lock_path()``."""
        return os.path.join(self.folder("lock"), self.role_name + ".pid")

    def model_path(self) -> str:
        return os.path.join(self.folder("model"), self.role_name)

    def tmp_path(self) -> str:
        return os.path.join(self.folder("tmp"), self.role_name)

    def logs_path(self) -> str:
        return os.path.join(self.folder("logs"), self.role_name)

    def resource_path(self) -> Optional[str]:
        if self.role is None:
            return None
        return os.path.join(self.folder("resource"), self.role.executable)

    def bin_path(self) -> str:
        return self.folder("bin")


def open_home(home_path: str) -> RoleContext:
    """Read the home record at ``home_path``; the context has no role yet."""
    home_path = os.path.abspath(home_path)
    record = os.path.join(home_path, "home.json")
    if not os.path.isdir(home_path):
        raise HomeError(f"{home_path}: no such home")
    from ._records import HomeRecord, read_record

    home = read_record(record, HomeRecord)
    if home.version > HOME_VERSION:
        raise HomeError(f"{record}: home format {home.version} is newer than this ansar ({HOME_VERSION})")
    return RoleContext(home_path, home, "", None)


def open_role(home_path: str, role_name: str) -> RoleContext:
    """Read the home and the role record of ``role_name``, or raise HomeError."""
    context = open_home(home_path)
    context.role_name = role_name
    path = context.record_path()
    if not os.path.exists(path):
        raise HomeError(f'role "{role_name}" not found in {context.home_path}')
    from ._records import RoleRecord, read_record

    context.role = read_record(path, RoleRecord)
    return context


class _Fields:
    """A record read without msgspec: attributes as the Struct would have them."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _read_light(path: str, allowed: dict[str, type]) -> dict:
    import json

    try:
        with open(path, "rb") as f:
            document = json.loads(f.read())
    except FileNotFoundError:
        raise HomeError(f"{path}: not found") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None
    except ValueError as e:
        raise HomeError(f"{path}: malformed JSON ({e})") from None
    value = document.get("value") if isinstance(document, dict) else None
    if not isinstance(value, dict) or len(document) != 1:
        raise HomeError(f'{path}: expected a document {{"value": {{...}}}}')
    for key, member in value.items():
        t = allowed.get(key)
        if t is None:
            raise HomeError(f"{path}: object has no field {key!r}")
        if t is float and isinstance(member, int) and not isinstance(member, bool):
            continue  # a whole number of seconds
        if member is not None and not isinstance(member, t) or isinstance(member, bool) and t is not bool:
            raise HomeError(f"{path}: expected {t.__name__} - at $.value.{key}")
    return value


def read_component(home_path: str, role_name: str) -> RoleContext:
    """``open_role`` for a component's start-up: the same checks, read with the standard json.

    msgspec would cost more than the rest of a small component's start; it loads here only
    when the role has a retry property to convert.
    """
    home_path = os.path.abspath(home_path)
    if not os.path.isdir(home_path):
        raise HomeError(f"{home_path}: no such home")
    record = os.path.join(home_path, "home.json")
    home = _read_light(record, {"version": int, "redirect": dict})
    version = home.get("version", HOME_VERSION)
    if version > HOME_VERSION:
        raise HomeError(f"{record}: home format {version} is newer than this ansar ({HOME_VERSION})")
    redirect = home.get("redirect") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in redirect.items()):
        raise HomeError(f"{record}: expected str - at $.value.redirect")
    context = RoleContext(home_path, _Fields(version=version, redirect=redirect), role_name, None)  # type: ignore[arg-type]
    path = context.record_path()
    if not os.path.exists(path):
        raise HomeError(f'role "{role_name}" not found in {home_path}')
    role = _read_light(path, {"executable": str, "retry": dict, "storage": int, "timeout": float,
                              "after": list, "ready": object, "exclusive": str})  # the last three are ansar's
    if not isinstance(role.get("executable"), str):
        raise HomeError(f"{path}: object missing required field `executable`")
    retry = role.get("retry")
    if retry is not None:
        import msgspec

        from .retry import RetryIntervals

        try:
            retry = msgspec.convert(retry, RetryIntervals)
        except msgspec.ValidationError as e:
            raise HomeError(f"{path}: {e} (in retry)") from None
    context.role = _Fields(executable=role["executable"], retry=retry, storage=role.get("storage"),  # type: ignore[assignment]
                           timeout=role.get("timeout"))
    return context


def empty_folder(path: str) -> None:
    """Empty a role's tmp: it holds nothing from an earlier execution (emptied only at the role's start)."""
    try:
        entries = os.listdir(path)
    except OSError:
        return
    import shutil

    for entry in entries:
        full = os.path.join(path, entry)
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        except OSError:
            pass  # what cannot go stays; the program finds it as any file of its tmp


def take_lock(fd: int, seconds: float = 0.5) -> bool:
    """The role's flock, tried for a moment: a command probing the lock (ansar status) or closing
    a lost history record holds it for a few milliseconds, and must not make a start fail."""
    import fcntl
    import time

    deadline = time.monotonic() + seconds
    pause = 0.002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)  # another process holds it; there is no event to wait on
            pause = min(pause * 2, 0.05)
