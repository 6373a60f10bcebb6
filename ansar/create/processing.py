"""``ar.Process``: an executable run as a child object, its result returned as Completed.

Input goes to the child's stdin, its result comes back on its stdout, its logs pass through on
stderr. A Stop reaches the child as SIGINT once the child says it is ready (it writes to the
descriptor named by ANSAR_READY_FD when its handlers are in place; a child not ready within
READY_WAIT gets SIGTERM instead, which ends an interpreter still importing without a traceback);
if it does not end within a grace period its whole process tree gets SIGTERM, then SIGKILL
(``_tree.stop_tree``). The child leads a session of its own, so when it ends
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
from ._tree import Hurry, stop_tree
from .lifecycle import Aborted, Ack, Faulted, Stop, TimedOut
from .log import USER_LOG
from .point import Threaded

__all__ = ["Process", "find_executable", "hurry", "stop_all"]

INTERRUPT_GRACE = 5.0  # seconds after SIGINT before SIGTERM
TERMINATE_GRACE = 2.0  # seconds after SIGTERM before SIGKILL, and after SIGKILL
READY_WAIT = 0.5  # how long a Stop waits for a child to be ready for it (within the grace)

# Children still running, with the descriptor that says they are ready; stopped at exit
# (create_object's end, or atexit) unless their Process object is stopping them already.
_live: dict[int, tuple["subprocess.Popen[bytes]", int]] = {}
_stopping: set[int] = set()
_hurry = Hurry()  # set by hurry(): every stop under way skips what is left of its grace periods


def hurry() -> None:
    """Cut short the grace periods of every stop of a child under way (a second Ctrl-C)."""
    _hurry.set()
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
        home_bin = current_bin_or_inherited()
    if home_bin:
        candidate = os.path.join(home_bin, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def current_bin_or_inherited() -> Optional[str]:
    """The bin of this component's home, or the one a component parent passed down."""
    from ._context import current_bin

    return current_bin() or os.environ.get("ANSAR_BIN") or None


