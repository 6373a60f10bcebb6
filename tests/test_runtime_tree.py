"""Stopping a process tree (``ansar.create._tree``), the ready signal, and a big tree stopped by
one signal. Children are tiny scripts of this interpreter; waits poll with deadlines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from support_running import gone, wait_for

from ansar.create import _tree

DEADLINE = 20.0


# A parent that starts children of several kinds, writes all their pids to PIDS_FILE and waits.
FAMILY = """
import os, signal, subprocess, sys, time
kind = sys.argv[1]
code = {
    'plain': 'import time; time.sleep(600)',
    'deaf': 'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); '
            'signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)',
    'setsid': 'import os, time; os.setsid(); time.sleep(600)',
}
pids = [os.getpid()]
if kind == 'daemon':
    # double fork: the grandchild leaves the parent chain and the session
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            os.close(w)
            time.sleep(600)
        os._exit(0)
    os.close(w)
    pids.append(int(os.read(r, 32)))
    os.wait()
else:
    for _ in range(3):
        pids.append(subprocess.Popen([sys.executable, '-c', code[kind]]).pid)
if kind == 'deaf':
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
tmp = os.environ['PIDS_FILE'] + '.tmp'
with open(tmp, 'w') as f:
    f.write(' '.join(map(str, pids)))
os.rename(tmp, os.environ['PIDS_FILE'])
time.sleep(600)
"""


def start_family(tmp_path: Path, kind: str, env: dict | None = None) -> tuple[subprocess.Popen, list[int]]:
    script = tmp_path / "family.py"
    script.write_text(FAMILY)
    pids_file = tmp_path / f"pids-{kind}"
    environment = dict(os.environ, PIDS_FILE=str(pids_file), **(env or {}))
    proc = subprocess.Popen([sys.executable, str(script), kind], env=environment, start_new_session=True)
    wait_for(pids_file.exists, what=f"{kind} family ready")
    pids = [int(x) for x in pids_file.read_text().split()]
    wait_for(lambda: all(not gone(p) for p in pids), what="every member running")
    return proc, pids


def test_the_tree_of_a_root_holds_its_descendants_and_never_this_process(tmp_path):
    proc, pids = start_family(tmp_path, "plain")
    members = _tree.tree_of([proc.pid])
    assert set(pids) <= set(members)
    assert os.getpid() not in _tree.tree_of([proc.pid, os.getpid()])
    assert members[proc.pid] == _tree.start_ticks(proc.pid) != 0
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("kind", ["plain", "deaf", "setsid"])
def test_every_member_of_a_tree_ends_by_the_escalation(tmp_path, kind):
    proc, pids = start_family(tmp_path, kind)
    started = time.monotonic()
    survivors = _tree.stop_tree([proc.pid], grace=(0.3, 0.3, 2.0))
    assert survivors == []
    assert time.monotonic() - started < 0.3 + 0.3 + 2.0 + 1.0
    proc.wait(timeout=5)
    wait_for(lambda: all(gone(p) for p in pids), seconds=3.0, what="tree gone")


def test_a_double_forked_daemon_is_found_by_its_marker(tmp_path):
    proc, pids = start_family(tmp_path, "daemon", env={"ANSAR_TREE": "test-daemon"})
    daemon = pids[-1]
    assert daemon not in _tree.tree_of([proc.pid])
    assert daemon in _tree.tree_of([proc.pid], markers=[b"ANSAR_TREE=test-daemon"])
    assert _tree.stop_tree([proc.pid], grace=(0.3, 0.3, 2.0), markers=[b"ANSAR_TREE=test-daemon"]) == []
    proc.wait(timeout=5)
    wait_for(lambda: gone(daemon), seconds=3.0, what="daemon gone")


def test_hurry_cuts_the_grace_periods_short(tmp_path):
    proc, pids = start_family(tmp_path, "deaf")
    hurry = _tree.Hurry()
    hurry.set()
    started = time.monotonic()
    assert _tree.stop_tree([proc.pid], grace=(30.0, 30.0, 5.0), hurry=hurry) == []
    assert time.monotonic() - started < 5.0
    hurry.close()
    proc.wait(timeout=5)
    wait_for(lambda: all(gone(p) for p in pids), seconds=3.0, what="tree gone")


def test_a_member_whose_pid_was_reused_is_never_signalled():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        wrong_ticks = _tree.start_ticks(victim.pid) + 1  # what a different, earlier process had
        member = _tree.Member(victim.pid, wrong_ticks)
        member.signal(signal.SIGKILL)
        assert victim.poll() is None
        member.close()
    finally:
        victim.kill()
        victim.wait()


# --- the ready signal and a big tree -----------------------------------------------------------------


def test_a_child_stopped_while_it_imports_ends_aborted_without_a_traceback(tmp_path, tool_env):
    # The child takes long to import: its Stop is held back, then it gets SIGTERM, quietly.
    slow = tmp_path / "slow.py"
    slow.write_text(textwrap.dedent("""
        import time
        time.sleep(600)  # an import that never ends
        import ansar.create as ar
    """))
    parent = tmp_path / "parent.py"
    parent.write_text(textwrap.dedent(f"""
        import ansar.create as ar

        def main(self):
            child = self.create(ar.Process, {str(slow)!r})
            self.select(ar.Stop)
            self.send(ar.Stop(), child)
            return self.select(ar.Completed).value

        ar.bind(main)
        ar.create_object(main)
    """))
    slow.chmod(0o755)
    slow.write_text(f"#!{sys.executable}\n" + slow.read_text())
    proc = subprocess.Popen([sys.executable, str(parent)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=tool_env, cwd=tmp_path)
    wait_for(lambda: psutil.Process(proc.pid).children(), what="child started")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=DEADLINE)
    assert json.loads(out) == {"value": ["ansar.create.lifecycle.Aborted", {}, []]}
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()


def test_a_busy_tree_stopped_by_one_signal_ends_within_the_grace_bound_without_tracebacks(tmp_path, tool_env):
    (tmp_path / "busy-input").write_text(json.dumps(
        {"value": {"duties": ["noop", "snooze", "factorial"], "management_levels": 4, "managers": 3}}))
    proc = subprocess.Popen(["busy", "--input-file=busy-input"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=tool_env, cwd=tmp_path)
    top = psutil.Process(proc.pid)
    wait_for(lambda: len(top.children(recursive=True)) >= 40, what="a tree of 40 processes")
    tree = [p.pid for p in top.children(recursive=True)]
    signalled = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=DEADLINE)
    took = time.monotonic() - signalled
    assert json.loads(out) == {"value": ["ansar.create.lifecycle.Aborted", {}, []]}
    assert err.decode() == ""  # no traceback, no "ended by a third signal", nothing
    assert took < 5.0 + 2.0 + 2.0 + 1.0
    wait_for(lambda: all(gone(p) for p in tree), seconds=2.0, what="the whole tree gone")
