"""Fixtures for every test: no process outlives its test, and a PATH that finds the examples."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import psutil
import pytest
from hypothesis import settings

# No timed tests: an example slow on a loaded machine (hypothesis's 200 ms deadline) is no defect.
settings.register_profile("ansar", deadline=None)
settings.load_profile("ansar")

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "bin"

# Tests send Ctrl-C (SIGINT) to the commands they start. Started in the background by a shell
# without job control (nohup ... &), this process and every child would inherit SIGINT ignored,
# and a command waiting for its Ctrl-C would wait forever: children get the default again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _identity(p: psutil.Process) -> tuple[int, float]:
    """A process's pid and start time: a pid reused by a later process is not the same one."""
    try:
        return p.pid, p.create_time()
    except psutil.Error:
        return p.pid, 0.0


def _descendants(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [c for c in root.children(recursive=True) if _alive(c)]
    except psutil.Error:
        return []


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_process_trees(root: psutil.Process, *, keep: frozenset = frozenset(),
                       seconds: float = 5.0) -> list[int]:
    """SIGKILL every descendant of ``root`` not in ``keep`` (identities) and reap them.

    Repeats until none is left, so that children born while killing are caught too. Returns the
    pids that were killed.
    """
    killed: list[int] = []
    for _ in range(10):
        doomed = [p for p in _descendants(root) if _identity(p) not in keep]
        if not doomed:
            break
        killed.extend(p.pid for p in doomed)
        for p in doomed:
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(doomed, timeout=seconds)
    return killed


def _become_subreaper() -> None:
    """Orphans of the tests (roles that ``ansar start`` detached) become children of this
    process instead of init's, so that the fixture below finds and ends them too."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


_become_subreaper()


def _reap_orphans(me: psutil.Process) -> None:
    """Collect the exit status of adopted orphans that have ended (no Popen waits for them)."""
    try:
        children = me.children()
    except psutil.Error:
        return
    for child in children:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
        except (psutil.Error, ChildProcessError):
            pass


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """After each test, kill the process trees the test started and left running.

    Processes that were already running when the test began (a fixture's server of wider scope)
    are left alone.
    """
    me = psutil.Process()
    before = frozenset(_identity(p) for p in _descendants(me))
    yield
    kill_process_trees(me, keep=before)
    _reap_orphans(me)


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


@pytest.fixture
def cli(tmp_path: Path, tool_env: dict[str, str]):
    """The ansar command as a process, on a home of its own whose bin is the examples' launchers.
    Roles it leaves running in the background are stopped with their trees afterwards."""
    from support_running import Cli

    work = tmp_path / "work"
    work.mkdir()
    c = Cli(work, tool_env)
    c.ok("create", f"--redirect-bin={BIN}")
    yield c
    c("stop", "-f")
