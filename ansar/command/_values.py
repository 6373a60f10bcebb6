"""settings, input, get, set, edit, folder: the values kept for one role."""

from __future__ import annotations

import os
import sys
from typing import Optional

from ansar.home import (
    PROPERTIES,
    BadValue,
    Home,
    HomeError,
    RoleContext,
    check_document,
    decode_property,
    dump_input,
    dump_settings,
    encode_property,
    get_property,
)
from ansar.home._properties import check_property

from ._args import Parsed, Usage
from ._common import home_of, print_document, read_file, search_of

__all__ = ["run_edit", "run_folder", "run_get", "run_input", "run_set", "run_settings"]


def run_settings(parsed: Parsed) -> int:
    return _value(parsed, "settings")


def run_input(parsed: Parsed) -> int:
    return _value(parsed, "input")


def _file_given(parsed: Parsed) -> Optional[str]:
    given = [f for f in (parsed.settings.get("set-file"), parsed.settings.get("encoding-file")) if f is not None]
    if len(given) > 1 and given[0] != given[1]:
        raise Usage(f"{parsed.command.name}: give --set-file or --encoding-file, not both")
    return given[0] if given else None


def _value(parsed: Parsed, kind: str) -> int:
    home = home_of(parsed)
    name = parsed.words[0]
    path = _file_given(parsed)
    if path is None:
        context = home.role(name)
        data = home.read_document(name, kind)
        if data is None:
            raise HomeError(_none_text(context, kind))
        print_document(data)
        return 0
    home.role(name)  # a bad name or an unknown role before the file is read
    data = read_file(path)
    _store_checked(home, name, kind, data, "stdin" if path == "-" else path)
    return 0


def _none_text(context: RoleContext, kind: str) -> str:
    assert context.role is not None
    from ansar.home._command import is_command

    if is_command(context.role):
        return f'role "{context.role_name}" has no {kind} (a command role takes none)'
    return f'role "{context.role_name}" has no {kind} (executable "{context.role.executable}" takes none)'


