"""Objects and messages: addresses, sending, select, children, timers and dispatch.

Function objects run on a thread each and block in ``select``; the thread of an ended object
waits a while to run the next one. Class-based objects
(``Point`` with ``Stateless`` or ``StateMachine``) have no thread of their own: their messages
are dispatched on a small set of shared threads, so thousands can live at once.
"""

from __future__ import annotations

import itertools
import sys
import threading
from _queue import Empty, SimpleQueue
from collections import deque
from functools import partial

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional

from . import log as _log
from .lifecycle import Completed, Faulted, SelectTimer, Start, Stop
from .log import USER_LOG
from .timer import timers

__all__ = [
    "Address", "AutoStop", "Point", "StateMachine", "Stateless", "bind_function", "bind_point", "halt",
    "send",
]


class Address(int):
    """Where messages go. Compares equal to the value ``create`` returned; hashable."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{int(self):08x}>"

    __str__ = __repr__


ROOT = Address(1)
TIMER = Address(3)
TESTS = Address(4)

_ids = itertools.count(7)
_objects: dict[int, "Point"] = {}
_objects_lock = threading.Lock()
_OBJECT = USER_LOG.OBJECT  # a module constant: read on every send and select
_timers = timers()


def _message_name(m: Any) -> str:
    return type(m).__name__


def send(message: Any, to: int, sender: int = ROOT) -> None:
    """Deliver ``message`` to the object at ``to``. A gone object is noted in the trace log."""
    if type(sender) is not Address:  # what arrives carries an Address, so select need not convert
        sender = Address(sender)
    target = _objects.get(to)
    if target is None:
        if _log._level >= USER_LOG.TRACE:
            text = f"Dropped {_message_name(message)} to {Address(to)!r} (gone)"
            _log.write(USER_LOG.TRACE, "~", sender, "runtime", text)
        return
    target._deliver(message, sender)


def halt(address: int) -> None:
    """Mark the object at ``address`` as halted; its ``self.halted`` becomes true."""
    target = _objects.get(address)
    if target is not None:
        target._halted = True


class Point:
    """The base of every object: sending, logging, tests, children and timers."""

    _put: Optional[Callable[[tuple], None]] = None  # a Threaded object's inbox.put, called directly

    def __init__(self) -> None:
        self.address: Address = Address(0)
        self.parent_address: Address = ROOT
        self.return_address: Optional[Address] = None
        self._children: dict[int, Any] = {}
        self._debrief: Any = None
        self._halted = False
        self._ended = False

    # --- identity and logging -------------------------------------------------------------
    @property
    def object_name(self) -> str:
        """The name in log lines: the class, with the state of a machine (``Process[INITIAL]``)."""
        name = type(self).__name__
        state = getattr(self, "current_state", None)
        return f"{name}[{state.__name__}]" if state is not None and hasattr(state, "__name__") else name

    def _log(self, level: int, marker: str, text: str) -> None:
        if level <= _log._level:
            _log.write(level, marker, self.address, self.object_name, text)

    def console(self, text: str) -> None:
        self._log(USER_LOG.CONSOLE, "^", text)

    def trace(self, text: str) -> None:
        self._log(USER_LOG.TRACE, "~", text)

    def debug(self, text: str) -> None:
        self._log(USER_LOG.DEBUG, "_", text)

    def warning(self, text: str) -> None:
        self._log(USER_LOG.WARNING, "?", text)

    def fault(self, text: str) -> None:
        self._log(USER_LOG.FAULT, "?", text)

    def test(self, condition: Any, text: str) -> bool:
        """Record a test result with its source line; a false one is logged with ``=``."""
        from .test import record_test

        frame = sys._getframe(1)
        return record_test(self, bool(condition), text, frame.f_code.co_filename, frame.f_lineno)

    # --- messages -------------------------------------------------------------------------
    def send(self, message: Any, address: int) -> None:
        # The hot path: the module's send() inlined, and nothing between the lookup and the put
        # that a woken receiver would wait on.
        target = _objects.get(address)
        if target is None or _log._level >= _OBJECT:
            self._send_logged(message, address)
        elif target._put is not None:
            target._put((message, self.address))
        else:
            target._deliver(message, self.address)

    def _send_logged(self, message: Any, address: int) -> None:
        if _log._level >= _OBJECT:
            self._log(_OBJECT, ">", f"Sent {_message_name(message)} to {Address(address)!r}")
        send(message, address, self.address)

    def reply(self, message: Any) -> None:
        """Send ``message`` to the sender of the last message received."""
        address = self.return_address
        if address is None:
            raise RuntimeError("reply with no message received")
        target = _objects.get(address)
        if target is None or _log._level >= _OBJECT:
            self._send_logged(message, address)
        elif target._put is not None:
            target._put((message, self.address))
        else:
            target._deliver(message, self.address)

    @property
    def halted(self) -> bool:
        return self._halted

    def halt(self, address: int) -> None:
        halt(address)

    # --- dispatch of class-based objects (Threaded overrides delivery) --------------------------
    def _deliver(self, message: Any, sender: int) -> None:
        self._queue_put((self, message, sender))  # the shared dispatcher thread chosen at create

    def _dispatch(self, message: Any, sender: int) -> None:
        table: _Dispatch = type(self).__dispatch__  # type: ignore[attr-defined]
        machine = table.machine
        state = getattr(self, "current_state", None) if machine else None
        t = type(message)
        fn = table.find(state, t)
        if fn is None:
            if any(issubclass(t, s) for s in table.saved.get(state, ())):
                self._saved_messages.append((message, sender))
                return
            fn = table.unknown.get(state)
            if fn is None:
                self._received(message, sender)
                where = f" in {state.__name__}" if machine and state is not None else ""
                self.warning(f"Unexpected {t.__name__}{where} from {Address(sender)!r} (ignored)")
                return
        self._received(message, sender)
        try:
            result = fn(self, message)
        except BaseException as e:  # SystemExit too: the shared thread must survive any handler
            self._end(fault_from_exception(self, e))
            return
        if machine and not self._ended and result is not None and result is not state:
            self.current_state = result
            self._replay_saved()

    def _replay_saved(self) -> None:
        saved = self._saved_messages
        if not saved:
            return
        pending = list(saved)
        saved.clear()
        for message, sender in pending:
            if self._ended:
                return
            self._dispatch(message, sender)

    def complete(self, value: Any = None) -> None:
        """End this object; ``value`` goes to the parent as ``Completed.value``."""
        self._end(value)

    # --- children -------------------------------------------------------------------------
    def create(self, target: Any, *args: Any, **kw: Any) -> Address:
        """Start an object (a function or a Point class) as a child; returns its address."""
        return _create(self.address, target, args, kw)

    def assign(self, address: int, context: Any) -> None:
        """Remember ``context`` for a child until its Completed is received."""
        self._children[address] = context

    def debrief(self) -> Any:
        """The context of the child whose Completed was received last."""
        return self._debrief

    def working(self) -> bool:
        """True while any assigned child runs."""
        return bool(self._children)

    def running(self) -> Iterator[tuple[Any, Address]]:
        """``(context, address)`` of every assigned child still running."""
        return iter([(c, Address(a)) for a, c in self._children.items()])

    def _received(self, message: Any, sender: Address) -> None:
        self.return_address = sender
        if type(message) is Completed and sender in self._children:
            self._debrief = self._children.pop(sender)
        if _log._level >= _OBJECT:
            self._log(_OBJECT, "<", f"Received {_message_name(message)} from {sender!r}")

    # --- timers ---------------------------------------------------------------------------
    def start(self, timer: type, seconds: float, repeating: bool = False) -> None:
        """After ``seconds``, send an instance of ``timer`` (e.g. ``ar.T1``) to this object."""
        address = self.address
        timers().start((address, timer), seconds, lambda: send(timer(), address, TIMER), repeating)

    def cancel(self, timer: type) -> None:
        timers().cancel((self.address, timer))

    # --- ending ---------------------------------------------------------------------------
    def _end(self, value: Any) -> None:
        if self._ended:
            return
        self._ended = True
        address = self.address
        _timers.cancel_all(address)
        with _objects_lock:
            _objects.pop(address, None)
        if _log._level >= _OBJECT:
            self._log(_OBJECT, "X", "Destroyed")
        send(Completed(value=value), self.parent_address, address)


# --- function objects ----------------------------------------------------------------------------


class Threaded(Point):
    """An object with its own thread and inbox: function objects and channels."""

    def __init__(self, name: str = "channel") -> None:
        Point.__init__(self)
        self._name = name
        self._inbox: SimpleQueue = SimpleQueue()
        self._put = self._inbox.put
        self._get = self._inbox.get
        self._saved: deque = deque()
        # The main thread waits in slices: a signal landing just before a wait with no timeout
        # would leave its Python handler unrun until some message arrived.
        self._poll: Optional[float] = None

    @property
    def object_name(self) -> str:
        return self._name

    def _deliver(self, message: Any, sender: int) -> None:
        self._inbox.put((message, sender))

    def select(self, *types: type, seconds: Optional[float] = None) -> Any:
        """Wait for the next message of one of ``types`` (any message when none are given).

        Other messages are kept, in order, for a later select. With ``seconds``, an
        ``ar.SelectTimer`` is returned when that time passes first.
        """
        if seconds is None and self._poll is None and not self._saved:
            # The hot path: nothing kept, no time limit, so the next message is likely the one.
            message, sender = self._get()
            t = type(message)
            if t is not SelectTimer and (not types or isinstance(message, types)):
                if t is Completed or _log._level >= _OBJECT:
                    self._received(message, sender)
                else:
                    self.return_address = sender
                return message
            return self._select(types, None, (message, sender))
        return self._select(types, seconds, None)

    def _select(self, types: tuple, seconds: Optional[float], first: Optional[tuple]) -> Any:
        saved = self._saved
        if saved:
            for i, (message, sender) in enumerate(saved):
                if not types or isinstance(message, types):
                    del saved[i]
                    self._received(message, sender)
                    return message
        token = None
        if seconds is not None:
            token = SelectTimer()
            address = self.address
            timers().start((address, SelectTimer), seconds, lambda: send(token, address, TIMER))
        get = self._inbox.get
        poll = self._poll
        try:
            while True:
                if first is not None:
                    (message, sender), first = first, None
                elif poll is None:
                    message, sender = get()
                else:
                    try:
                        message, sender = get(timeout=poll)
                    except Empty:
                        continue  # back to the interpreter, where a pending signal handler runs

                if type(message) is SelectTimer and sender == TIMER:
                    if message is token:
                        self._received(message, sender)
                        token = None
                        return message
                    continue  # left over from an earlier select
                if not types or isinstance(message, types):
                    self._received(message, sender)
                    return message
                saved.append((message, sender))
        finally:
            if token is not None:
                timers().cancel((self.address, SelectTimer))

    def _run_object(self) -> None:
        """The body of a class derived from Threaded; its return value is its result."""
        try:
            value = self.run()
        except BaseException as e:
            value = fault_from_exception(self, e)
        self._end(value)

    def run(self) -> Any:
        raise NotImplementedError

class FunctionObject(Threaded):
    def __init__(self, function: Callable[..., Any]) -> None:
        Threaded.__init__(self, getattr(function, "__name__", "function"))
        self._function = function

    def _run(self, args: tuple, kw: dict) -> None:
        try:
            value = self._function(self, *args, **kw)
        except BaseException as e:  # an escaping exception ends the object, never the process
            value = fault_from_exception(self, e)
        self._end(value)


def fault_from_exception(point: Point, e: BaseException) -> Faulted:
    condition = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    point.fault(f"Exception - {condition}")
    if _log._level >= USER_LOG.DEBUG:  # where it was raised, for the developer
        import traceback

        for line in "".join(traceback.format_exception(type(e), e, e.__traceback__)).splitlines():
            point.debug(line)
    return Faulted(condition=condition, explanation=f'unhandled in "{point.object_name}"')


# --- class-based objects ------------------------------------------------------------------------


class _Dispatch:
    """What ``bind(Class, dispatch)`` recorded: handlers resolved on first use."""

    __slots__ = ("machine", "dispatch", "handlers", "saved", "unknown", "resolved")

    def __init__(self, machine: bool, dispatch: Any) -> None:
        self.machine = machine
        self.dispatch = dispatch
        self.handlers: dict = {}
        self.saved: dict = {}
        self.unknown: dict = {}
        self.resolved = False

    def resolve(self, cls: type) -> None:
        module = sys.modules.get(cls.__module__)
        space = vars(module) if module is not None else {}
        prefix = cls.__name__
        if not self.machine:
            for t in self.dispatch or ():
                fn = space.get(f"{prefix}_{t.__name__}")
                if fn is not None:
                    self.handlers[(None, t)] = fn
            self.unknown[None] = space.get(f"{prefix}_Unknown")
        else:
            for state, entry in (self.dispatch or {}).items():
                handled, saved = (entry, ()) if isinstance(entry, type) else _pair(entry)
                for t in handled:
                    fn = space.get(f"{prefix}_{state.__name__}_{t.__name__}")
                    if fn is not None:
                        self.handlers[(state, t)] = fn
                self.saved[state] = tuple(saved)
                self.unknown[state] = space.get(f"{prefix}_{state.__name__}_Unknown") or space.get(
                    f"{prefix}_Unknown"
                )
        self.resolved = True

    def find(self, state: Any, t: type) -> Optional[Callable]:
        handlers = self.handlers
        fn = handlers.get((state, t))
        if fn is None:
            for base in t.__mro__[1:]:
                fn = handlers.get((state, base))
                if fn is not None:
                    handlers[(state, t)] = fn
                    break
        return fn


def _pair(entry: Any) -> tuple[tuple, tuple]:
    entry = tuple(entry)
    if len(entry) == 2 and all(isinstance(e, (tuple, list)) for e in entry):
        return tuple(entry[0]), tuple(entry[1])
    return entry, ()


class Stateless:
    """Mix-in for class-based objects whose handler is chosen by message type alone."""

    def __init__(self) -> None:
        pass


class StateMachine:
    """Mix-in for class-based objects whose handler is chosen by state and message type."""

    def __init__(self, initial: Any) -> None:
        self.current_state = initial


class _Dispatcher:
    """A shared thread running the handlers of many class-based objects, one message at a time."""

    def __init__(self, index: int) -> None:
        self.queue: SimpleQueue = SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"ansar-class-{index}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        get = self.queue.get
        while True:
            point, message, sender = get()
            if not point._ended:
                point._dispatch(message, sender)


_dispatchers: list[_Dispatcher] = []
_dispatchers_lock = threading.Lock()
CLASS_THREADS = 1


def _next_dispatcher(n: int) -> _Dispatcher:
    with _dispatchers_lock:
        if len(_dispatchers) < CLASS_THREADS:
            _dispatchers.append(_Dispatcher(len(_dispatchers)))
        return _dispatchers[n % len(_dispatchers)]


def bind_point(cls: type, dispatch: Any = None) -> type:
    """Register a class-based object and its dispatch table."""
    machine = issubclass(cls, StateMachine)
    cls.__dispatch__ = _Dispatch(machine, dispatch)  # type: ignore[attr-defined]
    if "__art__" not in cls.__dict__:
        from ._registry import Art, type_name

        cls.__art__ = Art(cls.__name__, type_name(cls), {})  # type: ignore[attr-defined]
    return cls


def bind_function(function: Callable) -> Callable:
    from ._registry import Art

    function.__ansar_function__ = True  # type: ignore[attr-defined]
    function.__art__ = Art(function.__name__, f"{function.__module__}.{function.__qualname__}", {})  # type: ignore[attr-defined]
    return function


# --- threads of function objects -------------------------------------------------------------------
# A thread whose object ended waits a while for the next object to run instead of ending: a
# thread's end costs far more than its Python work, and when hundreds of objects end at once
# (their timers fell due together) those ends queue for the interpreter lock ahead of the objects
# still waiting to run. Reuse also makes creating a function object cheaper than starting a thread.

IDLE_SECONDS = 30.0  # how long an idle thread waits for another object before it ends
MAX_IDLE = 1024  # idle threads beyond this end at once
_jobs: SimpleQueue = SimpleQueue()  # (run, name) for an idle thread
_idle = 0  # threads waiting on _jobs, less the jobs already put for them (guarded by _idle_lock)
_idle_lock = threading.Lock()


def _spawn(run: Callable[[], None], name: str) -> None:
    """Call ``run`` on a thread of its own: an idle one if there is one, else a new one."""
    global _idle
    with _idle_lock:
        if _idle:
            _idle -= 1
            _jobs.put((run, name))  # under the lock, so a thread timing out cannot miss it
            return
    threading.Thread(target=_worker, args=(run,), name=name, daemon=True).start()


def _worker(run: Optional[Callable[[], None]]) -> None:
    global _idle
    thread = threading.current_thread()
    while run is not None:
        run()
        run = None  # nothing of the ended object stays reachable from an idle thread
        thread.name = "ansar-idle"
        with _idle_lock:
            if _idle >= MAX_IDLE:
                return
            _idle += 1
        try:
            run, thread.name = _jobs.get(timeout=IDLE_SECONDS)
        except Empty:
            with _idle_lock:
                try:
                    run, thread.name = _jobs.get_nowait()  # put for this thread as it timed out
                except Empty:
                    _idle -= 1


# --- creation -------------------------------------------------------------------------------------


def _register(point: Point, parent: int) -> Address:
    address = Address(next(_ids))
    point.address = address
    point.parent_address = Address(parent)
    with _objects_lock:
        _objects[address] = point
    if _log._level >= USER_LOG.OBJECT:
        point._log(USER_LOG.OBJECT, "+", f"Created by {Address(parent)!r}")
    return address


_class_count = itertools.count()


def _create(parent: int, target: Any, args: tuple, kw: dict) -> Address:
    if isinstance(target, type) and issubclass(target, Point):
        cls = target
        if "__dispatch__" not in cls.__dict__:
            bind_point(cls, getattr(cls, "__dispatch__", None) and cls.__dispatch__.dispatch)
        point = cls(*args, **kw)
        if not hasattr(point, "_children"):
            Point.__init__(point)
        if isinstance(point, Threaded):
            address = _register(point, parent)
            _spawn(point._run_object, point.object_name)
            return address
        table = cls.__dispatch__  # type: ignore[attr-defined]
        if not table.resolved:
            table.resolve(cls)
        point._saved_messages = []  # type: ignore[attr-defined]
        point._queue_put = _next_dispatcher(next(_class_count)).queue.put  # type: ignore[attr-defined]
        address = _register(point, parent)
        point._deliver(Start(), parent)
        return address
    if callable(target):
        obj = FunctionObject(target)
        address = _register(obj, parent)
        _spawn(partial(obj._run, args, kw), obj.object_name)
        return address
    raise TypeError(f"cannot create {target!r}: not a function or a Point class")


class AutoStop:
    """``with ar.AutoStop(self):`` stops every assigned child on exit and waits for them."""

    def __init__(self, point: Threaded) -> None:
        self.point = point

    def __enter__(self) -> Threaded:
        return self.point

    def __exit__(self, *exc: Any) -> None:
        point = self.point
        for _, address in point.running():
            point.send(Stop(), address)
        while point.working():
            point.select(Completed)

