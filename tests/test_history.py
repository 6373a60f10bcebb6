"""History of executions: the component's writes, the home's reading, ``ansar history`` and ``returned``."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from test_command_support import Ansar, ansar_fixture, home_fixture  # noqa: F401 - fixtures

import ansar.home._history as home_history
from ansar.create._history import KEEP, close_execution, open_execution
from ansar.create._role import HomeError, RoleContext
from ansar.create.log import format_time
from ansar.home import open_existing_home
from ansar.home._history import Execution, epoch_of, format_span, read_history, wait_execution

REPO = Path(__file__).resolve().parent.parent
ABORTED = ["ansar.create.lifecycle.Aborted", {}, []]
ACK = ["ansar.create.lifecycle.Ack", {}, []]


# --- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def role(home: Ansar) -> RoleContext:
    """The context of role noop-0 in a fresh home (made with ``ansar create`` and ``ansar add``)."""
    home.ok("add", "noop")
    return open_existing_home(str(home.home)).role("noop-0")


def history_file(context: RoleContext) -> Path:
    return Path(context.history_path())


def records_of(context: RoleContext) -> list[dict]:
    return json.loads(history_file(context).read_text())["value"]


def write_records(context: RoleContext, records: list[dict]) -> None:
    path = history_file(context)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps({"value": records}))


def exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def start_ticks(pid: int) -> int:
    """Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return int(data[data.rfind(b")") + 2:].split()[19])