def _store_checked(
    home: Home, name: str, kind: str, data: bytes, where: str, *, expected: Optional[bytes] = None
) -> None:
    """Store ``data`` as the role's settings or input once its executable has accepted it.

    All under the home's lock; with ``expected``, only if the stored value is still that (an edit
    begun from it), else HomeError.
    """
    check_document(data, where)
    import tempfile

    with home.locked():
        context = home.role(name)
        assert context.role is not None
        if expected is not None and home.read_value(name, kind) != expected:
            raise HomeError(_changed_text(name, kind, data))
        executable = home.executable_path(context.role.executable)
        # The executable reads a file; handing it a private copy means it sees exactly what was checked.
        fd, temp = tempfile.mkstemp(prefix=f"ansar-{name}-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            try:
                encoding = dump_settings(executable, temp) if kind == "settings" else dump_input(executable, temp)
            except HomeError as e:
                raise type(e)(str(e).replace(temp, where)) from None
        finally:
            os.unlink(temp)
        if encoding.empty:
            raise HomeError(_none_text(context, kind))  # as printing it says
        home.store_values(kind, {name: encoding})


def _changed_text(name: str, what: str, edited: bytes) -> str:
    """The refusal of an edit whose value another command changed meanwhile; the edit is kept."""
    import tempfile

    fd, kept = tempfile.mkstemp(prefix=f"ansar-{name}-{what}-edited-", suffix=".json")
    with os.fdopen(fd, "wb") as f:
        f.write(edited)
    return f'the {what} of role "{name}" changed while it was edited; nothing stored (the edit is in {kept})'


def run_get(parsed: Parsed) -> int:
    name, role_name = parsed.words
    if name not in PROPERTIES:
        raise BadValue(f'no property "{name}" (there is {", ".join(sorted(PROPERTIES))})')
    home = home_of(parsed)
    record = home.role(role_name).role
    assert record is not None
    sys.stdout.write(encode_property(get_property(record, name)).decode() + "\n")
    return 0


def run_set(parsed: Parsed) -> int:
    name = parsed.words[0]
    if name not in PROPERTIES:
        raise BadValue(f'no property "{name}" (there is {", ".join(sorted(PROPERTIES))})')
    path = _file_given(parsed)
    if path is None:
        raise Usage(f"set: needs --encoding-file=<file> (or --set-file) holding the {name}")
    value = decode_property(name, read_file(path), "stdin" if path == "-" else path)
    home = home_of(parsed)
    search = search_of(parsed, 1)
    with home.locked():  # matched, checked and set in one change
        names = home.select(search)
        check_property(home, names, name, value)
        home.set_property(names, name, value)
    return 0


def run_edit(parsed: Parsed) -> int:
    what, role_name = parsed.words
    if what not in ("settings", "input") and what not in PROPERTIES:
        raise BadValue(f'cannot edit "{what}" (settings, input, {", ".join(sorted(PROPERTIES))})')
    home = home_of(parsed)
    context = home.role(role_name)
    assert context.role is not None
    if what in PROPERTIES:
        before: Optional[bytes] = _property_text(context, what)
    else:
        before = home.read_document(role_name, what)
        if before is None:
            raise HomeError(_none_text(context, what))
    home.check_lock()  # an edit that could not be stored is refused before the editor opens
    after = _edited(before, f"{role_name}-{what}")
    if after == before:
        return 0
    if what not in PROPERTIES:
        _store_checked(home, role_name, what, after, f"edited {what}", expected=before)
        return 0
    value = decode_property(what, after, f"edited {what}")
    with home.locked():
        if _property_text(home.role(role_name), what) != before:
            raise HomeError(_changed_text(role_name, what, after))
        check_property(home, [role_name], what, value)
        home.set_property([role_name], what, value)
    return 0


def _property_text(context: RoleContext, what: str) -> bytes:
    assert context.role is not None
    return encode_property(get_property(context.role, what)) + b"\n"


def _edited(data: bytes, label: str) -> bytes:
    """``data`` after the user's editor has had it."""
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, temp = tempfile.mkstemp(prefix=f"ansar-{label}-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            done = subprocess.run([*shlex.split(editor), temp])
        except OSError as e:
            raise HomeError(f'editor "{editor}" cannot be run ({e.strerror}); nothing stored') from None
        if done.returncode != 0:
            raise HomeError(f'editor "{editor}" exited with status {done.returncode}; nothing stored')
        try:
            with open(temp, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise HomeError(f'editor "{editor}" removed {temp}; nothing stored') from None
        except OSError as e:
            raise HomeError(f"{temp}: cannot read the edit ({e.strerror}); nothing stored") from None
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


_ROLE_FOLDERS = {"model": "model_path", "tmp": "tmp_path", "logs": "logs_path"}
_ROLE_FILES = {
    "settings": "settings_path", "input": "input_path", "history": "history_path",
    "lock": "lock_path", "role": "record_path",
}


def run_folder(parsed: Parsed) -> int:
    kind = parsed.words[0]
    known = ("bin", "resource", *_ROLE_FOLDERS, *_ROLE_FILES)
    if kind not in known:
        raise BadValue(f'no folder kind "{kind}" (there is {", ".join(known)})')
    home = home_of(parsed)
    if len(parsed.words) < 2:
        if kind != "bin":
            raise Usage(f'folder: "{kind}" needs a role')
        sys.stdout.write(home.folder("bin") + "\n")
        return 0
    context = home.role(parsed.words[1])
    if kind == "bin":
        path: Optional[str] = context.bin_path()
    elif kind == "resource":
        path = context.resource_path()
    elif kind in _ROLE_FOLDERS:
        path = getattr(context, _ROLE_FOLDERS[kind])()
    else:
        path = getattr(context, _ROLE_FILES[kind])()
    sys.stdout.write(f"{path}\n")
    return 0
