"""Many ``ansar`` commands at once on one home, and probes that must change nothing.

Twenty commands (start, run, stop, add, delete, set, deploy, snapshot) are started together on
one home while a sampler looks, every few milliseconds, at which processes hold a role's lock:
never two instances of a role. Each command succeeds or gives its one-line refusal; afterwards
every home file decodes and ``status`` agrees with the locks held. Probing (status, list, run's
detection of a running role, deploy) leaves a running role's files byte-for-byte as they were.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from reliability_support import (
    DEADLINE,
    FIGURES,
    Cli,
    InProcess,
    check_home,
    home_tree,
    lineage_pids,
    one_line_refusal,
    role_instances,
    soak,
)

ROLES = ("zombie-0", "zombie-1", "snooze-0", "noop-0")


class Sampler:
    """A thread counting, until stopped, the lock-holding instances of each role."""

    def __init__(self, home: Path, roles: tuple[str, ...]) -> None:
        self.home, self.roles = home, roles
        self.most = dict.fromkeys(roles, 0)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for role in self.roles:
                self.most[role] = max(self.most[role], len(role_instances(self.home, role)))
            self.samples += 1
            self._stop.wait(0.005)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def busy_home(cli: Cli, tmp_path: Path) -> Cli:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie", "--count=2")
    fast.ok("add", "snooze")
    fast.ok("update", "snooze-0", "--seconds=0.2")
    fast.ok("add", "noop")
    fast.ok("snapshot", "testing")
    (cli.cwd / "testing" / "model-by-role" / "zombie-1" / "model.json").write_text('{"value": 1}')
    (tmp_path / "retry").write_text(json.dumps({"value": {"first_steps": [0.1], "regular_steps": 0.2}}))
    return cli


def _commands(cli: Cli, tmp_path: Path, n: int) -> list[tuple[str, ...]]:
    """``n`` commands of every kind, in an order that puts kinds side by side."""
    kinds: list[tuple[str, ...]] = [
        ("start", "zombie-0"), ("start", "zombie-.*"), ("run", "snooze-0"), ("stop", "zombie-0"),
        ("add", "noop", "extra-{number}", "--start=%d"), ("delete", "extra-%d"),
        ("set", "retry", "zombie-1", f"--encoding-file={tmp_path / 'retry'}"),
        ("-f", "deploy", "--storage-path=testing"),
        ("snapshot", "snap-%d"), ("start", "zombie-1"), ("run", "noop-0"), ("-f", "stop"), ("status", "-l"),
    ]
    chosen = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        chosen.append(tuple(w % (i // len(kinds)) if "%d" in w else w for w in kind))
    return chosen


def _stopped_by_another(out: str) -> bool:
    completed = json.loads(out)["value"][1]["completed"]
    return all(value[0] == "ansar.create.lifecycle.Aborted" for _, value in completed)


@pytest.mark.parametrize("rounds", [soak(1, 5)])
def test_twenty_commands_at_once_each_succeed_or_refuse_and_one_instance_at_most(busy_home: Cli, tmp_path: Path,
                                                                               rounds: int) -> None:
    cli = busy_home
    for _ in range(rounds):
        commands = _commands(cli, tmp_path, 20)
        with Sampler(cli.home, ROLES) as sampler:
            running = [(args, cli.popen(*args)) for args in commands]
            FIGURES.fault(len(running))
            results = []
            for args, p in running:
                out, err = p.communicate(timeout=DEADLINE * 2)
                results.append((args, p.returncode, err, out))
        for args, status, err, out in results:
            if args[0] == "run" and status == 1 and err == "" and _stopped_by_another(out):
                continue  # a concurrent stop ended the run's role: Aborted, in the run's document
            if status != 0 and not one_line_refusal(status, err):
                FIGURES.add("refusals without a message")
                raise AssertionError(f"ansar {' '.join(args)}: {status} {err!r}")
            if status == 0 and args[0] != "run":
                assert err == "", f"ansar {' '.join(args)}: {err!r}"
        assert sampler.samples > 10
        twice = {role: n for role, n in sampler.most.items() if n > 1}
        assert not twice, f"roles seen running twice at once: {twice}"
        assert check_home(cli.home) == []
        listed = set(cli.ok("status").split())
        held = {role for role in ROLES if role_instances(cli.home, role)}
        assert listed & set(ROLES) == held
        cli.ok("list")
        cli.ok("-f", "stop")


def _role_files(cli: Cli, role: str) -> dict[str, tuple[int, bytes | None]]:
    tree = home_tree(cli.home)
    return {path: entry for path, entry in tree.items()
            if role in Path(path).parts or Path(path).name.startswith(role + ".")}


def test_probing_a_running_role_changes_none_of_its_files(cli: Cli) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("snapshot", "testing")
    cli.ok("start")
    before = _role_files(cli, "zombie-0")
    assert any(p.startswith("lock") for p in before) and any(p.startswith("logs") for p in before), sorted(before)
    stamp = {p: (cli.home / p).stat().st_mtime_ns for p in before}
    probes = [("status",), ("status", "-l"), ("list",), ("list", "-l"), ("run", "zombie-0"),
              ("deploy", "--storage-path=testing"), ("history", "zombie-0"), ("settings", "zombie-0"),
              ("log", "zombie-0", "--count=5")]
    for args in probes:
        status, _, err = fast(*args)
        assert status == 0 or one_line_refusal(status, err), (args, status, err)
        FIGURES.fault()
    done = cli("run", "zombie-0")  # run's detection, as a process
    assert done.returncode == 1 and "currently running" in done.stderr, done.stderr
    assert _role_files(cli, "zombie-0") == before
    assert {p: (cli.home / p).stat().st_mtime_ns for p in before} == stamp


BUSY = {"value": {"duties": ["noop", "snooze"], "management_levels": 3, "managers": 2}}


@pytest.mark.parametrize("delay", soak([0.0, 0.05, 0.15], [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]))
def test_a_stop_while_a_start_is_starting_roles_leaves_status_true_and_nothing_behind(
        cli: Cli, tmp_path: Path, delay: float) -> None:
    """``ansar stop`` ``delay`` seconds into an ``ansar start`` of a busy tree and two zombies: each
    ends with success or its one-line refusal, ``status`` then names exactly the roles whose lock
    is held, every process carrying a role's marker belongs to one of them, and the next stop
    leaves nothing."""
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie", "--count=2")
    fast.ok("add", "busy")
    (tmp_path / "busy-input").write_text(json.dumps(BUSY))
    fast.ok("input", "busy-0", f"--set-file={tmp_path / 'busy-input'}")
    roles = ("busy-0", "zombie-0", "zombie-1")
    start = cli.popen("start")
    stopped = threading.Event()
    stopped.wait(delay)  # the point of the fault: a delay into the start, no event to wait on
    stop = cli.popen("stop")
    FIGURES.fault()
    for args, p in (("start", start), ("stop", stop)):
        _, err = p.communicate(timeout=DEADLINE * 2)
        if p.returncode != 0 and not one_line_refusal(p.returncode, err):
            FIGURES.add("refusals without a message")
            raise AssertionError(f"ansar {args}: {p.returncode} {err!r}")
    held = {role for role in roles if role_instances(cli.home, role)}
    assert set(cli.ok("status").split()) == held
    marked = {role for role in roles if lineage_pids(cli.home, role=role)}
    strays = marked - held
    FIGURES.add("orphan processes", len(strays))
    assert not strays, f"processes of roles not running: {sorted(strays)}"
    cli.ok("-f", "stop")  # whatever is left running (none of it, if the stop came last)
    assert not lineage_pids(cli.home)
    for role in roles:
        fast.ok("history", role)
        path = cli.home / "history" / f"{role}.json"
        records = json.loads(path.read_bytes())["value"] if path.exists() else []
        open_ones = [r for r in records if "end" not in r]
        FIGURES.add("roles lost", len(open_ones))
        assert not open_ones, f"{role}: records left open {open_ones}"
    assert check_home(cli.home) == []
