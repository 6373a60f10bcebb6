"""The component context of this process: which home and role it runs in, if any."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

__all__ = ["current_bin", "current_context", "current_home", "set_context"]

_context: Any = None


def set_context(context: Any) -> None:
    global _context
    _context = context


def current_context() -> Any:
    """The RoleContext of a component, or None for a tool."""
    return _context


def current_home() -> Optional[str]:
    return _context.home_path if _context is not None else None


def current_bin() -> Optional[str]:
    return _context.bin_path() if _context is not None else None
