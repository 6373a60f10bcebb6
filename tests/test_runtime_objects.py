"""Function objects and messages: create, Completed, send/reply, select, Stop, halt, children.

Every wait has a deadline (``select(..., seconds=)`` on the real clock or ``queue.get(timeout=)``);
nothing sleeps to synchronise.
"""

from __future__ import annotations

import socket
import threading

import pytest

import ansar.create as ar
from ansar.create import log as ar_log
from ansar.create.log import USER_LOG

DEADLINE = 10.0


class A:
    def __init__(self, n=0):
        self.n = n


class B:
    def __init__(self, n=0):
        self.n = n


class C:
    pass


class Go:
    pass


def completed(channel, seconds: float = DEADLINE):
    """The next Completed at ``channel``; fails the test on the deadline."""
    m = channel.select(ar.Completed, seconds=seconds)
    assert isinstance(m, ar.Completed), f"no Completed within {seconds}s"
    return m


class ListSink:
    def __init__(self):
        self.records = []
        self.lock = threading.Lock()

    def write(self, record):
        with self.lock:
            self.records.append(record)

    def lines(self):
        with self.lock:
            return [ar_log.format_record(r) for r in self.records]


@pytest.fixture
def sink():
    """Capture log records in a list at the level the test sets; restore afterwards."""
    s = ListSink()
    previous = ar_log.set_sink(s)
    level = ar_log.log_level()
    yield s
    ar_log.set_sink(previous)
    ar_log.set_log_level(level)


# --- function objects and Completed -------------------------------------------------------------


def returns_sum(self, a, b, scale=1):
    return (a + b) * scale


def test_function_object_result_arrives_as_completed_with_its_return_value():
    with ar.OpenChannel() as channel:
        address = channel.create(returns_sum, 2, 3, scale=10)
        m = completed(channel)
        assert m.value == 50
        assert channel.return_address == address


def test_bind_returns_the_function_and_it_still_runs_as_an_object():
    f = ar.bind(returns_sum)
    assert f is returns_sum
    with ar.OpenChannel() as channel:
        channel.create(f, 1, 1)
        assert completed(channel).value == 2


def identity(self, value):
    return value


def test_arguments_are_passed_as_python_objects_not_encoded():
    s1, s2 = socket.socketpair()
    try:
        thing = object()
        with ar.OpenChannel() as channel:
            channel.create(identity, s1)
            assert completed(channel).value is s1
            channel.create(identity, thing)
            assert completed(channel).value is thing
    finally:
        s1.close()
        s2.close()


def raises(self):
    raise ValueError("boom in the object")


def test_exception_escaping_a_function_object_gives_the_parent_a_faulted():
    with ar.OpenChannel() as channel:
        channel.create(raises)
        value = completed(channel).value
        assert isinstance(value, ar.Faulted)
        assert "ValueError" in value.condition
        assert "boom in the object" in value.condition


def exits(self):
    raise SystemExit(4)


def test_system_exit_in_a_function_object_ends_only_that_object():
    with ar.OpenChannel() as channel:
        channel.create(exits)
        assert isinstance(completed(channel).value, ar.Faulted)
        channel.create(returns_sum, 1, 2)
        assert completed(channel).value == 3


def test_addresses_compare_equal_to_what_create_returned_and_are_hashable():
    with ar.OpenChannel() as channel:
        addresses = {channel.create(returns_sum, i, 0): i for i in range(5)}
        seen = {}
        for _ in range(5):
            m = completed(channel)
            seen[channel.return_address] = m.value
        assert seen == addresses


# --- send, reply, return_address ----------------------------------------------------------------


def echo(self):
    while True:
        m = self.select(A, ar.Stop, seconds=DEADLINE)
        if not isinstance(m, A):
            return m
        self.reply(B(m.n))


def test_reply_goes_to_the_sender_of_the_last_message():
    with ar.OpenChannel() as channel:
        e = channel.create(echo)
        for i in range(3):
            channel.send(A(i), e)
            m = channel.select(B, seconds=DEADLINE)
            assert isinstance(m, B) and m.n == i
            assert channel.return_address == e
        channel.send(ar.Stop(), e)
        assert isinstance(completed(channel).value, ar.Stop)


def forward(self, to):
    m = self.select(A, seconds=DEADLINE)
    self.send(m, to)
    return m


def catch(self):
    return self.select(A, seconds=DEADLINE)


