"""Stop a process tree: the one escalation behind ``ar.Process``, program exit and ``ansar stop``.

The members are found once, before the first signal, from one reading of ``/proc``: the roots,
their descendants, whatever shares a root's session or process group (children that left the
parent chain), and optionally every process whose environment carries one of some markers
(daemons that double-forked away). Each member is held by a pidfd where the system has them, so a pid reused
by an unrelated process is never signalled. The roots get SIGINT (a Stop, which they pass down
to their own children) and ``grace[0]`` to end; whatever is left of the trees then gets SIGTERM,
then SIGKILL, each wait bounded. The waits are on the pidfds (``poll``), never a sleep loop, and a ``Hurry`` cuts them
short (a second Ctrl-C).
"""

from __future__ import annotations

import os
import select
import signal
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional

__all__ = ["GRACE", "Hurry", "Member", "parent_of", "scan", "start_ticks", "stop_tree", "tree_of"]

GRACE = (5.0, 2.0, 2.0)  # seconds after SIGINT, after SIGTERM, after SIGKILL


def start_ticks(pid: int) -> int:
    """The start time of process ``pid`` in clock ticks since boot (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return 0


def parent_of(pid: int) -> int:
    """The parent pid of process ``pid`` (-1 if it is gone or cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rfind(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def scan() -> dict[int, tuple[int, int, int, int]]:
    """Every process now: pid to (parent pid, process group, session, start ticks)."""
    table: dict[int, tuple[int, int, int, int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue  # gone meanwhile
        fields = data[data.rfind(b")") + 2:].split()
        try:
            if fields[0] == b"Z":
                continue  # already dead, only waiting to be reaped
            table[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]))
        except (IndexError, ValueError):
            continue
    return table


def _has_marker(pid: int, markers: frozenset[bytes]) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return not markers.isdisjoint(f.read().split(b"\0"))
    except OSError:
        return False


def tree_of(roots: Iterable[int], markers: Iterable[bytes] = (),
            table: Optional[dict[int, tuple[int, int, int, int]]] = None) -> dict[int, int]:
    """The members of the trees of ``roots``: pid to start ticks. Never this process or its
    ancestors."""
    table = scan() if table is None else table
    roots = list(roots)  # a root already gone still leads the group its children are in
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    leaders = set(roots)
    found: set[int] = set()
    for pid, (_, pgid, sid, _) in table.items():
        if pgid in leaders or sid in leaders:
            found.add(pid)
    wanted = frozenset(markers)
    if wanted:
        found.update(pid for pid in table if _has_marker(pid, wanted))
    found.update(r for r in roots if r in table)
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    mine = os.getpid()
    while mine in table:  # never ourselves or an ancestor, whatever session we share
        found.discard(mine)
        parent = table[mine][0]
        if parent == mine:
            break
        mine = parent
    return {pid: table[pid][3] for pid in found}


class Hurry:
    """Set from any thread (or a signal handler) to cut the remaining grace periods short."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self.is_set = False

    def set(self) -> None:
        self.is_set = True
        try:
            os.write(self._write, b"!")
        except OSError:
            pass  # the pipe is full: it is readable already

    def fileno(self) -> int:
        return self._read

    def close(self) -> None:
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass


class Member:
    """One process of a tree, held by a pidfd where the system has them."""

    __slots__ = ("pid", "fd")

    def __init__(self, pid: int, ticks: int) -> None:
        self.pid = pid
        self.fd = -1
        opener = getattr(os, "pidfd_open", None)
        if opener is not None:
            try:
                self.fd = opener(pid)
            except OSError:
                self.fd = -1
            if self.fd >= 0 and start_ticks(pid) != ticks:  # the pid was reused before we held it
                self.close()
                self.pid = 0

    def signal(self, signum: int) -> None:
        try:
            if self.fd >= 0:
                signal.pidfd_send_signal(self.fd, signum)
            elif self.pid:
                os.kill(self.pid, signum)
        except OSError:
            pass  # ended meanwhile

    def alive(self) -> bool:
        """Looked at without a pidfd: still there (and not a zombie)."""
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return start_ticks(self.pid) != 0

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _still_alive(members: list[Member], seconds: float, hurry: Optional[Hurry]) -> list[Member]:
    """One look, waiting at most ``seconds`` for something to end: the members still alive."""
    poller = select.poll()
    held = {m.fd: m for m in members if m.fd >= 0}
    for fd in held:
        poller.register(fd, select.POLLIN)
    if hurry is not None:
        poller.register(hurry.fileno(), select.POLLIN)
    if len(held) < len(members):
        seconds = min(seconds, 0.02)  # members without a pidfd are looked at every 20 ms
    ended = {fd for fd, _ in poller.poll(max(0.0, seconds) * 1000)}
    return [m for m in members if (m.fd not in ended if m.fd >= 0 else m.alive())]


def _wait(members: list[Member], seconds: float, hurry: Optional[Hurry]) -> list[Member]:
    """Wait up to ``seconds`` for every member to end; the ones still alive."""
    deadline = time.monotonic() + seconds
    alive = _still_alive([m for m in members if m.pid], 0.0, None)
    while alive:
        left = deadline - time.monotonic()
        if left <= 0 or (hurry is not None and hurry.is_set):
            break
        alive = _still_alive(alive, left, hurry)
    return alive


def stop_tree(
    roots: Iterable[int],
    *,
    first: int = signal.SIGINT,
    grace: tuple[float, float, float] = GRACE,
    markers: Iterable[bytes] = (),
    hurry: Optional[Hurry] = None,
    abrupt: Iterable[int] = (),
    find_first: bool = True,
) -> list[int]:
    """Stop ``roots`` and everything of their trees; returns the pids that survived it all.

    ``first`` goes to the roots only (SIGINT: a Stop the roots pass down), who have ``grace[0]``
    to end; then SIGTERM and, ``grace[1]`` later, SIGKILL go to every member still alive, found
    before the first signal and looked for again before each escalation (children born
    meanwhile). Roots in ``abrupt`` get SIGTERM first instead (programs not ready for a Stop).

    Without ``find_first`` the trees are looked for only if a root outlives its grace: for
    nested stops (ar.Process inside ar.Process), where every level reading all of /proc at once
    costs more than the stop itself, and where children die with their parents anyway.
    """
    abrupt = set(abrupt)
    markers = list(markers)
    roots = list(roots) + sorted(abrupt - set(roots))
    table = scan()
    found = tree_of(roots, markers, table) if find_first else {r: table[r][3] for r in roots if r in table}
    members = {pid: Member(pid, ticks) for pid, ticks in found.items()}
    try:
        for m in members.values():
            m.signal(signal.SIGCONT)  # a paused tree (ansar pause, Ctrl-Z) must run to handle its Stop
        firsts = [m for m in members.values() if m.pid in roots]
        for m in firsts:
            m.signal(signal.SIGTERM if m.pid in abrupt else first)
        # The roots stop their own children: wait for the roots, then end whatever they left.
        _wait(firsts, grace[0], hurry)
        alive = _still_alive([m for m in members.values() if m.pid], 0.0, None)
        for signum, wait in ((signal.SIGTERM, grace[1]), (signal.SIGKILL, grace[2])):
            if not alive:
                break
            for pid, ticks in tree_of([m.pid for m in alive], markers).items():
                if pid not in members:
                    members[pid] = Member(pid, ticks)
                    alive.append(members[pid])
            for m in alive:
                m.signal(signal.SIGCONT)
                m.signal(signum)
            alive = _wait(alive, wait, hurry if signum != signal.SIGKILL else None)
        return sorted(m.pid for m in alive)
    finally:
        for m in members.values():
            m.close()
