"""The tour's development loop, step by step ("A Streamlined, Multi-Process Development Loop"):
examples/Makefile in a copy of examples/, checking what each step prints and its exit status.

The launchers stand in for pyinstaller builds (BUILD=build); the same steps with real builds run
with ``make slow`` (ANSAR_TOUR_BUILD=dist), as they take minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD = os.environ.get("ANSAR_TOUR_BUILD", "build")
FAILED_LINES = [
    "{src}:51 - Expected b'fervent' for b'eager', got b'eager'",
    "{src}:56 - Expected b'define' for b'explain', got b'explain'",
    "{src}:61 - Expected b'droll' for b'fly', got b'fly'",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tour:
    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.env = env
        self.port = free_port()

    def make(self, *targets: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "--no-print-directory", f"BUILD={BUILD}", f"PORT={self.port}", *targets],
                              cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=900)

    def ansar(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ansar", *args], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=60)

    def records(self, text: str) -> list[str]:
        """``name - text`` of the CONSOLE records in ``text``."""
        return [m.group(1) for m in re.finditer(r"^\[\d{8}\] \S+ \^ <[0-9a-f]{8}>(.*)$", text, re.M)]


@pytest.fixture
def tour(tmp_path: Path, tool_env: dict[str, str]):
    if BUILD == "dist" and shutil.which("pyinstaller", path=tool_env["PATH"]) is None:
        pytest.skip("pyinstaller is not installed")
    folder = tmp_path / "tour"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("__pycache__", ".ansar-home", "testing"))
    env = {k: v for k, v in tool_env.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}  # as from a shell
    t = Tour(folder, env)
    yield t
    t.ansar("-f", "stop")


@pytest.mark.timeout(900 if BUILD == "dist" else 120)
def test_the_development_loop_follows_the_tour(tour: Tour) -> None:
    src = tour.folder / "client.py"
    home = tour.folder / ".ansar-home"

    done = tour.make("home")
    assert done.returncode == 0, done.stderr
    assert "ansar snapshot testing" in done.stdout
    assert sorted(str(p.relative_to(tour.folder)) for p in (tour.folder / "testing").rglob("*")) == [
        "testing/model-by-role", "testing/model-by-role/server-0", "testing/model-by-role/test-client",
        "testing/model-by-role/zombie-0", "testing/resource-by-executable", "testing/resource-by-executable/client",
        "testing/resource-by-executable/server", "testing/resource-by-executable/zombie", "testing/settings-by-role",
        "testing/settings-by-role/server-0.json", "testing/settings-by-role/test-client.json"]  # zombie has none

    done = tour.make("start")
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'ansar -f start "test-.*" --invert-search\n'
    zombie = tour.ansar("status", "-l", "zombie-0").stdout.split()[1]

    # Begin development: nothing to deploy, three failed tests, make fails at line 64.
    done = tour.make()
    assert done.returncode == 2
    assert tour.records(done.stderr) == ["ansar - Nothing to deploy"]
    assert done.stdout.splitlines()[-4:] == ['role "test-client" (pass/fail): 0/3'] + [
        line.format(src=src) for line in FAILED_LINES]
    assert "make: *** [Makefile:64: test] Error 1" in done.stderr

    # Deploying an operational file.
    shutil.copy(tour.folder / "word-map.json", tour.folder / "testing" / "model-by-role" / "server-0")
    server = tour.ansar("status", "-l", "server-0").stdout.split()[1]
    done = tour.make()
    assert done.returncode == 2
    assert tour.records(done.stderr) == [
        'ansar - Detected 1 model changes for "server-0"',
        "ansar - Detect status of associated roles (server-0)",
        "ansar - Stop roles (server-0)",
        "ansar - Poll for termination",
        "ansar - Detect status of associated roles (server-0)",
        "ansar - Starting transfer of materials",
        f"folder_transfer - File transfer (1 deltas) to {home}/model/server-0",
        "folder_transfer - Move 1 aliases to targets",
        "folder_transfer - Clear 0 aliases",
        f'ansar - Completed transfer to "{home}/model/server-0"',
        "ansar - Restoring 1 stopped roles",
    ]
    assert done.stdout.splitlines()[-3:] == ['role "test-client" (pass/fail): 1/2'] + [
        FAILED_LINES[0].format(src=src), FAILED_LINES[2].format(src=src)]
    assert tour.ansar("status", "-l", "server-0").stdout.split()[1] != server  # restarted

    # Editing source code: the client is rebuilt and deployed into bin.
    text = src.read_text()
    src.write_text(text.replace("word, expect = b'eager', b'fervent'", "word, expect = b'eager', b'eager'"))
    done = tour.make()
    assert done.returncode == 2
    assert tour.records(done.stderr)[:2] == [
        "ansar - Detected 1 changing executables (added 1 associated roles)",
        "ansar - Detect status of associated roles (test-client)",
    ]
    assert f"folder_transfer - File transfer (1 deltas) to {home}/bin" in tour.records(done.stderr)
    assert done.stdout.splitlines()[-2:] == ['role "test-client" (pass/fail): 2/1', FAILED_LINES[2].format(src=src)]

    # Modifying an operational file: the loop ends cleanly; then nothing to deploy.
    (tour.folder / "testing" / "model-by-role" / "server-0" / "word-map.json").write_text(
        '{"value": [["explain", "define"], ["fly", "droll"]]}\n')
    done = tour.make()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == 'role "test-client" (pass/fail): 3/0'
    done = tour.make()
    assert done.returncode == 0, done.stderr
    assert tour.records(done.stderr) == ["ansar - Nothing to deploy"]

    # zombie-0 was never disturbed: the same process, older than server-0.
    status = tour.ansar("status", "-l").stdout.splitlines()
    assert [line.split()[0] for line in status] == ["server-0", "zombie-0"]
    assert status[1].split()[1] == zombie

    # Adding some workload: 41 clients at 3/0.
    assert tour.ansar("add", "client", "test-client-{number}", "--start=10", "--count=40",
                      f"--port={tour.port}").returncode == 0
    assert tour.ansar("set", "retry", r"test-client-\d\d", "--encoding-file=client-retry").returncode == 0
    done = tour.make()
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("role ")]
    assert len(table) == 41 and all(line.endswith("(pass/fail): 3/0") for line in table)

    done = tour.make("clean")
    assert done.returncode == 0, done.stderr
    assert not home.exists()
