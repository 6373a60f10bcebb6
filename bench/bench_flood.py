"""A role logging as fast as it can: what its log storage costs it, and ``ansar log`` meanwhile.

One program logs records of every kind for a number of seconds as fast as it can and reports
how many it wrote. It runs three ways in the same invocation, in a new random order each round:

- as a tool with ``--debug-level=DEBUG``, stderr to ``/dev/null`` (formatting only: the floor);
- as a tool with ``--debug-level=DEBUG``, stderr to a plain file (the cost of writing: the peer);
- as a started role, every record into its log storage under a 1 MiB cap (files rotated and the
  oldest removed while it writes: ansar).

Target: the role writes at least 0.8 of the records the plain file takes. While the role floods,
``ansar log flood-0 --count=20`` is timed beside the same command once the role has ended (same
storage, idle machine) and ``python -c pass``: target within 100 ms (bench_log's budget) and
within 2x of idle. Every figure is a median over the rounds.

    python bench/bench_flood.py [--seconds=3] [--rounds=3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_log import median_ms  # the same median of whole runs

REPO = Path(__file__).resolve().parent.parent
RATE_TARGET = 0.8  # the role's records per second against a plain file's
LOG_TARGET_MS = 100.0
LOG_RATIO_TARGET = 2.0
CAP = 1 << 20

FLOOD = '''#!{python}
"""Log records of every kind as fast as possible for FLOOD_SECONDS, then write the count to FLOOD_RESULT."""
import os
import time

import ansar.create as ar


def flood(self):
    seconds = float(os.environ["FLOOD_SECONDS"])
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(100):
            n += 1
            self.console(f"record {{n}} of the flood, with some words after it to make a line")
            self.debug(f"detail {{n}}: " + "x" * 80)
    with open(os.environ["FLOOD_RESULT"], "w") as f:
        f.write(str(n))
    return ar.Ack()


ar.bind(flood)

if __name__ == "__main__":
    ar.create_object(flood)
'''


def environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSAR_")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.update(extra)
    return env


def ansar_command() -> list[str]:
    script = shutil.which("ansar", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ansar.command"]


def check(argv: list[str], cwd: str, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[-3:])} failed: {done.stderr.strip()}")
    return done.stdout


class Bench:
    def __init__(self, folder: str, seconds: float) -> None:
        self.folder = folder
        self.seconds = seconds
        self.program = os.path.join(folder, "bin", "flood")
        os.makedirs(os.path.dirname(self.program))
        with open(self.program, "w") as f:
            f.write(FLOOD.format(python=sys.executable))
        os.chmod(self.program, 0o755)
        self.result = os.path.join(folder, "result")
        self.env = environment({"FLOOD_SECONDS": str(seconds), "FLOOD_RESULT": self.result})
        self.ansar = ansar_command()
        check(self.ansar + ["create", f"--redirect-bin={os.path.dirname(self.program)}"], folder, self.env)
        check(self.ansar + ["add", "flood"], folder, self.env)
        with open(os.path.join(folder, "cap"), "w") as f:
            f.write('{"value": %d}' % CAP)
        cap = os.path.join(folder, "cap")
        check(self.ansar + ["set", "storage", "flood-0", f"--encoding-file={cap}"], folder, self.env)

    def count(self) -> float:
        with open(self.result) as f:
            n = int(f.read())
        os.remove(self.result)
        return n / self.seconds

    def tool(self, stderr_path: str) -> float:
        with open(stderr_path, "wb") as err:
            subprocess.run([self.program, "--debug-level=DEBUG"], cwd=self.folder, env=self.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, check=True,
                           timeout=self.seconds + 60)
        return self.count()

    def log_ms(self) -> float:
        started = time.perf_counter()
        check(self.ansar + ["log", "flood-0", "--count=20"], self.folder, self.env)
        return (time.perf_counter() - started) * 1000.0

    def role(self) -> tuple[float, list[float]]:
        """Start the role, time ``log --count=20`` until it ends; its rate and the log times."""
        check(self.ansar + ["start", "flood-0"], self.folder, self.env)
        times = []
        deadline = time.monotonic() + self.seconds + 60
        while not os.path.exists(self.result):
            if time.monotonic() > deadline:
                raise SystemExit("bench: the started role never reported its count")
            ms = self.log_ms()
            if not os.path.exists(self.result):
                times.append(ms)
        while check(self.ansar + ["status"], self.folder, self.env).strip():
            time.sleep(0.02)  # the role is ending: nothing to wait on from here
        return self.count(), times

    def storage(self) -> tuple[int, int]:
        folder = os.path.join(self.folder, ".ansar-home", "logs", "flood-0")
        sizes = [os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)]
        return sum(sizes), len(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each flood lasts")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ansar-bench-flood-")
    try:
        bench = Bench(folder, args.seconds)
        rates: dict[str, list[float]] = {"floor": [], "file": [], "role": []}
        busy: list[float] = []
        plain = os.path.join(folder, "plain.log")
        for _ in range(args.rounds):
            order = list(rates)
            random.shuffle(order)
            for name in order:
                if name == "floor":
                    rates[name].append(bench.tool(os.devnull))
                elif name == "file":
                    rates[name].append(bench.tool(plain))
                    os.remove(plain)
                else:
                    rate, times = bench.role()
                    rates[name].append(rate)
                    busy.extend(times)
        total, files = bench.storage()
        idle = median_ms(bench.log_ms, 15)
        python = median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 15)
    finally:
        subprocess.run(ansar_command() + ["stop"], cwd=folder, env=environment({}), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    floor, file, role = (statistics.median(rates[k]) for k in ("floor", "file", "role"))
    during = statistics.median(busy) if busy else float("nan")
    print(f"records per second over {args.seconds:g} s, median of {args.rounds} rounds:")
    print(f"  tool, stderr to /dev/null (floor)   {floor:10.0f}")
    print(f"  tool, stderr to a file (peer)       {file:10.0f}")
    print(f"  started role, log storage, 1 MiB cap {role:9.0f}   {role / file:.2f}x the file"
          f"   (target >= {RATE_TARGET})")
    print(f"  storage after the last round: {total} bytes in {files} files (cap {CAP}, + one file)")
    print("ansar log flood-0 --count=20, median ms:")
    print(f"  while the role floods ({len(busy)} calls) {during:8.1f}   {during / idle:.2f}x idle"
          f"   (targets < {LOG_TARGET_MS:g} ms, <= {LOG_RATIO_TARGET}x)")
    print(f"  idle                                {idle:8.1f}")
    print(f"  python -c pass                      {python:8.1f}")
    met = role / file >= RATE_TARGET and during < LOG_TARGET_MS and during / idle <= LOG_RATIO_TARGET
    print("targets met" if met else "targets missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
