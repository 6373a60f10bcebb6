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
    for piece in read_window(context.logs_path(), window):
        out.write(to_local(piece) if clock else piece)
    out.flush()
    return 0
