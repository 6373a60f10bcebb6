"""The records of a home, as msgspec Structs: what ``ansar.home`` writes and validates.

Loaded only where needed; a component at start-up reads them with ``_role.read_component``.
"""

from __future__ import annotations

from typing import Generic, Optional, TypeVar, Union

import msgspec

from ._role import HOME_VERSION, HomeError
from .retry import RetryIntervals

__all__ = ["Envelope", "HomeRecord", "ReadyCheck", "RoleRecord", "read_record"]

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T], forbid_unknown_fields=True):
    value: T


class HomeRecord(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The home itself: its format version and the folders moved elsewhere."""

    version: int = HOME_VERSION
    redirect: dict[str, str] = {}


class ReadyCheck(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Property ``ready`` in full: how long to wait, and what says ready instead of ``ar.ready``:
    a TCP connect to ``port`` on 127.0.0.1 succeeds, or a record of the role holds ``text``."""

    seconds: float
    port: Optional[int] = None
    text: Optional[str] = None


class RoleRecord(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One role: the executable it runs (``(command)`` for a command role) and its properties."""

    executable: str
    retry: Optional[RetryIntervals] = None
    storage: Optional[int] = None  # cap on the role's log storage, in bytes
    timeout: Optional[float] = None  # seconds an execution may run before it is stopped, TimedOut
    after: Optional[list[str]] = None  # searches: roles that must be up before this one starts
    ready: Union[float, ReadyCheck, None] = None  # seconds to wait for ar.ready, or a ReadyCheck
    exclusive: Optional[str] = None  # roles sharing this name never run at once


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
