"""Class-based objects: Stateless and StateMachine, handlers found by module-level name.

They have no thread of their own: thousands live on the runtime's shared threads.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import ansar.create as ar
from ansar.create import log as ar_log
from ansar.create.log import USER_LOG

DEADLINE = 10.0


class Ping:
    def __init__(self, n=0):
        self.n = n


class Pong:
    def __init__(self, n=0):
        self.n = n


class Other:
    pass


class Finish:
    pass


def completed(channel, seconds: float = DEADLINE):
    m = channel.select(ar.Completed, seconds=seconds)
    assert isinstance(m, ar.Completed), f"no Completed within {seconds}s"
    return m


# --- Stateless ----------------------------------------------------------------------------------------


class Echo(ar.Point, ar.Stateless):
    def __init__(self, greeting="hello"):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.greeting = greeting
        self.seen = []


def Echo_Start(self, message):
    self.seen.append("Start")
    self.send(Pong(-1), self.parent_address)


def Echo_Ping(self, message):
    self.seen.append(message.n)
    self.reply(Pong(message.n))


def Echo_Finish(self, message):
    self.complete((self.greeting, self.seen))


ar.bind(Echo, (ar.Start, Ping, Finish))


def test_stateless_object_gets_start_first_and_handlers_by_message_type():
    with ar.OpenChannel() as channel:
        e = channel.create(Echo, greeting="hi")
        first = channel.select(Pong, seconds=DEADLINE)
        assert first.n == -1 and channel.return_address == e
        for i in range(3):
            channel.send(Ping(i), e)
            assert channel.select(Pong, seconds=DEADLINE).n == i
        channel.send(Finish(), e)
        m = completed(channel)
        assert channel.return_address == e
        assert m.value == ("hi", ["Start", 0, 1, 2])


class Catchall(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.others = []


def Catchall_Start(self, message):
    pass


def Catchall_Finish(self, message):
    self.complete(self.others)


def Catchall_Unknown(self, message):
    self.others.append(type(message).__name__)


ar.bind(Catchall, (ar.Start, Finish))


def test_unknown_handler_takes_every_type_without_a_handler_of_its_own():
    with ar.OpenChannel() as channel:
        c = channel.create(Catchall)
        for m in (Ping(), Other(), ar.Ack()):
            channel.send(m, c)
        channel.send(Finish(), c)
        assert completed(channel).value == ["Ping", "Other", "Ack"]


class ListSink:
    def __init__(self):
        self.records = []
        self.lock = threading.Lock()

    def write(self, record):
        with self.lock:
            self.records.append(record)


def test_a_message_with_no_handler_is_noted_and_the_object_carries_on():
    sink = ListSink()
    previous = ar_log.set_sink(sink)
    level = ar_log.log_level()
    ar_log.set_log_level(USER_LOG.WARNING)
    try:
        with ar.OpenChannel() as channel:
            e = channel.create(Echo)
            channel.select(Pong, seconds=DEADLINE)
            channel.send(Other(), e)
            channel.send(Ping(9), e)
            assert channel.select(Pong, seconds=DEADLINE).n == 9
            channel.send(Finish(), e)
            completed(channel)
    finally:
        ar_log.set_log_level(level)
        ar_log.set_sink(previous)
    warnings = [r.text for r in sink.records if r.address == e and r.marker == "?"]
    assert any("Other" in w for w in warnings)


# --- StateMachine -------------------------------------------------------------------------------------


class IDLE:
    pass


class BUSY:
    pass


class Worker(ar.Point, ar.StateMachine):
    """IDLE takes a Ping and goes BUSY; BUSY saves Pings until a Pong ends the job."""

    def __init__(self):
        ar.Point.__init__(self)
        ar.StateMachine.__init__(self, IDLE)
        self.log = []


def Worker_IDLE_Start(self, message):
    self.log.append(("IDLE", "Start"))
    return IDLE


def Worker_IDLE_Ping(self, message):
    self.log.append(("IDLE", "Ping", message.n))
    return BUSY


def Worker_BUSY_Pong(self, message):
    self.log.append(("BUSY", "Pong", message.n))
    return IDLE


def Worker_IDLE_Finish(self, message):
    self.complete(self.log)
    return IDLE


def Worker_BUSY_Unknown(self, message):
    self.log.append(("BUSY", "Unknown", type(message).__name__))
    return BUSY


ar.bind(Worker, {
    IDLE: ((ar.Start, Ping, Finish), ()),
    BUSY: ((Pong,), (Ping, Finish)),
})


def test_state_machine_handlers_are_chosen_by_state_and_type_and_saved_types_wait_in_order():
    with ar.OpenChannel() as channel:
        w = channel.create(Worker)
        for m in (Ping(1), Ping(2), Ping(3), Finish(), Other(), Pong(10), Pong(20), Pong(30)):
            channel.send(m, w)
        log = completed(channel).value
    assert log == [
        ("IDLE", "Start"),
        ("IDLE", "Ping", 1),
        ("BUSY", "Unknown", "Other"),
        ("BUSY", "Pong", 10),
        ("IDLE", "Ping", 2),
        ("BUSY", "Pong", 20),
        ("IDLE", "Ping", 3),
        ("BUSY", "Pong", 30),
    ]


def test_the_object_name_of_a_machine_shows_its_state():
    sink = ListSink()
    previous = ar_log.set_sink(sink)
    level = ar_log.log_level()
    ar_log.set_log_level(USER_LOG.OBJECT)
    try:
        with ar.OpenChannel() as channel:
            w = channel.create(Worker)
            channel.send(Finish(), w)
            completed(channel)
    finally:
        ar_log.set_log_level(level)
        ar_log.set_sink(previous)
    names = {r.name for r in sink.records if r.address == w}
    assert "Worker[IDLE]" in names


class Faulty(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)


def Faulty_Start(self, message):
    pass


def Faulty_Ping(self, message):
    raise KeyError("no such entry")


ar.bind(Faulty, (ar.Start, Ping))


def test_an_exception_escaping_a_handler_gives_the_parent_a_faulted():
    with ar.OpenChannel() as channel:
        f = channel.create(Faulty)
        channel.send(Ping(), f)
        value = completed(channel).value
        assert isinstance(value, ar.Faulted)
        assert "KeyError" in value.condition
        # the shared thread carries on for other objects
        e = channel.create(Echo)
        channel.select(Pong, seconds=DEADLINE)
        channel.send(Finish(), e)
        assert completed(channel).value[0] == "hello"


SYSTEM_EXIT_SCRIPT = """
import ansar.create as ar

