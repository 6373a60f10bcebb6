"""history, returned: the executions of one role and the values they returned."""

from __future__ import annotations

import math
import sys
import time
from typing import Optional

import msgspec

from ansar.home import HomeError, RoleContext
from ansar.home._history import Execution, epoch_of, format_span, read_history, wait_execution

from ._args import Parsed, Usage
from ._common import home_of, print_document

__all__ = ["run_history", "run_returned"]


def _role(parsed: Parsed) -> RoleContext:
    """The role named by the first word, in the home named by the second or ``--home-path``."""
    return home_of(parsed, 1).role(parsed.words[0])


def _short_type(value: object) -> str:
    if value is None:
        return "no value"
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0].rsplit(".", 1)[-1]
    return type(value).__name__


def history_line(index: int, execution: Execution, now: float) -> str:
    """``[0] 7h30m ago ... 1m5.4s (Aborted)``; an execution still open is ``(running)``."""
    start = epoch_of(execution.start)
    if execution.end is None:
        return f"[{index}] {format_span(now - start)} ago ... (running)"
    took = format_span(epoch_of(execution.end) - start)
    return f"[{index}] {format_span(now - start)} ago ... {took} ({_short_type(execution.value)})"


def run_history(parsed: Parsed) -> int:
    context = _role(parsed)
    records = read_history(context)
    now = time.time()
    sys.stdout.write("".join(history_line(i, r, now) + "\n" for i, r in enumerate(records)))
    return 0


def _timeout(parsed: Parsed) -> Optional[float]:
    text = parsed.settings.get("timeout")
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise Usage(f'returned: "--timeout={text}" is not a number of seconds (2 or 2.0)')
    return seconds


def _chosen(context: RoleContext, records: list[Execution], start: Optional[int]) -> int:
    if not records:
        raise HomeError(f'role "{context.role_name}" has not run (no executions recorded)')
    count = len(records)
    if start is None:
        return count - 1
    if not -count <= start < count:
        span = "1 execution: 0 or -1" if count == 1 else f"{count} executions: 0 to {count - 1}, or -{count} to -1"
        raise HomeError(f'returned: --start={start} is out of range for "{context.role_name}" ({span})')
    return start % count


def run_returned(parsed: Parsed) -> int:
    seconds = _timeout(parsed)
    context = _role(parsed)
    records = read_history(context)
    index = _chosen(context, records, parsed.settings.get("start"))
    execution = records[index]
    if execution.end is None:  # the role's latest, still running
        try:
            found = wait_execution(context, execution, seconds=seconds)
        except KeyboardInterrupt:
            sys.stderr.write(f'ansar: stopped waiting for "{context.role_name}" (it is still running)\n')
            return 130
        if found is None:
            raise HomeError(f'"{context.role_name}" is still running after {seconds:g} seconds (execution {index})')
        execution = found
    if execution.value is None:
        raise HomeError(f'execution {index} of "{context.role_name}" ended without a value')
    print_document(msgspec.json.encode({"value": execution.value}))
    return 0
