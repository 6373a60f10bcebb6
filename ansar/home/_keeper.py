"""The keeper of started command roles: one small process per ``ansar start`` that starts any.

``ansar start`` runs ``python -m ansar.home._keeper <ready fd> <home> <role> ...`` in a session of
its own. The keeper starts each role's command (its lock taken first and inherited by the
command), tells ``start`` on the ready descriptor which started (``+ <role> <pid>``) and which
did not (``- <role> <reason>``), then stays while any of them runs: it turns their stdout and
stderr lines into ``^`` and ``?`` records in each role's log storage, enforces ``timeout`` and
records each value in the role's history when the command ends. It ends with the last of them.

It is the one process ansar keeps resident for started command roles, however many: the
standard library and the home's light readers only. If it dies, the commands run on (each holds
its lock) and their records are closed as lost once they end.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time
from typing import Any, Optional

from ansar.create.log import USER_LOG, LogRecord

from ._command import Execution, LineSplitter, kill_executions, read_line

__all__ = ["keep", "main"]

KILL_GRACE = 2.0  # seconds after a timeout's SIGTERM before SIGKILL


class _Kept:
    """One running command: its execution, log storage and the state of its two pipes."""

    def __init__(self, execution: Execution, storage: Any) -> None:
        self.execution = execution
        self.storage = storage
        self.splitters = {"^": LineSplitter(), "?": LineSplitter()}
        self.kill_at: Optional[float] = None  # monotonic: SIGKILL due after a timeout's SIGTERM

    def record(self, marker: str, lines: list[str]) -> None:
        level = USER_LOG.CONSOLE if marker == "^" else USER_LOG.WARNING
        now = time.time()
        for line in lines:
            self.storage.write(LogRecord(now, marker, level, 0, self.execution.role, line))


def _raise_file_limit(wanted: int) -> None:
    """Three descriptors a command (two pipes and its lock): lift the soft limit as needed."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def _begin(home_path: str, roles: list[str], say: Any) -> list[_Kept]:
    from ansar.create._logstore import open_storage
    from ansar.create._role import HomeError, read_component

    started = []
    for role in roles:
        try:
            context = read_component(home_path, role)
            line = read_line(context)
            storage = open_storage(context.logs_path(), context.role.storage)  # type: ignore[union-attr]
        except HomeError as e:
            say(f"- {role} {e}")
            continue
        except OSError as e:
            say(f"- {role} cannot open its log storage: {e.strerror}")
            continue
        execution = Execution(context, line, "/")
        reason = execution.begin()
        if reason:
            storage.close()
            say(f"- {role} {reason}")
            continue
        started.append(_Kept(execution, storage))
    # The pid shown is a shell's first child: give each shell its moment to fork.
    while not all(k.execution.look_for_child() for k in started):
        time.sleep(0.002)  # /proc offers nothing to wait on
    for k in started:
        k.execution.settle()
        k.storage.write(LogRecord(time.time(), "~", USER_LOG.TRACE, 0, "ansar",
                                  "Execute " + json.dumps(k.execution.line)))
        k.storage.write(LogRecord(time.time(), "(", USER_LOG.OBJECT, 0, "ansar",
                                  f"Started process ({k.execution.pid})"))
        say(f"+ {k.execution.role} {k.execution.pid}")
    return started