class Ping:
    pass

class Quits(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)

def Quits_Start(self, message):
    pass

def Quits_Ping(self, message):
    raise SystemExit(3)

ar.bind(Quits, (ar.Start, Ping))

with ar.OpenChannel() as channel:
    q = channel.create(Quits)
    channel.send(Ping(), q)
    m = channel.select(ar.Completed, seconds=3.0)
    print(type(m.value).__name__ if isinstance(m, ar.Completed) else "no-completed")
"""


def test_system_exit_escaping_a_handler_gives_the_parent_a_faulted(tmp_path):
    script = tmp_path / "quits.py"
    script.write_text(SYSTEM_EXIT_SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=30)
    assert proc.stdout.decode().strip() == "Faulted", proc.stderr.decode()


# --- children of class-based objects, timers ---------------------------------------------------------


def child_function(self, n):
    return n * 2


class Parent(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.results = []


def Parent_Start(self, message):
    for i in range(3):
        self.assign(self.create(child_function, i), f"child-{i}")


def Parent_Completed(self, message):
    self.results.append((self.debrief(), message.value))
    if not self.working():
        self.complete(sorted(self.results))


ar.bind(Parent, (ar.Start, ar.Completed))


def test_a_class_based_object_creates_children_and_is_debriefed_on_their_completion():
    with ar.OpenChannel() as channel:
        channel.create(Parent)
        assert completed(channel).value == [("child-0", 0), ("child-1", 2), ("child-2", 4)]


class Ticker(ar.Point, ar.Stateless):
    def __init__(self, ticks):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.ticks = ticks


def Ticker_Start(self, message):
    self.start(ar.T2, 0.01, repeating=True)


def Ticker_T2(self, message):
    self.ticks -= 1
    if self.ticks == 0:
        self.cancel(ar.T2)
        self.complete("ticked")


ar.bind(Ticker, (ar.Start, ar.T2))


def test_a_class_based_object_uses_timers():
    with ar.OpenChannel() as channel:
        channel.create(Ticker, 3)
        assert completed(channel).value == "ticked"


class Stopper(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)


def Stopper_Start(self, message):
    pass


def Stopper_Stop(self, message):
    self.complete(ar.Aborted())


ar.bind(Stopper, (ar.Start, ar.Stop))


def test_autostop_stops_class_based_children():
    def parent(self):
        with ar.AutoStop(self):
            for i in range(10):
                self.assign(self.create(Stopper), i)
        return self.working()

    with ar.OpenChannel() as channel:
        channel.create(parent)
        assert completed(channel).value is False


# --- many objects, shared threads -------------------------------------------------------------------


class Counter(ar.Point, ar.Stateless):
    def __init__(self, expected):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.expected = expected
        self.count = 0


def Counter_Start(self, message):
    if self.expected == 0:
        self.complete(0)


def Counter_Ping(self, message):
    self.count += 1
    if self.count == self.expected:
        self.complete(self.count)


ar.bind(Counter, (ar.Start, Ping))


def test_thousands_of_class_based_objects_live_without_a_thread_each():
    n = 5000
    before = threading.active_count()
    with ar.OpenChannel() as channel:
        addresses = [channel.create(Counter, 1) for _ in range(n)]
        during = threading.active_count()
        assert during - before <= 4, f"{during - before} threads for {n} objects"
        for a in addresses:
            channel.send(Ping(), a)
        results = [completed(channel).value for _ in range(n)]
    assert results == [1] * n
    assert threading.active_count() - before <= 4


def test_a_hundred_thousand_messages_to_a_class_based_object_all_arrive():
    n = 100_000
    with ar.OpenChannel() as channel:
        c = channel.create(Counter, n)
        m = Ping()
        for _ in range(n):
            channel.send(m, c)
        assert completed(channel, 60.0).value == n


def test_a_class_bound_without_a_dispatch_table_still_gets_start():
    class Bare(ar.Point, ar.Stateless):
        def __init__(self):
            ar.Point.__init__(self)

    with ar.OpenChannel() as channel:
        b = channel.create(Bare)
        assert isinstance(b, int)  # no handlers: Start is noted as unexpected, nothing breaks
