"""What several sub-commands share: finding the home, searches, printing, running roles."""

from __future__ import annotations

import sys
from typing import Optional

from ansar.home import Home, HomeError, Search, open_existing_home

from ._args import HOME_PATH, Parsed, Usage

__all__ = ["clear_running", "home_of", "print_document", "read_file", "running_list", "search_of"]


def home_of(parsed: Parsed, word: Optional[int] = None) -> Home:
    """The home named by word number ``word`` (if given) or else by ``--home-path``."""
    path = parsed.settings["home-path"]
    if word is not None and len(parsed.words) > word:
        if path != HOME_PATH.default and path != parsed.words[word]:
            raise Usage(f'{parsed.command.name}: two homes given ("{parsed.words[word]}" and --home-path={path})')
        path = parsed.words[word]
    return open_existing_home(path)


def search_of(parsed: Parsed, word: int) -> Search:
    pattern = parsed.words[word] if len(parsed.words) > word else None
    return Search(pattern, bool(parsed.settings.get("invert-search")))


def print_document(data: bytes) -> None:
    """A ``{"value": ...}`` document, indented for people."""
    import msgspec

    try:
        text = msgspec.json.format(data, indent=4)
    except msgspec.DecodeError:
        text = data
    sys.stdout.write(text.decode().rstrip("\n") + "\n")


def read_file(path: str) -> bytes:
    """The contents of a file the user named; ``-`` is stdin."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise HomeError(f"{path}: not found") from None
    except OSError as e:
        raise HomeError(f"{path}: cannot read ({e.strerror})") from None


def running_list(running: list[tuple[str, int]]) -> str:
    """``zombie-0 (13343), c-1 (13342)``: roles with their process ids."""
    return ", ".join(f"{name} ({pid})" if pid else name for name, pid in running)


def clear_running(home: Home, names: list[str], search: Search, action: str, force: bool) -> None:
    """Refuse ``action`` while any of ``names`` runs; with ``force`` stop them first."""
    running = home.running(names)
    if not running:
        return
    if not force:
        raise HomeError(f'cannot perform "{action}", currently running - {running_list(running)}')
    from ansar.home import stop_roles

    left, survivors = stop_roles([home.role_context(name) for name, _ in running])
    if left or survivors:
        what = ", ".join(left) if left else "processes"
        also = f" (survived SIGKILL: {', '.join(map(str, survivors))})" if survivors else ""
        raise HomeError(f'cannot perform "{action}", could not stop {what}{also}')
