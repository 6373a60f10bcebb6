"""The ansar runtime: ``import ansar.create as ar``.

Every name loads on first use, so tools that only need a part (the ``ansar`` command reading a
home) do not pay for the rest; the runtime's core is small and loads with the first object.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_LAZY = {
    "bind": "binding",
    "AutoStop": "point", "Point": "point", "StateMachine": "point", "Stateless": "point", "halt": "point",
    "USER_LOG": "log",
    "create_object": "framework", "command_variables": "framework",
    "Process": "processing",
    "OpenChannel": "channel",
    "TestRecord": "test", "TestReport": "test", "TestSuite": "test", "test_enquiry": "test",
    "RetryIntervals": "retry",
    "ready": "_ready",
    "CodecError": "codec", "Incognito": "codec",
    "File": "storage", "FileNotFound": "storage", "Folder": "storage",
    "model_folder": "storage", "resource_folder": "storage", "tmp_folder": "storage",
}
_DESCRIPTORS = (
    "Address", "Any", "ArrayOf", "Block", "Boolean", "Byte", "Character", "ClockTime", "DequeOf",
    "Enumeration", "Float4", "Float8", "Integer2", "Integer4", "Integer8", "MapOf", "PointerTo", "Rune",
    "SetOf", "String", "TargetAddress", "TimeDelta", "TimeSpan", "Type", "UUID", "Unicode", "Unsigned2",
    "Unsigned4", "Unsigned8", "UserDefined", "VectorOf", "Word", "WorldTime",
    "default_deque", "default_map", "default_set", "default_vector",
)
_LAZY.update({name: "descriptors" for name in _DESCRIPTORS})
_LAZY.update({name: "lifecycle" for name in (
    "Aborted", "Ack", "Cannot", "Completed", "Enquiry", "Faulted", "Maybe", "Nak", "SelectTimer", "Signal", "Start",
    "Stop", "T1", "T2", "T3", "T4", "TimedOut",
)})

__all__ = [
    "Aborted", "Ack", "Address", "Any", "ArrayOf", "AutoStop", "Block", "Boolean", "Byte", "Cannot",
    "Character", "ClockTime", "CodecError", "Completed", "DequeOf", "Enquiry", "Enumeration", "Faulted",
    "File", "FileNotFound", "Float4", "Float8", "Folder", "Incognito", "Integer2", "Integer4", "Integer8",
    "MapOf", "Maybe", "Nak", "OpenChannel", "Point", "PointerTo", "Process", "RetryIntervals", "Rune",
    "SelectTimer", "SetOf", "Signal", "Start", "StateMachine", "Stateless", "Stop", "String", "T1", "T2", "T3", "T4",
    "TargetAddress", "TestRecord", "TestReport", "TestSuite", "TimeDelta", "TimeSpan", "TimedOut", "Type",
    "USER_LOG", "UUID", "Unicode", "Unsigned2", "Unsigned4", "Unsigned8", "UserDefined", "VectorOf", "Word",
    "WorldTime",
    "bind", "command_variables", "create_object", "default_deque", "default_map", "default_set",
    "default_vector", "halt", "model_folder", "ready", "resource_folder", "test_enquiry", "tmp_folder",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ansar.create' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
