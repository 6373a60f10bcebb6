"""The ``ansar`` command line: ``ansar [--global=value ...] <sub-command> [--setting=value ...] [word ...]``.

Hand-written rather than argparse: the grammar is small, start-up time matters, and settings are
``--name=value`` whichever side of the sub-command the global ones are written on.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

__all__ = ["GLOBALS", "LEVELS", "PERIODS", "Command", "Parsed", "Setting", "Usage", "one_line", "parse", "sub_help",
           "top_help"]


class Usage(Exception):
    """A mistake in the command line: one line of text, exit status 2. What it quotes of the
    command line is shown with control characters escaped (a value holding a newline stays on
    the one line)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (newlines, tabs, escapes) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class Setting:
    def __init__(self, name: str, kind: type, default: Any, text: str, short: str = "", values: Sequence[str] = ()):
        self.name = name
        self.kind = kind
        self.default = default
        self.text = text
        self.short = short
        self.values = tuple(values)  # the only values accepted, if any

    def convert(self, value: Optional[str], where: str) -> Any:
        if self.kind is bool:
            if value is None:
                return True
            lowered = value.lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise Usage(f'{where}: "--{self.name}={value}" is not a bool (true or false)')
        if value is None:
            raise Usage(f'{where}: "--{self.name}" needs a value (--{self.name}=<{self.kind.__name__}>)')
        if self.kind is int:
            try:
                return int(value)
            except ValueError:
                raise Usage(f'{where}: "--{self.name}={value}" is not an int') from None
        if self.values:
            upper = value.upper()
            if upper not in self.values:
                raise Usage(f'{where}: "--{self.name}={value}" is not one of {", ".join(self.values)}')
            return upper
        return value

    def usage(self) -> str:
        if self.kind is bool:
            text = f"--{self.name}"
        else:
            shown = ("LEVEL" if "DEBUG" in self.values else "PERIOD") if self.values else self.kind.__name__.upper()
            text = f"--{self.name}=<{shown}>"
        return f"{text}, -{self.short}" if self.short else text

    def describe(self) -> str:
        default = self.default
        shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
        text = f"{self.text} ({', '.join(self.values)})" if self.values else self.text
        return f"  {self.usage():<32} {self.kind.__name__:<5} (default {shown}) {text}"


PERIODS = ("MONTH", "WEEK", "DAY", "HOUR", "HALF", "QUARTER", "TEN", "FIVE", "MINUTE")
LEVELS = ("NONE", "FAULT", "WARNING", "CONSOLE", "OBJECT", "TRACE", "DEBUG")
GLOBALS = (
    Setting("force", bool, False, "stop running roles that are in the way, then go ahead", short="f"),
    Setting("debug-level", str, None, "logging on stderr, up to this level", values=LEVELS),
    Setting("help", bool, False, "print help and exit", short="h"),
)
HOME_PATH = Setting("home-path", str, ".ansar-home", "the home to work on")
INVERT = Setting("invert-search", bool, False, "select the roles the search does not match")


class Command:
    """A sub-command: its words, its settings and where its function lives."""

    def __init__(
        self,
        name: str,
        words: str,
        text: str,
        settings: Sequence[Setting] = (),
        *,
        least: int = 0,
        most: int = 0,
        passes: str = "",
        prefix: str = "",
    ):
        self.name = name
        self.words = words
        self.text = text
        self.settings = tuple(settings)
        self.least = least
        self.most = most
        self.passes = passes  # help text when other settings are passed on to the executable
        self.prefix = prefix  # settings named <prefix><kind> (create's --redirect-<kind>)


class Parsed:
    def __init__(self, command: Optional[Command]):
        self.command = command
        self.globals: dict[str, Any] = {s.name: s.default for s in GLOBALS}
        self.settings: dict[str, Any] = {s.name: s.default for s in command.settings} if command else {}
        self.words: list[str] = []
        self.passed: list[str] = []  # --name=value for the executable, as given
        self.prefixed: dict[str, str] = {}  # --<prefix><kind>=value, by kind

    @property
    def force(self) -> bool:
        return bool(self.globals["force"])


def _lookup(settings: Sequence[Setting], name: str, short: bool = False) -> Optional[Setting]:
    for s in settings:
        if (s.short if short else s.name) == name:
            return s
    return None