def test_a_received_message_is_forwarded_unchanged():
    with ar.OpenChannel() as channel:
        catcher = channel.create(catch)
        forwarder = channel.create(forward, catcher)
        message = A(7)
        channel.send(message, forwarder)
        values = {}
        for _ in range(2):
            m = completed(channel)
            values[channel.return_address] = m.value
        assert values[forwarder] is message
        assert values[catcher] is message


def test_sending_to_an_ended_object_does_not_raise():
    with ar.OpenChannel() as channel:
        gone = channel.create(returns_sum, 0, 0)
        completed(channel)
        channel.send(A(1), gone)  # dropped, noted only in the trace log


def test_reply_without_a_received_message_is_an_error():
    with ar.OpenChannel() as channel:
        with pytest.raises(RuntimeError):
            channel.reply(A())


# --- select ---------------------------------------------------------------------------------------


def picky(self):
    order = []
    order.append(self.select(C, seconds=DEADLINE))
    order.append(self.select(A, seconds=DEADLINE))
    order.append(self.select(A, seconds=DEADLINE))
    order.append(self.select(B, seconds=DEADLINE))
    order.append(self.select(seconds=DEADLINE))  # anything: the oldest kept message
    return order


def test_select_returns_only_the_listed_types_and_keeps_the_others_in_order():
    with ar.OpenChannel() as channel:
        p = channel.create(picky)
        a1, b, a2, a3, c = A(1), B(2), A(3), A(4), C()
        for m in (a1, b, a2, a3, c):
            channel.send(m, p)
        order = completed(channel).value
        assert order == [c, a1, a2, b, a3]


def select_with_timeout(self, seconds):
    return self.select(A, seconds=seconds)


def test_select_with_seconds_gives_select_timer_when_nothing_arrives():
    with ar.OpenChannel() as channel:
        channel.create(select_with_timeout, 0.05)
        assert isinstance(completed(channel).value, ar.SelectTimer)


def test_select_with_seconds_returns_the_message_when_it_arrives_first():
    with ar.OpenChannel() as channel:
        s = channel.create(select_with_timeout, DEADLINE)
        channel.send(A(5), s)
        value = completed(channel).value
        assert isinstance(value, A) and value.n == 5


def two_timed_selects(self):
    first = self.select(A, seconds=0.01)
    # a message sent after the first select timed out; no stale SelectTimer may be returned
    second = self.select(A, seconds=DEADLINE)
    return first, second


def test_an_expired_select_timer_does_not_leak_into_a_later_select():
    with ar.OpenChannel() as channel:
        t = channel.create(two_timed_selects)
        # wait until the first select has surely expired before sending
        assert isinstance(channel.select(A, seconds=0.2), ar.SelectTimer)
        channel.send(A(1), t)
        first, second = completed(channel).value
        assert isinstance(first, ar.SelectTimer)
        assert isinstance(second, A)


def busy_with_work(self, n):
    got = [self.select(A, seconds=DEADLINE).n for _ in range(n)]
    stop = self.select(ar.Stop, seconds=DEADLINE)
    return got, stop


def test_stop_arriving_during_a_select_of_other_types_is_kept_for_later():
    with ar.OpenChannel() as channel:
        w = channel.create(busy_with_work, 3)
        channel.send(A(1), w)
        channel.send(ar.Stop(), w)
        channel.send(A(2), w)
        channel.send(A(3), w)
        got, stop = completed(channel).value
        assert got == [1, 2, 3]
        assert isinstance(stop, ar.Stop)


def counter(self, n):
    total = 0
    for _ in range(n):
        m = self.select(A, seconds=DEADLINE)
        if not isinstance(m, A):
            return ar.Faulted(condition=f"lost messages after {total}")
        total += 1
    return total


def test_a_hundred_thousand_messages_sent_at_once_all_arrive():
    n = 100_000
    with ar.OpenChannel() as channel:
        c = channel.create(counter, n)
        m = A(0)
        for _ in range(n):
            channel.send(m, c)
        assert completed(channel, 60.0).value == n


# --- halt ------------------------------------------------------------------------------------------


def stuck(self, started):
    started.set()
    while not self.halted:
        self.select(ar.Stop, seconds=0.01)  # stands for a blocking call with a short timeout
    return ar.Aborted()


@pytest.mark.parametrize("how", ["function", "method"])
def test_halt_makes_self_halted_true_inside_the_object(how):
    started = threading.Event()
    with ar.OpenChannel() as channel:
        s = channel.create(stuck, started)
        assert started.wait(DEADLINE)
        if how == "function":
            ar.halt(s)
        else:
            channel.halt(s)
        assert isinstance(completed(channel).value, ar.Aborted)


# --- children: assign, debrief, working, running, AutoStop ----------------------------------------


