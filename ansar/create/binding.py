"""``ar.bind``: register a function, a class-based object or a message/settings class."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from .point import Point, bind_function, bind_point

__all__ = ["bind"]


def bind(target: Any, *args: Any, **kw: Any) -> Any:
    """Register ``target`` with the runtime and return it.

    - a function: an object whose result is its return value;
    - a ``Point`` class: a class-based object; the second argument is its dispatch (a tuple of
      message types for ``Stateless``, ``{STATE: ((handled), (saved))}`` for ``StateMachine``);
    - any other class: a type that can be sent, stored and encoded, with an optional
      ``object_schema={'field': type-or-descriptor}`` (else types follow ``__init__``'s defaults).
    Other keywords (e.g. ``lifecycle=``, ``message_trail=``) are accepted and ignored.
    """
    if isinstance(target, type):
        if issubclass(target, Point):
            return bind_point(target, args[0] if args else kw.get("dispatch"))
        from .codec import register_class

        register_class(target, object_schema=args[0] if args else kw.get("object_schema"))
        return target
    if callable(target):
        return bind_function(target)
    raise TypeError(f"cannot bind {target!r}: expected a function or a class")
