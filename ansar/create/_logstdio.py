"""Stdout and stderr of a role started in the background, into its log storage under the cap.

Python's ``sys.stdout`` and ``sys.stderr`` become line-buffered writers straight into the
storage, in order with the records. File descriptors 1 and 2, which ``os.write``, C code and
child processes use, become the write end of a pipe that a daemon thread reads into the storage
as it comes; what the pipe holds is also written out before each record and each line Python
writes, so what was written before comes before. Either way the storage rotates its files, so
nothing a role writes grows a file past its size (descriptors 1 and 2 on the file itself, as
before, let a role's raw writes grow one file without bound).

The thread needs the interpreter's lock to read. C code that writes more than the pipe holds
(64 KiB) to descriptor 1 or 2 in one call without releasing that lock waits on a reader that
cannot run: such a role hangs (its ``timeout`` property still ends it). Python code, ``os.write``
and child processes never do.

At exit (or ``settle()`` before an ``os._exit``) descriptors 1 and 2 are pointed at the current
file and what is in the pipe is written out. Children still running then keep the pipe; what
they write lands while this process lives, and they get EPIPE once it has ended.

Only the standard library: a component started in the background imports this at start-up.
"""

from __future__ import annotations

import atexit
import io
import os
import select
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._logstore import StorageSink

__all__ = ["Stdio", "capture_stdio"]


class _Into(io.RawIOBase):
    """A raw stream whose writes go to the storage; ``fileno()`` is the descriptor it stands for."""

    def __init__(self, sink: StorageSink, fd: int) -> None:
        super().__init__()
        self._sink = sink
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, b) -> int:  # type: ignore[no-untyped-def,override]
        data = bytes(b)
        self._sink.write_raw(data, catch_up=True)
        return len(data)


class Stdio:
    """The pipe behind descriptors 1 and 2 and the thread that reads it into ``sink``."""

    def __init__(self, sink: StorageSink) -> None:
        self.sink = sink
        # Neither end inherited; 1 and 2 (below) are. The default size (64 KiB): a larger one
        # counts against the user's pipe pages for as long as the role runs, and past their soft
        # limit every new pipe of the user's is cut to one page.
        self._read, write = os.pipe()
        os.set_blocking(self._read, False)
        self._ready = select.poll()  # polled under the storage's lock only (the thread selects)
        self._ready.register(self._read, select.POLLIN)
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        sys.stdout = self._stream(sys.stdout, 1, "strict")
        sys.stderr = self._stream(sys.stderr, 2, "backslashreplace")
        self._thread = threading.Thread(target=self._pump, name="ansar-stdio", daemon=True)
        self._thread.start()
        atexit.register(self.settle)

    def _stream(self, old, fd: int, errors: str) -> io.TextIOWrapper:  # type: ignore[no-untyped-def]
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or errors
        return io.TextIOWrapper(io.BufferedWriter(_Into(self.sink, fd)), encoding=encoding, errors=errors,
                                line_buffering=True)

    def _pump(self) -> None:
        while True:
            try:
                select.select([self._read], [], [])
            except (OSError, ValueError):
                return  # closed
            if not self.drain():
                return

    def drain(self) -> bool:
        """Write what the pipe holds now; False at its end. Read under the storage's lock, so a
        drain by ``settle`` and the thread's never reorder what came."""
        with self.sink._lock:
            if not self._ready.poll(0):  # the usual case, and a quarter of a read's cost
                return True
            while True:
                try:
                    data = os.read(self._read, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not data:
                    return False
                self.sink.write_raw(data)

    def settle(self) -> None:
        """Point descriptors 1 and 2 at the current file and write out what the pipe holds."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        with self.sink._lock:
            fd = self.sink.fileno()
            if fd >= 0:
                os.dup2(fd, 1)
                os.dup2(fd, 2)
        self.drain()


def capture_stdio(sink: StorageSink) -> Stdio:
    """Stdout and stderr of this process (and of its children to come) into ``sink``."""
    return Stdio(sink)
