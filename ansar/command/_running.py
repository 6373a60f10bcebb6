"""start, stop, status: the roles of a home as background processes (``run`` is in ``_run``).

During ``start`` and ``stop`` the command is itself an object of the runtime, ``ansar``, whose
records go to stderr at the level given before the sub-command. ``start`` leaves the roles
running in the background; ``stop`` ends them with their whole process trees. The home's lock is
held while roles are matched and their locks probed, and until the roles started hold theirs, so
that no other command changes the home under them.

Properties ``after``, ``ready`` and ``exclusive`` (``Plan``): ``start`` starts roles in waves, each
once the roles it is after are up (ended well, or running and ready), and also starts the roles
they need from outside the search (``--no-deps`` refuses instead); ``stop`` stops dependents
first; ``status -l`` says ``(not ready)``. Without those properties nothing changes.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Optional

from ansar.home import Home, HomeError, RoleContext, is_running, running_since, stop_roles
from ansar.home._store import home_lock

from ._args import Parsed
from ._common import home_of, search_of

__all__ = ["Plan", "clear_for", "ended_why", "level_of", "run_start", "run_status", "run_stop"]

_FAILS = ("ansar.create.lifecycle.Faulted", "ansar.create.lifecycle.Aborted", "ansar.create.lifecycle.TimedOut")


def _record(home: Home, name: str) -> Any:
    """A role's record, or None when it cannot be read (starting the role says why)."""
    try:
        return home.role(name, listed=True).role
    except HomeError:
        return None


class Plan:
    """The order properties of a home's roles (``after``, ``ready``, ``exclusive``), read once."""

    def __init__(self, home: Home) -> None:
        from ansar.home._order import resolve

        self.home = home
        self.names = home.names()
        self.records = {name: _record(home, name) for name in self.names}
        after = {n: r.after for n, r in self.records.items() if getattr(r, "after", None)}
        self.graph, self.unmatched = resolve(self.names, after)
        self.exclusive = {n: r.exclusive for n, r in self.records.items() if getattr(r, "exclusive", None)}

    def context(self, name: str) -> RoleContext:
        context = self.home.role_context(name)
        context.role = self.records.get(name)
        return context

    def check(self, name: str) -> Any:
        from ansar.home._ready import check_of

        return check_of(self.context(name))

    def ordered(self, names: list[str]) -> bool:
        """Whether any of ``names`` is after a role, or two of them share an exclusive name."""
        claims = [self.exclusive[n] for n in names if n in self.exclusive]
        return any(n in self.graph for n in names) or len(claims) != len(set(claims))

    def outside(self, action: str, search: Any, names: list[str], no_deps: bool) -> tuple[list[str], list[str]]:
        """The roles ``names`` need from outside themselves: ``(running, not running)``, sorted.
        Refused: a search of theirs that matches no role; with ``no_deps``, needed roles not running."""
        from ansar.home._names import quoted
        from ansar.home._order import needed

        wanted = set(names) | needed(self.graph, names)
        for role, pattern in self.unmatched:
            if role in wanted:
                raise HomeError(f"role {quoted(role)} is after {quoted(pattern)}, which matches no role")
        others = sorted(needed(self.graph, names) - set(names))
        running = [name for name, _ in self.home.running(others)]
        idle = [n for n in others if n not in running]
        if idle and no_deps:
            raise _mismatch(action, search, "after roles not running", idle)
        return running, idle

    def refuse_clashes(self, action: str, names: list[str], others: list[str], *, among: bool) -> None:
        """A role of ``names`` exclusive with one of ``others`` (or, with ``among``, with an earlier
        one of ``names``) refuses the command."""
        from ansar.home._names import quoted
        from ansar.home._order import exclusive_clashes

        clashes = exclusive_clashes(names, others, self.exclusive, among=among)
        if clashes:
            role, held = clashes[0]
            raise HomeError(f'cannot perform "{action}", {quoted(role)} exclusive with - {", ".join(held)}')

    def running_exclusive(self, names: list[str]) -> list[str]:
        """The running roles, not among ``names``, holding an exclusive name one of ``names`` claims."""
        claims = {self.exclusive[n] for n in names if n in self.exclusive}
        holders = [n for n, claim in self.exclusive.items() if claim in claims and n not in names]
        return [name for name, _ in self.home.running(holders)]


