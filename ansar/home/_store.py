"""The one place that changes a home on disk: atomic files, private folders, the home lock.

Every write is a temporary file in the destination's folder, fsync'd, then renamed over the
destination, so a reader sees the old file or the new one and never half of either. Folders are
created 0700 and files 0600: a home holds settings that may be secrets.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from ansar.create._atomic import write_atomic
from ansar.create._role import HomeError

__all__ = ["HOME_LOCK", "home_lock", "make_folder", "remove_file", "remove_tree", "write_file"]

HOME_LOCK = ".home.lock"
LOCK_SECONDS = 30.0


def make_folder(path: str) -> None:
    """Create ``path`` (and its parents) as private folders; an existing folder is left as it is."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:
        raise HomeError(f"{path}: exists and is not a folder") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot create folder ({e.strerror})") from None


def write_file(path: str, data: bytes) -> None:
    """Replace the contents of ``path`` with ``data``, atomically (the runtime's one writer, mode 0600)."""
    try:
        write_atomic(path, data, 0o600)
    except OSError as e:
        raise HomeError(f"{path}: cannot write ({e.strerror})") from None


def remove_file(path: str) -> None:
    """Remove ``path`` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise HomeError(f"{path}: cannot remove ({e.strerror})") from None


def remove_tree(path: str) -> None:
    """Remove the folder ``path`` and everything in it, if it is there."""
    if os.path.islink(path) or os.path.isfile(path):
        remove_file(path)
        return
    if not os.path.isdir(path):
        return
    import shutil

    try:
        shutil.rmtree(path)
    except OSError as e:
        raise HomeError(f"{e.filename or path}: cannot remove ({e.strerror})") from None


@contextlib.contextmanager
def home_lock(home_path: str, *, seconds: float = LOCK_SECONDS) -> Iterator[None]:
    """Hold the home's own lock: every change to a home is made inside one of these."""
    from filelock import FileLock, Timeout  # not needed by commands that only read

    path = os.path.join(home_path, HOME_LOCK)
    lock = FileLock(path, timeout=seconds, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise HomeError(f"{path}: another ansar command has held this home for {seconds:g}s") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot lock ({e.strerror})") from None
    try:
        yield
    finally:
        lock.release()
