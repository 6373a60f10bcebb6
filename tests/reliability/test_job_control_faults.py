"""Ctrl-Z, ``fg`` and what else reaches a paused run, in a pseudo-terminal.

Ctrl-Z is SIGTSTP to the terminal's foreground process group (the run alone: its roles have
groups of their own); the run pauses every process of its roles' trees, then itself. ``fg`` is
SIGCONT to the run's group; the shell's ``kill %1`` of a stopped job is SIGTERM then SIGCONT;
closing the terminal sends the session SIGHUP then SIGCONT. Whatever comes, every process is
paused or none is, the document comes once, and nothing of the roles is left.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from reliability_support import FIGURES, Cli, InProcess, gone, lineage_pids, soak, wait_for
from terminal_support import ABORTED, Terminal, completed, nothing_of

from ansar.home._signals import is_paused

SMALL_BUSY = {"value": {"duties": ["noop", "snooze"], "management_levels": 3, "managers": 2}}
ROLES = ("busy-0", "snooze-0", "zombie-0")


@pytest.fixture
def home(cli: Cli, tmp_path: Path) -> Cli:
    """A small busy tree, a zombie and a long snooze."""
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("add", "snooze")
    fast.ok("update", "snooze-0", "--seconds=60.0")
    fast.ok("add", "busy")
    (tmp_path / "busy-input").write_text(json.dumps(SMALL_BUSY))
    fast.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")
    return cli


def _ctrl_z(term: Terminal) -> None:
    os.killpg(os.tcgetpgrp(term.leader), signal.SIGTSTP)
    FIGURES.fault()


def _fg(term: Terminal) -> None:
    os.killpg(term.process.pid, signal.SIGCONT)


def _live(cli: Cli) -> list[int]:
    return [p for p in lineage_pids(cli.home) if not gone(p)]


def _all_paused(cli: Cli, term: Terminal) -> bool:
    return is_paused(term.process.pid) and all(is_paused(p) or gone(p) for p in _live(cli))


def _none_paused(cli: Cli, term: Terminal) -> bool:
    return not is_paused(term.process.pid) and not any(is_paused(p) for p in _live(cli))


def _pid_of(cli: Cli, role: str) -> int:
    """The role's pid as ``status -l`` shows it (``<pid>``, paused or not); 0 if not shown."""
    for line in cli.ok("status", "-l").splitlines():
        words = line.split()
        if words[0] == role and words[1].startswith("<"):
            return int(words[1].strip("<>"))
    return 0


def _grown(cli: Cli, members: int) -> bool:
    return len(_live(cli)) >= members


def _paused_run(cli: Cli, members: int) -> Terminal:
    """A run of the home, Ctrl-Z once its roles have ``members`` processes, everything paused."""
    term = Terminal(cli, "run")
    wait_for(lambda: _grown(cli, members), what=f"{members} processes of the run's roles", pause=0.005)
    _ctrl_z(term)
    try:
        wait_for(lambda: _all_paused(cli, term), what="the run and every process of its roles paused")
    except AssertionError:
        awake = [(p, _command_line(p)) for p in _live(cli) if not is_paused(p)]
        raise AssertionError(f"run paused: {is_paused(term.process.pid)}; not paused: {awake}") from None
    return term


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


def _ends_aborted(cli: Cli, term: Terminal, roles: tuple[str, ...] = ROLES) -> dict[str, list]:
    status, out, shown = term.finish()
    assert status == 130, (status, shown)
    assert "Traceback" not in shown, shown
    values = completed(out)
    nothing_of(cli, *ROLES)
    for role in roles:
        assert values[role] == ABORTED, (role, values)
    return values


@pytest.mark.parametrize("members", soak([2, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
def test_ctrl_z_while_roles_start_pauses_every_process_and_fg_continues_them(home: Cli, members: int) -> None:
    term = _paused_run(home, members)
    _fg(term)
    wait_for(lambda: _none_paused(home, term), what="the run and every process of its roles continued")
    wait_for(lambda: home.running() == sorted(ROLES), what="every role of the run up")
    term.ctrl_c()
    _ends_aborted(home, term)


def test_a_role_killed_while_paused_ends_and_the_others_go_on(home: Cli) -> None:
    term = _paused_run(home, 9)
    wait_for(lambda: _pid_of(home, "zombie-0"), what="zombie-0 named in status")
    os.kill(_pid_of(home, "zombie-0"), signal.SIGKILL)
    FIGURES.fault()
    _fg(term)
    wait_for(lambda: _none_paused(home, term), what="the others continued")
    wait_for(lambda: home.running() == ["busy-0", "snooze-0"], what="zombie-0 gone, the others up")
    term.ctrl_c()
    values = _ends_aborted(home, term, roles=("busy-0", "snooze-0"))
    assert values["zombie-0"] in (ABORTED, ["ansar.create.lifecycle.Faulted", values["zombie-0"][1], []])
    history = json.loads((home.home / "history" / "zombie-0.json").read_bytes())["value"]
    assert "end" in history[-1], history[-1]  # closed by the run, not left for the next look
    FIGURES.add("roles lost", sum("end" not in r for r in history))


def test_kill_of_a_paused_run_as_the_shell_does_ends_it_and_its_roles(home: Cli) -> None:
    """bash's ``kill %1`` of a stopped job: SIGTERM, then SIGCONT so that it can act on it."""
    term = _paused_run(home, 9)
    os.killpg(term.process.pid, signal.SIGTERM)
    FIGURES.fault()
    _fg(term)
    _ends_aborted(home, term)


def test_closing_the_terminal_of_a_paused_run_ends_it_and_its_roles(home: Cli) -> None:
    term = _paused_run(home, 9)
    term.hang_up()  # the kernel: SIGHUP, then SIGCONT, to the session's stopped leader
    _ends_aborted(home, term)
