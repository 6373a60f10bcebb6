"""run: the matching roles in the foreground, waited for, their values printed.

The command is an object of the runtime, ``ansar`` (its records on stderr at the level given
before the sub-command); each role is an ``ar.Process`` child in the caller's folder, with the
caller's environment and the lineage marker its tree inherits. The home's lock is held while the
roles are matched, their locks probed and the first of them started, until each holds its own.
With properties ``after``, ``ready`` and ``exclusive`` a role waits until the roles it is after are
up and no role sharing its exclusive name runs; roles it needs from outside the search are started
in the background (as ``start`` does) and left running.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Optional

from ansar.home import Home, HomeError
from ansar.home._launch import READY_SECONDS
from ansar.home._ready import POLL
from ansar.home._store import home_lock

from ._args import Parsed, Usage
from ._common import home_of, print_document, search_of
from ._running import Plan, clear_for, level_of, poll_needed, watch_running

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
        # A signal may land on any thread: the main thread waits in slices so its handler runs.
        self.saved_poll, self.ansar._poll = self.ansar._poll, 0.1
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[signum] = signal.signal(signum, self)
        self.previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, self.post(_Suspend))
        self.previous[signal.SIGCONT] = signal.signal(signal.SIGCONT, self.post(_Continue))
        return self

    def post(self, kind: type) -> Any:
        return lambda signum, frame: self.ansar._inbox.put((kind(), self.ansar.address))

    def __exit__(self, *exc: Any) -> None:
        self.ansar._poll = self.saved_poll
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

    def __init__(self, ansar: Any, home: Home, names: list[str], level: int, jobs: Optional[int], keep: bool,
                 plan: Optional[Plan] = None, background: tuple = (), running: tuple = ()):
        self.plan = plan  # None: no order among these roles, every role starts as soon as there is room
        self.background = list(background)  # needed roles to start in the background
        self.up: set[str] = set()
        self.blocked: dict[str, str] = {}
        self.held: set[str] = set()
        self.watches: dict[str, Any] = watch_running(plan, list(running)) if plan is not None else {}
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
        """Start queued roles, in name order, while there is room under --jobs (and, with a
        plan, once the roles each is after are up and its exclusive name is free)."""
        if self.plan is None:
            while self.queued and (self.jobs is None or len(self.pending) < self.jobs):
                self._launch(self.queued.pop(0))
            return
        from ansar.home._order import next_step

        while True:
            step = next_step(self.background, self.plan.graph, up=self.up, blocked=self.blocked)
            for name, _ in step.faulted:
                self.background.remove(name)
                self.blocked[name] = "did not start"
            for name in step.start:
                self.background.remove(name)
                self._start_background(name)
            room = None if self.jobs is None else self.jobs - len(self.pending)
            mine = next_step(self.queued, self.plan.graph, up=self.up, blocked=self.blocked,
                             running=self.pending.values(), exclusive=self.plan.exclusive, room=room)
            for name, why in mine.faulted:
                import ansar.create as ar

                self.queued.remove(name)
                self.ansar.console(f'Not starting "{name}" ({why})')
                self.end(name, ar.Faulted(condition=why, explanation="not started"))
            for name in mine.start:
                self.queued.remove(name)
                self._launch(name)
            if not (step.start or step.faulted or mine.start or mine.faulted):
                return

    def _launch(self, name: str) -> None:
        import ansar.create as ar
        from ansar.home._launch import create_role_object

        try:
            context = self.home.role(name)
            assert context.role is not None
            path = self.home.executable_path(context.role.executable)
        except HomeError as e:
            self.ansar.fault(str(e))
            self.end(name, ar.Faulted(condition=str(e), explanation="role cannot start"))
            return
        keep = self.keep
        if self.plan is not None:
            from ansar.home._ready import Watch, check_of

            check = check_of(context)
            keep = keep or (check is not None and check.text is not None)  # its records, to look in
            self.watches[name] = Watch(context, check, time.time() - 0.001)
        from ansar.home._guard import watch

        watch(context.lock_path())  # a killed run takes even its roles' daemons with it
        address = create_role_object(self.ansar, context, path, self.level, keep)
        self.pending[address] = name
        self.began[name] = time.monotonic()
        self.started[name] = time.time()

    def _start_background(self, name: str) -> None:
        """A role the run needs from outside its search: started as ``ansar start`` does."""
        from ansar.home._launch import start_roles
        from ansar.home._ready import Watch

        assert self.plan is not None
        try:
            context = self.home.role(name)
            assert context.role is not None
            path = self.home.executable_path(context.role.executable)
        except HomeError as e:
            self.ansar.fault(f'role "{name}" did not start ({e})')
            self.blocked[name] = "did not start"
            return
        self.ansar.console(f"Start roles ({name})")
        since = time.time() - 0.001
        for role, reason in start_roles([(context, path)]):
            self.ansar.fault(f'role "{role}" did not start ({reason})')
            self.blocked[name] = "did not start"
            return
        self.watches[name] = Watch(context, self.plan.check(name), since)
        self.held.add(name)

    def acked(self, address: Any) -> None:
        """The role of ``address`` holds its lock: its ready check may be looked at."""
        name = self.pending.get(address)
        if name is not None:
            self.held.add(name)

    def waiting(self) -> bool:
        """A queued role waits for a role that is not up yet: look again soon."""
        if self.plan is None:
            return False
        return any(need not in self.up and need not in self.blocked
                   for role in self.queued for need in self.plan.graph.get(role, ()))

    def poll(self) -> None:
        """Look at the roles queued ones wait for: running ones of this run once held, the
        others by their locks."""
        if self.plan is None:
            return
        wanted = {need for role in self.queued for need in self.plan.graph.get(role, ())}
        mine = set(self.pending.values())
        outside = {n for n in wanted if n not in mine and n not in self.completed}
        poll_needed(self.plan, self.watches, outside, self.up, self.blocked)
        for name in sorted(wanted & mine):
            watch = self.watches.get(name)
            if watch is None or name in self.up or name in self.blocked:
                continue
            if name not in self.held:
                if watch.check is not None and watch.clock() >= watch.deadline:
                    self.blocked[name] = watch.why()
                continue
            ready = watch.poll()
            if ready:
                self.up.add(name)
            elif ready is False:
                self.blocked[name] = watch.why()

    def end(self, name: str, value: Any) -> None:
        if self.plan is not None and name not in self.blocked and name not in self.up:
            if fails(value):
                self.blocked[name] = f"ended {type(value).__name__}"
            else:
                self.up.add(name)
        self.completed[name] = value
        self.durations[name] = time.monotonic() - self.began.get(name, time.monotonic())
        self.ansar.console(f'Completion for "{name}" ({_condition(value)})')
        if fails(value) and name in self.started:
            import json

            from ansar.create.codec import encode
            from ansar.home._history import record_unstarted

            record_unstarted(self.home.role_context(name), self.started[name], json.loads(encode(value))["value"])

    def strand(self) -> None:
        """Queued roles that can never start (nothing runs, nothing is waited for)."""
        import ansar.create as ar

        while self.queued:
            self.end(self.queued.pop(0), ar.Faulted(condition="waits for roles that will not start",
                                                    explanation="not started"))

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every process of each running role's tree (pause and continue)."""
        from ansar.home._signals import signal_roles

        signal_roles([self.home.role_context(name) for name in self.pending.values()], signum, unheld=True)

    def stop(self) -> None:
        """Stop every running role; queued roles never start (Aborted)."""
        import ansar.create as ar

        for address in self.pending:
            self.ansar.send(ar.Stop(), address)
        self.background = []
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
            else:
                self.acked(self.ansar.return_address)
            waiting.discard(self.ansar.return_address)