def parse(argv: Sequence[str], commands: dict[str, Command]) -> Parsed:
    """Split ``argv`` (without the program name) into globals, sub-command, settings and words."""
    parsed = Parsed(None)
    i = 0
    early: list[str] = []  # settings of the sub-command given before it (--home-path=H run)
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        name = argv[i][2:].partition("=")[0] if argv[i].startswith("--") else ""
        if name and _lookup(GLOBALS, name) is None:
            early.append(argv[i])
        else:
            _setting(parsed, argv[i], (), None)
        i += 1
    if early and i >= len(argv):
        _setting(parsed, early[0], (), None)  # no sub-command to take it: unknown
    if i >= len(argv):
        return parsed  # no sub-command: top-level help (or usage error if nothing else was asked)
    if argv[i] == "--":
        i += 1
        if i >= len(argv):
            return parsed
    name = argv[i]
    command = commands.get(name)
    if command is None:
        raise Usage(f'unknown sub-command "{name}" (ansar --help lists them)')
    globals_ = parsed.globals
    parsed = Parsed(command)
    parsed.globals = globals_
    for token in early:
        if _lookup(command.settings, token[2:].partition("=")[0]) is None:
            _setting(Parsed(None), token, (), None)  # not the sub-command's either: unknown, said as before
        _setting(parsed, token, command.settings, command)
    words_only = False
    for token in argv[i + 1:]:
        if words_only or not token.startswith("-") or token == "-":
            parsed.words.append(token)
        elif token == "--":
            words_only = True
        else:
            _setting(parsed, token, command.settings, command)
    if not parsed.globals["help"]:
        if len(parsed.words) < command.least:
            raise Usage(f"{name}: needs {command.words} (ansar {name} --help)")
        if len(parsed.words) > command.most:
            extra = parsed.words[command.most]
            raise Usage(f'{name}: unexpected word "{extra}" (ansar {name} --help)')
    return parsed


def _setting(parsed: Parsed, token: str, settings: Sequence[Setting], command: Optional[Command]) -> None:
    where = command.name if command else "before the sub-command"
    if not token.startswith("--"):
        for letter in token[1:]:  # short flags, possibly run together: -lf
            found = _lookup(GLOBALS, letter, True)
            target = parsed.globals
            if found is None:
                found = _lookup(settings, letter, True)
                target = parsed.settings
            if found is None:
                raise Usage(f'{where}: unknown flag "-{letter}"')
            target[found.name] = True
        return
    name, equals, value = token[2:].partition("=")
    given = value if equals else None
    found = _lookup(settings, name)  # first: a sub-command may give a global name its own meaning
    if found is not None:
        parsed.settings[name] = found.convert(given, where)
        return
    found = _lookup(GLOBALS, name)
    if found is not None:
        parsed.globals[name] = found.convert(given, where)
        return
    if command is not None and command.prefix and name.startswith(command.prefix) and name != command.prefix:
        if given is None:
            raise Usage(f'{where}: "--{name}" needs a value (--{name}=<path>)')
        parsed.prefixed[name[len(command.prefix):]] = given
        return
    if command is not None and command.passes and name:
        parsed.passed.append(token)
        return
    raise Usage(f'{where}: unknown setting "--{name}" ({"ansar " + command.name if command else "ansar"} --help)')


USAGE = "usage: ansar [--global=value ...] <sub-command> [--setting=value ...] [word ...]"


def top_help(commands: dict[str, Command]) -> str:
    lines = [USAGE, "", "Describe a group of processes in a home, on disk.", "", "global settings:"]
    lines += [s.describe() for s in GLOBALS]
    lines += ["", "sub-commands:"]
    lines += [f"  {c.name:<10} {c.text}" for c in commands.values()]
    lines += ["", "ansar <sub-command> --help describes one of them."]
    return "\n".join(lines)


def sub_help(command: Command) -> str:
    lines = [f"usage: ansar [--global=value ...] {command.name} {command.words} [--setting=value ...]",
             "", command.text, ""]
    lines.append("settings:")
    lines += [s.describe() for s in command.settings]
    if command.prefix:
        usage = f"--{command.prefix}<kind>=<PATH>"
        lines.append(f"  {usage:<32} str   (default none) keep the <kind> folder at PATH instead")
    if command.passes:
        lines.append(f"  --<name>=<value>{'':<16} any   {command.passes}")
    if not command.settings and not command.prefix and not command.passes:
        lines.append("  (none)")
    lines += ["", "global settings (before or after the sub-command):"]
    lines += [s.describe() for s in GLOBALS]
    return "\n".join(lines)
