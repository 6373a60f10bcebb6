"""snapshot and deploy: the transfer of files, then the commands end to end with the examples.

The commands run as processes (``python -m ansar.command``), the examples through the bin/
launchers or, for a build folder, through small scripts that exec them. Each test has a home of
its own in tmp_path; its server listens on a port of its own. Roles started in the background are
stopped by the fixture and, failing that, by conftest's. Waits poll with deadlines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import support_running

from ansar.home._transfer import ALIAS_PREFIX, Kind, apply_transfer, compute_transfer

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 20.0
LINE = re.compile(r"^\[\d{8}\] \S+ (.) <([0-9a-f]{8})>(\S+) - (.*)$")
KILL_AT = "ANSAR_TEST_DEPLOY_KILL_AT"


# --- the transfer, in process ------------------------------------------------------------------------


def write(path: Path, text: str, mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its text; folders as "/"."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            found[os.path.relpath(os.path.join(root, d), folder)] = "/"
        for f in files:
            path = os.path.join(root, f)
            found[os.path.relpath(path, folder)] = Path(path).read_text()
    return found


def test_a_transfer_mirrors_the_source_and_keeps_its_mtimes(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    write(source / "same.json", "same", 10**18)
    write(target / "same.json", "same", 10**18)
    write(source / "changed.json", "new")
    write(target / "changed.json", "old")
    write(source / "sub" / "new.json", "deep")
    write(target / "gone.json", "gone")
    write(target / "old-folder" / "inside.json", "x")
    transfer = compute_transfer(str(source), str(target))
    kinds = sorted((d.kind.value, d.path) for d in transfer.deltas)
    assert kinds == [("copy", "changed.json"), ("copy", os.path.join("sub", "new.json")), ("folder", "sub"),
                     ("remove", "gone.json"), ("remove", "old-folder")]
    records: list[str] = []
    apply_transfer(transfer, log=records.append)
    assert records == [f"File transfer (5 deltas) to {target}", "Move 2 aliases to targets", "Clear 2 aliases"]
    assert tree(target) == tree(source)
    assert os.stat(target / "changed.json").st_mtime_ns == os.stat(source / "changed.json").st_mtime_ns
    assert compute_transfer(str(source), str(target)).deltas == []


def test_a_file_of_the_same_size_and_mtime_is_not_read(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    write(source / "a.json", "AAAA", 10**18)
    write(target / "a.json", "BBBB", 10**18)  # different bytes, same size and mtime
    assert compute_transfer(str(source), str(target)).deltas == []


def test_a_file_where_a_folder_was_and_the_reverse_make_room_first(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    write(source / "x", "now a file")
    write(target / "x" / "inside", "was a folder")
    write(source / "y" / "inside", "now a folder")
    write(target / "y", "was a file")
    transfer = compute_transfer(str(source), str(target))
    assert [d.path for d in transfer.deltas if d.kind is Kind.REMOVE and d.first] == ["x", "y"]
    apply_transfer(transfer)
    assert tree(target) == tree(source)


def test_aliases_a_killed_transfer_left_are_cleared_and_never_copied(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    write(source / "a.json", "a")
    write(source / f"{ALIAS_PREFIX}1-0-a.json", "an alias in the source is not material")
    write(target / f"{ALIAS_PREFIX}99-0-a.json", "half")
    transfer = compute_transfer(str(source), str(target))
    assert sorted((d.kind.value, d.path) for d in transfer.deltas) == [
        (Kind.COPY.value, "a.json"), (Kind.REMOVE.value, f"{ALIAS_PREFIX}99-0-a.json")]
    apply_transfer(transfer)
    assert tree(target) == {"a.json": "a"}


def test_links_are_copied_as_links(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    (source / "launcher").symlink_to(REPO / "bin" / "noop")
    apply_transfer(compute_transfer(str(source), str(target)))
    assert os.readlink(target / "launcher") == str(REPO / "bin" / "noop")
    assert compute_transfer(str(source), str(target)).deltas == []


def test_without_removal_the_target_keeps_what_the_source_lacks(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    write(source / "new", "n")
    write(target / "kept", "k")
    apply_transfer(compute_transfer(str(source), str(target), remove=False))
    assert tree(target) == {"new": "n", "kept": "k"}


# --- the commands ------------------------------------------------------------------------------------


def wait_for(condition, seconds: float = DEADLINE, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {seconds}s"
        time.sleep(0.01)  # polling with a deadline


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cli(support_running.Cli):
    """``support_running.Cli``, with an environment of the call's own (the kill points) and the
    records of a command run at CONSOLE."""

    def __call__(self, *args: str, env: dict[str, str] | None = None,  # type: ignore[override]
                 seconds: float = DEADLINE * 2) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), cwd=self.cwd, env=env or self.env, capture_output=True, text=True,
                              timeout=seconds)

    def console(self, *args: str) -> list[tuple[str, str]]:
        """``(object, text)`` of each record of a command run at CONSOLE, which must succeed."""
        done = self("--debug-level=CONSOLE", *args)
        assert done.returncode == 0, f"ansar {' '.join(args)}: {done.returncode} {done.stderr}"
        records = [LINE.match(line) for line in done.stderr.splitlines()]
        assert all(records), done.stderr
        return [m.group(3, 4) for m in records if m]  # type: ignore[union-attr]

    def pids(self) -> dict[str, int]:
        found = {}
        for line in self.ok("status", "-l").splitlines():
            name, pid, *_ = line.split()
            found[name] = int(pid.strip("<>"))
        return found


def digest(folder: Path) -> dict[str, str]:
    """Names, modes and contents of everything under ``folder``: byte for byte."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            text = f"{st.st_mode:o}"
            if os.path.isfile(path) and not os.path.islink(path):
                text += " " + hashlib.sha256(Path(path).read_bytes()).hexdigest()
            found[os.path.relpath(path, folder)] = text
    return found


