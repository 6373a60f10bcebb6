"""Roles that do not go quietly: one ignores SIGINT and SIGTERM, one double-forks a daemon, one
leaves a child that called setsid.

``stop`` ends every process of them within the grace periods (SIGINT, 5 s, SIGTERM, 2 s, SIGKILL,
2 s), or names each survivor by pid and exits 1: never a silent orphan. Every process a role
started carries its ``ANSAR_LINEAGE`` marker, which is how the test (and ansar) find them.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_support import FIGURES, Cli, gone, kill_all, lineage_pids, make_program, wait_for
from terminal_support import STUBBORN

DAEMONIZER = '''
DAEMON = """
import os, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
os.chdir("/")
while True:
    time.sleep(60)
"""


def daemonizer(self):
    """Start a daemon the classic way (fork, setsid, fork) and forget it."""
    subprocess.run([sys.executable, "-c", DAEMON], check=True)
    self.console('Daemon started')
    self.select(ar.Stop)
    return ar.Aborted()
'''

DETACHER = '''
def detacher(self):
    """Leave a child that left the role's session (setsid) running when the role ends."""
    child = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(60)"],
                             start_new_session=True)
    self.console(f'Child {child.pid} in a session of its own')
    self.select(ar.Stop)
    return ar.Aborted()
'''

GRACE = 5.0 + 2.0 + 2.0


@pytest.fixture
def misbehaving(cli: Cli, bin_dir: Path) -> Cli:
    for name, body in (("stubborn", STUBBORN), ("daemonizer", DAEMONIZER), ("detacher", DETACHER)):
        make_program(bin_dir, name, body)
        cli.fast.ok("add", name)  # type: ignore[attr-defined]
    return cli


def _all_up(cli: Cli, roles: dict[str, int]) -> None:
    """Each role has as many processes as it means to (the role, and its daemon or child)."""
    for role, count in roles.items():
        wait_for(lambda r=role, n=count: len(lineage_pids(cli.home, role=r)) >= n, what=f"{role} up")


def test_stop_ends_every_process_of_misbehaving_roles_or_names_the_survivors(misbehaving: Cli) -> None:
    cli = misbehaving
    cli.ok("start")
    _all_up(cli, {"stubborn-0": 1, "daemonizer-0": 2, "detacher-0": 2})
    before = {role: lineage_pids(cli.home, role=role) for role in ("stubborn-0", "daemonizer-0", "detacher-0")}
    FIGURES.fault(3)
    began = time.monotonic()
    done = cli("stop", seconds=GRACE + 10.0)
    took = time.monotonic() - began
    survivors = lineage_pids(cli.home)
    if survivors:
        FIGURES.add("orphan processes", len(survivors))
        kill_all(survivors)
        assert done.returncode == 1, f"survivors {survivors} of a stop that said nothing"
        for pid in survivors:
            assert str(pid) in done.stderr, f"survivor {pid} not named: {done.stderr}"
    else:
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert took < GRACE + 10.0, f"stop took {took:.1f}s"
    assert took > 5.0, "the stubborn role was not given its grace"  # SIGINT was ignored: 5 s, then SIGTERM
    assert cli.running() == []
    assert all(before.values())


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    return int(data[data.rfind(b")") + 2:].split()[1])


def _cut_short(cli: Cli, run: "subprocess.Popen[str]", role: str, seconds: float) -> list[int]:
    """After a fault to ``run``: wait (up to ``seconds``) for the run to end, then give whatever of
    ``role`` is left one second to go; what is left then is counted, killed and returned. The run's
    pipes are read only after that: a survivor holding them must not hang the test."""
    role_itself = [p for p in lineage_pids(cli.home, role=role) if _parent(p) == run.pid]
    wait_for(lambda: all(gone(p) for p in role_itself), seconds=seconds, what=f"{role} itself ended")
    try:
        wait_for(lambda: not lineage_pids(cli.home, role=role), seconds=1.0, what=f"every process of {role} gone")
        left: list[int] = []
    except AssertionError:
        left = lineage_pids(cli.home, role=role)
        FIGURES.add("orphan processes", len(left))
        kill_all(left)
    if run.poll() is None:  # still held up by a survivor: it is gone now
        try:
            run.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            run.kill()
    run.communicate()
    return left


def _started(cli: Cli, role: str, said: str) -> "subprocess.Popen[str]":
    run = cli.popen("run", role, "--debug-level=CONSOLE")
    assert run.stderr is not None
    for line in run.stderr:
        if said in line:
            break
    _all_up(cli, {role: 2})
    return run


def _run_then_ctrl_c(cli: Cli, role: str, said: str) -> list[int]:
    """Run ``role``, interrupt the run once the role is up; the role's processes left after."""
    run = _started(cli, role, said)
    run.send_signal(signal.SIGINT)
    FIGURES.fault()
    left = _cut_short(cli, run, role, GRACE + 10.0)
    assert run.returncode == 130, run.returncode
    return left


def test_ctrl_c_of_a_run_ends_a_child_that_called_setsid(misbehaving: Cli) -> None:
    assert _run_then_ctrl_c(misbehaving, "detacher-0", "in a session of its own") == []


def test_ctrl_c_of_a_run_ends_a_daemon_its_role_double_forked(misbehaving: Cli) -> None:
    assert _run_then_ctrl_c(misbehaving, "daemonizer-0", "Daemon started") == []


def test_sigkill_of_a_run_ends_a_daemon_its_role_double_forked(misbehaving: Cli) -> None:
    run = _started(misbehaving, "daemonizer-0", "Daemon started")
    run.kill()
    FIGURES.fault()
    assert _cut_short(misbehaving, run, "daemonizer-0", GRACE) == []
