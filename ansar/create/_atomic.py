"""Writing a file so that readers see the old content or the new, never a torn one.

The one place the package replaces files: the runtime's storage and the home both use it.
"""

from __future__ import annotations

import itertools
import os

__all__ = ["write_atomic"]

_sequence = itertools.count(1)  # next() on a count is atomic under the GIL


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to a new temp file beside ``path``, fsync it, rename it over ``path``, fsync the folder.

    The temp file is created exclusively and without following symlinks, so nothing planted at
    its name is written through.
    """
    folder = os.path.dirname(path) or "."
    temp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{next(_sequence)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
