"""Retry delays: the sequences of the tour's table, with the randomness seeded or scripted."""

from __future__ import annotations

import itertools
import random

import msgspec
import pytest

from ansar.create.retry import RetryIntervals, intervals


class Scripted:
    """An rng whose ``randint`` answers from a list and records what it was asked."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.asked = []

    def randint(self, a, b):
        self.asked.append((a, b))
        value = self.answers.pop(0)
        assert a <= value <= b
        return value


def take(iterator, n):
    return list(itertools.islice(iterator, n))


def test_first_steps_alone():
    assert list(intervals(RetryIntervals(first_steps=[1.0, 2.0, 4.0]))) == [1.0, 2.0, 4.0]


def test_regular_steps_without_a_limit_are_endless():
    assert take(intervals(RetryIntervals(regular_steps=1.0)), 50) == [1.0] * 50


def test_regular_steps_with_a_limit():
    assert list(intervals(RetryIntervals(regular_steps=1.0, step_limit=4))) == [1.0, 1.0, 1.0, 1.0]


def test_first_steps_then_regular_steps_up_to_the_limit():
    retry = RetryIntervals(first_steps=[1.0, 2.0, 4.0], regular_steps=8.0, step_limit=6)
    assert list(intervals(retry)) == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_randomized_and_truncated_reproduce_the_tour_table():
    retry = RetryIntervals(first_steps=[1.0, 2.0, 4.0], regular_steps=8.0, step_limit=6, randomized=0.25, truncated=0.5)
    rng = Scripted([1, 2, 8, 12, 6, 10])
    assert list(intervals(retry, rng=rng)) == [1.25, 2.5, 6.0, 11.0, 9.5, 10.5]
    # the slots available are a truncated portion of each delay, sliced by ``randomized``
    assert rng.asked == [(0, 2), (0, 4), (0, 8), (0, 16), (0, 16), (0, 16)]


def test_randomized_delays_stay_within_the_truncated_portion():
    retry = RetryIntervals(first_steps=[1.0, 2.0, 4.0], regular_steps=8.0, step_limit=6, randomized=0.25, truncated=0.5)
    base = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    for seed in range(50):
        delays = list(intervals(retry, rng=random.Random(seed)))
        assert len(delays) == 6
        for d, b in zip(delays, base, strict=True):
            assert b <= d <= b * 1.5 + 1e-9
            assert abs((d - b) / 0.25 - round((d - b) / 0.25)) < 1e-9


def test_the_same_seed_gives_the_same_delays():
    retry = RetryIntervals(first_steps=[1.0, 2.0, 4.0], regular_steps=8.0, step_limit=6, randomized=0.25)
    a = list(intervals(retry, rng=random.Random(7)))
    b = list(intervals(retry, rng=random.Random(7)))
    assert a == b


def test_randomized_without_truncated_may_use_the_whole_delay():
    retry = RetryIntervals(first_steps=[2.0], randomized=0.5)
    rng = Scripted([4])
    assert list(intervals(retry, rng=rng)) == [4.0]
    assert rng.asked == [(0, 4)]


def test_step_limit_shorter_than_first_steps_cuts_them():
    assert list(intervals(RetryIntervals(first_steps=[1.0, 2.0, 4.0], step_limit=2))) == [1.0, 2.0]


def test_nothing_set_means_no_retries():
    assert list(intervals(RetryIntervals())) == []


def test_a_retry_property_decodes_from_the_tour_file_and_rejects_unknown_members():
    envelope = msgspec.json.decode(b'{"value": {"first_steps": [1.0, 2.0, 4.0]}}')
    retry = msgspec.convert(envelope["value"], RetryIntervals)
    assert retry.first_steps == [1.0, 2.0, 4.0] and retry.regular_steps is None
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"first_step": [1.0]}, RetryIntervals)


def test_only_the_members_set_are_encoded():
    assert msgspec.json.decode(msgspec.json.encode(RetryIntervals(first_steps=[1.0]))) == {"first_steps": [1.0]}
