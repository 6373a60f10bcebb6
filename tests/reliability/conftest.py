"""Fixtures of the reliability tests, the per-test hunt for orphans and the figures at the end.

Every test here injects faults into the ansar command or its roles and checks what must hold
whatever happens; ``reliability_support.FIGURES`` counts the faults and what they broke, and the
session ends by printing the line (``make test`` shows it under the test summary).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest
from reliability_support import (
    FIGURES,
    Cli,
    InProcess,
    gone,
    kill_all,
    link_examples,
)

EXAMPLES = ("busy", "factorial", "noop", "snooze", "zombie", "server", "client")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(FIGURES.line())


def _identities() -> set[tuple[int, float]]:
    found = set()
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return found
    for p in children:
        try:
            found.add((p.pid, p.create_time()))
        except psutil.Error:
            pass
    return found


def _marked_under(root: Path) -> list[int]:
    """Processes whose lineage marker names a home under ``root`` (roles of this test's homes)."""
    prefixes = (f"ANSAR_LINEAGE={root}".encode(), f"ANSAR_LINEAGE={os.path.realpath(root)}".encode())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(prefixes) for e in env) and not gone(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def orphans_are_counted(tmp_path: Path) -> Iterator[None]:
    """After each test (and its fixtures' cleanup): every process it left behind that has not
    ended within a second is an orphan, counted and killed, whether still a child of this process
    (a subreaper) or carrying the lineage marker of one of the test's homes."""
    before = _identities()
    yield

    def left_behind() -> set[int]:
        return {pid for pid, _ in _identities() - before if not gone(pid)} | set(_marked_under(tmp_path))

    # A second to end, as the issue allows a killed run's descendants (its guard sweeps, then ends).
    deadline = time.monotonic() + 1.0
    while (left := left_behind()) and time.monotonic() < deadline:
        time.sleep(0.01)  # polling with a deadline: no event tells of another process's end
    if left:
        FIGURES.add("orphan processes", len(left))
        kill_all(left)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A bin folder of the test's own: links to the checkout's launchers, room for programs."""
    folder = tmp_path / "bin"
    link_examples(folder, *EXAMPLES)
    return folder


@pytest.fixture
def cli(tmp_path: Path, tool_env: dict[str, str], bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """A home in ``tmp_path/work`` with its bin redirected to ``bin_dir``; ``cli.fast`` runs
    commands in-process (same home, same PATH)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("PATH", tool_env["PATH"])
    monkeypatch.setenv("HOME", tool_env["HOME"])
    monkeypatch.setenv("XDG_CONFIG_HOME", tool_env["XDG_CONFIG_HOME"])
    c = Cli(work, tool_env)
    c.fast = InProcess(work)  # type: ignore[attr-defined]
    c.fast.ok("create", f"--redirect-bin={bin_dir}")  # type: ignore[attr-defined]
    yield c
    if c.home.exists():
        c.fast("-f", "stop")  # type: ignore[attr-defined]
