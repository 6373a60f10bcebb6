"""``ar.create_object``: small programs written into tmp_path and run as subprocesses.

Results are read from stdout, logs and errors from stderr. A test that signals a program waits
for a file the program writes once its main object runs (polling with a deadline).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ACK = {"value": ["ansar.create.lifecycle.Ack", {}, []]}
ABORTED = {"value": ["ansar.create.lifecycle.Aborted", {}, []]}
LINE = re.compile(r"^\[\d{8}\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (.) <([0-9a-f]{8})>(\S+) - (.*)$")

PRELUDE = """\
import os
import sys
import ansar.create as ar
"""

SETTINGS = """
class Settings(object):
    def __init__(self, count=3, ratio=0.5, name='abc', flags=None, table=None):
        self.count = count
        self.ratio = ratio
        self.name = name
        self.flags = flags or ar.default_vector()
        self.table = table or {}

ar.bind(Settings, object_schema={
    'count': int, 'ratio': float, 'name': str,
    'flags': ar.VectorOf(ar.Integer8()), 'table': ar.MapOf(ar.Unicode, ar.Integer8),
})
"""


def write(tmp_path: Path, name: str, body: str, prefix: str = "") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(PRELUDE + prefix + textwrap.dedent(body))
    return path


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    e["HOME"] = str(tmp_path)
    e.pop("PYTHONPATH", None)
    return e


def run(script: Path, *args: str, env, stdin: bytes | None = None, seconds: float = 20.0):
    return subprocess.run(
        [sys.executable, str(script), *args],
        input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True, env=env, cwd=script.parent, timeout=seconds,
    )


def output(proc):
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def one_line_error(proc, status: int | None = 2) -> str:
    """The program failed with one line on stderr, no traceback, nothing on stdout."""
    err = proc.stderr.decode(errors="replace")
    if status is None:
        assert proc.returncode != 0
    else:
        assert proc.returncode == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert proc.stdout == b""
    return lines[0]


def wait_for_file(path: Path, proc: subprocess.Popen | None = None, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"program ended early: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} not written within {seconds}s"
        time.sleep(0.005)  # polling a file with a deadline


# --- results and exit status -------------------------------------------------------------------------


def test_main_with_self_only_returns_a_typed_result_on_stdout(tmp_path, env):
    script = write(tmp_path, "noop", """
        def main(self):
            return ar.Ack()
        ar.bind(main)
        ar.create_object(main)
    """)
    proc = run(script, env=env)
    assert output(proc) == ACK
    assert proc.stdout.startswith(b"{\n")  # indented for people


def test_a_user_class_result_names_its_type(tmp_path, env):
    script = write(tmp_path, "user", """
        class Answer(object):
            def __init__(self, value=0, text=''):
                self.value = value
                self.text = text
        ar.bind(Answer)
        def main(self):
            return Answer(value=42, text='yes')
        ar.create_object(main)
    """)
    assert output(run(script, env=env)) == {"value": ["__main__.Answer", {"value": 42, "text": "yes"}, []]}


@pytest.mark.parametrize("value,status", [(0, 0), (3, 3), (1, 1)])
def test_an_int_result_is_the_exit_status(tmp_path, env, value, status):
    script = write(tmp_path, "status", f"""
        def main(self):
            return {value}
        ar.create_object(main)
    """)
    proc = run(script, env=env)
    assert proc.returncode == status
    assert b"Traceback" not in proc.stderr


def test_none_result_is_success(tmp_path, env):
    script = write(tmp_path, "none", """
        def main(self):
            return None
        ar.create_object(main)
    """)
    assert run(script, env=env).returncode == 0


def test_a_faulted_result_fails_with_the_condition_on_stderr(tmp_path, env):
    script = write(tmp_path, "fault", """
        def main(self):
            return ar.Faulted(condition='disk on fire', explanation='smoke seen')
        ar.create_object(main)
    """)
    proc = run(script, env=env)
    assert proc.returncode != 0
    assert "disk on fire" in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


def test_an_exception_escaping_main_fails_with_one_line_and_no_traceback(tmp_path, env):
    script = write(tmp_path, "boom", """
        def main(self):
            raise ValueError('boom in main')
        ar.create_object(main)
    """)
    proc = run(script, env=env)
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "boom in main" in err
    assert len(err.strip().splitlines()) == 1, err


# --- signatures, settings, input ---------------------------------------------------------------------


SIGNATURES = SETTINGS + """
class Input(object):
    def __init__(self, words=None, n=1):
        self.words = words or ar.default_vector()
        self.n = n
