"""The home on disk: atomic files, damage and versions, concurrent commands, layering."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from test_command_support import (  # noqa: F401 - fixtures
    REPO,
    Ansar,
    ansar_fixture,
    command_env,
    home_fixture,
)

from ansar.home import BadValue, HomeError, Search, check_name, create_home, expand_template
from ansar.home._store import write_file


def test_write_file_replaces_atomically_and_privately(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_file(str(path), b"one")
    write_file(str(path), b"two")
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left behind


def test_write_file_into_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(HomeError, match="cannot write"):
        write_file(str(tmp_path / "nowhere" / "x.json"), b"{}")


def test_damaged_home_record_is_one_line_naming_the_file(home: Ansar) -> None:
    (home.home / "home.json").write_text("{not json")
    err = home.refused(1, "list")
    assert err.startswith(f"ansar: {home.home / 'home.json'}: ")


def test_home_from_a_newer_ansar_is_refused_naming_the_file(home: Ansar) -> None:
    (home.home / "home.json").write_text('{"value": {"version": 99}}')
    err = home.refused(1, "list")
    assert err == f"ansar: {home.home / 'home.json'}: home format 99 is newer than this ansar (1)"


def test_home_record_with_unknown_fields_is_refused(home: Ansar) -> None:
    (home.home / "home.json").write_text('{"value": {"version": 1, "colour": "red"}}')
    assert "unknown field `colour`" in home.refused(1, "list")


def test_damaged_role_record_is_named_by_commands_that_read_it(home: Ansar) -> None:
    home.ok("add", "snooze")
    record = home.home / "role" / "snooze-0.json"
    record.write_text("")
    for argv in (("get", "retry", "snooze-0"), ("settings", "snooze-0"), ("update", "snooze-0", "--seconds=1.0")):
        assert str(record) in home.refused(1, *argv)


def test_a_home_missing_its_role_folder_is_named(home: Ansar) -> None:
    (home.home / "role").rmdir()
    assert home.refused(1, "list") == f"ansar: {home.home / 'role'}: missing (a damaged home)"


def test_concurrent_adds_of_different_roles_all_land(home: Ansar) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ansar.command", "add", "client", f"c{n}-{{number}}", "--count=10"],
            cwd=home.cwd, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(6)
    ]
    for p in processes:
        out, err = p.communicate(timeout=60)
        assert (p.returncode, err) == (0, "")
    names = home.ok("list").split()
    assert len(names) == 60
    for name in names:
        assert json.loads((home.home / "role" / f"{name}.json").read_text()) == {"value": {"executable": "client"}}
    assert not [p for p in (home.home / "role").iterdir() if p.name.startswith(".")]


def test_concurrent_adds_of_one_role_exactly_one_wins(home: Ansar) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ansar.command", "add", "snooze", "same", f"--seconds={n}.0"],
            cwd=home.cwd, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(5)
    ]
    results = [(p.communicate(timeout=60)[1], p.returncode) for p in processes]
    assert sorted(status for _, status in results) == [0, 1, 1, 1, 1]
    for err, status in results:
        if status:
            assert err == f'ansar: role "same" already exists in {home.home}\n'
    winner = [n for n, (_, status) in enumerate(results) if status == 0][0]
    assert home.document("settings", "same") == {"value": {"seconds": float(winner)}}


def test_create_refuses_a_redirect_into_the_home_itself(tmp_path: Path) -> None:
    with pytest.raises(BadValue, match="inside the home itself"):
        create_home(str(tmp_path / "h"), {"logs": str(tmp_path / "h" / "logs")})
    assert not (tmp_path / "h").exists()


@pytest.mark.parametrize("name", ["a", "left-arm", "test_client.9", "A-0"])
def test_plain_names_are_accepted(name: str) -> None:
    assert check_name(name) == name


def test_templates_expand_over_numbers() -> None:
    assert expand_template("{executable}-{number}", "client", 10, 3) == ["client-10", "client-11", "client-12"]
    assert expand_template("solo", "client") == ["solo"]


def test_searches_match_whole_names() -> None:
    names = ["client-1", "client-10", "server-0"]
    assert Search("client-1").select(names) == ["client-1"]
    assert Search("client.*", invert=True).select(names) == ["server-0"]
    assert Search().select(names) == names
    assert Search(invert=True).select([], empty_ok=True) == []
    with pytest.raises(HomeError, match='search "nope" matches no role'):
        Search("nope").select(names)


def _imports(package: Path) -> set[str]:
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_layers_import_one_way() -> None:
    """command imports home (and the runtime's public face, being an object during run, start
    and stop); home imports only what it shares with components: the role layout, retry, codec,
    atomic writer, history, log storage and log format, the records, the ready file, and the stop of
    a process tree; a command role under run is a runtime object (point, lifecycle, processing);
    never upward."""
    home = {m for m in _imports(REPO / "ansar" / "home") if m.startswith("ansar")}
    shared = {"ansar.create._role", "ansar.create.retry", "ansar.create.codec", "ansar.create._atomic",
              "ansar.create._history", "ansar.create._logstore", "ansar.create.log", "ansar.create._tree",
              "ansar.create._records", "ansar.create._ready",
              "ansar.create.point", "ansar.create.lifecycle", "ansar.create.processing",
              "ansar.create"}  # the public face: a deploy's transfers are runtime objects
    assert home <= shared, home
    runtime = {m for m in _imports(REPO / "ansar" / "create") if m.startswith(("ansar.home", "ansar.command"))}
    assert runtime == set()
    command = {m for m in _imports(REPO / "ansar" / "command") if m.startswith("ansar.create")}
    assert command <= {"ansar.create", "ansar.create.codec"}, command


def test_list_starts_without_heavy_modules(home: Ansar) -> None:
    code = (
        "import sys; from ansar.command.main import main; main(['list']);"
        "print(sorted(m for m in ('psutil', 'filelock', 'subprocess', 'argparse', 'ansar.create.framework')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=home.cwd, env=command_env(), capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == "[]"


def test_every_file_the_command_writes_is_private(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("update", "snooze-0", "--seconds=3.0")
    for folder, dirs, files in os.walk(home.home):
        for d in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(folder, d)).st_mode) == 0o700, d
        for f in files:
            if f != ".home.lock":
                assert stat.S_IMODE(os.stat(os.path.join(folder, f)).st_mode) == 0o600, f
