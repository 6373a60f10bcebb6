"""Starting a role's process: its command line and environment, and ``start``'s detached launch.

Roles of ``ansar run`` are children of the command (``ar.Process`` machines, see
``ansar.command._running``); roles of ``ansar start`` are detached here: a session of their own,
no terminal, working folder ``/``, stdout and stderr on the role's current log file. The command
returns once each has said it is ready (it writes to the descriptor named by ``ANSAR_READY_FD``
once its handlers are in place, after it holds its role lock) or has ended.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from typing import Any, Iterable, Optional

from ansar.create._logstore import log_files, open_current
from ansar.create._role import HomeError, RoleContext
from ansar.create.log import USER_LOG, LogRecord, format_record

from ._running import is_running, lineage_marker

__all__ = ["ORIGIN_KEEP", "ORIGIN_RUN", "ORIGIN_START", "READY_SECONDS", "Launch", "create_role_object",
           "role_arguments", "role_environment", "start_roles"]

ORIGIN_RUN = "1"  # --point-of-origin: started by ``ansar run``
ORIGIN_START = "2"  # started by ``ansar start``: records go to log storage
ORIGIN_KEEP = "3"  # started by ``ansar run --keep-logs``: records to stderr and to log storage
READY_SECONDS = 30.0  # how long start waits for a role to say it is ready


def role_arguments(home_path: str, role: str, origin: str) -> list[str]:
    """What follows the executable on a role's command line."""
    return ["--call-signature=o", f"--point-of-origin={origin}", f"--home-path={home_path}", f"--role-name={role}"]


def role_environment(context: RoleContext) -> dict[str, str]:
    """What a role's process gets beside the caller's environment: the marker its tree inherits."""
    name, _, value = lineage_marker(context).decode().partition("=")
    return {name: value}


def create_role_object(parent: Any, context: RoleContext, path: str, level: int, keep: bool) -> Any:
    """The child object of ``ansar run`` (``parent``) that runs one role: an ``ar.Process`` of its
    executable at ``path``, which sends ``parent`` an Ack once the role is ready for a Stop and
    its Completed when it ends. Returns the object's address."""
    import ansar.create as ar

    from ._command import is_command

    if is_command(context.role):
        from ._command_run import CommandRole

        return parent.create(CommandRole, context, level, keep)
    arguments = role_arguments(context.home_path, context.role_name, ORIGIN_KEEP if keep else ORIGIN_RUN)
    return parent.create(ar.Process, path, role_name=context.role_name, home_path=context.home_path,
                         settings=arguments[:2],  # the Process adds home and role
                         debug_level=level, environment=role_environment(context), report_ready=True)


class Launch:
    """A role started in the background: its process and the end of its ready pipe."""

    def __init__(self, role: str, process: Optional[subprocess.Popen], ready: int, reason: str = "") -> None:
        self.role = role
        self.process = process
        self.ready = ready
        self.reason = reason  # why it did not start, once known


def _spawn(context: RoleContext, path: str, debug_level: Optional[str]) -> Launch:
    storage = context.role.storage if context.role is not None else None
    try:
        # A record of its own before the role writes: what it prints before its runtime logs
        # (a traceback at import) belongs to this execution, not to the last record of the previous.
        # If it cannot be written (a full disk), no empty log file is left behind.
        first = (format_record(LogRecord(time.time(), "~", USER_LOG.TRACE, 0, "ansar", f'Start "{path}"')) + "\n")
        out = open_current(context.logs_path(), first.encode(), **({"cap": storage} if storage else {}))
    except OSError as e:
        return Launch(context.role_name, None, -1, f"cannot open its log storage: {e.strerror}")
    ready, ready_w = os.pipe()
    env = dict(os.environ, **role_environment(context))
    env["ANSAR_READY_FD"] = str(ready_w)
    env.pop("ANSAR_PARENT_PID", None)  # a started role outlives the command
    argv = [path] + role_arguments(context.home_path, context.role_name, ORIGIN_START)
    if debug_level:
        argv.insert(1, f"--debug-level={debug_level}")
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd="/",
                                   start_new_session=True, env=env, pass_fds=(ready_w,))
    except OSError as e:
        os.close(ready)
        return Launch(context.role_name, None, -1, f"cannot execute {path}: {e.strerror}")
    finally:
        os.close(ready_w)
        os.close(out)
    return Launch(context.role_name, process, ready)


