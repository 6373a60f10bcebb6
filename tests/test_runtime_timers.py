"""Timers T1..T4: one-shot, repeating, cancel, restart; one timer thread; the injectable clock.

With the fake clock, a test proves that nothing fired by starting a zero-second sentinel timer
after advancing: the timer thread delivers in deadline order, so anything due before the
sentinel arrives before it. The test thread reads what arrives from a queue with a real timeout.
"""

from __future__ import annotations

import queue
import threading

import pytest

import ansar.create as ar
from ansar.create import log as ar_log
from ansar.create.log import USER_LOG
from ansar.create.point import send
from ansar.create.timer import FakeClock, TimerService, set_clock

DEADLINE = 10.0
TIMERS = (ar.T1, ar.T2, ar.T3, ar.T4)


class Command:
    def __init__(self, verb, *args, **kw):
        self.verb = verb
        self.args = args
        self.kw = kw


def driven(self, q):
    """An object that runs timer commands on itself and reports everything it receives."""
    while True:
        m = self.select()
        if isinstance(m, ar.Stop):
            return None
        if isinstance(m, Command):
            if m.verb == "start":
                self.start(*m.args, **m.kw)
            elif m.verb == "cancel":
                self.cancel(*m.args)
            elif m.verb == "select":
                q.put(("ack", m.verb))
                q.put(self.select(*m.args, **m.kw))
                continue
            elif m.verb == "create":
                self.create(*m.args, **m.kw)
            q.put(("ack", m.verb))
            continue
        q.put(m)


class Driver:
    def __init__(self, channel):
        self.q: queue.Queue = queue.Queue()
        self.channel = channel
        self.address = channel.create(driven, self.q)

    def do(self, verb, *args, **kw):
        send(Command(verb, *args, **kw), self.address)
        assert self.get() == ("ack", verb)

    def get(self, seconds=DEADLINE):
        try:
            return self.q.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError(f"nothing arrived within {seconds}s") from None

    def until_sentinel(self):
        """Everything that fired up to now (the clock's now), in order."""
        self.do("start", ar.T4, 0.0)
        got = []
        while True:
            m = self.get()
            if isinstance(m, ar.T4):
                return got
            got.append(m)

    def stop(self):
        send(ar.Stop(), self.address)
        m = self.channel.select(ar.Completed, seconds=5.0)
        assert isinstance(m, ar.Completed)


@pytest.fixture
def fake_clock():
    clock = FakeClock()
    previous = set_clock(clock)
    yield clock
    set_clock(previous)


@pytest.fixture
def driver(fake_clock):
    with ar.OpenChannel() as channel:
        d = Driver(channel)
        yield d
        d.stop()


def names(messages):
    return [type(m).__name__ for m in messages]


def test_a_timer_fires_only_when_its_time_has_come(fake_clock, driver):
    driver.do("start", ar.T1, 5.0)
    fake_clock.advance(4.9)
    assert driver.until_sentinel() == []
    fake_clock.advance(0.1)
    assert names(driver.until_sentinel()) == ["T1"]
    fake_clock.advance(100.0)
    assert driver.until_sentinel() == []


def test_four_timers_are_separate_and_fire_in_deadline_order(fake_clock, driver):
    driver.do("start", ar.T3, 3.0)
    driver.do("start", ar.T1, 1.0)
    driver.do("start", ar.T2, 2.0)
    fake_clock.advance(10.0)
    assert names(driver.until_sentinel()) == ["T1", "T2", "T3"]


def test_a_repeating_timer_fires_each_period_until_cancelled(fake_clock, driver):
    driver.do("start", ar.T2, 1.0, repeating=True)
    for _ in range(3):
        fake_clock.advance(1.0)
        assert names(driver.until_sentinel()) == ["T2"]
    driver.do("cancel", ar.T2)
    fake_clock.advance(5.0)
    assert driver.until_sentinel() == []


def test_cancel_before_expiry_means_it_never_fires(fake_clock, driver):
    driver.do("start", ar.T1, 1.0)
    driver.do("cancel", ar.T1)
    fake_clock.advance(2.0)
    assert driver.until_sentinel() == []


def test_cancel_of_a_timer_never_started_is_harmless(driver):
    driver.do("cancel", ar.T3)


def test_starting_a_running_timer_again_replaces_it(fake_clock, driver):
    driver.do("start", ar.T1, 10.0)
    driver.do("start", ar.T1, 1.0)
    fake_clock.advance(1.0)
    assert names(driver.until_sentinel()) == ["T1"]
    fake_clock.advance(20.0)
    assert driver.until_sentinel() == []


def test_restarting_a_repeating_timer_as_one_shot_stops_the_repeats(fake_clock, driver):
    driver.do("start", ar.T1, 1.0, repeating=True)
    driver.do("start", ar.T1, 2.0)
    fake_clock.advance(2.0)
    assert names(driver.until_sentinel()) == ["T1"]
    fake_clock.advance(10.0)
    assert driver.until_sentinel() == []


def test_select_with_seconds_runs_on_the_injected_clock(fake_clock, driver):
    send(Command("select", ar.Stop, seconds=30.0), driver.address)
    assert driver.get() == ("ack", "select")
    # the select's timer starts just after the ack; advance until it expires, within a real deadline
    got = None
    for _ in range(100):
        fake_clock.advance(30.0)
        try:
            got = driver.q.get(timeout=0.1)
            break
        except queue.Empty:
            continue
    assert isinstance(got, ar.SelectTimer)


def starts_repeating_and_ends(self):
    self.start(ar.T1, 1.0, repeating=True)
    self.start(ar.T3, 0.5)
    return None


