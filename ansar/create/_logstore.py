"""Log storage: a background role's records, in a folder of files that rotate under a cap.

Files are named ``<UTC time of their first line>-<sequence>.log``
(``20261203T170000.123-000007.log``), so sorting names sorts files by time; a name never sorts
before an older one, even if the clock steps back. A file takes new lines until it holds
``file_limit(cap)`` bytes: an eighth of the cap, at most 8 MiB, at least one line. When a new
file starts, the oldest files go until the others fit in the cap beside a full new one, so the
folder is over the cap by at most one file (only a single record longer than a file can push it
over). Each record is one ``os.write`` on an ``O_APPEND`` descriptor; what a role writes to
stdout and stderr is cut into whole lines where it can be, a piece at most a file long.

Only the standard library: a component started in the background imports this at start-up.
"""

from __future__ import annotations

import errno
import os
import threading
import time

from .log import LogRecord, format_record, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

__all__ = [
    "DEFAULT_CAP", "FILE_CEILING", "StorageSink", "current_file", "file_limit", "log_files", "name_parts",
    "open_current", "open_storage",
]

DEFAULT_CAP = 64 * 1024 * 1024
FILE_CEILING = 8 * 1024 * 1024
LOST_NAME = "logstore"  # the name on the line that reports records lost

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_os_write = os.write  # replaced by tests that need a write to fail


