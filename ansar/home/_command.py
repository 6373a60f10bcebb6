"""Command roles: a shell command line run as a role (``ansar add --command='<line>'``).

The line is the role's only setting, ``{"value": {"command": "<line>"}}``, stored exactly as given.
It runs directly when it is only plain words (letters, digits, ``_@%+=:,./-`` and spaces) and its
first word is a program (not a shell builtin such as ``exit`` or ``cd``, nor an assignment such as
``TZ=UTC``), else as ``/bin/sh -c <line>``: the line is the single argument after ``-c`` and nothing is put into
it; what the command needs from ansar comes in ``ANSAR_*`` environment variables.

This module has what ``run`` (``_command_run``) and the keeper of started command roles
(``_keeper``) share: the line, the command's process and lock, its records and its value.
Standard library only: the keeper imports it and stays small.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from typing import Any, Callable, Optional

from ansar.create._role import COMMAND, HomeError, RoleContext

__all__ = ["COMMAND", "Execution", "LineSplitter", "argv_of", "check_line", "command_settings", "is_command",
           "kill_executions",
           "read_line", "stop_marker"]

SHELL = "/bin/sh"
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./ -]+")
# Words the shell itself acts on (reserved words, builtins with no program of their name): a line
# starting with one means what the shell makes of it, so it goes to the shell however plain.
_SHELL_WORDS = frozenset(
    ". : alias bg break case cd command continue do done elif else esac eval exec exit export fc fg fi for "
    "getopts hash if in jobs local read readonly return set shift then times trap type ulimit umask unalias "
    "unset until wait while".split())
LINE_MOST = 64 * 1024  # a longer output line is kept as several records
FIRST_CHILD_WAIT = 0.1  # how long a shell is watched for its first child (the pid shown)
ACK = ["ansar.create.lifecycle.Ack", {}, []]
ABORTED = ["ansar.create.lifecycle.Aborted", {}, []]
TIMED_OUT = ["ansar.create.lifecycle.TimedOut", {}, []]


def is_command(record: Any) -> bool:
    """The role record is of a command role."""
    return record is not None and record.executable == COMMAND


def check_line(line: str) -> str:
    """``line`` if it can be a command role's line: not empty, no NUL (BadValue otherwise)."""
    from ._names import BadValue

    if "\0" in line:
        raise BadValue(f"command {json.dumps(line)} holds a NUL character (a command line cannot)")
    if not line.strip():
        raise BadValue(f"command {json.dumps(line)} is empty (expected a shell command line)")
    return line


def command_settings(line: str) -> bytes:
    """The settings document of a command role running ``line``."""
    return (json.dumps({"value": {"command": check_line(line)}}, indent=4) + "\n").encode()


def read_line(context: RoleContext) -> str:
    """The command line of a command role, from its settings; HomeError naming a damaged file."""
    path = context.settings_path()
    try:
        with open(path, "rb") as f:
            document = json.loads(f.read())
    except FileNotFoundError:
        raise HomeError(f"{path}: not found (the settings of a command role)") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None
    except ValueError as e:
        raise HomeError(f"{path}: malformed JSON ({e})") from None
    value = document.get("value") if isinstance(document, dict) else None
    line = value.get("command") if isinstance(value, dict) and len(value) == 1 and len(document) == 1 else None
    if not isinstance(line, str) or not line.strip() or "\0" in line:
        raise HomeError(f'{path}: damaged (expected {{"value": {{"command": "<line>"}}}})')
    return line


def argv_of(line: str) -> list[str]:
    """How ``line`` runs: its words when they are all plain and the first names a program, else
    ``/bin/sh -c line``."""
    if _PLAIN.fullmatch(line):
        words = line.split()
        if words[0] not in _SHELL_WORDS and "=" not in words[0]:
            return words
    return [SHELL, "-c", line]


