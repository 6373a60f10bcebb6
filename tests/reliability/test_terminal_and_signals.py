"""The terminal and its signals, in a pseudo-terminal as the tour's Ctrl-C happens.

``ansar run`` leads a session whose controlling terminal is a pseudo-terminal; Ctrl-C is SIGINT
to the terminal's foreground process group (``tcgetpgrp``), closing the terminal is a hang-up.
Started roles of the same home must never notice; the run's roles stop through ansar only.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import subprocess
import termios
import threading
import time
from pathlib import Path

import psutil
import pytest
from reliability_support import (
    DEADLINE,
    FIGURES,
    Cli,
    gone,
    kill_all,
    lineage_pids,
    make_program,
    read_until,
    soak,
    wait_for,
)

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


@pytest.fixture
def started_zombie(cli: Cli) -> tuple[int, float]:
    """zombie-0 started in the background: its pid and start time."""
    cli.fast.ok("add", "zombie", "--count=2")  # type: ignore[attr-defined]
    cli.fast.ok("add", "snooze")  # type: ignore[attr-defined]
    cli.fast.ok("update", "snooze-0", "--seconds=60.0")  # type: ignore[attr-defined]
    cli.ok("start", "zombie-0")
    pid = cli.pids()["zombie-0"]
    return pid, psutil.Process(pid).create_time()


def test_ctrl_c_reaches_the_foreground_run_alone(cli: Cli, started_zombie: tuple[int, float]) -> None:
    pid, since = started_zombie
    term = Terminal(cli, "run", "zombie-1|snooze-0", "--debug-level=CONSOLE")
    term.wait_for(b"zombie - Do nothing until interrupted")
    term.wait_for(b"snooze - Do nothing for 60.0 seconds")
    term.ctrl_c()
    status, out, shown = term.finish()
    assert status == 130
    assert completed(out) == {"zombie-1": ABORTED, "snooze-0": ABORTED}
    assert "Traceback" not in shown
    nothing_of(cli, "zombie-1", "snooze-0")
    assert cli.pids() == {"zombie-0": pid}
    assert psutil.Process(pid).create_time() == since  # the same process, untouched


def test_closing_the_terminal_ends_the_runs_roles_and_leaves_started_ones(cli: Cli,
                                                                       started_zombie: tuple[int, float]) -> None:
    pid, since = started_zombie
    term = Terminal(cli, "run", "zombie-1|snooze-0", "--debug-level=CONSOLE")
    term.wait_for(b"zombie - Do nothing until interrupted")
    term.wait_for(b"snooze - Do nothing for 60.0 seconds")
    term.hang_up()
    status, out, _ = term.finish(seconds=GRACE)  # on whichever thread the kernel hands it the signal
    assert status == 130, status  # the docs: Ctrl-C, SIGTERM or SIGHUP, then 130
    assert completed(out) == {"zombie-1": ABORTED, "snooze-0": ABORTED}
    nothing_of(cli, "zombie-1", "snooze-0")
    assert cli.pids() == {"zombie-0": pid}
    assert psutil.Process(pid).create_time() == since


def _tgkill(pid: int, tid: int, signum: int) -> None:
    """Send ``signum`` to one thread of another process, as the kernel may choose to."""
    import ctypes
    import platform

    number = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
    if number is None:
        pytest.skip(f"tgkill's number on {platform.machine()} not known here")
    assert ctypes.CDLL(None, use_errno=True).syscall(number, pid, tid, signum) == 0


def test_a_hang_up_landing_on_another_thread_of_the_run_still_stops_it(cli: Cli) -> None:
    cli.fast.ok("add", "zombie")  # type: ignore[attr-defined]
    run = cli.popen("--debug-level=OBJECT", "run", "--debug-level=CONSOLE")
    assert run.stderr is not None
    said = set()
    for line in run.stderr:  # the role up and its Ack taken: no message is due to wake the run
        said |= {text for text in ("zombie - Do nothing until interrupted", "ansar - Received Ack") if text in line}
        if len(said) == 2:
            break
    threading.Thread(target=run.stderr.read, daemon=True).start()  # keep the pipe from filling
    threads = sorted(int(t) for t in os.listdir(f"/proc/{run.pid}/task") if int(t) != run.pid)
    _tgkill(run.pid, threads[-1], signal.SIGHUP)
    FIGURES.fault()
    try:
        run.wait(timeout=5.0)  # a zombie ends at once on its Stop: the run within a second or so
    except subprocess.TimeoutExpired:
        left = [run.pid] + lineage_pids(cli.home)
        FIGURES.add("orphan processes", len(left))
        kill_all(left)
    run.communicate()
    assert run.returncode == 130


def test_a_second_ctrl_c_skips_the_grace_waits(cli: Cli, bin_dir: Path) -> None:
    make_program(bin_dir, "stubborn", STUBBORN)
    cli.fast.ok("add", "stubborn")  # type: ignore[attr-defined]
    term = Terminal(cli, "--debug-level=OBJECT", "run")
    term.wait_for(b"stubborn - Ignoring SIGINT and SIGTERM")
    first = time.monotonic()
    term.ctrl_c()
    term.wait_for(b"Process[EXECUTING] - Received Stop")  # the run passed the first on as a Stop
    term.ctrl_c()
    status, out, shown = term.finish()
    took = time.monotonic() - first
    assert took < 5.0, f"the run took {took:.1f}s after Ctrl-C: the 5 s grace after SIGINT was waited"
    assert status == 130
    assert completed(out) == {"stubborn-0": ABORTED}
    assert "Traceback" not in shown
    nothing_of(cli, "stubborn-0")


BUSY = {"value": {"duties": ["noop", "snooze", "factorial"], "management_levels": 4, "managers": 3}}


@pytest.mark.parametrize("members", soak([12], [1, 2, 4, 8, 12, 20, 30, 40, 60, 90, 120]))
def test_ctrl_c_while_busy_builds_its_tree(cli: Cli, tmp_path: Path, members: int) -> None:
    """Ctrl-C once the tree has ``members`` processes: children are caught while importing."""
    cli.fast.ok("add", "busy")  # type: ignore[attr-defined]
    (tmp_path / "busy-input").write_text(json.dumps(BUSY))
    cli.fast.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")  # type: ignore[attr-defined]
    term = Terminal(cli, "run")
    run = psutil.Process(term.process.pid)
    seen: set[int] = set()

    def grown() -> bool:
        try:
            seen.update(p.pid for p in run.children(recursive=True))
        except psutil.Error:
            pass
        return len(seen) >= members + 1  # the busy root and its members

    wait_for(grown, what=f"a tree of {members} processes", pause=0.005)
    term.ctrl_c()
    status, out, shown = term.finish(seconds=30.0)
    assert status == 130
    assert completed(out) == {"busy-0": ABORTED}
    assert "Traceback" not in shown, shown
    wait_for(lambda: all(gone(p) for p in seen) and not lineage_pids(cli.home), seconds=1.0,
             what="nothing of the tree survives")
