"""run --jobs, --fail-fast, --failed, --keep-logs and start --restore, with the examples."""

from __future__ import annotations

import json
import os
import signal
import threading

import psutil
from support_running import ABORTED, Cli, document, gone, wait_for

from ansar.create._tree import scan


def _role_processes(cli: Cli, prefix: str) -> int:
    mine = f"--home-path={cli.home}"
    count = 0
    for pid in scan():
        try:
            argv = psutil.Process(pid).cmdline()
        except psutil.Error:
            continue
        if mine in argv and any(a.startswith(f"--role-name={prefix}") for a in argv):
            count += 1
    return count


def test_jobs_never_runs_more_roles_at_once(cli: Cli) -> None:
    cli.ok("add", "snooze", "--count=5")
    cli.ok("update", "snooze-.*", "--seconds=0.3")
    most = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            most[0] = max(most[0], _role_processes(cli, "snooze-"))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        finished = cli("run", "--jobs=2")
    finally:
        done.set()
        sampler.join()
    assert finished.returncode == 0, finished.stderr
    assert len(document(finished.stdout)["value"][1]["completed"]) == 5
    assert 1 <= most[0] <= 2
    refusal = 'ansar: run: "--jobs=0" is not a number of processes (expected 1 or more)'
    assert cli.refused(2, "run", "--jobs=0") == refusal


def test_fail_fast_stops_the_others_after_the_first_failure(cli: Cli) -> None:
    cli.ok("add", "zombie", "--count=3")
    cli.ok("add", "snooze")
    (cli.home / "settings" / "snooze-0.json").write_text('{"value": {"seconds": "soon"}}')  # it fails at once
    done = cli("--debug-level=CONSOLE", "run", "--fail-fast")
    assert done.returncode == 1
    completed = dict(map(tuple, document(done.stdout)["value"][1]["completed"]))
    assert completed["snooze-0"][0] == "ansar.create.lifecycle.Faulted"
    assert [completed[f"zombie-{n}"] for n in range(3)] == [ABORTED] * 3
    assert '^ <00000009>ansar - Fail fast after "snooze-0"' in done.stderr


def test_failed_runs_only_the_roles_whose_latest_execution_failed(cli: Cli) -> None:
    cli.ok("add", "noop")
    cli.ok("add", "snooze")
    settings = cli.home / "settings" / "snooze-0.json"
    good = settings.read_text()
    settings.write_text('{"value": {"seconds": "soon"}}')
    assert cli("run").returncode == 1
    settings.write_text(good.replace("2.0", "0.1"))
    done = cli("run", "--failed")
    assert done.returncode == 0, done.stderr
    assert [n for n, _ in document(done.stdout)["value"][1]["completed"]] == ["snooze-0"]
    done = cli("run", "--failed")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", 'ansar: nothing failed in "(all)"\n')


def test_keep_logs_keeps_a_runs_records_for_ansar_log(cli: Cli) -> None:
    cli.ok("add", "noop")
    done = cli("run", "--keep-logs", "--debug-level=CONSOLE")
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1 and "noop - Log this and exit" in done.stderr  # the terminal: CONSOLE
    log = cli.ok("log", "noop-0", "--start=-1")
    assert "^ <00000009>noop - Log this and exit" in log
    assert "+ <00000007>lock_and_hold - Created by <00000001>" in log  # storage: every level


def test_restore_starts_only_the_roles_that_were_lost(cli: Cli) -> None:
    cli.ok("add", "zombie", "--count=3")
    cli.ok("start")
    pids = cli.pids()
    os.kill(pids["zombie-0"], signal.SIGKILL)  # lost
    cli.ok("stop", "zombie-1")  # stopped by ansar: not to be restored
    wait_for(lambda: gone(pids["zombie-0"]), what="zombie-0 killed")
    cli.ok("start", "--restore")
    now = cli.pids()
    assert sorted(now) == ["zombie-0", "zombie-2"]
    assert now["zombie-2"] == pids["zombie-2"] and now["zombie-0"] != pids["zombie-0"]
    cli.ok("start", "--restore")  # nothing lost now: nothing to do
    assert cli.pids() == now
    history = json.loads((cli.home / "history" / "zombie-1.json").read_text())["value"]
    assert history[-1]["value"] == ABORTED


def test_a_role_with_a_timeout_is_stopped_and_ends_timed_out(cli: Cli, tmp_path) -> None:
    cli.ok("add", "zombie")
    seconds = tmp_path / "timeout"
    seconds.write_text('{"value": 1.0}')
    cli.ok("set", "timeout", "zombie-0", f"--encoding-file={seconds}")
    assert json.loads(cli.ok("get", "timeout", "zombie-0")) == {"value": 1.0}
    done = cli("run")
    assert done.returncode == 1
    assert document(done.stdout)["value"][1]["completed"] == [["zombie-0", ["ansar.create.lifecycle.TimedOut",
                                                                            {"seconds": 1.0}, []]]]
    cli.ok("start")  # the role's own runtime enforces it: started roles too
    wait_for(lambda: cli.running() == [], what="the started zombie timed out")
    assert cli.ok("history", "zombie-0").splitlines()[-1].endswith("(TimedOut)")
    seconds.write_text('{"value": 0}')
    err = cli.refused(2, "set", "timeout", "zombie-0", f"--encoding-file={seconds}")
    assert "timeout: seconds, above 0" in err
