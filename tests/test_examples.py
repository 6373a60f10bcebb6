"""Each example run as a tool, the way a person runs it from a shell.

Results are read from stdout as the tour prints them; logs from stderr. Nothing here sleeps to
synchronise: a test waits for a log line or a listening port, with a deadline.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DOCS = REPO / "docs"
NAMES = ["analyzer", "busy", "client", "factorial", "noop", "server", "snooze", "switch", "zombie"]

ACK = {"value": ["ansar.create.lifecycle.Ack", {}, []]}
ABORTED = {"value": ["ansar.create.lifecycle.Aborted", {}, []]}
MAYBE = {"value": ["ansar.create.lifecycle.Maybe", {}, []]}


def example(name: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / f"{name}.py")]


def run_tool(name: str, *args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None,
             seconds: float = 60.0) -> subprocess.CompletedProcess[bytes]:
    """Run an example to its end; stdin is closed unless given."""
    return subprocess.run(
        example(name) + list(args), input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True, env=env, cwd=cwd, timeout=seconds,
    )


def result(proc: subprocess.CompletedProcess[bytes]) -> object:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout)


class Tool:
    """An example running in the background, its stderr read line by line as it arrives."""

    def __init__(self, name: str, *args: str, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            example(name) + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=cwd,
        )
        self.stderr: list[str] = []
        self.stdout = b""
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stderr.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self.stdout = self.process.stdout.read()

    def wait_for_log(self, pattern: str, *, seconds: float = 30.0) -> str:
        """The first new stderr line matching ``pattern``; fails at the deadline or at EOF."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"ended before logging {pattern!r}:\n" + "\n".join(self.stderr))
            if re.search(pattern, line):
                return line
        pytest.fail(f"no log matching {pattern!r} in {seconds}s:\n" + "\n".join(self.stderr))

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def finish(self, *, seconds: float = 30.0) -> int:
        """Wait for the end of the process and of its output; the exit status."""
        code = self.process.wait(timeout=seconds)
        for reader in self._readers:
            reader.join(timeout=seconds)
        self.close()
        return code

    def close(self) -> None:
        """Kill the process if it still runs and release its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=30)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    def output(self) -> object:
        assert self.stdout, "nothing on stdout:\n" + "\n".join(self.stderr)
        return json.loads(self.stdout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_gone(processes: list[psutil.Process], *, seconds: float = 15.0) -> None:
    """Every process in the list has ended (zombies awaiting their parent count as ended)."""
    deadline = time.monotonic() + seconds
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        if alive:
            psutil.wait_procs(alive, timeout=0.1)
    assert not alive, f"still running: {[p.pid for p in alive]}"


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def console_line(name: str, text: str) -> str:
    """A pattern for a console record of object ``name``, as ``^ <0000000a>name - text``."""
    return rf"\^ <[0-9a-f]{{8}}>{re.escape(name)} - {re.escape(text)}"


@pytest.fixture
def launch(tool_env, work):
    """Start examples in the background; whatever is left is killed and closed after the test."""
    started: list[Tool] = []

    def start(name: str, *args: str) -> Tool:
        tool = Tool(name, *args, env=tool_env, cwd=work)
        started.append(tool)
        return tool

    yield start
    for tool in started:
        tool.close()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


# noop


def test_noop_returns_ack(tool_env, work):
    assert result(run_tool("noop", env=tool_env, cwd=work)) == ACK


def test_noop_logs_its_line_at_console_level(tool_env, work):
    proc = run_tool("noop", "--debug-level=CONSOLE", env=tool_env, cwd=work)
    assert result(proc) == ACK
    assert re.search(console_line("noop", "Log this and exit"), proc.stderr.decode())


def test_launcher_in_bin_runs_its_example_from_anywhere(tool_env, work):
    proc = subprocess.run([str(REPO / "bin" / "noop")], stdin=subprocess.DEVNULL, capture_output=True,
                          env=tool_env, cwd=work, timeout=60)
    assert result(proc) == ACK


def test_launcher_runs_through_a_symbolic_link(tool_env, work):
    link = work / "noop-link"
    link.symlink_to(REPO / "bin" / "noop")
    proc = subprocess.run([str(link)], stdin=subprocess.DEVNULL, capture_output=True,
                          env=tool_env, cwd=work, timeout=60)
    assert result(proc) == ACK


def test_every_example_has_an_executable_launcher():
    for name in NAMES:
        launcher = REPO / "bin" / name
        assert launcher.is_file(), launcher
        assert os.access(launcher, os.X_OK), launcher
        assert f"examples/{name}.py" in launcher.read_text()


# snooze


def test_snooze_returns_ack_after_its_seconds(tool_env, work):
    proc = run_tool("snooze", "--seconds=0.2", "--debug-level=CONSOLE", env=tool_env, cwd=work)
    assert result(proc) == ACK
    assert re.search(console_line("snooze", "Do nothing for 0.2 seconds"), proc.stderr.decode())


def test_snooze_dumps_its_factory_settings(tool_env, work):
    proc = run_tool("snooze", "--dump-settings", env=tool_env, cwd=work)
    assert result(proc) == {"value": {"seconds": 2.0}}


def test_snooze_reads_a_settings_file(tool_env, work):
    (work / "short").write_text('{"value": {"seconds": 0.1}}')
    proc = run_tool("snooze", "--settings-file=short", "--debug-level=CONSOLE", env=tool_env, cwd=work)
    assert result(proc) == ACK
    assert re.search(console_line("snooze", "Do nothing for 0.1 seconds"), proc.stderr.decode())


def test_snooze_keeps_stored_settings(tool_env, work):
    run_tool("snooze", "--store-settings", "--seconds=0.3", env=tool_env, cwd=work)
    proc = run_tool("snooze", "--dump-settings", env=tool_env, cwd=work)
    assert result(proc) == {"value": {"seconds": 0.3}}


def test_snooze_help_names_its_setting(tool_env, work):
    proc = run_tool("snooze", "--help", env=tool_env, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert b"seconds" in proc.stdout + proc.stderr


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_snooze_interrupted_returns_aborted(launch, tool_env, work, number):
    snooze = launch("snooze", "--seconds=30", "--debug-level=CONSOLE")
    snooze.wait_for_log(console_line("snooze", "Do nothing for 30.0 seconds"))
    started = time.monotonic()
    snooze.signal(number)
    snooze.finish(seconds=10)
    assert snooze.output() == ABORTED
    assert time.monotonic() - started < 5.0


def test_bad_setting_value_is_one_line_and_exit_2(tool_env, work):
    proc = run_tool("snooze", "--seconds=soon", env=tool_env, cwd=work)
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "seconds" in lines[0]
    assert proc.stdout == b""


def test_unknown_setting_is_one_line_and_exit_2(tool_env, work):
    proc = run_tool("noop", "--no-such-setting=1", env=tool_env, cwd=work)
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "no-such-setting" in lines[0] or "no_such_setting" in lines[0]


def test_malformed_settings_file_is_one_line_naming_it(tool_env, work):
    (work / "broken").write_text('{"value": {"seconds": ')
    proc = run_tool("snooze", "--settings-file=broken", env=tool_env, cwd=work)
    assert proc.returncode != 0
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "broken" in lines[0]


# zombie


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_zombie_ends_only_when_interrupted(launch, tool_env, work, number):
    zombie = launch("zombie", "--debug-level=CONSOLE")
    zombie.wait_for_log(console_line("zombie", "Do nothing until interrupted"))
    assert zombie.process.poll() is None
    zombie.signal(number)
    zombie.finish(seconds=10)
    assert zombie.output() == ABORTED


# factorial


def factorial_returned(value: int) -> dict:
    return {"value": ["lib.factorial_if.FactorialReturned", {"value": value}, []]}


def test_factorial_of_the_factory_input_is_120(tool_env, work):
    assert result(run_tool("factorial", env=tool_env, cwd=work)) == factorial_returned(120)


def test_factorial_dumps_its_factory_input(tool_env, work):
    assert result(run_tool("factorial", "--dump-input", env=tool_env, cwd=work)) == {"value": 5}


def test_factorial_reads_input_from_stdin(tool_env, work):
    proc = run_tool("factorial", env=tool_env, cwd=work, stdin=b'{"value": 3}')
    assert result(proc) == factorial_returned(6)


def test_factorial_reads_the_tours_input_file(tool_env, work):
    proc = run_tool("factorial", f"--input-file={EXAMPLES / 'factorial-7'}", env=tool_env, cwd=work)
    assert result(proc) == factorial_returned(5040)


def test_factorial_logs_each_step_of_the_chain(tool_env, work):
    proc = run_tool("factorial", "--debug-level=CONSOLE", env=tool_env, cwd=work, stdin=b'{"value": 2}')
    assert result(proc) == factorial_returned(2)
    logs = proc.stderr.decode()
    for n in (2, 1, 0):
        assert re.search(console_line("factorial", f"factorial({n})"), logs), logs


def test_factorial_stopped_midway_aborts_and_leaves_no_process(launch, tool_env, work):
    (work / "forty").write_text('{"value": 40}')
    factorial = launch("factorial", "--debug-level=CONSOLE", "--input-file=forty")
    factorial.wait_for_log(console_line("factorial", "factorial(37)"))
    chain = factorial.descendants()
    assert chain
    factorial.signal(signal.SIGINT)
    factorial.finish(seconds=30)
    assert factorial.output() == ABORTED
    assert_gone(chain)


# busy


def job_returned(processes: int) -> dict:
    return {"value": ["lib.job_if.JobReturned", {"processes": processes}, []]}


def test_busy_counts_the_processes_of_its_tree(tool_env, work):
    # Levels 2, managers 2, three duties: 3 busy processes, each with 3 duties.
    assert result(run_tool("busy", env=tool_env, cwd=work)) == job_returned(12)


def test_busy_follows_its_input(tool_env, work):
    job = {"value": {"duties": ["noop"], "management_levels": 2, "managers": 3}}
    proc = run_tool("busy", env=tool_env, cwd=work, stdin=json.dumps(job).encode())
    assert result(proc) == job_returned(8)


def test_busy_stopped_aborts_and_leaves_no_process(launch, tool_env, work):
    (work / "job").write_text(
        '{"value": {"duties": ["zombie"], "management_levels": 2, "managers": 2}}')
    busy = launch("busy", "--input-file=job", "--debug-level=CONSOLE")
    for _ in range(3):
        busy.wait_for_log(console_line("zombie", "Do nothing until interrupted"))
    tree = busy.descendants()
    assert len(tree) >= 5
    busy.signal(signal.SIGINT)
    busy.finish(seconds=30)
    assert busy.output() == ABORTED
    assert_gone(tree)


def test_busy_with_an_unknown_duty_fails_in_one_line(tool_env, work):
    job = {"value": {"duties": ["no-such-program"], "management_levels": 1, "managers": 1}}
    proc = run_tool("busy", env=tool_env, cwd=work, stdin=json.dumps(job).encode())
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "no-such-program" in err


# server and client


def start_server(launch, *args: str) -> tuple[Tool, int]:
    port = free_port()
    server = launch("server", f"--port={port}", "--debug-level=CONSOLE", *args)
    server.wait_for_log(console_line("listen", "Listening on"))
    return server, port


TESTED = [
    (51, "Expected b'fervent' for b'eager', got {}"),
    (56, "Expected b'define' for b'explain', got {}"),
    (61, "Expected b'droll' for b'fly', got {}"),
]


def test_client_reports_three_failures_against_a_server_without_a_word_map(launch, tool_env, work):
    server, port = start_server(launch)
    proc = run_tool("client", f"--port={port}", "--debug-level=CONSOLE", env=tool_env, cwd=work)
    value = result(proc)
    kind, report, _ = value["value"]
    assert kind == "ansar.create.test.TestReport"
    assert (report["passed"], report["failed"]) == (0, 3)
    echoed = ["b'eager'", "b'explain'", "b'fly'"]
    assert [(t["line"], t["text"]) for t in report["tested"]] == [
        (line, text.format(word)) for (line, text), word in zip(TESTED, echoed, strict=True)]
    assert {t["source"] for t in report["tested"]} == {"client.py"}
    assert {t["name"] for t in report["tested"]} == {"client"}
    assert {t["condition"] for t in report["tested"]} == {False}
    # Failed tests are logged as "=" lines ending with the source and line.
    logs = proc.stderr.decode()
    failed = r"= <[0-9a-f]{8}>client - Expected b'fervent' for b'eager', got b'eager' \(client\.py:51\)"
    assert re.search(failed, logs), logs

    server.signal(signal.SIGINT)
    server.finish(seconds=10)
    assert server.output() == ABORTED


def ansar(*args: str, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(["ansar", *args], stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=cwd,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode()


def test_server_as_a_component_maps_words_from_its_model_folder(launch, tool_env, work):
    port = free_port()
    ansar("create", f"--redirect-bin={REPO / 'bin'}", env=tool_env, cwd=work)
    ansar("add", "server", f"--port={port}", env=tool_env, cwd=work)
    model = Path(ansar("folder", "model", "server-0", env=tool_env, cwd=work).strip())
    shutil.copy(EXAMPLES / "word-map.json", model / "word-map.json")

    home = str(work / ".ansar-home")
    server = launch("server", f"--home-path={home}", "--role-name=server-0", "--debug-level=CONSOLE")
    server.wait_for_log(console_line("server", "Loaded 1 words"))
    server.wait_for_log(console_line("listen", "Listening on"))
    proc = run_tool("client", f"--port={port}", env=tool_env, cwd=work)
    kind, report, _ = result(proc)["value"]
    assert (report["passed"], report["failed"]) == (1, 2)
    assert [t["line"] for t in report["tested"] if not t["condition"]] == [51, 61]
    server.signal(signal.SIGINT)
    server.finish(seconds=10)
    assert server.output() == ABORTED


def test_server_stops_promptly_with_a_client_connected(launch, tool_env, work):
    server, port = start_server(launch)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"fly")
        assert s.recv(1024) == b"fly"
        server.wait_for_log(console_line("accepted", "Accepted on"))
        started = time.monotonic()
        server.signal(signal.SIGINT)
        server.finish(seconds=10)
        assert time.monotonic() - started < 5.0
    assert server.output() == ABORTED


def test_server_on_a_port_in_use_fails(tool_env, work):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_tool("server", f"--port={port}", env=tool_env, cwd=work)
    assert proc.returncode != 0
    assert b"Traceback" not in proc.stderr
    assert f"127.0.0.1:{port}".encode() in proc.stderr


def test_client_without_a_server_returns_maybe(tool_env, work):
    port = free_port()
    proc = run_tool("client", f"--port={port}", "--debug-level=CONSOLE", env=tool_env, cwd=work)
    assert proc.stdout and json.loads(proc.stdout) == MAYBE
    assert re.search(r'\? <[0-9a-f]{8}>client - Session error - ".*Connection refused"', proc.stderr.decode())


# analyzer


def test_analyzer_names_each_role_of_the_suite(tool_env, work):
    # The suite encoded by the runtime itself, as `ansar run --test-analyzer` passes it.
    import ansar.create as ar
    from ansar.create.codec import encode

    report = ar.TestReport(passed=1)
    suite = ar.TestSuite(report={"client-0": report, "client-1": report})
    proc = run_tool("analyzer", "--debug-level=CONSOLE", env=tool_env, cwd=work,
                    stdin=encode(suite, ar.TestSuite))
    assert result(proc) == ACK
    logs = proc.stderr.decode()
    assert re.search(console_line("analyzer", "Analyzed client-0"), logs), logs
    assert re.search(console_line("analyzer", "Analyzed client-1"), logs), logs


def test_analyzer_with_no_input_returns_ack(tool_env, work):
    assert result(run_tool("analyzer", env=tool_env, cwd=work)) == ACK


# switch and script


def test_switch_reports_the_state_after_its_toggles(tool_env, work):
    switched = {"value": ["__main__.Switched", {"state": "ON", "toggles": 3}, []]}
    assert result(run_tool("switch", env=tool_env, cwd=work)) == switched


def test_switch_with_an_even_number_of_toggles_ends_off(tool_env, work):
    switched = {"value": ["__main__.Switched", {"state": "OFF", "toggles": 4}, []]}
    assert result(run_tool("switch", "--toggles=4", env=tool_env, cwd=work)) == switched


def test_script_runs_factorial_through_a_channel(tool_env, work):
    proc = subprocess.run(example("script") + ["4"], stdin=subprocess.DEVNULL, capture_output=True,
                          env=tool_env, cwd=work, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout.decode().strip() == "factorial(4) is 24"


# the docs, the demo and the build


@pytest.mark.timeout(300)
def test_demo_runs_to_the_end(tool_env, work):
    # busy-0 with a tree of 40 processes rather than the tour's 484: the big tree is tested on its own
    small = work / "busy-input"
    small.write_text('{"value": {"duties": ["noop", "snooze", "factorial"], "management_levels": 3, "managers": 2}}')
    proc = subprocess.run(["sh", str(EXAMPLES / "demo.sh")], stdin=subprocess.DEVNULL, capture_output=True,
                          env=dict(tool_env, DEMO_BUSY_INPUT=str(small)), cwd=work, timeout=280)
    assert proc.returncode == 0, (proc.stdout.decode(errors="replace")[-3000:]
                                  + proc.stderr.decode(errors="replace")[-3000:])
    assert b"ansar.command.ansar_command.Run" in proc.stdout
    assert b'"value": 5040' in proc.stdout  # factorial-0 run with its input replaced by 7
    assert b"ansar.create.lifecycle.Aborted" in proc.stdout  # the zombie, stopped
    assert re.search(rb"\[0\] \d+\.\ds ago \.\.\. \d+\.\ds \(Aborted\)", proc.stdout)  # its history
    assert b"zombie - Do nothing until interrupted" in proc.stdout  # its log


def test_every_literalinclude_in_the_docs_names_a_real_example():
    included = set()
    for page in DOCS.glob("*.rst"):
        for target in re.findall(r"^\.\. literalinclude:: (\S+)", page.read_text(), re.M):
            path = (DOCS / target).resolve()
            assert path.is_file(), f"{page.name}: {target}"
            included.add(path)
    for name in NAMES:
        assert (EXAMPLES / f"{name}.py").resolve() in included, f"{name}.py is in no page"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pyinstaller_builds_a_working_noop(tool_env, tmp_path):
    pyinstaller = shutil.which("pyinstaller", path=tool_env["PATH"])
    if pyinstaller is None:
        pytest.skip("pyinstaller is not installed (pip install -e '.[build]')")
    subprocess.run(
        [pyinstaller, "--onefile", "--log-level", "ERROR", "-p", str(EXAMPLES), "-p", str(REPO),
         "--collect-submodules", "ansar.create", "--distpath",
         str(tmp_path / "dist"), "--workpath", str(tmp_path / "build"), "--specpath", str(tmp_path),
         str(EXAMPLES / "noop.py")],
        check=True, env=tool_env, cwd=tmp_path, timeout=540, capture_output=True,
    )
    proc = subprocess.run([str(tmp_path / "dist" / "noop")], stdin=subprocess.DEVNULL, capture_output=True,
                          env=tool_env, timeout=60)
    assert result(proc) == ACK
