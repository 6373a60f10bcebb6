"""``create_object``: one function becomes a program that runs as a tool or as a component."""

from __future__ import annotations

import _signal  # the signal module would load enum for its Signals: not worth it at start-up
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, NoReturn, Optional

from . import log as _log
from ._arguments import RUNTIME_FLAGS, UsageError, split_arguments
from .lifecycle import Aborted, Cannot, Completed, Faulted, Maybe, Nak, SelectTimer, Stop, TimedOut
from .log import USER_LOG
from .point import ROOT, Address, Threaded, _ids, _register

__all__ = ["command_variables", "create_object", "program_name"]

EXIT_USAGE = 2
_variables: Any = None
_program = ""


def command_variables() -> Any:
    """The program's variables: the factory variables with any ``--name=value`` applied."""
    return _variables


def program_name() -> str:
    return _program


class _Failure(Exception):
    def __init__(self, text: str, status: int) -> None:
        super().__init__(text)
        self.status = status


def _fail(text: str, status: int = EXIT_USAGE) -> NoReturn:
    raise _Failure(text, status)


# --- typed values ------------------------------------------------------------------------------


def _schema_of(value: Any) -> dict:
    from .codec import register_class

    cls = type(value)
    art = cls.__dict__.get("__art__")
    if art is None or art.schema is None:
        register_class(cls)
        art = cls.__dict__["__art__"]
    return art.schema or {}


def _apply(value: Any, given: dict[str, str], what: str) -> tuple[Any, dict[str, str]]:
    """Set the members of ``value`` named in ``given``; returns the value and what was not used."""
    if value is None or not given:
        return value, given
    from .codec import CodecError, parse_argument

    schema = _schema_of(value)
    changes = {}
    rest = {}
    for name, text in given.items():
        if name not in schema:
            rest[name] = text
            continue
        try:
            changes[name] = parse_argument(text, schema[name])
        except CodecError as e:
            _fail(f'{what} "--{name}": {e}')
    if changes:
        import msgspec

        if isinstance(value, msgspec.Struct):
            value = msgspec.structs.replace(value, **changes)
        else:
            for name, v in changes.items():
                setattr(value, name, v)
    return value, rest


def _read_typed(path: str, example: Any) -> Any:
    from .codec import CodecError, decode

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        _fail(f"cannot read {path} ({e.strerror})")
    try:
        return decode(data, type(example), source=path, strict=True)
    except CodecError as e:
        _fail(str(e))


