"""How long ``ansar log --count=20`` takes from the middle of 200 MB of one role's stored lines.

Targets: under 100 ms, and 10x faster than reading it all. The whole command is timed as a
process (start-up included), median of several runs; beside it, in the same run: a full parse
(a Python process reads every line and keeps the first 20 records from the middle), ``cat`` of
every file (the least any reader of everything pays; no parse), ``python -c pass``, and inside one
process the window read against the full parse. Every file is in the page cache for every reader.

    python bench/bench_log.py [--megabytes=200] [--runs=15]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ansar.create._logstore import FILE_CEILING, log_files  # noqa: E402
from ansar.create.log import format_time  # noqa: E402
from ansar.home._logs import Window, read_window  # noqa: E402

TARGET_MS = 100.0
TARGET_RATIO = 10.0
START = 1796317200.0  # 2026-12-03T17:00:00 UTC
STEP = 0.002  # seconds between records
TEXTS = (
    "> <00000009>snooze - Sent StartTimer to <00000003>",
    "< <00000009>snooze - Received T1 from <00000003>",
    "^ <00000009>snooze - Do nothing for 2.0 seconds",
    "~ <00000008>start_vector - Running object \"__main__.snooze\"",
)
FAKE = """#!{python}
import sys
if "--dump-settings" in sys.argv:
    print('{{"value": {{"seconds": 2.0}}}}')
else:
    print('{{"value": null}}')
"""


def ansar_command() -> list[str]:
    script = shutil.which("ansar", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ansar.command"]


def fill(folder: str, megabytes: int) -> tuple[int, int]:
    """Lines as the sink writes them, in files as it names and fills them; (lines, bytes)."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    goal = megabytes * 1000 * 1000
    written = lines = sequence = 0
    stamp = START
    while written < goal:
        name = format_time(stamp).replace("-", "").replace(":", "") + f"-{sequence:06d}.log"
        parts: list[str] = []
        size = 0
        while size < FILE_CEILING - 200 and written + size < goal:
            second = format_time(stamp)
            for k in range(250):  # a second's records at a time: one format_time per second
                text = f"{second[:20]}{k * 2 + int(stamp * 1000) % 1000:03d} {TEXTS[k % 4]}\n"
                parts.append(text)
                size += len(text)
            stamp += 250 * STEP
            lines += 250
        with open(os.path.join(folder, name), "w") as f:
            f.write("".join(parts))
        written += size
        sequence += 1
    return lines, written


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


PARSE = """import os, sys
folder, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
kept = []
for name in sorted(n for n in os.listdir(folder) if n.endswith(".log")):
    with open(os.path.join(folder, name)) as f:
        for text in f:
            if len(kept) < count and text[:23] >= key and text[:4].isdigit():
                kept.append(text)
sys.stdout.write("".join(kept))
"""


def full_parse(folder: str, key: str, count: int) -> list[str]:
    """Read every line of every file; keep the first ``count`` records at or after ``key``."""
    kept: list[str] = []
    for name in log_files(folder):
        with open(os.path.join(folder, name)) as f:
            for text in f:
                if len(kept) < count and text[:23] >= key and text[:4].isdigit():
                    kept.append(text)
    return kept


def bytes_read(action: Callable[[], object]) -> int:
    """How many bytes ``action`` reads with os.pread (the window reader's only read)."""
    counted = [0]
    pread = os.pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        data = pread(fd, n, offset)
        counted[0] += len(data)
        return data

    os.pread = counting
    try:
        action()
    finally:
        os.pread = pread
    return counted[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    ansar = ansar_command()
    with tempfile.TemporaryDirectory(prefix="bench-log-") as work:
        dist = Path(work) / "dist"
        dist.mkdir()
        (dist / "snooze").write_text(FAKE.format(python=sys.executable))
        (dist / "snooze").chmod(0o755)
        subprocess.run([*ansar, "create", "--redirect-bin=dist"], cwd=work, env=env, check=True)
        subprocess.run([*ansar, "add", "snooze"], cwd=work, env=env, check=True)
        folder = os.path.join(work, ".ansar-home", "logs", "snooze-0")
        started = time.perf_counter()
        lines, size = fill(folder, options.megabytes)
        filled = time.perf_counter() - started
        files = log_files(folder)
        middle = format_time(START + lines // 2 * STEP)
        argv = [*ansar, "log", "snooze-0", f"--from={middle}", "--count=20"]

        shown = subprocess.run(argv, cwd=work, env=env, check=True, capture_output=True, text=True).stdout
        expected = full_parse(folder, middle, 20)
        assert shown.splitlines(keepends=True) == expected, "ansar log and the full parse disagree"
        assert len(expected) == 20
        parse = [sys.executable, "-c", PARSE, folder, middle, "20"]
        assert subprocess.run(parse, check=True, capture_output=True, text=True).stdout == shown

        def run(command: list[str]) -> Callable[[], object]:
            return lambda: subprocess.run(command, cwd=work, env=env, stdout=subprocess.DEVNULL, check=True)

        cat = ["cat", *sorted(glob.glob(os.path.join(folder, "*.log")))]
        run(cat)()  # every file in the page cache before anything is timed
        floor = median_ms(run([sys.executable, "-c", "pass"]), options.runs)
        command = median_ms(run(argv), options.runs)
        catted = median_ms(run(cat), options.runs)
        inside = median_ms(lambda: b"".join(read_window(folder, Window(START + lines // 2 * STEP, None, 20))),
                           options.runs)
        parsed = median_ms(lambda: full_parse(folder, middle, 20), max(3, options.runs // 5))
        parse_process = median_ms(run(parse), max(3, options.runs // 5))
        touched = bytes_read(lambda: b"".join(read_window(folder, Window(START + lines // 2 * STEP, None, 20))))

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"stored: {size / 1e6:.0f} MB, {lines:,} lines in {len(files)} files (written in {filled:.1f} s)")
    print("processes, start-up included (median):")
    print(f"  ansar log --from=<middle> --count=20: {command:.1f} ms of {options.runs} runs "
          f"({'under' if command < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target)")
    print(f"  full parse (python reads every line): {parse_process:.1f} ms -> ansar log is "
          f"{parse_process / command:.1f}x faster")
    print(f"  cat of every file:                    {catted:.1f} ms -> ansar log is {catted / command:.2f}x faster")
    print(f"  python -c pass:                       {floor:.1f} ms (the floor under any Python command)")
    print("inside one process (no start-up):")
    print(f"  the window read:                      {inside:.2f} ms, {touched / 1024:.0f} KiB read of "
          f"{size / 2**20:.0f} MiB")
    print(f"  full parse:                           {parsed:.1f} ms -> the window read is "
          f"{parsed / inside:.0f}x faster")
    ok = command < TARGET_MS and parse_process / command >= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
