"""Command roles end to end: ``ansar add --command=...`` under run, start, stop, status, signal."""

from __future__ import annotations

import json
import signal

import psutil
from support_running import LINE, Cli, document, gone, wait_for


def _value(done_stdout: str, role: str) -> list:
    completed = dict((name, value) for name, value in document(done_stdout)["value"][1]["completed"])
    return completed[role]


def test_a_command_under_run_gives_its_lines_as_records_and_its_exit_status(cli: Cli) -> None:
    cli.ok("add", "--command=echo a; echo b >&2; exit 3")
    done = cli("run", "--debug-level=CONSOLE")
    assert done.returncode == 1
    records = [LINE.match(line) for line in done.stderr.splitlines()]
    # Two pipes: stdout's line and stderr's may be read in either order.
    assert sorted((m.group(3), m.group(5), m.group(6)) for m in records if m) == [
        ("?", "command-0", "b"), ("^", "command-0", "a")]
    assert _value(done.stdout, "command-0") == ["ansar.create.lifecycle.Faulted", {"condition": "exit status 3"}, []]
    assert "(Faulted)" in cli.ok("history", "command-0")


def test_plain_words_run_directly_and_exit_0_is_ack(cli: Cli) -> None:
    cli.ok("add", "--command=true", "t-{number}")
    done = cli("run")
    assert done.returncode == 0, done.stderr
    assert _value(done.stdout, "t-0") == ["ansar.create.lifecycle.Ack", {}, []]


def test_the_line_is_stored_exactly_and_shown_quoted(cli: Cli) -> None:
    line = 'printf "%s\\n" "$ANSAR_ROLE"\necho two'
    cli.ok("add", f"--command={line}", "backup")
    assert document(cli.ok("settings", "backup")) == {"value": {"command": line}}
    assert json.dumps(line) in cli.ok("list", "-l")
    done = cli("run", "--debug-level=CONSOLE", "backup")
    texts = [m.group(6) for m in map(LINE.match, done.stderr.splitlines()) if m and m.group(3) == "^"]
    assert texts == ["backup", "two"]
    cli.ok("update", "backup", "--command=echo three")
    assert document(cli.ok("settings", "backup")) == {"value": {"command": "echo three"}}

def test_every_character_that_is_not_printable_is_shown_escaped(cli: Cli) -> None:
    # DEL, a C1 CSI a terminal would act on, a line separator, a bidi override; JSON leaves them raw.
    line = "echo a\x7fb\x9bc\u2028d\u202ee"
    cli.ok("add", f"--command={line}", "odd")
    assert document(cli.ok("settings", "odd")) == {"value": {"command": line}}
    listed = cli.ok("list", "-l")
    assert listed.isascii() and listed.count("\n") == 1, listed
    assert r'command="echo a\u007fb\u009bc\u2028d\u202ee"' in listed
    assert json.loads(listed.split("command=", 1)[1].split("  ", 1)[0]) == line


def test_bad_command_lines_are_refused_and_the_home_is_unchanged(cli: Cli) -> None:
    before = cli.ok("list")
    assert "empty" in cli.refused(2, "add", "--command=  ")
    assert "takes no setting" in cli.refused(2, "add", "--command=true", "--seconds=1")
    assert cli.ok("list") == before
    cli.ok("add", "--command=true", "c-0")
    assert "only --command" in cli.refused(2, "update", "c-0", "--seconds=1")
    nul = cli.cwd / "nul.json"
    nul.write_text('{"value": {"command": "a\\u0000b"}}')  # a NUL cannot come on a command line
    assert "NUL" in cli.refused(2, "settings", "c-0", f"--set-file={nul}")
    assert document(cli.ok("settings", "c-0")) == {"value": {"command": "true"}}


def test_a_started_pipeline_shows_its_first_programs_pid_and_signal_reaches_it(cli: Cli) -> None:
    cli.ok("add", "--command=sleep 60 | cat", "pipe-0")
    cli.ok("start", "pipe-0")
    pid = cli.pids()["pipe-0"]
    assert psutil.Process(pid).name() == "sleep"
    assert "(running)" in cli.ok("history", "pipe-0")
    cli.ok("signal", "pipe-0", "--signal=TERM")
    wait_for(lambda: gone(pid), what="the sleep ended by the signal")
    wait_for(lambda: "pipe-0" not in cli.running(), what="the role ended")
    assert cli.ok("history", "pipe-0").strip().endswith("(Ack)")  # a pipeline's status is its last program's


def test_stop_of_a_started_command_is_quick_and_aborted_and_leaves_nothing(cli: Cli) -> None:
    cli.ok("add", "--command=sleep 3600 & sleep 3600", "pair-0")
    cli.ok("add", "--command=sleep 3600", "sleep-0")
    cli.ok("start", "pair-0|sleep-0")
    assert cli.running() == ["pair-0", "sleep-0"]
    pids = list(cli.pids().values())
    tree = [c.pid for p in pids for c in psutil.Process(p).parent().children(recursive=True)] + pids
    cli.ok("stop", "pair-0|sleep-0")
    assert cli.running() == []
    for pid in tree:
        wait_for(lambda p=pid: gone(p), seconds=5.0, what=f"process {pid} gone")
    assert cli.ok("history", "sleep-0").strip().endswith("(Aborted)")
    assert cli.ok("history", "pair-0").strip().endswith("(Aborted)")


def test_a_started_command_keeps_its_records_and_value(cli: Cli) -> None:
    cli.ok("add", "--command=echo out; echo err >&2; exit 4", "noisy-0")
    cli.ok("start", "noisy-0")
    wait_for(lambda: "(Faulted)" in cli.ok("history", "noisy-0"), what="the value recorded")
    log = cli.ok("log", "noisy-0", "--start=-1")
    assert "^ <00000000>noisy-0 - out" in log and "? <00000000>noisy-0 - err" in log
    assert "exit status 4" in cli.ok("returned", "noisy-0")


def test_a_command_with_a_timeout_ends_timed_out(cli: Cli, tmp_path) -> None:
    cli.ok("add", "--command=sleep 60", "late-0")
    spec = tmp_path / "timeout.json"
    spec.write_text('{"value": 0.5}')
    cli.ok("set", "timeout", "late-0", f"--encoding-file={spec}")
    done = cli("run", "late-0")
    assert done.returncode == 1
    assert _value(done.stdout, "late-0")[0] == "ansar.create.lifecycle.TimedOut"


def test_ctrl_c_of_a_run_aborts_its_commands(cli: Cli) -> None:
    cli.ok("add", "--command=sleep 60", "s-{number}", "--count=2")
    run = cli.popen("run", "--debug-level=OBJECT")
    wait_for(lambda: cli.running() == ["s-0", "s-1"], what="both running")
    pids = list(cli.pids().values())
    run.send_signal(signal.SIGINT)
    out, _ = run.communicate(timeout=20)
    assert run.returncode == 130
    assert [v[0] for _, v in document(out)["value"][1]["completed"]] == ["ansar.create.lifecycle.Aborted"] * 2
    for pid in pids:
        assert gone(pid)