ar.bind(Input, object_schema={'words': ar.VectorOf(ar.Unicode), 'n': int})

def show(settings, input):
    return [type(settings).__name__, type(input).__name__,
            getattr(settings, 'count', None), getattr(input, 'n', None)]
"""


def test_main_with_settings_receives_them(tmp_path, env):
    script = write(tmp_path, "one", """
        def main(self, settings):
            print(show(settings, None), file=sys.stderr)
            return 0
        ar.create_object(main, factory_settings=Settings(), factory_input=Input())
    """, prefix=SIGNATURES)
    proc = run(script, "--count=9", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().strip() == "['Settings', 'NoneType', 9, None]"


def test_main_with_settings_and_input_receives_both(tmp_path, env):
    script = write(tmp_path, "two", """
        def main(self, settings, input):
            print(show(settings, input), file=sys.stderr)
            return 0
        ar.create_object(main, factory_settings=Settings(), factory_input=Input(n=4))
    """, prefix=SIGNATURES)
    proc = run(script, env=env)
    assert proc.stderr.decode().strip() == "['Settings', 'Input', 3, 4]"


def test_a_value_not_given_is_passed_as_none(tmp_path, env):
    script = write(tmp_path, "only_input", """
        def main(self, settings, input):
            print(show(settings, input), file=sys.stderr)
            return 0
        ar.create_object(main, factory_input=Input(n=5))
    """, prefix=SIGNATURES)
    proc = run(script, env=env)
    assert proc.stderr.decode().strip() == "['NoneType', 'Input', None, 5]"


DUMPER = SIGNATURES + """
def main(self, settings, input):
    return ar.Ack()