def _read_stdin(example: Any) -> Any:
    """Input from a pipe or file on stdin; an empty, closed or terminal stdin means None."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return None
        data = sys.stdin.buffer.read()
    except (OSError, ValueError):
        return None
    if not data.strip():
        return None
    from .codec import CodecError, decode

    try:
        return decode(data, type(example), source="stdin", strict=True)
    except CodecError as e:
        _fail(str(e))


def _print_value(value: Any, example: Any) -> None:
    from .codec import encode

    if example is None:
        data = b'{\n    "value": null\n}'
    else:
        data = encode(value, type(example), pretty=True)
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.flush()


def _config_path(name: str) -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ansar", name, "settings.json")


def _help(name: str, settings: Any, variables: Any) -> str:
    lines = [f"usage: {name} [--<setting>=<value> ...]", ""]
    for title, value in (("settings", settings), ("variables", variables)):
        if value is None:
            continue
        lines.append(f"{title}:")
        for field, t in _schema_of(value).items():
            default = getattr(value, field, None)
            lines.append(f"  --{field}=<{repr(t).replace('()', '')}>  (default {default!r})")
        lines.append("")
    lines.append("runtime flags:")
    for flag, text in RUNTIME_FLAGS.items():
        if flag not in ("call-signature", "point-of-origin"):
            lines.append(f"  --{flag:<16} {text}")
    return "\n".join(lines)


# --- component mode -------------------------------------------------------------------------------


def _hold_role_lock(context: Any) -> int:
    """Take the role's lock for the life of the process and record our pid beside it.

    The lock is an flock on ``<lock folder>/<role>.lock``, the same lock ``filelock.FileLock``
    takes, so the ``ansar`` command can probe it with filelock; importing filelock here would
    cost more than the rest of a component's start.
    """

    lock_path = context.lock_path()
    os.makedirs(os.path.dirname(lock_path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        _fail(f"cannot open lock {lock_path} ({e.strerror})", 1)
    pid_path = context.pid_path()
    from ._role import take_lock

    if not take_lock(fd):
        os.close(fd)
        try:
            with open(pid_path) as f:
                pid = (f.read().split() or ["?"])[0]
        except OSError:
            pid = "?"
        _fail(f'role "{context.role_name}" already running as - {pid}', 1)
    # A plain write: the pid is a courtesy for messages (the lock is what counts) and goes stale
    # on a crash anyway, so it is not worth two fsyncs on every start.
    # The start time beside the pid: a reader never takes a later process that reused the pid for us.
    from ._ready import clear_ready
    from ._tree import start_ticks

    clear_ready(lock_path)  # before the pid: a role seen running is never ready from before
    pid = os.getpid()
    try:
        with open(pid_path, "w", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_TRUNC, 0o600)) as f:
            f.write(f"{pid} {start_ticks(pid)}\n")
    except OSError as e:  # a link planted in its place is never followed
        os.close(fd)
        _fail(f"cannot write lock record {pid_path} ({e.strerror})", 1)
    return fd


def _say_ready() -> None:
    """Tell the parent (ar.Process, ansar run or start) that a Stop is handled from now on."""
    fd = os.environ.pop("ANSAR_READY_FD", None)
    if fd is None:
        return
    try:
        # A byte, not only the close: a single-file executable's bootloader, which started this
        # interpreter, holds a copy of the descriptor for as long as it runs.
        os.write(int(fd), b"!")
        os.close(int(fd))
    except (OSError, ValueError):
        pass


def _die_with_parent() -> None:
    """Under ar.Process, end with the parent (Linux): a killed parent leaves no orphans."""
    expected = os.environ.pop("ANSAR_PARENT_PID", None)
    if expected is None or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, _signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    # The parent died before we could ask to follow it? Its pid is gone (our parent is now init, or
    # a subreaper; or, under a single-file executable's bootloader, the bootloader outlived it).
    try:
        os.kill(int(expected), 0)
    except ProcessLookupError:
        os._exit(1)
    except (PermissionError, ValueError):
        pass
    parent = os.getppid()
    from ._tree import parent_of

    if str(parent) != expected and parent_of(parent) != int(expected):
        # Adopted (by init or a subreaper) before PDEATHSIG was set; a bootloader between us and
        # the expected parent is its child.
        os._exit(1)


# --- running ---------------------------------------------------------------------------------------


def _positional(main: Callable, settings: Any, input: Any) -> tuple:
    code = getattr(main, "__code__", None)
    if code is None:
        return ()
    room = code.co_argcount - 1
    if code.co_flags & 0x04:  # *args
        room = 2
    return (settings, input)[: max(0, min(room, 2))]


class _Deadline:
    """Internal: the role's timeout property ran out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


def _arm_deadline(driver: Any, seconds: float) -> None:
    """The timeout property: a Stop for the main object after ``seconds``, and the kernel's
    last resort for a process that cannot take it (hung in C code holding the GIL): SIGALRM,
    whose default action ends the process, once the grace periods of a stop have passed too."""
    import threading

    timer = threading.Timer(seconds, lambda: driver._inbox.put((_Deadline(seconds), ROOT)))
    timer.daemon = True
    timer.start()
    _signal.setitimer(_signal.ITIMER_REAL, seconds + _HARD_GRACE)


_HARD_GRACE = 7.0  # seconds after a timeout before SIGALRM: the grace periods of a stop (5 + 2)


class _Driver(Threaded):
    """The main thread's object: starts the main object, retries it, and passes on Stop."""

    def __init__(self) -> None:
        Threaded.__init__(self, "start_vector")
        self.stops = 0
        self.timed_out = False
        self._poll = 0.1

    def run_main(self, main: Callable, args: tuple, retry: Any, timeout: Optional[float] = None) -> Any:
        """The main object's value, with retries under a retry property; past ``timeout``
        seconds the main object is stopped and the value is TimedOut."""
        if timeout is None:
            return self._attempts(main, args, retry)
        _arm_deadline(self, timeout)
        value = self._attempts(main, args, retry)
        return TimedOut(seconds=timeout) if self.timed_out else value

    def _attempts(self, main: Callable, args: tuple, retry: Any) -> Any:
        delays = None
        if retry is not None:
            from .retry import intervals

            delays = intervals(retry)
        while True:
            child = self.create(main, *args)
            value = self._wait(child)
            if delays is None:
                return value
            if self.stops:  # no more attempts after a Stop: an attempt hoping to retry was aborted
                return Aborted() if isinstance(value, Maybe) else value
            if isinstance(value, Maybe):
                delay = next(delays, None)
                if delay is None:
                    return Faulted(condition="no success after retries", explanation="retry property exhausted")
                self.console(f"Pausing for {delay:.6f} seconds")
                m = self.select(Stop, _Deadline, seconds=delay)
                if isinstance(m, SelectTimer):
                    continue
                self.timed_out = isinstance(m, _Deadline)
                return Aborted()
            return value

    def _wait(self, child: Address) -> Any:
        from .lifecycle import Signal

        while True:
            m = self.select(Completed, Stop, Signal, _Deadline)
            if isinstance(m, _Deadline):
                self.timed_out = True
                self.stops += 1
                self.console(f"Timed out after {m.seconds:g} seconds")
                self.send(Stop(), child)
                continue
            if isinstance(m, Stop):
                self.stops += 1
                self.send(Stop(), child)
                continue
            if isinstance(m, Signal):
                self.send(m, child)
                continue
            if self.return_address == child:
                return m.value


