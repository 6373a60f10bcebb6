"""Running roles: ``ansar run``, ``start``, ``status -l`` and ``stop`` against a floor and peers.

Every tool runs the same example programs with the same arguments ansar gives them (noop, zombie,
as components of a home: same lock, same history, same log storage), so only supervision differs.
All are measured in the same invocation, in a new random order each round; each figure is the
median of the rounds and each ratio the median of the per-round ratios (below 1: ansar faster).

- ``ansar run`` of 10, 50, 200 noop roles against the floor (a Python script that Popens the same
  commands all at once and waits for all) and honcho (a Procfile of the same commands).
- 50 and 200 zombie roles: ``ansar start`` until ``ansar status`` lists all, one ``ansar status
  -l``, ``ansar stop`` until none is left; against supervisord, circus and pm2 running the same
  commands (each peer's start is the faster of its daemon's cold start and a start by its
  control command with the daemon up).
- The memory ansar keeps resident with 200 roles running, against each peer's daemon.

The peers are installed for the bench only, never as project dependencies: honcho, supervisor and
circus into a venv of their own (``--peers-venv``), pm2 with npm (``--pm2-prefix``). A peer that
cannot be installed is skipped, and the output says so. Every process started is stopped at the
end, on Ctrl-C or an error too.

    python bench/bench_running.py [--quick] [--rounds=N] [--only=run,background]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "bin"
PEERS_VENV = "/tmp/ansar-bench-peers"
PM2_PREFIX = "/tmp/ansar-bench-pm2"
PYTHON_PEERS = ("honcho", "supervisor", "circus")
FLOOR_TARGET = 1.3  # ansar run within this of the floor at 50 and 200 roles
WAIT_SECONDS = 600.0  # the bound on any one step; a step past it is a failure, not a figure
POLL = 0.01
GROUPS = ("run", "background")

FLOOR = """import subprocess, sys
path, home, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
children = [subprocess.Popen([path, "--call-signature=o", "--point-of-origin=1", "--home-path=" + home,
                              "--role-name=noop-%d" % k], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             start_new_session=True) for k in range(count)]
