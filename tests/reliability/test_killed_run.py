"""SIGKILL of ``ansar run`` before, while and after it starts its roles.

The run is killed when it writes a given record to stderr (``--debug-level=DEBUG`` before the
sub-command shows ansar's records and the roles'), or after a delay. Whatever the point, every
role and every descendant of the run ends within a second, and the next look at each role's
history closes the record of the execution the kill cut short.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from reliability_support import (
    FIGURES,
    Cli,
    InProcess,
    check_home,
    gone,
    kill_all,
    lineage_pids,
    make_program,
    role_instances,
    soak,
    subreaper,
    wait_for,
)

SMALL_BUSY = {"value": {"duties": ["noop", "snooze"], "management_levels": 2, "managers": 1}}
ROLES = ("busy-0", "snooze-0", "zombie-0")

# (what the run writes, which occurrence) or a delay in seconds after it was started.
QUICK_POINTS = [("Detect status of associated roles", 1), ("Started process", 1), ("Started process", 3),
                ("busy - Created by", 2)]
SOAK_POINTS = QUICK_POINTS + [0.0, ("zombie - Do nothing until interrupted", 1), 0.02, 0.05, 0.1, 0.2,
                              ("Call the sub-command function", 1),
                              ('Running "', 1), ("Process[INITIAL] - Execute", 1),
                              ("Process[INITIAL] - Execute", 3), ("Started process", 2),
                              ("lock_and_hold - Created", 1), ("lock_and_hold - Created", 3),
                              ("start_vector - Created", 2), ("snooze - Do nothing", 1),
                              ("Started process", 5), ("busy - Created by", 1), ("noop - Log this", 1),
                              ("Process[EXECUTING] - Started process", 6), 0.5]


@pytest.fixture
def template(cli: Cli, tmp_path: Path) -> Path:
    """A home with a zombie, a long snooze and a small busy tree (and a noop to show the home still
    works), to be copied for each run."""
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("add", "snooze")
    fast.ok("update", "snooze-0", "--seconds=60.0")
    fast.ok("add", "busy")
    fast.ok("add", "noop")
    (tmp_path / "busy-input").write_text(json.dumps(SMALL_BUSY))
    fast.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")
    return cli.home


def _kill_at(run: subprocess.Popen, point, tree: set[int]) -> None:  # type: ignore[no-untyped-def]
    """Read the run's stderr until the point, sampling its tree, then SIGKILL it."""
    me = psutil.Process(run.pid)

    def sample() -> None:
        try:
            tree.update(p.pid for p in me.children(recursive=True))
        except psutil.Error:
            pass

    if isinstance(point, float):
        deadline = time.monotonic() + point
        while time.monotonic() < deadline:
            sample()
            time.sleep(0.005)  # the point is a delay
    else:
        text, occurrence = point
        seen = 0
        assert run.stderr is not None
        give_up = threading.Timer(60.0, run.kill)  # a point the run never reaches must not hang the test
        give_up.start()
        try:
            for line in run.stderr:
                sample()
                if text in line:
                    seen += 1
                    if seen == occurrence:
                        break
            else:
                raise AssertionError(f"the run ended (or was killed after 60 s) before {text!r} #{occurrence}")
        finally:
            give_up.cancel()
    sample()
    run.kill()
    FIGURES.fault()
    # Keep reading what is left, so that no role blocks on a full pipe.
    threading.Thread(target=run.communicate, daemon=True).start()


