"""Splitting a program's command line into runtime flags, settings and words."""

from __future__ import annotations

__all__ = ["RUNTIME_FLAGS", "Arguments", "UsageError", "split_arguments"]

# Flags the runtime itself understands; every other --name=value is a setting (or variable).
RUNTIME_FLAGS = {
    "help": "print this help and exit",
    "dump-settings": "print the settings in use as JSON and exit",
    "dump-input": "print the input in use as JSON and exit",
    "store-settings": "keep these settings as the tool's defaults (in the user's config folder)",
    "factory-settings": "start from the program's own settings, not those kept by --store-settings",
    "settings-file": "read settings from this JSON file",
    "input-file": "read input from this JSON file (default: stdin when it is a pipe or file)",
    "debug-level": "log records at this level and below: NONE FAULT WARNING CONSOLE OBJECT TRACE DEBUG",
    "home-path": "component mode: the home that holds the role",
    "role-name": "component mode: the role this process plays",
    "call-signature": "how the program was called (set by the runtime)",
    "point-of-origin": "where the program was started from (set by the runtime)",
}


class UsageError(Exception):
    """A mistake on the command line; the text is one line naming it."""


class Arguments:
    def __init__(self) -> None:
        self.flags: dict[str, str] = {}
        self.settings: dict[str, str] = {}
        self.words: list[str] = []


def split_arguments(argv: list[str]) -> Arguments:
    """``--name=value`` and ``--name`` (meaning true) become flags or settings; others are words."""
    out = Arguments()
    only_words = False
    for arg in argv:
        if only_words or not arg.startswith("--") or arg == "--":
            if arg == "--" and not only_words:
                only_words = True
                continue
            out.words.append(arg)
            continue
        name, eq, value = arg[2:].partition("=")
        if not name:
            raise UsageError(f'malformed argument "{arg}"')
        if not eq:
            value = "true"
        if name in RUNTIME_FLAGS:
            out.flags[name] = value
        else:
            out.settings[name.replace("-", "_")] = value
    return out
