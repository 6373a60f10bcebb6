"""Is a role running, since when, and stopping roles.

A role's process holds ``<lock folder>/<role>.lock`` (an flock, the lock filelock takes) for as
long as it runs and writes ``<pid> <start ticks>`` into ``<role>.pid`` once it holds the lock. So
a lock that can be taken means the role is not running, whatever a left-over pid file says (a
role killed with SIGKILL loses its lock with its process), and a pid file whose start time is not
the one of the process now holding that pid names an earlier process: the pid was reused.
Probing only tries the lock and reads; it never writes a role's files.
"""

from __future__ import annotations

import os
import time
from typing import Iterable, Optional

from ansar.create._role import HomeError, RoleContext
from ansar.create._tree import GRACE, Hurry, parent_of, start_ticks, stop_tree

__all__ = ["PID_UNKNOWN", "is_running", "lineage_marker", "running_since", "stop_role", "stop_roles"]

# Running, but its pid file is not written yet (the moment between taking the lock and writing it).
PID_UNKNOWN = 0


def _lock_is_held(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # filelock removes the file on release: nobody holds it
    except OSError as e:
        raise HomeError(f"{path}: cannot open ({e.strerror})") from None
    try:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _read_pid(path: str) -> tuple[int, int]:
    """The pid and start ticks of a pid file (ticks 0 when the file gives none)."""
    try:
        with open(path, "rb") as f:
            words = f.read(64).split()
        pid = int(words[0]) if words else 0
        ticks = int(words[1]) if len(words) > 1 else 0
    except (OSError, ValueError):
        return PID_UNKNOWN, 0
    return (pid, ticks) if pid > 0 else (PID_UNKNOWN, 0)


def _has_open(pid: int, lock: os.stat_result) -> Optional[bool]:
    """Whether ``pid`` has the lock file open; None when its descriptors cannot be read."""
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except PermissionError:
        return None  # another user's process: we cannot tell
    except OSError:
        return False  # gone
    for name in names:
        try:
            st = os.stat(f"{folder}/{name}")
        except OSError:
            continue
        if st.st_ino == lock.st_ino and st.st_dev == lock.st_dev:
            return True
    return False


def holds_lock(pid: int, lock_path: str) -> bool:
    """Whether ``pid`` (or its parent: a shell running a command role's first child) has the role's
    lock file open: a lock record naming any other live process is not the role's."""
    try:
        lock = os.stat(lock_path)
    except OSError:
        return False
    for candidate in (pid, parent_of(pid)):
        if candidate <= 1:
            continue
        held = _has_open(candidate, lock)
        if held is None:
            return True  # cannot look: trust the record (its start ticks were checked)
        if held:
            return True
    return False


def _named_pid(context: RoleContext) -> int:
    pid, ticks = _read_pid(context.pid_path())
    if not pid:
        return PID_UNKNOWN
    if ticks and start_ticks(pid) != ticks:
        return PID_UNKNOWN  # the file names an earlier process; the holder has not written yet
    if not holds_lock(pid, context.lock_path()):
        return PID_UNKNOWN  # a live process, but not the one holding the lock
    return pid


def is_running(context: RoleContext) -> Optional[int]:
    """The pid of the role's running process, PID_UNKNOWN (0) if it runs but has not said, or None."""
    if not _lock_is_held(context.lock_path()):
        return None
    return _named_pid(context)


def _boot_time() -> float:
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return 0.0


def running_since(context: RoleContext) -> Optional[tuple[int, float]]:
    """``(pid, start time as seconds since the epoch)`` of the running role, or None."""
    pid = is_running(context)
    if not pid:
        return None
    ticks = start_ticks(pid)
    if not ticks:
        return None  # ended just now
    return pid, _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def lineage_marker(context: RoleContext) -> bytes:
    """The environment entry every process of a role's tree inherits (``ANSAR_LINEAGE``): it finds
    descendants that left the tree by double forking."""
    return f"ANSAR_LINEAGE={context.lock_path()}".encode()


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    pause = 0.005
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)  # a lock another process holds: there is no event to wait on
        pause = min(pause * 2, 0.05)
    return True


def stop_roles(
    contexts: Iterable[RoleContext],
    *,
    grace: tuple[float, float, float] = GRACE,
    hurry: Optional[Hurry] = None,
) -> tuple[list[str], list[int]]:
    """Stop the running roles among ``contexts``, all at once, each with its whole tree: SIGINT to
    each role, then SIGTERM and SIGKILL to whatever of the trees is left, each wait bounded.

    Returns the roles still running after it all (sorted) and every pid that survived SIGKILL.
    """
    running: dict[str, tuple[RoleContext, int]] = {}
    for context in contexts:
        pid = is_running(context)
        if pid == PID_UNKNOWN:  # holding the lock, about to write its pid: give it a moment
            _wait(lambda c=context: is_running(c) != PID_UNKNOWN, grace[2])  # type: ignore[misc]
            pid = is_running(context)
        if pid is not None:
            running[context.role_name] = (context, pid)
    if not running:
        return [], []
    from ._command import is_command

    for context, _ in running.values():
        _read_record(context)
    commands = [(c, pid) for c, pid in running.values() if pid and is_command(c.role)]
    roots = [pid for c, pid in running.values() if pid and not is_command(c.role)]
    abrupt = _command_groups(commands)
    markers = [lineage_marker(c) for c, _ in running.values()]
    survivors = stop_tree(roots, grace=grace, hurry=hurry, markers=markers, abrupt=abrupt) if roots or abrupt else []
    left = [name for name, (context, _) in sorted(running.items())
            if not _wait(lambda c=context: is_running(c) is None, 1.0)]  # type: ignore[misc]
    from ._history import close_stopped

    for name, (context, _) in running.items():
        if name not in left:
            close_stopped(context)  # a role that had to be killed: Aborted, as stopped by ansar
    return left, survivors


def _read_record(context: RoleContext) -> None:
    """The role record of a context made without it (is it a command role?)."""
    if context.role is None:
        from ansar.create._records import RoleRecord, read_record

        try:
            context.role = read_record(context.record_path(), RoleRecord)
        except HomeError:
            pass  # stopped as a component: SIGINT first, then the escalation


def _command_groups(commands: list[tuple[RoleContext, int]]) -> list[int]:
    """Every process of each command role's process group: a command's stop is SIGTERM to its
    group, then SIGKILL. Each role is marked as stopped by ansar first (its value is Aborted)."""
    if not commands:
        return []
    from ansar.create._tree import scan

    from ._command import stop_marker

    groups = set()
    for context, pid in commands:
        try:
            with open(stop_marker(context), "x", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW, 0o600)):
                pass
        except FileExistsError:
            pass
        except OSError:
            pass  # the stop goes on; the value will say how the command ended
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    return [pid for pid, (_, group, _, _) in scan().items() if group in groups]


def stop_role(context: RoleContext, *, grace: float = GRACE[0], seconds: float = GRACE[1]) -> bool:
    """Stop one role and its tree (see ``stop_roles``); True once its lock is free."""
    left, _ = stop_roles([context], grace=(grace, seconds, seconds))
    return not left
