"""delete and destroy of running roles; is_running and stop_role; the real examples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Iterator

import psutil
import pytest
from test_command_support import (  # noqa: F401 - fixtures
    REPO,
    Ansar,
    ansar_fixture,
    home_fixture,
)

from ansar.home import PID_UNKNOWN, is_running, open_existing_home, stop_role

HOLDER = r"""
import os, signal, sys
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire(timeout=0)
if sys.argv[3] != "silent":
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
if sys.argv[3] == "stubborn":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if sys.argv[3] == "parent":
    import subprocess
    child = subprocess.Popen([sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                              "print('child', flush=True); signal.pause()"], stdout=subprocess.PIPE)
    child.stdout.readline()
    print(child.pid, flush=True)
else:
    print("ready", flush=True)
while True:
    signal.pause()
"""


class Holder:
    """A process that plays a running role: it holds the role's lock and names itself."""

    def __init__(self, home: Ansar, role: str, mode: str = "polite"):
        context = open_existing_home(str(home.home)).role_context(role)
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, context.lock_path(), context.pid_path(), mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.line = self.process.stdout.readline().strip()  # the lock is held once this arrives

    @property
    def pid(self) -> int:
        return self.process.pid

    def gone(self) -> bool:
        return self.process.poll() is not None


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    found: list[Holder] = []
    yield found
    for h in found:
        if h.process.poll() is None:
            h.process.kill()
        h.process.wait()
        assert h.process.stdout is not None
        h.process.stdout.close()


def hold(holders: list[Holder], home: Ansar, role: str, mode: str = "polite") -> Holder:
    h = Holder(home, role, mode)
    holders.append(h)
    return h