def child_waiting(self, n):
    self.select(Go, seconds=DEADLINE)
    return n


def parent_of_three(self):
    seen = {}
    addresses = {}
    for name in ("a", "b", "c"):
        address = self.create(child_waiting, name.upper())
        self.assign(address, name)
        addresses[name] = address
    seen["running"] = sorted(self.running())
    seen["working_before"] = self.working()
    debriefs = []
    for name in ("b", "a", "c"):
        self.send(Go(), addresses[name])
        m = self.select(ar.Completed, seconds=DEADLINE)
        debriefs.append((self.debrief(), m.value, self.return_address == addresses[name]))
        seen.setdefault("running_after", []).append(sorted(c for c, _ in self.running()))
    seen["debriefs"] = debriefs
    seen["working_after"] = self.working()
    seen["addresses"] = addresses
    return seen


def test_assign_debrief_running_and_working_follow_the_children():
    with ar.OpenChannel() as channel:
        channel.create(parent_of_three)
        seen = completed(channel).value
    addresses = seen["addresses"]
    assert seen["running"] == sorted((n, addresses[n]) for n in "abc")
    assert all(isinstance(a, int) for _, a in seen["running"])
    assert seen["working_before"] is True
    assert seen["debriefs"] == [("b", "B", True), ("a", "A", True), ("c", "C", True)]
    assert seen["running_after"] == [["a", "c"], ["c"], []]
    assert seen["working_after"] is False


def any_context(self):
    child = self.create(child_waiting, 1)
    context = {"key": [1, 2, 3]}
    self.assign(child, context)
    self.send(Go(), child)
    self.select(ar.Completed, seconds=DEADLINE)
    return self.debrief() is context


def test_assign_keeps_any_value_as_the_context():
    with ar.OpenChannel() as channel:
        channel.create(any_context)
        assert completed(channel).value is True


def waits_for_stop(self):
    self.select(ar.Stop, seconds=DEADLINE)
    return ar.Aborted()


def parent_with_autostop(self, n):
    with ar.AutoStop(self):
        for i in range(n):
            self.assign(self.create(waits_for_stop), i)
    return self.working(), self.debrief() is not None


def test_autostop_stops_every_assigned_child_and_waits_for_them():
    with ar.OpenChannel() as channel:
        channel.create(parent_with_autostop, 5)
        working, debriefed = completed(channel).value
        assert working is False
        assert debriefed


def parent_with_autostop_and_exception(self, started):
    with ar.AutoStop(self):
        for i in range(3):
            self.assign(self.create(waits_for_stop), i)
        raise ValueError("inside AutoStop")


def test_autostop_stops_the_children_when_the_block_raises():
    with ar.OpenChannel() as channel:
        channel.create(parent_with_autostop_and_exception, None)
        value = completed(channel).value
        assert isinstance(value, ar.Faulted) and "inside AutoStop" in value.condition


def test_open_channel_stops_its_running_children_on_exit():
    with ar.OpenChannel() as channel:
        child = channel.create(waits_for_stop)
        channel.assign(child, "zombie")
    assert not channel.working()


# --- logging ---------------------------------------------------------------------------------------


def chatty(self):
    self.console("console text")
    self.trace("trace text")
    self.debug("debug text")
    self.warning("warning text")
    self.fault("fault text")
    return None


LINE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (.) <([0-9a-f]{8})>(\S+) - (.*)$"


def run_chatty(sink, level):
    ar_log.set_log_level(level)
    with ar.OpenChannel() as channel:
        address = channel.create(chatty)
        completed(channel)
    ar_log.set_log_level(USER_LOG.NONE)
    import re

    mine = []
    for line in sink.lines():
        m = re.match(LINE, line)
        assert m, f"badly formed log line {line!r}"
        if int(m.group(2), 16) == address:
            mine.append((m.group(1), m.group(3), m.group(4)))
    return mine


def test_log_levels_are_ordered_and_named():
    names = [USER_LOG.names[i] for i in range(len(USER_LOG.names))]
    assert names[0] == "NONE"
    for a, b in zip(names, names[1:], strict=False):
        assert USER_LOG.from_name(a) < USER_LOG.from_name(b)
    assert USER_LOG.from_name("console") == USER_LOG.CONSOLE
    with pytest.raises(ValueError):
        USER_LOG.from_name("LOUD")
    assert USER_LOG.CONSOLE < USER_LOG.OBJECT < USER_LOG.DEBUG


def test_nothing_is_logged_at_level_none(sink):
    assert run_chatty(sink, USER_LOG.NONE) == []


