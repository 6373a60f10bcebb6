"""``ansar``: the command that describes a group of processes in a home.

``main(argv)`` parses, runs one sub-command and returns the exit status: 0 done, 1 refused or
failed, 2 a mistake in the command line or a value. Every failure is one line on stderr starting
``ansar:``. Sub-command modules are imported only when chosen, to keep start-up quick.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from ._args import HOME_PATH, INVERT, LEVELS, PERIODS, Command, Setting, Usage, parse, sub_help, top_help

__all__ = ["COMMANDS", "main"]

SET_FILE = Setting("set-file", str, None, "replace the value with the one in this file (- for stdin)")
ENCODING_FILE = Setting("encoding-file", str, None, "the same as --set-file")
_PASSED = "a setting of the executable, checked by it and stored for the role"

COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("create", "[home-path]", "create a home (default .ansar-home here)",
                [HOME_PATH], most=1, prefix="redirect-"),
        Command("add", "<executable> [role-template] [home-path] | --command=<line> [role-template] [home-path]",
                "add roles running an executable of the home's bin, named by a template over "
                "{executable} and {number}; or roles running a shell command line (default command-{number})",
                [Setting("start", int, 0, "the first {number}"),
                 Setting("count", int, 1, "how many roles to add, numbered from --start"),
                 Setting("command", str, None, "a command role: this line runs as /bin/sh -c <line> (or "
                         "directly when it is only plain words), its stdout and stderr lines the role's records"),
                 HOME_PATH], most=3, passes=_PASSED),
        Command("list", "[search]", "list roles, sorted; a search is a regular expression matched "
                "against whole role names",
                [Setting("long-listing", bool, False, "add executable, settings and properties", short="l"),
                 INVERT, HOME_PATH], most=1),
        Command("update", "<search> --<setting>=<value> ...", "change settings of every matching role",
                [Setting("command", str, None, "the new line of matching command roles"),
                 INVERT, HOME_PATH], least=1, most=1, passes=_PASSED),
        Command("delete", "<search>", "remove every matching role and everything kept for it",
                [INVERT, HOME_PATH], least=1, most=1),
        Command("destroy", "[home-path]", "remove a home and everything kept in it",
                [HOME_PATH], most=1),
        Command("settings", "<role>", "print the settings of a role, or replace them",
                [SET_FILE, ENCODING_FILE, HOME_PATH], least=1, most=1),
        Command("input", "<role>", "print the input of a role, or replace it",
                [SET_FILE, ENCODING_FILE, HOME_PATH], least=1, most=1),
        Command("get", "<property> <role>",
                "print a property of a role (after, exclusive, ready, retry, storage, timeout)",
                [HOME_PATH], least=2, most=2),
        Command("set", "<property> <search>", "set a property of every matching role from a file",
                [ENCODING_FILE, SET_FILE, INVERT, HOME_PATH], least=2, most=2),
        Command("edit", "<settings|input|property> <role>",
                "edit a value of a role with $EDITOR; it is stored only if it is still valid",
                [HOME_PATH], least=2, most=2),
        Command("run", "[search]", "run every matching role in the foreground, wait for all to end and "
                "print their values",
                [Setting("debug-level", str, None, "the roles' logging on stderr, up to this level",
                         values=LEVELS),
                 Setting("code-path", str, None, "resolve each failed test's source file under this folder"),
                 Setting("test-run", bool, False, "print a table of test results instead of the values"),
                 Setting("test-analyzer", str, None, "give the test reports to this executable (found as roles' "
                         "are); its value and exit status are the run's"),
                 Setting("junit-xml", str, None, "also write the test reports to this file as JUnit XML"),
                 Setting("jobs", int, None, "at most this many roles at once, the rest queued in name order"),
                 Setting("fail-fast", bool, False, "stop the other roles once one fails (Faulted, Aborted, "
                         "TimedOut or a failed test)"),
                 Setting("failed", bool, False, "only the matched roles whose latest execution failed"),
                 Setting("keep-logs", bool, False, "also keep each role's records in its log storage, at every "
                         "level (ansar log)"),
                 Setting("no-deps", bool, False, "refuse instead of starting roles the matched ones are after "
                         "(property after) in the background"),
                 INVERT, HOME_PATH], most=1),
        Command("start", "[search]", "start every matching role in the background and return",
                [Setting("restore", bool, False, "only the matched roles whose latest execution was lost "
                         "(killed, or the machine stopped)"),
                 Setting("no-deps", bool, False, "refuse instead of also starting roles the matched ones are after "
                         "(property after)"),
                 INVERT, HOME_PATH], most=1),
        Command("stop", "[search]", "stop every matching role that runs, with its whole process tree",
                [INVERT, HOME_PATH], most=1),
        Command("status", "[search]", "list the matching roles that run, sorted",
                [Setting("long-listing", bool, False, "add the process id and the time it has run", short="l"),
                 INVERT, HOME_PATH], most=1),
        Command("pause", "[search]", "pause every process of each matching running role (SIGSTOP)",
                [INVERT, HOME_PATH], most=1),
        Command("resume", "[search]", "continue every process of each matching paused role (SIGCONT)",
                [INVERT, HOME_PATH], most=1),
        Command("signal", "[search] --signal=<name|number>", "send a signal to each matching running role",
                [Setting("signal", str, None, "the signal: a name (HUP, SIGUSR1) or a number"),
                 Setting("tree", bool, False, "to every process of the role's tree, not only the role's own"),
                 INVERT, HOME_PATH], most=1),
        Command("attach", "[search]", "follow started roles as if they were a run: their new records on stderr, "
                "their values printed once they end; Ctrl-C stops them",
                [INVERT, HOME_PATH], most=1),
        Command("log", "<role> [home-path]", "print the stored log records of a role (default: the last "
                "five minutes)",
                [Setting("clock", bool, False, "local time for the times given and printed"),
                 Setting("last", str, None, "begin at the start of the current period", values=PERIODS),
                 Setting("back", str, None, "begin this long ago (10s, 2m30.5s, 1h, 1d)"),
                 Setting("from", str, None, "begin at this ISO 8601 time"),
                 Setting("start", int, None, "begin at this execution (ansar history; negatives from the end)"),
                 Setting("to", str, None, "end at this ISO 8601 time"),
                 Setting("span", str, None, "end this long after the beginning"),
                 Setting("count", int, None, "end after this many records"),
                 Setting("follow", bool, False, "then print new records as they come, until Ctrl-C"),
                 HOME_PATH], least=1, most=2),
        Command("history", "<role> [home-path]", "list the executions of a role: start, run time and value",
                [HOME_PATH], least=1, most=2),
        Command("returned", "<role> [home-path]", "print the value an execution of a role returned (default: "
                "the latest, waited for while it runs)",
                [Setting("start", int, None, "the execution (ansar history; negatives from the end)"),
                 Setting("timeout", str, None, "give up waiting after this many seconds"),
                 HOME_PATH], least=1, most=2),
        Command("folder", "<kind> [role]", "print where a role keeps its model, resource, tmp, logs, bin, "
                "settings, input, history, lock or role (its record)",
                [HOME_PATH], least=1, most=2),
        # snapshot and deploy (ansar/command/_deploy.py)
        Command("snapshot", "<folder> [home-path]", "copy the settings, input, models and resources of every "
                "role into a folder to edit (-f: stop running roles for the copy, replace the folder)",
                [HOME_PATH], least=1, most=2),
        Command("deploy", "[build-path] [storage-path] [home-path]", "bring changed executables of a build "
                "and files of a snapshot into the home (-f: stop the affected roles that run, start them after)",
                [Setting("build-path", str, None, "the folder of executables to deploy to the home's bin"),
                 Setting("storage-path", str, None, "the snapshot to deploy (as ansar snapshot writes it)"),
                 HOME_PATH], most=3),
    )
}

_WHERE = {
    "create": "_crud", "add": "_crud", "list": "_list", "update": "_crud", "delete": "_crud",
    "destroy": "_crud", "settings": "_values", "input": "_values", "get": "_values",
    "set": "_values", "edit": "_values", "folder": "_values",
    "pause": "_signal", "resume": "_signal", "signal": "_signal", "attach": "_attach",
    "run": "_run", "start": "_running", "stop": "_running", "status": "_running",
    "log": "_log", "history": "_history", "returned": "_history",
    "snapshot": "_deploy", "deploy": "_deploy",
}


def _fail(text: str, status: int) -> int:
    from ._args import one_line

    sys.stderr.write(f"ansar: {one_line(text)}\n")
    sys.stderr.flush()
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one ``ansar`` command line (``sys.argv[1:]`` by default); return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        parsed = parse(arguments, COMMANDS)
    except Usage as e:
        return _fail(str(e), 2)
    command = parsed.command
    if command is None:
        if parsed.globals["help"]:
            sys.stdout.write(top_help(COMMANDS) + "\n")
            return 0
        return _fail("no sub-command given (ansar --help lists them)", 2)
    if parsed.globals["help"]:
        sys.stdout.write(sub_help(command) + "\n")
        return 0

    import importlib

    from ansar.home import BadValue, HomeError

    module = importlib.import_module(f"ansar.command.{_WHERE[command.name]}")
    function = getattr(module, "run_" + command.name)
    try:
        return function(parsed)
    except Usage as e:
        return _fail(str(e), 2)
    except BadValue as e:
        return _fail(str(e), 2)
    except HomeError as e:
        return _fail(str(e), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # ansar list | head
        return 0


if __name__ == "__main__":
    sys.exit(main())
