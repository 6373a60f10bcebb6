"""Command roles against supervisors: 200 ``sleep 3600`` under ansar, supervisord, circus and pm2.

Run by hand (never part of ``make test``); every figure is measured in the same invocation as the
peers' it is compared with, in a new random order each round. Each figure is the median of the
rounds, each ratio the median of the per-round ratios (below 1: ansar faster or smaller).

- ``supervisors``: 200 roles running ``sleep 3600`` (ansar: command roles, ``ansar add
  --command='sleep 3600' 'sleep-{number}' --count=200``). The time from ``start`` until all 200
  sleeps run; one ``status -l`` (``supervisorctl status``, ``circusctl status``, ``pm2 jlist`` and
  ``pm2 ls``); ``stop`` until no sleep is left. Each tool starts and stops twice a round (a peer
  once by its daemon's own start, once by its control command with the daemon up) and the round's
  figure is the faster of the two. Then the memory each keeps resident for the sleeps: the RSS
  (and PSS) summed over every process it leaves besides the sleeps themselves (ansar: whatever
  processes name the home; a peer: its daemon and anything else of it), through psutil.
- ``jobs``: ``ansar run --jobs=8`` of 200 noop roles against ``xargs -P 8`` running the same
  commands (the noop example through its bin/ launcher, with the arguments ansar gives it).

The peers are installed for the bench only, never as project dependencies: supervisor and circus
with pip into a venv of their own, pm2 with npm into a local prefix (both under ``bench/.peers/``
by default, which git ignores). A peer that cannot be installed is skipped, and the output says
so. Each tool gets its own temporary folder for its home, configuration, sockets and pid files;
everything started is torn down at the end, on Ctrl-C too, and psutil checks that no sleep or
daemon is left.

    python bench/bench_supervisors.py [--quick] [--rounds=N] [--count=200] [--only=supervisors,jobs]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import psutil
from bench_running import (
    Failed,
    Home,
    Processes,
    ansar_command,
    environment,
    format_table,
    install_peers,
    median,
    row,
    say,
)
from bench_running import (
    ratio_of as _ratio_of,
)

__all__ = ["main", "run"]

PEERS = Path(__file__).resolve().parent / ".peers"
COMMAND = "sleep 3600"
JOBS = 8
JOBS_TARGET = 1.3  # ansar run --jobs=8 within this of xargs -P 8
WAIT_SECONDS = 300.0  # the bound on any one step; a step past it is a failure, not a figure
POLL = 0.02  # seconds between looks at /proc while waiting for sleeps to appear or go
GROUPS = ("supervisors", "jobs")


# --- the sleeps and the rest of a tool's processes ---------------------------------------------------------------


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _marked(pid: int, mark: bytes) -> bool:
    return mark in _read(f"/proc/{pid}/environ") or mark in _read(f"/proc/{pid}/cmdline")


def _alive(pid: int) -> bool:
    """Not gone and not a zombie (a zombie's process is over; only its parent has not looked yet)."""
    stat = _read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(b")", 1)[-1].split()[:1] != [b"Z"]


class Marked:
    """The processes of one tool: any whose environment or command line names its folder."""

    def __init__(self, folder: str) -> None:
        self.mark = (folder.rstrip("/") + "/").encode()
        self.known: set[int] = set()
        self.argv = tuple(word.encode() for word in COMMAND.split())  # pm2 names the program by its path

    def sleeps(self) -> set[int]:
        """The tool's sleeps alive now. A pid seen once is not read again while it lives."""
        self.known = {pid for pid in self.known if _alive(pid)}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid in self.known or _read(f"/proc/{pid}/comm") != b"sleep\n":
                continue
            program, *words = _read(f"/proc/{pid}/cmdline").split(b"\0")[:-1] or [b""]
            if (os.path.basename(program), *words) == self.argv and _marked(pid, self.mark) and _alive(pid):
                self.known.add(pid)
        return set(self.known)

    def wait(self, count: int, started: float, seconds: float = WAIT_SECONDS) -> float:
        """Seconds from ``started`` until exactly ``count`` sleeps run (0: until none is left)."""
        deadline = time.monotonic() + seconds
        while True:
            found = len(self.sleeps())
            if found == count:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                raise Failed(f"{found} sleeps running, expected {count}")
            time.sleep(POLL)  # processes of another program: no event to wait on

    def resident(self) -> tuple[float, float, int]:
        """(RSS MiB, PSS MiB, count) of the tool's processes other than the sleeps and this one."""
        sleeps = self.sleeps()
        rss = pss = 0
        count = 0
        for process in psutil.process_iter():
            if process.pid in sleeps or process.pid == os.getpid():
                continue
            try:
                if not _marked(process.pid, self.mark) or process.status() == psutil.STATUS_ZOMBIE:
                    continue
                memory = process.memory_full_info()
            except psutil.Error:
                continue
            rss += memory.rss
            pss += memory.pss
            count += 1
        return rss / 2**20, pss / 2**20, count


def leftovers(mark: str) -> list[psutil.Process]:
    """Processes, through psutil, whose command line or environment names the bench's folder."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            text = "\0".join(process.cmdline()) + "\0".join(process.environ().values())
        except psutil.Error:
            continue
        if mark in text:
            found.append(process)
    return found


# --- the tools ------------------------------------------------------------------------------------------------------


class Tool:
    """One supervisor of ``count`` sleeps in a folder of its own. ``cycle`` returns the round's
    figures: seconds under "start", "status", "stop" (and the kinds of each), MiB under "rss"."""

    name = ""

    def __init__(self, processes: Processes, folder: str, count: int) -> None:
        self.processes = processes
        self.folder = folder
        self.count = count
        self.names = [f"sleep-{k}" for k in range(count)]
        os.makedirs(folder)
        self.marked = Marked(folder)
        self.env = environment()
        self.env["BENCH_TOOL"] = self.marked.mark.decode()  # inherited by the daemons and sleeps

    def run(self, argv: list[str], *, check: bool = True) -> tuple[float, bytes]:
        seconds, code, output = self.processes.run(argv, cwd=self.folder, env=self.env)
        if check and code != 0:
            raise Failed(f"{' '.join(os.path.basename(a) for a in argv[:2])} exited {code}")
        return seconds, output

    def timed_start(self, argv: list[str]) -> float:
        started = time.perf_counter()
        self.run(argv)
        return self.marked.wait(self.count, started)

    def timed_stop(self, argv: list[str]) -> float:
        started = time.perf_counter()
        self.run(argv)
        return self.marked.wait(0, started)

    def memory(self) -> dict[str, list[float]]:
        rss, pss, count = self.marked.resident()
        return {"rss": [rss], "pss": [pss], "resident": [float(count)]}

    def cycle(self) -> dict[str, list[float]]:
        raise NotImplementedError

    def teardown(self) -> None:
        """Stop everything of the tool, gracefully when it can (errors are the sweep's to mend)."""


class Ansar(Tool):
    name = "ansar"

    def __init__(self, processes: Processes, folder: str, count: int) -> None:
        super().__init__(processes, folder, count)
        self.home = os.path.join(folder, ".ansar-home")
        self.ansar = ansar_command()
        self.run([*self.ansar, "create", self.home])
        self.run([*self.ansar, "add", f"--command={COMMAND}", "sleep-{number}", f"--count={count}",
                  f"--home-path={self.home}"])

    def command(self, verb: str, *more: str) -> list[str]:
        return [*self.ansar, verb, *more, f"--home-path={self.home}"]

    def cycle(self) -> dict[str, list[float]]:
        figures: dict[str, list[float]] = {"start": [], "stop": []}
        for k in range(2):
            figures["start"].append(self.timed_start(self.command("start")))
            if k == 0:
                seconds, output = self.run(self.command("status", "-l"))
                if len(output.splitlines()) != self.count:
                    raise Failed(f"ansar status -l printed {len(output.splitlines())} lines, expected {self.count}")
                figures["status"] = [seconds]
                figures.update(self.memory())
            figures["stop"].append(self.timed_stop(self.command("stop")))
        return figures

    def teardown(self) -> None:
        if self.marked.sleeps():
            try:
                self.run(self.command("stop"), check=False)
            except Failed:
                pass


class Daemon(Tool):
    """A peer with a daemon: its cold start starts the sleeps (the daemon is part of the time),
    then status and memory, stop, a start by the control command with the daemon up, stop, and the
    daemon is shut down (not timed)."""

    def launch(self) -> None:
        raise NotImplementedError

    def status_commands(self) -> dict[str, list[str]]:
        raise NotImplementedError

    def start_argv(self) -> list[str]:
        raise NotImplementedError

    def stop_argv(self) -> list[str]:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError

    def cycle(self) -> dict[str, list[float]]:
        started = time.perf_counter()
        self.launch()
        try:
            cold = self.marked.wait(self.count, started)
            figures: dict[str, list[float]] = {"start (daemon start)": [cold]}
            for label, argv in self.status_commands().items():
                figures[f"status ({label})"] = [self.run(argv, check=False)[0]]
            figures.update(self.memory())
            stops = [self.timed_stop(self.stop_argv())]
            figures["start (daemon up)"] = [self.timed_start(self.start_argv())]
            stops.append(self.timed_stop(self.stop_argv()))
        finally:
            self.shutdown()
        figures["start"] = [min(cold, figures["start (daemon up)"][0])]
        figures["status"] = [min(v[0] for k, v in figures.items() if k.startswith("status ("))]
        figures["stop"] = stops
        return figures

    def teardown(self) -> None:
        self.shutdown()


class Supervisord(Daemon):
    name = "supervisord"

    def __init__(self, processes: Processes, folder: str, count: int, peers: dict[str, str]) -> None:
        super().__init__(processes, folder, count)
        self.daemon: Optional[subprocess.Popen] = None
        self.config = os.path.join(folder, "supervisord.conf")
        self.ctl = [peers["supervisorctl"], "-c", self.config]
        self.supervisord = peers["supervisord"]
        logs = os.path.join(folder, "logs")
        os.makedirs(logs)
        lines = ["[unix_http_server]", f"file={folder}/supervisor.sock",
                 "[rpcinterface:supervisor]",
                 "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                 "[supervisorctl]", f"serverurl=unix://{folder}/supervisor.sock",
                 "[supervisord]", "nodaemon=true", "minfds=8192", f"logfile={logs}/supervisord.log",
                 f"pidfile={folder}/supervisord.pid", f"childlogdir={logs}", "user=root"]
        for name in self.names:  # as ansar start: working folder /, both streams to one log
            lines += [f"[program:{name}]", f"command={COMMAND}", "directory=/", "autorestart=false",
                      "startsecs=0", "redirect_stderr=true"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def launch(self) -> None:
        self.daemon = self.processes.spawn([self.supervisord, "-c", self.config], cwd=self.folder, env=self.env)

    def status_commands(self) -> dict[str, list[str]]:
        return {"supervisorctl status": [*self.ctl, "status"]}

    def start_argv(self) -> list[str]:
        return [*self.ctl, "start", "all"]

    def stop_argv(self) -> list[str]:
        return [*self.ctl, "stop", "all"]

    def shutdown(self) -> None:
        if self.daemon is None:
            return
        try:
            self.run([*self.ctl, "shutdown"], check=False)
            self.daemon.wait(timeout=60.0)
        except (Failed, subprocess.TimeoutExpired):
            self.daemon.kill()
            self.daemon.wait()
        self.processes.children.remove(self.daemon)
        self.daemon = None


class Circus(Daemon):
    name = "circus"

    def __init__(self, processes: Processes, folder: str, count: int, peers: dict[str, str]) -> None:
        super().__init__(processes, folder, count)
        self.daemon: Optional[subprocess.Popen] = None
        self.config = os.path.join(folder, "circus.ini")
        endpoint = f"ipc://{folder}/circus.sock"
        self.ctl = [peers["circusctl"], "--endpoint", endpoint, "--timeout", str(int(WAIT_SECONDS))]
        self.circusd = peers["circusd"]
        lines = ["[circus]", f"endpoint = {endpoint}", f"pubsub_endpoint = ipc://{folder}/circus-pub.sock",
                 "statsd = False", f"pidfile = {folder}/circusd.pid"]
        for name in self.names:  # the caller's environment, working folder /, as ansar start
            lines += [f"[watcher:{name}]", f"cmd = {COMMAND}", "numprocesses = 1", "copy_env = True",
                      "working_dir = /", "graceful_timeout = 5"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def launch(self) -> None:
        self.daemon = self.processes.spawn([self.circusd, self.config], cwd=self.folder, env=self.env)

    def status_commands(self) -> dict[str, list[str]]:
        return {"circusctl status": [*self.ctl, "status"]}

    def start_argv(self) -> list[str]:
        return [*self.ctl, "start"]

    def stop_argv(self) -> list[str]:
        return [*self.ctl, "stop"]

    def shutdown(self) -> None:
        if self.daemon is None:
            return
        try:
            self.run([*self.ctl, "quit"], check=False)
            self.daemon.wait(timeout=60.0)
        except (Failed, subprocess.TimeoutExpired):
            self.daemon.kill()
            self.daemon.wait()
        self.processes.children.remove(self.daemon)
        self.daemon = None


class Pm2(Daemon):
    name = "pm2"

    def __init__(self, processes: Processes, folder: str, count: int, peers: dict[str, str]) -> None:
        super().__init__(processes, folder, count)
        self.pm2 = peers["pm2"]
        self.pm2_home = os.path.join(folder, "pm2-home")
        self.env["PM2_HOME"] = self.pm2_home
        self.config = os.path.join(folder, "ecosystem.config.js")
        program, *words = COMMAND.split()
        apps = [{"name": name, "script": program, "args": words, "interpreter": "none", "cwd": "/",
                 "autorestart": False, "kill_timeout": 5000} for name in self.names]
        with open(self.config, "w") as f:
            f.write(f"module.exports = {{apps: {json.dumps(apps)}}};\n")

    def launch(self) -> None:  # the first pm2 command spawns its daemon
        self.run([self.pm2, "start", self.config])

    def status_commands(self) -> dict[str, list[str]]:
        return {"pm2 jlist": [self.pm2, "jlist"], "pm2 ls": [self.pm2, "ls"]}

    def start_argv(self) -> list[str]:
        return [self.pm2, "start", self.config]

    def stop_argv(self) -> list[str]:
        return [self.pm2, "stop", self.config]

    def shutdown(self) -> None:
        if not os.path.exists(os.path.join(self.pm2_home, "pm2.pid")):
            return
        try:
            self.run([self.pm2, "kill"], check=False)
        except Failed:
            pass  # the sweep kills the daemon


# --- the two groups ---------------------------------------------------------------------------------------------------


def _fmt_seconds(values: list[float]) -> str:
    value = median(values)
    return "n/a" if value is None else (f"{value * 1000:.0f} ms" if value < 1.0 else f"{value:.2f} s")


def bench_supervisors(processes: Processes, work: str, count: int, rounds: int,
                      peers: dict[str, str]) -> tuple[list[dict], list[str]]:
    makers: dict[str, Callable[[str], Tool]] = {"ansar": lambda folder: Ansar(processes, folder, count)}
    if "supervisord" in peers and "supervisorctl" in peers:
        makers["supervisord"] = lambda folder: Supervisord(processes, folder, count, peers)
    if "circusd" in peers and "circusctl" in peers:
        makers["circus"] = lambda folder: Circus(processes, folder, count, peers)
    if "pm2" in peers:
        makers["pm2"] = lambda folder: Pm2(processes, folder, count, peers)
    tools: dict[str, Tool] = {}
    skipped: list[str] = []
    for name, make in makers.items():
        try:
            tools[name] = make(os.path.join(work, name))
        except Failed as e:  # ansar without command roles yet, or a peer that cannot be set up
            skipped.append(f"skipped {name}: {e}")
            say(f"bench: {skipped[-1]}")
    figures: dict[str, list[dict[str, list[float]]]] = {name: [] for name in makers}
    try:
        for k in range(rounds):
            order = list(tools)
            random.shuffle(order)
            for name in order:
                tool = tools[name]
                try:
                    figures[name].append(tool.cycle())
                except Failed as e:
                    say(f"bench: {name}, {count} sleeps: {e}")
                    figures[name].append({})
                    tool.teardown()
                    tool.marked.wait(0, time.perf_counter(), seconds=60.0)
                say(f"bench: round {k + 1}/{rounds}, {name}: " + ", ".join(
                    f"{key} {_fmt_seconds(v) if key not in ('rss', 'pss', 'resident') else f'{v[0]:.1f}'}"
                    for key, v in figures[name][-1].items()))
    finally:
        for tool in tools.values():
            try:
                tool.teardown()
            except Exception as e:  # noqa: BLE001 - the sweep still runs
                say(f"bench: {tool.name} teardown: {e}")
    rows: list[dict] = []
    notes: list[str] = skipped
    peer_names = [name for name in tools if name != "ansar"]
    for figure, label in (("start", f"start until {count} sleeps run"), ("status", "one status -l"),
                          ("stop", "stop until no sleep is left")):
        ours = per_round(figures["ansar"], figure)
        scored = []
        for peer in peer_names:
            theirs = per_round(figures[peer], figure)
            have = [v for v in theirs if v is not None]
            scored.append(row(label, median(_have(ours)), peer, median(have), ratio_of(ours, theirs)))
            kinds = sorted({key for r in figures[peer] for key in r if key.startswith(f"{figure} (")})
            if kinds:
                notes.append(f"{peer} {figure}: " + ", ".join(
                    f"{kind[len(figure) + 2:-1]} {_fmt_seconds(_have(per_round(figures[peer], kind)))}"
                    for kind in kinds))
        best = [r for r in scored if r["theirs"] is not None]
        if best:
            top = min(best, key=lambda r: r["theirs"])
            top["target"] = "< 1x best peer"
            top["met"] = None if top["ratio"] is None else top["ratio"] < 1.0
        rows += scored or [row(label, median(_have(ours)), "", None, None)]
    ours_rss = median(_have(per_round(figures["ansar"], "rss")))
    ours_pss = median(_have(per_round(figures["ansar"], "pss")))
    resident = median(_have(per_round(figures["ansar"], "resident")))
    notes.append(f"ansar resident: {0 if resident is None else resident:.0f} processes besides the sleeps, "
                 f"PSS {0.0 if ours_pss is None else ours_pss:.1f} MiB")
    for peer in peer_names:
        theirs = median(_have(per_round(figures[peer], "rss")))
        pss = median(_have(per_round(figures[peer], "pss")))
        count_peer = median(_have(per_round(figures[peer], "resident")))
        is_target = peer == "supervisord"
        rows.append(row(f"RSS kept resident, {count} sleeps up", ours_rss, peer, theirs,
                        ratio_of(per_round(figures["ansar"], "rss"), per_round(figures[peer], "rss")),
                        "< supervisord" if is_target else "",
                        (ours_rss < theirs) if is_target and ours_rss is not None and theirs is not None else None,
                        unit="MiB"))
        notes.append(f"{peer} resident: {0 if count_peer is None else count_peer:.0f} processes, "
                     f"PSS {0.0 if pss is None else pss:.1f} MiB")
    return rows, notes


def bench_jobs(processes: Processes, work: str, count: int, rounds: int) -> list[dict]:
    """``ansar run --jobs=8`` of ``count`` noop roles against ``xargs -P 8`` of the same commands."""
    env = environment()
    home = Home(processes, os.path.join(work, "jobs"), "noop", count)
    names = os.path.join(home.folder, "names")
    with open(names, "w") as f:
        f.write("\n".join(home.names) + "\n")
    xargs = ["xargs", "-P", str(JOBS), "-I{}", *home.command("{}", "1")]

    def measure(tool: str) -> Optional[float]:
        before = home.ended_executions()
        try:
            if tool == "ansar":
                seconds, code, output = processes.run([*ansar_command(), "run", f"--jobs={JOBS}"],
                                                      cwd=home.folder, env=env)
            else:
                with open(names, "rb") as stdin:
                    seconds, code, output = processes.run(xargs, cwd=home.folder, env=env, stdin=stdin)
        except Failed as e:
            say(f"bench: {tool} of {count} noop roles: {e}")
            return None
        done = home.ended_executions() - before
        if tool == "ansar" and output.count(b"ansar.create.lifecycle.Ack") != count:
            say(f"bench: ansar run --jobs={JOBS} exited {code} without an Ack for each role")
            return None
        if done != count:
            say(f"bench: {tool} of {count} noop roles: {done} executions ended with a value (exit {code})")
            return None
        return seconds

    figures: dict[str, list[Optional[float]]] = {"ansar": [], "xargs": []}
    for tool in figures:  # a warm-up of each: page cache, byte code
        measure(tool)
    for k in range(rounds):
        order = list(figures)
        random.shuffle(order)
        for tool in order:
            figures[tool].append(measure(tool))
        say(f"bench: jobs round {k + 1}/{rounds}: " + ", ".join(
            f"{tool} {_fmt_seconds(_have(v[-1:]))}" for tool, v in figures.items()))
    ratio = ratio_of(figures["ansar"], figures["xargs"])
    return [row(f"ansar run --jobs={JOBS}, {count} noop roles", median(_have(figures["ansar"])),
                f"xargs -P {JOBS}", median(_have(figures["xargs"])), ratio, f"<= {JOBS_TARGET}x xargs",
                ratio is not None and ratio <= JOBS_TARGET)]


def per_round(rounds: list[dict[str, list[float]]], figure: str) -> list[Optional[float]]:
    """The round's figure: the faster of its tries (None where the round failed)."""
    return [min(r[figure]) if r.get(figure) else None for r in rounds]


def ratio_of(ours: list[Optional[float]], theirs: list[Optional[float]]) -> Optional[float]:
    """The median of the per-round ratios; None when either side has no rounds."""
    return _ratio_of(ours, theirs) if len(ours) == len(theirs) else None


def _have(values: list[Optional[float]]) -> list[float]:
    return [v for v in values if v is not None]


# --- main ----------------------------------------------------------------------------------------------------


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(groups: list[str], count: int, rounds: int, jobs_rounds: int, peers: dict[str, str]) \
        -> tuple[list[dict], list[str], list[psutil.Process], bool]:
    """The rows, notes, whatever was left after the teardown (nothing, we hope), and whether
    Ctrl-C (or SIGTERM, SIGHUP) cut the run short."""
    work = tempfile.mkdtemp(prefix="bench-supervisors-")
    processes = Processes(work)
    rows: list[dict] = []
    notes: list[str] = []
    interrupted = False
    try:
        if "supervisors" in groups:
            more, notes = bench_supervisors(processes, work, count, rounds, peers)
            rows += more
        if "jobs" in groups:
            rows += bench_jobs(processes, work, count, jobs_rounds)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
        processes.close()
        left = leftovers(work)
        shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return rows, notes, left, interrupted


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of each group, 50 roles")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 3 supervisors, 5 jobs)")
    parser.add_argument("--count", type=int, default=0, help="roles (default 200; quick 50)")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"groups to run, of {','.join(GROUPS)}")
    parser.add_argument("--peers", default=str(PEERS), help="where the peers are installed (venv/, pm2/)")
    parser.add_argument("--no-install", action="store_true", help="use the peers found; install none")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    if any(g not in GROUPS for g in groups):
        parser.error(f"--only: expected some of {','.join(GROUPS)}")
    count = args.count or (50 if args.quick else 200)
    rounds = args.rounds or (1 if args.quick else 3)
    jobs_rounds = args.rounds or (1 if args.quick else 5)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    began = time.perf_counter()
    load = os.getloadavg()
    peers: dict[str, str] = {}
    missing: dict[str, str] = {}
    if "supervisors" in groups:
        peers, missing = install_peers(os.path.join(args.peers, "venv"), os.path.join(args.peers, "pm2"),
                                       not args.no_install)
    rows, notes, left, interrupted = run(groups, count, rounds, jobs_rounds, peers)
    if interrupted:
        print("bench: interrupted; torn down, " + (f"{len(left)} processes left: " + ", ".join(
            str(p.pid) for p in left) if left else "nothing left"))
        return 130
    end = os.getloadavg()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} at the start, {end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at the end; "
          f"{'quick' if args.quick else 'full'} run of {','.join(groups)}, {count} roles, "
          f"in {time.perf_counter() - began:.0f} s")
    for name in ("supervisord", "circusd", "pm2"):
        if name in missing:
            print(f"skipped {name}: {missing[name]}")
    print(format_table(rows))
    for note in notes:
        print(note)
    missed = [f"{r['what']} ({r['target']})" for r in rows if r["met"] is False]
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    if left:
        print("bench: left after the teardown: " + ", ".join(str(p.pid) for p in left))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
