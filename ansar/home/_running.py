"""Is a role running, and stopping it.

A role's process holds ``<lock folder>/<role>.lock`` (filelock, an flock on Unix) for as long as it
runs and writes its process id into ``<role>.pid`` once it holds the lock. So a lock that can be
taken means the role is not running, whatever a left-over pid file says: a role killed with
SIGKILL loses its lock with its process.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable, Optional

from ansar.create._role import HomeError, RoleContext

__all__ = ["PID_UNKNOWN", "is_running", "stop_role"]

# Running, but its pid file is not written yet (the moment between taking the lock and writing it).
PID_UNKNOWN = 0


def _lock_is_held(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # filelock removes the file on release: nobody holds it
    except OSError as e:
        raise HomeError(f"{path}: cannot open ({e.strerror})") from None
    try:
        try:
            import fcntl
        except ImportError:  # not Unix: ask filelock itself
            return _lock_is_held_portable(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _lock_is_held_portable(path: str) -> bool:
    from filelock import FileLock, Timeout

    lock = FileLock(path, preserve_lock_file=True)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        return True
    lock.release()
    return False


def _read_pid(path: str) -> int:
    try:
        with open(path, "rb") as f:
            text = f.read(64)
        pid = int(text.strip() or b"0")
    except (OSError, ValueError):
        return PID_UNKNOWN
    return pid if pid > 0 else PID_UNKNOWN


def is_running(context: RoleContext) -> Optional[int]:
    """The pid of the role's running process, PID_UNKNOWN (0) if it runs but has not said, or None."""
    if not _lock_is_held(context.lock_path()):
        return None
    return _read_pid(context.pid_path())


def _wait(condition: Callable[[], bool], seconds: float, clock: Callable[[], float]) -> bool:
    deadline = clock() + seconds
    pause = 0.005
    while not condition():
        if clock() >= deadline:
            return False
        time.sleep(pause)  # polling a lock another process holds: there is no event to wait on
        pause = min(pause * 2, 0.05)
    return True


def stop_role(
    context: RoleContext,
    *,
    grace: float = 5.0,
    seconds: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Stop the role's process and its whole tree: SIGINT, then after ``grace`` SIGTERM, then
    SIGKILL, waiting at most ``seconds`` after each of the last two. True once the role's lock is
    free (it was not running, or it stopped)."""
    import psutil

    free = lambda: is_running(context) is None  # noqa: E731
    if not _wait(lambda: is_running(context) != PID_UNKNOWN, seconds, clock):
        return False  # a process that holds the lock and never names itself cannot be signalled
    pid = is_running(context)
    if pid is None:
        return True
    try:
        root = psutil.Process(pid)
        tree = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return _wait(free, seconds, clock)
    # Stop goes to the role alone, which stops its own children; the escalations go to the tree.
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, seconds), (signal.SIGKILL, seconds)):
        alive = [p for p in tree if p.is_running()]
        if not alive:
            break
        for p in alive if sig != signal.SIGINT else [root]:
            try:
                p.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        gone, alive = psutil.wait_procs(alive, timeout=wait)
        if not alive:
            break
    return _wait(free, seconds, clock)
