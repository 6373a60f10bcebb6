"""SIGKILL of a started role, and lock records that name the wrong process.

A role killed with SIGKILL loses its lock with its process: ``status`` drops it at once, the next
look at its history closes the record as Faulted, the next ``start`` works. A lock record (the pid
file beside the lock) that names a live process other than the lock's holder, as a reused pid
would, never shows as the role and never gets a signal meant for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from reliability_support import FIGURES, Cli, InProcess, check_home, gone, lineage_pids, soak, wait_for

SMALL_BUSY = {"value": {"duties": ["zombie"], "management_levels": 2, "managers": 2}}


def _logged(cli: Cli, role: str) -> str:
    folder = cli.home / "logs" / role
    return "".join(p.read_text(errors="replace") for p in sorted(folder.iterdir())) if folder.exists() else ""


def _records(cli: Cli, role: str) -> list[dict]:
    return json.loads((cli.home / "history" / f"{role}.json").read_bytes())["value"]


@pytest.mark.parametrize("rounds", [soak(2, 10)])
def test_a_killed_started_role_drops_out_at_once_and_history_says_faulted(cli: Cli, tmp_path: Path,
                                                                         rounds: int) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("add", "busy")
    (tmp_path / "busy-input").write_text(json.dumps(SMALL_BUSY))
    fast.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")
    for n in range(rounds):
        cli.ok("start")
        pids = cli.pids()
        assert sorted(pids) == ["busy-0", "zombie-0"]
        # Its whole tree up (a member killed while still starting is the subreaper defect of
        # test_killed_run): six processes, the three zombies among them saying so.
        said = 3 * (n + 1)
        wait_for(lambda s=said: len(lineage_pids(cli.home, role="busy-0")) >= 6 and _logged(cli, "busy-0").count(
            "zombie - Do nothing until interrupted") >= s, what="busy's tree of 6")
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
            FIGURES.fault()
        wait_for(lambda k=pids: all(gone(p) for p in k.values()), seconds=1.0, what="killed roles gone")
        listed = fast.ok("status")
        FIGURES.add("roles lost", len(listed.split()))
        assert listed == "", "status lists a killed role"
        wait_for(lambda: not lineage_pids(cli.home), seconds=1.0, what="the killed busy's tree gone")
        for role in pids:
            assert fast.ok("history", role).splitlines()[-1].endswith("(Faulted)")
            last = _records(cli, role)[-1]
            assert last["pid"] == pids[role] and "end" in last
            assert "ended without a result" in last["value"][1]["condition"]
            assert len(_records(cli, role)) == n + 1
        assert check_home(cli.home) == []
    cli.ok("start")  # the next start works
    assert cli.running() == ["busy-0", "zombie-0"]


# --- lock records naming the wrong process ---------------------------------------------------------

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return int(data[data.rfind(b")") + 2:].split()[19])


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen]:
    """A live process that has nothing to do with any role (a session of its own)."""
    p = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                         start_new_session=True)
    yield p
    p.kill()
    p.communicate()


@pytest.fixture
def held(cli: Cli) -> Iterator[Path]:
    """zombie-0's lock held by a process that is not the role and writes no lock record."""
    cli.fast.ok("add", "zombie")  # type: ignore[attr-defined]
    lock = cli.home / "lock" / "zombie-0.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield cli.home / "lock" / "zombie-0.pid"
    holder.kill()
    holder.communicate()


def _never_shown(cli: Cli, pid: int) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    long = fast.ok("status", "-l")
    assert f"<{pid}>" not in long, long
    assert fast.ok("status") == "zombie-0\n"  # its lock is held: it runs, under a pid not yet known


def test_a_lock_record_naming_a_reused_pid_never_shows_as_the_role(cli: Cli, held: Path,
                                                                   unrelated: subprocess.Popen) -> None:
    """The record's start time is an earlier process's: the pid was reused by ``unrelated``."""
    held.write_text(f"{unrelated.pid} {_ticks(unrelated.pid) - 1}\n")
    FIGURES.fault()
    _never_shown(cli, unrelated.pid)
    if soak(False, True):  # a stop waits for the holder to name itself (2 s), then refuses
        done = cli("stop")
        assert done.returncode == 1 and done.stderr.startswith('ansar: cannot perform "stop"'), done.stderr
    assert unrelated.poll() is None


@pytest.mark.parametrize("with_ticks", [False, True], ids=["without-start-ticks", "with-its-start-ticks"])
def test_a_lock_record_naming_a_live_process_that_is_not_the_holder_never_shows(
        cli: Cli, held: Path, unrelated: subprocess.Popen, with_ticks: bool) -> None:
    """The record names a live process (with or without its true start time) that does not hold
    the role's lock: never shown as the role, never signalled by a stop."""
    held.write_text(f"{unrelated.pid} {_ticks(unrelated.pid)}\n" if with_ticks else f"{unrelated.pid}\n")
    FIGURES.fault()
    try:
        _never_shown(cli, unrelated.pid)
    finally:
        if soak(with_ticks, True):  # a stop waits for the holder to name itself (2 s), then refuses
            cli("stop", seconds=10.0)
        signalled = unrelated.poll() is not None
    assert not signalled, "ansar stop signalled a process that is not the role"
