"""Built-in test results: ``self.test()`` records, reports and suites."""

from __future__ import annotations

import os
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any

import msgspec

from ._registry import register
from .lifecycle import Enquiry
from .log import USER_LOG

__all__ = ["TestRecord", "TestReport", "TestSuite", "test_enquiry"]

RETAINED = 400  # the newest results kept; older ones are dropped first


class TestRecord(msgspec.Struct):
    """One call of ``self.test()``: where it was, what it said, and whether it held."""

    __test__ = False  # not a pytest class
    condition: bool = False
    source: str = ""
    line: int = 0
    name: str = ""
    stamp: datetime = datetime(1970, 1, 1)
    text: str = ""


class TestReport(msgspec.Struct):
    """The tests a program ran: counts of all of them and the newest few hundred records."""

    __test__ = False
    passed: int = 0
    failed: int = 0
    tested: list[TestRecord] = []


class TestSuite:
    """Reports gathered from many roles, by role name (what ``ansar run --test-run`` builds).

    ``report`` is a map, written like every map as a list of ``[role, report]`` pairs.
    """

    __test__ = False

    def __init__(self, report: Any = None) -> None:
        self.report: dict[str, TestReport] = report if report is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TestSuite) and other.report == self.report

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TestSuite(report={self.report!r})"


register(TestRecord)
register(TestReport)
register(TestSuite, factory=lambda d: {"report": d.MapOf(d.Unicode(), d.UserDefined(TestReport))})

_lock = threading.Lock()
_tested: deque[TestRecord] = deque(maxlen=RETAINED)
_counts = [0, 0]  # passed, failed


def record_test(point: Any, condition: bool, text: str, filename: str, line: int) -> bool:
    source = os.path.basename(filename)
    stamp = datetime.now(timezone.utc).replace(tzinfo=None)
    record = TestRecord(condition, source, line, point.object_name, stamp, text)
    with _lock:
        _tested.append(record)
        _counts[0 if condition else 1] += 1
    if not condition:
        point._log(USER_LOG.WARNING, "=", f"{text} ({source}:{line})")
    return condition


def current_report() -> TestReport:
    with _lock:
        return TestReport(passed=_counts[0], failed=_counts[1], tested=list(_tested))


def reset_tests() -> None:
    """Forget every recorded result (for test isolation)."""
    with _lock:
        _tested.clear()
        _counts[0] = _counts[1] = 0


def test_enquiry(point: Any) -> None:
    """Have the runtime send the collected ``TestReport`` to ``point``."""
    from .point import TESTS, send

    point._log(USER_LOG.OBJECT, ">", f"Sent {Enquiry.__name__} to {TESTS!r}")
    send(current_report(), point.address, TESTS)


test_enquiry.__test__ = False  # type: ignore[attr-defined]