def _plan(home: Home, search: Any, names: list[str], no_deps: bool) -> tuple[Optional[Plan], list[str], list[str]]:
    """The plan of a run when its roles have an order: ``(plan, roles to start in the background,
    needed roles already running)``; ``(None, [], [])`` when they have none."""
    plan = Plan(home)
    running, idle = plan.outside("run", search, names, no_deps)
    holders = plan.running_exclusive(names + idle)
    plan.refuse_clashes("run", names, holders, among=False)
    plan.refuse_clashes("run", idle, holders + names, among=True)
    if not plan.ordered(names) and not idle:
        return None, [], []
    return plan, idle, running


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
    from ansar.home._guard import dismiss

    try:
        return _run(parsed)
    finally:
        dismiss()


def _run(parsed: Parsed) -> int:
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
            plan, background, running = _plan(home, search, names, parsed.settings["no-deps"])
            ansar.console(f'Running "{search}" ({given_home})')
            roles = _Roles(ansar, home, sorted(names) if jobs or plan else names, roles_level, jobs,
                           parsed.settings["keep-logs"], plan, background, running)
            roles.launch()
            roles.wait_held(early)
        while roles.pending or roles.queued:
            if early:
                m, sender = early.pop(0)
            elif roles.pending or roles.waiting():
                m = ansar.select(ar.Completed, ar.Stop, _Suspend, _Continue, ar.Ack,
                                 seconds=POLL if roles.waiting() else None)
                sender = ansar.return_address
                if isinstance(m, (ar.Ack, ar.SelectTimer)):
                    if isinstance(m, ar.Ack):
                        roles.acked(sender)  # a role (started after the first) holds its lock
                    roles.poll()
                    if not (interrupted or failing):
                        roles.launch()
                    continue
            else:
                roles.launch()
                if not roles.pending and not roles.waiting():
                    roles.strand()
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
            roles.poll()
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

        write_junit(parsed.settings["junit-xml"], completed, _history_durations(home, roles))
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


def _history_durations(home: Home, roles: _Roles) -> dict[str, float]:
    """Each role's duration as its history has it (the execution this run started), else as the
    run measured it (a role that never started)."""
    from ansar.home._history import epoch_of, read_history

    durations = dict(roles.durations)
    for name, started in roles.started.items():
        try:
            history = read_history(home.role_context(name), close_stale=False)
        except HomeError:
            continue
        for execution in reversed(history):
            try:
                begin = epoch_of(execution.start)
                if begin >= started - 1.0 and execution.end:
                    durations[name] = max(0.0, epoch_of(execution.end) - begin)
                    break
            except ValueError:
                continue
    return durations


def _exit_status(value: Any) -> int:
    import ansar.create as ar

    if isinstance(value, ar.Faulted):
        return value.exit_code or 1
    return 1 if fails(value) else 0
