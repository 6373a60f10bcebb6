"""How long ``ansar list`` takes over a home of 1,000 roles (target: under 150 ms).

The whole command is timed, process start-up included, several runs, median; beside it the
median of ``python -c pass`` measured in the same run, the floor any Python command stands on.

    python bench/bench_list.py [--roles=1000] [--runs=15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0

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


def median_ms(argv: list[str], runs: int, cwd: str, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    ansar = ansar_command()
    with tempfile.TemporaryDirectory(prefix="bench-list-") as work:
        dist = Path(work) / "dist"
        dist.mkdir()
        fake = dist / "worker"
        fake.write_text(FAKE.format(python=sys.executable))
        fake.chmod(0o755)
        subprocess.run([*ansar, "create", "--redirect-bin=dist"], cwd=work, env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*ansar, "add", "worker", f"--count={options.roles}"], cwd=work, env=env, check=True)
        added = time.perf_counter() - started
        listed = subprocess.run([*ansar, "list"], cwd=work, env=env, check=True, capture_output=True, text=True)
        assert len(listed.stdout.split()) == options.roles, "the home does not hold every role"

        median_ms([sys.executable, "-c", "pass"], 3, work, env)  # warm the caches for both
        floor = median_ms([sys.executable, "-c", "pass"], options.runs, work, env)
        whole = median_ms([*ansar, "list"], options.runs, work, env)
        long = median_ms([*ansar, "list", "-l"], max(3, options.runs // 3), work, env)

    verdict = "under" if whole < TARGET_MS else "OVER"
    print(f"ansar list, {options.roles} roles: {whole:.1f} ms median of {options.runs} "
          f"({verdict} the {TARGET_MS:.0f} ms target)")
    print(f"python -c pass:            {floor:.1f} ms  -> ansar list is {whole / floor:.1f}x that floor")
    print(f"ansar list -l:             {long:.1f} ms")
    print(f"(setting up: ansar add --count={options.roles} took {added:.2f} s)")
    return 0 if whole < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
