"""Security: nothing outside the home is read or written through a name, search or snapshot
entry; homes, snapshots and log storage are private (folders 0700, files 0600); no network
listener during a run.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from reliability_support import (
    DEADLINE,
    FIGURES,
    Cli,
    InProcess,
    home_tree,
    lineage_pids,
    one_line_refusal,
    private_modes,
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.json").write_text('{"value": {"seconds": 1.0}}')
    return folder


@pytest.mark.parametrize("name", ["../evil", "../../outside/evil", "/tmp/evil-role", "a/../../b", "..", ".", "a/b"])
def test_a_role_name_never_reaches_outside_the_home(cli: Cli, outside: Path, name: str) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    before, there = home_tree(cli.home), home_tree(outside.parent)
    for argv in (["add", "zombie", name], ["update", name, "--seconds=1.0"], ["delete", name],
                 ["settings", name], ["log", name], ["history", name], ["folder", "model", name]):
        status, _, err = fast(*argv)
        FIGURES.fault()
        assert status != 0 and one_line_refusal(status, err), (argv, status, err)
    assert home_tree(cli.home) == before
    assert home_tree(outside.parent) == there


def test_a_snapshot_entry_linking_out_is_not_followed(cli: Cli, outside: Path) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "snooze")
    fast.ok("snapshot", "testing")
    model = cli.cwd / "testing" / "model-by-role" / "snooze-0"
    (model / "link").symlink_to(outside / "secret.json")
    (model / "folder").symlink_to(outside)
    there, before = home_tree(outside), home_tree(cli.home)
    status, _, err = fast("deploy", "--storage-path=testing")
    FIGURES.fault()
    assert status == 1 and one_line_refusal(status, err) and "a symbolic link out of the snapshot" in err, err
    assert home_tree(cli.home) == before
    assert home_tree(outside) == there
    inside = os.path.realpath(cli.home)
    links_out = [path for path in home_tree(cli.home) if os.path.islink(cli.home / path)
                 and not os.path.realpath(cli.home / path).startswith(inside + os.sep)]
    assert links_out == [], links_out


def test_homes_snapshots_and_log_storage_are_private(cli: Cli) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("add", "noop")
    cli.ok("start")
    cli.ok("run", "noop-0")
    cli.ok("stop", "zombie-0")
    fast.ok("snapshot", "testing")
    wrong = private_modes(cli.home) + private_modes(cli.cwd / "testing")
    assert wrong == [], wrong


def _listening_inodes() -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if table.endswith(("tcp", "tcp6")) and fields[3] != "0A":
                continue  # tcp: only LISTEN
            found.add(fields[9])
    return found


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:
        pass
    return found


def test_no_network_listener_during_a_run_or_a_start(cli: Cli) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie", "--count=2")
    cli.ok("start", "zombie-0")
    run = cli.popen("run", "zombie-1", "--debug-level=CONSOLE")
    assert run.stderr is not None
    for line in run.stderr:
        if "Do nothing until interrupted" in line:
            break
    mine = [run.pid] + lineage_pids(cli.home)
    listening = _listening_inodes()
    held = {pid: _socket_inodes(pid) & listening for pid in mine}
    run.terminate()
    run.communicate()
    assert not any(held.values()), held


# --- a home belongs to one user --------------------------------------------------------------------

@pytest.mark.parametrize("argv", [("status",), ("list", "-l"), ("add", "zombie"), ("start",), ("run", "zombie-0"),
                                  ("settings", "zombie-0"), ("delete", "zombie-0"), ("snapshot", "testing")])
def test_a_home_owned_by_another_user_is_refused(cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                                 argv: tuple[str, ...]) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    before = home_tree(cli.home)
    someone_else = os.stat(cli.home).st_uid + 4242
    monkeypatch.setattr(os, "geteuid", lambda: someone_else)
    status, _, err = fast(*argv)
    FIGURES.fault()
    assert status == 1 and one_line_refusal(status, err), err
    assert "owned by" in err and f"uid {someone_else}" in err, err
    monkeypatch.undo()
    assert home_tree(cli.home) == before
    assert cli.running() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a home to another user")
def test_even_root_leaves_a_home_of_another_user_alone(cli: Cli) -> None:
    cli.fast.ok("add", "zombie")  # type: ignore[attr-defined]
    before = home_tree(cli.home)
    os.chown(cli.home, 65534, 65534)
    try:
        done = cli("start")
        FIGURES.fault()
        assert done.returncode == 1 and one_line_refusal(done.returncode, done.stderr), done.stderr
        assert "owned by" in done.stderr and "uid 65534" in done.stderr, done.stderr
        assert home_tree(cli.home) == before
    finally:
        os.chown(cli.home, 0, 0)
    assert cli.running() == []


# --- lock and pid files are never followed through a symbolic link ---------------------------------

@pytest.mark.parametrize("which", ["zombie-0.lock", "zombie-0.pid"])
def test_a_role_file_replaced_by_a_link_out_is_not_followed(cli: Cli, outside: Path, which: str) -> None:
    """The role's lock and lock record are opened with O_NOFOLLOW: a link planted in their place
    makes the start fail in one line and the file it points at stays as it was."""
    cli.fast.ok("add", "zombie")  # type: ignore[attr-defined]
    target = outside / "secret.json"
    there = target.read_bytes()
    planted = cli.home / "lock" / which
    planted.parent.mkdir(exist_ok=True)
    planted.unlink(missing_ok=True)
    planted.symlink_to(target)
    FIGURES.fault()
    # Not cli(): a role failing to start is the run's Faulted document, not a refusal by ansar.
    done = subprocess.run(cli.argv("run", "zombie-0", "--debug-level=NONE"), cwd=cli.cwd, env=cli.env,
                          capture_output=True, text=True, timeout=DEADLINE)
    if which.endswith(".lock"):  # the run's own probe of the lock refuses
        assert one_line_refusal(done.returncode, done.stderr), done.stderr
    else:  # the role's own start refuses, in one line, and the run reports it Faulted
        assert done.returncode == 1 and "ansar.create.lifecycle.Faulted" in done.stdout, done
        assert re.fullmatch(r"zombie: cannot write lock record \S+ \(Too many levels of symbolic links\)\n",
                            done.stderr), done.stderr
    assert target.read_bytes() == there
    assert lineage_pids(cli.home) == []
    planted.unlink()
    assert cli.running() == []


def test_the_homes_own_lock_is_not_followed(cli: Cli, outside: Path) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    target = outside / "secret.json"
    there = target.read_bytes()
    locks = [p for p in cli.home.iterdir() if p.suffix == ".lock"]
    assert locks, sorted(p.name for p in cli.home.iterdir())
    for lock in locks:
        lock.unlink()
        lock.symlink_to(target)
    before = home_tree(cli.home)
    status, _, err = fast("add", "zombie")
    FIGURES.fault()
    assert status == 1 and one_line_refusal(status, err), err
    assert home_tree(cli.home) == before and target.read_bytes() == there
