"""What the reliability tests share: the figures, the ansar command (as a process and in-process),
processes found by their role's lineage marker, home checks and small component programs.

No tests live here. The figures are module state, printed by ``conftest.pytest_terminal_summary``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

import support_running

__all__ = [
    "BIN", "DEADLINE", "FIGURES", "REPO", "SOAK", "Cli", "Figures", "InProcess", "check_home", "gone",
    "home_tree", "lineage_pids", "make_program", "private_modes", "read_until", "soak", "wait_for",
]

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin"
DEADLINE = 20.0
SOAK = os.environ.get("ANSAR_SOAK") == "1"


def soak(quick: Any, long: Any) -> Any:
    """``long`` under ANSAR_SOAK=1 (``make soak``), else ``quick``."""
    return long if SOAK else quick


# --- the figures ------------------------------------------------------------------------------------


class Figures:
    """What the session injected and what it found."""

    NAMES = ("faults injected", "roles lost", "orphan processes", "torn files", "refusals without a message")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, n: int = 1) -> None:
        assert name in self.counts, name
        self.counts[name] += n

    def fault(self, n: int = 1) -> None:
        self.add("faults injected", n)

    def line(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in self.counts.items())


FIGURES = Figures()

_ONE_LINE = re.compile(r"ansar: [^\n]+\n")


def one_line_refusal(status: int, err: str) -> bool:
    """A refusal as the house wants it: one ``ansar: ...`` line on stderr and no traceback."""
    return status != 0 and _ONE_LINE.fullmatch(err) is not None and "Traceback" not in err


def count_refusal(status: int, err: str) -> None:
    if status != 0 and not one_line_refusal(status, err):
        FIGURES.add("refusals without a message")


# --- waiting ----------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], Any], seconds: float = DEADLINE, what: str = "condition",
             pause: float = 0.01) -> Any:
    """Poll ``condition`` until it is true (returned) or ``seconds`` have passed (AssertionError)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not met within {seconds}s"
        time.sleep(pause)  # polling with a deadline: there is no event for another process's state


