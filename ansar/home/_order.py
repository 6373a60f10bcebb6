"""The order of roles (property ``after``) and their claims (property ``exclusive``), as pure logic.

A role's ``after`` is a list of searches; matched against the home's roles they give the roles it
needs. The needs form a graph that ``ansar set`` keeps free of cycles. From it come: the roles a
set of roles needs from outside itself, which waiting roles may start now (``next_step``), and
the waves in which ``stop`` ends roles, dependents first (``stop_waves``). Nothing here reads a
home or a clock; the commands give it what they found.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence

from ._names import Search

__all__ = ["Graph", "Step", "exclusive_clashes", "find_cycle", "needed", "next_step", "resolve", "stop_waves"]

Graph = Mapping[str, Sequence[str]]  # role -> the roles it is after (sorted)


def resolve(names: Sequence[str], after: Mapping[str, Optional[Sequence[str]]]) -> tuple[dict[str, list[str]],
                                                                                       list[tuple[str, str]]]:
    """The graph of ``after`` (role -> searches) over the roles ``names``, and each
    ``(role, search)`` whose search matches no role (left out of the graph)."""
    graph: dict[str, list[str]] = {}
    unmatched: list[tuple[str, str]] = []
    for role, searches in after.items():
        found: set[str] = set()
        for search in searches or ():
            chosen = Search(search).select(names, empty_ok=True)
            if not chosen:
                unmatched.append((role, search))
            found.update(chosen)
        if found:
            graph[role] = sorted(found)
    return graph, unmatched


def find_cycle(graph: Graph, role: str) -> Optional[list[str]]:
    """The shortest cycle through ``role``, as ``[role, ..., role]``, or None."""
    came_from: dict[str, str] = {}
    queue = deque([role])
    while queue:
        here = queue.popleft()
        for there in graph.get(here, ()):
            if there == role:
                path = [here]  # back from here to role
                while path[-1] != role:
                    path.append(came_from[path[-1]])
                return path[::-1] + [role]
            if there not in came_from:
                came_from[there] = here
                queue.append(there)
    return None


def needed(graph: Graph, roots: Iterable[str]) -> set[str]:
    """Every role that one of ``roots`` needs, directly or through others (roots excluded
    unless another root needs them)."""
    found: set[str] = set()
    todo = list(roots)
    while todo:
        for there in graph.get(todo.pop(), ()):
            if there not in found:
                found.add(there)
                todo.append(there)
    return found


def stop_waves(graph: Graph, names: Iterable[str]) -> list[list[str]]:
    """``names`` in waves to stop one after the other: a role goes in a wave after every role
    among ``names`` that needs it (directly or through roles not among them)."""
    left = set(names)
    needs = {name: needed(graph, [name]) & left for name in left}
    waves: list[list[str]] = []
    while left:
        wave = sorted(n for n in left if not any(n in needs[other] for other in left if other != n))
        if not wave:  # a cycle (never stored): the rest at once
            wave = sorted(left)
        waves.append(wave)
        left -= set(wave)
    return waves


def exclusive_clashes(names: Sequence[str], others: Iterable[str], exclusive: Mapping[str, Optional[str]],
                      *, among: bool = True) -> list[tuple[str, list[str]]]:
    """Each role of ``names`` (in order) that shares its ``exclusive`` name with one of ``others``
    or (``among``) with a role before it in ``names``: ``(role, [the roles it clashes with, sorted])``."""
    holders: dict[str, set[str]] = {}
    for other in others:
        claim = exclusive.get(other)
        if claim:
            holders.setdefault(claim, set()).add(other)
    clashes = []
    for name in names:
        claim = exclusive.get(name)
        if not claim:
            continue
        held = holders.setdefault(claim, set())
        if held - {name}:
            clashes.append((name, sorted(held - {name})))
        if among:
            held.add(name)
    return clashes


class Step(NamedTuple):
    """What a scheduler may do now: roles to start (in order) and roles that never will."""

    start: list[str]
    faulted: list[tuple[str, str]]  # (role, condition)


def next_step(
    queued: Sequence[str],
    graph: Graph,
    *,
    up: Iterable[str],
    running: Iterable[str] = (),
    blocked: Optional[Mapping[str, str]] = None,
    exclusive: Optional[Mapping[str, Optional[str]]] = None,
    room: Optional[int] = None,
) -> Step:
    """Which of the ``queued`` roles (in the order given) may start now.

    ``up`` are the roles their dependents may count on (running and ready, or ended well);
    ``running`` the roles whose process runs now; ``blocked`` the roles their dependents can no
    longer wait for, with why (``"ended Faulted"``, ``"not ready after 30.0s"``): a queued role
    after one of them is faulted with ``"<role> <why>"``. A role may start when every role it is
    after is up, no running role nor one starting before it shares its ``exclusive`` name, and
    there is ``room`` (None: no limit) for it. A role on a cycle of ``after`` none of whose roles
    is up (a cycle ``ansar set`` refuses, written into role files by hand) would wait forever: it
    is faulted with ``"after cycle a-0, b-0, a-0"``.
    """
    up = set(up)
    blocked = blocked or {}
    exclusive = exclusive or {}
    claimed = {exclusive.get(name) for name in running} - {None}
    start: list[str] = []
    faulted: list[tuple[str, str]] = []
    for name in queued:
        needs = graph.get(name, ())
        why = next((f"{need} {blocked[need]}" for need in needs if need in blocked), None)
        if why is not None:
            faulted.append((name, why))
            continue
        if not all(need in up for need in needs):
            cycle = find_cycle(graph, name)
            if cycle is not None and not up.intersection(cycle):
                faulted.append((name, f"after cycle {', '.join(cycle)}"))
            continue
        claim = exclusive.get(name)
        if claim and claim in claimed:
            continue
        if room is not None and len(start) >= room:
            continue
        start.append(name)
        if claim:
            claimed.add(claim)
    return Step(start, faulted)