def killed_run_leaves_nothing(cli: Cli, template: Path, work: Path, point) -> None:  # type: ignore[no-untyped-def]
    """Copy the template home to ``work``, kill a run of it at ``point``, check what must hold."""
    work.mkdir()
    shutil.copytree(template, work / ".ansar-home", symlinks=True)
    c = Cli(work, cli.env)
    run = c.popen("--debug-level=DEBUG", "run", "noop-0", "--invert-search")
    tree: set[int] = set()
    _kill_at(run, point, tree)
    run.wait()
    assert run.returncode == -signal.SIGKILL

    def nothing_left() -> bool:
        return all(gone(p) for p in tree) and not lineage_pids(c.home)

    try:
        wait_for(nothing_left, seconds=1.0, what="every role and descendant of the killed run gone")
    except AssertionError:
        left = sorted({p for p in tree if not gone(p)} | set(lineage_pids(c.home)))
        FIGURES.add("orphan processes", len(left))
        kill_all(left)
        raise AssertionError(f"left running after SIGKILL of run at {point}: {left}") from None
    fast = InProcess(work)
    assert fast.ok("status") == ""
    for role in ROLES:
        fast.ok("history", role)  # the look that closes a lost record
        path = c.home / "history" / f"{role}.json"
        if not path.exists():
            continue  # killed before this role opened an execution
        records = json.loads(path.read_bytes())["value"]
        open_ones = [r for r in records if "end" not in r]
        FIGURES.add("roles lost", len(open_ones))
        assert not open_ones, f"{role}: records left open {open_ones}"
        assert records[-1]["value"][0] == "ansar.create.lifecycle.Faulted", records[-1]
    assert check_home(c.home) == []
    done = c("run", "noop-0")  # and the home works on
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("point", soak(QUICK_POINTS, SOAK_POINTS), ids=str)
def test_sigkill_of_run_leaves_nothing_and_history_closes_at_the_next_look(cli: Cli, template: Path,
                                                                           tmp_path: Path, point) -> None:  # type: ignore[no-untyped-def]
    """Orphans go to init here, as on a plain server (see the next test for a subreaper)."""
    with subreaper(False):
        killed_run_leaves_nothing(cli, template, tmp_path / "killed", point)


def test_sigkill_of_run_leaves_nothing_when_a_subreaper_adopts_the_orphans(cli: Cli, template: Path,
                                                                           tmp_path: Path) -> None:
    """As under systemd --user, tini or this test process: the third role is caught starting."""
    with subreaper(True):
        killed_run_leaves_nothing(cli, template, tmp_path / "killed", ("Started process", 3))


# --- a role caught importing: held at a gate before create_object, the run killed meanwhile ---------

GATED = """
GATE = {gate!r}
if any(a.startswith("--role-name=") for a in sys.argv):  # as a role, not when ansar add asks its settings
    open(GATE + ".importing", "w").close()
    deadline = time.monotonic() + 30.0
    while not os.path.exists(GATE) and time.monotonic() < deadline:
        time.sleep(0.01)  # held at the gate, as if still importing


def gated(self):
    self.console("Past the gate")
    self.select(ar.Stop)
    return ar.Aborted()
"""


def _gated_run(cli: Cli, bin_dir: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    gate = tmp_path / "gate"
    make_program(bin_dir, "gated", GATED.format(gate=str(gate)))
    cli.fast.ok("add", "gated")  # type: ignore[attr-defined]
    run = cli.popen("run", "gated-0", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: (tmp_path / "gate.importing").exists(), what="the role at its gate")
    run.kill()
    FIGURES.fault()
    return run, gate


def _role_ends(cli: Cli) -> None:
    try:
        wait_for(lambda: not lineage_pids(cli.home), seconds=1.0, what="the role caught importing gone")
    except AssertionError:
        left = lineage_pids(cli.home)
        FIGURES.add("orphan processes", len(left))
        kill_all(left)
        raise


@pytest.mark.parametrize("adopted_by", ["init", "a subreaper"])
def test_a_role_caught_importing_ends_when_it_finds_its_run_gone(cli: Cli, bin_dir: Path, tmp_path: Path,
                                                                 adopted_by: str) -> None:
    with subreaper(adopted_by == "a subreaper"):
        run, gate = _gated_run(cli, bin_dir, tmp_path)
        run.wait()  # reaped: its pid is gone
        gate.touch()
        _role_ends(cli)


def test_a_role_caught_importing_ends_when_its_killed_run_is_not_yet_reaped(cli: Cli, bin_dir: Path,
                                                                           tmp_path: Path) -> None:
    with subreaper(True):
        run, gate = _gated_run(cli, bin_dir, tmp_path)
        wait_for(lambda: gone(run.pid), what="the run killed")  # a zombie till we reap it
        gate.touch()
        try:
            wait_for(lambda: not lineage_pids(cli.home) or role_instances(cli.home, "gated-0"),
                     what="the role past its gate (holding its lock) or gone")
        finally:
            run.wait()
        _role_ends(cli)