def _state(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()[0].decode()


def gone(pid: int) -> bool:
    """The process has ended: a zombie waiting for its parent counts as ended once its last
    thread has (the leader of a killed threaded process is a zombie before the others end, and
    the process's files, its locks with them, are closed only when the last one has)."""
    state = _state(pid)
    if state is None or state == "X":
        return True
    if state != "Z":
        return False
    try:
        return len(os.listdir(f"/proc/{pid}/task")) <= 1
    except OSError:
        return True


def read_until(fd: int, text: bytes, seconds: float = DEADLINE, seen: bytes = b"") -> bytes:
    """Read from ``fd`` (a pseudo-terminal's leader) until ``text`` has appeared."""
    import select

    deadline = time.monotonic() + seconds
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not seen in {seen[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


# --- processes of a home --------------------------------------------------------------------------


def lineage_pids(home: Path | str, *, role: Optional[str] = None) -> list[int]:
    """Live processes carrying the ``ANSAR_LINEAGE`` marker of a role of ``home`` (of any role
    when ``role`` is None), found in every process's environment: descendants that double forked
    away or called setsid are found too."""
    from ansar.home import lineage_marker, open_existing_home

    h = open_existing_home(str(home))
    if role is not None:
        wanted: Optional[bytes] = lineage_marker(h.role_context(role))
        prefix = b""
    else:
        wanted = None
        prefix = lineage_marker(h.role_context("x"))[: -len(b"x.lock")]
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if any(e == wanted if wanted is not None else e.startswith(prefix) for e in env):
            if not gone(int(entry)):
                found.append(int(entry))
    return sorted(found)


def role_instances(home: Path | str, role: str) -> list[int]:
    """Processes of ``role`` that hold a lock (a role's process holds exactly its role lock): the
    instances really running, not a second start failing to take the lock."""
    mine = f"--role-name={role}"
    home_arg = f"--home-path={os.path.abspath(home)}"
    holders = set()
    try:
        with open("/proc/locks") as f:
            for line in f:
                words = line.split()
                if len(words) > 4 and words[1] == "FLOCK" and words[3] == "WRITE":
                    holders.add(int(words[4]))
    except OSError:
        return []
    found = []
    for pid in holders:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if mine in argv and home_arg in argv and not gone(pid):
            found.append(pid)
    return sorted(found)


@contextlib.contextmanager
def subreaper(on: bool) -> Iterator[None]:
    """This process adopts orphans (PR_SET_CHILD_SUBREAPER, as tests/conftest.py sets it) or, with
    ``on`` False, lets them go to init for the duration: the two worlds a role's process lives in
    (a desktop's systemd --user is a subreaper, a plain server's init is not)."""
    import ctypes

    libc = ctypes.CDLL(None)
    was = ctypes.c_int(0)
    libc.prctl(37, ctypes.byref(was), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    libc.prctl(36, int(on), 0, 0, 0)
    try:
        yield
    finally:
        libc.prctl(36, was.value, 0, 0, 0)


def kill_all(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# --- the home on disk -----------------------------------------------------------------------------


def home_tree(root: Path) -> dict[str, tuple[int, Optional[bytes]]]:
    """Every entry under ``root``: mode and, for files, contents (symbolic links: their target)."""
    found: dict[str, tuple[int, Optional[bytes]]] = {}
    if not root.exists():
        return found
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            if os.path.islink(path):
                data: Optional[bytes] = os.readlink(path).encode()
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
            else:
                data = None
            found[os.path.relpath(path, root)] = (st.st_mode, data)
    return found


_PID_LINE = re.compile(rb"\d+ \d+\n")
_RECORD_FOLDERS = ("role", "settings", "input", "history", "lock")


def check_home(home: Path, *, count: bool = True) -> list[str]:
    """Every file of the home that does not decode (JSON documents, lock records); counted as
    torn files. Temporaries of an atomic write killed half way (``.<name>.<pid>.<n>.tmp``) are
    not part of the home and are left out."""
    problems = []
    if not home.exists():
        return problems
    for folder, _, files in os.walk(home):
        top = Path(folder).relative_to(home).parts[:1]
        if top and top[0] not in _RECORD_FOLDERS:
            continue  # logs, models, resources, tmp: what roles and people put there
        for name in files:
            path = Path(folder) / name
            if name.endswith(".tmp") and name.startswith("."):
                continue
            try:
                data = path.read_bytes()
            except OSError as e:
                problems.append(f"{path}: {e.strerror}")
                continue
            if name.endswith(".json"):
                try:
                    document = json.loads(data)
                    assert isinstance(document, dict) and "value" in document, "not a value document"
                except (ValueError, AssertionError) as e:
                    problems.append(f"{path}: {e}")
            elif name.endswith(".pid") and data and not _PID_LINE.fullmatch(data):
                problems.append(f"{path}: {data!r}")
    if count:
        FIGURES.add("torn files", len(problems))
    return problems


def private_modes(root: Path) -> list[str]:
    """Entries under ``root`` (and ``root``) that are not private: folders 0700, files 0600."""
    wrong = []
    entries = [str(root)]
    for folder, dirs, files in os.walk(root):
        entries += [os.path.join(folder, n) for n in dirs + files]
    for path in entries:
        st = os.lstat(path)
        if os.path.islink(path):
            continue
        mode = st.st_mode & 0o777
        want = 0o700 if os.path.isdir(path) else 0o600
        if mode != want:
            wrong.append(f"{path}: {oct(mode)}")
    return wrong


# --- the ansar command ----------------------------------------------------------------------------


class Cli(support_running.Cli):
    """``support_running.Cli`` (the ``ansar`` command as a process in a folder of its own), with
    every exit that is not 0 checked for the one-line refusal and counted when it is not one."""

    def __call__(self, *args: str, seconds: float = DEADLINE) -> subprocess.CompletedProcess:
        done = super().__call__(*args, seconds=seconds)
        count_refusal(done.returncode, done.stderr)
        return done

    def ok(self, *args: str, seconds: float = DEADLINE) -> str:
        done = self(*args, seconds=seconds)
        assert (done.returncode, done.stderr) == (0, ""), f"ansar {' '.join(args)}: {done.returncode} {done.stderr}"
        return done.stdout

    def refused(self, status: int, *args: str) -> str:
        text = super().refused(status, *args)
        assert "Traceback" not in text, text
        return text

    def popen(self, *args: str, **kw: Any) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.argv(*args), cwd=self.cwd, env=self.env, text=True, **kw)


class InProcess:
    """``ansar.command.main.main(argv)`` in this process: stdout and stderr captured, the working
    folder ``cwd`` for the call, counted like ``Cli``."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.home = cwd / ".ansar-home"

    def __call__(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        from ansar.command.main import main

        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace")
        err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace")
        saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        sys.stdout, sys.stderr = out, err
        os.chdir(self.cwd)
        try:
            status = main(list(argv))
        except SystemExit as e:  # argparse-like exits would be a defect: keep them visible
            status = e.code if isinstance(e.code, int) else 1
            err.write(f"<SystemExit {e.code!r}>\n")
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved[:3]
            os.chdir(saved[3])
        texts = []
        for stream in (out, err):
            stream.flush()
            texts.append(stream.buffer.getvalue().decode("utf-8", errors="replace"))  # type: ignore[attr-defined]
        count_refusal(status, texts[1])
        return status, texts[0], texts[1]

    def ok(self, *argv: str) -> str:
        status, out, err = self(*argv)
        assert (status, err) == (0, ""), f"ansar {' '.join(argv)}: {status} {err}"
        return out


# --- component programs of a test's own -------------------------------------------------------------


_PROGRAM = """#!{python}
# A component program of a reliability test ({name}).
import os, signal, subprocess, sys, time
import ansar.create as ar

{body}

ar.bind({name})

if __name__ == '__main__':
    ar.create_object({name})
"""


def make_program(folder: Path, name: str, body: str) -> Path:
    """An executable ``folder/name`` whose main object is the function ``name`` defined in
    ``body`` (the module has os, signal, subprocess, sys, time and ``ar`` imported)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(_PROGRAM.format(python=sys.executable, name=name, body=body))
    path.chmod(0o755)
    return path


def link_examples(folder: Path, *names: str) -> None:
    """Symbolic links in ``folder`` to the checkout's launchers (a linked launcher finds its example)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = folder / name
        if not target.exists():
            target.symlink_to(BIN / name)
