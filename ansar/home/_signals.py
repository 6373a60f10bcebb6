"""Signals for the running roles of a home: pause and resume their trees, or send one signal.

Every process of a role's tree is found once (``ansar.create._tree``), as for a stop: the role,
its descendants, its session and whatever carries its lineage marker.
"""

from __future__ import annotations

import signal
from typing import Iterable

from ansar.create._role import RoleContext
from ansar.create._tree import Member, scan, tree_of

from ._running import is_running, lineage_marker

__all__ = ["is_paused", "parse_signal", "signal_roles"]


def parse_signal(text: str) -> int:
    """A signal by name (HUP or SIGHUP, any case) or number; ValueError names the choices."""
    word = text.strip().upper()
    if word.isdigit():
        number = int(word)
        if number in {s.value for s in signal.Signals}:
            return number
    else:
        name = word if word.startswith("SIG") else "SIG" + word
        if name in signal.Signals.__members__ and not name.startswith("SIG_"):
            return int(signal.Signals[name])
    raise ValueError(f'"{text}" is not a signal (a name such as HUP or SIGUSR1, or a number)')


def is_paused(pid: int) -> bool:
    """The process is stopped (SIGSTOP, or Ctrl-Z of a run)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    fields = data[data.rfind(b")") + 2:].split()
    return bool(fields) and fields[0] in (b"T", b"t")


_PAUSES = (signal.SIGSTOP, signal.SIGTSTP)
_ROUNDS = 20  # looks again for members a pause missed: each round can find only forks in flight


def signal_roles(contexts: Iterable[RoleContext], signum: int, *, tree: bool = True,
                 unheld: bool = False) -> list[str]:
    """Send ``signum`` to each running role (its whole tree with ``tree``); the roles it reached.

    A pause (SIGSTOP) looks again until no process of the trees is left unpaused: a member caught
    forking made a child the first look did not see. With ``unheld``, a role whose process has
    not taken its lock yet is reached too, through its lineage marker (a run's roles starting).
    """
    contexts = list(contexts)
    reached: list[str] = []
    sent: dict[int, int] = {}  # pid to start ticks, of every process signalled
    for _ in range(_ROUNDS if tree and signum in _PAUSES else 1):
        table = scan()
        fresh = 0
        for context in contexts:
            pid = is_running(context)
            if not pid and not unheld:
                continue
            if not tree:
                members = {pid: table[pid][3]} if pid in table else {}
            else:
                members = tree_of([pid] if pid else [], [lineage_marker(context)], table)
            if not members:
                continue
            if context.role_name not in reached:
                reached.append(context.role_name)
            for p, ticks in members.items():
                if sent.get(p) == ticks:
                    continue
                sent[p] = ticks
                member = Member(p, ticks)
                try:
                    member.signal(signum)
                finally:
                    member.close()
                fresh += 1
        if not fresh:
            break
    return reached
