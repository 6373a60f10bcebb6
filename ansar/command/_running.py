"""start, stop, status: the roles of a home as background processes (``run`` is in ``_run``).

During ``start`` and ``stop`` the command is itself an object of the runtime, ``ansar``, whose
records go to stderr at the level given before the sub-command. ``start`` leaves the roles
running in the background; ``stop`` ends them with their whole process trees. The home's lock is
held while roles are matched and their locks probed, and until the roles started hold theirs, so
that no other command changes the home under them.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Optional

from ansar.home import Home, HomeError, RoleContext, is_running, running_since, stop_roles
from ansar.home._store import home_lock

from ._args import Parsed
from ._common import home_of, search_of

__all__ = ["clear_for", "level_of", "run_start", "run_status", "run_stop"]



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
        failed += start_roles(launches)
    for name, reason in sorted(failed):
        sys.stderr.write(f'ansar: role "{name}" did not start ({reason})\n')
    return 1 if failed else 0


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
            lines.append(f"{name} <{pid}> {format_span(now - started)}{paused}")
        elif is_running(context) is not None:
            lines.append(f"{name} <?> starting")
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
