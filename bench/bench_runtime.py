"""Benchmarks of the ``ansar.create`` runtime, side by side with pykka and thespian.

Run by hand from the repository's root::

    .venv/bin/python bench/bench_runtime.py            # the full run (a few minutes)
    .venv/bin/python bench/bench_runtime.py --quick    # a smoke run (seconds)

The peers are pykka (``ThreadingActor``) and thespian (``ActorSystem('simpleSystemBase')``, its
single-threaded base); ``pip install -e '.[bench]'`` installs them. A peer that is not installed is
shown as ``n/a`` and the rest still runs.

Every figure is compared with peers measured in the same invocation, round after round in turn
(ansar, pykka, thespian, ansar, ...), and a ratio is the median of the per-round ratios: on a
small, noisy machine absolute figures move a lot from one run to the next, ratios much less.

Importable: ``run(quick=True)`` returns the rows of the table (dicts) and prints nothing unless
asked; ``main(["--quick"])`` is the command line. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import ansar.create as ar

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

monotonic = time.monotonic


# --- messages -------------------------------------------------------------------------------------


class Ping:
    pass


class Pong:
    pass


class Item:
    pass


class Go:
    """Sent to every timer object in turn: start your timer now."""


ar.bind(Ping)
ar.bind(Pong)
ar.bind(Item)
ar.bind(Go)

PING = Ping()
PONG = Pong()
ITEM = Item()
GO = Go()


# --- ansar: function objects (a thread each, select) ---------------------------------------------


def ponger(self):
    """Answer each Ping with a Pong until Stop."""
    while True:
        m = self.select(Ping, ar.Stop)
        if isinstance(m, ar.Stop):
            return None
        self.reply(PONG)


def pinger(self, other, n):
    """Send a Ping and wait for its Pong, ``n`` times."""
    for _ in range(n):
        self.send(PING, other)
        self.select(Pong)
    return n


def sink(self, n):
    """Receive ``n`` Items."""
    select = self.select
    for _ in range(n):
        select(Item)
    return n


def sleeper(self, seconds):
    """On Go, start T1 for ``seconds``; return how late it arrived, in seconds."""
    self.select(Go)
    due = monotonic() + seconds
    self.start(ar.T1, seconds)
    self.select(ar.T1)
    return monotonic() - due


ar.bind(ponger)
ar.bind(pinger)
ar.bind(sink)
ar.bind(sleeper)


# --- ansar: class-based objects (shared dispatch thread) -----------------------------------------


class Echo(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)


def Echo_Start(self, message):
    pass


def Echo_Ping(self, message):
    self.reply(PONG)


def Echo_Stop(self, message):
    self.complete(None)


ar.bind(Echo, (ar.Start, Ping, ar.Stop))


class Volley(ar.Point, ar.Stateless):
    """Bounces Ping/Pong with an Echo ``n`` times, then completes."""

    def __init__(self, other, n):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.other = other
        self.left = n


def Volley_Start(self, message):
    self.send(PING, self.other)


def Volley_Pong(self, message):
    self.left -= 1
    if self.left:
        self.send(PING, self.other)
    else:
        self.complete(None)


ar.bind(Volley, (ar.Start, Pong))


class Counter(ar.Point, ar.Stateless):
    """Completes after ``n`` Items."""

    def __init__(self, n):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.left = n


def Counter_Start(self, message):
    pass


def Counter_Item(self, message):
    self.left -= 1
    if not self.left:
        self.complete(None)


ar.bind(Counter, (ar.Start, Item))


class Sleeper(ar.Point, ar.Stateless):
    """On Go, starts T1 for ``seconds``; completes with how late it arrived, in seconds."""

    def __init__(self, seconds):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.seconds = seconds
        self.due = 0.0


def Sleeper_Start(self, message):
    pass


def Sleeper_Go(self, message):
    self.due = monotonic() + self.seconds
    self.start(ar.T1, self.seconds)


def Sleeper_T1(self, message):
    self.complete(monotonic() - self.due)


ar.bind(Sleeper, (ar.Start, Go, ar.T1))


def _wait_completed(channel, addresses):
    """Select Completed until every address in ``addresses`` has completed; their values in order."""
    left = set(addresses)
    values = {}
    while left:
        m = channel.select(ar.Completed)
        a = channel.return_address
        if a in left:
            left.discard(a)
            values[a] = m.value
    return [values[a] for a in addresses]


def ansar_pingpong_function(n):
    with ar.OpenChannel() as channel:
        other = channel.create(ponger)
        t0 = time.perf_counter()
        a = channel.create(pinger, other, n)
        _wait_completed(channel, [a])
        t = time.perf_counter() - t0
        channel.send(ar.Stop(), other)
        _wait_completed(channel, [other])
    return n / t


def ansar_pingpong_class(n):
    with ar.OpenChannel() as channel:
        other = channel.create(Echo)
        t0 = time.perf_counter()
        a = channel.create(Volley, other, n)
        _wait_completed(channel, [a])
        t = time.perf_counter() - t0
        channel.send(ar.Stop(), other)
        _wait_completed(channel, [other])
    return n / t


def ansar_oneway_function(n):
    with ar.OpenChannel() as channel:
        a = channel.create(sink, n)
        send = channel.send
        t0 = time.perf_counter()
        for _ in range(n):
            send(ITEM, a)
        _wait_completed(channel, [a])
        return time.perf_counter() - t0


def ansar_oneway_class(n):
    with ar.OpenChannel() as channel:
        a = channel.create(Counter, n)
        send = channel.send
        t0 = time.perf_counter()
        for _ in range(n):
            send(ITEM, a)
        _wait_completed(channel, [a])
        return time.perf_counter() - t0


def ansar_fanout(n):
    with ar.OpenChannel() as channel:
        t0 = time.perf_counter()
        objects = [channel.create(Echo) for _ in range(n)]
        for a in objects:
            channel.send(PING, a)
        for _ in range(n):
            channel.select(Pong)
        t = time.perf_counter() - t0
        for a in objects:
            channel.send(ar.Stop(), a)
        _wait_completed(channel, objects)
    return t


def _ansar_timers(target, n, seconds):
    """Create ``n`` objects, then send each a Go: they all start their T1 within a moment."""
    with ar.OpenChannel() as channel:
        objects = [channel.create(target, seconds) for _ in range(n)]
        for a in objects:
            channel.send(GO, a)
        return _wait_completed(channel, objects)


def ansar_timers_function(n, seconds):
    return _ansar_timers(sleeper, n, seconds)


def ansar_timers_class(n, seconds):
    return _ansar_timers(Sleeper, n, seconds)


# --- pykka ----------------------------------------------------------------------------------------


def _pykka():
    try:
        import pykka
    except ImportError:
        return None
    return pykka


_pykka_classes = None


def _pykka_actors():
    global _pykka_classes
    if _pykka_classes is not None:
        return _pykka_classes
    pykka = _pykka()

    class PkEcho(pykka.ThreadingActor):
        def on_receive(self, message):
            if isinstance(message, pykka.ActorRef):  # tell: a Pong back to the sender
                message.tell(PONG)
                return None
            return PONG  # ask

    class PkVolley(pykka.ThreadingActor):
        def __init__(self, other, n, done):
            super().__init__()
            self.other, self.left, self.done = other, n, done

        def on_start(self):
            self.other.tell(self.actor_ref)

        def on_receive(self, message):
            self.left -= 1
            if self.left:
                self.other.tell(self.actor_ref)
            else:
                self.done.set()

    class PkCounter(pykka.ThreadingActor):
        def __init__(self, n, done):
            super().__init__()
            self.left, self.done = n, done

        def on_receive(self, message):
            self.left -= 1
            if not self.left:
                self.done.set()

    _pykka_classes = PkEcho, PkVolley, PkCounter
    return _pykka_classes


def pykka_pingpong_tell(n):
    """Two actors bouncing a message with ``tell`` (pykka's fastest path)."""
    pykka = _pykka()
    PkEcho, PkVolley, _ = _pykka_actors()
    done = threading.Event()
    other = PkEcho.start()
    t0 = time.perf_counter()
    PkVolley.start(other, n, done)
    done.wait()
    t = time.perf_counter() - t0
    pykka.ActorRegistry.stop_all()
    return n / t


def pykka_pingpong_ask(n):
    """The calling thread asks one actor and blocks on each answer."""
    pykka = _pykka()
    PkEcho = _pykka_actors()[0]
    other = PkEcho.start()
    ask = other.ask
    t0 = time.perf_counter()
    for _ in range(n):
        ask(PING)
    t = time.perf_counter() - t0
    pykka.ActorRegistry.stop_all()
    return n / t


def pykka_oneway(n):
    pykka = _pykka()
    PkCounter = _pykka_actors()[2]
    done = threading.Event()
    a = PkCounter.start(n, done)
    tell = a.tell
    t0 = time.perf_counter()
    for _ in range(n):
        tell(ITEM)
    done.wait()
    t = time.perf_counter() - t0
    pykka.ActorRegistry.stop_all()
    return t


def pykka_fanout(n):
    pykka = _pykka()
    PkEcho = _pykka_actors()[0]
    t0 = time.perf_counter()
    objects = [PkEcho.start() for _ in range(n)]
    futures = [a.ask(PING, block=False) for a in objects]
    pykka.get_all(futures)
    t = time.perf_counter() - t0
    pykka.ActorRegistry.stop_all()
    return t


# --- thespian (simpleSystemBase: every actor runs in the caller's thread) ------------------------


def _thespian():
    try:
        import thespian.actors as actors
    except ImportError:
        return None
    return actors


_thespian_classes = None


def _thespian_actors():
    global _thespian_classes
    if _thespian_classes is not None:
        return _thespian_classes
    actors = _thespian()

    class ThEcho(actors.Actor):
        def receiveMessage(self, message, sender):
            if isinstance(message, Ping):
                self.send(sender, PONG)

    class ThVolley(actors.Actor):
        def receiveMessage(self, message, sender):
            if isinstance(message, Pong):
                self.left -= 1
                if self.left:
                    self.send(sender, PING)
                else:
                    self.send(self.asker, "done")
            elif isinstance(message, tuple):
                self.asker = sender
                other, self.left = message
                self.send(other, PING)

    class ThCounter(actors.Actor):
        def receiveMessage(self, message, sender):
            if isinstance(message, Item):
                self.left -= 1
                if not self.left:
                    self.send(self.asker, "done")
            elif isinstance(message, tuple):
                self.asker, self.left = message

    class ThBlaster(actors.Actor):
        """Sends ``n`` Items at once to a counter that answers the original asker."""

        def receiveMessage(self, message, sender):
            if isinstance(message, tuple):
                counter, n = message
                self.send(counter, (sender, n))
                for _ in range(n):
                    self.send(counter, ITEM)

    class ThFanout(actors.Actor):
        def receiveMessage(self, message, sender):
            if isinstance(message, Pong):
                self.left -= 1
                if not self.left:
                    self.send(self.asker, "done")
            elif isinstance(message, int):
                self.asker, self.left = sender, message
                objects = [self.createActor(ThEcho) for _ in range(message)]
                for a in objects:
                    self.send(a, PING)

    class ThSleeper(actors.Actor):
        """On ("go", seconds), asks for a wakeup; tells the sender how late it came."""

        def receiveMessage(self, message, sender):
            if isinstance(message, actors.WakeupMessage):
                self.send(self.boss, monotonic() - self.due)
            elif isinstance(message, tuple):
                self.boss = sender
                self.due = monotonic() + message[1]
                self.wakeupAfter(datetime.timedelta(seconds=message[1]))

    class ThTimers(actors.Actor):
        """On (n, seconds), creates n sleepers, then sends each its go; answers with the latenesses."""

        def receiveMessage(self, message, sender):
            if isinstance(message, float):
                self.late.append(message)
                if len(self.late) == self.n:
                    self.send(self.asker, self.late)
            elif isinstance(message, tuple):
                self.asker, (self.n, seconds), self.late = sender, message, []
                sleepers = [self.createActor(ThSleeper) for _ in range(self.n)]
                for a in sleepers:
                    self.send(a, ("go", seconds))

    _thespian_classes = ThEcho, ThVolley, ThCounter, ThBlaster, ThFanout, ThTimers
    return _thespian_classes


class _ThespianSystem:
    def __enter__(self):
        actors = _thespian()
        self.system = actors.ActorSystem("simpleSystemBase", logDefs=False, transientUnique=True)
        return self.system

    def __exit__(self, *exc):
        self.system.shutdown()


def thespian_pingpong(n):
    ThEcho, ThVolley = _thespian_actors()[:2]
    with _ThespianSystem() as system:
        other = system.createActor(ThEcho)
        t0 = time.perf_counter()
        a = system.createActor(ThVolley)
        answer = system.ask(a, (other, n), 600)
        t = time.perf_counter() - t0
    assert answer == "done", answer
    return n / t


def thespian_oneway(n):
    ThCounter, ThBlaster = _thespian_actors()[2:4]
    with _ThespianSystem() as system:
        counter = system.createActor(ThCounter)
        blaster = system.createActor(ThBlaster)
        t0 = time.perf_counter()
        answer = system.ask(blaster, (counter, n), 600)
        t = time.perf_counter() - t0
    assert answer == "done", answer
    return t


def thespian_fanout(n):
    ThFanout = _thespian_actors()[4]
    with _ThespianSystem() as system:
        t0 = time.perf_counter()
        a = system.createActor(ThFanout)
        answer = system.ask(a, n, 600)
        t = time.perf_counter() - t0
    assert answer == "done", answer
    return t


def thespian_timers(n, seconds):
    ThTimers = _thespian_actors()[5]
    with _ThespianSystem() as system:
        a = system.createActor(ThTimers)
        late = system.ask(a, (n, seconds), 600)
    assert isinstance(late, list) and len(late) == n, late
    return late


# --- the floors: bare threads and SimpleQueues, no runtime at all -----------------------------------


def threads_floor(n):
    """Round trips per second of two threads passing a token through two SimpleQueues: the
    ceiling for any design that gives each side a thread of its own and blocks between messages."""
    from _queue import SimpleQueue

    there, back = SimpleQueue(), SimpleQueue()

    def other():
        get, put = there.get, back.put
        for _ in range(n):
            put(get())

    thread = threading.Thread(target=other)
    thread.start()
    get, put = back.get, there.put
    t0 = time.perf_counter()
    for _ in range(n):
        put(PING)
        get()
    t = time.perf_counter() - t0
    thread.join()
    return n / t


def timers_floor(n, seconds):
    """Lateness of ``n`` bare threads, each blocked on a SimpleQueue of its own: on a go put to
    each in turn, a thread hands ``(deadline, queue)`` to one timer thread, which keeps a heap and
    puts to each queue at its deadline. The floor for any design that wakes a thread per timer."""
    import heapq
    from _queue import Empty, SimpleQueue

    inbox = SimpleQueue()
    queues = [SimpleQueue() for _ in range(n)]
    late = [0.0] * n

    def timer_thread():
        heap, left, timeout = [], n, None
        while left:
            try:
                item = inbox.get() if timeout is None else inbox.get(timeout=timeout)
                heapq.heappush(heap, item)
            except Empty:
                pass
            now = monotonic()
            while heap and heap[0][0] <= now:
                heapq.heappop(heap)[2].put(None)
                left -= 1
            timeout = heap[0][0] - now if heap else None

    def bare(i):
        q = queues[i]
        q.get()
        due = monotonic() + seconds
        inbox.put((due, i, q))
        q.get()
        late[i] = monotonic() - due

    threads = [threading.Thread(target=timer_thread)]
    threads += [threading.Thread(target=bare, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for q in queues:
        q.put(None)
    for t in threads:
        t.join()
    return late


# --- whole processes ------------------------------------------------------------------------------


def _time_commands(commands, runs, cwd=None):
    """Run each command ``runs`` times, interleaved in a shuffled order each round, after one
    unmeasured warm-up each (it also writes the .pyc files); ``commands`` maps a label to
    ``(argv, env)``. Returns {label: [seconds, ...]}, runs in round order so rounds pair up."""
    times = {label: [] for label in commands}
    order = list(commands)
    for label in order:
        argv, env = commands[label]
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    for _ in range(runs):
        random.shuffle(order)
        for label in order:
            argv, env = commands[label]
            t0 = time.perf_counter()
            r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
            t = time.perf_counter() - t0
            if r.returncode != 0:
                raise RuntimeError(f"{label}: exit {r.returncode}: {r.stderr.decode(errors='replace').strip()}")
            times[label].append(t)
    return times


def _has_module(name):
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _dev_env():
    """This venv as it is: its folder first on PATH, so that the launchers in bin/
    (``exec python3 ...``) run its interpreter rather than a shim."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _clean_env(folder):
    """A python as a user's install sees it: a bare venv of the real interpreter (no .pth files,
    so no editable-install finder that imports pathlib, re and enum at every start), the package
    and its dependencies on PYTHONPATH, and .pyc files written (under ``folder``, not the source
    tree) even where PYTHONDONTWRITEBYTECODE is set. Returns (python, env)."""
    import sysconfig
    import venv

    target = os.path.join(folder, "python")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    paths = sysconfig.get_paths()
    path = [REPO] + list(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(folder, "pycache")
    bin_folder = os.path.join(target, "bin")
    env["PATH"] = bin_folder + os.pathsep + env.get("PATH", "")
    return os.path.join(bin_folder, "python3"), env


def _make_home(folder, env):
    """``ansar create H --redirect-bin=<repo>/bin`` and ``ansar add noop noop-0 H``."""
    home = os.path.join(folder, "H")
    ansar = [sys.executable, "-c", "import sys; from ansar.command.main import main; sys.exit(main())"]
    ansar_bin = os.path.join(os.path.dirname(sys.executable), "ansar")
    if os.path.exists(ansar_bin):
        ansar = [ansar_bin]
    for args in (["create", home, "--redirect-bin=" + os.path.join(REPO, "bin")], ["add", "noop", "noop-0", home]):
        r = subprocess.run(ansar + args, env=env, cwd=folder, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"ansar {' '.join(args)}: exit {r.returncode}: {r.stderr.decode().strip()}")
    return home


# --- the rounds -----------------------------------------------------------------------------------


class Sizes:
    def __init__(self, quick):
        self.rounds = 1 if quick else 5
        self.pingpong_function = 2_000 if quick else 10_000
        self.pingpong_pairs = 2 if quick else 4  # floor and ansar in turn, this many times a round
        self.pingpong_class = 2_000 if quick else 50_000
        self.oneway = 10_000 if quick else 100_000
        self.fanout = 100 if quick else 1_000
        self.timers = 20 if quick else 200
        self.timer_seconds = 0.05
        self.timer_repeats = 2 if quick else 4  # each a round: floor, function, class, thespian
        self.process_runs = 2 if quick else 30


def _median(values):
    return statistics.median(values) if values else None


def _paired_ratio(ours, theirs):
    pairs = [a / b for a, b in zip(ours, theirs, strict=False) if a is not None and b]
    return _median(pairs)


def _percentile(values, q):
    """Nearest-rank percentile, ``q`` in 0..100."""
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def _row(group, what, ours, peer, theirs, ratio, unit, target=None, met=None):
    return {
        "group": group, "what": what, "ours": ours, "peer": peer, "theirs": theirs,
        "ratio": ratio, "unit": unit, "target": target, "met": met,
    }


GROUPS = ("ping-pong", "one-way", "fan-out", "timers", "start-up")


def _in_process(sizes, log, groups=GROUPS):
    have_pykka, have_thespian = _pykka() is not None, _thespian() is not None
    s = sizes
    series = {}

    def record(key, fn, *args):
        series.setdefault(key, []).append(fn(*args))

    for r in range(s.rounds):
        log(f"round {r + 1}/{s.rounds}")
        if "ping-pong" in groups:
            # (1) round trips per second; the floor and ansar in turn, each first every other time
            for i in range(s.pingpong_pairs):
                pair = [("pp_floor", threads_floor), ("pp_fn", ansar_pingpong_function)]
                for key, fn in pair if i % 2 else pair[::-1]:
                    record(key, fn, s.pingpong_function)
            if have_pykka:
                record("pp_pykka_tell", pykka_pingpong_tell, s.pingpong_function)
                record("pp_pykka_ask", pykka_pingpong_ask, s.pingpong_function)
            record("pp_class", ansar_pingpong_class, s.pingpong_class)
            if have_thespian:
                record("pp_thespian", thespian_pingpong, s.pingpong_class)
        if "one-way" in groups:
            # (2) one-way throughput: seconds until all are received
            record("ow_fn", ansar_oneway_function, s.oneway)
            record("ow_class", ansar_oneway_class, s.oneway)
            if have_pykka:
                record("ow_pykka", pykka_oneway, s.oneway)
            if have_thespian:
                record("ow_thespian", thespian_oneway, s.oneway)
        if "fan-out" in groups:
            # (3) fan-out: seconds to create n objects, send each a message and gather n replies
            record("fo_class", ansar_fanout, s.fanout)
            if have_pykka:
                record("fo_pykka", pykka_fanout, s.fanout)
            if have_thespian:
                record("fo_thespian", thespian_fanout, s.fanout)
        if "timers" in groups:
            # (4) timers: the lateness of each, seconds; the order turns from one repeat to the next
            kinds = [("tm_floor", timers_floor), ("tm_fn", ansar_timers_function), ("tm_class", ansar_timers_class)]
            if have_thespian:
                kinds.append(("tm_thespian", thespian_timers))
            for i in range(s.timer_repeats):
                turn = (r * s.timer_repeats + i) % len(kinds)
                for key, fn in kinds[turn:] + kinds[:turn]:
                    record(key, fn, s.timers, s.timer_seconds)
    return series


def _whole_process(sizes, log):
    folder = tempfile.mkdtemp(prefix="ansar-bench-")
    try:
        dev = _dev_env()
        home = _make_home(folder, dev)
        py, clean = _clean_env(folder)
        noop = os.path.join(REPO, "examples", "noop.py")
        component = [os.path.join(REPO, "bin", "noop"), "--home-path=" + home, "--role-name=noop-0"]
        commands = {
            "python -c pass": ([py, "-c", "pass"], clean),
            "import ansar.create": ([py, "-c", "import ansar.create"], clean),
        }
        if _has_module("pykka"):
            commands["import pykka"] = ([py, "-c", "import pykka"], clean)
        if _has_module("thespian"):
            commands["import thespian.actors"] = ([py, "-c", "import thespian.actors"], clean)
        commands["noop tool"] = ([py, noop], clean)
        commands["noop component"] = (component, clean)
        commands["dev venv: python -c pass"] = ([sys.executable, "-c", "pass"], dev)
        commands["dev venv: import ansar.create"] = ([sys.executable, "-c", "import ansar.create"], dev)
        commands["dev venv: noop component"] = (component, dev)
        log(f"whole processes: {len(commands)} commands x {sizes.process_runs} interleaved runs")
        return _time_commands(commands, sizes.process_runs, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(quick=False, verbose=False, groups=GROUPS):
    """Run the benchmarks of ``groups`` (all by default); returns the rows of the table (dicts)."""
    log = (lambda text: print(f"... {text}", file=sys.stderr, flush=True)) if verbose else (lambda text: None)
    sizes = Sizes(quick)
    series = _in_process(sizes, log, groups)
    procs = _whole_process(sizes, log) if "start-up" in groups else None
    return _rows(series, procs, sizes)


def _rows(series, procs, sizes):
    rows = []
    if "pp_fn" in series:
        rows += _pingpong_rows(series.get, sizes)
    if "ow_fn" in series:
        rows += _oneway_rows(series.get, sizes)
    if "fo_class" in series:
        rows += _fanout_rows(series.get, sizes)
    if "tm_fn" in series:
        rows += _timer_rows(series.get, sizes)
    if procs is not None:
        rows += _startup_rows(procs)
    return rows


def _pingpong_rows(g, sizes):
    rows = []
    fn, cls, floor = g("pp_fn"), g("pp_class"), g("pp_floor")
    tell, ask, th = g("pp_pykka_tell"), g("pp_pykka_ask"), g("pp_thespian")
    what = f"ping-pong, function objects ({sizes.pingpong_function:,} round trips)"
    ratio = _paired_ratio(fn, floor)  # floor and ansar were measured in pairs, one after the other
    rows.append(_row("ping-pong", what, _median(fn), "2 bare threads, SimpleQueue", _median(floor), ratio,
                     "rt/s", ">= 0.95x floor", ratio >= 0.95))
    # pykka was measured once a round, beside that round's pairs
    per_round = sizes.pingpong_pairs
    fn_rounds = [_median(fn[i:i + per_round]) for i in range(0, len(fn), per_round)]
    if tell:
        rows.append(_row("ping-pong", what, _median(fn), "pykka, 2 actors (tell)", _median(tell),
                         _paired_ratio(fn_rounds, tell), "rt/s"))
    if ask:
        rows.append(_row("ping-pong", what, _median(fn), "pykka, caller asks", _median(ask),
                         _paired_ratio(fn_rounds, ask), "rt/s"))
    what = f"ping-pong, class-based objects ({sizes.pingpong_class:,} round trips)"
    ratio = _paired_ratio(cls, th) if th else None
    rows.append(_row("ping-pong", what, _median(cls), "thespian simpleSystemBase", _median(th) if th else None,
                     ratio, "rt/s", "> thespian simple", None if ratio is None else ratio > 1.0))
    if tell:
        rows.append(_row("ping-pong", what, _median(cls), "pykka, 2 actors (tell)", _median(tell),
                         _paired_ratio(cls, tell), "rt/s"))
    return rows


def _oneway_rows(g, sizes):
    rows = []
    n = sizes.oneway

    def rate(key):
        v = g(key)
        return [n / t for t in v] if v else None

    for key, what in (("ow_fn", "function object"), ("ow_class", "class-based object")):
        ours = rate(key)
        for peer_key, peer in (("ow_pykka", "pykka"), ("ow_thespian", "thespian simpleSystemBase")):
            theirs = rate(peer_key)
            rows.append(_row("one-way", f"one-way {n:,} msgs, {what}", _median(ours), peer,
                             _median(theirs) if theirs else None,
                             _paired_ratio(ours, theirs) if theirs else None, "msg/s"))
    return rows


def _fanout_rows(g, sizes):
    rows = []
    ms = 1000.0
    ours = g("fo_class")
    for peer_key, peer in (("fo_pykka", "pykka (a thread each)"), ("fo_thespian", "thespian simpleSystemBase")):
        theirs = g(peer_key)
        rows.append(_row("fan-out", f"fan-out {sizes.fanout:,} class-based objects", _median(ours) * ms, peer,
                         _median(theirs) * ms if theirs else None,
                         _paired_ratio(ours, theirs) if theirs else None, "ms"))
    return rows


TIMER_PEERS = {"tm_floor": "200 bare threads, 1 timer thread", "tm_thespian": "thespian simpleSystemBase"}
TIMER_TARGETS = {("tm_fn", "tm_floor"): 1.5, ("tm_class", "tm_thespian"): 1.0}


def _timer_rows(g, sizes):
    """Lateness in ms. Each repeat gives one percentile per kind; a figure is the median over the
    repeats, a ratio the median of the repeats' ratios (the kinds of one repeat ran back to back)."""
    rows = []
    ms = 1000.0
    what = f"timer lateness, {sizes.timers} x {sizes.timer_seconds * ms:.0f} ms"
    per = {key: g(key) for key in ("tm_fn", "tm_class", "tm_floor", "tm_thespian") if g(key)}
    for label, q in (("p50", 50), ("p99", 99)):
        pct = {key: [_percentile(r, q) * ms for r in runs] for key, runs in per.items()}
        for ours, kind in (("tm_fn", "function objects"), ("tm_class", "class-based objects")):
            for peer_key, peer in TIMER_PEERS.items():
                if peer_key not in pct:
                    rows.append(_row("timers", f"{what}, {kind}: {label}", _median(pct[ours]), peer, None,
                                     None, "ms"))
                    continue
                ratio = _paired_ratio(pct[ours], pct[peer_key])
                limit = TIMER_TARGETS.get((ours, peer_key)) if label == "p99" else None
                target = None if limit is None else f"p99 <= {limit:g}x"
                rows.append(_row("timers", f"{what}, {kind}: {label}", _median(pct[ours]), peer,
                                 _median(pct[peer_key]), ratio, "ms", target,
                                 None if limit is None else ratio <= limit))
    return rows


def _startup_rows(procs):
    rows = []
    ms = 1000.0

    # (5) import and (6) noop: whole process medians, and the median of paired differences from
    # `python -c pass` (the runs of one round are paired). Targets are judged on the clean python.
    def delta(label, base_label):
        return _median([a - b for a, b in zip(procs[label], procs[base_label], strict=True)]) * ms

    def startup(label, base_label, what, target=None, limit=None):
        if label not in procs:
            return
        base = procs[base_label]
        d = delta(label, base_label)
        rows.append(_row("start-up", f"{what} (whole process)", _median(procs[label]) * ms, base_label,
                         _median(base) * ms, _paired_ratio(procs[label], base), "ms"))
        rows.append(_row("start-up", f"{what}: over {base_label}", d, None, None, None, "ms",
                         target, None if limit is None else d < limit))

    base = "python -c pass"
    startup("import ansar.create", base, "import ansar.create", "import < 30 ms", 30.0)
    startup("import pykka", base, "import pykka")
    startup("import thespian.actors", base, "import thespian.actors")
    startup("noop tool", base, "noop tool")
    startup("noop component", base, "noop component", "within 40 ms of pass", 40.0)
    dev = "dev venv: python -c pass"
    rows.append(_row("start-up", "dev venv: python -c pass (whole process)", _median(procs[dev]) * ms, base,
                     _median(procs[base]) * ms, _paired_ratio(procs[dev], procs[base]), "ms"))
    startup("dev venv: import ansar.create", dev, "dev venv: import ansar.create")
    startup("dev venv: noop component", dev, "dev venv: noop component")
    return rows


# --- printing -------------------------------------------------------------------------------------


def _fmt(value, unit):
    if value is None:
        return "n/a"
    if unit in ("rt/s", "msg/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def format_table(rows):
    header = ("benchmark", "ansar", "peer", "peer figure", "ansar/peer", "target", "met")
    lines = []
    for r in rows:
        met = "" if r["met"] is None else ("MET" if r["met"] else "MISSED")
        lines.append((
            r["what"], _fmt(r["ours"], r["unit"]), r["peer"] or "", "" if r["peer"] is None else _fmt(r["theirs"],
            r["unit"]), "" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["target"] or "", met,
        ))
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = []
    for line in [header, None] + lines:
        if line is None:
            out.append("  ".join("-" * w for w in widths))
            continue
        cells = [line[0].ljust(widths[0]), line[1].rjust(widths[1]), line[2].ljust(widths[2]),
                 line[3].rjust(widths[3]), line[4].rjust(widths[4]), line[5].ljust(widths[5]), line[6]]
        out.append("  ".join(cells).rstrip())
    out.append("")
    out.append("ansar/peer is the median of per-round ratios. rt/s and msg/s: above 1 means ansar is faster;")
    out.append("ms: below 1 means ansar is faster (or less late).")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run with small sizes")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"the groups to run, comma-separated (default: all of {','.join(GROUPS)})")
    args = parser.parse_args(argv)
    groups = tuple(g.strip() for g in args.only.split(",") if g.strip())
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"--only: unknown group {unknown[0]!r} (expected some of {','.join(GROUPS)})")
    started = time.perf_counter()
    rows = run(quick=args.quick, verbose=True, groups=groups)
    print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} cores; "
          f"{'quick' if args.quick else 'full'} run of {','.join(groups)} in {time.perf_counter() - started:.0f} s")
    print(format_table(rows))
    missed = [r["target"] for r in rows if r["met"] is False]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
