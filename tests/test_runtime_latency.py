"""The short path of send, reply and select: what it skips must still behave as the long path does.

Every wait has a deadline; nothing sleeps to synchronise.
"""

from __future__ import annotations

import queue
import threading

import ansar.create as ar
from ansar.create import point
from ansar.create.point import TIMER, Address, send

DEADLINE = 10.0


class A:
    pass


class B:
    pass


def reporter(self, q, go):
    """Waits for ``go``, then reports each message it selects (with its sender) until Stop."""
    go.wait(DEADLINE)
    while True:
        m = self.select()
        q.put((m, self.return_address))
        if isinstance(m, ar.Stop):
            return None


def get(q):
    try:
        return q.get(timeout=DEADLINE)
    except queue.Empty:
        raise AssertionError(f"nothing arrived within {DEADLINE}s") from None


def test_a_select_timer_left_from_an_earlier_select_is_skipped():
    q: queue.Queue = queue.Queue()
    go = threading.Event()
    with ar.OpenChannel() as channel:
        a = channel.create(reporter, q, go)
        send(ar.SelectTimer(), a, TIMER)  # fired just after that select had its message
        send(A(), a)
        go.set()
        m, _ = get(q)
        assert isinstance(m, A)
        channel.send(ar.Stop(), a)
        assert isinstance(get(q)[0], ar.Stop)


def test_a_select_timer_from_an_object_is_an_ordinary_message():
    q: queue.Queue = queue.Queue()
    go = threading.Event()
    with ar.OpenChannel() as channel:
        a = channel.create(reporter, q, go)
        channel.send(ar.SelectTimer(), a)
        go.set()
        m, sender = get(q)
        assert isinstance(m, ar.SelectTimer) and sender == channel.address
        channel.send(ar.Stop(), a)
        get(q)


def test_the_sender_of_a_message_sent_with_a_plain_int_is_an_address():
    q: queue.Queue = queue.Queue()
    go = threading.Event()
    go.set()
    with ar.OpenChannel() as channel:
        a = channel.create(reporter, q, go)
        send(A(), a, 12345)
        m, sender = get(q)
        assert isinstance(m, A) and type(sender) is Address and sender == 12345
        channel.send(ar.Stop(), a)
        get(q)


def selects_b_then_a(self, go):
    go.wait(DEADLINE)
    first = self.select(B, seconds=DEADLINE)
    second = self.select(A, seconds=DEADLINE)
    return [type(first).__name__, type(second).__name__]


def test_a_message_kept_by_one_select_is_given_to_the_next_that_wants_it():
    go = threading.Event()
    with ar.OpenChannel() as channel:
        c = channel.create(selects_b_then_a, go)
        channel.send(A(), c)
        channel.send(B(), c)
        go.set()
        m = channel.select(ar.Completed, seconds=DEADLINE)
        assert isinstance(m, ar.Completed) and m.value == ["B", "A"]


def replies_twice(self):
    m = self.select(A)
    self.reply(B())
    self.reply(m)
    return None


def test_reply_goes_to_the_sender_on_the_short_path():
    with ar.OpenChannel() as channel:
        c = channel.create(replies_twice)
        channel.send(A(), c)
        assert isinstance(channel.select(B, seconds=DEADLINE), B)
        assert channel.return_address == c
        assert isinstance(channel.select(A, seconds=DEADLINE), A)
        assert isinstance(channel.select(ar.Completed, seconds=DEADLINE), ar.Completed)


# --- threads of ended function objects run the next ones ------------------------------------------


def records_thread(self):
    t = threading.current_thread()
    return t.ident, t.name


def poll(condition, what):
    """Wait for ``condition()`` to hold, within the deadline (an Event cannot see inside the pool)."""
    done = threading.Event()
    for _ in range(int(DEADLINE / 0.005)):
        if condition():
            return
        done.wait(0.005)
    raise AssertionError(f"{what} within {DEADLINE}s")


def idle_threads():
    return {t.ident: t for t in threading.enumerate() if t.name == "ansar-idle"}


def test_the_thread_of_an_ended_object_runs_the_next_object():
    with ar.OpenChannel() as channel:
        channel.create(records_thread)
        first = channel.select(ar.Completed, seconds=DEADLINE).value
        poll(lambda: point._idle >= 1, "no thread became idle")
        idle = idle_threads()
        channel.create(records_thread)
        second = channel.select(ar.Completed, seconds=DEADLINE).value
    assert first[1] == second[1] == "records_thread"  # a thread has its object's name while it runs
    assert second[0] in idle


def ends_after_its_object(channel):
    """Run one object; its thread (a new one or an idle one) must then end."""
    channel.create(records_thread)
    ident, _ = channel.select(ar.Completed, seconds=DEADLINE).value
    thread = {t.ident: t for t in threading.enumerate()}.get(ident)
    if thread is not None:
        thread.join(DEADLINE)
        assert not thread.is_alive()


def test_beyond_the_most_idle_threads_a_thread_ends_with_its_object(monkeypatch):
    monkeypatch.setattr(point, "MAX_IDLE", 0)
    with ar.OpenChannel() as channel:
        ends_after_its_object(channel)


def test_an_idle_thread_that_waited_its_time_ends(monkeypatch):
    monkeypatch.setattr(point, "IDLE_SECONDS", 0.0)
    with ar.OpenChannel() as channel:
        ends_after_its_object(channel)
