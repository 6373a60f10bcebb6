"""Retry strategies: the ``retry`` property of a role and the delays it describes."""

from __future__ import annotations

import random
from typing import Iterator, Optional, Protocol

import msgspec

__all__ = ["RetryIntervals", "intervals"]


class RetryIntervals(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """How long to wait between attempts.

    ``first_steps`` are the opening delays, then ``regular_steps`` repeats; ``step_limit`` caps the
    total number of delays (None with a ``regular_steps`` means endless). ``randomized`` is the
    size in seconds of the slots a delay is extended by, chosen at random, and ``truncated`` the
    fraction of the delay available for that extension (the whole delay when None).
    """

    first_steps: list[float] = []
    regular_steps: Optional[float] = None
    step_limit: Optional[int] = None
    randomized: Optional[float] = None
    truncated: Optional[float] = None


class _Chooser(Protocol):
    def randint(self, a: int, b: int) -> int: ...


def _base_steps(retry: RetryIntervals) -> Iterator[float]:
    count = 0
    limit = retry.step_limit
    for step in retry.first_steps:
        if limit is not None and count >= limit:
            return
        yield float(step)
        count += 1
    if retry.regular_steps is None:
        return
    while limit is None or count < limit:
        yield float(retry.regular_steps)
        count += 1


def intervals(retry: RetryIntervals, rng: Optional[_Chooser] = None) -> Iterator[float]:
    """Yield the delays, in seconds, that ``retry`` describes (possibly endless)."""
    slot = retry.randomized
    if not slot or slot <= 0.0:
        yield from _base_steps(retry)
        return
    chooser = rng if rng is not None else random.Random()
    portion = 1.0 if retry.truncated is None else retry.truncated
    for step in _base_steps(retry):
        available = step * portion
        slots = int(available / slot + 1e-9)
        yield step + chooser.randint(0, slots) * slot if slots > 0 else step