def _kill_group(pgid: int) -> None:
    """Kill whatever is left in a child's process group (it leads its own session)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_ready(fd: int, seconds: Optional[float]) -> bool:
    """True once the child said it is ready (wrote to its end of the pipe), or ended."""
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if seconds is None else seconds * 1000))


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
        debug_level: Optional[int] = None,
        environment: Optional[dict] = None,
        report_ready: bool = False,
    ) -> None:
        Threaded.__init__(self, "Process")
        self.executable = name
        self.input = input
        self.role_name = role_name
        self.home_path = home_path
        self.settings = list(settings or ())
        self.grace = INTERRUPT_GRACE if grace is None else grace
        self.debug_level = debug_level  # the child's; None: this program's own
        self.environment = dict(environment or {})  # added to the child's environment
        self.report_ready = report_ready  # send the parent an Ack once the child says it is ready
        self.state = "INITIAL"
        self._stopped = False

    @property
    def object_name(self) -> str:  # type: ignore[override]
        return f"Process[{self.state}]"

    def _command(self, path: str) -> list[str]:
        argv = [path] + [s if s.startswith("--") else f"--{s}" for s in self.settings]
        if self.role_name:
            from ._context import current_home

            home = self.home_path or current_home()
            if home:
                argv += [f"--home-path={home}", f"--role-name={self.role_name}"]
        level = _log.log_level() if self.debug_level is None else self.debug_level
        if level > USER_LOG.NONE:
            argv.append(f"--debug-level={USER_LOG.names[level]}")
        return argv

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
        if self._stop_pending():
            return Aborted()  # stopped before it started: start nothing
        self.trace(f"Execute {' '.join(argv)}")
        env = dict(os.environ, **self.environment)
        env["ANSAR_PARENT_PID"] = str(os.getpid())
        home_bin = current_bin_or_inherited()
        if home_bin:
            env["ANSAR_BIN"] = home_bin  # grandchildren find executables where this one did
        ready, ready_w = os.pipe()
        env["ANSAR_READY_FD"] = str(ready_w)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if data else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                start_new_session=True,
                env=env,
                pass_fds=(ready_w,),
            )
        except OSError as e:
            os.close(ready)
            text = f'cannot start "{path}" ({e.strerror})'
            self.fault(text)
            return Faulted(condition=text, explanation="process start failed")
        finally:
            os.close(ready_w)
        with _live_lock:
            _live[proc.pid] = (proc, ready)
        self.state = "EXECUTING"
        self._log(USER_LOG.OBJECT, "(", f"Started process ({proc.pid})")
        waiter = threading.Thread(target=self._wait, args=(proc, data), name="wait", daemon=True)
        waiter.start()
        if self.report_ready:
            threading.Thread(target=self._tell_ready, args=(ready,), name="ready", daemon=True).start()
        try:
            m = self.select(_Exited, Stop)
            if isinstance(m, Stop):
                self._stopped = True
                self.state = "STOPPING"
                with _live_lock:
                    _stopping.add(proc.pid)
                self._stop_child(proc, ready)
                m = self.select(_Exited)
        finally:
            with _live_lock:
                _live.pop(proc.pid, None)
                _stopping.discard(proc.pid)
                os.close(ready)
        _kill_group(proc.pid)
        self.state = "ENDED"
        self._log(USER_LOG.OBJECT, ")", f"Process ({proc.pid}) ended with {m.returncode}")
        return self._result(m, stopped=self._stopped)

    def _tell_ready(self, ready: int) -> None:
        """Ack to the parent once the child is ready (or has ended: its Completed follows)."""
        from .point import send

        try:
            _wait_ready(ready, None)
        except (OSError, ValueError):
            pass  # the descriptor was closed: the child has ended
        send(Ack(), self.parent_address, self.address)

    def _stop_pending(self) -> bool:
        """A Stop is already waiting (looked at without blocking; other messages stay queued)."""
        from queue import Empty

        while True:
            try:
                self._saved.append(self._inbox.get_nowait())
            except Empty:
                break
        return any(isinstance(m, Stop) for m, _ in self._saved)

    def _stop_child(self, proc: "subprocess.Popen[bytes]", ready: int) -> None:
        """A Stop for the child: SIGINT once it is ready for one, else SIGTERM (a child still
        importing would print a KeyboardInterrupt traceback); then the tree's escalation."""
        import time

        waited = time.monotonic()
        first = signal.SIGINT if _wait_ready(ready, min(READY_WAIT, self.grace)) else signal.SIGTERM
        grace = max(0.0, self.grace - (time.monotonic() - waited))
        survivors = stop_tree([proc.pid], first=first, grace=(grace, TERMINATE_GRACE, TERMINATE_GRACE),
                              find_first=False, hurry=_hurry)
        lineage = self.environment.get("ANSAR_LINEAGE")
        if lineage and not survivors:  # descendants that left the child's group (setsid, daemons)
            survivors = stop_tree([], markers=[f"ANSAR_LINEAGE={lineage}".encode()],
                                  grace=(0.0, TERMINATE_GRACE, TERMINATE_GRACE), hurry=_hurry)
        if survivors:
            self.warning(f"processes survived SIGKILL ({', '.join(map(str, survivors))})")

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
        if m.returncode == -signal.SIGALRM:
            # The kernel's last resort of a timeout property (framework._arm_deadline): the
            # process was hung where its deadline's Stop could not reach it.
            return TimedOut()
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
    """Stop every child process still running (at program exit), all trees at once.

    A child its Process object is already stopping is not sent a second Stop; a child not yet
    ready gets SIGTERM rather than SIGINT; ``grace`` 0 means end them now.
    """
    with _live_lock:
        procs = [(p, ready) for p, ready in _live.values() if p.returncode is None]
        if not procs:
            return
        interrupt, terminate = [], []
        for p, ready in procs:
            ready_now = grace > 0 and p.pid not in _stopping and _wait_ready(ready, 0.0)
            (interrupt if ready_now else terminate).append(p.pid)
    stop_tree(interrupt, abrupt=terminate, grace=(grace, grace, grace), hurry=_hurry)
    for p, _ in procs:
        _kill_group(p.pid)
    sys.stdout.flush()


atexit.register(stop_all)  # a plain script (OpenChannel) leaves no child behind either
