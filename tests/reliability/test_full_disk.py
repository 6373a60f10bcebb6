"""The disk refuses writes (``RLIMIT_FSIZE``, as ``ulimit -f`` sets it).

A command that cannot write gives one clear line and leaves the home as it was; a running role
whose log storage refuses its records keeps running, counts them, and says
``? <n> records lost (<reason>)`` once it can write again.
"""

from __future__ import annotations

import resource
import subprocess

import psutil
import pytest
from reliability_support import DEADLINE, FIGURES, Cli, InProcess, home_tree, one_line_refusal, wait_for


def _no_writes() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # python ignores SIGXFSZ: writes fail with EFBIG


@pytest.mark.parametrize("argv", [("add", "zombie", "zombie-9"), ("update", "zombie-0", "--seconds=3.0"),
                                  ("set", "storage", "zombie-0", "--encoding-file=../cap"), ("delete", "zombie-0"),
                                  ("snapshot", "testing")])
def test_a_command_that_cannot_write_refuses_in_one_line_and_leaves_the_home(cli: Cli, argv: tuple[str, ...]) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    (cli.cwd.parent / "cap").write_text('{"value": 100000}')
    before = home_tree(cli.home)
    done = subprocess.run(cli.argv(*argv), cwd=cli.cwd, env=cli.env, capture_output=True, text=True,
                          timeout=DEADLINE, preexec_fn=_no_writes)
    FIGURES.fault()
    if done.returncode == 0:
        return  # nothing to write after all (a delete removes files)
    assert one_line_refusal(done.returncode, done.stderr), done.stderr
    assert home_tree(cli.home) == before


TICKER = '''
def ticker(self):
    """A record every 10 ms until stopped."""
    n = 0
    while True:
        n += 1
        self.console(f"tick {n}")
        m = self.select(ar.Stop, seconds=0.01)
        if isinstance(m, ar.Stop):
            return ar.Aborted()
'''


def test_a_role_whose_storage_refuses_keeps_running_and_counts_what_it_lost(cli: Cli, bin_dir) -> None:  # type: ignore[no-untyped-def]
    from reliability_support import make_program

    make_program(bin_dir, "ticker", TICKER)
    cli.fast.ok("add", "ticker")  # type: ignore[attr-defined]
    cli.ok("start")
    pid = cli.pids()["ticker-0"]
    folder = cli.home / "logs" / "ticker-0"

    def text() -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(folder.iterdir()))

    wait_for(lambda: "tick 3" in text(), what="ticks in storage")
    role = psutil.Process(pid)
    soft, hard = role.rlimit(psutil.RLIMIT_FSIZE)
    role.rlimit(psutil.RLIMIT_FSIZE, (1, hard))  # no more room
    FIGURES.fault()
    ticks = text().count("tick ")
    tried = role.io_counters().write_count
    wait_for(lambda: role.io_counters().write_count >= tried + 5, what="five writes tried")  # refused: EFBIG
    assert text().count("tick ") <= ticks + 1
    role.rlimit(psutil.RLIMIT_FSIZE, (soft, hard))
    wait_for(lambda: "records lost" in text(), what="the lost records reported")
    assert role.is_running()
    lost = [line for line in text().splitlines() if "records lost" in line]
    assert len(lost) >= 1 and " ? " in lost[0] and "(File too large)" in lost[0], lost
    assert text().count("tick ") >= ticks
