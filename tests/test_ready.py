"""Readiness checks of property ready: the file ``ar.ready`` creates, a port, a text in the logs."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from ansar.create._logstore import open_storage
from ansar.create._ready import ready_file
from ansar.create._records import HomeRecord
from ansar.create._role import HomeError, RoleContext
from ansar.create.log import USER_LOG, LogRecord
from ansar.home._ready import ReadyCheck, TextScan, Watch, check_of, is_ready, not_ready_text


def context(tmp_path: Path, ready: object = None) -> RoleContext:
    for kind in ("lock", "logs"):
        (tmp_path / kind).mkdir(exist_ok=True)
    c = RoleContext(str(tmp_path), HomeRecord(), "server-0", None)
    c.role = type("R", (), {"ready": ready, "executable": "server"})()  # as read, whatever the record type
    return c


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_check_of_takes_seconds_and_both_long_forms(tmp_path: Path):
    assert check_of(context(tmp_path)) is None
    assert check_of(context(tmp_path, 30)) == ReadyCheck(seconds=30.0)
    assert check_of(context(tmp_path, 2.5)) == ReadyCheck(seconds=2.5)
    assert check_of(context(tmp_path, {"seconds": 30, "port": 65432})) == ReadyCheck(seconds=30.0, port=65432)
    assert check_of(context(tmp_path, {"seconds": 1, "text": "listening"})) == ReadyCheck(1.0, text="listening")
    with pytest.raises(HomeError, match="in ready"):
        check_of(context(tmp_path, {"seconds": "soon"}))


def test_not_ready_text_names_the_role_and_seconds():
    assert not_ready_text("server-0", ReadyCheck(seconds=30)) == "server-0 not ready after 30.0s"
    assert not_ready_text("server-0", ReadyCheck(seconds=0.25)) == "server-0 not ready after 0.25s"


def test_the_file_form_is_the_ready_file(tmp_path: Path):
    c = context(tmp_path, 5)
    check = ReadyCheck(seconds=5.0)
    assert not is_ready(c, check)
    Path(ready_file(c.lock_path())).touch()
    assert is_ready(c, check)


def test_the_port_form_connects_to_localhost():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        check = ReadyCheck(seconds=5.0, port=port)
        assert not is_ready(None, check)  # bound, not listening: refused
        s.listen()
        assert is_ready(None, check)


def _store(c: RoleContext, stamp: float, name: str, text: str) -> None:
    sink = open_storage(c.logs_path())
    sink.write(LogRecord(stamp, "^", USER_LOG.CONSOLE, 9, name, text))
    sink.close()


def test_the_text_form_looks_at_records_since_the_start_and_not_at_ansars(tmp_path: Path):
    c = context(tmp_path, {"seconds": 5, "text": "Listening"})
    now = time.time()
    _store(c, now - 60.0, "server", "Listening on ('127.0.0.1', 65432)")  # an earlier execution
    _store(c, now, "ansar", 'Start "/bin/Listening"')
    scan = TextScan(c.logs_path(), "Listening", now - 1.0)
    assert not scan.found()
    _store(c, now + 0.5, "listen", "Listening on ('127.0.0.1', 65432)")
    assert scan.found()


def test_the_text_form_reads_on_from_the_last_record(tmp_path: Path):
    c = context(tmp_path)
    now = time.time()
    scan = TextScan(c.logs_path(), "ready now", now)
    assert not scan.found()  # no storage yet
    _store(c, now + 1.0, "server", "setting up")
    assert not scan.found()
    assert scan.since >= now + 0.99
    _store(c, now + 2.0, "server", "ready now")
    assert scan.found()


def test_a_watch_without_a_check_is_ready_at_once(tmp_path: Path):
    assert Watch(context(tmp_path), None, 0.0).poll() is True


def test_a_watch_waits_until_ready_then_stays_ready(tmp_path: Path):
    clock = Clock()
    answers = [False, True, False]
    watch = Watch(context(tmp_path, 2), ReadyCheck(seconds=2.0), 0.0, clock=clock,
                  look=lambda *a: answers.pop(0))
    assert watch.poll() is None
    clock.now += 1.0
    assert watch.poll() is True
    clock.now += 5.0
    assert watch.poll() is True  # no further look


def test_a_watch_is_overdue_after_its_seconds(tmp_path: Path):
    clock = Clock()
    watch = Watch(context(tmp_path, 2), ReadyCheck(seconds=2.0), 0.0, clock=clock, look=lambda *a: False)
    assert watch.poll() is None
    clock.now += 1.99
    assert watch.poll() is None
    clock.now += 0.01
    assert watch.poll() is False
    assert watch.why() == "not ready after 2.0s"