def result_document(value: Any) -> bytes:
    """The indented ``{"value": [type, body, []]}`` document a program prints as its result.

    A message with no fields (Ack, Aborted, ...) is written here directly: the same bytes the
    codec would produce, without loading msgspec, which would double a small program's run time.
    """
    art = type(value).__dict__.get("__art__")
    if art is not None and art._schema == {} and art._factory is None:
        return b'{\n    "value": [\n        "%s",\n        {},\n        []\n    ]\n}' % art.path.encode()
    from .codec import encode

    return encode(value, pretty=True)


def _exit_status(value: Any) -> int:
    if isinstance(value, bool):
        return 0 if value else 1
    if isinstance(value, int):
        return value if 0 <= value <= 255 else 1  # what an exit status can carry; others mean failure
    if isinstance(value, Faulted):
        return value.exit_code if value.exit_code else 1
    if isinstance(value, (Aborted, Cannot, Maybe, Nak, TimedOut)):
        return 1
    return 0


def create_object(
    main: Callable[..., Any],
    factory_settings: Any = None,
    factory_input: Any = None,
    factory_variables: Any = None,
    **unused: Any,
) -> NoReturn:
    """Run ``main`` as this program's main object and exit with its result.

    Settings and input are passed positionally as far as ``main``'s signature has room.
    """
    global _variables, _program
    name = os.path.basename(sys.argv[0]) or "program"
    if name.endswith(".py"):
        name = name[:-3]
    _program = name
    _signals.install(name)
    try:
        status = _create_object(name, main, factory_settings, factory_input, factory_variables)
    except _Failure as e:
        sys.stderr.write(f"{name}: {e}\n")
        status = e.status
        _execution.fail(str(e))
    except KeyboardInterrupt:
        status = 130
        _execution.close(result_document(Aborted()))
    finally:
        _stop_children()
    sys.stdout.flush()
    sys.exit(status)


def _stop_children(grace: float = 1.0) -> None:
    """Stop the child processes still running, if this program started any."""
    processing = sys.modules.get("ansar.create.processing")
    stop_all = getattr(processing, "stop_all", None)  # None while the module is still loading
    if stop_all is not None:
        stop_all(grace=grace)


