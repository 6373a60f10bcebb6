"""The disk refuses writes: ``RLIMIT_FSIZE`` (as ``ulimit -f`` sets it), a full tmpfs, a read-only one.

A command that cannot write gives one clear line and leaves the home as it was; a running role
whose log storage refuses its records keeps running, counts them, and says
``? <n> records lost (<reason>)`` once it can write again.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
from pathlib import Path
from typing import Iterator

import psutil
import pytest
from reliability_support import DEADLINE, FIGURES, Cli, InProcess, home_tree, one_line_refusal, wait_for


def _no_writes() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # python ignores SIGXFSZ: writes fail with EFBIG


@pytest.mark.parametrize("argv", [("add", "zombie", "zombie-9"), ("update", "snooze-0", "--seconds=3.0"),
                                  ("set", "storage", "zombie-0", "--encoding-file=../cap"), ("delete", "zombie-0"),
                                  ("snapshot", "testing")])
def test_a_command_that_cannot_write_refuses_in_one_line_and_leaves_the_home(cli: Cli, argv: tuple[str, ...]) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "zombie")
    fast.ok("add", "snooze")
    (cli.cwd.parent / "cap").write_text('{"value": 100000}')
    before = home_tree(cli.home)
    done = subprocess.run(cli.argv(*argv), cwd=cli.cwd, env=cli.env, capture_output=True, text=True,
                          timeout=DEADLINE, preexec_fn=_no_writes)
    FIGURES.fault()
    if done.returncode == 0:
        return  # nothing to write after all (a delete removes files)
    assert one_line_refusal(done.returncode, done.stderr), done.stderr
    assert home_tree(cli.home) == before


TICKER = '''
def ticker(self):
    """A record every 10 ms until stopped."""
    n = 0
    while True:
        n += 1
        self.console(f"tick {n}")
        m = self.select(ar.Stop, seconds=0.01)
        if isinstance(m, ar.Stop):
            return ar.Aborted()
'''


def test_a_role_whose_storage_refuses_keeps_running_and_counts_what_it_lost(cli: Cli, bin_dir) -> None:  # type: ignore[no-untyped-def]
    from reliability_support import make_program

    make_program(bin_dir, "ticker", TICKER)
    cli.fast.ok("add", "ticker")  # type: ignore[attr-defined]
    cli.ok("start")
    pid = cli.pids()["ticker-0"]
    folder = cli.home / "logs" / "ticker-0"

    def text() -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(folder.iterdir()))

    wait_for(lambda: "tick 3" in text(), what="ticks in storage")
    role = psutil.Process(pid)
    soft, hard = role.rlimit(psutil.RLIMIT_FSIZE)
    role.rlimit(psutil.RLIMIT_FSIZE, (1, hard))  # no more room
    FIGURES.fault()
    ticks = text().count("tick ")
    tried = role.io_counters().write_count
    wait_for(lambda: role.io_counters().write_count >= tried + 5, what="five writes tried")  # refused: EFBIG
    assert text().count("tick ") <= ticks + 1
    role.rlimit(psutil.RLIMIT_FSIZE, (soft, hard))
    wait_for(lambda: "records lost" in text(), what="the lost records reported")
    assert role.is_running()
    lost = [line for line in text().splitlines() if "records lost" in line]
    assert len(lost) >= 1 and " ? " in lost[0] and "(File too large)" in lost[0], lost
    assert text().count("tick ") >= ticks


# --- a small full filesystem, a read-only one ---------------------------------------------------------

_MOUNTABLE: list[str] = []  # decided once: "" when a tmpfs mounts here, else why not


def _mount_refused(where: Path) -> str:
    """Why a tmpfs cannot be mounted here ("" when it can): tried once, the answer kept."""
    if not _MOUNTABLE:
        probe = where / "probe"
        probe.mkdir()
        try:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(probe)],
                                  capture_output=True, text=True, timeout=DEADLINE)
        except OSError as e:  # no mount command
            _MOUNTABLE.append(f"tmpfs not mountable here: {e}")
        else:
            if done.returncode == 0:
                subprocess.run(["umount", "-l", str(probe)], capture_output=True)
            why = done.stderr.strip() or f"mount exited {done.returncode}"
            _MOUNTABLE.append("" if done.returncode == 0 else f"tmpfs not mountable here: {why}")
        probe.rmdir()
    return _MOUNTABLE[0]


def _fill(folder: Path) -> Path:
    """A filler file taking every byte left on ``folder``'s filesystem."""
    filler = folder / "filler"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    with open(filler, "ab", buffering=0) as f:  # the last partial page too
        try:
            while f.write(b"\0"):
                pass
        except OSError:
            pass
    return filler


