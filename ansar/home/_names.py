"""Role and executable names, role-name templates and role searches."""

from __future__ import annotations

import re
from string import Formatter
from typing import Iterable, Optional

from ansar.create._role import HomeError

__all__ = ["COUNT_LIMIT", "BadValue", "DEFAULT_TEMPLATE", "Search", "check_name", "expand_template", "quoted"]

DEFAULT_TEMPLATE = "{executable}-{number}"
NAME_LIMIT = 200
COUNT_LIMIT = 10_000  # roles one add makes: --count=99999999999 built its names until memory ran out
_PLAIN = re.compile(r"[A-Za-z0-9._-]+")


class BadValue(HomeError):
    """Something the user gave is not acceptable (a name, a template, a search, a value)."""


def quoted(text: str) -> str:
    """``text`` in double quotes, for a one-line message: a name holding a newline or another
    character that is not printable is written as a JSON string (``"a\\nb"``)."""
    if text.isprintable() and '"' not in text:
        return f'"{text}"'
    import json

    return json.dumps(text)


def check_name(name: str, what: str = "role name") -> str:
    """``name`` if it is a plain name: letters, digits, ``.``, ``_``, ``-``; nothing that could
    climb out of the folder it is joined to."""
    if not _PLAIN.fullmatch(name) or name in (".", "..") or name[0] in ".-" or len(name) > NAME_LIMIT:
        shown = quoted(name if len(name) <= NAME_LIMIT else name[:NAME_LIMIT] + "...")
        raise BadValue(
            f'{what} {shown} is not a plain name (letters, digits, ".", "_" and "-", '
            f"not starting with \".\" or \"-\", at most {NAME_LIMIT} characters)"
        )
    return name


def expand_template(template: str, executable: str, start: int = 0, count: int = 1) -> list[str]:
    """The role names ``template`` gives for numbers ``start`` .. ``start + count - 1``."""
    if count < 1:
        raise BadValue(f"count {count} adds no role (at least 1)")
    if count > COUNT_LIMIT:
        raise BadValue(f"count {count} is more roles than one add makes (at most {COUNT_LIMIT:,})")
    if start < 0:
        raise BadValue(f"start {start} is negative")
    try:
        for _, field, _, _ in Formatter().parse(template):
            if field is not None and field not in ("executable", "number"):
                raise BadValue(
                    f'role template "{template}" names "{{{field}}}"; only {{executable}} and {{number}} exist'
                )
        names = [template.format(executable=executable, number=n) for n in range(start, start + count)]
    except (ValueError, IndexError, KeyError) as e:
        raise BadValue(f'role template "{template}": {e}') from None
    for name in names:
        check_name(name)
    if len(set(names)) != len(names):
        raise BadValue(f'role template "{template}" gives the same name more than once (use {{number}})')
    return names


class Search:
    """A regular expression matched against whole role names; ``invert`` selects the others.

    No pattern matches every role; inverted, it is the pattern ``.*`` inverted. A pattern that
    matches nothing is an error naming it.
    """

    def __init__(self, pattern: Optional[str] = None, invert: bool = False):
        if pattern is None and invert:
            pattern = ".*"  # list --invert-search is list '.*' --invert-search
        self.pattern = pattern
        self.invert = invert
        self._re: Optional[re.Pattern[str]] = None
        if pattern is not None:
            try:
                self._re = re.compile(pattern)
            except re.error as e:
                raise BadValue(f"search {quoted(pattern)} is not a regular expression ({e})") from None

    def __str__(self) -> str:
        text = "(all)" if self.pattern is None else self.pattern
        return f"not {text}" if self.invert else text

    def select(self, names: Iterable[str], *, empty_ok: bool = False) -> list[str]:
        """The matching names, in the order given."""
        if self._re is None:
            chosen = [] if self.invert else list(names)
        else:
            match = self._re.fullmatch
            chosen = [n for n in names if (match(n) is None) == self.invert]
        if not chosen and not empty_ok:
            raise HomeError(f"search {quoted(str(self))} matches no role")
        return chosen
