"""Helpers for the ansar command tests: fake executables, a home, running the command.

The fake executables are a few lines of Python that keep the executable contract the command
relies on (``--dump-settings``, ``--dump-input``, ``--settings-file``, ``--input-file``,
``--name=value``, one line on stderr and exit 2 for a bad value). No tests live here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from ansar.command.main import main

REPO = Path(__file__).resolve().parent.parent

_FAKE = r'''#!{python}
import json, sys

NAME = {name!r}
SETTINGS = json.loads({settings!r})
INPUT = json.loads({input!r})
BEHAVIOUR = {behaviour!r}


def fail(text):
    sys.stderr.write(NAME + ": " + text + "\n")
    sys.exit(2)


def same_kind(value, model, where):
    if model is None:
        return value
    if isinstance(model, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not type(model):
        fail("Expected " + type(model).__name__ + ", got " + type(value).__name__ + " - at " + where)
    if isinstance(model, dict):
        for k, v in value.items():
            if k not in model:
                fail("Object contains unknown field `" + k + "` - at " + where)
            value[k] = same_kind(v, model[k], where + "." + k)
        return dict(model, **value)
    return value


def load(path, model):
    try:
        with open(path) as f:
            document = json.load(f)
    except OSError as e:
        fail(path + ": " + e.strerror)
    except ValueError as e:
        fail(path + ": " + str(e))
    if not isinstance(document, dict) or "value" not in document:
        fail(path + ": not a value document")
    return same_kind(document["value"], model, "$")


if BEHAVIOUR == "crash":
    raise RuntimeError("this executable is broken")
if BEHAVIOUR == "garbage":
    print("this is not json")
    sys.exit(0)

flags = {{}}
for a in sys.argv[1:]:
    if not a.startswith("--"):
        fail("unexpected word " + a)
    k, eq, v = a[2:].partition("=")
    flags[k] = v if eq else None
settings = SETTINGS
if "settings-file" in flags:
    settings = load(flags.pop("settings-file"), SETTINGS)
    if SETTINGS is None:
        settings = None  # like the runtime: a program without settings ignores the file
value = INPUT
if "input-file" in flags:
    value = load(flags.pop("input-file"), INPUT)
    if INPUT is None:
        value = None
dump_settings = "dump-settings" in flags
dump_input = "dump-input" in flags
flags.pop("dump-settings", None)
flags.pop("dump-input", None)
flags.pop("factory-settings", None)  # no stored tool settings here to ignore
for k, v in flags.items():
    if not isinstance(SETTINGS, dict) or k not in SETTINGS:
        fail('unknown setting "--' + k + '"')
    model = SETTINGS[k]
    try:
        settings = dict(settings, **{{k: type(model)(v)}})
    except (TypeError, ValueError):
        fail('setting "--' + k + '": Expected ' + type(model).__name__ + ", got " + repr(v))
if dump_settings:
    print(json.dumps({{"value": settings}}, indent=4))
elif dump_input:
    print(json.dumps({{"value": value}}, indent=4))
else:
    print(json.dumps({{"value": ["ansar.create.lifecycle.Ack", {{}}, []]}}))
'''

SNOOZE = {"seconds": 2.0}
SERVER = {"host": "127.0.0.1", "port": 65432}


def make_executable(
    folder: Path,
    name: str,
    settings: Any = None,
    input: Any = None,
    behaviour: str = "",
) -> Path:
    """A fake executable ``folder/name`` with these default settings and input."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        _FAKE.format(
            python=sys.executable,
            name=name,
            settings=json.dumps(settings),
            input=json.dumps(input),
            behaviour=behaviour,
        )
    )
    path.chmod(0o755)
    return path


def fake_bin(folder: Path) -> Path:
    """A bin folder with the fakes the tests use."""
    make_executable(folder, "snooze", SNOOZE)
    make_executable(folder, "noop")
    make_executable(folder, "factorial", None, 5)
    make_executable(folder, "server", SERVER)
    make_executable(folder, "client")
    make_executable(folder, "broken", SNOOZE, behaviour="crash")
    make_executable(folder, "garbage", SNOOZE, behaviour="garbage")
    return folder


class Ansar:
    """Runs ``ansar`` in-process, in a working folder of its own."""

    def __init__(self, capsys: pytest.CaptureFixture[str], cwd: Path):
        self.capsys = capsys
        self.cwd = cwd
        self.home = cwd / ".ansar-home"
        self.bin = cwd / "dist"

    def __call__(self, *argv: str, stdin: Optional[str] = None) -> tuple[int, str, str]:
        self.capsys.readouterr()
        if stdin is not None:
            import io

            saved = sys.stdin
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
            try:
                status = main(list(argv))
            finally:
                sys.stdin = saved
        else:
            status = main(list(argv))
        out, err = self.capsys.readouterr()
        return status, out, err

    def ok(self, *argv: str, stdin: Optional[str] = None) -> str:
        status, out, err = self(*argv, stdin=stdin)
        assert (status, err) == (0, ""), f"ansar {' '.join(argv)}: {status} {err}"
        return out

    def refused(self, status: int, *argv: str) -> str:
        """Run a command that must fail with ``status``: one line on stderr, home unchanged."""
        before = snapshot(self.home)
        got, out, err = self(*argv)
        assert got == status, f"ansar {' '.join(argv)}: {got} {err}"
        assert out == ""
        assert err.startswith("ansar: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
        assert snapshot(self.home) == before
        return err.strip()

    def document(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv))


def snapshot(root: Path) -> dict[str, Optional[bytes]]:
    """Every folder and file under ``root`` with file contents: to check nothing changed."""
    found: dict[str, Optional[bytes]] = {}
    if not root.exists():
        return found
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            found[os.path.relpath(os.path.join(folder, d), root)] = None
        for f in files:
            path = os.path.join(folder, f)
            with open(path, "rb") as stream:
                found[os.path.relpath(path, root)] = stream.read()
    return found


def command_env() -> dict[str, str]:
    """An environment in which ``python -m ansar.command`` finds this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    return env


def run_ansar(*argv: str, cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``ansar`` as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "ansar.command", *argv],
        cwd=cwd,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


@pytest.fixture(name="ansar")
def ansar_fixture(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ansar:
    """``ansar`` in a fresh folder holding ``dist/`` (fake executables) and no home yet."""
    monkeypatch.chdir(tmp_path)
    fake_bin(tmp_path / "dist")
    return Ansar(capsys, tmp_path)


@pytest.fixture(name="home")
def home_fixture(ansar: Ansar) -> Ansar:
    """``ansar`` with a home whose bin is redirected to ``dist/``."""
    ansar.ok("create", "--redirect-bin=dist")
    return ansar
