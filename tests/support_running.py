"""Helpers for the end-to-end tests of running roles: the ``ansar`` command as a process in a
folder of its own, with the examples on PATH (the ``cli`` fixture lives in conftest). No tests
live here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 20.0
LINE = re.compile(r"^\[(\d{8})\] (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (.) <([0-9a-f]{8})>(\S+) - (.*)$")


def wait_for(condition, seconds: float = DEADLINE, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {seconds}s"
        time.sleep(0.01)  # polling with a deadline


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class Cli:
    """The ``ansar`` command run as a process in a folder of its own, with the examples on PATH."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.cwd = cwd
        self.env = env
        self.home = cwd / ".ansar-home"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ansar.command", *args]

    def __call__(self, *args: str, seconds: float = DEADLINE) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=seconds)

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert (done.returncode, done.stderr) == (0, ""), f"ansar {' '.join(args)}: {done.returncode} {done.stderr}"
        return done.stdout

    def refused(self, status: int, *args: str) -> str:
        done = self(*args)
        assert done.returncode == status, f"ansar {' '.join(args)}: {done.returncode} {done.stderr}"
        assert done.stderr.startswith("ansar: ") and done.stderr.count("\n") == 1, done.stderr
        return done.stderr.strip()

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kw)

    def running(self) -> list[str]:
        return self.ok("status").split()

    def pids(self) -> dict[str, int]:
        found = {}
        for line in self.ok("status", "-l").splitlines():
            name, pid, _ = line.split()
            found[name] = int(pid.strip("<>"))
        return found


def document(text: str):
    return json.loads(text)


def run_document(*completed, home: str = ".ansar-home"):
    return {"value": ["ansar.command.ansar_command.Run", {"completed": [list(c) for c in completed], "home": home}, []]}


ACK = ["ansar.create.lifecycle.Ack", {}, []]
ABORTED = ["ansar.create.lifecycle.Aborted", {}, []]