def ended_why(context: RoleContext) -> Optional[str]:
    """For a role that has ended: None if its latest value is no failure, else ``ended Faulted``
    (``Aborted``, ``TimedOut``); a role never run counts as ended well."""
    from ansar.home._history import read_history

    history = read_history(context)
    value = history[-1].value if history else None
    if isinstance(value, list) and value and value[0] in _FAILS:
        return "ended " + value[0].rpartition(".")[2]
    return None



def _mismatch(action: str, search: Any, what: str, items: list[str]) -> HomeError:
    return HomeError(f'cannot perform "{action}", "{search}" {what} - {", ".join(items)}')


def _matched(parsed: Parsed, home: Home, *, all_ok: bool = False) -> list[str]:
    """The roles the search matches; with ``all_ok``, no search on an empty home is no role."""
    search = search_of(parsed, 0)
    return home.select(search, empty_ok=all_ok and search.pattern is None)


def level_of(name: Optional[str]) -> int:
    import ansar.create as ar

    return ar.USER_LOG.from_name(name) if name else ar.USER_LOG.NONE


def clear_for(action: str, parsed: Parsed, home: Home, names: list[str], ansar: Any) -> None:
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


# --- start, stop, status --------------------------------------------------------------------------


def _lost_only(home: Home, names: list[str]) -> list[str]:
    """``start --restore``: the roles whose latest execution was lost (killed, or the machine
    stopped), never those stopped by ansar or ended by themselves, nor any running now."""
    from ansar.home._history import read_history, was_lost

    chosen = []
    for name in names:
        context = home.role_context(name)
        history = read_history(context)
        if history and was_lost(history[-1]) and is_running(context) is None:
            chosen.append(name)
    return chosen


def run_start(parsed: Parsed) -> int:
    import ansar.create as ar
    from ansar.create import log as ar_log
    from ansar.home._launch import start_roles

    ar_log.set_log_level(level_of(parsed.globals["debug-level"]))
    home = home_of(parsed)
    with ar.OpenChannel("ansar", as_program=True) as ansar, home_lock(home.path):
        names = _matched(parsed, home)
        if parsed.settings["restore"]:
            names = _lost_only(home, names)
            if not names:
                return 0
        ansar.console(f"Detect status of associated roles ({', '.join(names)})")
        clear_for("start", parsed, home, names, ansar)
        plan = Plan(home)
        running, idle = plan.outside("start", search_of(parsed, 0), names, parsed.settings["no-deps"])
        names = names + idle
        plan.refuse_clashes("start", names, plan.running_exclusive(names), among=True)
        if plan.ordered(names):
            failed = _start_in_order(ansar, plan, names, running)
        else:
            launches, failed = _launches(plan, names)
            ansar.console(f"Start roles ({', '.join(c.role_name for c, _ in launches)})")
            failed += start_roles(launches)
    for name, reason in sorted(failed):
        sys.stderr.write(f'ansar: role "{name}" did not start ({reason})\n')
    return 1 if failed else 0


def _launches(plan: Plan, names: list[str]) -> tuple[list[tuple[RoleContext, str]], list[tuple[str, str]]]:
    """``(context, executable path)`` of each role, and ``(role, reason)`` of those without one."""
    launches: list[tuple[RoleContext, str]] = []
    failed: list[tuple[str, str]] = []
    for name in names:
        try:
            context = plan.home.role(name)
            assert context.role is not None
            launches.append((context, plan.home.executable_path(context.role.executable)))
        except HomeError as e:
            failed.append((name, str(e)))
    return launches, failed


def poll_needed(plan: Plan, watches: dict[str, Any], wanted: set[str], up: set[str], blocked: dict[str, str]) -> bool:
    """Look at each role in ``wanted`` that runs in the background (watched): up once ready or
    ended well, blocked once ended badly or not ready in time. True if any changed."""
    changed = False
    for name in sorted(wanted):
        watch = watches.get(name)
        if watch is None or name in up or name in blocked:
            continue
        if is_running(watch.context) is None:
            why = ended_why(watch.context)
            if why is None:
                up.add(name)
            else:
                blocked[name] = why
            changed = True
            continue
        ready = watch.poll()
        if ready:
            up.add(name)
        elif ready is False:
            blocked[name] = watch.why()
        changed = changed or ready is not None
    return changed


