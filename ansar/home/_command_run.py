"""A command role under ``ansar run``: the child object that runs its line and returns its value.

It behaves as ``ar.Process`` does for a component: an Ack to ``run`` once the role holds its
lock (ready for a Stop), its records on stderr up to the roles' level (each stdout line ``^``,
each stderr line ``?``, prefixed with the command's pid), in log storage too under
``--keep-logs``, and a Completed with the value: ``Ack`` for exit 0, Faulted ``exit status N`` or
``killed by signal S``, ``Aborted`` when stopped, ``TimedOut`` past its ``timeout``. A Stop is
SIGTERM to the command's process group, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Optional

from ansar.create._role import HomeError, RoleContext
from ansar.create.lifecycle import Ack, Faulted, Stop
from ansar.create.log import USER_LOG, LogRecord, format_record
from ansar.create.point import Threaded

from ._command import Execution, LineSplitter, read_line

__all__ = ["CommandRole", "TERMINATE_GRACE"]

TERMINATE_GRACE = 2.0  # seconds after SIGTERM before SIGKILL


class _Exited:
    """Internal: the command ended and its pipes are drained."""

    __slots__ = ("returncode",)

    def __init__(self, returncode: int) -> None:
        self.returncode = returncode


class _Records:
    """Where a command's lines go: stderr up to ``level`` (with the command's pid), and every
    one to log storage when kept."""

    def __init__(self, role: str, level: int, storage: Any) -> None:
        self.role = role
        self.level = level
        self.storage = storage
        self.pid = 0
        self.lock = threading.Lock()

    def write(self, marker: str, level: int, text: str) -> None:
        record = LogRecord(time.time(), marker, level, 0, self.role, text)
        if level <= self.level:
            line = "[%08d] %s\n" % (self.pid, format_record(record))
            with self.lock:
                try:
                    sys.stderr.write(line)
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass
        if self.storage is not None:
            self.storage.write(record)


def _pump(fd: Any, marker: str, level: int, records: _Records) -> None:
    splitter = LineSplitter()
    while True:
        try:
            data = os.read(fd.fileno(), 65536)
        except OSError:
            data = b""
        if not data:
            break
        for line in splitter.feed(data):
            records.write(marker, level, line)
    for line in splitter.end():
        records.write(marker, level, line)


class CommandRole(Threaded):
    """Run the command role of ``context`` as a child of ``ansar run``."""

    def __init__(self, context: RoleContext, level: int = USER_LOG.NONE, keep: bool = False) -> None:
        Threaded.__init__(self, "Command")
        self.context = context
        self.level = level
        self.keep = keep
        self.state = "INITIAL"

    @property
    def object_name(self) -> str:  # type: ignore[override]
        return f"Command[{self.state}]"

    def _fail(self, text: str, explanation: str) -> Faulted:
        self.fault(text)
        return Faulted(condition=text, explanation=explanation)

    def run(self) -> Any:
        from ansar.create.processing import Process

        try:
            line = read_line(self.context)
        except HomeError as e:
            return self._fail(str(e), "role cannot start")
        if Process._stop_pending(self):  # type: ignore[arg-type]
            from ansar.create.lifecycle import Aborted

            return Aborted()
        execution = Execution(self.context, line, os.getcwd(), die_with_parent=True)
        reason = execution.begin()
        if reason:
            return self._fail(f'command role "{self.context.role_name}" {reason}', "role cannot start")
        while not execution.look_for_child():
            time.sleep(0.002)  # the shell forks soon; /proc offers nothing to wait on
        execution.settle()
        self.state = "EXECUTING"
        self.trace("Execute " + json.dumps(line))
        self._log(USER_LOG.OBJECT, "(", f"Started process ({execution.pid})")
        storage = self._storage()
        records = _Records(self.context.role_name, self.level, storage)
        records.pid = execution.pid
        process = execution.process
        assert process is not None
        waiter = threading.Thread(target=self._wait, args=(execution, records), name="wait", daemon=True)
        waiter.start()
        self.send(Ack(), self.parent_address)  # it holds its lock: ready for a Stop
        m = self._until_exit(execution)
        value = execution.end(m.returncode)
        self.state = "ENDED"
        self._log(USER_LOG.OBJECT, ")", f"Process ({execution.pid}) ended with {m.returncode}")
        if storage is not None:
            storage.close()
        from ansar.create.codec import decode

        return decode(json.dumps({"value": value}).encode(), source=f'value of "{self.context.role_name}"')

    def _until_exit(self, execution: Execution) -> _Exited:
        while True:
            left = None
            if execution.deadline is not None:
                left = max(0.0, execution.deadline - time.monotonic())
            m = self.select(_Exited, Stop, seconds=left)
            if isinstance(m, _Exited):
                return m
            if isinstance(m, Stop):
                execution.stopped = True
            else:
                execution.timed_out = True
                self.warning(f"timeout of {self.context.role.timeout:g}s passed")  # type: ignore[union-attr]
            self.state = "STOPPING"
            execution.terminate()
            m = self.select(_Exited, seconds=TERMINATE_GRACE)
            if isinstance(m, _Exited):
                return m
            execution.kill()
            return self.select(_Exited)  # type: ignore[no-any-return]

    def _storage(self) -> Optional[Any]:
        if not self.keep:
            return None
        from ansar.create._logstore import open_storage

        try:
            return open_storage(self.context.logs_path(), getattr(self.context.role, "storage", None))
        except OSError as e:
            self.warning(f"cannot keep logs in {self.context.logs_path()} ({e.strerror})")
            return None

    def _wait(self, execution: Execution, records: _Records) -> None:
        process = execution.process
        assert process is not None
        pumps = [threading.Thread(target=_pump, args=(process.stdout, "^", USER_LOG.CONSOLE, records), daemon=True),
                 threading.Thread(target=_pump, args=(process.stderr, "?", USER_LOG.WARNING, records), daemon=True)]
        for p in pumps:
            p.start()
        returncode = process.wait()
        execution.kill()  # what is left of its group (a background child) goes with it
        for p in pumps:
            p.join(1.0)  # a background child (killed with the group) or a daemon may hold a pipe
        for pipe in (process.stdout, process.stderr):
            try:
                pipe.close()
            except OSError:
                pass
        self._deliver(_Exited(returncode), self.address)

