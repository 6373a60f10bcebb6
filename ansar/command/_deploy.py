"""snapshot and deploy: the home's operational files out to a folder a person edits, and back in.

Both run as the runtime object ``ansar`` (records on stderr at the level given with
``--debug-level``) and hold the home's lock throughout. A running role in the way is a mismatch,
unless ``--force``: then exactly those roles are stopped for the work and started again in the
background afterwards. The roles a deploy stops are recorded in the home first, so that a deploy
killed half way is finished by the next one, which also starts them again.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Optional

from ansar.home import Home, HomeError, open_existing_home
from ansar.home._store import home_lock

from ._args import HOME_PATH, Parsed, Usage
from ._common import home_of

__all__ = ["KILL_AT_STEP", "run_deploy", "run_snapshot"]

# Testing: a deploy or snapshot given this variable kills itself (SIGKILL) at that step (1, 2, ...):
# after the record of stopped roles, the stop, each file put in place and each value stored (deploy),
# the copy in place (snapshot), and the restore.
KILL_AT_STEP = "ANSAR_TEST_DEPLOY_KILL_AT"


def _stepper() -> Callable[[str], None]:
    at = os.environ.pop(KILL_AT_STEP, "")  # not for the roles it starts
    if not at.isdigit():
        return lambda what: None
    limit = int(at)
    count = [0]

    def step(what: str) -> None:
        count[0] += 1
        if count[0] == limit:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)

    return step


def _level(name: Optional[str]) -> int:
    import ansar.create as ar

    return ar.USER_LOG.from_name(name) if name else ar.USER_LOG.NONE


# --- objects of the command ------------------------------------------------------------------------


def lock_and_hold(self: Any, home: Home, names: list[str]) -> list[tuple[str, int]]:
    """``(role, pid)`` of the running roles among ``names`` (probing each role's lock)."""
    return home.running(names)


def stop_associated(self: Any, home: Home, names: list[str]) -> tuple[list[str], list[int]]:
    """Stop the roles with their trees; the roles still running and the pids that survived."""
    from ansar.home import stop_roles

    return stop_roles([home.role_context(name) for name in names])


def _bind() -> None:
    import ansar.create as ar

    ar.bind(lock_and_hold)
    ar.bind(stop_associated)


class _Roles:
    """The stop and the restore of the roles in the way of one snapshot or deploy."""

    def __init__(self, action: str, ansar: Any, home: Home, step: Callable[[str], None]) -> None:
        from ansar.home._deploy import read_stopped

        self.action = action
        self.ansar = ansar
        self.home = home
        self.step = step
        existing = set(home.names())
        recorded = read_stopped(home)
        self.recorded = bool(recorded)  # a record is there (its roles may have been deleted since)
        self.pending = [n for n in recorded if n in existing]  # a killed deploy's
        self.stopped: list[str] = []

    def left_stopped(self) -> list[str]:
        """The roles a killed deploy stopped that still do not run."""
        running = {name for name, _ in self.home.running(self.pending)}
        return [n for n in self.pending if n not in running]

    def forget(self) -> None:
        """Drop the record of a killed deploy whose roles all run again."""
        from ansar.home._deploy import clear_stopped

        if self.recorded:
            clear_stopped(self.home)
            self.pending, self.recorded = [], False

    def detect(self, names: list[str]) -> list[tuple[str, int]]:
        import ansar.create as ar

        self.ansar.console(f"Detect status of associated roles ({', '.join(names)})")
        self.ansar.create(lock_and_hold, self.home, names)
        return self.ansar.select(ar.Completed).value

    def clear(self, names: list[str], search: Optional[str], force: bool) -> None:
        """Refuse while any of ``names`` runs (naming ``search``, by default the running roles);
        with ``force`` stop them, recorded first."""
        import ansar.create as ar
        from ansar.home._deploy import write_stopped

        running = self.detect(names)
        if not running:
            return
        if not force:
            pids = ", ".join(str(pid) for _, pid in running)
            search = search or ", ".join(name for name, _ in running)
            raise HomeError(f'cannot perform "{self.action}", "{search}" currently running as - {pids}')
        roles = sorted(name for name, _ in running)
        write_stopped(self.home, self.pending + roles)
        self.step("record")
        self.stopped = roles
        self.ansar.console(f"Stop roles ({', '.join(roles)})")
        self.ansar.create(stop_associated, self.home, roles)
        self.ansar.console("Poll for termination")
        left, survivors = self.ansar.select(ar.Completed).value
        self.step("stop")
        if left or survivors:
            also = f" (survived SIGKILL: {', '.join(map(str, survivors))})" if survivors else ""
            raise HomeError(f'cannot perform "{self.action}", could not stop {", ".join(left) or "them"}{also}')
        self.ansar.console(f"Detect status of associated roles ({', '.join(names)})")

    def restore(self, *, pending_too: bool) -> list[tuple[str, str]]:
        """Start again the roles stopped here (and with ``pending_too`` those a killed deploy left
        stopped); ``(role, reason)`` of each that did not start."""
        from ansar.home._deploy import clear_stopped, write_stopped
        from ansar.home._launch import start_roles

        wanted = sorted(set(self.stopped) | (set(self.pending) if pending_too else set()))
        running = {name for name, _ in self.home.running(wanted)}
        names = [n for n in wanted if n not in running]
        failed: list[tuple[str, str]] = []
        if names:
            self.ansar.console(f"Restoring {len(names)} stopped roles")
            launches = []
            for name in names:
                try:
                    context = self.home.role(name)
                    assert context.role is not None
                    launches.append((context, self.home.executable_path(context.role.executable)))
                except HomeError as e:
                    failed.append((name, str(e)))
            failed += start_roles(launches)
            self.step("restore")
        if pending_too or not self.pending:
            if self.stopped or self.recorded:
                clear_stopped(self.home)
        elif self.stopped:
            write_stopped(self.home, self.pending)  # the killed deploy's, for the next deploy
        return failed


def _report(failed: list[tuple[str, str]]) -> int:
    for name, reason in sorted(failed):
        sys.stderr.write(f'ansar: role "{name}" did not start ({reason})\n')
    return 1 if failed else 0


# --- snapshot ----------------------------------------------------------------------------------------


def run_snapshot(parsed: Parsed) -> int:
    import ansar.create as ar
    from ansar.create import log as ar_log
    from ansar.home._snapshot import check_target, take_snapshot

    home = home_of(parsed, 1)
    target = check_target(home, parsed.words[0], replace=parsed.force)
    ar_log.set_log_level(_level(parsed.globals["debug-level"]))
    step = _stepper()
    _bind()
    with ar.OpenChannel("ansar", as_program=True) as ansar, home_lock(home.path):
        ansar.trace("Call the sub-command function")
        roles = _Roles("snapshot", ansar, home, step)
        names = home.names()
        if names:
            roles.clear(names, "(all)", parsed.force)
        try:
            take_snapshot(home, target)
            step("snapshot")
        finally:
            failed = roles.restore(pending_too=False)
    return _report(failed)


# --- deploy ------------------------------------------------------------------------------------------


def _sources(parsed: Parsed) -> tuple[Optional[str], Optional[str], str]:
    """Build folder, snapshot and home: the settings given, then the words for the slots left."""
    settings = parsed.settings
    home = settings["home-path"] if settings["home-path"] != HOME_PATH.default else None
    slots = [settings["build-path"], settings["storage-path"], home]
    words = list(parsed.words)
    for i, given in enumerate(slots):
        if given is None and words:
            slots[i] = words.pop(0)
    if words:
        raise Usage(f'deploy: unexpected word "{words[0]}" (ansar deploy --help)')
    return slots[0], slots[1], slots[2] or HOME_PATH.default


def run_deploy(parsed: Parsed) -> int:
    build, storage, home_path = _sources(parsed)
    if not build and not storage:
        raise Usage("deploy: needs a build folder, a snapshot or both (ansar deploy --help)")
    import ansar.create as ar
    from ansar.create import log as ar_log
    from ansar.home._deploy import check_folder, plan_deploy, read_stopped

    home = open_existing_home(home_path)
    build = check_folder(build, "build folder") if build else None
    storage = check_folder(storage, "snapshot") if storage else None
    ar_log.set_log_level(_level(parsed.globals["debug-level"]))
    step = _stepper()
    _bind()
    with ar.OpenChannel("ansar", as_program=True) as ansar:
        ansar.trace("Call the sub-command function")
        # A first look without the lock and without asking executables: an unchanged home is left
        # alone as quickly as it is listed. Anything found is looked at again, holding the lock.
        if plan_deploy(home, build, storage, check=False).empty and not read_stopped(home):
            ansar.console("Nothing to deploy")
            return 0
        with home_lock(home.path):
            failed = _deploy_locked(ansar, home, build, storage, parsed.force, step)
    return _report(failed)


def _deploy_locked(ansar: Any, home: Home, build: Optional[str], storage: Optional[str], force: bool,
                   step: Callable[[str], None]) -> list[tuple[str, str]]:
    """The deploy, inside the home's lock; the roles that were not started again."""
    import ansar.create as ar
    from ansar.home._deploy import plan_deploy, store_value
    from ansar.home._transfer import FolderTransfer

    plan = plan_deploy(home, build, storage)
    for line in plan.detected:
        ansar.console(line)
    roles = _Roles("deploy", ansar, home, step)
    if plan.empty and not roles.left_stopped():
        roles.forget()
        ansar.console("Nothing to deploy")
        return []
    affected = sorted(plan.affected)
    if affected:
        roles.clear(affected, None, force)
    try:
        if not plan.empty:
            ansar.console("Starting transfer of materials")
        for transfer in plan.transfers:
            ansar.create(FolderTransfer, transfer, step)
            value = ansar.select(ar.Completed).value
            if isinstance(value, ar.Faulted):
                raise HomeError(value.condition or f"{transfer.target}: transfer failed")
            ansar.console(f'Completed transfer to "{transfer.target}"')
        for value in plan.values:
            store_value(home, value)
            step(f"{value.kind} {value.role}")
    finally:
        failed = roles.restore(pending_too=True)
    return failed
