"""Command roles that fail: a command exiting non-zero, one killed by a signal, one leaving a
background child (in its process group, or in a session of its own), under ``run`` and under
``start``/``stop``, and a run's ``--fail-fast`` and ``--jobs`` under a storm of them.

Each ends with the right value in history (Faulted ``exit status N`` or ``killed by signal S``,
Ack, Aborted once stopped), no process of it left (found by its lineage marker) and ``status``
true. The line itself is stored exactly, shown JSON-quoted, and reaches ``/bin/sh`` as the one
argument after ``-c`` with nothing put into it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import psutil
from reliability_support import FIGURES, Cli, InProcess, lineage_pids, wait_for
from terminal_support import ABORTED
from terminal_support import completed as documented

from ansar.home._command import SHELL, argv_of

__all__: list[str] = []

FAULTED = "ansar.create.lifecycle.Faulted"
ACK = ["ansar.create.lifecycle.Ack", {}, []]

# role: (line, its value once it ended by itself)
FAILING = {
    "exits-0": ("exit 7", [FAULTED, {"condition": "exit status 7"}, []]),
    "killed-0": ("kill -KILL $$", [FAULTED, {"condition": "killed by signal 9"}, []]),
    "child-0": ("sleep 60 & echo $!", ACK),
    "detached-0": ("setsid sleep 60 & echo $!", ACK),
}
FAILING_SEARCH = "|".join(FAILING)
LINGERING = "sleep 60 & setsid sleep 60 & wait"  # ends only when stopped, leaving two children


def _fast(cli: Cli) -> InProcess:
    return cli.fast  # type: ignore[attr-defined,no-any-return]


def _add(cli: Cli, roles: dict[str, str]) -> None:
    for role, line in roles.items():
        _fast(cli).ok("add", f"--command={line}", role)


def _run(cli: Cli, *args: str) -> tuple[int, str, str]:
    """``ansar <args>`` whose exit 1 is a role's failure, not a refusal (not counted as one)."""
    p = cli.popen(*args)
    out, err = p.communicate(timeout=20)
    return p.returncode, out, err


def _latest(cli: Cli, role: str) -> list:
    return json.loads((cli.home / "history" / f"{role}.json").read_text())["value"][-1].get("value")


def _nothing_left(cli: Cli) -> None:
    """No process of any role of the home, ``status`` empty, within a second."""
    wait_for(lambda: not lineage_pids(cli.home), seconds=1.0, what="every process of the roles gone")
    assert _fast(cli).ok("status") == ""


def test_a_line_of_plain_words_naming_a_shell_builtin_or_an_assignment_goes_to_the_shell() -> None:
    assert argv_of("sleep 60") == ["sleep", "60"]
    assert argv_of("dd if=/dev/zero of=x") == ["dd", "if=/dev/zero", "of=x"]
    for line in ("exit 7", "cd /tmp", "TZ=UTC date", "wait", ": nothing", ". ./env", "umask 077"):
        assert argv_of(line) == [SHELL, "-c", line], line


def test_failing_commands_under_run_read_their_values_and_leave_nothing(cli: Cli) -> None:
    _add(cli, {role: line for role, (line, _) in FAILING.items()})
    FIGURES.fault(len(FAILING))
    status, out, err = _run(cli, "run", FAILING_SEARCH)
    assert (status, err) == (1, "")
    assert documented(out) == {role: value for role, (_, value) in FAILING.items()}
    assert {role: _latest(cli, role) for role in FAILING} == {role: value for role, (_, value) in FAILING.items()}
    _nothing_left(cli)


def test_failing_commands_under_start_read_their_values_and_leave_nothing(cli: Cli) -> None:
    _add(cli, {role: line for role, (line, _) in FAILING.items()})
    FIGURES.fault(len(FAILING))
    cli.ok("start", FAILING_SEARCH)
    wait_for(lambda: all(_latest(cli, role) is not None for role in FAILING), what="every value recorded")
    assert {role: _latest(cli, role) for role in FAILING} == {role: value for role, (_, value) in FAILING.items()}
    _nothing_left(cli)


def test_stop_of_a_started_command_with_children_in_and_out_of_its_group_is_aborted(cli: Cli) -> None:
    _add(cli, {"linger-0": LINGERING})
    cli.ok("start", "linger-0")
    wait_for(lambda: len(lineage_pids(cli.home, role="linger-0")) == 3, what="the shell and both sleeps")
    FIGURES.fault()
    cli.ok("stop", "linger-0")
    wait_for(lambda: _latest(cli, "linger-0") is not None, seconds=2.0, what="the value recorded")
    assert _latest(cli, "linger-0") == ABORTED
    _nothing_left(cli)


