"""What a new user broke in homes (issue 11): lost and half-applied changes, values that make no
sense, words and exit statuses that did not agree."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Optional

import pytest
from test_command_support import (  # noqa: F401 - fixtures
    REPO,
    Ansar,
    ansar_fixture,
    command_env,
    home_fixture,
    snapshot,
)

from ansar.command.main import main
from ansar.create.retry import MIN_DELAY, RetryIntervals, intervals
from ansar.home import HomeError
from ansar.home._store import HOME_LOCK, Change


def write(path: Path, value: object) -> str:
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


# Helpers: a second command in the middle of the first, and a user who is not root.


def lock_is_free(home: Path) -> bool:
    """Whether another process could take the home's lock now (probed on a descriptor of its own)."""
    fd = os.open(home / HOME_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's lock
    return True


class Meanwhile:
    """Runs a second ``ansar`` command while the first is asking its executable, as a second
    process would: to its end at once if the home's lock is free then, else in a thread that
    waits for the lock. ``wait()`` returns the second command's exit status."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, home: Path, module: object, *argv: str) -> None:
        self.home = home
        self.argv = list(argv)
        self.status: list[int] = []
        self.thread: Optional[threading.Thread] = None
        self.blocked: Optional[bool] = None
        real = module.dump_settings  # type: ignore[attr-defined]

        def asked(*args, **kwargs):  # type: ignore[no-untyped-def]
            if self.blocked is None:
                self.blocked = not lock_is_free(self.home)
                self.thread = threading.Thread(target=lambda: self.status.append(main(self.argv)))
                self.thread.start()
                if not self.blocked:
                    self.thread.join(60)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "dump_settings", asked)

    def wait(self) -> int:
        assert self.thread is not None, "the first command never asked its executable"
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.status[0]


@functools.lru_cache(maxsize=1)
def unprivileged() -> Optional[tuple[str, ...]]:
    """A prefix that runs a command without the right to ignore file permissions, or None.

    As root, ``unshare --user`` does: in a new user namespace the process keeps its uid but loses
    root's capabilities over files, so a folder mode 0500 is read-only to it.
    """
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") is None:
        return None
    try:
        done = subprocess.run(["unshare", "--user", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ("unshare", "--user") if done.returncode == 0 else None


def run_unprivileged(cwd: Path, *argv: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("root, and no unshare --user to drop root's rights over files")
    return subprocess.run([*prefix, sys.executable, "-m", "ansar.command", *argv], cwd=cwd,
                          env=env or command_env(), capture_output=True, text=True, timeout=60)


def make_read_only(root: Path) -> Callable[[], None]:
    """Every folder under ``root`` 0500, every file 0400; returns the undo."""
    saved = []
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            saved.append((path, os.stat(path).st_mode))
        saved.append((folder, os.stat(folder).st_mode))
    for path, _ in saved:
        os.chmod(path, 0o500 if os.path.isdir(path) else 0o400)

    def undo() -> None:
        for path, mode in saved:
            os.chmod(path, mode)

    return undo


# Read-modify-write under the home's lock.


def test_an_update_meanwhile_is_not_lost(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.command import _crud

    home.ok("add", "server")
    second = Meanwhile(monkeypatch, home.home, _crud, "update", "server-0", "--port=2222")
    home.ok("update", "server-0", "--host=hX")
    assert second.wait() == 0
    assert home.document("settings", "server-0") == {"value": {"host": "hX", "port": 2222}}
    assert second.blocked, "the first update asked its executable without holding the home's lock"


def test_an_update_matches_under_the_lock_beside_a_delete(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.command import _crud

    home.ok("add", "snooze", "c-{number}", "--count=12")
    second = Meanwhile(monkeypatch, home.home, _crud, "delete", "c-10")
    home.ok("update", "c-.*", "--seconds=7.0")
    assert second.wait() == 0
    names = home.ok("list").split()
    assert "c-10" not in names and len(names) == 11
    for name in names:
        assert home.document("settings", name) == {"value": {"seconds": 7.0}}


def test_concurrent_updates_and_a_delete_all_land(home: Ansar) -> None:
    home.ok("add", "snooze", "c-{number}", "--count=12")
    home.ok("add", "server")

    def ansar(*argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "ansar.command", *argv], cwd=home.cwd, env=command_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    processes = [ansar("update", "c-.*", f"--seconds={n}.0") for n in range(8)]
    processes.insert(4, ansar("delete", "c-10"))
    processes += [ansar("update", "server-0", "--host=hX"), ansar("update", "server-0", "--port=2222")]
    for p in processes:
        out, err = p.communicate(timeout=60)
        assert (p.returncode, err) == (0, ""), p.args
    names = home.ok("list").split()
    assert "c-10" not in names and len(names) == 12
    seconds = {home.document("settings", name)["value"]["seconds"] for name in names if name.startswith("c-")}
    assert len(seconds) == 1  # every update changed every role it matched, one after another
    assert home.document("settings", "server-0") == {"value": {"host": "hX", "port": 2222}}


def test_a_settings_file_meanwhile_is_stored_after_the_update(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.command import _values

    home.ok("add", "server")
    given = write(home.cwd / "given", {"value": {"host": "given", "port": 1}})
    second = Meanwhile(monkeypatch, home.home, _values, "update", "server-0", "--port=2222")
    home.ok("settings", "server-0", f"--set-file={given}")
    assert second.wait() == 0
    assert home.document("settings", "server-0") == {"value": {"host": "given", "port": 2222}}
    assert second.blocked


def test_an_edit_is_refused_when_the_value_changed_meanwhile(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "server")
    script = home.cwd / "editor.py"
    # The editor's user takes a while: meanwhile someone updates the role.
    script.write_text(
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-m', 'ansar.command', 'update', 'server-0', '--port=2222'], check=True, "
        f"cwd={str(home.cwd)!r}, env={command_env()!r})\n"
        "open(sys.argv[1], 'w').write('{\"value\": {\"host\": \"edited\", \"port\": 1}}')\n"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    status, out, err = home("edit", "settings", "server-0")
    assert status == 1 and err.count("\n") == 1
    assert 'the settings of role "server-0" changed while it was edited; nothing stored' in err
    kept = err.rsplit("the edit is in ", 1)[1].rstrip(")\n")
    assert json.loads(Path(kept).read_text()) == {"value": {"host": "edited", "port": 1}}
    os.unlink(kept)
    assert home.document("settings", "server-0") == {"value": {"host": "127.0.0.1", "port": 2222}}


# All or nothing.


def test_a_change_that_fails_midway_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.home import _store

    (tmp_path / "old.json").write_text("old")
    (tmp_path / "gone.json").write_text("gone")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "leaf").write_text("leaf")
    before = snapshot(tmp_path)
    real = os.rename
    calls = []

    def rename(a: str, b: str) -> None:
        calls.append(a)
        if len(calls) == 4:
            raise PermissionError(13, "Permission denied", a)
        real(a, b)

    monkeypatch.setattr(_store.os, "rename", rename)
    change = Change()
    change.write(str(tmp_path / "old.json"), b"new")
    change.make_folder(str(tmp_path / "made"))
    change.remove(str(tmp_path / "gone.json"))
    change.remove(str(tmp_path / "tree"))
    with pytest.raises(HomeError, match="cannot move"):
        change.commit()
    assert snapshot(tmp_path) == before  # nothing changed, no hidden leftover
    monkeypatch.setattr(_store.os, "rename", real)
    with Change() as change:
        change.write(str(tmp_path / "old.json"), b"new")
        change.remove(str(tmp_path / "tree"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.json", "old.json"]
    assert (tmp_path / "old.json").read_text() == "new"


def test_a_refused_add_leaves_nothing_behind(home: Ansar) -> None:
    (home.home / "model").rmdir()
    (home.home / "model").write_text("a file where the model folder must be")
    err = home.refused(1, "add", "snooze", "y-{number}", "--count=2")  # the home as it was
    assert str(home.home / "model") in err


def test_an_add_refused_for_a_read_only_model_folder_leaves_nothing_behind(home: Ansar) -> None:
    before = snapshot(home.home)
    os.chmod(home.home / "model", 0o500)
    try:
        done = run_unprivileged(home.cwd, "add", "snooze", "y-0")
    finally:
        os.chmod(home.home / "model", 0o700)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"ansar: {home.home / 'model' / 'y-0'}: cannot create folder (Permission denied)\n"
    assert snapshot(home.home) == before


def test_a_delete_refused_for_a_read_only_model_folder_leaves_the_role_whole(home: Ansar) -> None:
    home.ok("add", "snooze", "y-0")
    (home.home / "model" / "y-0" / "data.json").write_text("{}")
    before = snapshot(home.home)
    os.chmod(home.home / "model", 0o500)
    try:
        done = run_unprivileged(home.cwd, "delete", "y-0")
    finally:
        os.chmod(home.home / "model", 0o700)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"ansar: {home.home / 'model' / 'y-0'}: cannot remove (Permission denied)\n"
    assert snapshot(home.home) == before
    home.ok("delete", "y-0")  # and once it can be, it goes whole
    assert not (home.home / "model" / "y-0").exists() and home.ok("list") == ""


def test_a_delete_refused_for_a_file_it_cannot_remove_leaves_the_role_whole(home: Ansar) -> None:
    home.ok("add", "snooze", "y-0")
    locked_in = home.home / "model" / "y-0" / "locked-in"
    locked_in.mkdir()
    (locked_in / "data.json").write_text("{}")
    before = snapshot(home.home)
    os.chmod(locked_in, 0o500)
    try:
        done = run_unprivileged(home.cwd, "delete", "y-0")
    finally:
        os.chmod(locked_in, 0o700)
    assert done.returncode == 1 and "cannot remove (Permission denied)" in done.stderr, done.stderr
    assert snapshot(home.home) == before


def test_a_failed_destroy_leaves_the_home_whole(ansar: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.home import _store

    logs = ansar.cwd / "logs"
    ansar.ok("create", "--redirect-bin=dist", f"--redirect-logs={logs}")
    ansar.ok("add", "snooze")
    real = os.rename

    def rename(a: str, b: str) -> None:
        if a.startswith(str(logs)):
            raise OSError(5, "Input/output error", a)
        real(a, b)

    monkeypatch.setattr(_store.os, "rename", rename)
    assert "cannot move (Input/output error)" in ansar.refused(1, "destroy")
    assert (logs / "snooze-0").is_dir()
    monkeypatch.setattr(_store.os, "rename", real)
    assert ansar.ok("list") == "snooze-0\n"


# edit


def test_an_editor_that_removes_the_file_is_one_line(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "snooze")
    script = home.cwd / "remover.py"
    script.write_text("import os, sys\nos.remove(sys.argv[1])\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    err = home.refused(1, "edit", "settings", "snooze-0")
    assert err.startswith(f'ansar: editor "{sys.executable} {script}" removed ') and err.endswith("; nothing stored")


def test_edit_checks_the_lock_before_the_editor(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.home import _store

    home.ok("add", "snooze")
    marker = home.cwd / "editor-ran"
    script = home.cwd / "editor.py"
    script.write_text(f"import sys\nopen({str(marker)!r}, 'w')\nopen(sys.argv[1], 'w').write('{{\"value\": {{}}}}')\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")

    def cannot(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise HomeError(f"{home.home / HOME_LOCK}: cannot lock (Read-only file system)")

    monkeypatch.setattr(_store, "home_lock", cannot)
    assert "cannot lock" in home.refused(1, "edit", "settings", "snooze-0")
    assert not marker.exists()


def test_edit_of_a_read_only_home_is_refused_before_the_editor(home: Ansar) -> None:
    home.ok("add", "snooze")
    marker = home.cwd / "editor-ran"
    script = home.cwd / "editor.py"
    script.write_text(f"import sys\nopen({str(marker)!r}, 'w')\nopen(sys.argv[1], 'w').write('{{\"value\": {{}}}}')\n")
    env = dict(command_env(), EDITOR=f"{sys.executable} {script}")
    env.pop("VISUAL", None)
    before = snapshot(home.home)
    undo = make_read_only(home.home)
    try:
        done = run_unprivileged(home.cwd, "edit", "settings", "snooze-0", env=env)
    finally:
        undo()
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot lock" in done.stderr and str(home.home) in done.stderr
    assert not marker.exists()
    assert snapshot(home.home) == before


# destroy and create


def test_destroy_of_a_linked_home_is_refused_naming_the_link(ansar: Ansar) -> None:
    ansar.ok("create", "real-home", "--redirect-bin=dist")
    ansar.home.symlink_to("real-home")
    ansar.ok("add", "snooze")
    err = ansar.refused(1, "destroy")
    assert err.startswith(f"ansar: {ansar.home}: is a symbolic link to real-home, not destroyed")
    assert str(ansar.cwd / "real-home") in err
    assert ansar.home.is_symlink() and (ansar.cwd / "real-home" / "role" / "snooze-0.json").exists()
    assert "is a symbolic link" in ansar.refused(1, "-f", "destroy")


def test_create_refuses_a_bin_redirect_to_a_missing_folder(ansar: Ansar) -> None:
    deep = ansar.cwd / "nonexistent" / "deep" / "path"
    err = ansar.refused(1, "create", f"--redirect-bin={deep}")
    assert err == f'ansar: redirect of "bin" to {deep}: no such folder (bin must exist and hold the executables)'
    assert not (ansar.cwd / "nonexistent").exists() and not ansar.home.exists()
    err = ansar.refused(1, "create", "--redirect-bin=bin")  # the README's line outside the checkout
    assert f"{ansar.cwd / 'bin'}: no such folder" in err and not (ansar.cwd / "bin").exists()


def test_create_makes_only_the_last_folder_of_other_redirects(ansar: Ansar) -> None:
    err = ansar.refused(1, "create", "--redirect-bin=dist", "--redirect-logs=a/b/logs", "--redirect-model=models")
    assert f"no such folder {ansar.cwd / 'a' / 'b'}" in err
    assert not (ansar.cwd / "a").exists() and not (ansar.cwd / "models").exists() and not ansar.home.exists()
    (ansar.cwd / "dist" / "readme").write_text("")
    assert "not a folder" in ansar.refused(1, "create", f"--redirect-logs={ansar.cwd / 'dist' / 'readme'}")
    ansar.ok("create", "--redirect-bin=dist", "--redirect-logs=logs")
    assert (ansar.cwd / "logs").is_dir()


def test_create_refuses_a_home_whose_parent_folder_is_missing(ansar: Ansar) -> None:
    err = ansar.refused(1, "create", "deep/er/home")
    assert f"no such folder {ansar.cwd / 'deep' / 'er'}" in err and not (ansar.cwd / "deep").exists()


def test_a_create_that_fails_midway_leaves_nothing(ansar: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansar.home import _store

    real = _store.write_file

    def write_file(path: str, data: bytes) -> None:
        if "home.json" in path:
            raise HomeError(f"{path}: cannot write (No space left on device)")
        real(path, data)

    monkeypatch.setattr(_store, "write_file", write_file)
    assert "No space left" in ansar.refused(1, "create", "--redirect-bin=dist", "--redirect-logs=logs")
    assert not ansar.home.exists() and not (ansar.cwd / "logs").exists()


# Values that make no sense.


@pytest.mark.parametrize(
    "retry, where, expected",
    [
        ({"first_steps": [1.0, -1.0]}, "$.value.first_steps[1]", "each a delay of 0.1 to 604800 seconds"),
        ({"regular_steps": 0}, "$.value.regular_steps", "a delay of 0.1 to 604800 seconds"),
        ({"regular_steps": 0.001}, "$.value.regular_steps", "a delay of 0.1 to 604800 seconds"),
        ({"step_limit": -1}, "$.value.step_limit", "a count of delays, 0 or more"),
        ({"randomized": -0.5}, "$.value.randomized", "a slot of 0 to 604800 seconds"),
        ({"truncated": 1.5}, "$.value.truncated", "a fraction of the delay, 0 to 1"),
    ],
)
def test_set_retry_refuses_values_out_of_range(home: Ansar, retry: dict, where: str, expected: str) -> None:
    home.ok("add", "client")
    bad = write(home.cwd / "bad-retry", {"value": retry})
    err = home.refused(2, "set", "retry", "client-0", f"--encoding-file={bad}")
    assert f"at `{where}`" in err and expected in err


def test_set_storage_refuses_absurd_sizes_naming_the_range(home: Ansar) -> None:
    home.ok("add", "client")
    for value in ("99999999999999999999999", "10"):
        bad = write(home.cwd / "bad", '{"value": %s}' % value)
        err = home.refused(2, "set", "storage", "client-0", f"--encoding-file={bad}")
        assert "storage: bytes, 1024 to 1099511627776" in err


def test_a_retry_never_waits_less_than_the_floor() -> None:
    assert MIN_DELAY == 0.1
    built = RetryIntervals(first_steps=[0.0, -1.0], regular_steps=0.0, step_limit=4)  # not decoded: unchecked
    assert list(intervals(built)) == [MIN_DELAY] * 4
    assert min(intervals(RetryIntervals(first_steps=[0.0] * 50, randomized=0.01))) >= MIN_DELAY


@pytest.mark.parametrize("kind, executable", [("settings", "snooze"), ("input", "factorial")])
def test_a_damaged_value_file_is_named(home: Ansar, kind: str, executable: str) -> None:
    home.ok("add", executable)
    path = home.home / kind / f"{executable}-0.json"
    path.write_text("[1")
    err = home.refused(1, kind, f"{executable}-0")
    assert err.startswith(f"ansar: {path}: damaged (not a ")


def test_update_blames_a_damaged_settings_file_not_the_new_value(home: Ansar) -> None:
    home.ok("add", "snooze")
    path = home.home / "settings" / "snooze-0.json"
    path.write_text("[1")
    assert home.refused(1, "update", "snooze-0", "--seconds=1.0").startswith(f"ansar: {path}: damaged")
    path.write_text('{"value": {"seconds": "soon"}}')  # a document its executable refuses
    err = home.refused(1, "update", "snooze-0", "--seconds=1.0")
    assert err.startswith(f"ansar: {path}: damaged (the stored settings are refused: ")
    path.write_text('{"value": {"seconds": 3.0}}')
    assert "refused --seconds=soon" in home.refused(2, "update", "snooze-0", "--seconds=soon")


# Words and exit statuses that agree.


@pytest.mark.parametrize(
    "argv",
    [("settings", "../x"), ("input", "../x"), ("settings", "../x", "--set-file=f"), ("get", "retry", "../x"),
     ("edit", "settings", "../x"), ("folder", "model", "../x"), ("settings", "a\nb")],
)
def test_a_malformed_role_name_is_a_usage_error_everywhere(home: Ansar, argv: tuple[str, ...]) -> None:
    assert "is not a plain name" in home.refused(2, *argv)


def test_input_and_its_file_form_agree_on_a_role_without_input(home: Ansar) -> None:
    home.ok("add", "snooze")
    given = write(home.cwd / "given", {"value": 7})
    text = 'ansar: role "snooze-0" has no input (executable "snooze" takes none)'
    assert home.refused(1, "input", "snooze-0") == text
    assert home.refused(1, "input", "snooze-0", f"--encoding-file={given}") == text
    assert home.refused(1, "input", "snooze-0", f"--set-file={given}") == text


def test_list_invert_search_alone_is_the_inverse_of_every_role(home: Ansar) -> None:
    for count in range(2):  # an empty home, then one with a role
        alone = home("list", "--invert-search")
        every = home("list", ".*", "--invert-search")
        assert alone[0] == 1 and alone[1:] == every[1:] == ("", 'ansar: search "not .*" matches no role\n')
        if not count:
            home.ok("add", "snooze")
    assert home.ok("list") == "snooze-0\n"


def test_a_role_name_holding_a_newline_is_listed_quoted_on_one_line(home: Ansar) -> None:
    home.ok("add", "snooze")
    (home.home / "role" / "odd\nname.json").write_text('{"value": {"executable": "snooze"}}')
    assert home.ok("list") == '"odd\\nname"\nsnooze-0\n'
    lines = home.ok("list", "-l").splitlines()
    assert len(lines) == 2 and lines[0].startswith('"odd\\nname"  snooze')
    assert home.refused(1, "list", "odd\nothers") == 'ansar: search "odd\\nothers" matches no role'
    home.ok("delete", r"odd\sname")  # still reached by a search
    assert home.ok("list") == "snooze-0\n"


def test_a_home_path_naming_a_file_says_it_is_not_a_home_folder(home: Ansar) -> None:
    (home.cwd / "notes.txt").write_text("")
    err = home.refused(1, "list", "--home-path=notes.txt")
    assert err == f"ansar: {home.cwd / 'notes.txt'}: not a home folder (it is a file)"


# Examples.


def test_the_plain_script_answers_help_with_what_it_does_and_its_input(tool_env: dict[str, str]) -> None:
    script = [sys.executable, str(REPO / "examples" / "script.py")]
    done = subprocess.run([*script, "--help"], capture_output=True, text=True, env=tool_env, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert "factorial(n)" in done.stdout and "input: n, an int" in done.stdout
    done = subprocess.run([*script, "four"], capture_output=True, text=True, env=tool_env, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
