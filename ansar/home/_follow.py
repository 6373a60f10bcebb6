"""Following a role's log storage as it grows: ``ansar log --follow`` and ``ansar attach``.

There is no event for "a file of another process grew" in the standard library, so a follower
looks at the role's newest file every ``POLL`` seconds: new whole lines of the file it reads,
then the files started after it (rotation), in name order. It reads nothing twice and only what
is new; it never writes.
"""

from __future__ import annotations

import os
from typing import Optional

from ansar.create._logstore import log_files

__all__ = ["POLL", "Follower"]

POLL = 0.1  # seconds between looks at a role's newest log file


class Follower:
    """The lines added to one role's log storage since the follower was made (or ``from_end``
    False: since the start of its newest file)."""

    def __init__(self, folder: str, *, from_end: bool = True) -> None:
        self.folder = folder
        names = log_files(folder) if os.path.isdir(folder) else []
        self.name: Optional[str] = names[-1] if names else None
        self.offset = 0
        self.partial = b""
        if self.name is not None and from_end:
            try:
                self.offset = os.path.getsize(os.path.join(folder, self.name))
            except OSError:
                self.offset = 0

    def _read(self, name: str, offset: int) -> bytes:
        try:
            with open(os.path.join(self.folder, name), "rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""  # trimmed away under the cap meanwhile

    def lines(self) -> list[bytes]:
        """Whole lines that arrived since the last call (a line still being written waits)."""
        names = log_files(self.folder) if os.path.isdir(self.folder) else []
        if self.name is not None and self.name in names:
            later = names[names.index(self.name) + 1:]
        else:
            later = [n for n in names if self.name is None or n > self.name]
        data = b""
        if self.name is not None and self.name in names:
            chunk = self._read(self.name, self.offset)
            self.offset += len(chunk)
            data += chunk
        for name in later:
            chunk = self._read(name, 0)
            self.name, self.offset = name, len(chunk)
            data += chunk
        data = self.partial + data
        if b"\n" not in data:
            self.partial = data
            return []
        whole, _, self.partial = data.rpartition(b"\n")
        return [line + b"\n" for line in whole.split(b"\n")]