class _Signals:
    """SIGINT and SIGTERM, from the moment create_object is called.

    The first is a Stop for the main object (held until there is one). A SIGTERM after that is
    a parent escalating: end now, quietly, with the child processes. A third signal means the
    program is not listening: end now, saying so.
    """

    def __init__(self) -> None:
        self.count = 0
        self.ending = False
        self.name = ""
        self.driver: Any = None

    def install(self, name: str) -> None:
        self.name = name
        _signal.signal(_signal.SIGINT, self)
        _signal.signal(_signal.SIGTERM, self)

    def install_others(self) -> None:
        """A component's SIGHUP, SIGUSR1 and SIGUSR2 become messages (a tool keeps the defaults:
        a hang-up of its terminal ends it)."""
        for signum in (_signal.SIGHUP, _signal.SIGUSR1, _signal.SIGUSR2):
            _signal.signal(signum, self.other)

    def other(self, signum: int, frame: Any) -> None:
        """SIGHUP, SIGUSR1, SIGUSR2: an ar.Signal for the main object (none before there is one)."""
        if self.driver is not None:
            from .lifecycle import Signal

            self.driver._inbox.put((Signal(signum), ROOT))

    def attach(self, driver: Any) -> None:
        self.driver = driver
        if self.count:
            driver._inbox.put((Stop(), ROOT))

    def __call__(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count > 1 and (signum == _signal.SIGTERM or self.count >= 3):
            if self.ending:
                return  # a signal while ending: the end is under way
            self.ending = True
            _stop_children(grace=0.0)
            if signum != _signal.SIGTERM:
                sys.stderr.write(f"{self.name}: ended by a third signal\n")
            stdio = getattr(_log._sink, "stdio", None)
            if stdio is not None:
                stdio.settle()  # what children wrote to the pipe, before there is no reader
            os._exit(130 if signum == _signal.SIGINT else 143)
        if self.driver is not None:
            self.driver._inbox.put((Stop(), ROOT))


_signals = _Signals()


def _create_object(name: str, main: Callable, settings: Any, input: Any, variables: Any) -> int:
    global _variables
    try:
        args = split_arguments(sys.argv[1:])
    except UsageError as e:
        _fail(str(e))
    flags = args.flags
    if args.words:
        _fail(f'unexpected word "{args.words[0]}" (settings are given as --<name>=<value>)')
    if "help" in flags:
        sys.stdout.write(_help(name, settings, variables) + "\n")
        return 0
    level = flags.get("debug-level")
    if level is not None:
        try:
            _log.set_log_level(USER_LOG.from_name(level))
        except ValueError as e:
            _fail(f"--debug-level: {e}")

    context = None
    home_path, role_name = flags.get("home-path"), flags.get("role-name")
    if home_path or role_name:
        if not (home_path and role_name):
            _fail("component mode needs both --home-path and --role-name")
        from ._role import HomeError, read_component

        try:
            context = read_component(home_path, role_name)
        except HomeError as e:
            _fail(str(e), 1)

    # Settings: a file named here, else the role's, else the tool's stored ones, else the factory's.
    settings_path = flags.get("settings-file")
    if settings_path is not None and settings is None:
        _fail("this program has no settings (--settings-file)")
    if settings_path is None and context is not None:
        settings_path = context.settings_path() if os.path.exists(context.settings_path()) else None
    elif settings_path is None and settings is not None and not {"store-settings", "factory-settings"} & set(flags):
        stored = _config_path(name)
        settings_path = stored if os.path.exists(stored) else None
    if settings_path is not None and settings is not None:
        loaded = _read_typed(settings_path, settings)
        settings = loaded if loaded is not None else settings
    settings, rest = _apply(settings, args.settings, "setting")
    variables, rest = _apply(variables, rest, "variable")
    if rest:
        known = sorted(_schema_of(settings)) if settings is not None else []
        expected = f" (expected one of: {', '.join(known)})" if known else " (this program has no settings)"
        _fail(f'unknown setting "--{next(iter(rest))}"{expected}')
    _variables = variables

    if "store-settings" in flags:
        if context is not None:
            _fail("--store-settings is for tools; change a role's settings with `ansar settings` or `ansar update`")
        if settings is None:
            _fail("this program has no settings to store")
        from ._atomic import write_atomic
        from .codec import encode

        path = _config_path(name)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        write_atomic(path, encode(settings, type(settings), pretty=True) + b"\n")
        sys.stderr.write(f"{name}: settings stored in {path}\n")
        return 0
    if "dump-settings" in flags:
        _print_value(settings, settings)
        return 0

    # Input: a file named here, else stdin, else the role's, else the factory's.
    if input is not None:
        input_path = flags.get("input-file")
        given = _read_typed(input_path, input) if input_path is not None else _read_stdin(input)
        if given is None and context is not None and os.path.exists(context.input_path()):
            given = _read_typed(context.input_path(), input)
        input = given if given is not None else input
    elif "input-file" in flags:
        _fail("this program takes no input")
    if "dump-input" in flags:
        _print_value(input, input)
        return 0

    _die_with_parent()
    retry = timeout = None
    _execution.holder = next(_ids)  # the lock holder's address (kept by tools too: same addresses)
    if context is not None:
        retry = _start_component(context, flags.get("point-of-origin"))
        timeout = getattr(context.role, "timeout", None)

    driver = _Driver()
    _register(driver, ROOT)
    _signals.attach(driver)
    if _log._level >= USER_LOG.TRACE:
        _describe_start(driver, main)
    _say_ready()
    value = driver.run_main(main, _positional(main, settings, input), retry, timeout)

    if isinstance(value, Faulted):
        sys.stderr.write(f"{name}: {value}\n")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        _execution.close(None)
        return _exit_status(value)
    try:
        data = result_document(value)
    except Exception as e:  # CodecError, or a value of no known type
        _fail(f"cannot encode the result ({e})", 1)
    _execution.close(data)
    if not _execution.quiet:
        sys.stdout.buffer.write(data + b"\n")
    return _exit_status(value)


# Where a component was started from (--point-of-origin): by hand, by ``ansar run``, by ``ansar start``.
ORIGIN_RUN = "1"
ORIGIN_START = "2"
ORIGIN_KEEP = "3"  # ansar run --keep-logs: stderr as under run, and log storage at every level


def _start_component(context: Any, origin: Optional[str]) -> Any:
    """Take the role's lock and set up its world: log storage when started in the background,
    the history record, the role's folders (tmp emptied). Returns the retry property."""
    _execution.lock = _hold_role_lock(context)  # held until the process ends
    _signals.install_others()
    if origin == ORIGIN_START:
        from ._logstore import open_storage

        try:
            _log.set_sink(open_storage(context.logs_path(), context.role.storage, stdio=True))
        except OSError as e:
            _fail(f"cannot keep logs in {context.logs_path()} ({e.strerror})", 1)
        _log.set_log_level(USER_LOG.DEBUG)  # in storage, every record is kept
        _execution.quiet = True  # nobody reads the result on stdout: it is in the history
    elif origin == ORIGIN_KEEP:
        from ._logstore import open_storage

        try:
            storage = open_storage(context.logs_path(), context.role.storage)
        except OSError as e:
            _fail(f"cannot keep logs in {context.logs_path()} ({e.strerror})", 1)
        _log.set_sink(_Both(_log.set_sink(storage), _log.log_level(), storage))
        _log.set_log_level(USER_LOG.DEBUG)
    _execution.open(context)  # first: the execution's records (ansar log --start=N) begin after its start
    if _log._level >= USER_LOG.OBJECT:
        _log.write(USER_LOG.OBJECT, "+", _execution.holder, "lock_and_hold", f"Created by {ROOT!r}")
        _log.write(USER_LOG.OBJECT, ">", _execution.holder, "lock_and_hold", f"Sent Ready to {ROOT!r}")
    from ._context import set_context
    from ._role import empty_folder
    from .storage import set_folders

    set_context(context)
    empty_folder(context.tmp_path())
    set_folders(context.model_path(), context.resource_path(), context.tmp_path())
    return context.role.retry if context.role is not None else None


class _Both:
    """Every record to log storage; those up to ``level`` to the terminal's sink as well."""

    def __init__(self, terminal: Any, level: int, storage: Any) -> None:
        self.terminal = terminal
        self.level = level
        self.storage = storage

    def write(self, record: Any) -> None:
        self.storage.write(record)
        if record.level <= self.level:
            self.terminal.write(record)


def _describe_start(driver: Any, main: Callable) -> None:
    path = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else sys.executable
    driver.trace(f'Executable "{path}" as process ({os.getpid()})')
    driver.trace(f'Working folder "{os.getcwd()}"')
    module = getattr(main, "__module__", None) or "__main__"
    driver.trace(f'Running object "{module}.{getattr(main, "__qualname__", main)}"')


class _Execution:
    """This component's entry in the role's history: opened once it holds the lock, closed with
    its value as it ends (a failure after the lock is recorded as a Faulted)."""

    def __init__(self) -> None:
        self.context: Any = None
        self.lock = -1
        self.holder = 0
        self.quiet = False  # started in the background: the value goes to history only

    def open(self, context: Any) -> None:
        import time

        from ._history import open_execution

        open_execution(context, os.getpid(), time.time(), getattr(context.role, "timeout", None))
        self.context = context

    def close(self, document: Optional[bytes]) -> None:
        """Record the end with the value of ``document`` (the printed result), if still open."""
        context, self.context = self.context, None
        if context is None:
            return
        import json
        import time

        from ._history import close_execution

        value = json.loads(document).get("value") if document else None
        close_execution(context, os.getpid(), time.time(), value)
        if _log._level >= USER_LOG.OBJECT:
            _log.write(USER_LOG.OBJECT, "<", self.holder, "lock_and_hold", f"Received Stop from {ROOT!r}")
            _log.write(USER_LOG.OBJECT, "X", self.holder, "lock_and_hold", "Destroyed")

    def fail(self, text: str) -> None:
        if self.context is not None:
            self.close(result_document(Faulted(condition=text)))


_execution = _Execution()