def stop_marker(context: RoleContext) -> str:
    """``<lock folder>/<role>.stopping``: made by ``ansar stop`` before it signals a command role,
    so that whoever waits for the command records Aborted rather than the signal that ended it."""
    return context.lock_path()[: -len(".lock")] + ".stopping"


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def first_child(pid: int) -> Optional[int]:
    """The oldest living child of ``pid`` (a shell's first command), if it has one."""
    from ansar.create._tree import start_ticks

    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
            children = [int(w) for w in f.read().split()]
    except (OSError, ValueError):
        return None
    aged = [(start_ticks(c), c) for c in children]
    aged = [(t, c) for t, c in aged if t]
    return min(aged)[1] if aged else None


def kill_executions(executions: list[Execution]) -> None:
    """``Execution.kill`` of several at once: each process group, then one look through /proc
    for all their lineage markers (one look per execution made stopping many O(n squared))."""
    from ansar.create._tree import Member, tree_of

    from ._running import lineage_marker

    if not executions:
        return
    for e in executions:
        assert e.process is not None
        try:
            os.killpg(e.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid, ticks in tree_of([], [lineage_marker(e.context) for e in executions]).items():
        member = Member(pid, ticks)
        member.signal(signal.SIGKILL)
        member.close()


def _describe(returncode: int) -> list:
    if returncode == 0:
        return ACK
    if returncode < 0:
        condition = f"killed by signal {-returncode}"
    else:
        condition = f"exit status {returncode}"
    return ["ansar.create.lifecycle.Faulted", {"condition": condition}, []]


class LineSplitter:
    """Bytes of a pipe to whole lines (decoded, invalid UTF-8 replaced); a line longer than
    ``LINE_MOST`` comes out in pieces."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> list[str]:
        data = self.pending + data
        *lines, self.pending = data.split(b"\n")
        while len(self.pending) > LINE_MOST:
            lines.append(self.pending[:LINE_MOST])
            self.pending = self.pending[LINE_MOST:]
        return [line.rstrip(b"\r").decode(errors="replace") for line in lines]

    def end(self) -> list[str]:
        rest, self.pending = self.pending, b""
        return [rest.decode(errors="replace")] if rest else []


class Execution:
    """One execution of a command role: its lock, its process, its history record and value.

    ``begin`` takes the role's lock (an flock the command inherits, so the role shows running as
    long as the command does), empties the role's tmp and starts the command in a session of its
    own with stdout and stderr on pipes; ``settle`` picks the pid to show and records the start;
    ``end`` records the value once the process has been waited for.
    """

    def __init__(self, context: RoleContext, line: str, cwd: str, *, die_with_parent: bool = False) -> None:
        self.context = context
        self.line = line
        self.cwd = cwd
        self.die_with_parent = die_with_parent
        self.lock = -1
        self.process: Optional[subprocess.Popen] = None
        self.pid = 0  # the pid shown: the program, or the shell's first child
        self.started = 0.0
        self.deadline: Optional[float] = None  # monotonic, from the timeout property
        self.timed_out = False
        self.stopped = False  # by the object running it (run's Stop); ansar stop leaves its marker

    @property
    def role(self) -> str:
        return self.context.role_name

    def environment(self) -> dict[str, str]:
        from ansar.create._ready import READY_VARIABLE, ready_file

        from ._running import lineage_marker

        env = dict(os.environ)
        for name in ("ANSAR_READY_FD", "ANSAR_PARENT_PID"):
            env.pop(name, None)
        name, _, value = lineage_marker(self.context).decode().partition("=")
        env[name] = value
        env["ANSAR_ROLE"] = self.role
        env["ANSAR_HOME"] = os.path.abspath(self.context.home_path)
        env["ANSAR_MODEL"] = os.path.abspath(self.context.model_path())
        env["ANSAR_TMP"] = os.path.abspath(self.context.tmp_path())
        env[READY_VARIABLE] = os.path.abspath(ready_file(self.context.lock_path()))
        return env

    def _take_lock(self) -> str:
        path = self.context.lock_path()
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            return f"cannot open lock {path} ({e.strerror})"
        from ansar.create._role import take_lock

        if not take_lock(fd):  # a probe (ansar status) holds it for a moment
            os.close(fd)
            return "already running"
        self.lock = fd
        return ""

    def begin(self) -> str:
        """Take the lock and start the command; the reason it did not start, or ""."""
        reason = self._take_lock()
        if reason:
            return reason
        from ansar.create._ready import ready_file

        _remove(ready_file(self.context.lock_path()))
        _remove(stop_marker(self.context))
        for folder in (self.context.model_path(), self.context.tmp_path()):
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
            except OSError:
                pass
        from ansar.create._role import empty_folder

        empty_folder(self.context.tmp_path())
        argv = argv_of(self.line)
        try:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.cwd,
                env=self.environment(), pass_fds=(self.lock,), start_new_session=True,
                preexec_fn=_death_signal() if self.die_with_parent else None)
        except OSError as e:
            self.release()
            return f"cannot execute {argv[0]} ({e.strerror})"
        self.pid = self.process.pid
        self.started = time.time()
        timeout = getattr(self.context.role, "timeout", None)
        if timeout:
            self.deadline = time.monotonic() + timeout
        return ""

    def watching(self) -> bool:
        """A shell whose first child has not been seen yet, within its short watch."""
        return self.pid == self.process.pid and argv_of(self.line)[0] == SHELL and \
            time.time() - self.started < FIRST_CHILD_WAIT  # type: ignore[union-attr]

    def look_for_child(self) -> bool:
        """True once the pid shown is settled (a shell's first child found, or not looked for)."""
        if not self.watching():
            return True
        child = first_child(self.process.pid)  # type: ignore[union-attr]
        if child is not None:
            self.pid = child
            return True
        return False

    def settle(self) -> None:
        """Record the pid shown beside the lock, and open the execution's history record."""
        from ansar.create._history import open_execution
        from ansar.create._tree import start_ticks

        path = self.context.pid_path()
        try:
            with open(path, "w", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_TRUNC, 0o600)) as f:
                f.write(f"{self.pid} {start_ticks(self.pid)}\n")
        except OSError:
            pass  # the lock is what counts; status shows the role without its pid
        open_execution(self.context, self.pid, self.started, getattr(self.context.role, "timeout", None))

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def terminate(self) -> None:
        """SIGTERM to the command's process group (a stop, or its timeout)."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL to the command's process group and to every process that carries the role's
        lineage marker (a background child that called setsid, a daemon it double forked): none of
        them outlives the command, holding the role's lock or its pipes."""
        kill_executions([self])

    def value(self, returncode: int) -> list:
        """The value of the ended execution, as history keeps it."""
        marker = stop_marker(self.context)
        if self.stopped or os.path.exists(marker):
            return ABORTED
        if self.timed_out:
            return TIMED_OUT
        return _describe(returncode)

    def end(self, returncode: int, *, killed: bool = False) -> list:
        """The command has been waited for: end what is left of its group (unless ``killed``
        already), record the value, release the lock. Returns the value."""
        from ansar.create._history import close_execution

        if not killed:
            self.kill()  # a background child of the command's group goes with it
        value = self.value(returncode)
        close_execution(self.context, self.pid, time.time(), value)
        _remove(stop_marker(self.context))
        self.release()
        return value

    def release(self) -> None:
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1


_prctl: Optional[Callable[..., Any]] = None


def _death_signal() -> Callable[[], None]:
    """What the child runs before exec under ``ansar run``: SIGKILL when the command dies
    (PR_SET_PDEATHSIG). prctl is found here, before the fork."""
    global _prctl
    if _prctl is None:
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl = _prctl
    return lambda: prctl(1, signal.SIGKILL)
