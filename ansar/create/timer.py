"""One thread, one heap: every timer of the process, and the clock they run on."""

from __future__ import annotations

import heapq
import itertools
import threading
import time

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


class TimerService:
    """Runs callbacks at deadlines. Starting a key again replaces it; cancel forgets it."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, object]] = []
        self._current: dict[object, tuple[int, Fire, Optional[float]]] = {}
        self._owned: dict[object, set] = {}  # owner -> its keys, so an ending object is cheap to clear
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._thread: Optional[threading.Thread] = None

    def start(self, key: object, seconds: float, fire: Fire, repeating: bool = False) -> None:
        seconds = max(0.0, float(seconds))
        with self._cond:
            seq = next(self._seq)
            self._current[key] = (seq, fire, seconds if repeating else None)
            if isinstance(key, tuple) and key:
                self._owned.setdefault(key[0], set()).add(key)
            heapq.heappush(self._heap, (_clock.now() + seconds, seq, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ansar-timers", daemon=True)
                self._thread.start()
            self._cond.notify()

    def cancel(self, key: object) -> None:
        with self._cond:
            self._current.pop(key, None)  # its heap entry is skipped when it surfaces
            self._disown(key)

    def cancel_all(self, owner: object) -> None:
        """Forget every key ``(owner, ...)``."""
        with self._cond:
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
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        heap = self._heap
        while True:
            due: list[Fire] = []
            with self._cond:
                while True:
                    now = _clock.now()
                    while heap and heap[0][0] <= now:
                        deadline, seq, key = heapq.heappop(heap)
                        entry = self._current.get(key)
                        if entry is None or entry[0] != seq:
                            continue
                        _, fire, interval = entry
                        due.append(fire)
                        if interval is None:
                            del self._current[key]
                            self._disown(key)
                        else:
                            nseq = next(self._seq)
                            self._current[key] = (nseq, fire, interval)
                            # Next deadline from the previous one, so a repeating timer does not drift.
                            heapq.heappush(heap, (max(deadline + interval, now), nseq, key))
                    if due:
                        break
                    if heap:
                        self._cond.wait(min(heap[0][0] - now, 3600.0))
                    else:
                        self._cond.wait()
            for fire in due:
                fire()


_service = TimerService()


def timers() -> TimerService:
    return _service
