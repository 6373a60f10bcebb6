"""pause, resume, signal: signals for the roles running in the background.

``pause`` stops every process of each matched role's tree (SIGSTOP) and ``resume`` continues
them (SIGCONT); ``status -l`` shows a paused role as ``(paused)`` and ``stop`` continues a paused
role before it stops it. ``signal`` sends one signal to each role's process, or with ``--tree``
to every process of its tree. Matched roles that are not running follow the mismatch rule.
"""

from __future__ import annotations

import signal

from ansar.home import HomeError
from ansar.home._signals import parse_signal, signal_roles
from ansar.home._store import home_lock

from ._args import Parsed, Usage
from ._common import home_of, search_of

__all__ = ["run_pause", "run_resume", "run_signal"]


def _send(parsed: Parsed, action: str, signum: int, tree: bool) -> int:
    home = home_of(parsed)
    search = search_of(parsed, 0)
    with home_lock(home.path):
        names = home.select(search, empty_ok=search.pattern is None)
        running = [name for name, _ in home.running(names)]
        idle = sorted(set(names) - set(running))
        if idle and not parsed.force:
            raise HomeError(f'cannot perform "{action}", "{search}" not currently running - {", ".join(idle)}')
        signal_roles([home.role_context(name) for name in running], signum, tree=tree)
    return 0


def run_pause(parsed: Parsed) -> int:
    return _send(parsed, "pause", signal.SIGSTOP, True)


def run_resume(parsed: Parsed) -> int:
    return _send(parsed, "resume", signal.SIGCONT, True)


def run_signal(parsed: Parsed) -> int:
    given = parsed.settings["signal"]
    if given is None:
        raise Usage("signal: needs --signal=<name or number> (HUP, SIGUSR1, 10, ...)")
    try:
        signum = parse_signal(given)
    except ValueError as e:
        raise Usage(f"signal: {e}") from None
    return _send(parsed, "signal", signum, parsed.settings["tree"])
