"""``run --code-path=DIR`` and ``run --test-run``: the TestReports of a run, for people and IDEs.

A test role is one whose value in the run is an ``ansar.create.test.TestReport``. Each failed
test is printed as ``<source>:<line> - <text>`` with ``source`` resolved under the code path, so
that an IDE's terminal makes it a link to the line.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["analyze", "print_test_run", "resolve_sources", "test_suite", "write_junit"]


def _index(code_path: str) -> dict[str, str]:
    """File name to absolute path under ``code_path``: the shallowest first, then by name."""
    found: dict[str, str] = {}
    root = os.path.abspath(code_path)
    for folder, subfolders, files in sorted(os.walk(root), key=lambda w: (w[0].count(os.sep), w[0])):
        subfolders[:] = [s for s in subfolders if not s.startswith(".") and s != "__pycache__"]
        for name in sorted(files):
            found.setdefault(name, os.path.join(folder, name))
    return found


def resolve_sources(completed: dict[str, Any], code_path: str) -> None:
    """Replace each test's ``source`` with the absolute path of the file of that name under
    ``code_path`` (kept as recorded when there is none)."""
    import msgspec

    import ansar.create as ar

    index: dict[str, str] | None = None
    for role, value in completed.items():
        if not isinstance(value, ar.TestReport):
            continue
        index = _index(code_path) if index is None else index
        tested = [msgspec.structs.replace(t, source=index.get(os.path.basename(t.source), t.source))
                  for t in value.tested]
        completed[role] = msgspec.structs.replace(value, tested=tested)


def print_test_run(completed: dict[str, Any], search: Any) -> int:
    """The table of test roles and the failed tests; the exit status of a test run."""
    import ansar.create as ar

    lines: list[str] = []
    navigation: list[str] = []
    reports = 0
    failed = False
    for role, value in completed.items():
        if isinstance(value, ar.TestReport):
            reports += 1
            lines.append(f'role "{role}" (pass/fail): {value.passed}/{value.failed}')
            navigation += [f"{t.source}:{t.line} - {t.text}" for t in value.tested if not t.condition]
            failed = failed or value.failed > 0
        elif isinstance(value, (ar.Faulted, ar.TimedOut)):
            condition = value.condition if isinstance(value, ar.Faulted) else "timed out"
            lines.append(f'role "{role}" (faulted): {condition}')
            failed = True
    out = "\n".join(lines + navigation)
    if out:
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    if not reports:
        sys.stderr.write(f'ansar: no test reports from "{search}"\n')
        return 1
    return 1 if failed else 0


def test_suite(completed: dict[str, Any]) -> Any:
    """The ``ar.TestSuite`` of a run: every role whose value is a TestReport."""
    import ansar.create as ar

    return ar.TestSuite({role: v for role, v in completed.items() if isinstance(v, ar.TestReport)})


def analyze(ansar: Any, path: str, suite: Any, level: int) -> Any:
    """Run the analyzer executable ``path`` with the suite as its input; its value."""
    import ansar.create as ar

    ansar.console(f'Analyzing {len(suite.report)} reports with "{path}"')
    ansar.create(ar.Process, path, input=suite, debug_level=level)
    return ansar.select(ar.Completed).value


def write_junit(path: str, completed: dict[str, Any], durations: dict[str, float]) -> None:
    """The run as JUnit XML, atomically: a testsuite per role, a testcase per test (a role
    without a TestReport is one testcase, failing when its value is a Faulted)."""
    from xml.etree import ElementTree as ET

    import ansar.create as ar
    from ansar.home._store import write_file

    root = ET.Element("testsuites", name="ansar run")
    for role, value in completed.items():
        suite = ET.SubElement(root, "testsuite", name=role, time=f"{durations.get(role, 0.0):.3f}")
        if isinstance(value, ar.TestReport):
            for t in value.tested:
                case = ET.SubElement(suite, "testcase", name=t.text or f"{t.source}:{t.line}", classname=role,
                                     file=t.source, line=str(t.line))
                if not t.condition:
                    ET.SubElement(case, "failure", message=t.text).text = f"{t.source}:{t.line} - {t.text}"
            suite.set("tests", str(len(value.tested)))
            suite.set("failures", str(sum(1 for t in value.tested if not t.condition)))
            continue
        case = ET.SubElement(suite, "testcase", name=role, classname=role)
        suite.set("tests", "1")
        if isinstance(value, ar.Faulted):
            ET.SubElement(case, "failure", message=value.condition or "faulted")
            suite.set("failures", "1")
        elif isinstance(value, (ar.Aborted, ar.TimedOut)):
            ET.SubElement(case, "error", message=type(value).__name__)
            suite.set("errors", "1")
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    write_file(os.path.abspath(path), data)
