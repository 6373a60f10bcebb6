"""The home: the persistent description of a group of processes, kept on disk.

``ansar.command`` reads and changes homes through this package only. It never prints and never
parses a command line; every problem is a ``HomeError`` (``BadValue`` when the user gave something
unacceptable) whose text is one line naming the role, file or value.

Names load on first use, so that a command that only reads a home starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ansar.create._role import FOLDER_KINDS, REDIRECT_KINDS, HomeError, RoleContext, RoleRecord

    from ._executable import Encoding, check_document, dump_input, dump_settings
    from ._home import DEFAULT_HOME, Home, create_home, open_existing_home
    from ._names import DEFAULT_TEMPLATE, BadValue, Search, check_name, expand_template
    from ._properties import PROPERTIES, decode_property, encode_property, get_property
    from ._running import PID_UNKNOWN, is_running, lineage_marker, running_since, stop_role, stop_roles

_WHERE = {
    "ansar.create._role": ("FOLDER_KINDS", "REDIRECT_KINDS", "HomeError", "RoleContext", "RoleRecord"),
    "ansar.home._executable": ("Encoding", "check_document", "dump_input", "dump_settings"),
    "ansar.home._home": ("DEFAULT_HOME", "Home", "create_home", "open_existing_home"),
    "ansar.home._names": ("DEFAULT_TEMPLATE", "BadValue", "Search", "check_name", "expand_template"),
    "ansar.home._properties": ("PROPERTIES", "decode_property", "encode_property", "get_property"),
    "ansar.home._running": ("PID_UNKNOWN", "is_running", "lineage_marker", "running_since", "stop_role", "stop_roles"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "BadValue",
    "DEFAULT_HOME",
    "DEFAULT_TEMPLATE",
    "Encoding",
    "FOLDER_KINDS",
    "Home",
    "HomeError",
    "PID_UNKNOWN",
    "PROPERTIES",
    "REDIRECT_KINDS",
    "RoleContext",
    "RoleRecord",
    "Search",
    "check_document",
    "check_name",
    "create_home",
    "decode_property",
    "dump_input",
    "dump_settings",
    "encode_property",
    "expand_template",
    "get_property",
    "is_running",
    "lineage_marker",
    "open_existing_home",
    "running_since",
    "stop_role",
    "stop_roles",
]


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module 'ansar.home' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
