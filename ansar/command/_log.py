"""log: print the stored log lines of a role, as stored (UTC) or with ``--clock`` in local time."""

from __future__ import annotations

import sys

from ansar.home import HomeError, check_name

from ._args import Parsed
from ._common import home_of

__all__ = ["run_log"]


def run_log(parsed: Parsed) -> int:
    from ansar.home._logs import read_window, resolve_window, to_local

    name = parsed.words[0]
    home = home_of(parsed, 1)
    try:
        check_name(name)
    except HomeError:
        raise HomeError(f'role "{name}" not found in {home.path}') from None
    context = home.role(name)
    settings = parsed.settings
    clock = bool(settings["clock"])
    window = resolve_window(
        context,
        clock=clock,
        last=settings["last"],
        back=settings["back"],
        from_=settings["from"],
        start=settings["start"],
        to=settings["to"],
        span=settings["span"],
        count=settings["count"],
    )
    out = sys.stdout.buffer
    sys.stdout.flush()
    if not settings["follow"]:
        for piece in read_window(context.logs_path(), window):
            out.write(to_local(piece) if clock else piece)
        out.flush()
        return 0
    try:
        return _follow(context.logs_path(), read_window(context.logs_path(), window), clock)
    except KeyboardInterrupt:
        return 0  # Ctrl-C ends only this command


def _follow(folder: str, pieces, clock: bool) -> int:  # type: ignore[no-untyped-def]
    """The window, then new lines as they come, until Ctrl-C. The follower starts before the
    window is read; lines it finds that the window printed already are not printed twice."""
    import time

    from ansar.home._follow import POLL, Follower
    from ansar.home._logs import to_local

    follower = Follower(folder)
    out = sys.stdout.buffer
    last = b""
    for piece in pieces:
        out.write(to_local(piece) if clock else piece)
        last = piece
    out.flush()
    tail = last.rstrip(b"\n").rpartition(b"\n")[2] + b"\n" if last else b""
    first = True
    while True:
        lines = follower.lines()
        if first and tail in lines:
            lines = lines[lines.index(tail) + 1:]
        first = first and not lines
        for line in lines:
            out.write(to_local(line) if clock else line)
        out.flush()
        time.sleep(POLL)  # another process's file has no event to wait on
