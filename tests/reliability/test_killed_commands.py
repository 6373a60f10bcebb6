"""SIGKILL of ``start``, ``stop``, ``snapshot`` and ``deploy`` part way, with and without ``-f``.

``deploy`` and ``snapshot`` kill themselves at a numbered step (``ANSAR_TEST_DEPLOY_KILL_AT``:
after the record of the roles they stop, the stop, each file put in place, each value stored, the
copy, the restore); ``start`` and ``stop`` are killed at their n-th record at DEBUG. After every
kill: each home file decodes (old or new, never torn), ``status`` names exactly the roles whose
lock is held, and repeating the command finishes the job; roles a killed ``-f`` had stopped are
running again once a deploy has finished.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess

import pytest
from reliability_support import DEADLINE, FIGURES, Cli, InProcess, check_home, role_instances, soak, wait_for

KILL_AT = "ANSAR_TEST_DEPLOY_KILL_AT"
ROLES = ("snooze-0", "zombie-0", "zombie-1")


@pytest.fixture
def home(cli: Cli) -> Cli:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie", "--count=2")
    fast.ok("add", "snooze")
    fast.ok("update", "snooze-0", "--seconds=600.0")
    fast.ok("snapshot", "testing")
    return cli


def _status_is_true(cli: Cli) -> None:
    """``status`` names the lock holders (polled: roles a killed start launched may still be coming up)."""
    def agree() -> bool:
        listed = set(cli.ok("status").split())
        return listed == {r for r in ROLES if role_instances(cli.home, r)}

    wait_for(agree, what="status naming exactly the roles holding their locks")


def _after_kill(cli: Cli) -> None:
    FIGURES.fault()
    assert check_home(cli.home) == []
    _status_is_true(cli)


def _killed_at(cli: Cli, step: int, *args: str) -> bool:
    """Run a command that kills itself at ``step``; False once it got to the end instead."""
    done = subprocess.run(cli.argv(*args), cwd=cli.cwd, env=dict(cli.env, **{KILL_AT: str(step)}),
                          capture_output=True, text=True, timeout=DEADLINE * 2)
    if done.returncode == -signal.SIGKILL:
        return True
    assert (done.returncode, done.stderr) == (0, ""), f"ansar {' '.join(args)}: {done.returncode} {done.stderr}"
    return False


def _change(cli: Cli, n: int) -> None:
    """Something for a deploy to do: a new model file for zombie-0 (snapshots copy it back)."""
    testing = cli.cwd / "testing"
    (testing / "model-by-role" / "zombie-0" / f"model-{n}.json").write_text(json.dumps({"value": n}))


@pytest.mark.parametrize("force", [True, False], ids=["-f", "plain"])
@pytest.mark.parametrize("command", ["deploy", "snapshot"])
def test_a_killed_deploy_or_snapshot_leaves_the_home_whole_and_the_next_finishes(home: Cli, command: str,
                                                                               force: bool) -> None:
    cli = home
    if force:
        cli.ok("start")
    running = set(cli.running())
    args = (("-f",) if force else ()) + ((command, "--storage-path=testing") if command == "deploy"
                                         else (command, "again"))
    if command == "snapshot":
        (cli.cwd / "again").mkdir()
    for n in range(3):
        _change(cli, n)
    step = 1
    while True:
        if command == "snapshot" and not force:
            shutil.rmtree(cli.cwd / "again", ignore_errors=True)  # a plain snapshot wants no folder there
        if not _killed_at(cli, step, *args):
            break
        _after_kill(cli)
        step += 1
        assert step < soak(12, 40), "the command never got to its end"
    assert step > 1, "the command was never killed"
    assert check_home(cli.home) == []
    if command == "snapshot":
        assert (cli.cwd / "again" / "model-by-role" / "zombie-0").is_dir()
    cli.ok("-f", "deploy", "--storage-path=testing")  # the next deploy restores what a killed one stopped
    assert set(cli.running()) == running
    lost = running - set(cli.running())
    FIGURES.add("roles lost", len(lost))


def _kill_at_record(cli: Cli, n: int, *args: str) -> bool:
    """Run ``ansar --debug-level=DEBUG <args>`` and SIGKILL it at its n-th record; False if it ended first."""
    p = cli.popen("--debug-level=DEBUG", *args, stdout=subprocess.DEVNULL)
    assert p.stderr is not None
    seen = 0
    for _ in p.stderr:
        seen += 1
        if seen == n:
            p.kill()
            break
    p.communicate()
    return p.returncode == -signal.SIGKILL


@pytest.mark.parametrize("command", ["start", "stop"])
def test_a_killed_start_or_stop_leaves_status_true_and_the_next_finishes(home: Cli, command: str) -> None:
    cli = home
    points = soak([1, 2], [1, 2, 3]) * soak(2, 10)  # start and stop write three records at DEBUG
    killed = 0
    for n in points:
        if command == "stop":
            cli.ok("start")
        else:
            cli.ok("-f", "stop")
        if not _kill_at_record(cli, n, command):
            continue
        killed += 1
        _after_kill(cli)
        if command == "start":
            left = [r for r in ROLES if not role_instances(cli.home, r)]
            if left:
                cli.ok("start", "|".join(left))
            assert set(cli.running()) == set(ROLES)
        else:
            cli.ok("-f", "stop")
            assert cli.running() == []
        assert check_home(cli.home) == []
    assert killed >= 2, f"killed {killed} times at the points {points}"
