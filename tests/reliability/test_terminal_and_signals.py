"""The terminal and its signals, in a pseudo-terminal as the tour's Ctrl-C happens.

``ansar run`` leads a session whose controlling terminal is a pseudo-terminal; Ctrl-C is SIGINT
to the terminal's foreground process group (``tcgetpgrp``), closing the terminal is a hang-up.
Started roles of the same home must never notice; the run's roles stop through ansar only.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from reliability_support import FIGURES, Cli, gone, kill_all, lineage_pids, make_program, soak, wait_for
from terminal_support import ABORTED, GRACE, STUBBORN, Terminal, completed, nothing_of


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


def _tgkill(pid: int, tid: int, signum: int) -> bool:
    """Send ``signum`` to one thread of another process, as the kernel may choose to; False if
    that thread has ended meanwhile."""
    import ctypes
    import platform

    number = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
    if number is None:
        pytest.skip(f"tgkill's number on {platform.machine()} not known here")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(number, pid, tid, signum) == 0:
        return True
    assert ctypes.get_errno() == errno.ESRCH, os.strerror(ctypes.get_errno())
    return False


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
    # The newest thread first; one that ended since the listing (a timer's) gives way to the next.
    assert any(_tgkill(run.pid, tid, signal.SIGHUP) for tid in reversed(threads)), threads
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
