"""``ar.Process``: executables run as child objects; results, Stop escalation, process trees.

The examples are found through the ``bin/`` launchers (``tool_path``); other children are tiny
scripts written into tmp_path. Waits poll with deadlines; nothing sleeps to synchronise.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from support_running import gone, wait_for

import ansar.create as ar
from ansar.create import log as ar_log
from ansar.create import processing
from ansar.create.log import USER_LOG

DEADLINE = 20.0


@pytest.fixture
def path_env(monkeypatch, tool_path):
    """This process finds the examples, as ar.Process children, through bin/."""
    monkeypatch.setenv("PATH", tool_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)


def completed(channel, seconds: float = DEADLINE):
    m = channel.select(ar.Completed, seconds=seconds)
    assert isinstance(m, ar.Completed), f"no Completed within {seconds}s"
    return m


def executable(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def read_pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()]


# --- results -------------------------------------------------------------------------------------------


def test_an_unknown_executable_gives_a_faulted(path_env):
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, "no-such-program-anywhere")
        value = completed(channel).value
    assert isinstance(value, ar.Faulted)
    assert "no-such-program-anywhere" in value.condition


def test_the_result_of_a_child_is_decoded(path_env):
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, "noop")
        value = completed(channel).value
    assert isinstance(value, ar.Ack)


def test_input_goes_in_and_an_unknown_result_type_is_kept(path_env):
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, "factorial", input=3)
        value = completed(channel).value
    # lib.factorial_if is not imported here: the value is kept, not dropped
    assert isinstance(value, ar.Incognito)
    assert value.type_name == "lib.factorial_if.FactorialReturned"
    assert value.body == {"value": 6}


def test_the_factorial_chain_returns_120(tool_env, tmp_path):
    proc = subprocess.run(["factorial"], stdin=subprocess.DEVNULL, capture_output=True, env=tool_env, cwd=tmp_path,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout) == {"value": ["lib.factorial_if.FactorialReturned", {"value": 120}, []]}


def test_a_child_exiting_with_a_status_and_no_output_is_faulted(tmp_path):
    script = executable(tmp_path, "fails", "import sys\nsys.exit(7)\n")
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, str(script))
        value = completed(channel).value
    assert isinstance(value, ar.Faulted) and value.exit_code == 7


def test_debug_level_is_passed_on_to_children(path_env, capfd):
    level = ar_log.log_level()
    sink_records = []

    class Sink:
        def write(self, record):
            sink_records.append(record)

    previous = ar_log.set_sink(Sink())
    ar_log.set_log_level(USER_LOG.CONSOLE)
    try:
        with ar.OpenChannel() as channel:
            channel.create(ar.Process, "noop")
            completed(channel)
    finally:
        ar_log.set_log_level(level)
        ar_log.set_sink(previous)
    err = capfd.readouterr().err
    # the child's own console line passes through on stderr only when it was given the level
    assert " ^ <" in err and "noop - Log this and exit" in err, err


def test_without_a_debug_level_the_child_logs_nothing(path_env, capfd):
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, "noop")
        completed(channel)
    assert "Log this and exit" not in capfd.readouterr().err


# --- stop ------------------------------------------------------------------------------------------------


@pytest.fixture
def console_level():
    """Log at CONSOLE (so children get --debug-level=CONSOLE); this process's records go to a list."""
    records = []

    class Sink:
        def write(self, record):
            records.append(record)

    previous = ar_log.set_sink(Sink())
    level = ar_log.log_level()
    ar_log.set_log_level(USER_LOG.CONSOLE)
    yield records
    ar_log.set_log_level(level)
    ar_log.set_sink(previous)


def wait_for_stderr(capfd, text: str) -> str:
    """Poll the captured stderr of this process (and its children) for ``text``."""
    seen = []

    def found() -> bool:
        seen.append(capfd.readouterr().err)
        return text in "".join(seen)

    wait_for(found, what=f"{text!r} on stderr")
    return "".join(seen)


def test_stop_reaches_the_child_as_sigint_and_aborted_comes_back(path_env, console_level, capfd):
    with ar.OpenChannel() as channel:
        p = channel.create(ar.Process, "zombie")
        wait_for_stderr(capfd, "Do nothing until interrupted")  # its handlers are in place
        pid = wait_child_pid()
        channel.send(ar.Stop(), p)
        value = completed(channel).value
    assert isinstance(value, ar.Aborted)
    assert gone(pid)


PLAIN = """
import time
time.sleep(600)
"""

# Imported by the child's interpreter while it starts (init_import_site): a SIGINT arriving here is
# what an example stopped during its start-up gets.
SLOW_START = """
import os, time
open(os.environ['READY_FILE'], 'w').close()
time.sleep(600)
"""


def test_a_stopped_child_ending_without_a_result_is_aborted(tmp_path, monkeypatch, capfd):
    script = executable(tmp_path, "plain", PLAIN)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_START)
    ready = tmp_path / "ready"
    monkeypatch.setenv("READY_FILE", str(ready))
    monkeypatch.setenv("PYTHONPATH", str(site))
    with ar.OpenChannel() as channel:
        p = channel.create(ar.Process, str(script))
        wait_for(ready.exists, what="plain child ready")
        channel.send(ar.Stop(), p)
        value = completed(channel).value
    capfd.readouterr()  # the child's 'Fatal Python error' text
    assert isinstance(value, ar.Aborted), value


