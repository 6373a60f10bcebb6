"""run, start, stop, status: the roles of a home as processes.

During ``run``, ``start`` and ``stop`` the command is itself an object of the runtime, ``ansar``,
whose records go to stderr at the level given before the sub-command. ``run`` starts each role
as an ``ar.Process`` child in the caller's folder and waits for all; ``start`` leaves them
running in the background; ``stop`` ends them with their whole process trees. The home's lock
is held while roles are matched and their locks probed, and until the roles started hold theirs,
so that no other command changes the home under them.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any, Optional

from ansar.home import Home, HomeError, RoleContext, is_running, running_since, stop_roles
from ansar.home._store import home_lock

from ._args import Parsed, Usage
from ._common import home_of, search_of

__all__ = ["run_run", "run_start", "run_status", "run_stop"]

ROLE_READY_SECONDS = 30.0  # run and start wait this long for each role to hold its lock


def _mismatch(action: str, search: Any, what: str, items: list[str]) -> HomeError:
    return HomeError(f'cannot perform "{action}", "{search}" {what} - {", ".join(items)}')


def _matched(parsed: Parsed, home: Home, *, all_ok: bool = False) -> list[str]:
    """The roles the search matches; with ``all_ok``, no search on an empty home is no role."""
    search = search_of(parsed, 0)
    return home.select(search, empty_ok=all_ok and search.pattern is None)


def _level(name: Optional[str]) -> int:
    import ansar.create as ar

    return ar.USER_LOG.from_name(name) if name else ar.USER_LOG.NONE


def _clear_for(action: str, parsed: Parsed, home: Home, names: list[str], ansar: Any) -> None:
    """The mismatch rule for run and start: a matched role already running refuses the command;
    with --force it is stopped first."""
    running = home.running(names)
    if not running:
        return
    if not parsed.force:
        raise _mismatch(action, search_of(parsed, 0), "currently running as",
                        [str(pid) for _, pid in running])
    roles = [name for name, _ in running]
    ansar.console(f"Stop roles ({', '.join(roles)})")
    left, survivors = stop_roles([home.role_context(name) for name in roles])
    if left or survivors:
        also = f" (survived SIGKILL: {', '.join(map(str, survivors))})" if survivors else ""
        raise HomeError(f'cannot perform "{action}", could not stop {", ".join(left) or "them"}{also}')


# --- run --------------------------------------------------------------------------------------------


class _Interrupts:
    """Ctrl-C, SIGTERM and SIGHUP during a run: the first stops the roles, the next hurries."""

    def __init__(self, ansar: Any) -> None:
        self.ansar = ansar
        self.count = 0
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[signum] = signal.signal(signum, self)
        return self

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


def _fails(value: Any) -> bool:
    import ansar.create as ar

    return isinstance(value, (ar.Faulted, ar.Aborted, ar.TimedOut))


def _condition(value: Any) -> str:
    import ansar.create as ar

    if isinstance(value, ar.Faulted):
        return value.condition or "faulted"
    if isinstance(value, (ar.Aborted, ar.TimedOut)):
        return type(value).__name__.lower()
    return ""


def _start_processes(ansar: Any, home: Home, names: list[str], level: int) -> tuple[dict, dict]:
    """An ar.Process child for each role; roles that cannot start get their Faulted at once."""
    import ansar.create as ar
    from ansar.home._launch import ORIGIN_RUN, role_arguments, role_environment

    pending: dict[Any, str] = {}
    refused: dict[str, Any] = {}
    for name in names:
        try:
            context = home.role(name)
            assert context.role is not None
            path = home.executable_path(context.role.executable)
        except HomeError as e:
            ansar.fault(str(e))
            refused[name] = ar.Faulted(condition=str(e), explanation="role cannot start")
            continue
        arguments = role_arguments(home.path, name, ORIGIN_RUN)[:2]  # home and role follow from the Process
        address = ansar.create(ar.Process, path, role_name=name, home_path=home.path, settings=arguments,
                               debug_level=level, environment=role_environment(context))
        pending[address] = name
    return pending, refused


def _wait_held(ansar: Any, home: Home, pending: dict, early: list) -> None:
    """Until every role started holds its lock (or has ended): the home stays locked till then."""
    import ansar.create as ar

    deadline = time.monotonic() + ROLE_READY_SECONDS
    waiting = dict(pending)
    while waiting and time.monotonic() < deadline:
        for address, name in list(waiting.items()):
            if is_running(home.role_context(name)) is not None:
                del waiting[address]
        if not waiting:
            break
        m = ansar.select(ar.Completed, ar.Stop, seconds=0.01)  # a role's lock has no event to wait on
        if isinstance(m, (ar.Completed, ar.Stop)):
            early.append((m, ansar.return_address))
            if isinstance(m, ar.Completed):
                waiting.pop(ansar.return_address, None)


def _analysis(analyzer: Optional[str], ansar: Any, completed: dict, level: int) -> Optional[tuple]:
    """With --test-analyzer: the analyzer's value, as a 1-tuple (its value may be None)."""
    if analyzer is None:
        return None
    from ._testrun import analyze, test_suite

    return (analyze(ansar, analyzer, test_suite(completed), level),)


def _exit_status(value: Any) -> int:
    import ansar.create as ar

    if isinstance(value, ar.Faulted):
        return value.exit_code or 1
    return 1 if _fails(value) else 0