outputs = [child.communicate()[0] for child in children]
sys.exit(0 if all(b"Ack" in output for output in outputs) else 1)
"""


class Failed(Exception):
    """A step did not do its work (or not within WAIT_SECONDS): no figure for it."""


# --- processes ------------------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """The examples' launchers find the venv's python3 (with ansar) through PATH, for every tool."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSAR_")}
    env["PATH"] = os.pathsep.join([str(BIN), os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def ansar_command() -> list[str]:
    script = shutil.which("ansar", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ansar.command"]


class Processes:
    """Everything the bench starts: tracked, and swept by its work folder at the end."""

    def __init__(self, marker: str) -> None:
        self.marker = marker.encode()
        self.children: list[subprocess.Popen] = []

    def spawn(self, argv: list[str], **options) -> subprocess.Popen:  # type: ignore[no-untyped-def]
        options.setdefault("stdin", subprocess.DEVNULL)
        options.setdefault("stdout", subprocess.DEVNULL)
        options.setdefault("stderr", subprocess.DEVNULL)
        child = subprocess.Popen(argv, **options)
        self.children.append(child)
        return child

    def run(self, argv: list[str], *, seconds: float = WAIT_SECONDS, **options) -> tuple[float, int, bytes]:  # type: ignore[no-untyped-def]
        """Run to its end: (wall seconds, exit status, stdout)."""
        options.setdefault("stdout", subprocess.PIPE)
        started = time.perf_counter()
        child = self.spawn(argv, **options)
        try:
            output, _ = child.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise Failed(f"{os.path.basename(argv[0])} {' '.join(argv[1:2])} took over {seconds:g}s") from None
        finally:
            self.children.remove(child)
        return time.perf_counter() - started, child.returncode, output or b""

    def leftovers(self) -> list[int]:
        """Processes (not this one) whose command line or environment names the work folder."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    if f.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                        continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    text = f.read()
                if self.marker not in text:
                    with open(f"/proc/{entry}/environ", "rb") as f:
                        text = f.read()
            except (OSError, IndexError):
                continue
            if self.marker in text:
                found.append(int(entry))
        return found

    def close(self) -> list[int]:
        """Kill whatever is left; returns the pids still there after five seconds (none, we hope)."""
        for child in self.children:
            if child.poll() is None:
                child.kill()
        deadline = time.monotonic() + 5.0
        left = self.leftovers()
        while left and time.monotonic() < deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for child in self.children:
                child.poll()
            time.sleep(0.05)  # processes of other sessions: no event to wait on
            left = self.leftovers()
        for child in self.children:
            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        self.children.clear()
        return left


def rss_kib(pid: int, field: bytes = b"VmRSS:") -> int:
    """A process's resident memory in KiB (VmRSS from status, or Pss from smaps_rollup); 0 if gone."""
    name = "smaps_rollup" if field == b"Pss:" else "status"
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


# --- homes and roles --------------------------------------------------------------------------------------


class Home:
    """A home of ``count`` roles running ``example``, in a folder of its own."""

    def __init__(self, processes: Processes, folder: str, example: str, count: int) -> None:
        self.folder = folder
        self.path = os.path.join(folder, ".ansar-home")
        self.example = example
        self.names = [f"{example}-{k}" for k in range(count)]
        os.makedirs(folder)
        env = environment()
        for argv in (["create", f"--redirect-bin={BIN}"], ["add", example, f"--count={count}"]):
            _, code, _ = processes.run(ansar_command() + argv, cwd=folder, env=env, stderr=None)
            if code != 0:
                raise SystemExit(f"bench: ansar {argv[0]} failed in {folder}")

    def command(self, name: str, origin: str) -> list[str]:
        """The command line ansar gives role ``name`` (origin 1: run, 2: start)."""
        return [str(BIN / self.example), "--call-signature=o", f"--point-of-origin={origin}",
                f"--home-path={self.path}", f"--role-name={name}"]

    def held(self, name: str) -> bool:
        """The role's process holds its lock (the probe ansar's own status makes)."""
        try:
            fd = os.open(os.path.join(self.path, "lock", f"{name}.lock"), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def wait_all(self, running: bool, started: float, seconds: float = WAIT_SECONDS) -> float:
        """Seconds from ``started`` until every role runs (or none does)."""
        waiting = list(self.names)
        deadline = time.monotonic() + seconds
        while True:
            waiting = [name for name in waiting if self.held(name) != running]
            if not waiting:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                raise Failed(f"{len(waiting)} of {len(self.names)} roles not {'up' if running else 'down'}")
            time.sleep(POLL)  # a lock another process holds: no event to wait on

    def role_pids(self) -> list[int]:
        pids = []
        for name in self.names:
            try:
                with open(os.path.join(self.path, "lock", f"{name}.pid"), "rb") as f:
                    pids.append(int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return pids

    def ended_executions(self) -> int:
        """How many executions of the roles history records as ended with a value."""
        total = 0
        for name in self.names:
            try:
                with open(os.path.join(self.path, "history", f"{name}.json"), "rb") as f:
                    records = json.load(f)["value"]
            except (OSError, ValueError, KeyError):
                continue
            total += sum(1 for r in records if "end" in r and r.get("value"))
        return total


# --- statistics and the table -------------------------------------------------------------------------------


def median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def ratio_of(ours: list[Optional[float]], theirs: list[Optional[float]]) -> Optional[float]:
    """The median of the per-round ratios (rounds where both have a figure)."""
    return median([a / b for a, b in zip(ours, theirs, strict=True) if a is not None and b])


def row(what: str, ours: Optional[float], peer: str, theirs: Optional[float], ratio: Optional[float],
        target: str = "", met: Optional[bool] = None, unit: str = "s") -> dict:
    return {"what": what, "ours": ours, "peer": peer, "theirs": theirs, "ratio": ratio, "target": target,
            "met": met, "unit": unit}


def _fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value * 1000:.0f} ms" if value < 1.0 else f"{value:.2f} s"


def format_table(rows: list[dict]) -> str:
    header = ("benchmark", "ansar", "peer", "peer figure", "ansar/peer", "target", "met")
    lines = []
    for r in rows:
        met = "" if r["met"] is None else ("MET" if r["met"] else "MISSED")
        lines.append((r["what"], _fmt(r["ours"], r["unit"]), r["peer"], "" if not r["peer"] else
                      _fmt(r["theirs"], r["unit"]), "" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                      r["target"], met))
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = []
    for line in [header, None, *lines]:
        if line is None:
            out.append("  ".join("-" * w for w in widths))
            continue
        cells = [line[0].ljust(widths[0]), line[1].rjust(widths[1]), line[2].ljust(widths[2]),
                 line[3].rjust(widths[3]), line[4].rjust(widths[4]), line[5].ljust(widths[5]), line[6]]
        out.append("  ".join(cells).rstrip())
    out.append("")
    out.append("Each figure is the median of its rounds, ansar/peer the median of the per-round ratios;")
    out.append("below 1 means ansar is faster (or smaller).")
    return "\n".join(out)


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- peers: installed for the bench only ------------------------------------------------------------------------


def install_peers(venv: str, pm2_prefix: str, install: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Executables of the peers found or installed, and why each missing one is missing."""
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    scripts = {"honcho": "honcho", "supervisord": "supervisord", "supervisorctl": "supervisorctl",
               "circusd": "circusd", "circusctl": "circusctl"}
    bindir = os.path.join(venv, "bin")
    if install and not all(os.path.exists(os.path.join(bindir, s)) for s in scripts.values()):
        say(f"bench: installing {', '.join(PYTHON_PEERS)} into {venv} (for the bench only)")
        try:
            if not os.path.exists(os.path.join(bindir, "python")):
                subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300,
                               stdout=subprocess.DEVNULL)
            subprocess.run([os.path.join(bindir, "python"), "-m", "pip", "install", "-q", *PYTHON_PEERS],
                           check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as e:
            say(f"bench: pip install failed ({e})")
    for name, script in scripts.items():
        path = os.path.join(bindir, script)
        if os.access(path, os.X_OK):
            found[name] = path
        else:
            missing[name] = f"not installed in {venv}"
    pm2 = os.path.join(pm2_prefix, "node_modules", ".bin", "pm2")
    if install and not os.access(pm2, os.X_OK):
        npm = shutil.which("npm")
        if npm is None:
            missing["pm2"] = "npm not found"
        else:
            say(f"bench: installing pm2 into {pm2_prefix} with npm (for the bench only)")
            try:
                subprocess.run([npm, "install", "--prefix", pm2_prefix, "--no-audit", "--no-fund", "pm2"],
                               check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError) as e:
                missing["pm2"] = f"npm install pm2 failed ({e})"
    if os.access(pm2, os.X_OK) and shutil.which("node"):
        found["pm2"] = pm2
    else:
        missing.setdefault("pm2", f"not installed in {pm2_prefix}")
    return found, missing


# --- ansar run of noop roles ----------------------------------------------------------------------------------


def bench_run(processes: Processes, work: str, sizes: tuple[int, ...], rounds: int,
              peers: dict[str, str]) -> list[dict]:
    env = environment()
    homes = {n: Home(processes, os.path.join(work, f"run-{n}"), "noop", n) for n in sizes}
    tools: dict[str, Callable[[Home], list[str]]] = {
        "ansar": lambda home: [*ansar_command(), "run"],
        "floor": lambda home: [sys.executable, "-c", FLOOR, str(BIN / "noop"), home.path, str(len(home.names))],
    }
    if "honcho" in peers:
        for home in homes.values():
            # honcho ends the others once one has ended (SIGTERM): each line ignores it, so that
            # every noop runs to its end as under ansar (the runtime's handler takes it as a Stop).
            with open(os.path.join(home.folder, "Procfile"), "w") as f:
                for name in home.names:
                    f.write(f"{name}: trap '' TERM; exec {' '.join(home.command(name, '1'))}\n")
        tools["honcho"] = lambda home: [peers["honcho"], "-f", os.path.join(home.folder, "Procfile"), "start"]

    def measure(tool: str, home: Home) -> Optional[float]:
        before = home.ended_executions()
        try:
            seconds, code, output = processes.run(tools[tool](home), cwd=home.folder, env=env)
        except Failed as e:
            say(f"bench: {tool} run of {len(home.names)}: {e}")
            return None
        done = home.ended_executions() - before
        if tool == "ansar" and output.count(b"ansar.create.lifecycle.Ack") != len(home.names):
            say(f"bench: ansar run of {len(home.names)} exited {code} without an Ack for each role")
            return None
        if done != len(home.names):
            say(f"bench: {tool} run of {len(home.names)}: {done} executions ended with a value (exit {code})")
            return None
        return seconds

    figures: dict[tuple[str, int], list[Optional[float]]] = {(t, n): [] for t in tools for n in sizes}
    for tool in tools:  # a warm-up of each: page cache, byte code
        measure(tool, homes[sizes[0]])
    for k in range(rounds):
        for n in sizes:
            order = list(tools)
            random.shuffle(order)
            for tool in order:
                figures[tool, n].append(measure(tool, homes[n]))
            say(f"bench: run round {k + 1}/{rounds}, {n} roles: " + ", ".join(
                f"{t} {_fmt(figures[t, n][-1], 's')}" for t in tools))
    rows = []
    for n in sizes:
        ours = figures["ansar", n]
        ratio = ratio_of(ours, figures["floor", n])
        gated = n >= 50
        rows.append(row(f"ansar run, {n} noop roles", median(_have(ours)), "floor: Popen all, wait all",
                        median(_have(figures["floor", n])), ratio, f"<= {FLOOR_TARGET}x floor" if gated else "",
                        (ratio is not None and ratio <= FLOOR_TARGET) if gated else None))
        if "honcho" in tools:
            ratio = ratio_of(ours, figures["honcho", n])
            rows.append(row(f"ansar run, {n} noop roles", median(_have(ours)), "honcho start, Procfile",
                            median(_have(figures["honcho", n])), ratio, "< 1x honcho",
                            ratio is not None and ratio < 1.0))
    return rows


def _have(values: list[Optional[float]]) -> list[float]:
    return [v for v in values if v is not None]


# --- start, status, stop of zombie roles -------------------------------------------------------------------------


class Tool:
    """One supervisor of the zombie roles of its own home. ``cycle`` returns its figures: lists of
    seconds under "start", "start (warm)", "status", "stop", and KiB under "rss"."""

    name = ""

    def __init__(self, processes: Processes, home: Home) -> None:
        self.processes = processes
        self.home = home
        self.env = environment()

    def run(self, argv: list[str]) -> float:
        seconds, code, output = self.processes.run(argv, cwd=self.home.folder, env=self.env)
        return seconds

    def cycle(self) -> dict[str, list[float]]:
        raise NotImplementedError

    def reset(self) -> None:
        """After a failure: kill the roles (any process naming the home), so the next round starts
        clean; a daemon is shut down by its own cycle."""
        mark = self.home.path.encode()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and mark in cmdline(int(entry)):
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        self.home.wait_all(False, time.perf_counter(), seconds=30.0)


class Ansar(Tool):
    name = "ansar"

    def cycle(self) -> dict[str, list[float]]:
        ansar = ansar_command()
        started = time.perf_counter()
        command = self.run([*ansar, "start"])
        while True:
            _, _, output = self.processes.run([*ansar, "status"], cwd=self.home.folder, env=self.env)
            if len(output.splitlines()) == len(self.home.names):
                break
            if time.perf_counter() - started > WAIT_SECONDS:
                raise Failed("ansar status does not list every role")
        start = time.perf_counter() - started
        resident, count, roles, pss = self.resident()
        seconds, _, output = self.processes.run([*ansar, "status", "-l"], cwd=self.home.folder, env=self.env)
        if len(output.splitlines()) != len(self.home.names):
            raise Failed("ansar status -l does not list every role")
        status = seconds
        started = time.perf_counter()
        self.run([*ansar, "stop"])
        stop = self.home.wait_all(False, started)
        return {"start": [start], "start command": [command], "status": [status], "stop": [stop],
                "rss": [resident], "count": [count],
                "roles": [roles], "pss": [pss]}

    def resident(self) -> tuple[float, int, float, float]:
        """What ansar keeps resident besides the roles: any process naming the home, or an ansar
        command working in the home's folder, that is not a role. (KiB, how many, the roles' RSS
        KiB, the roles' PSS KiB)."""
        roles = set(self.home.role_pids())
        home = self.home.path.encode()
        commands = (b"ansar.command", os.path.join(os.path.dirname(sys.executable), "ansar").encode())
        others = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in roles or int(entry) == os.getpid():
                continue
            text = cmdline(int(entry))
            if home in text or (any(c in text for c in commands) and self.in_folder(int(entry))):
                others.append(int(entry))
        return (float(sum(rss_kib(p) for p in others)), len(others), float(sum(rss_kib(p) for p in roles)),
                float(sum(rss_kib(p, b"Pss:") for p in roles)))

    def in_folder(self, pid: int) -> bool:
        try:
            return os.readlink(f"/proc/{pid}/cwd").startswith(self.home.folder)
        except OSError:
            return False


class Daemon(Tool):
    """A peer with a daemon: cold start (the daemon starts every role), status, stop, a start by
    the control command with the daemon up, stop, then the daemon is shut down (not timed)."""

    def launch(self) -> None:
        raise NotImplementedError

    def daemon_pid(self) -> int:
        raise NotImplementedError

    def status_argv(self) -> list[str]:
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
            cold = self.home.wait_all(True, started)
            rss = float(rss_kib(self.daemon_pid()))
            status = self.run(self.status_argv())
            stops = []
            started = time.perf_counter()
            self.run(self.stop_argv())
            stops.append(self.home.wait_all(False, started))
            started = time.perf_counter()
            self.run(self.start_argv())
            warm = self.home.wait_all(True, started)
            started = time.perf_counter()
            self.run(self.stop_argv())
            stops.append(self.home.wait_all(False, started))
        finally:
            self.shutdown()
        return {"start": [cold], "start (warm)": [warm], "status": [status], "stop": stops, "rss": [rss]}


class Supervisord(Daemon):
    name = "supervisord"

    def __init__(self, processes: Processes, home: Home, peers: dict[str, str]) -> None:
        super().__init__(processes, home)
        self.daemon: Optional[subprocess.Popen] = None
        self.config = os.path.join(home.folder, "supervisord.conf")
        self.ctl = [peers["supervisorctl"], "-c", self.config]
        self.supervisord = peers["supervisord"]
        logs = os.path.join(home.folder, "supervisor-logs")
        os.makedirs(logs)
        lines = ["[unix_http_server]", f"file={home.folder}/supervisor.sock",
                 "[rpcinterface:supervisor]",
                 "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                 "[supervisorctl]", f"serverurl=unix://{home.folder}/supervisor.sock",
                 "[supervisord]", "nodaemon=true", "minfds=8192", f"logfile={logs}/supervisord.log",
                 f"pidfile={home.folder}/supervisord.pid", f"childlogdir={logs}", "user=root"]
        for name in home.names:  # as ansar start: working folder /, both streams to one log
            lines += [f"[program:{name}]", f"command={' '.join(home.command(name, '2'))}", "directory=/",
                      "autorestart=false", "startsecs=0", "stopsignal=INT", "redirect_stderr=true"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def launch(self) -> None:
        self.daemon = self.processes.spawn([self.supervisord, "-c", self.config], cwd=self.home.folder, env=self.env)

    def daemon_pid(self) -> int:
        return self.daemon.pid if self.daemon else 0

    def status_argv(self) -> list[str]:
        return [*self.ctl, "status"]

    def start_argv(self) -> list[str]:
        return [*self.ctl, "start", "all"]

    def stop_argv(self) -> list[str]:
        return [*self.ctl, "stop", "all"]

    def shutdown(self) -> None:
        if self.daemon is None:
            return
        try:
            self.processes.run([*self.ctl, "shutdown"], seconds=60.0, cwd=self.home.folder, env=self.env)
            self.daemon.wait(timeout=60.0)
        except (Failed, subprocess.TimeoutExpired):
            self.daemon.kill()
            self.daemon.wait()
        self.processes.children.remove(self.daemon)
        self.daemon = None


class Circus(Daemon):
    name = "circus"

    def __init__(self, processes: Processes, home: Home, peers: dict[str, str]) -> None:
        super().__init__(processes, home)
        self.daemon: Optional[subprocess.Popen] = None
        self.config = os.path.join(home.folder, "circus.ini")
        endpoint = f"ipc://{home.folder}/circus.sock"
        self.ctl = [peers["circusctl"], "--endpoint", endpoint, "--timeout", str(int(WAIT_SECONDS))]
        self.circusd = peers["circusd"]
        lines = ["[circus]", f"endpoint = {endpoint}", f"pubsub_endpoint = ipc://{home.folder}/circus-pub.sock",
                 "statsd = False"]
        for name in home.names:  # the caller's environment, working folder /, as ansar start
            lines += [f"[watcher:{name}]", f"cmd = {' '.join(home.command(name, '2'))}", "numprocesses = 1",
                      "copy_env = True", "working_dir = /", "stop_signal = INT", "graceful_timeout = 5"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def launch(self) -> None:
        self.daemon = self.processes.spawn([self.circusd, self.config], cwd=self.home.folder, env=self.env)

    def daemon_pid(self) -> int:
        return self.daemon.pid if self.daemon else 0

    def status_argv(self) -> list[str]:
        return [*self.ctl, "status"]

    def start_argv(self) -> list[str]:
        return [*self.ctl, "start"]

    def stop_argv(self) -> list[str]:
        return [*self.ctl, "stop"]

    def shutdown(self) -> None:
        if self.daemon is None:
            return
        try:
            self.processes.run([*self.ctl, "quit"], seconds=60.0, cwd=self.home.folder, env=self.env)
            self.daemon.wait(timeout=60.0)
        except (Failed, subprocess.TimeoutExpired):
            self.daemon.kill()
            self.daemon.wait()
        self.processes.children.remove(self.daemon)
        self.daemon = None


class Pm2(Daemon):
    name = "pm2"

    def __init__(self, processes: Processes, home: Home, peers: dict[str, str]) -> None:
        super().__init__(processes, home)
        self.pm2 = peers["pm2"]
        self.pm2_home = os.path.join(home.folder, "pm2-home")
        self.env["PM2_HOME"] = self.pm2_home
        self.config = os.path.join(home.folder, "ecosystem.config.js")
        apps = [{"name": name, "script": str(BIN / home.example), "args": home.command(name, "2")[1:],
                 "interpreter": "none", "cwd": "/", "autorestart": False, "kill_timeout": 5000}
                for name in home.names]
        with open(self.config, "w") as f:
            f.write(f"module.exports = {{apps: {json.dumps(apps)}}};\n")

    def launch(self) -> None:  # the first pm2 command spawns its daemon
        self.run([self.pm2, "start", self.config])

    def daemon_pid(self) -> int:
        try:
            with open(os.path.join(self.pm2_home, "pm2.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def status_argv(self) -> list[str]:
        return [self.pm2, "ls"]

    def start_argv(self) -> list[str]:
        return [self.pm2, "start", self.config]

    def stop_argv(self) -> list[str]:
        return [self.pm2, "stop", self.config]

    def shutdown(self) -> None:
        try:
            self.processes.run([self.pm2, "kill"], seconds=60.0, cwd=self.home.folder, env=self.env)
        except Failed:
            pid = self.daemon_pid()
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def bench_background(processes: Processes, work: str, sizes: tuple[int, ...], rounds: int,
                     peers: dict[str, str]) -> list[dict]:
    makers: dict[str, Callable[[Home], Tool]] = {"ansar": lambda home: Ansar(processes, home)}
    if "supervisord" in peers and "supervisorctl" in peers:
        makers["supervisord"] = lambda home: Supervisord(processes, home, peers)
    if "circusd" in peers and "circusctl" in peers:
        makers["circus"] = lambda home: Circus(processes, home, peers)
    if "pm2" in peers:
        makers["pm2"] = lambda home: Pm2(processes, home, peers)
    tools = {(name, n): make(Home(processes, os.path.join(work, f"{name}-{n}"), "zombie", n))
             for n in sizes for name, make in makers.items()}
    figures: dict[tuple[str, int], list[dict[str, list[float]]]] = {key: [] for key in tools}
    for k in range(rounds):
        for n in sizes:
            order = list(makers)
            random.shuffle(order)
            for name in order:
                tool = tools[name, n]
                try:
                    figures[name, n].append(tool.cycle())
                except Failed as e:
                    say(f"bench: {name}, {n} roles: {e}")
                    figures[name, n].append({})
                    tool.reset()
                say(f"bench: background round {k + 1}/{rounds}, {n} roles, {name}: " + ", ".join(
                    f"{key} {_fmt(median(v), 'MiB' if key in ('rss', 'roles', 'pss') else 's')}"
                    for key, v in _scaled(figures[name, n][-1]).items() if key != "count"))
    peer_names = [name for name in makers if name != "ansar"]
    rows = []
    for n in sizes:
        for figure, label in (("start", "start until status lists all"), ("status", "one status -l"),
                              ("stop", "stop until none is left")):
            rows += figure_rows(figures, n, figure, f"{label}, {n} zombies", peer_names)
            if figure == "start":  # the start command alone, without the status that confirms it
                alone = _have(per_round(figures["ansar", n], "start command"))
                rows.append(row(f"  of which ansar start, {n} zombies", median(alone), "", None, None))
        if n == max(sizes):
            rows += memory_rows(figures, n, peer_names)
    return rows


def per_round(rounds: list[dict[str, list[float]]], figure: str) -> list[Optional[float]]:
    return [median(r.get(figure, [])) for r in rounds]


def figure_rows(figures: dict, n: int, figure: str, what: str, peers: list[str]) -> list[dict]:
    """A row against each peer; the target against the best one. A peer's start is the faster of
    its daemon starting the roles and its control command starting them with the daemon up."""
    ours = per_round(figures["ansar", n], figure)
    rows = []
    for peer in peers:
        variants = [(f"{peer} (daemon start)", "start"), (f"{peer} (daemon up)", "start (warm)")] \
            if figure == "start" else [(peer, figure)]
        measured = [(median(_have(per_round(figures[peer, n], kind))), tag, per_round(figures[peer, n], kind))
                    for tag, kind in variants]
        measured = [m for m in measured if m[0] is not None]
        if not measured:
            rows.append(row(what, median(_have(ours)), f"{peer}: failed", None, None))
            continue
        value, tag, theirs = min(measured, key=lambda m: m[0])
        rows.append(row(what, median(_have(ours)), tag, value, ratio_of(ours, theirs)))
    scored = [r for r in rows if r["theirs"] is not None]
    if scored:
        best = min(scored, key=lambda r: r["theirs"])
        best["target"] = "< 1x best peer"
        best["met"] = best["ratio"] is not None and best["ratio"] < 1.0
    return rows


def _scaled(figures: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: [x / 1024.0 for x in v] if k in ("rss", "roles", "pss") else v for k, v in figures.items()}


def memory_rows(figures: dict, n: int, peers: list[str]) -> list[dict]:
    ours = [median(r.get("rss", [])) for r in figures["ansar", n]]
    count = max((c for r in figures["ansar", n] for c in r.get("count", [])), default=0)
    roles = median([x for r in figures["ansar", n] for x in r.get("roles", [])])
    pss = median([x for r in figures["ansar", n] for x in r.get("pss", [])])
    mib = (lambda v: None if v is None else v / 1024.0)
    rows = [row(f"RSS ansar keeps resident, {n} roles up ({count} ansar processes)", mib(median(_have(ours))),
                f"the {n} roles themselves (PSS {_fmt(mib(pss), 'MiB')})", mib(roles), None, unit="MiB")]
    for peer in peers:
        theirs = [median(r.get("rss", [])) for r in figures[peer, n]]
        value = mib(median(_have(theirs)))
        ratio = ratio_of([mib(x) for x in ours], [mib(x) for x in theirs])
        target = "< supervisord" if peer == "supervisord" else ""
        met = (mib(median(_have(ours))) or 0.0) < value if peer == "supervisord" and value else None
        rows.append(row(f"RSS ansar keeps resident, {n} roles up", mib(median(_have(ours))), f"{peer} daemon",
                        value, ratio, target, met, unit="MiB"))
    return rows


# --- main -----------------------------------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(sorted(int(word) for word in text.split(",") if word.strip()))


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer roles and rounds")
    parser.add_argument("--rounds", type=int, default=0, help="rounds of each group (default 5 run, 3 background; "
                        "quick 2 and 1)")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"groups to run, of {','.join(GROUPS)}")
    parser.add_argument("--peers-venv", default=PEERS_VENV, help="where honcho, supervisor and circus are installed")
    parser.add_argument("--pm2-prefix", default=PM2_PREFIX, help="where npm installs pm2")
    parser.add_argument("--run-sizes", default="", help="numbers of noop roles (default 10,50,200; quick 10,50)")
    parser.add_argument("--background-sizes", default="", help="numbers of zombie roles (default 50,200; quick 50)")
    parser.add_argument("--no-install", action="store_true", help="use the peers found; install none")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    if any(g not in GROUPS for g in groups):
        parser.error(f"--only: expected some of {','.join(GROUPS)}")
    run_sizes = _sizes(args.run_sizes) or ((10, 50) if args.quick else (10, 50, 200))
    background_sizes = _sizes(args.background_sizes) or ((50,) if args.quick else (50, 200))
    run_rounds = args.rounds or (2 if args.quick else 5)
    background_rounds = args.rounds or (1 if args.quick else 3)

    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    began = time.perf_counter()
    load = os.getloadavg()[0]
    peers, missing = install_peers(args.peers_venv, args.pm2_prefix, not args.no_install)
    work = tempfile.mkdtemp(prefix="bench-running-")
    processes = Processes(work)
    rows: list[dict] = []
    left: list[int] = []
    try:
        if "run" in groups:
            rows += bench_run(processes, work, run_sizes, run_rounds, peers)
        if "background" in groups:
            rows += bench_background(processes, work, background_sizes, background_rounds, peers)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        left = processes.close()
        shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {load:.1f} at the start and "
          f"{os.getloadavg()[0]:.1f} at the end; "
          f"{'quick' if args.quick else 'full'} run of {','.join(groups)} in {time.perf_counter() - began:.0f} s")
    for name, reason in sorted(missing.items()):
        print(f"skipped {name}: {reason}")
    print(format_table(rows))
    missed = [f"{r['what']} ({r['target']})" for r in rows if r["met"] is False]
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    if left:
        print(f"bench: processes left after the clean-up: {', '.join(map(str, left))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
