"""A snapshot: the home's operational files, copied into a folder a person edits.

Layout (``ansar deploy`` reads the same)::

    <folder>/settings-by-role/<role>.json        roles with settings
    <folder>/input-by-role/<role>.json           roles with input (the folder only when there is one)
    <folder>/model-by-role/<role>/               every role, even when empty
    <folder>/resource-by-executable/<exe>/       every executable of a role, even when empty

Files keep their modification times, so that deploying an unchanged snapshot finds nothing to do.
The copy is built beside the folder under a hidden name and renamed into place: a snapshot killed
half way leaves no half folder (the hidden one is removed by the next snapshot).
"""

from __future__ import annotations

import os

from ansar.create._role import HomeError

from . import _store
from ._deploy import INPUT, MODEL, RESOURCE, SETTINGS
from ._home import Home
from ._transfer import copy_tree

__all__ = ["check_target", "take_snapshot"]


def check_target(home: Home, folder: str, *, replace: bool) -> str:
    """The absolute path of the snapshot folder, if a snapshot may be written there."""
    target = os.path.abspath(folder)
    if target == home.path or target.startswith(home.path + os.sep) or home.path.startswith(target + os.sep):
        raise HomeError(f"{target}: a snapshot cannot be the home or inside it, nor hold it")
    if os.path.lexists(target):
        if not os.path.isdir(target) or os.path.islink(target):
            raise HomeError(f"{target}: exists and is not a folder")
        if os.listdir(target) and not replace:
            raise HomeError(f"{target}: exists and is not empty (ansar -f snapshot replaces it)")
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise HomeError(f"{parent}: not found (the folder that holds the snapshot)")
    if not os.access(parent, os.W_OK | os.X_OK):
        read_only = os.statvfs(parent).f_flag & os.ST_RDONLY
        raise HomeError(f"{parent}: cannot write ({'read-only file system' if read_only else 'permission denied'})")
    return target


def _building(target: str, what: str, pid: int) -> str:
    parent, base = os.path.split(target)
    return os.path.join(parent, f".{base}.{what}-{pid}")


def _clear_leftovers(target: str) -> None:
    """Hidden folders of snapshots that were killed (their process is gone)."""
    parent, base = os.path.split(target)
    for name in os.listdir(parent):
        for what in ("snapshot", "replaced"):
            prefix = f".{base}.{what}-"
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                pid = int(name[len(prefix):])
                if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
                    _store.remove_tree(os.path.join(parent, name))


def _copy_file(source: str, target: str) -> None:
    import shutil

    shutil.copy2(source, target, follow_symlinks=False)


def take_snapshot(home: Home, target: str) -> None:
    """Copy the home's settings, input, models and resources into ``target`` (checked with
    ``check_target``), replacing what was there. The caller holds the home lock."""
    _clear_leftovers(target)
    building = _building(target, "snapshot", os.getpid())
    try:
        _build(home, building)
        _into_place(building, target)
    except OSError as e:
        _store.remove_tree(building)
        raise HomeError(f"{e.filename or target}: cannot write the snapshot ({e.strerror})") from None
    except BaseException:
        _store.remove_tree(building)
        raise


def _build(home: Home, building: str) -> None:
    os.mkdir(building, 0o700)
    for section in (SETTINGS, MODEL, RESOURCE):
        os.mkdir(os.path.join(building, section), 0o700)
    executables: set[str] = set()
    for name in home.names():
        context = home.role(name)
        assert context.role is not None
        executables.add(context.role.executable)
        for section, path in ((SETTINGS, context.settings_path()), (INPUT, context.input_path())):
            if os.path.isfile(path):
                os.makedirs(os.path.join(building, section), 0o700, exist_ok=True)
                _copy_file(path, os.path.join(building, section, name + ".json"))
        copy_tree(context.model_path(), os.path.join(building, MODEL, name))
    for executable in sorted(executables):
        copy_tree(os.path.join(home.folder("resource"), executable), os.path.join(building, RESOURCE, executable))


def _into_place(building: str, target: str) -> None:
    try:
        os.rename(building, target)  # a missing or empty folder is replaced in one step
        return
    except OSError as e:
        import errno

        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    replaced = _building(target, "replaced", os.getpid())
    os.rename(target, replaced)
    os.rename(building, target)
    _store.remove_tree(replaced)
