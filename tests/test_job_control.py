"""pause, resume and signal of started roles; ar.Signal in a component."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import psutil
from support_running import Cli, wait_for

from ansar.home._signals import is_paused, parse_signal

LISTENER = """
import ansar.create as ar

def listener(self):
    while True:
        m = self.select(ar.Stop, ar.Signal)
        if isinstance(m, ar.Stop):
            return ar.Aborted()
        self.console(f"Signal {m.number}")

ar.bind(listener)

if __name__ == "__main__":
    ar.create_object(listener)
"""


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root] + root.children(recursive=True)


def test_pause_stops_the_whole_tree_and_resume_continues_it(cli: Cli, tmp_path: Path) -> None:
    cli.ok("add", "busy")
    small = tmp_path / "small"
    small.write_text('{"value": {"duties": ["zombie"], "management_levels": 2, "managers": 1}}')
    cli.ok("input", "busy-0", f"--set-file={small}")
    cli.ok("start")
    pid = cli.pids()["busy-0"]
    wait_for(lambda: len(_tree(pid)) >= 4, what="busy, its manager and their zombies")
    cli.ok("pause")
    tree = _tree(pid)
    assert all(is_paused(p.pid) for p in tree)
    assert cli.ok("status", "-l").strip().endswith("(paused)")
    cli.ok("resume")
    assert not any(is_paused(p.pid) for p in tree)
    cli.ok("pause")
    cli.ok("stop")  # a paused role is continued first, so that it can handle its Stop
    assert cli.running() == []
    assert cli.ok("history", "busy-0").endswith("(Aborted)\n")


def test_pause_of_a_role_not_running_is_a_mismatch(cli: Cli) -> None:
    cli.ok("add", "zombie", "--count=2")
    cli.ok("start", "zombie-0")
    assert cli.refused(1, "pause") == 'ansar: cannot perform "pause", "(all)" not currently running - zombie-1'
    cli.ok("-f", "pause")
    cli.ok("-f", "resume")


def test_signal_reaches_a_component_as_a_message(tmp_path: Path, tool_env: dict[str, str]) -> None:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    program = bin_ / "listener"
    program.write_text(f"#!{sys.executable}\n" + textwrap.dedent(LISTENER))
    program.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    c = Cli(work, tool_env)
    c.ok("create", f"--redirect-bin={bin_}")
    c.ok("add", "listener")
    c.ok("start")
    try:
        c.ok("signal", "--signal=HUP")
        c.ok("signal", "listener-0", "--signal=usr1")
        wait_for(lambda: "Signal 10" in c.ok("log", "listener-0"), what="SIGUSR1 logged")
        assert "listener - Signal 1" in c.ok("log", "listener-0")
        assert c.running() == ["listener-0"]  # handled, not ended
        assert c.refused(2, "signal", "--signal=NOPE").startswith('ansar: signal: "NOPE" is not a signal')
        assert c.refused(2, "signal").startswith("ansar: signal: needs --signal=")
    finally:
        c("stop", "-f")


def test_signals_by_name_and_number() -> None:
    assert parse_signal("HUP") == parse_signal("SIGHUP") == parse_signal("1") == 1
    assert parse_signal("usr2") == 12


def test_ctrl_z_pauses_a_run_and_its_roles_and_fg_continues_them_all(cli: Cli) -> None:
    import json
    import os
    import pty
    import signal
    import subprocess

    cli.ok("add", "zombie", "--count=2")
    leader, follower = pty.openpty()
    run = subprocess.Popen(cli.argv("run"), cwd=cli.cwd, env=cli.env, stdin=follower, stdout=subprocess.PIPE,
                           stderr=follower, start_new_session=True)
    os.close(follower)
    try:
        wait_for(lambda: len(cli.running()) == 2, what="both zombies running")
        roles = list(cli.pids().values())
        os.killpg(run.pid, signal.SIGTSTP)  # Ctrl-Z: the terminal's foreground group is the run alone
        wait_for(lambda: is_paused(run.pid) and all(is_paused(p) for p in roles), what="run and roles paused")
        assert cli.ok("status", "-l").count("(paused)") == 2
        os.killpg(run.pid, signal.SIGCONT)  # fg (or bg)
        wait_for(lambda: not is_paused(run.pid) and not any(is_paused(p) for p in roles), what="all continued")
        os.killpg(run.pid, signal.SIGINT)
        out, _ = run.communicate(timeout=20)
    finally:
        os.close(leader)
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130
    assert len(json.loads(out)["value"][1]["completed"]) == 2


def _catches(pid: int, signum: int) -> bool:
    """The process has a handler for ``signum`` (its start-up is over)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            mask = next(line for line in f if line.startswith("SigCgt:")).split()[1]
    except (OSError, StopIteration):
        return False
    return bool(int(mask, 16) & (1 << (signum - 1)))


def test_attach_follows_started_roles_until_they_end(cli: Cli) -> None:
    import json

    cli.ok("add", "snooze")
    cli.ok("update", "snooze-0", "--seconds=1.0")
    cli.ok("start")
    pid = cli.pids()["snooze-0"]
    done = cli("attach")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"value": ["ansar.command.ansar_command.Run", {
        "completed": [["snooze-0", ["ansar.create.lifecycle.Ack", {}, []]]], "home": ".ansar-home"}, []]}
    assert f"[{pid:08d}] " in done.stderr and "snooze - Received T1 from <00000003>" in done.stderr


def test_ctrl_c_of_attach_stops_the_roles(cli: Cli) -> None:
    import json
    import signal

    cli.ok("add", "zombie")
    cli.ok("start")
    attach = cli.popen("attach")
    wait_for(lambda: _catches(attach.pid, signal.SIGHUP), what="attach waiting, its handlers in place")
    attach.send_signal(signal.SIGINT)
    out, err = attach.communicate(timeout=20)
    assert attach.returncode == 130, err
    assert json.loads(out)["value"][1]["completed"] == [["zombie-0", ["ansar.create.lifecycle.Aborted", {}, []]]]
    assert cli.running() == []


def test_log_follow_prints_new_records_until_ctrl_c(cli: Cli) -> None:
    import signal

    cli.ok("add", "snooze")
    cli.ok("update", "snooze-0", "--seconds=0.5")
    follow = cli.popen("log", "snooze-0", "--follow")
    cli.ok("start")
    seen = ""
    while "snooze - Received T1 from <00000003>" not in seen:  # bounded by the test's timeout
        line = follow.stdout.readline()  # type: ignore[union-attr]
        assert line, "log --follow ended early"
        seen += line
    follow.send_signal(signal.SIGINT)
    out, err = follow.communicate(timeout=20)
    assert follow.returncode == 0, err
    assert "snooze - Do nothing for 0.5 seconds" in seen
    assert (seen + out).count("snooze - Received T1 from <00000003>") == 1
