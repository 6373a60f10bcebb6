"""Deltas between a source folder and a target folder, and applying them.

Files are compared by size and modification time (the stat that listing a folder gives): a file
whose size and mtime match is unchanged and is never read. A symbolic link is compared by what it
points to and copied as a link. Applying a transfer copies each new or changed file under a
temporary name (an *alias*) in its target's folder, renames every alias over its target, then
removes what the source no longer has; so a reader, or a transfer killed at any point, finds each
file old or new, never half of either. Copies keep the source's mtime, so that the next comparison
finds them unchanged. Aliases left by a killed transfer are found by their name and removed by the
next one.

``FolderTransfer`` (a state machine) and ``folder_transfer`` (its function object) apply one
transfer as objects of the runtime, with the records ``ansar deploy`` shows.
"""

from __future__ import annotations

import enum
import itertools
import os
import stat
from typing import Callable, Optional

import msgspec

import ansar.create as ar

__all__ = [
    "ALIAS_PREFIX", "Delta", "FolderTransfer", "Kind", "Transfer", "apply_transfer", "compute_transfer",
    "copy_tree", "folder_transfer", "is_alias",
]

ALIAS_PREFIX = ".ansar-alias-"
BIN_MASK = 0o755  # permission bits an executable keeps from its build
HOME_MASK = 0o700  # and a file of the home: private to its owner

Step = Callable[[str], None]


def _no_step(what: str) -> None:
    pass


class Kind(enum.Enum):
    FOLDER = "folder"  # a folder the target lacks
    COPY = "copy"  # a new or changed file or link
    REMOVE = "remove"  # gone from the source (or an alias a killed transfer left)


class Delta(msgspec.Struct, frozen=True):
    kind: Kind
    path: str  # relative to both folders
    first: bool = False  # a removal that makes room (a file where a folder goes, or the reverse)


class Transfer(msgspec.Struct):
    """What to do to bring ``target`` in line with ``source``."""

    source: str
    target: str
    deltas: list[Delta] = []
    mask: int = HOME_MASK

    @property
    def copies(self) -> list[Delta]:
        return [d for d in self.deltas if d.kind is Kind.COPY]

    @property
    def removals(self) -> list[Delta]:
        return [d for d in self.deltas if d.kind is Kind.REMOVE]

    def copied_names(self) -> list[str]:
        """The top-level names that are copied (an executable of a build, say)."""
        return sorted({d.path.split(os.sep, 1)[0] for d in self.copies})


def is_alias(name: str) -> bool:
    return name.startswith(ALIAS_PREFIX)


# An entry as compared: ("d",) a folder, ("l", target) a link, ("f", size, mtime_ns) a file.
_Entry = tuple


def _entry(e: os.DirEntry) -> Optional[_Entry]:
    if e.is_symlink():
        return ("l", os.readlink(e.path))
    if e.is_dir(follow_symlinks=False):
        return ("d",)
    if e.is_file(follow_symlinks=False):
        s = e.stat(follow_symlinks=False)
        return ("f", s.st_size, s.st_mtime_ns)
    return None  # a socket or a fifo is not material


def _scan(folder: str, *, top_only: bool = False, aliases: Optional[list[str]] = None,
          accept: Optional[Callable[[os.DirEntry], bool]] = None) -> dict[str, _Entry]:
    """Every entry under ``folder`` by relative path; a missing folder is empty. Aliases are left
    out (and listed in ``aliases`` when given)."""
    found: dict[str, _Entry] = {}
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(folder, relative) if relative else folder) as it:
                entries = list(it)
        except FileNotFoundError:
            if relative:
                raise
            return found
        for e in entries:
            path = os.path.join(relative, e.name) if relative else e.name
            if is_alias(e.name):
                if aliases is not None:
                    aliases.append(path)
                continue
            if accept is not None and not accept(e):
                continue
            entry = _entry(e)
            if entry is None:
                continue
            found[path] = entry
            if entry[0] == "d" and not top_only:
                pending.append(path)
    return found


def compute_transfer(source: str, target: str, *, remove: bool = True, top_only: bool = False,
                     accept: Optional[Callable[[os.DirEntry], bool]] = None, mask: int = HOME_MASK) -> Transfer:
    """The deltas that make ``target`` match ``source``. With ``remove`` false nothing is taken
    from the target (a home's bin keeps what no build has); ``top_only`` ignores sub-folders;
    ``accept`` picks the source entries that count."""
    theirs = _scan(source, top_only=top_only, accept=accept)
    aliases: list[str] = []
    ours = _scan(target, top_only=top_only, aliases=aliases)
    deltas = [Delta(Kind.REMOVE, path) for path in aliases]
    for path in sorted(theirs):
        entry = theirs[path]
        have = ours.get(path)
        if have == entry:
            continue
        if have is not None and (have[0] == "d") != (entry[0] == "d"):
            deltas.append(Delta(Kind.REMOVE, path, first=True))
            have = None
        if entry[0] == "d":
            if have is None:
                deltas.append(Delta(Kind.FOLDER, path))
        else:
            deltas.append(Delta(Kind.COPY, path))
    if remove:
        gone = [path for path in ours if path not in theirs and not _under_gone(path, ours, theirs)]
        deltas.extend(Delta(Kind.REMOVE, path) for path in sorted(gone, reverse=True))
    return Transfer(source=source, target=target, deltas=deltas, mask=mask)


def _under_gone(path: str, ours: dict, theirs: dict) -> bool:
    """Inside a folder that goes as a whole, or makes room for a file (its removal takes this
    entry with it)."""
    parent = os.path.dirname(path)
    while parent:
        if ours.get(parent, ("",))[0] == "d" and theirs.get(parent, ("",))[0] != "d":
            return True
        parent = os.path.dirname(parent)
    return False


