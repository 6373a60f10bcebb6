"""Log storage: the runtime's sink, time and span parsing, reading windows, ``ansar log``."""

from __future__ import annotations

import calendar
import json
import os
import random
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from test_command_support import Ansar, ansar_fixture, home_fixture  # noqa: F401 - fixtures

from ansar.create import _logstore
from ansar.create._logstore import StorageSink, current_file, file_limit, log_files
from ansar.create.log import LogRecord, format_record, format_time
from ansar.home import BadValue, HomeError, _logs
from ansar.home._logs import Window, read_window, resolve_window, to_local
from ansar.home._timespec import parse_span, parse_time, period_start

REPO = Path(__file__).resolve().parent.parent
T0 = calendar.timegm((2026, 12, 3, 17, 47, 23, 0, 0, 0)) + 0.5  # a Thursday


def record(stamp: float, text: str, name: str = "snooze") -> LogRecord:
    return LogRecord(stamp, "^", 3, 9, name, text)


def line(stamp: float, text: str) -> str:
    return format_record(record(stamp, text)) + "\n"


def contents(folder: Path) -> str:
    return "".join((folder / name).read_text() for name in log_files(str(folder)))


def write_log(folder: Path, sequence: int, first: float, text: str) -> Path:
    """A log file written by hand: named for time ``first``, holding ``text``."""
    folder.mkdir(parents=True, exist_ok=True)
    name = format_time(first).replace("-", "").replace(":", "") + f"-{sequence:06d}.log"
    path = folder / name
    path.write_text(text)
    return path


def window_text(folder: Path, window: Window) -> str:
    return b"".join(read_window(str(folder), window)).decode()


