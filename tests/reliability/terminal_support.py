"""The pseudo-terminal the terminal, signal and job-control tests run ``ansar`` in, and what
they share: a stubborn role, a run's document, the check that nothing of a role is left.

No tests live here.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import subprocess
import termios

from reliability_support import DEADLINE, FIGURES, Cli, kill_all, lineage_pids, read_until, wait_for

__all__ = ["ABORTED", "GRACE", "STUBBORN", "Hung", "Terminal", "completed", "nothing_of"]

ABORTED = ["ansar.create.lifecycle.Aborted", {}, []]
GRACE = 5.0 + 2.0 + 2.0  # a stop's grace periods: after SIGINT, SIGTERM, SIGKILL


STUBBORN = '''
def stubborn(self):
    """Ignore SIGINT and SIGTERM (as a program stuck in C code would): only SIGKILL ends it."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    for s in (signal.SIGINT, signal.SIGTERM):
        libc.signal(s, 1)  # SIG_IGN for the whole process
    self.console('Ignoring SIGINT and SIGTERM')
    self.select(ar.Stop)
    return ar.Aborted()
'''


class Hung(AssertionError):
    """The command did not end after the fault."""


class Terminal:
    """A command in a session of its own whose controlling terminal is a pseudo-terminal."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            cli.argv(*args), cwd=cli.cwd, env=cli.env, stdin=follower, stdout=subprocess.PIPE, stderr=follower,
            start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(follower)
        self.seen = b""
        self.closed = False
        self.home = cli.home

    def wait_for(self, text: bytes, seconds: float = DEADLINE) -> None:
        self.seen = read_until(self.leader, text, seconds, self.seen)

    def ctrl_c(self) -> None:
        """What the terminal does on Ctrl-C: SIGINT to its foreground process group."""
        os.killpg(os.tcgetpgrp(self.leader), signal.SIGINT)
        FIGURES.fault()

    def hang_up(self) -> None:
        """Close the terminal: the kernel sends SIGHUP to the session's controlling process."""
        os.close(self.leader)
        self.closed = True
        FIGURES.fault()

    def finish(self, seconds: float = DEADLINE) -> tuple[int, str, str]:
        """The command's exit status, stdout and what the terminal showed. A command still
        running after ``seconds`` is killed (its roles with it), counted and reported."""
        try:
            out, _ = self.process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            left = [self.process.pid] + lineage_pids(self.home)
            FIGURES.add("orphan processes", len(left))
            kill_all(left)
            self.process.communicate()
            if not self.closed:
                os.close(self.leader)
                self.closed = True
            raise Hung(f"still running {seconds:g}s after the fault") from None
        if not self.closed:
            try:
                while True:  # what is left on the terminal, without blocking
                    import select

                    ready, _, _ = select.select([self.leader], [], [], 0)
                    if not ready:
                        break
                    chunk = os.read(self.leader, 65536)
                    if not chunk:
                        break
                    self.seen += chunk
            except OSError:
                pass
            os.close(self.leader)
            self.closed = True
        return self.process.returncode, out.decode(errors="replace"), self.seen.decode(errors="replace")


def completed(out: str) -> dict[str, list]:
    assert out.count('"ansar.command.ansar_command.Run"') == 1, out  # the document exactly once
    return dict((name, value) for name, value in json.loads(out)["value"][1]["completed"])


def nothing_of(cli: Cli, *roles: str) -> None:
    """Every process of these roles (lineage marker) is gone within a second."""
    for role in roles:
        wait_for(lambda r=role: not lineage_pids(cli.home, role=r), seconds=1.0, what=f"every process of {role} gone")