def wait_child_pid() -> int:
    """The pid of the one process this test process started (via ar.Process)."""
    me = psutil.Process()
    found: list[int] = []

    def started() -> bool:
        found[:] = [c.pid for c in me.children() if c.status() != psutil.STATUS_ZOMBIE]
        return len(found) == 1

    wait_for(started, what="child process started")
    return found[0]


STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
pids = [os.getpid()]
if len(sys.argv) > 1 and sys.argv[1] == '--with-grandchild':
    g = subprocess.Popen([sys.executable, '-c',
        'import signal, time\\n'
        'signal.signal(signal.SIGINT, signal.SIG_IGN)\\n'
        'signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n'
        'time.sleep(600)'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids.append(g.pid)
tmp = os.environ['PIDS_FILE'] + '.tmp'
with open(tmp, 'w') as f:
    f.write(' '.join(map(str, pids)))
os.rename(tmp, os.environ['PIDS_FILE'])
while True:
    time.sleep(600)
"""


@pytest.mark.parametrize("grandchild", [False, True])
def test_a_child_ignoring_sigint_and_sigterm_is_ended_by_escalation(tmp_path, monkeypatch, grandchild):
    script = executable(tmp_path, "stubborn", STUBBORN)
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    monkeypatch.setattr(processing, "TERMINATE_GRACE", 0.2)
    settings = ["--with-grandchild"] if grandchild else []
    started = time.monotonic()
    with ar.OpenChannel() as channel:
        p = channel.create(ar.Process, str(script), grace=0.2, settings=settings)
        wait_for(pids_file.exists, what="stubborn child ready")
        pids = read_pids(pids_file)
        channel.send(ar.Stop(), p)
        value = completed(channel).value
    assert isinstance(value, ar.Aborted)
    assert time.monotonic() - started < 10.0
    wait_for(lambda: all(gone(pid) for pid in pids), seconds=5.0, what="tree gone")


LEAVES_A_GRANDCHILD = """
import os, subprocess, sys
g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open(os.environ['PIDS_FILE'], 'w') as f:
    f.write(str(g.pid))
print('{"value": ["ansar.create.lifecycle.Ack", {}, []]}')
"""


def test_the_whole_tree_is_gone_when_the_child_completes(tmp_path, monkeypatch):
    script = executable(tmp_path, "leaver", LEAVES_A_GRANDCHILD)
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    try:
        with ar.OpenChannel() as channel:
            channel.create(ar.Process, str(script))
            value = completed(channel).value
        assert isinstance(value, ar.Ack)
        (grandchild,) = read_pids(pids_file)
        wait_for(lambda: gone(grandchild), seconds=3.0, what="grandchild gone")
    finally:
        if pids_file.exists():
            for pid in read_pids(pids_file):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


SUPERVISOR = """
import os, sys
import ansar.create as ar

def main(self):
    child = self.create(ar.Process, 'zombie')
    open(os.environ['READY_FILE'], 'w').close()
    m = self.select(ar.Completed, ar.Stop)
    if isinstance(m, ar.Stop):
        self.send(m, child)
        m = self.select(ar.Completed)
        return m.value
    return m.value

ar.bind(main)
ar.create_object(main)
"""


def start_supervisor(tmp_path, tool_env):
    script = tmp_path / "supervisor.py"
    script.write_text(SUPERVISOR)
    ready = tmp_path / "ready"
    env = dict(tool_env, READY_FILE=str(ready))
    proc = subprocess.Popen([sys.executable, str(script), "--debug-level=CONSOLE"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert proc.stderr is not None
    while True:  # bounded by the test timeout: the zombie logs once its handlers are in place
        line = proc.stderr.readline()
        assert line, "supervisor ended early"
        if b"zombie - Do nothing until interrupted" in line:
            break
    top = psutil.Process(proc.pid)
    return proc, [c.pid for c in top.children(recursive=True)]


def test_sigint_to_a_program_stops_its_process_children_and_the_tree_is_gone(tmp_path, tool_env):
    proc, tree = start_supervisor(tmp_path, tool_env)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert json.loads(out) == {"value": ["ansar.create.lifecycle.Aborted", {}, []]}, err
    assert b"Traceback" not in err
    wait_for(lambda: all(gone(pid) for pid in tree), seconds=5.0, what="tree gone")


def test_a_killed_program_leaves_no_orphans(tmp_path, tool_env):
    proc, tree = start_supervisor(tmp_path, tool_env)
    proc.kill()
    proc.communicate(timeout=DEADLINE)
    wait_for(lambda: all(gone(pid) for pid in tree), seconds=5.0, what="orphans gone")


def test_stop_to_the_factorial_chain_aborts_every_level(tool_env, tmp_path):
    # a long chain of processes, stopped part way: every process of the chain ends
    source = tmp_path / "n.json"
    source.write_text('{"value": 200}')
    with open(source, "rb") as stdin:
        proc = subprocess.Popen(["factorial"], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=tool_env, cwd=tmp_path)
    top = psutil.Process(proc.pid)
    wait_for(lambda: len(top.children(recursive=True)) >= 3 or proc.poll() is not None, what="chain growing")
    tree = [c.pid for c in top.children(recursive=True)]
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # a level still starting up (before its handler is installed) may die of the SIGINT itself
    # and say so on stderr; what matters is the result and that the whole chain ends
    assert json.loads(out)["value"][0] == "ansar.create.lifecycle.Aborted", err.decode(errors="replace")
    wait_for(lambda: all(gone(pid) for pid in tree), seconds=5.0, what="chain gone")
