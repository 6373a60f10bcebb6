"""``ar.Process``: an executable run as a child object, its result returned as Completed.

Input goes to the child's stdin, its result comes back on its stdout, its logs pass through on
stderr. A Stop reaches the child as SIGINT; if it does not end within a grace period its whole
process tree gets SIGTERM, then SIGKILL. The child leads a session of its own, so when it ends
whatever is left in its process group is killed; ansar children also die with their parent
(PR_SET_PDEATHSIG, set by create_object), which reaches the groups of their own children.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import Any, Optional  # processing loads on first use; typing is affordable here

from . import log as _log
from .lifecycle import Aborted, Faulted, SelectTimer, Stop
from .log import USER_LOG
from .point import Threaded

__all__ = ["Process", "find_executable", "stop_all"]

INTERRUPT_GRACE = 5.0  # seconds after SIGINT before SIGTERM
TERMINATE_GRACE = 3.0  # seconds after SIGTERM before SIGKILL

_live: dict[int, "subprocess.Popen[bytes]"] = {}  # stopped at exit: create_object's end, or atexit
_live_lock = threading.Lock()


class _Exited:
    """Internal: the child process ended."""

    __slots__ = ("returncode", "output")

    def __init__(self, returncode: int, output: bytes) -> None:
        self.returncode = returncode
        self.output = output


def find_executable(name: str, home_bin: Optional[str] = None) -> Optional[str]:
    """The path of executable ``name``: the home's bin, then PATH. A path is taken as given."""
    if os.sep in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    if home_bin is None:
        from ._context import current_bin

        home_bin = current_bin()
    if home_bin:
        candidate = os.path.join(home_bin, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def _descendants(pid: int) -> list:
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []


def _signal_tree(root: "subprocess.Popen[bytes]", members: list, signum: int) -> None:
    for p in [root, *members]:
        try:
            if isinstance(p, subprocess.Popen):
                if p.returncode is None:
                    p.send_signal(signum)
            else:
                p.send_signal(signum)
        except Exception:
            pass  # already gone


def _kill_group(pgid: int) -> None:
    """Kill whatever is left in a child's process group (it leads its own session)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_leftovers(members: list) -> None:
    for p in members:
        try:
            if p.is_running():
                p.kill()
        except Exception:
            pass


class Process(Threaded):
    """Run executable ``name`` as a child object: ``self.create(ar.Process, 'name', input=...)``."""

    def __init__(
        self,
        name: str,
        input: Any = None,
        role_name: Optional[str] = None,
        home_path: Optional[str] = None,
        settings: Optional[list] = None,
        grace: Optional[float] = None,
    ) -> None:
        Threaded.__init__(self, "Process")
        self.executable = name
        self.input = input
        self.role_name = role_name
        self.home_path = home_path
        self.settings = list(settings or ())
        self.grace = INTERRUPT_GRACE if grace is None else grace
        self.state = "INITIAL"
        self._stopped = False

    @property
    def object_name(self) -> str:  # type: ignore[override]
        return f"Process[{self.state}]"

    def _command(self, path: str) -> list[str]:
        argv = [path]
        if _log.log_level() > USER_LOG.NONE:
            argv.append(f"--debug-level={USER_LOG.names[_log.log_level()]}")
        if self.role_name:
            from ._context import current_home

            home = self.home_path or current_home()
            if home:
                argv += [f"--home-path={home}", f"--role-name={self.role_name}"]
        return argv + [s if s.startswith("--") else f"--{s}" for s in self.settings]

    def run(self) -> Any:
        path = find_executable(self.executable)
        if path is None:
            text = f'executable "{self.executable}" not found (home bin, then PATH)'
            self.fault(text)
            return Faulted(condition=text, explanation="no such executable")
        data = b""
        if self.input is not None:
            from .codec import encode

            data = encode(self.input, type(self.input))
        argv = self._command(path)
        self.trace(f"Execute {' '.join(argv)}")
        env = dict(os.environ)
        env["ANSAR_PARENT_PID"] = str(os.getpid())
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if data else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                start_new_session=True,
                env=env,
            )
        except OSError as e:
            text = f'cannot start "{path}" ({e.strerror})'
            self.fault(text)
            return Faulted(condition=text, explanation="process start failed")
        with _live_lock:
            _live[proc.pid] = proc
        self.state = "EXECUTING"
        self._log(USER_LOG.OBJECT, "(", f"Started process ({proc.pid})")
        waiter = threading.Thread(target=self._wait, args=(proc, data), name="wait", daemon=True)
        waiter.start()
        members: list = []
        try:
            m = self.select(_Exited, Stop)
            if isinstance(m, Stop):
                self._stopped = True
                self.state = "STOPPING"
                members = _descendants(proc.pid)
                _signal_tree(proc, [], signal.SIGINT)
                m = self.select(_Exited, seconds=self.grace)
                if isinstance(m, SelectTimer):
                    members = _descendants(proc.pid) or members
                    _signal_tree(proc, members, signal.SIGTERM)
                    m = self.select(_Exited, seconds=TERMINATE_GRACE)
                    if isinstance(m, SelectTimer):
                        _signal_tree(proc, members, signal.SIGKILL)
                        m = self.select(_Exited)
        finally:
            with _live_lock:
                _live.pop(proc.pid, None)
        _kill_group(proc.pid)
        _kill_leftovers(members)
        self.state = "ENDED"
        self._log(USER_LOG.OBJECT, ")", f"Process ({proc.pid}) ended with {m.returncode}")
        return self._result(m, stopped=bool(members) or self._stopped)

    def _wait(self, proc: "subprocess.Popen[bytes]", data: bytes) -> None:
        try:
            output, _ = proc.communicate(data or None)
        except (OSError, ValueError):
            output = b""
            proc.wait()
        self._deliver(_Exited(proc.returncode, output or b""), self.address)

    def _result(self, m: _Exited, stopped: bool = False) -> Any:
        if m.output.strip():
            from .codec import CodecError, decode

            try:
                return decode(m.output, source=f'output of "{self.executable}"')
            except CodecError as e:
                self.warning(str(e))
        if m.returncode < 0 or stopped:
            # Stopped, and no result: perhaps interrupted before it could set up its handlers.
            return Aborted()
        if m.returncode == 0:
            return None
        return Faulted(
            condition=f'process "{self.executable}" ended with {m.returncode}',
            explanation="no result on stdout",
            exit_code=m.returncode,
        )


def stop_all(grace: float = 1.0) -> None:
    """Stop every child process still running (at program exit): SIGINT, SIGTERM, SIGKILL."""
    with _live_lock:
        procs = list(_live.values())
    if not procs:
        return
    import time

    trees = {p.pid: _descendants(p.pid) for p in procs}
    for signum, wait in ((signal.SIGINT, grace), (signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        alive = [p for p in procs if p.poll() is None]
        if not alive:
            break
        for p in alive:
            _signal_tree(p, trees[p.pid] if signum != signal.SIGINT else [], signum)
        deadline = time.monotonic() + wait
        while wait and time.monotonic() < deadline and any(p.poll() is None for p in alive):
            time.sleep(0.01)  # bounded poll while the process exits; not synchronisation between threads
    for p in procs:
        _kill_group(p.pid)
        _kill_leftovers(trees[p.pid])
    sys.stdout.flush()


atexit.register(stop_all)  # a plain script (OpenChannel) leaves no child behind either