def _last_words(context: RoleContext, limit: int = 4096) -> str:
    """The last line the role wrote to its log storage (a traceback's last line, say)."""
    try:
        names = log_files(context.logs_path())
        if not names:
            return ""
        log = os.path.join(context.logs_path(), names[-1])
        with open(log, "rb") as f:
            f.seek(max(0, os.path.getsize(log) - limit))
            lines = [line for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _has_run(context: RoleContext, pid: int) -> bool:
    """The process opened an execution in the role's history: it held the lock."""
    from ._history import read_history

    try:
        return any(e.pid == pid for e in read_history(context, close_stale=False)[-4:])
    except HomeError:
        return False


def start_roles(contexts: Iterable[tuple[RoleContext, str]], *, debug_level: Optional[str] = None,
                seconds: float = READY_SECONDS) -> list[tuple[str, str]]:
    """Start each ``(context, executable path)`` in the background, all at once, and wait until each
    is ready (or ended). Returns ``(role, reason)`` for each role that did not start."""
    from ._command import is_command

    contexts = list(contexts)
    commands = [context for context, _ in contexts if is_command(context.role)]
    keeper = _start_keeper(commands) if commands else None
    launches = [(context, _spawn(context, path, debug_level)) for context, path in contexts
                if not is_command(context.role)]
    deadline = time.monotonic() + seconds
    waiting = {launch.ready: launch for _, launch in launches if launch.process is not None}
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(left * 1000):
            waiting.pop(fd, None)
    failed = _keeper_started(keeper, commands, deadline) if keeper is not None else []
    for context, launch in launches:
        if launch.ready >= 0:
            os.close(launch.ready)
        if launch.process is None:
            failed.append((launch.role, launch.reason))
            continue
        if launch.ready in waiting:
            failed.append((launch.role, f"not ready after {seconds:g}s"))
            continue
        if is_running(context) is None:
            code = launch.process.poll()
            if code is None:
                try:
                    code = launch.process.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    failed.append((launch.role, "it does not hold its lock"))
                    continue
            if _has_run(context, launch.process.pid):
                continue  # it started, and has ended already (a noop, say): its value is in history
            words = _last_words(context)
            ended = f"ended with {code}" if code >= 0 else f"killed by signal {-code}"
            failed.append((launch.role, f"{ended}: {words}" if words else ended))
    return failed


class _Keeper:
    """The keeper of this start's command roles (``_keeper``) and what it said so far."""

    def __init__(self, process: Optional[subprocess.Popen], ready: int, reason: str = "") -> None:
        self.process = process
        self.ready = ready
        self.reason = reason


def _start_keeper(contexts: list[RoleContext]) -> _Keeper:
    import sys

    ready, ready_w = os.pipe()
    env = dict(os.environ)
    for name in ("ANSAR_LINEAGE", "ANSAR_READY_FD", "ANSAR_PARENT_PID", "ANSAR_READY"):
        env.pop(name, None)  # the keeper is no role's: stopping a role never stops it
    argv = [sys.executable, "-m", "ansar.home._keeper", str(ready_w), contexts[0].home_path]
    argv += [c.role_name for c in contexts]
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd="/", start_new_session=True, env=env,
                                   pass_fds=(ready_w,))
    except OSError as e:
        os.close(ready)
        return _Keeper(None, -1, f"cannot execute {sys.executable}: {e.strerror}")
    finally:
        os.close(ready_w)
    return _Keeper(process, ready)


def _keeper_started(keeper: _Keeper, contexts: list[RoleContext], deadline: float) -> list[tuple[str, str]]:
    """Read what the keeper says of each command role until it has said all (it closes its end)."""
    said: dict[str, str] = {}
    data = b""
    if keeper.process is not None:
        poller = select.poll()
        poller.register(keeper.ready, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                break
            chunk = os.read(keeper.ready, 65536)
            if not chunk:
                break
            data += chunk
        os.close(keeper.ready)
        for line in data.decode(errors="replace").splitlines():
            sign, _, rest = line.partition(" ")
            role, _, reason = rest.partition(" ")
            said[role] = "" if sign == "+" else reason
    failed = []
    for context in contexts:
        reason = said.get(context.role_name)
        if reason is None:
            if keeper.process is None:
                reason = keeper.reason
            elif keeper.process.poll() is not None:
                reason = f"the keeper of command roles ended with {keeper.process.returncode}"
            else:
                reason = "the keeper of command roles did not start it in time"
        if reason:
            failed.append((context.role_name, reason))
    return failed