@pytest.fixture
def disk(tmp_path: Path, tool_env: dict[str, str], bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """A home on a 256 KiB tmpfs of its own (``cli.mount``; ``cli.mounted`` false where a tmpfs
    cannot be mounted and this is not root: a plain folder then, for the chmod case), a zombie
    and a snooze role in it. Every role is stopped, modes restored and the tmpfs unmounted after."""
    why = _mount_refused(tmp_path)
    if why and os.geteuid() == 0:
        pytest.skip(why)
    mount = tmp_path / "disk"
    mount.mkdir()
    if not why:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)], check=True)
    c: Cli | None = None
    try:
        work = mount / "work"
        work.mkdir()
        for name in ("PATH", "HOME", "XDG_CONFIG_HOME"):
            monkeypatch.setenv(name, tool_env[name])
        c = Cli(work, tool_env)
        c.fast = InProcess(work)  # type: ignore[attr-defined]
        c.mount, c.mounted, c.why = mount, not why, why  # type: ignore[attr-defined]
        c.fast.ok("create", f"--redirect-bin={bin_dir}")  # type: ignore[attr-defined]
        c.fast.ok("add", "zombie")  # type: ignore[attr-defined]
        c.fast.ok("add", "snooze")  # type: ignore[attr-defined]
        yield c
    finally:
        if not why:
            subprocess.run(["mount", "-o", "remount,rw", str(mount)], capture_output=True)
        for folder, dirs, _ in os.walk(mount):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o700)
        if c is not None and c.home.exists():
            c.fast("-f", "stop")  # type: ignore[attr-defined]
        if not why and subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _full(disk: Cli) -> Path:
    """The filler of a full disk; skipped where there is no tmpfs to fill."""
    if not disk.mounted:  # type: ignore[attr-defined]
        pytest.skip(disk.why)  # type: ignore[attr-defined]
    return _fill(disk.mount)  # type: ignore[attr-defined]


WRITERS = [("add", "zombie", "zombie-9"), ("update", "snooze-0", "--seconds=3.0"),
           ("set", "storage", "zombie-0", "--encoding-file=../../cap"), ("snapshot", "testing"),
           ("deploy", "--storage-path=../../snap")]


def _refusals(disk: Cli, tmp_path: Path, reason: str) -> None:
    """Each command that must write refuses in one line naming ``reason``; the home as it was."""
    before = home_tree(disk.home)
    around = sorted(os.listdir(disk.cwd))
    for argv in WRITERS:
        done = disk(*argv)
        FIGURES.fault()
        assert one_line_refusal(done.returncode, done.stderr), (argv, done.stderr)
        assert reason.lower() in done.stderr.lower(), (argv, done.stderr)
        assert home_tree(disk.home) == before, argv
        assert sorted(os.listdir(disk.cwd)) == around, argv  # no snapshot half made, no temporaries


def _start_refused(disk: Cli, reason: str) -> None:
    before = home_tree(disk.home)
    done = disk("start", "zombie-0")
    FIGURES.fault()
    assert one_line_refusal(done.returncode, done.stderr) and reason.lower() in done.stderr.lower(), done.stderr
    assert disk.running() == []
    assert home_tree(disk.home) == before


