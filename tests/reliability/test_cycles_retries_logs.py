"""Start/stop cycles with nothing growing, retries whose pauses follow the tour's sequence, and a
role logging as fast as it can under a small storage cap.

Cycles: ``start`` and ``stop`` of many roles, in this process (``main(argv)``), over and over: its
file descriptors, threads and memory do not grow, and nothing is left running (a few cycles in
``make test``, 50 of 200 roles in ``make soak``). Retries: a role that fails at once under a retry
property shaped like the tour's (``first_steps`` doubling, then ``regular_steps``; smaller here to
be quick) logs its ``Pausing for`` records in order, each pause at least as long as it says and not
much longer, with next to no CPU between attempts. Logs: storage stays within its cap plus one file
while one role floods it with records and another with invalid UTF-8 and 1 MB lines.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from reliability_support import FIGURES, Cli, InProcess, lineage_pids, make_program, soak, wait_for

from ansar.create._logstore import file_limit


def _trim() -> None:
    """Collect garbage and hand freed heap back to the system (glibc), so RSS counts live memory."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _resources() -> tuple[int, int, int]:
    _trim()
    me = psutil.Process()
    return me.num_fds(), threading.active_count(), me.memory_info().rss


# start in this process leaves the Popen of each detached role unwaited: harmless in the command,
# which exits. Collected here, its ResourceWarning must stay a warning: made an error (the suite's
# filter), it would stop the Popen from queueing itself to be reaped, and pytest would keep every
# such error until the test ends (a zombie and some 2 KiB each, read as a leak).
@pytest.mark.filterwarnings(r"ignore:subprocess \d+ is still running:ResourceWarning")
def test_start_stop_cycles_grow_nothing_and_leave_nothing(cli: Cli) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    roles, cycles, warm = soak((6, 4, 1), (200, 50, 5))

    def cycle() -> None:
        fast.ok("start")
        assert len(fast.ok("status").split()) == roles
        fast.ok("stop")
        FIGURES.fault()
        assert fast.ok("status") == ""

    fast.ok("add", "zombie", f"--count={roles}")
    for _ in range(warm):  # what the command loads and caches once, and the allocator's first arenas
        cycle()
    fds, threads, rss = _resources()
    half = None
    for n in range(cycles):
        cycle()
        if n == cycles // 2:
            half = _resources()[2]
    wait_for(lambda: not lineage_pids(cli.home), seconds=2.0, what="nothing of the roles left")
    now = _resources()
    assert now[0] <= fds, f"file descriptors grew from {fds} to {now[0]}"
    assert now[1] <= threads, f"threads grew from {threads} to {now[1]}"
    # A leak grows with every cycle: the second half of the cycles may not add much to the first.
    assert half is not None
    grew, late = now[2] - rss, now[2] - half
    assert grew < 16 * 1024 * 1024, f"memory grew by {grew >> 20} MiB over {cycles} cycles"
    assert late < 8 * 1024 * 1024, f"memory grew by {late >> 20} MiB over the last {cycles - cycles // 2 - 1} cycles"


FAILING = '''
def failing(self):
    """Fail at once, asking for another attempt."""
    return ar.Maybe()
'''

STEPS = {"first_steps": [0.1, 0.2, 0.4], "regular_steps": 0.8, "step_limit": 5}
PAUSE = re.compile(r"(\d\d:\d\d:\d\d\.\d{3}) \^ <[0-9a-f]{8}>start_vector - Pausing for ([0-9.]+) seconds")


def test_retries_pause_in_the_tours_sequence_with_next_to_no_cpu(cli: Cli, bin_dir: Path, tmp_path: Path) -> None:
    make_program(bin_dir, "failing", FAILING)
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "failing")
    (tmp_path / "retry").write_text(json.dumps({"value": STEPS}))
    fast.ok("set", "retry", "failing-0", f"--encoding-file={tmp_path / 'retry'}")
    run = cli.popen("run", "failing-0", "--debug-level=CONSOLE")
    assert run.stderr is not None
    pauses, cpu = [], []
    role = None
    for line in run.stderr:
        m = PAUSE.search(line)
        if m:
            pauses.append((datetime.strptime(m.group(1), "%H:%M:%S.%f"), float(m.group(2))))
            if role is None:
                role = psutil.Process(run.pid).children()[0]
            try:
                t = role.cpu_times()
                cpu.append(t.user + t.system)
            except psutil.Error:
                pass
    out, _ = run.communicate(timeout=30.0)
    FIGURES.fault(len(pauses))
    assert [p for _, p in pauses] == [0.1, 0.2, 0.4, 0.8, 0.8]
    for (when, pause), (then, _) in zip(pauses, pauses[1:], strict=False):
        gap = (then - when).total_seconds()
        assert pause <= gap + 0.002 <= pause + 2.0, f"{pause}s pause took {gap:.3f}s"
    busy = cpu[-1] - cpu[0]
    assert busy < 0.5, f"{busy:.2f}s of CPU over {sum(p for _, p in pauses[:-1]):.1f}s of pauses"
    assert "no success after retries" in out


FLOOD = '''
def flood(self):
    """Log as fast as possible until stopped."""
    n = 0
    while True:
        n += 1
        self.console(f"record {n} " + "x" * 200)
        if n % 500 == 0 and self._inbox.qsize():
            return ar.Aborted()
'''

GARBAGE = '''
def garbage(self):
    """Write invalid UTF-8 and 1 MB lines to stdout (the role's log storage) until stopped."""
    n = 0
    while True:
        n += 1
        os.write(1, b"\\xff\\xfe\\xc3(" * 64 + b"\\n" if n % 2 else b"y" * (1 << 20) + b"\\n")
        if n % 8 == 0 and self._inbox.qsize():
            return ar.Aborted()
'''

CAP = 1 << 20


def _storage(home: Path, role: str) -> tuple[int, int]:
    folder = home / "logs" / role
    sizes = []
    for p in (folder.iterdir() if folder.exists() else ()):
        try:
            sizes.append(p.stat().st_size)
        except FileNotFoundError:
            pass  # trimmed meanwhile
    return sum(sizes), max(sizes, default=0)


@pytest.mark.parametrize("seconds", [soak(2.0, 60.0)])
def test_storage_stays_within_its_cap_under_a_flood(cli: Cli, bin_dir: Path, tmp_path: Path, seconds: float) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    for name, body in (("flood", FLOOD), ("garbage", GARBAGE)):
        make_program(bin_dir, name, body)
        fast.ok("add", name)
        (tmp_path / "cap").write_text(json.dumps({"value": CAP}))
        fast.ok("set", "storage", f"{name}-0", f"--encoding-file={tmp_path / 'cap'}")
    cli.ok("start")
    FIGURES.fault(2)
    deadline = time.monotonic() + seconds
    limit = file_limit(CAP)
    worst = {"flood-0": (0, 0), "garbage-0": (0, 0)}
    while time.monotonic() < deadline:
        for role in worst:
            total, largest = _storage(cli.home, role)
            worst[role] = (max(worst[role][0], total), max(worst[role][1], largest))
        status, out, err = fast("log", "flood-0", "--count=20")
        assert status == 0 and err == "", err
    cli.ok("stop")
    for role, (total, largest) in worst.items():
        assert largest <= limit, f"{role}: a file of {largest} bytes (files of {limit})"
        assert total <= CAP + limit, f"{role}: storage reached {total} bytes (cap {CAP}, files of {limit})"
    assert os.path.exists(cli.home / "logs" / "garbage-0")