@pytest.fixture
def zone() -> Iterator[None]:
    """Local time is India's (+05:30, no daylight saving) for the test."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def run_child(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(folder)], env=env,
                          capture_output=True, text=True, timeout=30)


# The sink.


def test_sink_writes_one_formatted_line_per_record_in_private_files(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "snooze-0"
    sink = StorageSink(str(folder))
    sink.write(record(T0, "Do nothing for 2.0 seconds"))
    sink.write(record(T0 + 1, "again"))
    sink.close()
    assert contents(folder) == line(T0, "Do nothing for 2.0 seconds") + line(T0 + 1, "again")
    assert contents(folder).startswith("2026-12-03T17:47:23.500 ^ <00000009>snooze - Do nothing")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [stat.S_IMODE((folder / n).stat().st_mode) for n in log_files(str(folder))] == [0o600]


def test_file_limit_is_an_eighth_of_the_cap_up_to_8_mib() -> None:
    assert file_limit(_logstore.DEFAULT_CAP) == 8 * 1024 * 1024
    assert file_limit(1024 * 1024 * 1024) == 8 * 1024 * 1024
    assert file_limit(8000) == 1000
    assert file_limit(1) == 1


def test_sink_starts_a_new_file_when_one_is_full_and_names_sort_by_time(tmp_path: Path) -> None:
    sink = StorageSink(str(tmp_path), cap=80_000)  # files of 10,000 bytes
    texts = [f"record {i:05d} " + "x" * 60 for i in range(600)]
    for i, text in enumerate(texts):
        sink.write(record(time.time() + i * 0.001, text))
    names = log_files(str(tmp_path))
    assert len(names) > 3
    assert names == sorted(names, key=lambda n: (n[:19], int(n[20:-4])))
    sizes = [(tmp_path / n).stat().st_size for n in names]
    assert all(size <= 10_000 for size in sizes)
    assert all(size > 10_000 - 100 for size in sizes[:-1])  # full but for less than a line
    for name in names:  # each file begins with a whole record
        assert _logs._STAMP.match((tmp_path / name).read_bytes())


def test_sink_keeps_the_folder_within_the_cap_removing_the_oldest_files(tmp_path: Path) -> None:
    cap = 40_000
    sink = StorageSink(str(tmp_path), cap=cap)
    for i in range(3000):
        sink.write(record(T0 + i, f"record {i:05d} " + "y" * 40))
        total = sum((tmp_path / n).stat().st_size for n in log_files(str(tmp_path)))
        assert total <= cap + file_limit(cap)
    kept = contents(tmp_path).splitlines()
    numbers = [int(k.split("record ")[1][:5]) for k in kept]
    assert numbers == list(range(numbers[0], 3000))  # the newest, none missing between
    assert sum((tmp_path / n).stat().st_size for n in log_files(str(tmp_path))) <= cap


def test_a_line_longer_than_a_file_gets_a_file_of_its_own(tmp_path: Path) -> None:
    sink = StorageSink(str(tmp_path), cap=800)  # files of 100 bytes
    sink.write(record(T0, "short"))
    sink.write(record(T0 + 1, "z" * 500))
    sink.write(record(T0 + 2, "short again"))
    names = log_files(str(tmp_path))
    assert [(tmp_path / n).read_text() for n in names][-2:] == [line(T0 + 1, "z" * 500), line(T0 + 2, "short again")]


def test_a_new_sink_continues_the_current_file(tmp_path: Path) -> None:
    StorageSink(str(tmp_path)).write(record(T0, "first run"))
    StorageSink(str(tmp_path)).write(record(T0 + 1, "second run"))
    assert len(log_files(str(tmp_path))) == 1
    assert contents(tmp_path) == line(T0, "first run") + line(T0 + 1, "second run")


def test_current_file_creates_the_folder_and_is_the_file_the_sink_then_uses(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "snooze-0"
    path = current_file(str(folder))
    assert os.path.dirname(path) == str(folder) and os.path.exists(path)
    assert current_file(str(folder)) == path
    sink = StorageSink(str(folder))
    assert sink.path == path


def test_current_file_starts_a_new_file_when_the_last_is_full(tmp_path: Path) -> None:
    full = current_file(str(tmp_path), cap=800)
    Path(full).write_text("x" * 100)
    fresh = current_file(str(tmp_path), cap=800)
    assert fresh != full and log_files(str(tmp_path))[-1] == os.path.basename(fresh)


def test_file_names_never_sort_before_an_older_file_even_if_the_clock_steps_back(tmp_path: Path) -> None:
    later = write_log(tmp_path, 4, time.time() + 3600, line(T0, "from the future") * 3)
    path = current_file(str(tmp_path), cap=800)  # the file from the future is full
    assert log_files(str(tmp_path)) == [later.name, os.path.basename(path)]


def test_sink_is_safe_for_threads_writing_at_once(tmp_path: Path) -> None:
    sink = StorageSink(str(tmp_path), cap=200_000)
    go = threading.Event()

    def writer(n: int) -> None:
        go.wait()
        for i in range(400):
            sink.write(record(T0, f"thread {n} record {i}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    lines = contents(tmp_path).splitlines()
    assert len(lines) == 2400
    assert all(k.startswith("2026-12-03T17:47:23.500 ^ <00000009>snooze - thread ") for k in lines)


def test_lines_that_cannot_be_written_are_counted_and_reported_once_writing_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = StorageSink(str(tmp_path))
    sink.write(record(T0, "before"))

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_logstore, "_os_write", full)
    for i in range(3):
        sink.write(record(T0 + 1, f"lost {i}"))
    monkeypatch.setattr(_logstore, "_os_write", os.write)
    sink.write(record(T0 + 2, "after"))
    assert contents(tmp_path).splitlines() == [
        line(T0, "before").strip(),
        "2026-12-03T17:47:25.500 ? <00000000>logstore - 3 records lost (No space left on device)",
        line(T0 + 2, "after").strip(),
    ]


def test_a_line_cut_short_is_lost_and_the_next_starts_on_a_fresh_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = StorageSink(str(tmp_path))
    monkeypatch.setattr(_logstore, "_os_write", lambda fd, data: os.write(fd, data[:10]))
    sink.write(record(T0, "torn"))
    monkeypatch.setattr(_logstore, "_os_write", os.write)
    sink.write(record(T0 + 1, "whole"))
    assert contents(tmp_path).splitlines() == [
        "2026-12-03",
        "2026-12-03T17:47:24.500 ? <00000000>logstore - 1 records lost (No space left on device)",
        line(T0 + 1, "whole").strip(),
    ]


def test_a_file_size_limit_loses_records_until_it_is_lifted(tmp_path: Path) -> None:
    done = run_child("""
        import os, resource, signal, sys
        from ansar.create._logstore import StorageSink
        from ansar.create.log import LogRecord
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        sink = StorageSink(sys.argv[1])
        sink.write(LogRecord(1e9, "^", 3, 9, "child", "before"))
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(sink.path), hard))
        for i in range(4):
            sink.write(LogRecord(1e9 + 1, "^", 3, 9, "child", "lost"))
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        sink.write(LogRecord(1e9 + 2, "^", 3, 9, "child", "after"))
    """, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert contents(tmp_path).splitlines() == [
        "2001-09-09T01:46:40.000 ^ <00000009>child - before",
        "2001-09-09T01:46:42.000 ? <00000000>logstore - 4 records lost (File too large)",
        "2001-09-09T01:46:42.000 ^ <00000009>child - after",
    ]


def test_stdio_sends_prints_and_tracebacks_to_the_current_file(tmp_path: Path) -> None:
    done = run_child("""
        import os, sys, time
        from ansar.create._logstore import StorageSink
        from ansar.create.log import LogRecord
        sink = StorageSink(sys.argv[1], cap=8000, stdio=True)  # files of 1000 bytes
        print("printed into the first file")
        for i in range(40):
            sink.write(LogRecord(time.time(), "^", 3, 9, "child", "filler " + "f" * 50))
        print("printed into the last file")
        os.write(2, b"written to fd 2\\n")
        raise RuntimeError("boom")
    """, tmp_path)
    assert done.returncode == 1
    assert (done.stdout, done.stderr) == ("", "")  # everything went to storage
    names = log_files(str(tmp_path))
    assert len(names) > 2
    first, last = (tmp_path / names[0]).read_text(), (tmp_path / names[-1]).read_text()
    assert first.startswith("printed into the first file\n")
    # Descriptor 2 goes through a pipe, read before Python's next line: the order is kept.
    assert "printed into the last file\nwritten to fd 2\nTraceback (most recent call last):" in last
    assert last.endswith("RuntimeError: boom\n")
    assert "printed" not in "".join((tmp_path / n).read_text() for n in names[1:-1])


def test_stdio_of_the_process_and_its_children_stays_under_the_cap(tmp_path: Path) -> None:
    done = run_child("""
        import os, subprocess, sys
        from ansar.create._logstore import StorageSink
        sink = StorageSink(sys.argv[1], cap=80_000, stdio=True)  # files of 10,000 bytes
        for i in range(100):
            os.write(1, b"y" * 25_000 + b"\\n")  # lines longer than a file
            os.write(2, b"\\xff\\xfe" * 100 + b"\\n")
        subprocess.run([sys.executable, "-c", "print('from a child ' * 2000)"], check=True)
        print("the last line")
    """, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    names = log_files(str(tmp_path))
    sizes = [(tmp_path / n).stat().st_size for n in names]
    assert max(sizes) <= 10_000, sizes
    assert sum(sizes) <= 80_000 + 10_000, sizes
    everything = b"".join((tmp_path / n).read_bytes() for n in names)
    assert everything.endswith(b"the last line\n")
    assert b"from a child from a child" in everything


# Times and spans.


@pytest.mark.parametrize("text, seconds", [
    ("10s", 10.0), ("2m30.5s", 150.5), ("1h", 3600.0), ("1d", 86400.0), ("1h30m", 5400.0),
    ("1d1h", 90000.0), ("0.5s", 0.5), ("90m", 5400.0), ("1d2h3m4.25s", 93784.25),
])
def test_spans_are_days_hours_minutes_and_seconds(text: str, seconds: float) -> None:
    assert parse_span(text, "back") == seconds


@pytest.mark.parametrize("text", ["", "10", "s", "1x", "1s1m", "-5s", "1h 30m", "1.2.3s", "one hour"])
def test_a_malformed_span_names_the_setting_and_the_form(text: str) -> None:
    with pytest.raises(BadValue) as caught:
        parse_span(text, "span")
    assert str(caught.value) == f'"--span={text}" is not a span such as 10s, 2m30.5s, 1h30m or 1d'


@pytest.mark.parametrize("text, expected", [
    ("2026-12-03T17:47:23.5", T0), ("2026-12-03T17:47:23.500", T0), ("2026-12-03 17:47:23.5", T0),
    ("2026-12-03T17:47", T0 - 23.5), ("2026-12-03", T0 - (17 * 3600 + 47 * 60 + 23.5)),
    ("2026-12-03T17:47:23.5Z", T0), ("2026-12-03T19:47:23.5+02:00", T0), ("2026-12-03T12:17:23.5-0530", T0),
])
def test_iso_times_are_utc_unless_they_say_otherwise(text: str, expected: float) -> None:
    assert parse_time(text, "from") == pytest.approx(expected)


def test_iso_times_are_local_with_the_clock(zone: None) -> None:
    assert parse_time("2026-12-03T23:17:23.5", "to", local=True) == pytest.approx(T0)
    assert parse_time("2026-12-03T17:47:23.5Z", "to", local=True) == pytest.approx(T0)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-02-30", "2026-12-03T25:00", "17:00",
                                  "2026-12-03T17", "2026/12/03"])
def test_a_malformed_time_names_the_setting_and_the_form(text: str) -> None:
    with pytest.raises(BadValue) as caught:
        parse_time(text, "from")
    assert str(caught.value).startswith(f'"--from={text}" is not an ISO 8601 time such as 2026-12-03T17:00:00.123')


@pytest.mark.parametrize("period, start", [
    ("MONTH", "2026-12-01T00:00:00.000"), ("WEEK", "2026-11-30T00:00:00.000"), ("DAY", "2026-12-03T00:00:00.000"),
    ("HOUR", "2026-12-03T17:00:00.000"), ("HALF", "2026-12-03T17:30:00.000"),
    ("QUARTER", "2026-12-03T17:45:00.000"), ("TEN", "2026-12-03T17:40:00.000"),
    ("FIVE", "2026-12-03T17:45:00.000"), ("MINUTE", "2026-12-03T17:47:00.000"),
])
def test_last_is_the_start_of_the_current_period(period: str, start: str) -> None:
    assert format_time(period_start(period, T0)) == start


def test_a_week_starts_on_monday_even_across_a_month_and_on_monday_itself() -> None:
    monday = calendar.timegm((2026, 11, 30, 9, 0, 0, 0, 0, 0))
    assert format_time(period_start("WEEK", monday)) == "2026-11-30T00:00:00.000"
    sunday = calendar.timegm((2027, 1, 3, 23, 59, 59, 0, 0, 0))
    assert format_time(period_start("WEEK", sunday)) == "2026-12-28T00:00:00.000"


def test_periods_start_in_local_time_with_the_clock(zone: None) -> None:
    # 17:47:23 UTC is 23:17:23 in Kolkata.
    assert format_time(period_start("HOUR", T0, local=True), local=True) == "2026-12-03T23:00:00.000"
    assert format_time(period_start("DAY", T0, local=True)) == "2026-12-02T18:30:00.000"
    assert format_time(period_start("QUARTER", T0, local=True), local=True) == "2026-12-03T23:15:00.000"


@pytest.mark.parametrize("date", [(1970, 1, 1), (2000, 2, 29), (2024, 3, 1), (2100, 2, 28), (1969, 12, 31),
                                  (2026, 12, 3, 17, 47, 23), (9999, 12, 31, 23, 59, 59)])
def test_utc_seconds_agree_with_calendar_timegm(date: tuple) -> None:
    from ansar.home._timespec import utc_seconds

    assert utc_seconds(*date) == calendar.timegm(date + (0,) * (9 - len(date)))


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(BadValue, match='"--last=YEAR" is not one of MONTH, WEEK'):
        period_start("YEAR", T0)


# Choosing the window.


class FakeExecution:
    def __init__(self, start: str) -> None:
        self.start = start


HISTORY = [FakeExecution("2026-12-03T10:00:00.000"), FakeExecution("2026-12-03T11:00:00.000"),
           FakeExecution("2026-12-03T12:00:00.000")]


def window(**options: object) -> Window:
    from ansar.create._role import RoleContext

    context = RoleContext("/nowhere", None, "snooze-0", None)  # type: ignore[arg-type]
    return resolve_window(context, now=T0, history=lambda: HISTORY, **options)  # type: ignore[arg-type]


def test_the_default_window_is_the_last_five_minutes() -> None:
    assert window() == Window(T0 - 300.0)
    assert window(count=20) == Window(T0 - 300.0, None, 20)


def test_begin_and_end_options_make_the_window() -> None:
    assert window(back="1h", span="10m") == Window(T0 - 3600, T0 - 3000)
    assert window(last="HOUR", to="2026-12-03T17:30") == Window(T0 - 47 * 60 - 23.5, T0 - 17 * 60 - 23.5)
    assert window(from_="2026-12-03T17:47:23.5", count=3) == Window(T0, None, 3)


def test_start_runs_from_one_execution_to_the_next() -> None:
    ten, eleven, noon = (parse_time(e.start, "x") for e in HISTORY)
    assert window(start=0) == Window(ten, eleven)
    assert window(start=-1) == Window(noon, None)
    assert window(start=-3, span="5m") == Window(ten, ten + 300)
    assert window(start=1, count=5) == Window(eleven, None, 5)


@pytest.mark.parametrize("index", [3, -4, 100])
def test_start_out_of_range_is_a_home_error_not_a_usage_error(index: int) -> None:
    with pytest.raises(HomeError) as caught:
        window(start=index)
    assert not isinstance(caught.value, BadValue)
    assert str(caught.value) == f'role "snooze-0" has no execution {index} (its history holds 3: 0 to 2, or -3 to -1)'


@pytest.mark.parametrize("options, shown", [
    ({"last": "DAY", "back": "1h"}, "begin option of --last, --back, --from, --start (not --last=DAY and --back=1h)"),
    ({"from_": "2026-12-03", "start": 0}, "(not --from=2026-12-03 and --start=0)"),
    ({"to": "2026-12-03", "count": 5}, "end option of --to, --span, --count (not --to=2026-12-03 and --count=5)"),
    ({"span": "1h", "count": 5}, "(not --span=1h and --count=5)"),
])
def test_two_begin_or_two_end_options_are_refused(options: dict, shown: str) -> None:
    with pytest.raises(BadValue) as caught:
        window(**options)
    assert shown in str(caught.value)


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(BadValue, match="is not a number of records"):
        window(count=0)


# Reading a window from files written by hand.


def test_a_window_holds_the_records_from_begin_up_to_but_not_including_end(tmp_path: Path) -> None:
    write_log(tmp_path, 0, T0, "".join(line(T0 + i, f"r{i}") for i in range(10)))
    assert window_text(tmp_path, Window(T0 + 3, T0 + 6)) == "".join(line(T0 + i, f"r{i}") for i in (3, 4, 5))
    assert window_text(tmp_path, Window(T0 + 2.5, T0 + 3.5)) == line(T0 + 3, "r3")
    assert window_text(tmp_path, Window(T0 - 100)) == "".join(line(T0 + i, f"r{i}") for i in range(10))
    assert window_text(tmp_path, Window(T0 + 10)) == ""
    assert window_text(tmp_path, Window(T0 + 5, T0 + 5)) == ""
    assert window_text(tmp_path / "none", Window(T0)) == ""


def test_count_ends_after_that_many_records_across_files(tmp_path: Path) -> None:
    write_log(tmp_path, 0, T0, "".join(line(T0 + i, f"r{i}") for i in range(5)))
    write_log(tmp_path, 1, T0 + 5, "".join(line(T0 + i, f"r{i}") for i in range(5, 10)))
    assert window_text(tmp_path, Window(T0 + 3, None, 4)) == "".join(line(T0 + i, f"r{i}") for i in (3, 4, 5, 6))
    assert window_text(tmp_path, Window(T0 + 8, None, 20)) == line(T0 + 8, "r8") + line(T0 + 9, "r9")


def test_continuation_lines_go_with_the_record_before_them_even_in_the_next_file(tmp_path: Path) -> None:
    write_log(tmp_path, 0, T0, line(T0, "r0") + line(T0 + 1, "r1") + "printed\n")
    write_log(tmp_path, 1, T0 + 2, "Traceback (most recent call last):\n  boom\n" + line(T0 + 2, "r2") + "tail\n")
    assert window_text(tmp_path, Window(T0 + 1, None, 1)) == (
        line(T0 + 1, "r1") + "printed\nTraceback (most recent call last):\n  boom\n")
    assert window_text(tmp_path, Window(T0 + 1, T0 + 2)) == (
        line(T0 + 1, "r1") + "printed\nTraceback (most recent call last):\n  boom\n")
    assert window_text(tmp_path, Window(T0 + 1.5)) == line(T0 + 2, "r2") + "tail\n"


def test_lines_before_any_record_take_the_time_of_the_oldest_file(tmp_path: Path) -> None:
    write_log(tmp_path, 0, T0, "ImportError: no module named snooze\n")
    write_log(tmp_path, 1, T0 + 10, line(T0 + 10, "r10"))
    assert window_text(tmp_path, Window(T0 - 1, None, 1)) == "ImportError: no module named snooze\n"
    assert window_text(tmp_path, Window(T0, T0 + 11)) == "ImportError: no module named snooze\n" + line(T0 + 10, "r10")
    assert window_text(tmp_path, Window(T0 + 1)) == line(T0 + 10, "r10")


def test_a_last_line_without_its_newline_is_given_one(tmp_path: Path) -> None:
    write_log(tmp_path, 0, T0, line(T0, "r0") + line(T0 + 1, "half")[:-1])
    assert window_text(tmp_path, Window(T0 + 1)) == line(T0 + 1, "half")


def test_finding_the_first_record_reads_only_what_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for f in range(4):  # 4 files of about 4 MiB
        text = "".join(line(T0 + f * 100_000 + i, f"record {i} " + "w" * 40) for i in range(50_000))
        write_log(tmp_path, f, T0 + f * 100_000, text)
    read = []
    pread = os.pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        data = pread(fd, n, offset)
        read.append(len(data))
        return data

    monkeypatch.setattr(_logs.os, "pread", counting)
    got = window_text(tmp_path, Window(T0 + 200_000 + 25_000, None, 20))
    assert got.splitlines()[0].endswith("record 25000 " + "w" * 40) and len(got.splitlines()) == 20
    assert sum(read) < 100_000  # of 16 MiB


def _reference(folder: Path, window: Window) -> str:
    """The window found by reading every line."""
    records: list[tuple[str, str]] = []
    for k, name in enumerate(log_files(str(folder))):
        for text in (folder / name).read_text().splitlines(keepends=True):
            if _logs._STAMP.match(text.encode()):
                records.append((text[:23], text))
            elif records:
                records[-1] = (records[-1][0], records[-1][1] + text)
            elif k == 0:
                records.append((_logs._line_time(name).decode(), text))
    begin = format_time(window.begin)
    chosen = [(t, r) for t, r in records if t >= begin]
    if window.count is not None:
        chosen = chosen[:window.count]
    elif window.end is not None:
        end = format_time(window.end)
        chosen = [(t, r) for t, r in chosen if t < end]
    return "".join(r for _, r in chosen)


@pytest.mark.parametrize("small", [False, True])
def test_bisecting_finds_what_reading_every_line_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       small: bool) -> None:
    if small:  # reads shorter than a line: every boundary case of the bisect
        monkeypatch.setattr(_logs, "PROBE", 64)
        monkeypatch.setattr(_logs, "CHUNK", 128)
    rng = random.Random(12)
    stamp = T0
    for f in range(3):
        parts = ["orphan before any record\n"] if f == 0 else []
        first = stamp
        for _ in range(rng.randrange(300, 600)):
            stamp += rng.choice((0.0, 0.0004, 0.001, 0.25, 3.0))
            parts.append(line(stamp, "r" * rng.choice((1, 30, 200, 6000))))
            for _ in range(rng.choice((0, 0, 0, 1, 3))):
                parts.append(rng.choice(("printed\n", "  File \"x.py\", line 1\n", "c" * 5000 + "\n")))
        write_log(tmp_path, f, first, "".join(parts))
    for _ in range(150):
        begin = rng.uniform(T0 - 10, stamp + 10)
        if rng.random() < 0.5:
            w = Window(begin, None, rng.randrange(1, 40))
        else:
            w = Window(begin, begin + rng.choice((0.001, 1.0, 30.0, 1000.0)))
        assert window_text(tmp_path, w) == _reference(tmp_path, w), w


def test_to_local_turns_each_record_time_into_local_time(zone: None) -> None:
    piece = (line(T0, "r0") + "printed 2026-12-03T17:47:23.500 inside\n" + line(T0 + 3600, "r1")).encode()
    assert to_local(piece).decode() == (
        "2026-12-03T23:17:23.500 ^ <00000009>snooze - r0\nprinted 2026-12-03T17:47:23.500 inside\n"
        "2026-12-04T00:17:23.500 ^ <00000009>snooze - r1\n")


# The command.


def role_logs(home: Ansar, role: str = "snooze-0") -> Path:
    return home.home / "logs" / role


def recent(home: Ansar) -> float:
    """Write records for snooze-0 at 10 minutes ago, 2 minutes ago and 1 minute ago; return now."""
    now = time.time()
    write_log(role_logs(home), 0, now - 600, line(now - 600, "old") + line(now - 120, "newer") + line(now - 60, "new"))
    return now


@pytest.fixture
def snooze(home: Ansar) -> Ansar:
    home.ok("add", "snooze")
    return home


def test_log_prints_the_last_five_minutes_as_stored(snooze: Ansar) -> None:
    now = recent(snooze)
    assert snooze.ok("log", "snooze-0") == line(now - 120, "newer") + line(now - 60, "new")


def test_log_takes_the_home_as_the_word_after_the_role(snooze: Ansar, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    now = recent(snooze)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    home = str(snooze.home)
    assert snooze.ok("log", "snooze-0", home, "--count=1", "--back=11m") == line(now - 600, "old")
    assert snooze.ok("log", "--home-path=" + home, "snooze-0", "--back=11m", "--span=1m30s") == line(now - 600, "old")


def test_log_of_an_empty_window_prints_nothing(snooze: Ansar) -> None:
    recent(snooze)
    assert snooze.ok("log", "snooze-0", "--back=30s") == ""
    snooze.ok("add", "snooze", "quiet-{number}")
    assert snooze.ok("log", "quiet-0", "--last=MONTH") == ""


def test_log_with_the_clock_prints_and_reads_local_time(snooze: Ansar, zone: None) -> None:
    write_log(role_logs(snooze), 0, T0, line(T0, "r0") + line(T0 + 60, "r1"))
    assert snooze.ok("log", "snooze-0", "--clock", "--from=2026-12-03T23:18", "--to=2026-12-04") == (
        "2026-12-03T23:18:23.500 ^ <00000009>snooze - r1\n")
    assert snooze.ok("log", "snooze-0", "--from=2026-12-03T17:47", "--count=1") == line(T0, "r0")


def test_log_start_reads_one_execution_of_the_history(snooze: Ansar) -> None:
    write_log(role_logs(snooze), 0, T0, "".join(line(T0 + i, f"r{i}") for i in range(6)))
    executions = [{"start": format_time(T0 + 1), "pid": 10, "end": format_time(T0 + 2)},
                  {"start": format_time(T0 + 3), "pid": 11, "end": format_time(T0 + 4)}]
    history = snooze.home / "history" / "snooze-0.json"
    history.parent.mkdir(exist_ok=True)
    history.write_text(json.dumps({"value": executions}))
    assert snooze.ok("log", "snooze-0", "--start=0") == line(T0 + 1, "r1") + line(T0 + 2, "r2")
    assert snooze.ok("log", "snooze-0", "--start=-1") == "".join(line(T0 + i, f"r{i}") for i in (3, 4, 5))
    assert snooze.ok("log", "snooze-0", "--start=0", "--count=3") == "".join(line(T0 + i, f"r{i}") for i in (1, 2, 3))
    assert snooze.refused(1, "log", "snooze-0", "--start=2") == (
        'ansar: role "snooze-0" has no execution 2 (its history holds 2: 0 to 1, or -2 to -1)')


def test_log_of_an_unknown_role_or_home_fails(snooze: Ansar, tmp_path: Path) -> None:
    assert snooze.refused(1, "log", "nobody-0").startswith('ansar: role "nobody-0" not found in')
    assert snooze.refused(1, "log", "../role/snooze-0").startswith('ansar: role "../role/snooze-0" not found')
    assert snooze.refused(1, "log", "snooze-0", str(tmp_path / "no-home")).endswith("no such home")


@pytest.mark.parametrize("argv, text", [
    (["--last=YEAR"], '"--last=YEAR" is not one of MONTH'),
    (["--back=5x"], '"--back=5x" is not a span'),
    (["--span=soon"], '"--span=soon" is not a span'),
    (["--from=yesterday"], '"--from=yesterday" is not an ISO 8601 time'),
    (["--to=noon"], '"--to=noon" is not an ISO 8601 time'),
    (["--last=DAY", "--back=1h"], "at most one begin option"),
    (["--span=1h", "--count=3"], "at most one end option"),
    (["--count=0"], "is not a number of records"),
    (["--count=many"], '"--count=many" is not an int'),
    (["--bogus"], 'unknown setting "--bogus"'),
])
def test_log_refuses_bad_options_with_a_usage_line(snooze: Ansar, argv: list[str], text: str) -> None:
    assert text in snooze.refused(2, "log", "snooze-0", *argv)


def test_log_of_a_role_written_by_the_sink_round_trips(snooze: Ansar) -> None:
    sink = StorageSink(str(role_logs(snooze)))
    now = time.time()
    for i in range(5):
        sink.write(record(now - 5 + i, f"r{i}"))
    sink.close()
    assert snooze.ok("log", "snooze-0", "--count=2", "--back=3.5s") == line(now - 3, "r2") + line(now - 2, "r3")


def test_open_current_removes_the_file_it_made_when_the_first_record_cannot_be_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(tmp_path / "logs")
    fd = _logstore.open_current(folder, b"first\n")
    os.close(fd)
    assert [Path(folder, n).read_bytes() for n in log_files(folder)] == [b"first\n"]
    monkeypatch.setattr(_logstore, "_os_write", lambda fd, data: 0)  # the disk is full
    with pytest.raises(OSError):
        _logstore.open_current(folder, b"second\n")
    assert [Path(folder, n).read_bytes() for n in log_files(folder)] == [b"first\n"]  # the file kept
    os.rename(Path(folder, log_files(folder)[0]), Path(folder, "20000101T000000.000-000000.log"))
    Path(folder, "20000101T000000.000-000000.log").write_bytes(b"x" * file_limit(_logstore.DEFAULT_CAP))
    with pytest.raises(OSError):
        _logstore.open_current(folder, b"third\n")  # a new file was needed: it goes again
    assert log_files(folder) == ["20000101T000000.000-000000.log"]


def test_a_closed_storage_starts_no_next_file(tmp_path: Path) -> None:
    sink = StorageSink(str(tmp_path), cap=800)  # files of 100 bytes
    sink.write_raw(b"x" * 90 + b"\n")
    sink.close()
    sink.write_raw(b"y" * 200 + b"\n")  # would not fit: a next file, were the storage open
    sink.write(record(T0, "after the close"))
    assert len(log_files(str(tmp_path))) == 1
    assert contents(tmp_path) == "x" * 90 + "\n"