def test_console_level_shows_console_warning_and_fault_lines(sink):
    mine = run_chatty(sink, USER_LOG.CONSOLE)
    assert mine == [("^", "chatty", "console text"), ("?", "chatty", "warning text"), ("?", "chatty", "fault text")]


def test_object_level_adds_created_destroyed_sent_and_received(sink):
    mine = run_chatty(sink, USER_LOG.OBJECT)
    markers = [m for m, _, _ in mine]
    assert markers[0] == "+" and mine[0][2].startswith("Created by <")
    assert ("X", "chatty", "Destroyed") in mine
    assert "~" not in markers


def test_debug_level_shows_every_record(sink):
    mine = run_chatty(sink, USER_LOG.DEBUG)
    texts = [t for _, _, t in mine]
    for text in ("console text", "trace text", "debug text", "warning text", "fault text"):
        assert text in texts
    assert ("~", "chatty", "trace text") in mine


def test_sent_and_received_lines_name_the_message_and_the_addresses(sink):
    ar_log.set_log_level(USER_LOG.OBJECT)
    with ar.OpenChannel() as channel:
        e = channel.create(echo)
        channel.send(A(1), e)
        channel.select(B, seconds=DEADLINE)
        channel.send(ar.Stop(), e)
        completed(channel)
    ar_log.set_log_level(USER_LOG.NONE)
    text = "\n".join(sink.lines())
    assert f"> <{channel.address:08x}>channel - Sent A to <{e:08x}>" in text
    assert f"< <{e:08x}>echo - Received A from <{channel.address:08x}>" in text
    assert f"< <{channel.address:08x}>channel - Received Completed from <{e:08x}>" in text


def test_log_sink_write_failure_on_a_closed_stream_does_not_raise():
    import io

    stream = io.StringIO()
    s = ar_log.StreamSink(stream)
    stream.close()
    s.write(ar_log.LogRecord(0.0, "^", USER_LOG.CONSOLE, 7, "x", "text"))


def test_log_times_are_iso_8601_in_utc_to_the_millisecond():
    record = ar_log.LogRecord(1680745937.3176, "^", USER_LOG.CONSOLE, 10, "client", "hello")
    assert ar_log.format_record(record) == "2023-04-06T01:52:17.317 ^ <0000000a>client - hello"


# --- tests and reports -------------------------------------------------------------------------------


@pytest.fixture
def fresh_tests():
    from ansar.create.test import reset_tests

    reset_tests()
    yield
    reset_tests()


def checker(self, failing_line_holder):
    self.test(1 + 1 == 2, "arithmetic holds")
    failing_line_holder.append(_line() + 1)
    ok = self.test(1 + 1 == 3, "arithmetic fails")
    ar.test_enquiry(self)
    report = self.select(ar.TestReport, seconds=DEADLINE)
    return ok, report


def _line():
    import sys

    return sys._getframe(1).f_lineno


def test_self_test_records_results_and_test_enquiry_delivers_the_report(sink, fresh_tests):
    ar_log.set_log_level(USER_LOG.WARNING)
    holder = []
    with ar.OpenChannel() as channel:
        address = channel.create(checker, holder)
        ok, report = completed(channel).value
    ar_log.set_log_level(USER_LOG.NONE)
    assert ok is False
    assert isinstance(report, ar.TestReport)
    assert (report.passed, report.failed) == (1, 1)
    good, bad = report.tested
    assert (good.condition, good.text, good.name) == (True, "arithmetic holds", "checker")
    assert good.source == "test_runtime_objects.py"
    assert (bad.condition, bad.line) == (False, holder[0])
    assert bad.stamp is not None
    lines = [line for line in sink.lines() if f"<{address:08x}>" in line]
    failed = [line for line in lines if " = " in line]
    assert len(failed) == 1
    assert failed[0].endswith(f"= <{address:08x}>checker - arithmetic fails (test_runtime_objects.py:{holder[0]})")


def many_tests(self, n):
    for i in range(n):
        self.test(i % 2 == 0, f"test {i}")
    ar.test_enquiry(self)
    return self.select(ar.TestReport, seconds=DEADLINE)


def test_the_report_counts_every_test_but_keeps_only_the_newest_few_hundred(fresh_tests):
    with ar.OpenChannel() as channel:
        channel.create(many_tests, 2000)
        report = completed(channel).value
    assert (report.passed, report.failed) == (1000, 1000)
    assert 100 <= len(report.tested) < 2000
    assert report.tested[-1].text == "test 1999"
    texts = [r.text for r in report.tested]
    assert texts == [f"test {i}" for i in range(2000 - len(texts), 2000)]
