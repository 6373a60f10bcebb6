"""Fixtures for every test: no process outlives its test, and a PATH that finds the examples."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "bin"


def kill_process_trees(root: psutil.Process, *, seconds: float = 5.0) -> list[int]:
    """SIGKILL every descendant of ``root`` and reap them; return the pids that were found.

    Repeats until no descendant is left, so that children born while killing are caught too.
    """
    found: list[int] = []
    for _ in range(10):
        try:
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        children = [c for c in children if _alive(c)]
        if not children:
            break
        found.extend(c.pid for c in children)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=seconds)
    return found


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """After each test, kill whatever process trees the test left running."""
    yield
    kill_process_trees(psutil.Process())


@pytest.fixture
def tool_path() -> str:
    """PATH with the repository's bin/ launchers and this interpreter's folder first.

    The launchers exec ``python3``, so the interpreter running the tests (the venv's) is the one
    that runs every example, including the children that ``ar.Process`` finds on PATH.
    """
    return os.pathsep.join([str(BIN), os.path.dirname(sys.executable), os.environ.get("PATH", "")])


@pytest.fixture
def tool_env(tool_path: str, tmp_path: Path) -> dict[str, str]:
    """An environment for running examples as tools: ``tool_path`` and a home folder of its own.

    A private HOME keeps settings stored with ``--store-settings`` (in the user's configuration
    folder) from leaking between tests or from the developer's account into them.
    """
    home = tmp_path / "user-home"
    home.mkdir()
    env = dict(os.environ)
    env["PATH"] = tool_path
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.pop("PYTHONPATH", None)
    return env
