"""What ``ansar deploy`` costs over the commands it stands beside.

1. An unchanged ``ansar deploy dist testing`` over a snapshot of 1,000 files against ``ansar list``
   of the same home (target: it adds under 100 ms).
2. Deploying one changed model file to a running role (``ansar -f deploy --storage-path=testing``:
   stop, transfer, start again) against ``ansar stop`` plus ``ansar start`` of that role (target:
   under 100 ms more).

Whole commands are timed, process start-up included, several runs each, interleaved, median; the
figures compared come from the same run.

    python bench/bench_deploy.py [--files=1000] [--runs=15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
EXECUTABLES = ("server", "client", "zombie", "noop", "snooze", "factorial", "busy", "analyzer")


def ansar_command() -> list[str]:
    script = shutil.which("ansar", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ansar.command"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_ms(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000.0


def build_folder(folder: Path) -> None:
    """Scripts that exec the examples: executables a home can hold copies of."""
    folder.mkdir()
    for name in EXECUTABLES:
        path = folder / name
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "examples" / (name + ".py")}" "$@"\n')
        path.chmod(0o755)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    ansar = ansar_command()
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as work:
        run = lambda *args: subprocess.run([*ansar, *args], cwd=work, env=env, check=True,  # noqa: E731
                                           stdout=subprocess.DEVNULL)
        build_folder(Path(work) / "dist")
        run("create")
        run("deploy", "dist")
        port = f"--port={free_port()}"
        run("add", "server", port)
        run("add", "client", port)
        run("add", "zombie")
        run("snapshot", "testing")
        testing = Path(work) / "testing"
        roles = ("server-0", "client-0", "zombie-0")
        for i in range(options.files):  # 1,000 files over three models, ten folders each
            folder = testing / "model-by-role" / roles[i % 3] / f"part-{i % 10}"
            folder.mkdir(exist_ok=True)
            (folder / f"file-{i}.json").write_text(f'{{"value": {i}}}\n')
        started = time.perf_counter()
        run("deploy", "dist", "testing")
        first = time.perf_counter() - started
        counted = sum(len(files) for _, _, files in os.walk(Path(work) / ".ansar-home" / "model"))
        assert counted == options.files, f"the home holds {counted} model files"

        # 1. Unchanged deploy against list.
        deploy, listing = [*ansar, "deploy", "dist", "testing"], [*ansar, "list"]
        for argv in (deploy, listing):
            timed_ms(argv, work, env)  # warm the caches
        deploys, lists = [], []
        for _ in range(options.runs):
            deploys.append(timed_ms(deploy, work, env))
            lists.append(timed_ms(listing, work, env))
        d, n = statistics.median(deploys), statistics.median(lists)

        # 2. One model file to a running role against stop plus start.
        run("start", "server-0")
        one = testing / "model-by-role" / "server-0" / "part-0" / "file-0.json"
        forced = [*ansar, "-f", "deploy", "--storage-path=testing"]
        stop, start = [*ansar, "stop", "server-0"], [*ansar, "start", "server-0"]
        changes, cycles = [], []
        for i in range(options.runs):
            one.write_text(f'{{"value": "changed {i}"}}\n')
            changes.append(timed_ms(forced, work, env))
            cycles.append(timed_ms(stop, work, env) + timed_ms(start, work, env))
        c, s = statistics.median(changes), statistics.median(cycles)
        run("stop", "-f")

    added, more = d - n, c - s
    ok = added < TARGET_MS and more < TARGET_MS
    print(f"1. unchanged ansar deploy dist testing, {options.files} files: {d:.1f} ms median of {options.runs}")
    print(f"   ansar list of the same home:                  {n:.1f} ms")
    print(f"   deploy adds {added:+.1f} ms ({d / n:.2f}x list; {'under' if added < TARGET_MS else 'OVER'} "
          f"the {TARGET_MS:.0f} ms target)")
    print(f"2. ansar -f deploy of one model file to running server-0: {c:.1f} ms median of {options.runs}")
    print(f"   ansar stop server-0 + ansar start server-0:            {s:.1f} ms")
    print(f"   deploy costs {more:+.1f} ms more ({c / s:.2f}x stop + start; "
          f"{'under' if more < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target)")
    print(f"(setting up: the first deploy of {options.files} files took {first:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