def watch_running(plan: Plan, names: list[str]) -> dict[str, Any]:
    """A Watch of each role already running that others wait for, from now."""
    from ansar.home._ready import Watch

    watches = {}
    for name in names:
        context = plan.context(name)
        since = running_since(context)
        watches[name] = Watch(context, plan.check(name), since[1] - 0.01 if since else time.time())
    return watches


def _start_in_order(ansar: Any, plan: Plan, names: list[str], running: list[str],
                    sleep: Callable[[float], None] = time.sleep) -> list[tuple[str, str]]:
    """Start ``names`` in waves: each role once the roles it is after are up. Returns
    ``(role, reason)`` of each role that did not start, a role after one of them included."""
    from ansar.home._launch import start_roles
    from ansar.home._order import next_step
    from ansar.home._ready import POLL, Watch

    failed: list[tuple[str, str]] = []
    up: set[str] = set()
    blocked: dict[str, str] = {}
    watches = watch_running(plan, running)
    queued = list(names)
    while queued:
        step = next_step(queued, plan.graph, up=up, blocked=blocked)
        for role, why in step.faulted:
            failed.append((role, why))
            blocked[role] = "did not start"
            queued.remove(role)
        if step.start:
            for role in step.start:
                queued.remove(role)
            launches, bad = _launches(plan, step.start)
            since = time.time() - 0.001
            ansar.console(f"Start roles ({', '.join(c.role_name for c, _ in launches)})")
            bad += start_roles(launches)
            failed += bad
            blocked.update((role, "did not start") for role, _ in bad)
            for context, _ in launches:
                if context.role_name not in blocked:
                    watches[context.role_name] = Watch(context, plan.check(context.role_name), since)
        if step.start or step.faulted:
            continue
        wanted = {need for role in queued for need in plan.graph.get(role, ())}
        if not poll_needed(plan, watches, wanted, up, blocked):
            sleep(POLL)  # a port or a file to look at again: there is no event to wait on
    return failed


def run_stop(parsed: Parsed) -> int:
    import ansar.create as ar
    from ansar.create import log as ar_log

    ar_log.set_log_level(level_of(parsed.globals["debug-level"]))
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
        from ansar.home._order import stop_waves

        waves = stop_waves(Plan(home).graph, sorted(running)) if len(running) > 1 else [sorted(running)]
        left, survivors = [], []
        for wave in waves:  # dependents first
            ansar.console(f"Stop roles ({', '.join(wave)})")
            more, also = stop_roles([home.role_context(name) for name in wave])
            left += more
            survivors += also
        left.sort()
    if left or survivors:
        also = f" (survived SIGKILL: {', '.join(map(str, survivors))})" if survivors else ""
        raise HomeError(f'cannot perform "stop", could not stop {", ".join(left) or "every process"}{also}')
    return 0


def _not_ready(home: Home, name: str, started: float) -> str:
    """`` (not ready)`` for a running role with a ready property it does not pass yet."""
    from ansar.home._ready import TextScan, check_of, is_ready

    try:
        context = home.role(name, listed=True)
        check = check_of(context)
    except HomeError:
        return ""
    if check is None:
        return ""
    scan = TextScan(context.logs_path(), check.text, started - 0.01) if check.text else None
    return "" if is_ready(context, check, scan) else " (not ready)"


def run_status(parsed: Parsed) -> int:
    home = home_of(parsed)
    names = _matched(parsed, home, all_ok=True)
    long = parsed.settings["long-listing"]
    if long:
        from ansar.home._history import format_span
        from ansar.home._signals import is_paused
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
            paused = " (paused)" if is_paused(pid) else ""
            lines.append(f"{name} <{pid}> {format_span(now - started)}{paused}{_not_ready(home, name, started)}")
        elif is_running(context) is not None:
            lines.append(f"{name} <?> starting")
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
