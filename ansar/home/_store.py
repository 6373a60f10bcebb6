"""The one place that changes a home on disk: atomic files, private folders, the home lock.

Every write is a temporary file in the destination's folder, fsync'd, then renamed over the
destination, so a reader sees the old file or the new one and never half of either. A change to
several files is a ``Change``: prepared under hidden names, committed with renames, undone when a
step fails. Folders are created 0700 and files 0600: a home holds settings that may be secrets.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from typing import Iterator, Optional

from ansar.create._atomic import write_atomic
from ansar.create._role import HomeError

__all__ = [
    "HOME_LOCK", "Change", "check_removable", "home_lock", "make_folder", "read_file", "remove_file",
    "remove_tree", "write_file",
]

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


def read_file(path: str) -> Optional[bytes]:
    """The contents of ``path``, or None when it is not there."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None


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


def check_removable(path: str) -> None:
    """HomeError naming the first thing under ``path`` that this process may not remove.

    Checked before anything is changed, so that a removal either happens whole or not at all.
    """
    if not os.path.lexists(path):
        return
    _check_writable(os.path.dirname(path) or ".", path)
    if os.path.islink(path) or not os.path.isdir(path):
        return
    for folder, dirs, _ in os.walk(path, onerror=_walk_error):
        _check_writable(folder, folder)
        for d in dirs:
            if os.path.islink(os.path.join(folder, d)):
                continue  # the link goes, not what it names


def _walk_error(e: OSError) -> None:
    raise HomeError(f"{e.filename}: cannot remove ({e.strerror})")


def _check_writable(folder: str, named: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HomeError(f"{named}: cannot remove (Permission denied)")


_sequence = itertools.count(1)


def _hidden(path: str, tag: str) -> str:
    """A name beside ``path`` that no reader of the home takes for a role or a record."""
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}.{tag}-{os.getpid()}-{next(_sequence)}")


class Change:
    """Several files and folders changed all or nothing.

    ``write``, ``make_folder`` and ``remove`` prepare a step at once (new content is written under
    a hidden name beside its destination; a removal is checked) and raise HomeError if it cannot
    be done. ``commit`` then makes the steps in the order given, each a rename: what was at a
    destination is moved aside, the new thing renamed in. If a rename fails every step made so far
    is put back. Only once all are made is what was moved aside deleted. Used as a ``with`` block,
    a change is committed when the block ends normally and abandoned when it raises.
    """

    def __init__(self) -> None:
        self._steps: list[tuple[str, Optional[str]]] = []  # (destination, staged new thing or None)
        self._aside: list[str] = []

    def write(self, path: str, data: bytes) -> None:
        """``path`` will hold ``data``."""
        staged = _hidden(path, "new")
        write_file(staged, data)
        self._steps.append((path, staged))

    def make_folder(self, path: str) -> None:
        """``path`` will be a new, empty, private folder (replacing whatever was there)."""
        staged = _hidden(path, "new")
        try:
            os.mkdir(staged, 0o700)
        except OSError as e:
            raise HomeError(f"{path}: cannot create folder ({e.strerror})") from None
        self._steps.append((path, staged))
        if os.path.lexists(path):
            check_removable(path)

    def remove(self, path: str) -> None:
        """``path`` (a file, a link or a whole folder) will be gone, if it is there."""
        check_removable(path)
        self._steps.append((path, None))

    def commit(self, *, finish: bool = True) -> None:
        """Make every step, or none (HomeError). ``finish=False`` keeps what was moved aside until
        ``finish()`` (a caller that must first let go of something inside it)."""
        done: list[list] = []  # [destination, new thing renamed in or None, what was moved aside or None]
        try:
            for path, staged in self._steps:
                step: list = [path, None, None]
                done.append(step)
                if os.path.lexists(path):
                    step[2] = _hidden(path, "old")
                    _set_aside(path, step[2], replaced=staged is not None)
                if staged is not None:
                    _rename(staged, path)
                    step[1] = staged
        except HomeError:
            self._undo(done)
            raise
        self._steps = []
        self._aside = [aside for _, _, aside in done if aside is not None]
        if finish:
            self.finish()

    def finish(self) -> None:
        """Delete what the committed steps moved aside."""
        for aside in self._aside:
            try:
                remove_tree(aside)
            except HomeError:
                pass  # checked removable before; a hidden leftover is all that can remain
        self._aside = []

    def abandon(self) -> None:
        """Drop every prepared step; nothing was changed."""
        for _, staged in self._steps:
            if staged is not None:
                _quiet_remove(staged)
        self._steps = []

    def _undo(self, done: list[list]) -> None:
        for path, staged, aside in reversed(done):
            if staged is not None:
                try:
                    os.rename(path, staged)  # back to its hidden name; abandon removes it
                except OSError:
                    pass
            if aside is not None:
                try:
                    if _same(aside, path):
                        os.unlink(aside)  # a link to what is still there (a rename would keep both)
                    else:
                        os.rename(aside, path)
                except OSError:
                    pass
        self.abandon()

    def __enter__(self) -> Change:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abandon()


def _set_aside(path: str, aside: str, *, replaced: bool) -> None:
    """Keep what is at ``path`` under the name ``aside``. A file about to be replaced is linked
    there, so that readers never find ``path`` missing (a rename of the new file replaces it)."""
    if replaced and (os.path.islink(path) or not os.path.isdir(path)):
        try:
            os.link(path, aside, follow_symlinks=False)
            return
        except OSError:
            pass  # no hard links here: moved instead
    _rename(path, aside)


def _same(a: str, b: str) -> bool:
    try:
        x, y = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino)


def _rename(source: str, destination: str) -> None:
    try:
        os.rename(source, destination)
    except OSError as e:
        raise HomeError(f"{e.filename or source}: cannot move ({e.strerror})") from None


def _quiet_remove(path: str) -> None:
    try:
        remove_tree(path)
    except HomeError:
        pass


_held: dict[tuple[str, int], int] = {}  # (lock path, thread) -> depth: a thread may nest its lock


@contextlib.contextmanager
def home_lock(home_path: str, *, seconds: float = LOCK_SECONDS) -> Iterator[None]:
    """Hold the home's own lock: every change to a home is made inside one of these.

    A thread that holds it already nests freely; another thread or process waits up to
    ``seconds``, then HomeError.
    """
    path = os.path.join(home_path, HOME_LOCK)
    key = (os.path.abspath(path), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    from filelock import FileLock, Timeout  # not needed by commands that only read

    lock = FileLock(path, timeout=seconds, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise HomeError(f"{path}: another ansar command has held this home for {seconds:g}s") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot lock ({e.strerror})") from None
    _held[key] = 0
    try:
        yield
    finally:
        del _held[key]
        lock.release()
