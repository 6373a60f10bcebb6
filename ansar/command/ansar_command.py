"""The values the ``ansar`` command itself prints, named as the tour names them
(``ansar.command.ansar_command.Run``)."""

from __future__ import annotations

import ansar.create as ar

__all__ = ["Run"]


class Run:
    """What ``ansar run`` returns: each role's value in completion order, and the home as given."""

    def __init__(self, completed: dict | None = None, home: str = "") -> None:
        self.completed = completed if completed is not None else {}
        self.home = home


ar.bind(Run, object_schema={"completed": ar.MapOf(ar.Unicode, ar.Any), "home": ar.Unicode})