@pytest.fixture
def running(role: RoleContext) -> Iterator[int]:
    """Make noop-0 look running as this process: its lock held and its pid file written."""
    os.makedirs(os.path.dirname(role.lock_path()), mode=0o700, exist_ok=True)
    fd = os.open(role.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    pid = os.getpid()
    Path(role.pid_path()).write_text(f"{pid} {start_ticks(pid)}\n")
    try:
        yield pid
    finally:
        os.close(fd)


def at(seconds_ago: float) -> str:
    return format_time(time.time() - seconds_ago)


# --- the component's side ------------------------------------------------------------------------------


def test_open_execution_appends_an_open_record(role: RoleContext) -> None:
    stamp = time.time()
    open_execution(role, 1234, stamp)
    assert records_of(role) == [{"start": format_time(stamp), "pid": 1234}]
    assert stat.S_IMODE(history_file(role).stat().st_mode) == 0o600


def test_close_execution_sets_end_and_value_on_its_open_record(role: RoleContext) -> None:
    open_execution(role, 1234, 1_800_000_000.0)
    close_execution(role, 1234, 1_800_000_002.5, ACK)
    assert records_of(role) == [{"start": "2027-01-15T08:00:00.000", "pid": 1234,
                                 "end": "2027-01-15T08:00:02.500", "value": ACK}]


def test_close_execution_without_a_value_leaves_it_absent(role: RoleContext) -> None:
    open_execution(role, 1234, 1_800_000_000.0)
    close_execution(role, 1234, 1_800_000_001.0, None)
    assert records_of(role) == [{"start": "2027-01-15T08:00:00.000", "pid": 1234, "end": "2027-01-15T08:00:01.000"}]


def test_close_execution_of_another_process_appends_a_closed_record(role: RoleContext) -> None:
    open_execution(role, 1234, 1_800_000_000.0)
    close_execution(role, 999, 1_800_000_001.0, ACK)
    assert records_of(role) == [
        {"start": "2027-01-15T08:00:00.000", "pid": 1234},
        {"start": "2027-01-15T08:00:01.000", "pid": 999, "end": "2027-01-15T08:00:01.000", "value": ACK},
    ]


def test_close_execution_without_a_history_file_keeps_the_value(role: RoleContext) -> None:
    close_execution(role, 999, 1_800_000_001.0, ABORTED)
    assert records_of(role)[0]["value"] == ABORTED


def test_open_execution_closes_a_record_left_open_by_a_lost_process(role: RoleContext) -> None:
    open_execution(role, 1111, 1_800_000_000.0)
    open_execution(role, 2222, 1_800_000_010.0)
    first, second = records_of(role)
    assert first["end"] == "2027-01-15T08:00:10.000"
    assert first["value"][0] == "ansar.create.lifecycle.Faulted"
    assert "process 1111 ended without a result" in first["value"][1]["condition"]
    assert second == {"start": "2027-01-15T08:00:10.000", "pid": 2222}


def test_history_keeps_the_last_128_executions(role: RoleContext) -> None:
    for i in range(KEEP + 5):
        open_execution(role, 1000 + i, 1_800_000_000.0 + i)
        close_execution(role, 1000 + i, 1_800_000_000.5 + i, ACK)
    records = records_of(role)
    assert KEEP == 128 and len(records) == KEEP
    assert records[0]["pid"] == 1005 and records[-1]["pid"] == 1000 + KEEP + 4


@pytest.mark.parametrize("content", ["not json", '{"value": {}}', '{"value": [{"pid": 1}]}',
                                     '{"value": [{"start": "x", "pid": true}]}', '[]'])
def test_a_damaged_history_file_is_kept_aside_and_a_new_one_started(
    role: RoleContext, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = history_file(role)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(content)
    open_execution(role, 1234, 1_800_000_000.0)
    assert Path(str(path) + ".damaged").read_text() == content
    assert records_of(role) == [{"start": "2027-01-15T08:00:00.000", "pid": 1234}]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err and str(path) in err


def test_a_history_that_cannot_be_written_does_not_stop_the_component(
    role: RoleContext, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(role.history_path()).mkdir(parents=True)  # a folder where the file should be
    open_execution(role, 1234, 1_800_000_000.0)
    close_execution(role, 1234, 1_800_000_001.0, ACK)
    assert "cannot keep history" in capsys.readouterr().err


def test_the_runtime_side_loads_neither_msgspec_nor_psutil() -> None:
    code = ("import sys; import ansar.create._history; "
            "print(sorted(m for m in ('msgspec', 'psutil', 'filelock') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


# --- the home's side ----------------------------------------------------------------------------------


def test_a_role_that_never_ran_has_no_history(role: RoleContext) -> None:
    assert read_history(role) == []


def test_read_history_decodes_the_records_oldest_first(role: RoleContext) -> None:
    open_execution(role, 1234, 1_800_000_000.0)
    close_execution(role, 1234, 1_800_000_001.0, ABORTED)
    open_execution(role, 1250, 1_800_000_002.0)
    close_execution(role, 1250, 1_800_000_003.0, None)
    assert read_history(role) == [
        Execution("2027-01-15T08:00:00.000", 1234, "2027-01-15T08:00:01.000", ABORTED),
        Execution("2027-01-15T08:00:02.000", 1250, "2027-01-15T08:00:03.000"),
    ]


def test_a_lost_process_is_closed_as_faulted_and_written_back(role: RoleContext) -> None:
    pid = exited_pid()
    write_records(role, [{"start": at(60), "pid": pid}])
    before = time.time()
    (record,) = read_history(role)
    after = time.time()
    assert record.value == ["ansar.create.lifecycle.Faulted",
                            {"condition": f"process {pid} ended without a result (killed or lost)",
                             "explanation": "lost"}, []]
    assert record.end is not None and before - 0.001 <= epoch_of(record.end) <= after
    assert records_of(role) == [{"start": record.start, "pid": pid, "end": record.end, "value": record.value}]
    assert stat.S_IMODE(history_file(role).stat().st_mode) == 0o600


def test_without_close_stale_open_records_are_left_alone(role: RoleContext) -> None:
    write_records(role, [{"start": at(60), "pid": exited_pid()}])
    before = history_file(role).read_bytes()
    assert read_history(role, close_stale=False)[0].end is None
    assert history_file(role).read_bytes() == before


def test_the_open_record_of_a_running_role_stays_open(role: RoleContext, running: int) -> None:
    lost = exited_pid()
    write_records(role, [{"start": at(60), "pid": lost}, {"start": at(30), "pid": running}])
    before = history_file(role).read_bytes()
    earlier, latest = read_history(role)
    assert latest.end is None and latest.pid == running
    # Only the last can be open while the role runs; the earlier one is reported lost...
    assert earlier.value[0] == "ansar.create.lifecycle.Faulted" and str(lost) in earlier.value[1]["condition"]
    # ...but nothing is written while another holds the role lock.
    assert history_file(role).read_bytes() == before


def test_an_open_record_is_closed_once_the_role_has_stopped(role: RoleContext) -> None:
    write_records(role, [{"start": at(30), "pid": os.getpid()}])
    os.makedirs(os.path.dirname(role.lock_path()), mode=0o700, exist_ok=True)
    fd = os.open(role.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert read_history(role)[0].end is None
    finally:
        os.close(fd)
    assert read_history(role)[0].value[0] == "ansar.create.lifecycle.Faulted"


@pytest.mark.parametrize("content", ["not json", '{"value": [{"start": "x", "pid": 1}]}',
                                     '{"value": [{"start": "2027-01-15T08:00:00.000", "pid": "1"}]}',
                                     '{"value": [{"start": "2027-01-15T08:00:00.000", "pid": 1, "extra": 0}]}'])
def test_a_damaged_history_is_a_home_error_naming_the_file(role: RoleContext, content: str) -> None:
    history_file(role).parent.mkdir(mode=0o700, exist_ok=True)
    history_file(role).write_text(content)
    with pytest.raises(HomeError) as caught:
        read_history(role)
    text = str(caught.value)
    assert text.startswith(f"{role.history_path()}: damaged") and "\n" not in text


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0.0s"), (12.7, "12.7s"), (59.94, "59.9s"), (59.96, "1m0.0s"), (65.4, "1m5.4s"), (106.3, "1m46.3s"),
     (3599.9, "59m59.9s"), (3600, "1h0m"), (27000, "7h30m"), (86399, "23h59m"), (90000, "1d1h"),
     (10 * 86400, "10d0h"), (-5, "0.0s")],
)
def test_format_span_is_the_tours_form(seconds: float, text: str) -> None:
    assert format_span(seconds) == text


def test_epoch_of_reads_what_format_time_writes() -> None:
    assert epoch_of(format_time(1_800_000_000.25)) == 1_800_000_000.25
    with pytest.raises(ValueError):
        epoch_of("yesterday")


class Handover:
    """Stands in for the pause between looks: tells the test a wait has begun, then waits its turn."""

    def __init__(self) -> None:
        self.waiting = threading.Event()
        self.changed = threading.Event()
        self.naps = 0

    def nap(self, seconds: float) -> None:
        self.naps += 1
        self.waiting.set()
        assert self.changed.wait(timeout=10), "the file was not changed"


def close_later(role: RoleContext, pid: int, handover: Handover, value: Any) -> threading.Thread:
    """A thread that closes the record as its process would, once the wait has begun."""

    def close() -> None:
        assert handover.waiting.wait(timeout=10)
        close_execution(role, pid, time.time(), value)
        handover.changed.set()

    thread = threading.Thread(target=close)
    thread.start()
    return thread


def test_wait_execution_returns_the_record_once_it_is_closed(
    role: RoleContext, running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_execution(role, running, time.time())
    handover = Handover()
    monkeypatch.setattr(home_history, "_nap", handover.nap)
    thread = close_later(role, running, handover, ACK)
    (execution,) = read_history(role)
    found = wait_execution(role, execution, seconds=30)
    thread.join()
    assert found is not None and found.value == ACK and handover.naps == 1


def test_wait_execution_gives_up_after_its_seconds(
    role: RoleContext, running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_execution(role, running, time.time())
    now = [100.0]

    def nap(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(home_history, "_nap", nap)
    (execution,) = read_history(role)
    assert wait_execution(role, execution, seconds=1.0, clock=lambda: now[0]) is None
    assert now[0] == pytest.approx(101.0)


# --- ansar history -----------------------------------------------------------------------------------


def test_history_lists_executions_oldest_first(home: Ansar, role: RoleContext) -> None:
    write_records(role, [
        {"start": at(27010), "pid": 1, "end": at(27010 - 65.4), "value": ABORTED},
        {"start": at(284.6), "pid": 2, "end": at(284.6 - 274.3), "value": ABORTED},
        {"start": at(20), "pid": 3, "end": at(19), "value": ["examples.lib.Report", {"n": 1}, []]},
        {"start": at(10), "pid": 4, "end": at(9)},
    ])
    out = home.ok("history", "noop-0").splitlines()
    assert out[0] == "[0] 7h30m ago ... 1m5.4s (Aborted)"
    assert out[1].startswith("[1] 4m4") and out[1].endswith(" ago ... 4m34.3s (Aborted)")
    assert out[2].endswith("... 1.0s (Report)") and out[3].endswith("... 1.0s (no value)")
    assert len(out) == 4


def test_history_shows_the_running_execution(home: Ansar, role: RoleContext, running: int) -> None:
    write_records(role, [{"start": at(65), "pid": 1, "end": at(60), "value": ACK},
                         {"start": at(12.7), "pid": running}])
    out = home.ok("history", "noop-0").splitlines()
    assert out[0].endswith(" ago ... 5.0s (Ack)")
    assert out[1].startswith("[1] 12.") and out[1].endswith(" ago ... (running)")


def test_history_closes_a_lost_execution(home: Ansar, role: RoleContext) -> None:
    write_records(role, [{"start": at(5), "pid": exited_pid()}])
    assert home.ok("history", "noop-0").endswith("(Faulted)\n")


def test_history_takes_the_home_as_the_word_after_the_role(home: Ansar, role: RoleContext,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    write_records(role, [{"start": at(5), "pid": 1, "end": at(4), "value": ACK}])
    monkeypatch.chdir("/")
    assert home.ok("history", "noop-0", str(home.home)).endswith("(Ack)\n")
    assert home.ok("history", "noop-0", f"--home-path={home.home}").endswith("(Ack)\n")


def test_history_of_a_role_that_never_ran_prints_nothing(home: Ansar, role: RoleContext) -> None:
    assert home.ok("history", "noop-0") == ""


def test_history_refuses_an_unknown_role(home: Ansar) -> None:
    assert home.refused(1, "history", "nobody") == f'ansar: role "nobody" not found in {home.home}'


def test_history_refuses_without_a_home(ansar: Ansar) -> None:
    assert ansar.refused(1, "history", "noop-0").startswith("ansar: ")


def test_history_names_a_damaged_file(home: Ansar, role: RoleContext) -> None:
    write_records(role, [])
    history_file(role).write_text("{")
    assert home.refused(1, "history", "noop-0").startswith(f"ansar: {role.history_path()}: damaged")


# --- ansar returned ----------------------------------------------------------------------------------


def test_returned_prints_the_latest_value_indented(home: Ansar, role: RoleContext) -> None:
    write_records(role, [{"start": at(9), "pid": 1, "end": at(8), "value": ACK},
                         {"start": at(5), "pid": 2, "end": at(4), "value": ABORTED}])
    assert home.ok("returned", "noop-0") == (
        '{\n    "value": [\n        "ansar.create.lifecycle.Aborted",\n        {},\n        []\n    ]\n}\n'
    )


@pytest.mark.parametrize("start, pid", [("0", 1), ("1", 2), ("2", 3), ("-1", 3), ("-3", 1)])
def test_returned_start_counts_from_0_and_negatives_from_the_end(
    home: Ansar, role: RoleContext, start: str, pid: int
) -> None:
    write_records(role, [{"start": at(9 - i), "pid": i, "end": at(8 - i), "value": ["int", i, []]} for i in (1, 2, 3)])
    assert json.loads(home.ok("returned", "noop-0", f"--start={start}")) == {"value": ["int", pid, []]}


@pytest.mark.parametrize("start", ["3", "-4"])
def test_returned_start_out_of_range_names_the_range(home: Ansar, role: RoleContext, start: str) -> None:
    write_records(role, [{"start": at(9 - i), "pid": i, "end": at(8 - i), "value": ACK} for i in (1, 2, 3)])
    assert home.refused(1, "returned", "noop-0", f"--start={start}") == (
        f'ansar: returned: --start={start} is out of range for "noop-0" (3 executions: 0 to 2, or -3 to -1)'
    )


def test_returned_of_a_role_that_has_not_run_is_refused(home: Ansar, role: RoleContext) -> None:
    assert "has not run" in home.refused(1, "returned", "noop-0")
    assert "has not run" in home.refused(1, "returned", "noop-0", "--start=0")


def test_returned_of_an_unknown_role_is_refused(home: Ansar) -> None:
    assert home.refused(1, "returned", "nobody") == f'ansar: role "nobody" not found in {home.home}'


def test_returned_of_an_execution_without_a_value_is_refused(home: Ansar, role: RoleContext) -> None:
    write_records(role, [{"start": at(9), "pid": 1, "end": at(8)}])
    assert home.refused(1, "returned", "noop-0") == 'ansar: execution 0 of "noop-0" ended without a value'


@pytest.mark.parametrize("timeout", ["x", "-1", "nan", "inf", ""])
def test_returned_timeout_must_be_seconds(home: Ansar, role: RoleContext, timeout: str) -> None:
    assert home.refused(2, "returned", "noop-0", f"--timeout={timeout}").startswith("ansar: returned: ")


@pytest.mark.parametrize("timeout", ["2", "2.0"])
def test_returned_timeout_takes_int_or_float_seconds(home: Ansar, role: RoleContext, timeout: str) -> None:
    write_records(role, [{"start": at(9), "pid": 1, "end": at(8), "value": ACK}])
    assert json.loads(home.ok("returned", "noop-0", f"--timeout={timeout}")) == {"value": ACK}


def test_returned_waits_for_the_running_execution(
    home: Ansar, role: RoleContext, running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_execution(role, running, time.time())
    handover = Handover()
    monkeypatch.setattr(home_history, "_nap", handover.nap)
    thread = close_later(role, running, handover, ABORTED)
    out = home.ok("returned", "noop-0")
    thread.join()
    assert json.loads(out) == {"value": ABORTED} and handover.naps == 1


def test_returned_waits_for_a_role_that_is_killed(
    home: Ansar, role: RoleContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock goes with the process: the next look finds the record lost and the wait ends."""
    os.makedirs(os.path.dirname(role.lock_path()), mode=0o700, exist_ok=True)
    lock = os.open(role.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    pid = os.getpid()
    Path(role.pid_path()).write_text(f"{pid} {start_ticks(pid)}\n")
    open_execution(role, pid, time.time())
    handover = Handover()
    monkeypatch.setattr(home_history, "_nap", handover.nap)

    def lose() -> None:
        assert handover.waiting.wait(timeout=10)
        os.close(lock)
        handover.changed.set()

    thread = threading.Thread(target=lose)
    thread.start()
    value = json.loads(home.ok("returned", "noop-0"))["value"]
    thread.join()
    assert value[0] == "ansar.create.lifecycle.Faulted" and f"process {pid}" in value[1]["condition"]


def test_returned_gives_up_after_the_timeout(home: Ansar, role: RoleContext, running: int) -> None:
    open_execution(role, running, time.time())
    assert home.refused(1, "returned", "noop-0", "--timeout=0") == (
        'ansar: "noop-0" is still running after 0 seconds (execution 0)'
    )


def test_returned_ctrl_c_ends_the_wait_only(
    home: Ansar, role: RoleContext, running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_execution(role, running, time.time())

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(home_history, "_nap", interrupt)
    before = history_file(role).read_bytes()
    assert home.refused(130, "returned", "noop-0") == 'ansar: stopped waiting for "noop-0" (it is still running)'
    assert history_file(role).read_bytes() == before


# --- with the examples ---------------------------------------------------------------------------------


@pytest.fixture
def examples(ansar: Ansar, tool_path: str, monkeypatch: pytest.MonkeyPatch) -> Ansar:
    """A home whose bin is the repository's launchers."""
    monkeypatch.setenv("PATH", tool_path)
    ansar.ok("create", f"--redirect-bin={REPO / 'bin'}")
    return ansar


def component(ansar: Ansar, executable: str, role: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen([str(REPO / "bin" / executable), f"--home-path={ansar.home}", f"--role-name={role}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def started(ansar: Ansar, executable: str, role: str) -> subprocess.Popen:
    """A component in its own session, returned once it says it is ready (its history opened before that)."""
    ready, tell = os.pipe()
    try:
        child = component(ansar, executable, role, start_new_session=True, pass_fds=(tell,),
                          env=dict(os.environ, ANSAR_READY_FD=str(tell)))
    finally:
        os.close(tell)
    try:
        assert os.read(ready, 1) == b"!"  # the component says it is ready (and closes its end)
    finally:
        os.close(ready)
    return child


def test_each_execution_of_a_component_is_recorded_with_its_value(examples: Ansar) -> None:
    examples.ok("add", "noop")
    for _ in range(2):
        child = component(examples, "noop", "noop-0")
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
    lines = examples.ok("history", "noop-0").splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["[0]", "[1]"] and all(line.endswith("(Ack)") for line in lines)
    assert json.loads(examples.ok("returned", "noop-0", "--start=0")) == {"value": ACK}


def test_a_killed_component_is_recorded_as_faulted(examples: Ansar) -> None:
    examples.ok("add", "zombie")
    child = started(examples, "zombie", "zombie-0")
    context = open_existing_home(str(examples.home)).role("zombie-0")
    (record,) = records_of(context)
    assert child.poll() is None and record == {"start": record["start"], "pid": child.pid}
    assert examples.ok("history", "zombie-0").endswith(" ago ... (running)\n")
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)
    value = json.loads(examples.ok("returned", "zombie-0"))["value"]
    assert value == ["ansar.create.lifecycle.Faulted",
                     {"condition": f"process {child.pid} ended without a result (killed or lost)",
                      "explanation": "lost"}, []]
    assert examples.ok("history", "zombie-0").endswith("(Faulted)\n")
