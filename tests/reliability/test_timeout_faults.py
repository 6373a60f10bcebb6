"""A ``timeout`` role hung in C code that never releases the GIL (a regular expression
backtracking for hours): its Stop cannot be handled, the kernel's last resort (SIGALRM, the stop's
grace periods after the deadline) ends it, and history reads TimedOut. Under ``make soak`` only:
the grace periods make it take some 8 s."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from reliability_support import FIGURES, SOAK, Cli, lineage_pids, make_program

__all__: list[str] = []

HUNG = '''
def hung(self):
    """Backtrack in the regular expression engine, holding the GIL, far past any deadline."""
    import re

    self.console('Backtracking')
    re.match(r'(a+)+$', 'a' * 40 + 'b')
    return ar.Ack()
'''


@pytest.mark.skipif(not SOAK, reason="some 8 s of grace periods: under make soak (ANSAR_SOAK=1)")
def test_a_role_hung_holding_the_gil_ends_timed_out(cli: Cli, bin_dir: Path) -> None:
    make_program(bin_dir, "hung", HUNG)
    cli.fast.ok("add", "hung")  # type: ignore[attr-defined]
    spec = cli.cwd / "timeout.json"
    spec.write_text('{"value": 0.5}')
    cli.fast.ok("set", "timeout", "hung-0", f"--encoding-file={spec}")  # type: ignore[attr-defined]
    FIGURES.fault()
    began = time.monotonic()
    p = cli.popen("run")
    out, _ = p.communicate(timeout=30)
    took = time.monotonic() - began
    assert p.returncode == 1
    assert took < 0.5 + 7.0 + 3.0, f"the run took {took:.1f}s"
    assert not lineage_pids(cli.home)
    last = json.loads((cli.home / "history" / "hung-0.json").read_bytes())["value"][-1]
    assert "end" in last and last["value"][0] == "ansar.create.lifecycle.TimedOut", last  # closed by the run
    assert cli.fast.ok("history", "hung-0").strip().endswith("(TimedOut)")  # type: ignore[attr-defined]
    completed = dict((name, value) for name, value in json.loads(out)["value"][1]["completed"])
    assert completed["hung-0"][0] == "ansar.create.lifecycle.TimedOut", completed
