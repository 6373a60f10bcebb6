"""Where a role's files live inside a home, and reading the records a component needs.

This is the runtime's read-only view of the home; ``ansar.home`` writes it. The layout, by kind::

    <home>/home.json            format version and folder redirects
    <home>/role/<role>.json     executable and properties (retry, storage)
    <home>/settings/<role>.json <home>/input/<role>.json
    <home>/model/<role>/        <home>/tmp/<role>/        <home>/logs/<role>/
    <home>/lock/<role>.lock     <home>/lock/<role>.pid      <home>/history/<role>.json
    <home>/resource/<executable>/
    <home>/bin/                 deployed executables

Each kind of folder may be redirected elsewhere when the home is created.
"""

from __future__ import annotations

import os
from typing import Generic, Optional, TypeVar

import msgspec

from .retry import RetryIntervals

__all__ = [
    "FOLDER_KINDS", "HOME_VERSION", "HomeError", "HomeRecord", "REDIRECT_KINDS", "RoleContext",
    "RoleRecord", "open_home", "open_role", "read_record",
]

HOME_VERSION = 1
FOLDER_KINDS = ("bin", "settings", "input", "model", "resource", "tmp", "logs", "lock", "history", "role")
# Every kind but the role records may live outside the home (``ansar create --redirect-<kind>=``).
REDIRECT_KINDS = FOLDER_KINDS[:-1]

T = TypeVar("T")


class HomeError(Exception):
    """A home, or a file in it, is missing or damaged. The text is one line naming the path."""


class Envelope(msgspec.Struct, Generic[T], forbid_unknown_fields=True):
    value: T


class HomeRecord(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The home itself: its format version and the folders moved elsewhere."""

    version: int = HOME_VERSION
    redirect: dict[str, str] = {}


class RoleRecord(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One role: the executable it runs and its properties."""

    executable: str
    retry: Optional[RetryIntervals] = None
    storage: Optional[int] = None  # cap on the role's log storage, in bytes


def read_record(path: str, kind: type[T]) -> T:
    """Decode the ``{"value": ...}`` file at ``path`` as ``kind``, or raise HomeError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise HomeError(f"{path}: not found") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None
    try:
        return _decoder(kind).decode(data).value
    except msgspec.DecodeError as e:
        raise HomeError(f"{path}: {e}") from None


_decoders: dict = {}


def _decoder(kind: type) -> msgspec.json.Decoder:
    """One decoder per record type, built on first use."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(Envelope[kind])  # type: ignore[valid-type]
    return decoder


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
    context.role = read_record(path, RoleRecord)
    return context