def test_timers_of_an_ended_object_are_cancelled(fake_clock, driver):
    sink_records = []

    class Sink:
        def write(self, record):
            sink_records.append(record)

    previous = ar_log.set_sink(Sink())
    level = ar_log.log_level()
    ar_log.set_log_level(USER_LOG.TRACE)
    try:
        driver.do("create", starts_repeating_and_ends)
        assert isinstance(driver.get(), ar.Completed)
        fake_clock.advance(5.0)
        driver.until_sentinel()
    finally:
        ar_log.set_log_level(level)
        ar_log.set_sink(previous)
    dropped = [r.text for r in sink_records if r.text.startswith("Dropped")]
    assert dropped == []


# --- the real clock ---------------------------------------------------------------------------------


def waits_for(self, timer, seconds):
    self.start(timer, seconds)
    return self.select(timer, seconds=DEADLINE)


@pytest.mark.parametrize("timer", TIMERS)
def test_each_timer_message_arrives_on_the_real_clock(timer):
    with ar.OpenChannel() as channel:
        channel.create(waits_for, timer, 0.02)
        m = channel.select(ar.Completed, seconds=DEADLINE)
        assert isinstance(m.value, timer)


def test_hundreds_of_timers_share_one_timer_thread():
    with ar.OpenChannel() as channel:
        for i in range(200):
            channel.create(waits_for, ar.T1, 0.01 + (i % 10) * 0.002)
        values = [channel.select(ar.Completed, seconds=DEADLINE).value for _ in range(200)]
    assert all(isinstance(v, ar.T1) for v in values)
    timer_threads = [t for t in threading.enumerate() if "timer" in t.name.lower()]
    assert len(timer_threads) == 1


def test_set_clock_returns_the_previous_clock():
    clock = FakeClock(50.0)
    previous = set_clock(clock)
    try:
        assert set_clock(clock) is clock
    finally:
        set_clock(previous)
    from ansar.create.timer import clock as current

    assert current() is previous


@pytest.fixture
def service():
    """A timer service of its own (its thread ends with the test), on the clock in force."""
    s = TimerService()
    yield s
    s.close()


def test_ending_objects_forgets_their_timers_without_scanning_everyone_elses(service):
    for owner in range(2000):
        service.start((owner, "T1"), 3600.0, lambda: None)
        service.start((owner, "T2"), 3600.0, lambda: None)
    service.cancel((5, "T1"))
    for owner in range(2000):
        service.cancel_all(owner)
    assert service._current == {} and service._owned == {}


# --- the timer thread's wake-ups and locks (fake clock) ---------------------------------------------


def fired_into(q, name):
    return lambda: q.put(name)


def collect(q, n):
    try:
        return [q.get(timeout=DEADLINE) for _ in range(n)]
    except queue.Empty:
        raise AssertionError(f"fewer than {n} timers fired within {DEADLINE}s") from None


def test_a_burst_of_starts_wakes_the_timer_thread_once(fake_clock, service):
    fired: queue.Queue = queue.Queue()
    for i in range(200):
        service.start((i, "T1"), 5.0, fired_into(fired, i))
    assert service.wakeups == 1
    fake_clock.advance(5.0)
    service.poke()
    assert sorted(collect(fired, 200)) == list(range(200))
    assert service.wakeups == 1


def test_only_a_deadline_earlier_than_the_one_slept_until_wakes_the_timer_thread(fake_clock, service):
    fired: queue.Queue = queue.Queue()
    service.start(("a", "T1"), 5.0, fired_into(fired, "a"))
    service.start(("b", "T1"), 9.0, fired_into(fired, "b"))
    assert service.wakeups == 1
    service.start(("c", "T1"), 1.0, fired_into(fired, "c"))
    assert service.wakeups == 2
    fake_clock.advance(10.0)
    service.poke()
    assert collect(fired, 3) == ["c", "a", "b"]


def test_timers_started_while_others_fire_are_not_lost(fake_clock, service):
    fired: queue.Queue = queue.Queue()

    def first():
        service.start(("second", "T1"), 0.0, fired_into(fired, "second"))  # from the timer thread itself
        fired.put("first")

    service.start(("first", "T1"), 1.0, first)
    fake_clock.advance(1.0)
    service.poke()
    assert collect(fired, 2) == ["first", "second"]


def test_close_ends_the_timer_thread_and_forgets_its_timers(fake_clock):
    service = TimerService()
    service.start(("a", "T1"), 1.0, lambda: None)
    thread = service._thread
    service.close()
    assert thread is not None and not thread.is_alive()
    assert service._current == {} and service._owned == {}


class CountingLock:
    """A lock that counts how often it was taken."""

    def __init__(self):
        self._lock = threading.Lock()
        self.taken = 0

    def __enter__(self):
        self._lock.acquire()
        self.taken += 1
        return self

    def __exit__(self, *exc):
        self._lock.release()


def test_an_owner_with_no_timers_left_ends_without_taking_the_timer_lock(fake_clock, service):
    lock = service._lock = CountingLock()  # before its thread starts, which takes it too
    fired: queue.Queue = queue.Queue()
    service.start((8, "T1"), 1.0, fired_into(fired, 8))
    fake_clock.advance(1.0)
    service.poke()
    assert collect(fired, 1) == [8]
    taken = lock.taken
    service.cancel_all(7)  # never started one
    service.cancel_all(8)  # its one-shot timer fired, so it owns none
    assert lock.taken == taken
    service.start((9, "T1"), 3600.0, lambda: None)
    service.cancel_all(9)  # one it still owns: forgotten, under the lock
    assert service._owned == {} and service._current == {}
