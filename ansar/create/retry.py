"""Retry strategies: the ``retry`` property of a role and the delays it describes."""

from __future__ import annotations

import random
from typing import Annotated, Iterator, Optional, Protocol

import msgspec

__all__ = ["MAX_DELAY", "MIN_DELAY", "RANGES", "RetryIntervals", "intervals"]

MIN_DELAY = 0.1  # seconds: no retry comes sooner, whatever a property says
MAX_DELAY = 7 * 24 * 3600.0  # a week

Delay = Annotated[float, msgspec.Meta(ge=MIN_DELAY, le=MAX_DELAY)]

# What each member accepts, for messages that refuse one.
RANGES = {
    "first_steps": f"each a delay of {MIN_DELAY:g} to {MAX_DELAY:g} seconds",
    "regular_steps": f"a delay of {MIN_DELAY:g} to {MAX_DELAY:g} seconds",
    "step_limit": "a count of delays, 0 or more",
    "randomized": f"a slot of 0 to {MAX_DELAY:g} seconds",
    "truncated": "a fraction of the delay, 0 to 1",
}


class RetryIntervals(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """How long to wait between attempts.

    ``first_steps`` are the opening delays, then ``regular_steps`` repeats; ``step_limit`` caps the
    total number of delays (None with a ``regular_steps`` means endless). ``randomized`` is the
    size in seconds of the slots a delay is extended by, chosen at random, and ``truncated`` the
    fraction of the delay available for that extension (the whole delay when None). Decoding
    checks the ranges in ``RANGES``; a delay is never shorter than ``MIN_DELAY``.
    """

    first_steps: list[Delay] = []
    regular_steps: Optional[Delay] = None
    step_limit: Optional[Annotated[int, msgspec.Meta(ge=0)]] = None
    randomized: Optional[Annotated[float, msgspec.Meta(ge=0.0, le=MAX_DELAY)]] = None
    truncated: Optional[Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]] = None


class _Chooser(Protocol):
    def randint(self, a: int, b: int) -> int: ...


def _base_steps(retry: RetryIntervals) -> Iterator[float]:
    count = 0
    limit = retry.step_limit
    for step in retry.first_steps:
        if limit is not None and count >= limit:
            return
        yield max(float(step), MIN_DELAY)
        count += 1
    if retry.regular_steps is None:
        return
    regular = max(float(retry.regular_steps), MIN_DELAY)
    while limit is None or count < limit:
        yield regular
        count += 1


def intervals(retry: RetryIntervals, rng: Optional[_Chooser] = None) -> Iterator[float]:
    """Yield the delays, in seconds, that ``retry`` describes (possibly endless), each at least
    ``MIN_DELAY`` even for a value built without decoding."""
    slot = retry.randomized
    if not slot or slot <= 0.0:
        yield from _base_steps(retry)
        return
    chooser = rng if rng is not None else random.Random()
    portion = 1.0 if retry.truncated is None else min(max(retry.truncated, 0.0), 1.0)
    for step in _base_steps(retry):
        available = step * portion
        slots = int(available / slot + 1e-9)
        yield step + chooser.randint(0, slots) * slot if slots > 0 else step
