"""One thread, one heap: every timer of the process, and the clock they run on."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from _queue import Empty, SimpleQueue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Protocol
else:
    Protocol = object

__all__ = ["Clock", "FakeClock", "MonotonicClock", "TimerService", "clock", "set_clock", "timers"]


class Clock(Protocol):
    """A monotonic source of seconds; tests inject a FakeClock."""

    def now(self) -> float: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told: ``advance(seconds)`` fires what falls due."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
        _service.poke()


_clock: Clock = MonotonicClock()


def clock() -> Clock:
    return _clock


def set_clock(c: Clock) -> Clock:
    """Drive timers, select timeouts and retries from ``c``; returns the previous clock."""
    global _clock
    previous, _clock = _clock, c
    _service.poke()
    return previous


Fire = "Callable[[], None]"

_AWAKE = float("-inf")  # what the timer thread sleeps until while it is not asleep
_NEVER = float("inf")


class TimerService:
    """Runs callbacks at deadlines. Starting a key again replaces it; cancel forgets it.

    A key ``(owner, ...)`` belongs to ``owner``; ``cancel_all(owner)`` forgets them all. One thread
    sleeps until the earliest deadline: starting a timer wakes it only when the new deadline is
    earlier than the one it sleeps until, so a burst of starts costs it one wake-up, not one each.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, object]] = []
        self._current: dict[object, tuple[int, Fire, Optional[float]]] = {}
        self._owned: dict[object, set] = {}  # owner -> its keys, so an ending object is cheap to clear
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._wake: SimpleQueue = SimpleQueue()  # a token ends the timer thread's sleep early
        self._until = _NEVER  # the deadline the timer thread sleeps until (guarded by _lock)
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self.wakeups = 0  # how many times a start woke the timer thread early

    def start(self, key: object, seconds: float, fire: Fire, repeating: bool = False) -> None:
        seconds = max(0.0, float(seconds))
        with self._lock:
            seq = next(self._seq)
            deadline = _clock.now() + seconds
            self._current[key] = (seq, fire, seconds if repeating else None)
            if isinstance(key, tuple) and key:
                self._owned.setdefault(key[0], set()).add(key)
            heapq.heappush(self._heap, (deadline, seq, key))
            if self._thread is None:
                self._closed = False
                self._thread = threading.Thread(target=self._run, name="ansar-timers", daemon=True)
                self._thread.start()
            wake = deadline < self._until
            if wake:
                self._until = deadline  # later starts in this burst need not wake it again
                self.wakeups += 1
        if wake:
            self._wake.put(None)

    def cancel(self, key: object) -> None:
        with self._lock:
            self._current.pop(key, None)  # its heap entry is skipped when it surfaces
            self._disown(key)

    def cancel_all(self, owner: object) -> None:
        """Forget every key ``(owner, ...)``."""
        if owner not in self._owned:
            # Only an owner's own thread adds its keys, so when it ends a miss here is final:
            # most objects end with no timer left and take no lock on the way.
            return
        with self._lock:
            for key in self._owned.pop(owner, ()):
                self._current.pop(key, None)

    def _disown(self, key: object) -> None:
        if isinstance(key, tuple) and key:
            keys = self._owned.get(key[0])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._owned[key[0]]

    def poke(self) -> None:
        """Make the timer thread look at the clock again (after a FakeClock moved)."""
        self._wake.put(None)

    def close(self) -> None:
        """End the timer thread and forget every timer (a service made by a test, say)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._closed = True
            self._heap.clear()
            self._current.clear()
            self._owned.clear()
            self._until = _NEVER
        if thread is not None:
            self._wake.put(None)
            thread.join()

    def _due(self, now: float) -> list[Fire]:
        """Take what falls due at ``now`` off the heap (repeating ones go back on); under the lock."""
        heap, current = self._heap, self._current
        due: list[Fire] = []
        while heap and heap[0][0] <= now:
            deadline, seq, key = heapq.heappop(heap)
            entry = current.get(key)
            if entry is None or entry[0] != seq:
                continue  # cancelled or replaced
            _, fire, interval = entry
            due.append(fire)
            if interval is None:
                del current[key]
                self._disown(key)
            else:
                nseq = next(self._seq)
                current[key] = (nseq, fire, interval)
                # Next deadline from the previous one, so a repeating timer does not drift.
                heapq.heappush(heap, (max(deadline + interval, now), nseq, key))
        return due

    def _run(self) -> None:
        heap, lock, get = self._heap, self._lock, self._wake.get
        while True:
            with lock:
                if self._closed:
                    return
                now = _clock.now()
                due = self._due(now)
                # Awake while firing: a start meanwhile needs no token, the heap is read again first.
                until = self._until = _AWAKE if due else (heap[0][0] if heap else _NEVER)
            if due:
                # Outside the lock, in deadline order: each callback puts to a queue and is quick.
                for fire in due:
                    fire()
                continue
            try:
                if until == _NEVER:
                    get()
                else:
                    get(timeout=min(max(until - now, 0.0), 3600.0))
            except Empty:
                pass


_service = TimerService()


def timers() -> TimerService:
    return _service
