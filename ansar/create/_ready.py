"""``ar.ready(self)``: a role tells ansar it is ready for its dependents (property ``ready``).

Ready is a file beside the role's lock, ``<lock folder>/<role>.ready``, named to the role's process
by ``ANSAR_READY``. The role's process removes it when it takes its lock, so an earlier execution's
file never counts; ``ar.ready`` creates it. A program run as a tool (no role) has nothing to tell.
"""

from __future__ import annotations

import os
from typing import Any, Optional

__all__ = ["clear_ready", "ready", "ready_file"]

READY_VARIABLE = "ANSAR_READY"


def ready_file(lock_path: str) -> str:
    """The ready file of the role whose lock is ``lock_path``."""
    base = lock_path[: -len(".lock")] if lock_path.endswith(".lock") else lock_path
    return base + ".ready"


def clear_ready(lock_path: str) -> str:
    """Remove an earlier execution's ready file and name this one's to the process (and its
    children, which inherit ``ANSAR_READY``); returns the path."""
    path = ready_file(lock_path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.environ[READY_VARIABLE] = path
    return path


def ready(obj: Optional[Any] = None) -> bool:
    """Say the role is ready (``ar.ready(self)``); ``obj`` logs it. False when not run as a role
    or the file cannot be made."""
    path = os.environ.get(READY_VARIABLE)
    if not path:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if obj is not None:
            obj.warning(f"cannot say ready ({path}: {e.strerror})")
        return False
    os.close(fd)
    if obj is not None:
        obj.console("Ready")
    return True
