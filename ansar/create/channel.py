"""``ar.OpenChannel``: an address for a plain script, without ``create_object``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from .point import ROOT, Threaded, _ids, _objects, _objects_lock, _register

__all__ = ["OpenChannel"]


class Channel(Threaded):
    """The channel's object: remembers every child it creates, to stop them when it closes."""

    def __init__(self, name: str) -> None:
        Threaded.__init__(self, name)
        self._created: list = []

    def create(self, target: Any, *args: Any, **kw: Any) -> Any:
        address = Threaded.create(self, target, *args, **kw)
        self._created.append(address)
        return address


class OpenChannel:
    """``with ar.OpenChannel() as channel:`` gives the calling thread an address of its own.

    The channel creates objects (``ar.Process`` included), sends and selects like a function
    object. On exit, even by an exception such as KeyboardInterrupt, every child it created that
    still runs is sent ``ar.Stop``, and its ``ar.Process`` children and assigned children are
    waited for; then the channel stops being an address.
    """

    def __init__(self, name: str = "channel", *, as_program: bool = False) -> None:
        self.point = Channel(name)
        self.as_program = as_program

    def __enter__(self) -> Threaded:
        if self.as_program:  # the address a program's main object has (after its lock holder and driver)
            next(_ids)
            next(_ids)
        _register(self.point, ROOT)
        return self.point

    def __exit__(self, *exc: Any) -> None:
        from .lifecycle import Completed, Stop

        point = self.point
        live = {a for a in point._created if a in _objects}
        for address in live:
            point.send(Stop(), address)
        # Wait for the children that must end (processes and assigned children); an object that
        # ignores Stop cannot be waited for, and takes nothing with it when the program ends.
        live = {a for a in live if a in point._children or type(_objects.get(a)).__name__ == "Process"}
        while live:
            point.select(Completed)
            live.discard(point.return_address)
            live = {a for a in live if a in _objects}
        with _objects_lock:
            _objects.pop(point.address, None)
