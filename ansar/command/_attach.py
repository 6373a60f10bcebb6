"""attach: the ``fg`` of started roles.

The matching running roles are followed as if they were a run: the records they add to their log
storage come to stderr (each line starting with the role's process id, as under ``run``), the
command waits until they have all ended and prints the ``Run`` document of their values (from
their history), with ``run``'s exit status. Ctrl-C stops them (a second one hurries the stop).
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from ansar.home import HomeError, is_running, stop_roles
from ansar.home._store import home_lock

from ._args import Parsed
from ._common import home_of, print_document, search_of

__all__ = ["run_attach"]


def run_attach(parsed: Parsed) -> int:
    from ansar.home._follow import POLL, Follower
    from ansar.home._history import read_history

    home = home_of(parsed)
    search = search_of(parsed, 0)
    with home_lock(home.path):
        names = home.select(search)
        running = dict(home.running(names))
        idle = sorted(set(names) - set(running))
        if idle and not parsed.force:
            raise HomeError(f'cannot perform "attach", "{search}" not currently running - {", ".join(idle)}')
    contexts = {name: home.role_context(name) for name in sorted(running)}
    followers = {name: Follower(c.logs_path()) for name, c in contexts.items()}
    interrupts = [0]

    def interrupted(signum: int, frame: Any) -> None:
        interrupts[0] += 1

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    err = sys.stderr.buffer
    ended: list[str] = []
    stopping = False
    try:
        while len(ended) < len(contexts):
            for name, follower in followers.items():
                prefix = b"[%08d] " % running[name]
                for line in follower.lines():
                    err.write(prefix + line if line[:1].isdigit() else line)
            err.flush()
            for name, context in contexts.items():
                if name not in ended and is_running(context) is None:
                    ended.append(name)
            if interrupts[0] and not stopping:
                stopping = True
                left = [c for n, c in contexts.items() if n not in ended]
                from ansar.home._running import Hurry

                hurry = Hurry()
                signal.signal(signal.SIGINT, lambda s, f, h=hurry: h.set())  # a second Ctrl-C hurries
                stop_roles(left, hurry=hurry)
                continue
            time.sleep(POLL)  # other processes' files and locks: there is no event to wait on
        for name, follower in followers.items():  # what they wrote last
            prefix = b"[%08d] " % running[name]
            for line in follower.lines():
                err.write(prefix + line if line[:1].isdigit() else line)
        err.flush()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    values = {}
    for name in ended:
        history = read_history(contexts[name])
        values[name] = history[-1].value if history else None
    document = {"value": ["ansar.command.ansar_command.Run",
                          {"completed": [[name, values[name]] for name in ended],
                           "home": parsed.settings["home-path"]}, []]}
    import json

    print_document(json.dumps(document).encode())
    if interrupts[0]:
        return 130
    failing = ("ansar.create.lifecycle.Faulted", "ansar.create.lifecycle.Aborted", "ansar.create.lifecycle.TimedOut")
    return 1 if any(isinstance(v, list) and v and v[0] in failing for v in values.values()) else 0
