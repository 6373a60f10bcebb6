"""``ar.OpenChannel``: an address for a plain script, without ``create_object``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from .point import ROOT, Threaded, _objects, _objects_lock, _register

__all__ = ["OpenChannel"]


class OpenChannel:
    """``with ar.OpenChannel() as channel:`` gives the calling thread an address of its own.

    The channel creates objects (``ar.Process`` included), sends and selects like a function
    object. On exit it stops being an address; children still running are sent ``ar.Stop``.
    """

    def __init__(self, name: str = "channel") -> None:
        self.point = Threaded(name)

    def __enter__(self) -> Threaded:
        _register(self.point, ROOT)
        return self.point

    def __exit__(self, *exc: Any) -> None:
        from .lifecycle import Completed, Stop

        point = self.point
        for _, address in point.running():
            point.send(Stop(), address)
        while point.working():
            point.select(Completed)
        with _objects_lock:
            _objects.pop(point.address, None)
