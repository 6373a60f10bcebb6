"""run: the matching roles in the foreground, waited for, their values printed.

The command is an object of the runtime, ``ansar`` (its records on stderr at the level given
before the sub-command); each role is an ``ar.Process`` child in the caller's folder, with the
caller's environment and the lineage marker its tree inherits. The home's lock is held while the
roles are matched, their locks probed and the first of them started, until each holds its own.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Optional

from ansar.home import Home, HomeError
from ansar.home._launch import READY_SECONDS
from ansar.home._store import home_lock

from ._args import Parsed, Usage
from ._common import home_of, print_document, search_of
from ._running import clear_for, level_of

__all__ = ["run_run"]



class _Suspend:
    """Ctrl-Z (SIGTSTP) reached the run: pause the roles' trees, then the command itself."""


class _Continue:
    """The shell's fg or bg continued the command (SIGCONT): continue the roles' trees."""


class _Interrupts:
    """Ctrl-C, SIGTERM and SIGHUP during a run: the first stops the roles, the next hurries.
    Ctrl-Z and the continue after it are handed to the main loop as messages."""

    def __init__(self, ansar: Any) -> None:
        self.ansar = ansar
        self.count = 0
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[signum] = signal.signal(signum, self)
        self.previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, self.post(_Suspend))
        self.previous[signal.SIGCONT] = signal.signal(signal.SIGCONT, self.post(_Continue))
        return self

    def post(self, kind: type) -> Any:
        return lambda signum, frame: self.ansar._inbox.put((kind(), self.ansar.address))

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def __call__(self, signum: int, frame: Any) -> None:
        import ansar.create as ar
        from ansar.create import processing

        self.count += 1
        if self.count == 1:
            self.ansar._inbox.put((ar.Stop(), self.ansar.address))  # handled on the main loop
        else:
            processing.hurry()


def fails(value: Any) -> bool:
    """A Faulted, Aborted or TimedOut value: the run exits 1."""
    import ansar.create as ar

    return isinstance(value, (ar.Faulted, ar.Aborted, ar.TimedOut))


def _fails_fast(value: Any) -> bool:
    import ansar.create as ar

    return fails(value) or (isinstance(value, ar.TestReport) and value.failed > 0)


def _condition(value: Any) -> str:
    import ansar.create as ar

    if isinstance(value, ar.Faulted):
        return value.condition or "faulted"
    if isinstance(value, (ar.Aborted, ar.TimedOut)):
        return type(value).__name__.lower()
    return ""


class _Roles:
    """The roles of one run: queued (``--jobs``), running (an ar.Process each), completed."""

    def __init__(self, ansar: Any, home: Home, names: list[str], level: int, jobs: Optional[int], keep: bool):
        self.ansar = ansar
        self.home = home
        self.queued = list(names)
        self.level = level
        self.jobs = jobs
        self.keep = keep
        self.pending: dict[Any, str] = {}
        self.completed: dict[str, Any] = {}
        self.durations: dict[str, float] = {}
        self.began: dict[str, float] = {}  # monotonic, for durations
        self.started: dict[str, float] = {}  # epoch, for history

    def launch(self) -> None:
        """Start queued roles, in name order, while there is room under --jobs."""
        import ansar.create as ar
        from ansar.home._launch import create_role_object

        while self.queued and (self.jobs is None or len(self.pending) < self.jobs):
            name = self.queued.pop(0)
            try:
                context = self.home.role(name)
                assert context.role is not None
                path = self.home.executable_path(context.role.executable)
            except HomeError as e:
                self.ansar.fault(str(e))
                self.end(name, ar.Faulted(condition=str(e), explanation="role cannot start"))
                continue
            address = create_role_object(self.ansar, context, path, self.level, self.keep)
            self.pending[address] = name
            self.began[name] = time.monotonic()
            self.started[name] = time.time()

    def end(self, name: str, value: Any) -> None:
        self.completed[name] = value
        self.durations[name] = time.monotonic() - self.began.get(name, time.monotonic())
        self.ansar.console(f'Completion for "{name}" ({_condition(value)})')
        if fails(value) and name in self.started:
            import json

            from ansar.create.codec import encode
            from ansar.home._history import record_unstarted

            record_unstarted(self.home.role_context(name), self.started[name], json.loads(encode(value))["value"])

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every process of each running role's tree (pause and continue)."""
        from ansar.home._signals import signal_roles

        signal_roles([self.home.role_context(name) for name in self.pending.values()], signum)

    def stop(self) -> None:
        """Stop every running role; queued roles never start (Aborted)."""
        import ansar.create as ar

        for address in self.pending:
            self.ansar.send(ar.Stop(), address)
        while self.queued:
            self.end(self.queued.pop(0), ar.Aborted())

    def wait_held(self, early: list) -> None:
        """Until every role started holds its lock, or has ended (the home stays locked till
        then): each Process sends an Ack once its role said it is ready, which is after it took
        its lock. Other messages meanwhile are kept, in order, in ``early``."""
        import ansar.create as ar

        waiting = set(self.pending)
        while waiting:
            m = self.ansar.select(ar.Completed, ar.Stop, ar.Ack, seconds=READY_SECONDS)
            if isinstance(m, ar.SelectTimer):
                break  # a role that never says it is ready: the home is locked long enough
            if not isinstance(m, ar.Ack):
                early.append((m, self.ansar.return_address))
            waiting.discard(self.ansar.return_address)