def launchers(folder: Path, names: list[str]) -> Path:
    """A build folder: scripts that exec the examples (copies of them work anywhere)."""
    folder.mkdir(exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text(f'#!/bin/sh\nexec python3 "{REPO / "examples" / (name + ".py")}" "$@"\n')
        path.chmod(0o755)
    return folder


@pytest.fixture
def cli(tmp_path: Path, tool_env: dict[str, str]):
    """A home whose bin is the checkout's launchers, with server-0 on a port of its own."""
    work = tmp_path / "work"
    work.mkdir()
    c = Cli(work, tool_env)
    c.ok("create", f"--redirect-bin={REPO / 'bin'}")
    port = f"--port={free_port()}"
    c.ok("add", "server", port)
    c.ok("add", "client", port)
    yield c
    c("stop", "-f")


def test_snapshot_holds_the_tours_ten_paths(cli: Cli) -> None:
    cli.ok("-f", "snapshot", "testing")
    found = subprocess.run(["find", "testing"], cwd=cli.cwd, capture_output=True, text=True).stdout.split()
    assert sorted(found) == sorted([
        "testing", "testing/settings-by-role", "testing/settings-by-role/server-0.json",
        "testing/settings-by-role/client-0.json", "testing/resource-by-executable",
        "testing/resource-by-executable/server", "testing/resource-by-executable/client", "testing/model-by-role",
        "testing/model-by-role/server-0", "testing/model-by-role/client-0"])
    assert (cli.cwd / "testing/settings-by-role/server-0.json").read_bytes() == (
        cli.home / "settings/server-0.json").read_bytes()


def test_snapshot_copies_input_models_and_resources_with_their_files(cli: Cli) -> None:
    cli.ok("add", "busy")
    cli.ok("add", "zombie")
    write(cli.home / "model/server-0/word-map.json", '{"value": []}')
    write(cli.home / "model/server-0/deeper/notes.txt", "notes")
    write(cli.home / "resource/server/table.txt", "table")
    cli.ok("snapshot", "testing")
    testing = cli.cwd / "testing"
    assert (testing / "input-by-role/busy-0.json").read_bytes() == (cli.home / "input/busy-0.json").read_bytes()
    assert sorted(os.listdir(testing / "input-by-role")) == ["busy-0.json"]
    assert not (testing / "settings-by-role/zombie-0.json").exists()  # zombie takes no settings
    assert (testing / "model-by-role/zombie-0").is_dir() and (testing / "resource-by-executable/zombie").is_dir()
    assert tree(testing / "model-by-role/server-0") == tree(cli.home / "model/server-0")
    assert tree(testing / "resource-by-executable/server") == {"table.txt": "table"}
    leftovers = [n for n in os.listdir(cli.cwd) if n.startswith(".testing")]
    assert leftovers == []


def test_snapshot_refuses_a_folder_that_is_not_empty_unless_forced(cli: Cli) -> None:
    write(cli.cwd / "testing/mine.txt", "mine")
    assert cli.refused(1, "snapshot", "testing") == (
        f"ansar: {cli.cwd / 'testing'}: exists and is not empty (ansar -f snapshot replaces it)")
    assert tree(cli.cwd / "testing") == {"mine.txt": "mine"}
    (cli.cwd / "empty").mkdir()
    cli.ok("snapshot", "empty")
    cli.ok("snapshot", "testing", "-f")
    assert "mine.txt" not in os.listdir(cli.cwd / "testing")
    assert cli.refused(1, "snapshot", "nowhere/testing").endswith("not found (the folder that holds the snapshot)")


def test_snapshot_of_running_roles_is_refused_and_with_force_they_stop_and_come_back(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("start", "zombie-0")
    before = cli.pids()
    assert cli.refused(1, "snapshot", "testing") == (
        f'ansar: cannot perform "snapshot", "(all)" currently running as - {before["zombie-0"]}')
    assert not (cli.cwd / "testing").exists()
    records = cli.console("-f", "snapshot", "testing")
    texts = [text for name, text in records if name == "ansar"]
    assert "Stop roles (zombie-0)" in texts and texts[-1] == "Restoring 1 stopped roles"
    after = cli.pids()
    assert list(after) == ["zombie-0"] and after["zombie-0"] != before["zombie-0"]
    assert not (cli.home / ".deploy-stopped.json").exists()
    cli.ok("snapshot", "-f", "testing", "--home-path=.ansar-home")  # -f after it too: stops, replaces


def test_a_killed_snapshots_hidden_folder_is_cleared_by_the_next(cli: Cli) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    left = cli.cwd / f".testing.snapshot-{dead}"
    write(left / "model-by-role/server-0/half.json", "half")
    cli.ok("snapshot", "testing")
    assert sorted(n for n in os.listdir(cli.cwd) if "testing" in n) == ["testing"]


def test_an_unchanged_deploy_does_without_the_home_lock(cli: Cli) -> None:
    from filelock import FileLock

    cli.ok("snapshot", "testing")
    with FileLock(str(cli.home / ".home.lock")):  # another command changing the home, say
        assert cli.console("deploy", "--storage-path=testing") == [("ansar", "Nothing to deploy")]


def test_deploy_of_an_unchanged_snapshot_has_nothing_to_do(cli: Cli) -> None:
    cli.ok("snapshot", "testing")
    before = digest(cli.home)
    assert cli.console("deploy", "--storage-path=testing") == [("ansar", "Nothing to deploy")]
    assert cli.console("--force", "deploy", str(REPO / "bin"), "testing") == [("ansar", "Nothing to deploy")]
    assert digest(cli.home) == before


def test_deploy_of_a_model_file_restarts_only_the_affected_running_role(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("snapshot", "testing")
    cli.ok("start", "server-0")
    cli.ok("start", "zombie-0")
    before = cli.pids()
    shutil.copy(REPO / "examples/word-map.json", cli.cwd / "testing/model-by-role/server-0")
    model = cli.home / "model/server-0"
    records = cli.console("-f", "deploy", "--storage-path=testing")
    assert records == [
        ("ansar", 'Detected 1 model changes for "server-0"'),
        ("ansar", "Detect status of associated roles (server-0)"),
        ("ansar", "Stop roles (server-0)"),
        ("ansar", "Poll for termination"),
        ("ansar", "Detect status of associated roles (server-0)"),
        ("ansar", "Starting transfer of materials"),
        ("folder_transfer", f"File transfer (1 deltas) to {model}"),
        ("folder_transfer", "Move 1 aliases to targets"),
        ("folder_transfer", "Clear 0 aliases"),
        ("ansar", f'Completed transfer to "{model}"'),
        ("ansar", "Restoring 1 stopped roles"),
    ]
    after = cli.pids()
    assert after["zombie-0"] == before["zombie-0"]
    assert after["server-0"] != before["server-0"]
    assert (model / "word-map.json").read_bytes() == (REPO / "examples/word-map.json").read_bytes()
    done = cli("run", "client-0", "--test-run")
    assert done.stdout.splitlines()[0] == 'role "client-0" (pass/fail): 1/2', done.stdout + done.stderr
    assert cli.console("-f", "deploy", "--storage-path=testing") == [("ansar", "Nothing to deploy")]


def test_deploy_without_force_is_refused_while_an_affected_role_runs(cli: Cli) -> None:
    cli.ok("add", "zombie")
    cli.ok("snapshot", "testing")
    cli.ok("start", "server-0")
    cli.ok("start", "zombie-0")
    before, home = cli.pids(), digest(cli.home)
    shutil.copy(REPO / "examples/word-map.json", cli.cwd / "testing/model-by-role/server-0")
    write(cli.cwd / "testing/resource-by-executable/zombie/x", "x")
    assert cli.refused(1, "deploy", "--storage-path=testing") == (
        f'ansar: cannot perform "deploy", "server-0, zombie-0" currently running as - '
        f'{before["server-0"]}, {before["zombie-0"]}')
    assert cli.pids() == before and digest(cli.home) == home


def test_deploy_of_settings_and_input_stores_what_the_executable_printed(cli: Cli) -> None:
    cli.ok("add", "busy")
    cli.ok("snapshot", "testing")
    testing = cli.cwd / "testing"
    port = free_port()
    write(testing / "settings-by-role/server-0.json", json.dumps({"value": {"port": port}}))
    busy = json.loads((testing / "input-by-role/busy-0.json").read_text())
    busy["value"]["managers"] = 3
    write(testing / "input-by-role/busy-0.json", json.dumps(busy))
    texts = [text for _, text in cli.console("deploy", "--storage-path=testing")]
    assert texts[:2] == ['Detected settings change for "server-0"', 'Detected input changes for "busy-0"']
    assert texts[-1] == "Starting transfer of materials"
    assert json.loads(cli.ok("settings", "server-0")) == {"value": {"host": "127.0.0.1", "port": port}}
    assert json.loads(cli.ok("input", "busy-0"))["value"]["managers"] == 3
    # Written differently, the same value is no change.
    assert cli.console("deploy", "--storage-path=testing") == [("ansar", "Nothing to deploy")]


def test_files_gone_from_the_snapshot_go_from_the_home(cli: Cli) -> None:
    write(cli.home / "model/server-0/old.json", "old")
    write(cli.home / "resource/server/sub/old.txt", "old")
    cli.ok("snapshot", "testing")
    os.unlink(cli.cwd / "testing/model-by-role/server-0/old.json")
    shutil.rmtree(cli.cwd / "testing/resource-by-executable/server/sub")
    texts = [text for _, text in cli.console("deploy", "--storage-path=testing")]
    assert 'Detected 1 resource changes for "server" (added 1 associated roles)' in texts
    assert 'Detected 1 model changes for "server-0"' in texts
    assert "Clear 1 aliases" in texts
    assert os.listdir(cli.home / "model/server-0") == [] and os.listdir(cli.home / "resource/server") == []


@pytest.fixture
def built(tmp_path: Path, tool_env: dict[str, str]):
    """A home with a bin of its own, filled by deploying a build folder."""
    work = tmp_path / "work"
    work.mkdir()
    c = Cli(work, tool_env)
    launchers(work / "dist", ["server", "client", "zombie"])
    c.ok("create")
    c.ok("deploy", "dist")
    port = f"--port={free_port()}"
    c.ok("add", "server", port)
    c.ok("add", "client", "test-client", port)
    c.ok("add", "zombie")
    yield c
    c("stop", "-f")


def test_a_build_with_a_changed_executable_replaces_it_in_bin(built: Cli) -> None:
    cli = built
    bin = cli.home / "bin"
    assert sorted(os.listdir(bin)) == ["client", "server", "zombie"]
    write(bin / "extra", "#!/bin/sh\n").chmod(0o755)  # a build never takes from bin
    assert cli.console("deploy", "dist") == [("ansar", "Nothing to deploy")]
    cli.ok("start", "zombie-0")
    zombie = cli.pids()["zombie-0"]
    client = cli.cwd / "dist/client"
    client.write_text(client.read_text() + "# rebuilt\n")
    assert cli.console("deploy", "dist") == [
        ("ansar", "Detected 1 changing executables (added 1 associated roles)"),
        ("ansar", "Detect status of associated roles (test-client)"),
        ("ansar", "Starting transfer of materials"),
        ("folder_transfer", f"File transfer (1 deltas) to {bin}"),
        ("folder_transfer", "Move 1 aliases to targets"),
        ("folder_transfer", "Clear 0 aliases"),
        ("ansar", f'Completed transfer to "{bin}"'),
    ]
    assert (bin / "client").read_bytes() == client.read_bytes() and os.access(bin / "client", os.X_OK)
    assert "extra" in os.listdir(bin)
    assert cli.pids() == {"zombie-0": zombie}  # not affected, left alone
    assert cli.console("deploy", "--build-path=dist") == [("ansar", "Nothing to deploy")]
    assert cli.ok("run", "test-client") and cli.pids() == {"zombie-0": zombie}  # the copy runs


def test_a_changed_executable_restarts_its_running_roles_with_force(built: Cli) -> None:
    cli = built
    cli.ok("start", "server-0")
    cli.ok("start", "zombie-0")
    before = cli.pids()
    server = cli.cwd / "dist/server"
    server.write_text(server.read_text() + "# rebuilt\n")
    assert cli.refused(1, "deploy", "dist") == (
        f'ansar: cannot perform "deploy", "server-0" currently running as - {before["server-0"]}')
    texts = [text for _, text in cli.console("deploy", "dist", "-f")]
    assert texts[-1] == "Restoring 1 stopped roles"
    after = cli.pids()
    assert after["zombie-0"] == before["zombie-0"] and after["server-0"] != before["server-0"]


def test_a_bin_redirected_to_the_build_folder_has_nothing_to_deploy(cli: Cli) -> None:
    assert cli.console("deploy", str(REPO / "bin")) == [("ansar", "Nothing to deploy")]


def test_words_and_settings_name_build_snapshot_and_home_either_way(built: Cli) -> None:
    cli = built
    cli.ok("snapshot", "testing")
    cli.cwd.joinpath("sub").mkdir()
    for args in (["deploy", "dist", "testing"], ["deploy", "--storage-path=testing", "dist"],
                 ["deploy", "--build-path=dist", "testing"], ["--home-path=.ansar-home", "deploy", "dist"],
                 ["deploy", "dist", "testing", ".ansar-home"], ["deploy", "--storage-path=testing"]):
        assert cli.console(*args) == [("ansar", "Nothing to deploy")], args
    assert cli.refused(2, "deploy", "dist", "testing", ".ansar-home", "more") == (
        'ansar: deploy: unexpected word "more" (ansar deploy --help)')


@pytest.mark.parametrize("case, status, text", [
    ("alone", 2, "deploy: needs a build folder, a snapshot or both (ansar deploy --help)"),
    ("no-build", 1, "{cwd}/missing: build folder not found"),
    ("no-snapshot", 1, "{cwd}/missing: snapshot not found"),
    ("file-as-build", 1, "{cwd}/testing/settings-by-role/server-0.json: build folder is not a folder"),
    ("unknown-role", 1, '{cwd}/testing/model-by-role/ghost-0: role "ghost-0" not found in {home}'),
    ("unknown-settings-role", 1, '{cwd}/testing/settings-by-role/ghost-0.json: role "ghost-0" not found in {home}'),
    ("unknown-executable", 1, '{cwd}/testing/resource-by-executable/ghost: executable "ghost" not found in {home}'),
    ("bad-settings", 1, 'executable "server" refused the settings: server: {cwd}/testing/settings-by-role/'
                        'server-0.json: Expected int, got str - at $.port'),
])
def test_bad_input_is_one_line_and_changes_nothing(cli: Cli, case: str, status: int, text: str) -> None:
    cli.ok("add", "zombie")
    cli.ok("snapshot", "testing")
    testing = cli.cwd / "testing"
    shutil.copy(REPO / "examples/word-map.json", testing / "model-by-role/server-0")  # a change beside the bad
    args = ["-f", "deploy", "--storage-path=testing"]
    if case == "alone":
        args = ["-f", "deploy"]
    elif case == "no-build":
        args = ["-f", "deploy", "missing", "testing"]
    elif case == "no-snapshot":
        args = ["-f", "deploy", "--storage-path=missing"]
    elif case == "file-as-build":
        args = ["-f", "deploy", "testing/settings-by-role/server-0.json"]
    elif case == "unknown-role":
        (testing / "model-by-role/ghost-0").mkdir()
    elif case == "unknown-settings-role":
        write(testing / "settings-by-role/ghost-0.json", '{"value": {}}')
    elif case == "unknown-executable":
        (testing / "resource-by-executable/ghost").mkdir()
    elif case == "bad-settings":
        write(testing / "settings-by-role/server-0.json", '{"value": {"port": "many"}}')
    cli.ok("start", "server-0")
    before, home = cli.pids(), digest(cli.home)
    assert cli.refused(status, *args) == "ansar: " + text.format(cwd=cli.cwd, home=cli.home)
    assert cli.pids() == before and digest(cli.home) == home


# --- a deploy killed at any point -------------------------------------------------------------------


def _killed_at(cli: Cli, step: int, *args: str) -> bool:
    """Run a deploy that kills itself at ``step``; False once it got to the end instead."""
    done = cli(*args, env=dict(cli.env, **{KILL_AT: str(step)}))
    if done.returncode == 0:
        return False
    assert done.returncode == -signal.SIGKILL, done.stderr
    return True


def test_a_deploy_killed_at_each_step_leaves_files_old_or_new_and_the_next_finishes(cli: Cli) -> None:
    for name, text in (("keep.json", "keep"), ("change.json", "old"), ("gone.json", "gone")):
        write(cli.home / "model/server-0" / name, text)
    cli.ok("add", "busy")
    cli.ok("snapshot", "testing")
    testing = cli.cwd / "testing"
    old_model = tree(cli.home / "model/server-0")
    write(testing / "model-by-role/server-0/change.json", "new, and longer")
    write(testing / "model-by-role/server-0/added/deep.json", "deep")
    os.unlink(testing / "model-by-role/server-0/gone.json")
    write(testing / "resource-by-executable/client/r.txt", "r")
    busy = json.loads((testing / "input-by-role/busy-0.json").read_text())
    busy["value"]["managers"] = 5
    write(testing / "input-by-role/busy-0.json", json.dumps(busy))
    old_input = (cli.home / "input/busy-0.json").read_bytes()
    new_model = tree(testing / "model-by-role/server-0")
    start = time.monotonic()
    step = 1
    while _killed_at(cli, step, "deploy", "--storage-path=testing"):
        model = {k: v for k, v in tree(cli.home / "model/server-0").items()
                 if not os.path.basename(k).startswith(ALIAS_PREFIX)}
        for name, text in model.items():
            assert text in (old_model.get(name), new_model.get(name)), (step, name, text)
        assert json.loads((cli.home / "input/busy-0.json").read_bytes())["value"]["managers"] in (2, 5)
        cli.ok("deploy", "--storage-path=testing")  # finishes the work
        assert tree(cli.home / "model/server-0") == new_model
        assert tree(cli.home / "resource/client") == {"r.txt": "r"}
        assert cli.console("deploy", "--storage-path=testing") == [("ansar", "Nothing to deploy")]
        # Back to the old state for the next kill point.
        shutil.rmtree(cli.home / "model/server-0")
        (cli.home / "model/server-0").mkdir()
        for name, text in old_model.items():
            write(cli.home / "model/server-0" / name, text)
            os.utime(cli.home / "model/server-0" / name, ns=(1, 1))
        os.unlink(cli.home / "resource/client/r.txt")
        (cli.home / "input/busy-0.json").write_bytes(old_input)
        step += 1
    assert step > 8, "every alias, move, removal and value is a step"  # the run without a kill ended it
    assert time.monotonic() - start < 45


# Steps: 1 the record, 2 the stop, 3 and 4 the aliases, 5 and 6 their moves, 7 the restore.
@pytest.mark.parametrize("step", [1, 2, 3, 5, 7])
def test_a_deploy_killed_after_stopping_roles_is_finished_and_restores_them(cli: Cli, step: int) -> None:
    cli.ok("add", "zombie")
    cli.ok("snapshot", "testing")
    cli.ok("start", "server-0")
    cli.ok("start", "zombie-0")
    before = cli.pids()
    write(cli.cwd / "testing/model-by-role/server-0/a.json", "a")
    write(cli.cwd / "testing/model-by-role/server-0/b.json", "b")
    assert _killed_at(cli, step, "-f", "deploy", "--storage-path=testing")
    stopped = json.loads((cli.home / ".deploy-stopped.json").read_text())
    assert stopped == {"value": {"version": 1, "roles": ["server-0"]}}
    texts = [text for _, text in cli.console("-f", "deploy", "--storage-path=testing")]
    if step < 7:
        assert texts[-1] == "Restoring 1 stopped roles", texts
    else:  # killed once the role was started again: nothing left to do
        assert texts == ["Nothing to deploy"], texts
    after = cli.pids()
    assert after["zombie-0"] == before["zombie-0"] and after["server-0"] != before["server-0"]
    assert tree(cli.home / "model/server-0") == {"a.json": "a", "b.json": "b"}
    assert not (cli.home / ".deploy-stopped.json").exists()


def test_a_transfer_that_fails_part_way_leaves_no_alias_or_new_folder(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.home import _transfer

    source, target = tmp_path / "source", tmp_path / "target"
    (source / "new" / "deep").mkdir(parents=True)
    (source / "a").write_text("a")
    (source / "new" / "deep" / "b").write_text("b")
    target.mkdir()
    (target / "a").write_text("old")
    copied = []

    def full(s: str, d: str, mask: int, *, durable: bool = True) -> None:
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(d)
        Path(d).write_text("partial")

    monkeypatch.setattr(_transfer, "_copy_file", full)
    with pytest.raises(OSError):
        apply_transfer(compute_transfer(str(source), str(target)))
    assert sorted(p.name for p in target.rglob("*")) == ["a"] and (target / "a").read_text() == "old"
