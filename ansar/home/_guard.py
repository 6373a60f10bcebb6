"""The guard of ``ansar run``: nothing of a killed run's roles outlives it.

A role's own process dies with the run (PR_SET_PDEATHSIG), and so do the children it made with
``ar.Process``; a daemon one of them double-forked does not, as nothing ties it to the run but
the lineage marker in its environment. So before the run starts its first role it starts a guard,
a bare interpreter reading a pipe only the run can write: the run sends it the lineage of each
role it starts, and a final ``.`` when it ends as it should. An end of the pipe without that
``.`` means the run was killed: the guard kills every process carrying one of those lineages, a
few rounds until none is left, and ends. A guard costs one small interpreter per run, started
without site packages, and no work while the run lives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Optional

__all__ = ["dismiss", "watch"]

# The guard's whole program: the standard library only, no site packages (started with -S -E).
_PROGRAM = r"""
import os, signal, sys, time
fd = int(sys.argv[1])
markers, left, done = set(), b"", False
while True:
    try:
        data = os.read(fd, 65536)
    except InterruptedError:
        continue
    if not data:
        break
    *lines, left = (left + data).split(b"\n")
    for line in lines:
        if line == b".":
            done = True
        elif line:
            markers.add(b"ANSAR_LINEAGE=" + line)
if done or not markers:
    sys.exit(0)
me = os.getpid()
for _ in range(40):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/" + entry + "/environ", "rb") as f:
                if not markers.isdisjoint(f.read().split(b"\0")):
                    found.append(int(entry))
        except OSError:
            pass
    if not found:
        break
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.025)  # a fork in flight when the sweep looked: look again
"""

_guard: Optional[subprocess.Popen] = None
_pipe: Optional[int] = None


def _begin() -> Optional[int]:
    global _guard, _pipe
    if _pipe is not None or not sys.platform.startswith("linux"):
        return _pipe
    reading, writing = os.pipe()  # both close on exec: no role inherits the write end
    try:
        _guard = subprocess.Popen([sys.executable, "-S", "-E", "-c", _PROGRAM, str(reading)], pass_fds=(reading,),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env={},
                                  start_new_session=True)  # the terminal's Ctrl-C is not for it
    except OSError:
        os.close(writing)
        return None  # no guard: the roles still die with the run, their daemons may not
    finally:
        os.close(reading)
    _pipe = writing
    return _pipe


def watch(lock_path: str) -> None:
    """Before a role of the run starts: its lineage (its lock's path) goes to the guard."""
    fd = _begin()
    if fd is None:
        return
    try:
        os.write(fd, os.fsencode(lock_path) + b"\n")
    except OSError:
        pass


def dismiss() -> None:
    """The run ends as it should: the guard leaves everything alone and is waited for."""
    global _guard, _pipe
    if _pipe is None:
        return
    try:
        os.write(_pipe, b".\n")
    except OSError:
        pass
    os.close(_pipe)
    _pipe = None
    if _guard is not None:
        try:
            _guard.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            _guard.kill()
            _guard.wait()
        _guard = None