def _ready_to_write(disk: Cli, tmp_path: Path) -> None:
    """A property file for set and a snapshot for deploy, both off the small filesystem."""
    (tmp_path / "cap").write_text('{"value": 100000}')
    disk.fast.ok("snapshot", str(tmp_path / "snap"))  # type: ignore[attr-defined]
    model = tmp_path / "snap" / "model-by-role" / "zombie-0"
    model.mkdir(parents=True, exist_ok=True)
    (model / "weights.json").write_text('{"value": ' + "1" * 8000 + "}")  # more than a page: no room for it


def test_a_full_filesystem_refuses_every_write_in_one_line_and_leaves_the_home(disk: Cli, tmp_path: Path) -> None:
    _ready_to_write(disk, tmp_path)
    filler = _full(disk)
    _refusals(disk, tmp_path, os.strerror(errno.ENOSPC))
    filler.unlink()
    disk.ok("update", "snooze-0", "--seconds=3.0")  # room again: the same command goes through


def test_a_read_only_filesystem_refuses_every_write_in_one_line_and_leaves_the_home(disk: Cli, tmp_path: Path) -> None:
    _ready_to_write(disk, tmp_path)
    if disk.mounted:  # type: ignore[attr-defined]
        subprocess.run(["mount", "-o", "remount,ro", str(disk.mount)], check=True)  # type: ignore[attr-defined]
        reason = os.strerror(errno.EROFS)
    else:
        for folder, dirs, _ in os.walk(disk.home):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o500)
        disk.home.chmod(0o500)
        disk.cwd.chmod(0o500)
        reason = os.strerror(errno.EACCES)
    _refusals(disk, tmp_path, reason)
    _start_refused(disk, reason)


def test_a_start_on_a_full_filesystem_refuses_in_one_line_and_leaves_the_home(disk: Cli) -> None:
    _full(disk)
    _start_refused(disk, os.strerror(errno.ENOSPC))


def _refused_writes(role: psutil.Process, folder: Path) -> int:
    """Wait until five writes of ``role`` left its log storage as it was (a full disk still takes
    what fits in a file's last page); the ticks stored then."""
    seen = {"size": -1, "writes": 0}

    def stuck() -> bool:
        size = sum(p.stat().st_size for p in folder.iterdir())
        writes = role.io_counters().write_count
        if size != seen["size"]:
            seen.update(size=size, writes=writes)
        return writes >= seen["writes"] + 5

    wait_for(stuck, what="five writes refused")
    return "".join(p.read_text(errors="replace") for p in folder.iterdir()).count("tick ")


def test_a_role_whose_filesystem_fills_keeps_running_and_counts_what_it_lost(disk: Cli, bin_dir: Path) -> None:
    from reliability_support import make_program

    make_program(bin_dir, "ticker", TICKER)
    disk.fast.ok("add", "ticker")  # type: ignore[attr-defined]
    disk.ok("start", "ticker-0")
    role = psutil.Process(disk.pids()["ticker-0"])
    folder = disk.home / "logs" / "ticker-0"

    def text() -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(folder.iterdir()))

    wait_for(lambda: "tick 3" in text(), what="ticks in storage")
    filler = _full(disk)
    FIGURES.fault()
    ticks = _refused_writes(role, folder)
    filler.unlink()
    wait_for(lambda: "records lost" in text(), what="the lost records reported")
    assert role.is_running()
    lost = [line for line in text().splitlines() if "records lost" in line]
    assert len(lost) == 1 and " ? " in lost[0] and f"({os.strerror(errno.ENOSPC)})" in lost[0], lost
    assert int(lost[0].split(" records lost")[0].split()[-1]) >= 1, lost
    wait_for(lambda: text().count("tick ") > ticks + 1, what="ticks again")
    disk.ok("stop", "ticker-0")
    history = disk.ok("history", "ticker-0")
    assert history.count("\n") == 1 and history.strip().endswith("(Aborted)"), history  # closed, its value stored