def test_ctrl_c_of_a_run_aborts_a_command_with_children_in_and_out_of_its_group(cli: Cli) -> None:
    _add(cli, {"linger-0": LINGERING})
    run = cli.popen("run", "linger-0")
    wait_for(lambda: len(lineage_pids(cli.home, role="linger-0")) == 3, what="the shell and both sleeps")
    run.send_signal(signal.SIGINT)
    FIGURES.fault()
    out, err = run.communicate(timeout=10)
    assert (run.returncode, err) == (130, "")
    assert documented(out) == {"linger-0": ABORTED}
    assert _latest(cli, "linger-0") == ABORTED
    _nothing_left(cli)


LINE = "echo \"{role}\" \"$ANSAR_ROLE\" '$ANSAR_ROLE'; sleep 60 & wait\n#\x01\x1b[31m\t"


def test_the_line_is_stored_exactly_shown_quoted_and_reaches_the_shell_whole(cli: Cli) -> None:
    fast = _fast(cli)
    _add(cli, {"quoted-0": LINE})
    assert json.loads(fast.ok("settings", "quoted-0")) == {"value": {"command": LINE}}
    assert json.loads((cli.home / "settings" / "quoted-0.json").read_text()) == {"value": {"command": LINE}}
    listed = fast.ok("list", "-l", "quoted-0")
    assert listed.count("\n") == 1 and "\x1b" not in listed and "\t" not in listed, repr(listed)
    assert json.dumps(LINE)[:40] in listed, listed
    cli.ok("start", "quoted-0")
    pid = int(fast.ok("status", "-l").split()[1].strip("<>"))
    shell = psutil.Process(pid).parent()
    assert shell.cmdline() == [SHELL, "-c", LINE]  # the one argument after -c, as stored
    cli.ok("stop", "quoted-0")
    log = fast.ok("log", "quoted-0", "--start=-1")
    assert "quoted-0 - {role} quoted-0 $ANSAR_ROLE\n" in log  # expanded by the shell only, from its environment
    assert f"Execute {json.dumps(LINE)}\n" in log
    assert "\x1b" not in log and "\x01" not in log
    assert _latest(cli, "quoted-0") == ABORTED
    _nothing_left(cli)


def _crashers(cli: Cli, count: int) -> None:
    _add(cli, {f"crash-{n}": "exit 3" for n in range(count)})


def test_fail_fast_under_a_storm_of_crashing_roles(cli: Cli) -> None:
    _crashers(cli, 6)
    _add(cli, {f"long-{n}": "sleep 60" for n in range(2)})
    _fast(cli).ok("add", "zombie")  # a component, caught while it starts
    FIGURES.fault(6)
    status, out, err = _run(cli, "--debug-level=CONSOLE", "run", "--fail-fast")
    assert status == 1
    completed = documented(out)
    assert len(completed) == 9
    assert err.count("Fail fast after") == 1, err
    first = err.split('Fail fast after "', 1)[1].split('"', 1)[0]
    assert completed.pop(first) == [FAULTED, {"condition": "exit status 3"}, []]
    for role, value in completed.items():  # crashed before the Stop reached it, or Aborted
        if role.startswith("crash-") and value != ABORTED:
            assert value == [FAULTED, {"condition": "exit status 3"}, []], (role, value)
        else:
            assert value == ABORTED, (role, value)
    _nothing_left(cli)


def _roles_at_once(home: Path) -> int:
    """How many roles of ``home`` have a live process now (lineage markers)."""
    prefix = f"ANSAR_LINEAGE={home}/".encode()
    roles = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                zombie = f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except (OSError, IndexError):
            continue
        roles.update(e for e in env if e.startswith(prefix) and not zombie)
    return len(roles)


def test_jobs_is_never_exceeded_under_a_storm_of_crashing_roles(cli: Cli) -> None:
    _crashers(cli, 6)
    _add(cli, {f"short-{n}": "sleep 0.2" for n in range(2)})
    FIGURES.fault(6)
    most = [0]
    samples = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            most[0] = max(most[0], _roles_at_once(cli.home))
            samples[0] += 1

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        status, out, err = _run(cli, "run", "--jobs=2")
    finally:
        done.set()
        sampler.join()
    assert (status, err) == (1, "")
    completed = documented(out)
    assert len(completed) == 8 and all(completed[f"short-{n}"] == ACK for n in range(2))
    assert 1 <= most[0] <= 2, most[0]
    assert samples[0] > 10, "the run was not sampled throughout"
    _nothing_left(cli)