def run_run(parsed: Parsed) -> int:
    if parsed.settings["test-run"] and parsed.settings.get("test-analyzer"):
        raise Usage("run: --test-run and --test-analyzer do not go together")
    import ansar.create as ar

    from .ansar_command import Run

    home = home_of(parsed)
    given_home = parsed.settings["home-path"]
    analyzer = home.executable_path(parsed.settings["test-analyzer"]) if parsed.settings["test-analyzer"] else None
    own = _level(parsed.globals["debug-level"])
    from ansar.create import log as ar_log

    ar_log.set_log_level(own)
    roles_level = _level(parsed.settings["debug-level"]) if parsed.settings["debug-level"] else own
    search = search_of(parsed, 0)
    completed: dict[str, Any] = {}
    durations: dict[str, float] = {}
    interrupted = False
    with ar.OpenChannel("ansar", as_program=True) as ansar, _Interrupts(ansar) as interrupts:
        ansar.trace("Call the sub-command function")
        early: list = []
        with home_lock(home.path):
            names = home.select(search)
            ansar.console(f"Detect status of associated roles ({', '.join(names)})")
            _clear_for("run", parsed, home, names, ansar)
            ansar.console(f'Running "{search}" ({given_home})')
            began = time.monotonic()
            pending, refused = _start_processes(ansar, home, names, roles_level)
            completed.update(refused)
            _wait_held(ansar, home, pending, early)
        while pending:
            if early:
                m, sender = early.pop(0)
            else:
                m = ansar.select(ar.Completed, ar.Stop)
                sender = ansar.return_address
            if isinstance(m, ar.Stop):
                interrupted = True
                for address in pending:
                    ansar.send(ar.Stop(), address)
                continue
            name = pending.pop(sender, None)
            if name is None:
                continue
            completed[name] = m.value
            durations[name] = time.monotonic() - began
            ansar.console(f'Completion for "{name}" ({_condition(m.value)})')
        interrupted = interrupted or interrupts.count > 0
        if parsed.settings["code-path"]:
            from ._testrun import resolve_sources

            resolve_sources(completed, parsed.settings["code-path"])
        analyzed = _analysis(analyzer, ansar, completed, roles_level)
    if parsed.settings["junit-xml"]:
        from ._testrun import write_junit

        write_junit(parsed.settings["junit-xml"], completed, durations)
    if analyzed is not None:
        from ansar.create.codec import encode

        from ._common import print_document

        value = analyzed[0]
        print_document(encode(value, pretty=True))
        return _exit_status(value)
    if parsed.settings["test-run"]:
        from ._testrun import print_test_run

        return print_test_run(completed, search)
    from ansar.create.codec import encode

    from ._common import print_document

    print_document(encode(Run(completed, given_home), pretty=True))
    if interrupted:
        return 130
    return 1 if any(_fails(v) for v in completed.values()) else 0


# --- start, stop, status --------------------------------------------------------------------------


def run_start(parsed: Parsed) -> int:
    import ansar.create as ar
    from ansar.create import log as ar_log
    from ansar.home._launch import start_roles

    ar_log.set_log_level(_level(parsed.globals["debug-level"]))
    home = home_of(parsed)
    with ar.OpenChannel("ansar", as_program=True) as ansar, home_lock(home.path):
        names = _matched(parsed, home)
        ansar.console(f"Detect status of associated roles ({', '.join(names)})")
        _clear_for("start", parsed, home, names, ansar)
        launches: list[tuple[RoleContext, str]] = []
        failed: list[tuple[str, str]] = []
        for name in names:
            try:
                context = home.role(name)
                assert context.role is not None
                launches.append((context, home.executable_path(context.role.executable)))
            except HomeError as e:
                failed.append((name, str(e)))
        ansar.console(f"Start roles ({', '.join(c.role_name for c, _ in launches)})")
        failed += start_roles(launches, seconds=ROLE_READY_SECONDS)
    for name, reason in sorted(failed):
        sys.stderr.write(f'ansar: role "{name}" did not start ({reason})\n')
    return 1 if failed else 0


def run_stop(parsed: Parsed) -> int:
    import ansar.create as ar
    from ansar.create import log as ar_log

    ar_log.set_log_level(_level(parsed.globals["debug-level"]))
    home = home_of(parsed)
    search = search_of(parsed, 0)
    with ar.OpenChannel("ansar", as_program=True) as ansar:
        with home_lock(home.path):
            names = _matched(parsed, home, all_ok=True)
            ansar.console(f"Detect status of associated roles ({', '.join(names)})")
            running = dict(home.running(names))
            idle = sorted(set(names) - set(running))
            if idle and not parsed.force:
                raise _mismatch("stop", search, "not currently running", idle)
        if not running:
            return 0
        ansar.console(f"Stop roles ({', '.join(sorted(running))})")
        left, survivors = stop_roles([home.role_context(name) for name in sorted(running)])
    if left or survivors:
        also = f" (survived SIGKILL: {', '.join(map(str, survivors))})" if survivors else ""
        raise HomeError(f'cannot perform "stop", could not stop {", ".join(left) or "every process"}{also}')
    return 0


def run_status(parsed: Parsed) -> int:
    home = home_of(parsed)
    names = _matched(parsed, home, all_ok=True)
    long = parsed.settings["long-listing"]
    if long:
        from ansar.home._history import format_span
    now = time.time()
    lines = []
    for name in names:
        context = home.role_context(name)
        if not long:
            if is_running(context) is not None:
                lines.append(name)
            continue
        since = running_since(context)
        if since is not None:
            pid, started = since
            lines.append(f"{name} <{pid}> {format_span(now - started)}")
        elif is_running(context) is not None:
            lines.append(f"{name} <?> starting")
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
