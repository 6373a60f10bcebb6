"""run, start, stop, status, end to end: the ansar command as a process, the examples as roles.

The examples run through the bin/ launchers; each test has a home of its own in tmp_path. Waits
poll with deadlines; the fixtures in conftest end whatever a test leaves running (started roles
become children of the test process, a subreaper).
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from support_running import ABORTED, ACK, DEADLINE, LINE, REPO, Cli, document, gone, run_document, wait_for

# --- run --------------------------------------------------------------------------------------------


def test_run_of_one_noop_prints_the_tour_document_and_only_the_roles_records(cli: Cli) -> None:
    cli.ok("add", "noop")
    done = cli("run", "--debug-level=CONSOLE")
    assert done.returncode == 0, done.stderr
    assert document(done.stdout) == run_document(("noop-0", ACK))
    assert done.stdout.startswith('{\n    "value": [\n        "ansar.command.ansar_command.Run",')
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    m = LINE.match(lines[0])
    assert m and m.group(3, 4, 5, 6) == ("^", "00000009", "noop", "Log this and exit"), lines[0]


def test_a_debug_level_before_the_sub_command_shows_ansars_records_too(cli: Cli) -> None:
    cli.ok("add", "noop")
    done = cli("--debug-level=CONSOLE", "run")
    assert done.returncode == 0
    texts = [LINE.match(line).group(5, 6) for line in done.stderr.splitlines()]  # type: ignore[union-attr]
    assert ("ansar", "Detect status of associated roles (noop-0)") in texts
    assert ("ansar", 'Running "(all)" (.ansar-home)') in texts
    assert ("ansar", 'Completion for "noop-0" ()') in texts
    assert ("noop", "Log this and exit") in texts


def test_run_waits_for_every_role_and_lists_them_in_completion_order(cli: Cli) -> None:
    cli.ok("add", "snooze")
    cli.ok("update", "snooze-0", "--seconds=1.0")
    cli.ok("add", "noop")
    cli.ok("add", "factorial")
    done = cli("run")
    assert done.returncode == 0, done.stderr
    completed = document(done.stdout)["value"][1]["completed"]
    order = [name for name, _ in completed]
    assert order.index("noop-0") < order.index("snooze-0")  # noop ends at once, snooze after a second
    assert dict((n, v) for n, v in completed)["factorial-0"] == ["lib.factorial_if.FactorialReturned",
                                                                  {"value": 120}, []]


def test_a_role_whose_executable_is_gone_is_faulted_and_the_run_exits_1(cli: Cli, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "noop").symlink_to(REPO / "bin" / "noop")
    other = tmp_path / "other"
    other.mkdir()
    c = Cli(other, cli.env)
    c.ok("create", f"--redirect-bin={dist}")
    c.ok("add", "noop")
    (dist / "noop").unlink()
    done = c("run")
    assert done.returncode == 1
    (name, value), = document(done.stdout)["value"][1]["completed"]
    assert name == "noop-0" and value[0] == "ansar.create.lifecycle.Faulted"
    assert 'executable "noop" not found' in value[1]["condition"]


def test_a_search_that_matches_nothing_is_refused(cli: Cli) -> None:
    cli.ok("add", "noop")
    assert cli.refused(1, "run", "nothing-.*") == 'ansar: search "nothing-.*" matches no role'


# --- start, status, stop -----------------------------------------------------------------------------


def test_start_status_stop_follow_the_tour(cli: Cli) -> None:
    cli.ok("add", "noop")
    cli.ok("add", "snooze")
    cli.ok("update", "snooze-0", "--seconds=10.0")
    cli.ok("add", "zombie")
    assert cli.ok("start") == ""
    assert cli.running() == ["snooze-0", "zombie-0"]  # noop has been and gone
    pids = cli.pids()
    assert re.fullmatch(r"zombie-0 <\d+> \d+\.\ds", cli.ok("status", "-l", "zombie-.*").strip())
    err = cli.refused(1, "start")
    both = f'{pids["snooze-0"]}, {pids["zombie-0"]}'
    assert err == f'ansar: cannot perform "start", "(all)" currently running as - {both}'
    err = cli.refused(1, "stop", "noop-0|zombie-0")
    assert err == 'ansar: cannot perform "stop", "noop-0|zombie-0" not currently running - noop-0'
    cli.ok("stop", "zombie-0")
    assert cli.running() == ["snooze-0"]
    assert gone(pids["zombie-0"])
    assert re.fullmatch(r"\[0\] \d+\.\ds ago \.\.\. \d+\.\ds \(Aborted\)\n", cli.ok("history", "zombie-0"))
    assert document(cli.ok("returned", "zombie-0")) == {"value": ABORTED}
    cli.ok("-f", "stop")
    assert cli.running() == []


def test_started_roles_are_detached_in_the_root_folder_and_log_to_storage(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("start")
    pid = cli.pids()["zombie-0"]
    p = psutil.Process(pid)
    assert p.cwd() == "/"
    assert os.getsid(pid) != os.getsid(0)
    assert p.terminal() is None
    log = cli.ok("log", "zombie-0")
    assert "Working folder \"/\"" in log
    assert "zombie - Do nothing until interrupted" in log
    cli.ok("stop")


def test_force_start_replaces_the_running_instance(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("start")
    first = cli.pids()["zombie-0"]
    cli.ok("-f", "start")
    second = cli.pids()["zombie-0"]
    assert first != second and gone(first)


def test_a_role_that_cannot_start_is_named_with_its_reason(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("add", "snooze")
    settings = cli.home / "settings" / "snooze-0.json"
    settings.write_text('{"value": {"seconds": "long"}}')
    done = cli("start")
    assert done.returncode == 1
    assert done.stderr.startswith('ansar: role "snooze-0" did not start (ended with 2')
    assert done.stderr.count("\n") == 1
    assert cli.running() == ["zombie-0"]


def test_concurrent_starts_of_one_role_run_exactly_one_instance(cli: Cli) -> None:
    cli.ok("add", "zombie")
    starts = [cli.popen("start") for _ in range(4)]
    results = [(p.wait(timeout=DEADLINE), p.communicate()) for p in starts]
    assert sum(1 for code, _ in results if code == 0) >= 1
    for code, (_, err) in results:
        assert code == 0 or err.startswith('ansar: cannot perform "start"'), err
    mine = f"--home-path={cli.home}"
    zombies = [p for p in psutil.process_iter(["cmdline"])
               if {"--role-name=zombie-0", mine} <= set(p.info["cmdline"] or [])]
    assert len(zombies) == 1


def test_a_killed_started_role_drops_out_and_its_history_says_so(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("start")
    pid = cli.pids()["zombie-0"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), what="zombie killed")
    assert cli.running() == []
    history = cli.ok("history", "zombie-0")
    assert history.endswith("(Faulted)\n"), history
    cli.ok("start")
    assert cli.running() == ["zombie-0"]


# --- run beside started roles; stopping and killing a run ---------------------------------------------


def test_run_beside_started_roles_leaves_them_running(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("add", "noop")
    cli.ok("start", "zombie-0")
    pid = cli.pids()["zombie-0"]
    done = cli("run", "noop-0")
    assert done.returncode == 0 and document(done.stdout) == run_document(("noop-0", ACK))
    assert cli.pids() == {"zombie-0": pid}
    assert cli.refused(1, "run", "zombie-0") == f'ansar: cannot perform "run", "zombie-0" currently running as - {pid}'


def test_stop_of_one_role_of_a_run_lets_the_run_go_on(cli: Cli) -> None:
    cli.ok("add", "zombie", "--count=2")
    run = cli.popen("run")
    wait_for(lambda: cli.running() == ["zombie-0", "zombie-1"], what="the run's roles hold their locks")
    cli.ok("stop", "zombie-0")
    assert run.poll() is None
    cli.ok("stop", "zombie-1")
    out, err = run.communicate(timeout=DEADLINE)
    assert run.returncode == 1  # Aborted values
    assert document(out) == run_document(("zombie-0", ABORTED), ("zombie-1", ABORTED))


def test_sigkill_of_run_leaves_no_role_behind(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("add", "factorial")
    run = cli.popen("run")
    wait_for(lambda: "zombie-0" in cli.running(), what="zombie running")
    tree = [p.pid for p in psutil.Process(run.pid).children(recursive=True)]
    run.kill()
    run.communicate()
    wait_for(lambda: all(gone(p) for p in tree), seconds=2.0, what="every role and descendant gone")
    assert cli.running() == []
    assert cli.ok("history", "zombie-0").endswith("(Faulted)\n")


def _read_until(fd: int, text: bytes, seconds: float = DEADLINE) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while text not in seen:
        assert time.monotonic() < deadline, f"{text!r} not seen in {seen!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_c_in_a_terminal_reaches_the_run_alone(cli: Cli) -> None:
    cli.ok("add", "zombie", "--count=2")
    cli.ok("add", "snooze")
    cli.ok("start", "zombie-0")
    started = cli.pids()["zombie-0"]
    leader, follower = pty.openpty()
    run = subprocess.Popen(cli.argv("run", "zombie-1|snooze-0", "--debug-level=CONSOLE"), cwd=cli.cwd, env=cli.env,
                           stdin=follower, stdout=subprocess.PIPE, stderr=follower, start_new_session=True,
                           preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
    os.close(follower)
    try:
        _read_until(leader, b"zombie - Do nothing until interrupted")
        os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the foreground group
        output, _ = run.communicate(timeout=DEADLINE)
    finally:
        os.close(leader)
    out = output.decode()
    assert run.returncode == 130
    assert out.count('"ansar.command.ansar_command.Run"') == 1
    completed = document(out)["value"][1]["completed"]
    assert sorted(map(tuple, completed)) == [("snooze-0", ABORTED), ("zombie-1", ABORTED)]  # in completion order
    assert cli.pids() == {"zombie-0": started}


# --- the hardening issue: big trees and executables found in the home's bin -----------------------


BUSY_INPUT = {"value": {"duties": ["noop", "snooze", "factorial"], "management_levels": 4, "managers": 3}}


def test_force_delete_of_a_started_busy_tree_ends_it_within_the_grace_bound(cli: Cli, tmp_path: Path) -> None:
    cli.ok("add", "busy")
    (tmp_path / "busy-input").write_text(json.dumps(BUSY_INPUT))
    cli.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")
    cli.ok("start")
    root = psutil.Process(cli.pids()["busy-0"])
    wait_for(lambda: len(root.children(recursive=True)) >= 40, what="a tree of 40 processes")
    tree = [p.pid for p in root.children(recursive=True)] + [root.pid]
    started = time.monotonic()
    cli.ok("-f", "delete", "busy-0")
    assert time.monotonic() - started < 5.0 + 2.0 + 2.0 + 1.0
    wait_for(lambda: all(gone(p) for p in tree), seconds=2.0, what="the whole tree gone")


def test_a_components_grandchild_is_found_in_the_homes_bin_off_path(tmp_path: Path, tool_env: dict[str, str]) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("busy", "noop", "factorial"):
        (dist / name).symlink_to(REPO / "bin" / name)
    env = dict(tool_env, PATH=os.pathsep.join(p for p in tool_env["PATH"].split(os.pathsep)
                                               if Path(p).resolve() != (REPO / "bin").resolve()))
    work = tmp_path / "work"
    work.mkdir()
    c = Cli(work, env)
    c.ok("create", f"--redirect-bin={dist}")
    c.ok("add", "busy")
    small = tmp_path / "small"
    small.write_text(json.dumps({"value": {"duties": ["noop", "factorial"], "management_levels": 2, "managers": 1}}))
    c.ok("input", "busy-0", f"--set-file={small}")
    done = c("run")
    assert done.returncode == 0, done.stderr
    assert "not found" not in done.stderr
    (_, value), = document(done.stdout)["value"][1]["completed"]
    assert value == ["lib.job_if.JobReturned", {"processes": 6}, []]  # two busy, four duties


def test_status_and_stop_of_an_empty_home_say_nothing_but_run_refuses(cli: Cli) -> None:
    assert cli.ok("status") == ""
    assert cli.ok("stop") == ""
    assert cli.refused(1, "run") == 'ansar: search "(all)" matches no role'
    assert cli.refused(1, "status", "x-.*") == 'ansar: search "x-.*" matches no role'


# --- test runs ----------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def client_server(cli: Cli) -> Cli:
    port = free_port()
    cli.ok("add", "server", f"--port={port}")
    cli.ok("add", "client", f"--port={port}")
    cli.ok("start", "server-0")
    wait_for(lambda: "listen - Listening on" in cli.ok("log", "server-0"), what="server listening")
    return cli


def test_a_test_run_prints_the_failed_tests_as_clickable_lines_and_exits_1(client_server: Cli) -> None:
    cli = client_server
    examples = REPO / "examples"
    done = cli("run", "client-0", f"--code-path={examples}", "--test-run")
    assert done.returncode == 1, done.stderr
    assert done.stdout == (
        'role "client-0" (pass/fail): 0/3\n'
        f"{examples}/client.py:51 - Expected b'fervent' for b'eager', got b'eager'\n"
        f"{examples}/client.py:56 - Expected b'define' for b'explain', got b'explain'\n"
        f"{examples}/client.py:61 - Expected b'droll' for b'fly', got b'fly'\n")
    assert cli.running() == ["server-0"]  # left running beside the run


def test_an_analyzer_gets_the_suite_and_its_value_is_the_runs(client_server: Cli, tmp_path: Path) -> None:
    cli = client_server
    junit = tmp_path / "junit.xml"
    done = cli("run", "client-0", "--test-analyzer=analyzer", "--debug-level=CONSOLE", f"--junit-xml={junit}")
    assert done.returncode == 0, done.stderr
    assert document(done.stdout) == {"value": ACK}
    assert any(line.endswith("^ <00000009>analyzer - Analyzed client-0") for line in done.stderr.splitlines())
    from xml.etree import ElementTree as ET

    suite, = ET.parse(junit).getroot()
    assert suite.get("name") == "client-0" and suite.get("failures") == "3"
    assert [case.get("line") for case in suite] == ["51", "56", "61"]
    assert cli.refused(2, "run", "--test-run", "--test-analyzer=analyzer").startswith("ansar: run: --test-run")
    assert cli.refused(1, "run", "client-0", "--test-analyzer=nothing") == \
        f'ansar: executable "nothing" not found in {REPO / "bin"}'


def test_a_test_run_without_reports_says_so(cli: Cli) -> None:
    cli.ok("add", "noop")
    done = cli("run", "--test-run")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", 'ansar: no test reports from "(all)"\n')