def _failed_only(home: Home, names: list[str]) -> list[str]:
    """``--failed``: the roles whose latest execution failed."""
    from ansar.home._history import failed, read_history

    chosen = []
    for name in names:
        history = read_history(home.role_context(name))
        if history and failed(history[-1]):
            chosen.append(name)
    return chosen


def _settings(parsed: Parsed) -> tuple[Optional[int], Optional[str]]:
    s = parsed.settings
    if s["test-run"] and s["test-analyzer"]:
        raise Usage("run: --test-run and --test-analyzer do not go together")
    jobs = s["jobs"]
    if jobs is not None and jobs < 1:
        raise Usage(f'run: "--jobs={jobs}" is not a number of processes (expected 1 or more)')
    return jobs, s["test-analyzer"]


def run_run(parsed: Parsed) -> int:
    jobs, analyzer_name = _settings(parsed)
    import ansar.create as ar
    from ansar.create import log as ar_log

    from .ansar_command import Run

    home = home_of(parsed)
    given_home = parsed.settings["home-path"]
    analyzer = home.executable_path(analyzer_name) if analyzer_name else None
    own = level_of(parsed.globals["debug-level"])
    ar_log.set_log_level(own)
    roles_level = level_of(parsed.settings["debug-level"]) if parsed.settings["debug-level"] else own
    search = search_of(parsed, 0)
    fail_fast = parsed.settings["fail-fast"]
    interrupted = failing = False
    with ar.OpenChannel("ansar", as_program=True) as ansar, _Interrupts(ansar) as interrupts:
        ansar.trace("Call the sub-command function")
        early: list = []
        with home_lock(home.path):
            names = home.select(search)
            if parsed.settings["failed"]:
                names = _failed_only(home, names)
                if not names:
                    import sys

                    sys.stderr.write(f'ansar: nothing failed in "{search}"\n')
                    return 0
            ansar.console(f"Detect status of associated roles ({', '.join(names)})")
            clear_for("run", parsed, home, names, ansar)
            ansar.console(f'Running "{search}" ({given_home})')
            roles = _Roles(ansar, home, sorted(names) if jobs else names, roles_level, jobs,
                           parsed.settings["keep-logs"])
            roles.launch()
            roles.wait_held(early)
        while roles.pending or roles.queued:
            if early:
                m, sender = early.pop(0)
            elif roles.pending:
                m = ansar.select(ar.Completed, ar.Stop, _Suspend, _Continue, ar.Ack)
                sender = ansar.return_address
                if isinstance(m, ar.Ack):
                    continue  # a role (started after the first) is ready: nothing to do
            else:
                roles.launch()
                continue
            if isinstance(m, _Suspend):
                roles.signal(signal.SIGSTOP)
                os.kill(os.getpid(), signal.SIGSTOP)  # as the shell expects of a job on Ctrl-Z
                continue
            if isinstance(m, _Continue):
                roles.signal(signal.SIGCONT)
                continue
            if isinstance(m, ar.Stop):
                interrupted = True
                roles.stop()
                continue
            name = roles.pending.pop(sender, None)
            if name is None:
                continue
            roles.end(name, m.value)
            if fail_fast and not failing and _fails_fast(m.value):
                failing = True
                ansar.console(f'Fail fast after "{name}"')
                roles.stop()
            if not (interrupted or failing):
                roles.launch()
        interrupted = interrupted or interrupts.count > 0
        completed = roles.completed
        if parsed.settings["code-path"]:
            from ._testrun import resolve_sources

            resolve_sources(completed, parsed.settings["code-path"])
        analyzed = None
        if analyzer is not None:
            from ._testrun import analyze, test_suite

            analyzed = (analyze(ansar, analyzer, test_suite(completed), roles_level),)
    if parsed.settings["junit-xml"]:
        from ._testrun import write_junit

        write_junit(parsed.settings["junit-xml"], completed, roles.durations)
    from ansar.create.codec import encode

    if analyzed is not None:
        print_document(encode(analyzed[0], pretty=True))
        return _exit_status(analyzed[0])
    if parsed.settings["test-run"]:
        from ._testrun import print_test_run

        status = print_test_run(completed, search)
        return 1 if failing else status
    print_document(encode(Run(completed, given_home), pretty=True))
    if interrupted:
        return 130
    return 1 if failing or any(fails(v) for v in completed.values()) else 0


def _exit_status(value: Any) -> int:
    import ansar.create as ar

    if isinstance(value, ar.Faulted):
        return value.exit_code or 1
    return 1 if fails(value) else 0
