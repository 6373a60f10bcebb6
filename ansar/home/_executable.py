"""Asking an executable about its own types.

The home never imports a component's code. An executable built on ``ar.create_object`` prints its
settings (``--dump-settings``) or input (``--dump-input``) as a ``{"value": ...}`` document,
after reading them from ``--settings-file``/``--input-file`` and applying ``--name=value``
overrides; a value it cannot accept is one line on stderr and exit status 2. So validating a value
for a role is running its executable briefly and keeping what it prints.
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence

import msgspec

from ansar.create._role import COMMAND, HomeError

from ._names import BadValue

__all__ = ["ASK_SECONDS", "Encoding", "ask", "dump_input", "dump_settings"]

ASK_SECONDS = 30.0
USAGE_STATUS = 2


class Encoding:
    """A ``{"value": ...}`` document as an executable printed it; ``empty`` when the value is null
    (an executable without settings or without input)."""

    __slots__ = ("data", "empty")

    def __init__(self, data: bytes, empty: bool):
        self.data = data
        self.empty = empty


class _Document(msgspec.Struct):
    value: msgspec.Raw = msgspec.Raw(b"null")


_document = msgspec.json.Decoder(_Document)


def check_document(data: bytes, where: str) -> Encoding:
    """``data`` as an Encoding if it is a JSON object with a "value" (anything else is kept for
    the executable to judge, e.g. a "pointer" list), else BadValue naming ``where``."""
    try:
        document = _document.decode(data)
    except msgspec.DecodeError as e:
        raise BadValue(f"{where}: not a {{\"value\": ...}} document ({e})") from None
    return Encoding(data, bytes(document.value).strip() == b"null")


def ask(
    executable: str, arguments: Sequence[str], *, what: str, seconds: float = ASK_SECONDS
) -> Encoding:
    """Run ``executable`` with ``arguments`` and return the document it prints.

    Its one-line refusal (exit 2) becomes BadValue; anything else that goes wrong is HomeError.
    ``what`` says what was being asked, for the error text.
    """
    import signal
    import subprocess

    name = os.path.basename(executable)
    try:
        # A session of its own, so that a hung executable goes with everything it started.
        proc = subprocess.Popen(
            [executable, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        raise HomeError(f'executable "{name}" cannot be run ({e.strerror})') from None
    try:
        stdout, stderr = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        raise HomeError(f'executable "{name}" did not answer {what} within {seconds:g}s') from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # nothing it started outlives the question
        except OSError:
            pass
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        if done.returncode == USAGE_STATUS:
            raise BadValue(f'executable "{name}" refused {what}: {reason}')
        raise HomeError(f'executable "{name}" failed {what}: {reason}')
    return check_document(done.stdout, f'executable "{name}" answering {what}')


def dump_settings(
    executable: str, settings_file: Optional[str] = None, overrides: Sequence[str] = ()
) -> Encoding:
    """The settings ``executable`` ends up with, from its defaults or ``settings_file``, with
    ``overrides`` (``--name=value`` arguments) applied."""
    if executable == COMMAND:
        return _command_settings(settings_file, overrides)
    arguments = ["--dump-settings"]
    if settings_file is not None:
        arguments.append(f"--settings-file={os.path.abspath(settings_file)}")
    else:
        arguments.append("--factory-settings")  # not what the user stored for tool runs
    arguments.extend(overrides)
    what = "the settings" if not overrides else " ".join(overrides)
    return ask(executable, arguments, what=what)


def dump_input(executable: str, input_file: Optional[str] = None) -> Encoding:
    """The input ``executable`` ends up with, from its defaults or ``input_file``."""
    if executable == COMMAND:
        return Encoding(b"", True)  # a command role has no input
    arguments = ["--dump-input"]
    if input_file is not None:
        arguments.append(f"--input-file={os.path.abspath(input_file)}")
    return ask(executable, arguments, what="the input")


def _command_settings(settings_file: Optional[str], overrides: Sequence[str]) -> Encoding:
    """``dump_settings`` of a command role: ansar checks its one setting, the line."""
    from ._command import command_settings

    if overrides:
        raise BadValue(f'a command role takes no "{overrides[0]}" (its only setting is --command=<line>)')
    if settings_file is None:
        raise BadValue("a command role has no default settings (give --command=<line>)")
    with open(settings_file, "rb") as f:
        data = f.read()
    where = settings_file
    try:
        document = json.loads(data)
    except ValueError as e:
        raise BadValue(f"{where}: malformed JSON ({e})") from None
    value = document.get("value") if isinstance(document, dict) and len(document) == 1 else None
    line = value.get("command") if isinstance(value, dict) and set(value) == {"command"} else None
    if not isinstance(line, str):
        raise BadValue(f'{where}: expected {{"value": {{"command": "<line>"}}}} (the settings of a command role)')
    return Encoding(command_settings(line), False)