def keep(home_path: str, roles: list[str], ready_fd: int) -> int:
    """Start ``roles`` of the home at ``home_path`` and keep them until the last ends."""
    _raise_file_limit(3 * len(roles) + 64)
    for signum in (signal.SIGINT, signal.SIGHUP):
        # A stop is for the commands, not for their keeper. A handler, not SIG_IGN: the
        # commands must not inherit the signals ignored.
        signal.signal(signum, lambda *_: None)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup byte is written

    def say(text: str) -> None:
        try:
            os.write(ready_fd, (text + "\n").encode())
        except OSError:
            pass  # start gave up waiting: the roles run all the same

    kept = _begin(home_path, roles, say)
    os.close(ready_fd)
    selector = selectors.DefaultSelector()
    selector.register(wake_r, selectors.EVENT_READ, None)
    for k in kept:
        process = k.execution.process
        assert process is not None
        for pipe, marker in ((process.stdout, "^"), (process.stderr, "?")):
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, selectors.EVENT_READ, (k, marker))
    running = {id(k): k for k in kept}
    while running:
        timeout = _next_due(running.values())
        for key, _ in selector.select(timeout):
            if key.data is None:
                _drain_wakeup(wake_r)
                continue
            k, marker = key.data
            _read(selector, key.fileobj, k, marker)
        ended = []
        for k in list(running.values()):
            _check_time(k)
            process = k.execution.process
            assert process is not None
            returncode = process.poll()
            if returncode is not None:
                ended.append((k, returncode))
                del running[id(k)]
        # What is left of their groups goes with them (a pipe it held then ends): one look
        # through /proc for all that ended together, as a stop ends them all at once; a second
        # for what forked while the first looked.
        if ended:
            kill_executions([k.execution for k, _ in ended])
            kill_executions([k.execution for k, _ in ended])
        for k, _ in ended:
            _collect(selector, k)
        # Each value goes to the role's own history (two fsyncs): side by side, so the last lock
        # of a stop of many is released sooner.
        _side_by_side([lambda k=k, r=returncode: _close(k, r) for k, returncode in ended])  # type: ignore[misc]
    return 0


def _side_by_side(jobs: list[Any], width: int = 8) -> None:
    """Run ``jobs`` on up to ``width`` threads (one job: here) and wait for them all."""
    if len(jobs) < 2:
        for job in jobs:
            job()
        return
    import threading

    pending = iter(jobs)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                job = next(pending, None)
            if job is None:
                return
            job()

    threads = [threading.Thread(target=work) for _ in range(min(width, len(jobs)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _next_due(kept: Any) -> Optional[float]:
    now = time.monotonic()
    due = [t for k in kept for t in (k.execution.deadline if not k.execution.timed_out else None, k.kill_at)
           if t is not None]
    return max(0.0, min(due) - now) if due else None


def _check_time(k: _Kept) -> None:
    e = k.execution
    if not e.timed_out and e.expired():
        e.timed_out = True
        k.record("?", [f"timeout of {e.context.role.timeout:g}s passed"])  # type: ignore[union-attr]
        e.terminate()
        k.kill_at = time.monotonic() + KILL_GRACE
    elif k.kill_at is not None and time.monotonic() >= k.kill_at:
        e.kill()
        k.kill_at = None


def _drain_wakeup(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _read(selector: selectors.BaseSelector, pipe: Any, k: _Kept, marker: str) -> bool:
    """Records of what the pipe has; False (and unregistered) at its end."""
    while True:
        try:
            data = os.read(pipe.fileno(), 65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            k.record(marker, k.splitters[marker].end())
            selector.unregister(pipe)
            pipe.close()
            return False
        k.record(marker, k.splitters[marker].feed(data))


def _collect(selector: selectors.BaseSelector, k: _Kept) -> None:
    """The ended command's pipes read to their end (what is left of its group was killed)."""
    process = k.execution.process
    assert process is not None
    for pipe, marker in ((process.stdout, "^"), (process.stderr, "?")):
        if not pipe.closed:
            _read(selector, pipe, k, marker)  # what was written before the end
            if not pipe.closed:  # held open by a process outside the group: what came is kept
                k.record(marker, k.splitters[marker].end())
                selector.unregister(pipe)
                pipe.close()


def _close(k: _Kept, returncode: int) -> None:
    """The ended command's last record, its value in the history, its lock released."""
    e = k.execution
    k.storage.write(LogRecord(time.time(), ")", USER_LOG.OBJECT, 0, "ansar",
                              f"Process ({e.pid}) ended with {returncode}"))
    e.end(returncode, killed=True)
    k.storage.close()


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    ready_fd, home_path, roles = int(args[0]), args[1], args[2:]
    return keep(home_path, roles, ready_fd)


if __name__ == "__main__":
    sys.exit(main())