def file_limit(cap: int) -> int:
    """How many bytes one file takes before the next one starts."""
    return max(1, min(cap // 8, FILE_CEILING))


def name_parts(name: str) -> Optional[tuple[str, int]]:
    """``("20261203T170000.123", 7)`` for a log file's name, None for any other name."""
    if len(name) < 30 or not name.endswith(".log") or name[8] != "T" or name[15] != "." or name[19] != "-":
        return None
    when, sequence = name[:19], name[20:-4]
    if not (when[:8].isdigit() and when[9:15].isdigit() and when[16:].isdigit() and sequence.isdigit()):
        return None
    return when, int(sequence)


def log_files(folder: str) -> list[str]:
    """The names of the log files in ``folder``, oldest first (other files are not ours)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if name_parts(n) is not None)


def _name_time(stamp: float) -> str:
    return format_time(stamp).replace("-", "").replace(":", "")


def _new_name(names: list[str], stamp: float) -> str:
    """A name that sorts after every name in ``names`` and carries ``stamp`` where it can."""
    when = _name_time(stamp)
    sequence = 0
    if names:
        parts = name_parts(names[-1])
        assert parts is not None
        when = max(when, parts[0])
        sequence = parts[1] + 1
    return f"{when}-{sequence:06d}.log"


def _trim(folder: str, names: list[str], cap: int) -> None:
    """Remove the oldest of ``names`` (not the last, the file in use) until the rest fit the cap
    beside a full file."""
    sizes = []
    for name in names[:-1]:
        try:
            sizes.append(os.stat(os.path.join(folder, name)).st_size)
        except OSError:
            sizes.append(0)
    total = sum(sizes) + file_limit(cap)
    for name, size in zip(names[:-1], sizes, strict=True):
        if total <= cap:
            break
        try:
            os.unlink(os.path.join(folder, name))
        except FileNotFoundError:
            pass
        total -= size


def _start_file(folder: str, cap: int, stamp: float) -> tuple[str, int]:
    """Create the next file (and the folder if need be), trim the oldest; path and open fd."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    names = log_files(folder)
    name = _new_name(names, stamp)
    path = os.path.join(folder, name)
    fd = os.open(path, _FLAGS, 0o600)
    _trim(folder, names + [name], cap)
    return path, fd


def current_file(folder: str, *, cap: int = DEFAULT_CAP) -> str:
    """The file new lines go to now, created (with ``folder``) if there is none or it is full.

    ``ansar start`` opens it ``O_APPEND`` as the role's stdout and stderr before exec, so that
    what the role writes before its runtime is up lands in storage too.
    """
    names = log_files(folder)
    if names:
        path = os.path.join(folder, names[-1])
        try:
            if os.stat(path).st_size < file_limit(cap):
                return path
        except FileNotFoundError:
            pass
    path, fd = _start_file(folder, cap, time.time())
    os.close(fd)
    return path


def open_current(folder: str, first: bytes, *, cap: int = DEFAULT_CAP) -> int:
    """``current_file`` opened for appending (an fd) with ``first`` written to it. OSError if that
    fails (a full or read-only disk), and then a file made for it is removed again: a start that
    could not write leaves the role's log storage as it was."""
    had = set(log_files(folder))
    path = current_file(folder, cap=cap)
    fd = -1
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
        if _os_write(fd, first) < len(first):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError:
        if fd >= 0:
            os.close(fd)
        if os.path.basename(path) not in had:
            try:
                os.unlink(path)
            except OSError:
                pass
        raise
    return fd


class StorageSink:
    """A log sink writing formatted lines (UTC) to the files of a role's log folder.

    Thread-safe. With ``stdio`` what the process and its children write to stdout and stderr
    goes into the files too, under the same cap (``_logstdio``): Python's ``sys.stdout`` and
    ``sys.stderr`` in order with the records, file descriptors 1 and 2 through a pipe that is
    read before each record and each line Python writes, and by a thread as it comes.
    A line that cannot be written (disk full) is counted; the first line written after that is
    preceded by ``? <00000000>logstore - <n> records lost (<reason>)``.
    """

    def __init__(self, folder: str, cap: int = DEFAULT_CAP, *, stdio: bool = False) -> None:
        self.folder = folder
        self.cap = cap
        self.limit = file_limit(cap)
        self.path = ""
        self.stdio = None
        self._fd = -1
        self._size = 0  # of the current file: this sink is its only writer once it is open
        self._lock = threading.RLock()  # re-entrant: a signal handler may log mid-write
        self._lost = 0
        self._reason = ""
        self._torn = False  # a line was cut short: the next write starts a fresh line
        names = log_files(folder)
        if names:
            path = os.path.join(folder, names[-1])
            try:
                fd = os.open(path, _FLAGS, 0o600)
            except OSError:
                pass
            else:
                if os.fstat(fd).st_size < self.limit:
                    self._use(path, fd)
                else:
                    os.close(fd)
        if self._fd < 0:
            self._use(*_start_file(folder, cap, time.time()))
        if stdio:
            from ._logstdio import capture_stdio

            self.stdio = capture_stdio(self)

    def _use(self, path: str, fd: int) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self.path, self._fd = path, fd
        self._size = os.fstat(fd).st_size

    def fileno(self) -> int:
        """The descriptor of the current file (-1 once closed)."""
        return self._fd

    def write(self, record: LogRecord) -> None:
        line = (format_record(record) + "\n").encode("utf-8", "backslashreplace")
        with self._lock:
            self._catch_up()
            try:
                if self._lost:
                    self._emit(self._lost_line(record.stamp), record.stamp)
                    self._lost = 0
                self._emit(line, record.stamp)
            except OSError as e:
                self._lost += 1
                self._reason = e.strerror or type(e).__name__

    def write_raw(self, data: bytes, *, catch_up: bool = False) -> None:
        """Bytes written to stdout or stderr, as they are: whole lines where they fit, a new file
        when the current one is full, a piece longer than a whole file cut at its size. With
        ``catch_up``, what the stdio pipe holds goes first."""
        with self._lock:
            if catch_up:
                self._catch_up()
            try:
                if self._lost:
                    now = time.time()
                    self._emit(self._lost_line(now), now)
                    self._lost = 0
                self._check_open()
                while data:
                    room = self.limit - self._size
                    if len(data) <= room:
                        piece, data = data, b""
                    else:
                        cut = data.rfind(b"\n", 0, max(room, 0)) + 1
                        if cut == 0 and self._size:  # no whole line fits: the next file
                            self._next_file(time.time())
                            continue
                        cut = cut or self.limit
                        piece, data = data[:cut], data[cut:]
                    self._put(piece)
                    self._torn = not piece.endswith(b"\n")
            except OSError as e:
                self._lost += 1
                self._reason = e.strerror or type(e).__name__

    def _catch_up(self) -> None:
        """What came through the stdio pipe so far, before what is written now (lock held)."""
        if self.stdio is not None:
            self.stdio.drain()

    def close(self) -> None:
        """Close the current file (stdout and stderr stay as they are)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _lost_line(self, stamp: float) -> bytes:
        text = f"{self._lost} records lost ({self._reason})"
        return (format_record(LogRecord(stamp, "?", 2, 0, LOST_NAME, text)) + "\n").encode()

    def _emit(self, line: bytes, stamp: float) -> None:
        """Write one line, starting the next file first if this one is full; OSError if it fails."""
        self._check_open()
        if self._size and self._size + len(line) > self.limit:
            self._next_file(stamp)
            self._torn = False
        if self._torn:
            line = b"\n" + line
        self._put(line)
        self._torn = False

    def _check_open(self) -> None:
        """OSError once closed: nothing is written, and no next file is started, after ``close``."""
        if self._fd < 0:
            raise OSError(9, "log storage closed")

    def _next_file(self, stamp: float) -> None:
        self._use(*_start_file(self.folder, self.cap, stamp))

    def _put(self, data: bytes) -> None:
        written = _os_write(self._fd, data)
        self._size += max(written, 0)
        if written < len(data):  # cut short (the disk filled mid-line): the record is lost
            self._torn = True
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def open_storage(folder: str, cap: Optional[int] = None, *, stdio: bool = False) -> StorageSink:
    """A ``StorageSink`` for ``folder`` with the role's ``storage`` property (None: the default)."""
    return StorageSink(folder, DEFAULT_CAP if cap is None else cap, stdio=stdio)