# --- copying ---------------------------------------------------------------------------------------

_aliases = itertools.count()


def _alias_of(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f"{ALIAS_PREFIX}{os.getpid()}-{next(_aliases)}-{name}")


def _copy_file(source: str, destination: str, mask: int, *, durable: bool = True) -> None:
    """``source`` (a file or a link) to the new name ``destination``, with its mtime."""
    s = os.lstat(source)
    if stat.S_ISLNK(s.st_mode):
        os.symlink(os.readlink(source), destination)
        return
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, s.st_mode & mask)
    try:
        with open(source, "rb") as f:
            left = s.st_size
            while left > 0:
                sent = os.sendfile(fd, f.fileno(), None, min(left, 1 << 30))
                if sent == 0:
                    break
                left -= sent
            # A file that grew while copied: take the rest too (its mtime differs now anyway).
            while chunk := f.read(1 << 20):
                os.write(fd, chunk)
        os.fchmod(fd, s.st_mode & mask)  # whatever the umask took away
        if durable:
            os.fsync(fd)
        os.utime(fd, ns=(s.st_atime_ns, s.st_mtime_ns))
    finally:
        os.close(fd)


def _make_folder(path: str, made: list[str]) -> None:
    """``path`` and the folders above it that are missing, each new one noted in ``made``."""
    if os.path.isdir(path):
        return
    _make_folder(os.path.dirname(path), made)
    os.mkdir(path, 0o700)
    made.append(path)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        import shutil

        shutil.rmtree(path)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def apply_transfer(transfer: Transfer, *, log: Callable[[str], None] = _no_step, step: Step = _no_step) -> None:
    """Carry out ``transfer``: make room and folders, copy each change under an alias, rename the
    aliases over their targets, then remove what is gone. ``log`` gets the three records of the
    phases; ``step`` is called after each change on disk (a test stops a deploy there).
    OSError is left to the caller."""
    target, source, mask = transfer.target, transfer.source, transfer.mask
    copies, removals = transfer.copies, transfer.removals
    log(f"File transfer ({len(transfer.deltas)} deltas) to {target}")
    made: list[str] = []  # folders this transfer made, taken back if the copies fail
    aliases: list[tuple[str, str]] = []
    try:
        _make_folder(target, made)
        for delta in transfer.deltas:
            if delta.kind is Kind.REMOVE and delta.first:
                _remove(os.path.join(target, delta.path))
                step(f"remove {delta.path}")
            elif delta.kind is Kind.FOLDER:
                _make_folder(os.path.join(target, delta.path), made)
                step(f"folder {delta.path}")
        for delta in copies:
            alias = _alias_of(os.path.join(target, delta.path))
            aliases.append((alias, os.path.join(target, delta.path)))
            _copy_file(os.path.join(source, delta.path), alias, mask)
            step(f"alias {delta.path}")
    except OSError:  # a full or read-only disk: nothing of this transfer is left in the target
        for alias, _ in aliases:
            _remove(alias)
        for folder in reversed(made):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        raise
    log(f"Move {len(aliases)} aliases to targets")
    folders = set()
    for alias, path in aliases:
        os.replace(alias, path)
        folders.add(os.path.dirname(path))
        step(f"move {path}")
    for folder in folders:
        _sync_folder(folder)
    late = [d for d in removals if not d.first]
    log(f"Clear {len(late)} aliases")
    for delta in late:
        _remove(os.path.join(target, delta.path))
        step(f"clear {delta.path}")


def _sync_folder(folder: str) -> None:
    """The renames in ``folder`` survive a power cut too."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_tree(source: str, target: str, mask: int = HOME_MASK) -> None:
    """Copy the folder ``source`` to the new folder ``target`` (a missing source gives an empty
    one): files with their mtimes, links as links, folders private. No aliases: ``target`` is new
    and not yet where anyone looks."""
    os.mkdir(target, 0o700)
    for path, entry in sorted(_scan(source).items()):
        if entry[0] == "d":
            os.mkdir(os.path.join(target, path), 0o700)
        else:
            _copy_file(os.path.join(source, path), os.path.join(target, path), mask, durable=False)


# --- as objects of the runtime ----------------------------------------------------------------------


def folder_transfer(self: ar.Point, transfer: Transfer, step: Step = _no_step) -> object:
    """Apply ``transfer``, recording its phases; Ack, or Faulted naming what failed."""
    try:
        apply_transfer(transfer, log=self.console, step=step)
    except OSError as e:
        where = e.filename or transfer.target
        return ar.Faulted(condition=f"{where}: cannot transfer ({e.strerror})", explanation="transfer failed")
    return ar.Ack()


ar.bind(folder_transfer)


class INITIAL:
    pass


class RUNNING:
    pass


class FolderTransfer(ar.Point, ar.StateMachine):
    """Runs one ``folder_transfer`` and completes with its value. A transfer is not interrupted:
    a Stop waits for it to end (it is short, and every file is old or new at each step)."""

    def __init__(self, transfer: Transfer, step: Step = _no_step) -> None:
        ar.Point.__init__(self)
        ar.StateMachine.__init__(self, INITIAL)
        self.transfer = transfer
        self.step = step


def FolderTransfer_INITIAL_Start(self: FolderTransfer, message: ar.Start) -> type:
    self.create(folder_transfer, self.transfer, self.step)
    return RUNNING


def FolderTransfer_RUNNING_Completed(self: FolderTransfer, message: ar.Completed) -> type:
    self.complete(message.value)
    return RUNNING


def FolderTransfer_RUNNING_Stop(self: FolderTransfer, message: ar.Stop) -> type:
    return RUNNING


ar.bind(FolderTransfer, {
    INITIAL: (ar.Start,),
    RUNNING: (ar.Completed, ar.Stop),
})