ar.create_object(main, factory_settings=Settings(), factory_input=Input(words=['a'], n=2))
"""


def dumped_settings(proc):
    return output(proc)["value"]


def test_settings_on_the_command_line_are_typed(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    proc = run(script, "--count=7", "--ratio=2.5", "--name=xyz", "--flags=[1,2,3]", '--table=[["k",5]]',
               "--dump-settings", env=env)
    value = dumped_settings(proc)
    assert value == {"count": 7, "ratio": 2.5, "name": "xyz", "flags": [1, 2, 3], "table": [["k", 5]]}


def test_an_unknown_setting_is_one_line_and_exit_2(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    line = one_line_error(run(script, "--bogus=1", env=env))
    assert "bogus" in line


def test_a_setting_of_the_wrong_type_is_one_line_and_exit_2(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    line = one_line_error(run(script, "--count=abc", env=env))
    assert "count" in line


def test_a_setting_for_a_program_without_settings_is_refused(tmp_path, env):
    script = write(tmp_path, "bare", """
        def main(self):
            return 0
        ar.create_object(main)
    """)
    assert "seconds" in one_line_error(run(script, "--seconds=1", env=env))


def test_an_unknown_debug_level_is_refused(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    assert "LOUD" in one_line_error(run(script, "--debug-level=LOUD", env=env))


def test_help_lists_the_settings(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    proc = run(script, "--help", env=env)
    assert proc.returncode == 0
    text = proc.stdout.decode()
    for name in ("--count", "--ratio", "--name", "--flags", "--table", "--debug-level"):
        assert name in text


def test_dump_settings_prints_the_envelope(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    value = dumped_settings(run(script, "--dump-settings", env=env))
    assert value == {"count": 3, "ratio": 0.5, "name": "abc", "flags": [], "table": []}


@pytest.mark.parametrize("stdin", [None, b"", b"\n  \n"])
def test_dump_input_with_empty_or_closed_stdin_is_the_factory_input(tmp_path, env, stdin):
    script = write(tmp_path, "dumper", DUMPER)
    assert output(run(script, "--dump-input", env=env, stdin=stdin))["value"] == {"words": ["a"], "n": 2}


def test_input_on_stdin_is_used(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    data = b'{"value": {"words": ["x", "y"], "n": 8}}'
    assert output(run(script, "--dump-input", env=env, stdin=data))["value"] == {"words": ["x", "y"], "n": 8}


def test_input_file_is_used(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    path = tmp_path / "input.json"
    path.write_text('{"value": {"words": ["z"], "n": 9}}')
    assert output(run(script, "--dump-input", f"--input-file={path}", env=env))["value"] == {"words": ["z"], "n": 9}


def test_settings_file_is_used_and_the_command_line_overrides_it(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    path = tmp_path / "settings.json"
    path.write_text('{"value": {"count": 11, "name": "from-file"}}')
    value = dumped_settings(run(script, "--dump-settings", f"--settings-file={path}", "--count=12", env=env))
    assert value["count"] == 12 and value["name"] == "from-file"


def test_a_malformed_settings_file_is_one_line_naming_the_file(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    path = tmp_path / "broken-settings.json"
    path.write_text('{"value": {"count": "many"}}')
    line = one_line_error(run(script, "--dump-settings", f"--settings-file={path}", env=env))
    assert "broken-settings.json" in line and "count" in line


def test_a_settings_file_that_is_not_json_is_one_line(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    path = tmp_path / "garbage.json"
    path.write_text("{{{ not json")
    assert "garbage.json" in one_line_error(run(script, f"--settings-file={path}", env=env))


def test_a_missing_settings_file_is_one_line(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    assert "nowhere.json" in one_line_error(run(script, f"--settings-file={tmp_path}/nowhere.json", env=env))


def test_malformed_input_on_stdin_is_one_line_and_exit_2(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    line = one_line_error(run(script, env=env, stdin=b'{"value": {"n": "eight"}}'))
    assert "n" in line


def test_a_malformed_input_file_is_one_line_naming_the_file(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    path = tmp_path / "bad-input.json"
    path.write_text('{"value": [1, 2')
    assert "bad-input.json" in one_line_error(run(script, f"--input-file={path}", env=env))


def test_store_settings_keeps_them_for_later_runs(tmp_path, env):
    script = write(tmp_path, "keeper", DUMPER)
    proc = run(script, "--count=42", "--store-settings", env=env)
    assert proc.returncode == 0, proc.stderr
    stored = tmp_path / "config" / "ansar" / "keeper" / "settings.json"
    assert stored.exists()
    assert dumped_settings(run(script, "--dump-settings", env=env))["count"] == 42
    # a later --store-settings replaces them
    run(script, "--count=43", "--store-settings", env=env)
    assert dumped_settings(run(script, "--dump-settings", env=env))["count"] == 43


def test_command_variables_are_the_factory_variables_with_arguments_applied(tmp_path, env):
    script = write(tmp_path, "variables", """
        class Variables(object):
            def __init__(self, colour='red', size=1):
                self.colour = colour
                self.size = size
        ar.bind(Variables)
        def main(self):
            v = ar.command_variables()
            print(v.colour, v.size, file=sys.stderr)
            return 0
        ar.create_object(main, factory_variables=Variables())
    """)
    proc = run(script, "--size=5", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().split() == ["red", "5"]


# --- signals ------------------------------------------------------------------------------------------


ZOMBIE = """
    def main(self):
        open(sys.argv[-1][len('--ready='):] if False else os.environ['READY_FILE'], 'w').close()
        self.select(ar.Stop)
        return ar.Aborted()
    ar.bind(main)
    ar.create_object(main)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_become_stop_and_aborted_is_printed(tmp_path, env, signum):
    script = write(tmp_path, "zombie", ZOMBIE)
    ready = tmp_path / "ready"
    env["READY_FILE"] = str(ready)
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        wait_for_file(ready, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert b"Traceback" not in err
    assert json.loads(out) == ABORTED
    assert proc.returncode != 0


# --- logging ------------------------------------------------------------------------------------------


LOGGER = """
    def child(self):
        return 1

    def main(self):
        self.console('console text')
        self.trace('trace text')
        self.debug('debug text')
        self.warning('warning text')
        self.create(child)
        self.select(ar.Completed)
        self.test(1 == 2, 'one is not two')
        ar.test_enquiry(self)
        return self.select(ar.TestReport)
    ar.bind(main)
    ar.create_object(main)
"""


def log_lines(proc):
    lines = proc.stderr.decode().splitlines()
    parsed = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"badly formed log line {line!r}"
        parsed.append(m.groups())
    return parsed


def logger(tmp_path):
    script = write(tmp_path, "logger", LOGGER)
    test_line = LOGGER.splitlines().index("        self.test(1 == 2, 'one is not two')") + 1 + PRELUDE.count("\n")
    return script, test_line


def test_no_log_lines_by_default(tmp_path, env):
    script, _ = logger(tmp_path)
    proc = run(script, env=env)
    assert proc.returncode == 0
    assert proc.stderr == b""


def test_console_level_shows_console_warning_and_failed_test_lines(tmp_path, env):
    script, line = logger(tmp_path)
    proc = run(script, "--debug-level=CONSOLE", env=env)
    parsed = log_lines(proc)
    markers = [p[0] for p in parsed]
    assert markers == ["^", "?", "="]
    assert parsed[0][2:] == ("main", "console text")
    assert parsed[2][3] == f"one is not two (logger.py:{line})"


def test_object_level_adds_created_destroyed_sent_and_received(tmp_path, env):
    script, _ = logger(tmp_path)
    parsed = log_lines(run(script, "--debug-level=OBJECT", env=env))
    markers = {p[0] for p in parsed}
    assert {"+", "X", ">", "<", "^", "?", "="} <= markers
    assert "~" not in markers
    texts = [(p[0], p[2], p[3]) for p in parsed]
    assert ("X", "child", "Destroyed") in texts
    assert any(m == ">" and n == "main" and t.startswith("Sent Enquiry to <") for m, n, t in texts)
    assert any(m == "<" and n == "main" and t.startswith("Received TestReport from <") for m, n, t in texts)
    assert any(m == "<" and n == "main" and t.startswith("Received Completed from <") for m, n, t in texts)


def test_debug_level_shows_trace_and_debug_records(tmp_path, env):
    script, _ = logger(tmp_path)
    parsed = log_lines(run(script, "--debug-level=DEBUG", env=env))
    texts = [p[3] for p in parsed]
    assert "trace text" in texts and "debug text" in texts
    assert ("~", "main") == next((p[0], p[2]) for p in parsed if p[3] == "trace text")


def test_a_test_report_is_a_normal_result(tmp_path, env):
    script, line = logger(tmp_path)
    value = output(run(script, env=env))["value"]
    assert value[0] == "ansar.create.test.TestReport"
    report = value[1]
    assert report["failed"] == 1 and report.get("passed", 0) == 0
    (record,) = report["tested"]
    assert record["source"] == "logger.py" and record["line"] == line and record["name"] == "main"
    assert record["text"] == "one is not two" and record["condition"] is False
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", record["stamp"])


# --- component mode -----------------------------------------------------------------------------------


def make_home(tmp_path: Path, role: str, retry: dict | None = None, settings: dict | None = None,
              input: dict | None = None) -> Path:
    """A home laid out by hand (see ansar/create/_role.py)."""
    home = tmp_path / "home"
    for kind in ("role", "settings", "input", "lock"):
        (home / kind).mkdir(parents=True, exist_ok=True)
    (home / "home.json").write_text(json.dumps({"value": {"version": 1}}))
    record: dict = {"executable": "x"}
    if retry is not None:
        record["retry"] = retry
    (home / "role" / f"{role}.json").write_text(json.dumps({"value": record}))
    if settings is not None:
        (home / "settings" / f"{role}.json").write_text(json.dumps({"value": settings}))
    if input is not None:
        (home / "input" / f"{role}.json").write_text(json.dumps({"value": input}))
    return home


def component(home: Path, role: str) -> list[str]:
    return [f"--home-path={home}", f"--role-name={role}"]


def test_component_takes_settings_and_input_from_the_home(tmp_path, env):
    script = write(tmp_path, "comp", """
        def main(self, settings, input):
            print(show(settings, input), file=sys.stderr)
            return 0
        ar.create_object(main, factory_settings=Settings(), factory_input=Input())
    """, prefix=SIGNATURES)
    home = make_home(tmp_path, "comp-0", settings={"count": 77}, input={"n": 66})
    proc = run(script, *component(home, "comp-0"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().strip() == "['Settings', 'Input', 77, 66]"


def test_model_folder_exists_only_in_component_mode(tmp_path, env):
    script = write(tmp_path, "folders", """
        def main(self):
            print(ar.model_folder() is None, file=sys.stderr)
            return 0
        ar.create_object(main)
    """)
    assert run(script, env=env).stderr.decode().strip() == "True"
    home = make_home(tmp_path, "folders-0")
    assert run(script, *component(home, "folders-0"), env=env).stderr.decode().strip() == "False"


def test_an_unknown_role_is_one_line(tmp_path, env):
    script = write(tmp_path, "comp", """
        def main(self):
            return 0
        ar.create_object(main)
    """)
    home = make_home(tmp_path, "comp-0")
    line = one_line_error(run(script, *component(home, "other-9"), env=env), status=None)
    assert "other-9" in line


RETRYING = """
    attempts = [0]

    def main(self):
        attempts[0] += 1
        print('attempt', attempts[0], file=sys.stderr)
        if attempts[0] < int(os.environ['SUCCEED_ON']):
            return ar.Maybe() if os.environ.get('GIVE_UP') is None else ar.Cannot()
        return ar.Ack()
    ar.bind(main)
    ar.create_object(main)
"""


def attempts(proc) -> int:
    return sum(1 for line in proc.stderr.decode().splitlines() if line.startswith("attempt "))


def test_retries_after_maybe_until_success(tmp_path, env):
    script = write(tmp_path, "retrying", RETRYING)
    home = make_home(tmp_path, "retrying-0", retry={"first_steps": [0.1, 0.2, 0.4]})
    env["SUCCEED_ON"] = "3"
    proc = run(script, *component(home, "retrying-0"), "--debug-level=CONSOLE", env=env)
    assert output(proc) == ACK
    assert attempts(proc) == 3
    pauses = [line for line in proc.stderr.decode().splitlines() if "Pausing for" in line]
    assert len(pauses) == 2
    assert "0.100000" in pauses[0] and "0.200000" in pauses[1]


def test_cannot_ends_the_retries(tmp_path, env):
    script = write(tmp_path, "retrying", RETRYING)
    home = make_home(tmp_path, "retrying-0", retry={"first_steps": [0.1, 0.1, 0.1]})
    env["SUCCEED_ON"] = "5"
    env["GIVE_UP"] = "1"
    proc = run(script, *component(home, "retrying-0"), env=env)
    assert attempts(proc) == 1
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["value"][0] == "ansar.create.lifecycle.Cannot"


def test_retries_exhausted_is_a_failure(tmp_path, env):
    script = write(tmp_path, "retrying", RETRYING)
    home = make_home(tmp_path, "retrying-0", retry={"first_steps": [0.1], "regular_steps": 0.1, "step_limit": 3})
    env["SUCCEED_ON"] = "100"
    proc = run(script, *component(home, "retrying-0"), env=env)
    assert attempts(proc) == 4  # the first attempt and one after each of 3 delays
    assert proc.returncode != 0
    assert b"Traceback" not in proc.stderr


def test_without_a_retry_property_maybe_is_the_result(tmp_path, env):
    script = write(tmp_path, "retrying", RETRYING)
    home = make_home(tmp_path, "retrying-0")
    env["SUCCEED_ON"] = "3"
    proc = run(script, *component(home, "retrying-0"), env=env)
    assert attempts(proc) == 1
    assert json.loads(proc.stdout)["value"][0] == "ansar.create.lifecycle.Maybe"


def test_stop_during_a_retry_pause_aborts(tmp_path, env):
    script = write(tmp_path, "pausing", """
        def main(self):
            return ar.Maybe()
        ar.bind(main)
        ar.create_object(main)
    """)
    home = make_home(tmp_path, "pausing-0", retry={"regular_steps": 60.0})
    proc = subprocess.Popen([sys.executable, str(script), *component(home, "pausing-0"), "--debug-level=CONSOLE"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the first log line; the test timeout bounds it
        assert b"Pausing for 60.000000 seconds" in line, line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert json.loads(out) == ABORTED, err


def test_a_second_instance_of_a_running_role_is_refused(tmp_path, env):
    script = write(tmp_path, "zombie", ZOMBIE)
    home = make_home(tmp_path, "zombie-0")
    ready = tmp_path / "ready"
    env["READY_FILE"] = str(ready)
    first = subprocess.Popen([sys.executable, str(script), *component(home, "zombie-0")], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_file(ready, first)
        second = run(script, *component(home, "zombie-0"), env=env)
        line = one_line_error(second, status=None)
        assert "zombie-0" in line and str(first.pid) in line
        first.send_signal(signal.SIGINT)
        out, _ = first.communicate(timeout=15)
        assert json.loads(out) == ABORTED
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    # once the first has gone the role may run again
    ready.unlink()
    again = subprocess.Popen([sys.executable, str(script), *component(home, "zombie-0")], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_file(ready, again)
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=15)
    finally:
        if again.poll() is None:
            again.kill()
            again.communicate()


def test_a_damaged_home_record_is_one_line(tmp_path, env):
    script = write(tmp_path, "comp", """
        def main(self):
            return 0
        ar.create_object(main)
    """)
    home = make_home(tmp_path, "comp-0")
    (home / "home.json").write_text('{"value": {"version": "one"}}')
    line = one_line_error(run(script, *component(home, "comp-0"), env=env), status=None)
    assert "home.json" in line


def test_a_float_setting_accepts_an_integer_text(tmp_path, env):
    script = write(tmp_path, "dumper", DUMPER)
    assert dumped_settings(run(script, "--ratio=2", "--dump-settings", env=env))["ratio"] == 2.0


def test_a_settings_file_for_a_program_without_settings_is_refused(tmp_path, env):
    script = write(tmp_path, "bare", """
        def main(self):
            return 0
        ar.create_object(main)
    """)
    line = one_line_error(run(script, f"--settings-file={tmp_path}/nowhere.json", env=env), status=None)
    assert "settings" in line


# --- fixes after a new user's trial --------------------------------------------------------------------


def test_store_settings_is_refused_in_component_mode(tmp_path, env):
    script = write(tmp_path, "storing", """
        def main(self, settings):
            return ar.Ack()
        ar.create_object(main, factory_settings=Settings())
    """, prefix=SETTINGS)
    home = make_home(tmp_path, "storing-0")
    line = one_line_error(run(script, *component(home, "storing-0"), "--store-settings", "--count=9", env=env))
    assert "--store-settings is for tools" in line
    assert not (tmp_path / "config").exists()


def test_factory_settings_ignores_what_the_tool_stored(tmp_path, env):
    script = write(tmp_path, "stored", """
        def main(self, settings):
            return ar.Ack()
        ar.create_object(main, factory_settings=Settings())
    """, prefix=SETTINGS)
    stored = run(script, "--store-settings", "--count=9", env=env)
    assert stored.returncode == 0 and b"settings stored in" in stored.stderr
    assert output(run(script, "--dump-settings", env=env))["value"]["count"] == 9
    assert output(run(script, "--dump-settings", "--factory-settings", env=env))["value"]["count"] == 3


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400"])
def test_a_float_that_json_cannot_hold_is_refused(tmp_path, env, text):
    script = write(tmp_path, "floaty", """
        def main(self, settings):
            return ar.Ack()
        ar.create_object(main, factory_settings=Settings())
    """, prefix=SETTINGS)
    assert "Expected a finite float" in one_line_error(run(script, f"--ratio={text}", env=env))


@pytest.mark.parametrize("result, status", [("ar.Nak()", 1), ("300", 1), ("-1", 1), ("7", 7), ("0", 0)])
def test_exit_status_follows_the_result(tmp_path, env, result, status):
    script = write(tmp_path, "status", f"""
        def main(self):
            return {result}
        ar.create_object(main)
    """)
    assert run(script, env=env).returncode == status


def test_an_escaping_exception_logs_its_traceback_at_debug(tmp_path, env):
    script = write(tmp_path, "crasher", """
        def main(self):
            raise RuntimeError("oops in main")
        ar.create_object(main)
    """)
    quiet = run(script, env=env)
    assert quiet.returncode == 1 and b"oops in main" in quiet.stderr and b"Traceback" not in quiet.stderr
    loud = run(script, "--debug-level=DEBUG", env=env)
    assert re.search(rb'crasher.py", line \d+, in main', loud.stderr), loud.stderr


CHANNEL_INTERRUPTED = """
import os, sys
import ansar.create as ar
try:
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, sys.argv[1])
        with open(os.environ["READY_FILE"], "w") as f:
            f.write("ready")
        raise KeyboardInterrupt  # as a control-c in the middle of the script would
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_an_interrupted_channel_stops_its_process_children(tmp_path, env):
    import psutil

    script = tmp_path / "channel.py"
    script.write_text(CHANNEL_INTERRUPTED)
    zombie = Path(__file__).resolve().parent.parent / "bin" / "zombie"
    env["READY_FILE"] = str(tmp_path / "ready")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    proc = run(script, str(zombie), env=env)
    assert proc.stdout == b"interrupted\n", proc.stderr
    # The test process is a subreaper (conftest): a child the channel left behind would be ours now.
    left = [p for p in psutil.Process().children(recursive=True)
            if any("zombie" in part for part in p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []


def test_a_misspelled_field_in_a_settings_file_is_refused(tmp_path, env):
    script = write(tmp_path, "typo", """
        def main(self, settings):
            return ar.Ack()
        ar.create_object(main, factory_settings=Settings())
    """, prefix=SETTINGS)
    (tmp_path / "typo.json").write_text('{"value": {"cuont": 9}}')
    line = one_line_error(run(script, f"--settings-file={tmp_path / 'typo.json'}", "--dump-settings", env=env))
    assert "unknown field cuont" in line and "typo.json" in line


def test_a_third_signal_ends_a_program_that_ignores_stop(tmp_path, env):
    script = write(tmp_path, "deaf", """
        def main(self):
            with open(os.environ["READY_FILE"], "w") as f:
                f.write("ready")
            while True:
                self.select(ar.Ack)  # never arrives; Stops are kept, unread
        ar.create_object(main)
    """)
    env["READY_FILE"] = str(tmp_path / "ready")
    proc = subprocess.Popen([sys.executable, str(script), "--debug-level=OBJECT"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_file(tmp_path / "ready", proc)
        assert proc.stderr is not None
        for _ in range(2):  # one at a time: signals sent together may merge into one
            proc.send_signal(signal.SIGINT)
            while b"start_vector - Sent Stop" not in proc.stderr.readline():
                pass  # the test timeout bounds this
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and b"ended by a third signal" in err, err