def test_is_running_follows_the_role_lock(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client", "z")
    context = open_existing_home(str(home.home)).role_context("z")
    assert is_running(context) is None
    h = hold(holders, home, "z")
    assert is_running(context) == h.pid
    h.process.kill()
    h.process.wait()
    assert is_running(context) is None  # a killed role is not running, whatever its pid file says


def test_a_running_role_that_has_not_named_itself_yet(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client", "z")
    hold(holders, home, "z", "silent")
    assert is_running(open_existing_home(str(home.home)).role_context("z")) == PID_UNKNOWN


def test_delete_refuses_a_running_role(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client", "--count=2")
    h = hold(holders, home, "client-1")
    err = home.refused(1, "delete", "client-.*")
    assert err == f'ansar: cannot perform "delete", currently running - client-1 ({h.pid})'
    assert not h.gone()
    home.ok("delete", "client-0")  # one that is not running goes


def test_delete_with_force_stops_the_role_first(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client")
    h = hold(holders, home, "client-0")
    home.ok("-f", "delete", "client-0")
    h.process.wait(timeout=10)  # (its status is psutil's: it reaped the process while stopping it)
    assert home.ok("list") == ""
    assert not any((home.home / "lock").iterdir())


def test_force_after_the_sub_command_works_too(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client")
    h = hold(holders, home, "client-0")
    home.ok("delete", "client-0", "--force")
    h.process.wait(timeout=10)


def test_destroy_refuses_while_any_role_runs(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client")
    h = hold(holders, home, "client-0")
    err = home.refused(1, "destroy")
    assert err == f'ansar: cannot perform "destroy", currently running - client-0 ({h.pid})'
    assert home.home.exists()


def test_destroy_with_force_stops_every_role(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client", "--count=3")
    hs = [hold(holders, home, f"client-{n}") for n in range(3)]
    home.ok("--force", "destroy")
    for h in hs:
        h.process.wait(timeout=10)
    assert not home.home.exists()


def test_stop_role_escalates_to_sigkill(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client")
    h = hold(holders, home, "client-0", "stubborn")
    context = open_existing_home(str(home.home)).role_context("client-0")
    started = time.monotonic()
    assert stop_role(context, grace=0.2, seconds=0.2)  # deaf to SIGINT and SIGTERM: only SIGKILL did it
    h.process.wait(timeout=5)
    assert is_running(context) is None
    assert time.monotonic() - started < 5


def test_stop_role_ends_the_whole_tree(home: Ansar, holders: list[Holder]) -> None:
    home.ok("add", "client")
    h = hold(holders, home, "client-0", "parent")
    child = psutil.Process(int(h.line))
    context = open_existing_home(str(home.home)).role_context("client-0")
    assert stop_role(context, grace=0.2, seconds=2.0)
    h.process.wait(timeout=5)
    child.wait(timeout=5)  # raises TimeoutExpired if it outlived its parent's stop
    assert not child.is_running()


def test_stop_role_of_a_role_that_is_not_running_is_done(home: Ansar) -> None:
    home.ok("add", "client")
    assert stop_role(open_existing_home(str(home.home)).role_context("client-0"))


# The real examples, through their bin/ launchers.


@pytest.fixture
def examples(ansar: Ansar, monkeypatch: pytest.MonkeyPatch) -> Ansar:
    if not (REPO / "bin" / "zombie").exists():
        pytest.skip("the examples are not there")
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    ansar.ok("create", f"--redirect-bin={REPO / 'bin'}")
    return ansar


def test_tour_first_steps_with_the_examples(examples: Ansar) -> None:
    a = examples
    a.ok("add", "noop")
    a.ok("add", "snooze")
    a.ok("add", "factorial")
    assert a.ok("list") == "factorial-0\nnoop-0\nsnooze-0\n"
    a.ok("update", "snooze-0", "--seconds=5.0")
    assert a.document("settings", "snooze-0") == {"value": {"seconds": 5.0}}
    assert a.document("input", "factorial-0") == {"value": 5}
    a.ok("input", "factorial-0", f"--set-file={REPO / 'examples' / 'factorial-7'}")
    assert a.document("input", "factorial-0") == {"value": 7}
    a.ok("settings", "snooze-0", f"--set-file={REPO / 'examples' / 'short-snooze'}")
    assert a.document("settings", "snooze-0") == {"value": {"seconds": 1.0}}
    assert "has no settings" in a.refused(1, "settings", "noop-0")
    err = a.refused(2, "update", "snooze-0", "--seconds=abc")
    assert 'executable "snooze" refused --seconds=abc' in err
    a.ok("add", "client", "test-client-{number}", "--start=10", "--count=40")
    a.ok("set", "retry", r"test-client-\d\d", f"--encoding-file={REPO / 'examples' / 'client-retry'}")
    assert a.document("get", "retry", "test-client-49") == {"value": {"first_steps": [1.0, 2.0, 4.0]}}
    a.ok("delete", "test-client-.*")
    assert a.ok("list") == "factorial-0\nnoop-0\nsnooze-0\n"


def test_a_role_run_by_hand_in_component_mode_blocks_delete(examples: Ansar) -> None:
    a = examples
    a.ok("add", "zombie")
    zombie = subprocess.Popen(
        [str(REPO / "bin" / "zombie"), f"--home-path={a.home}", "--role-name=zombie-0", "--debug-level=CONSOLE"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert zombie.stderr is not None
        assert "Do nothing until interrupted" in zombie.stderr.readline()  # running, lock held
        err = a.refused(1, "delete", "zombie-0")
        assert err == f'ansar: cannot perform "delete", currently running - zombie-0 ({zombie.pid})'
        a.ok("-f", "delete", "zombie-0")
        assert zombie.wait(timeout=10) is not None
        assert a.ok("list") == ""
    finally:
        if zombie.poll() is None:
            zombie.kill()
        zombie.wait()
        zombie.stderr.close()  # type: ignore[union-attr]


def test_python3_is_available_for_the_launchers() -> None:
    assert shutil.which("python3") is not None


def test_force_destroy_of_a_home_that_is_not_there_is_done(ansar: Ansar) -> None:
    assert ansar.ok("-f", "destroy") == ""
    assert ansar.refused(1, "destroy").endswith("no such home")
