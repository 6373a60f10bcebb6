"""Role properties: values the home keeps for a role beside its executable's settings.

``retry`` makes the role's process retry its main function (see ``ansar.create.retry``);
``storage`` caps the bytes kept of the role's logs; ``timeout`` is how long, in seconds, an
execution may run before it is stopped and ends ``TimedOut``. A property never set is null.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Optional, TypeVar

import msgspec

from ansar.create._role import RoleRecord
from ansar.create.retry import RANGES, RetryIntervals

from ._names import BadValue

__all__ = ["PROPERTIES", "decode_property", "encode_property", "get_property", "with_property"]

T = TypeVar("T")

STORAGE_LEAST = 1024  # a KiB
STORAGE_MOST = 1 << 40  # a TiB

TIMEOUT_MOST = 366 * 24 * 3600.0  # a year

PROPERTIES: dict[str, Any] = {
    "retry": Optional[RetryIntervals],
    "storage": Optional[Annotated[int, msgspec.Meta(ge=STORAGE_LEAST, le=STORAGE_MOST)]],
    "timeout": Optional[Annotated[float, msgspec.Meta(gt=0.0, le=TIMEOUT_MOST)]],
}

# What a value accepts, by the path msgspec names in its error.
_RANGES = {f"$.value.{member}": f"{member}: {text}" for member, text in RANGES.items()}
_VALUE_RANGES = {
    "storage": f"storage: bytes, {STORAGE_LEAST} to {STORAGE_MOST}",
    "timeout": f"timeout: seconds, above 0 and at most {TIMEOUT_MOST:g}",
}


class _Envelope(msgspec.Struct, Generic[T], forbid_unknown_fields=True):
    value: T


_decoders: dict[str, msgspec.json.Decoder] = {}
_encoder = msgspec.json.Encoder()


def _check(name: str) -> str:
    if name not in PROPERTIES:
        known = ", ".join(sorted(PROPERTIES))
        raise BadValue(f'no property "{name}" (there is {known})')
    return name


def decode_property(name: str, data: bytes, where: str) -> Any:
    """The value of property ``name`` in the ``{"value": ...}`` document ``data``."""
    decoder = _decoders.get(_check(name))
    if decoder is None:
        decoder = _decoders[name] = msgspec.json.Decoder(_Envelope[PROPERTIES[name]])  # type: ignore[misc]
    try:
        return decoder.decode(data).value
    except msgspec.ValidationError as e:
        raise BadValue(f"{where}: {e}{_expected(name, str(e))}") from None
    except msgspec.DecodeError as e:
        raise BadValue(f"{where}: {e}") from None


def _expected(name: str, text: str) -> str:
    """`` (member: range)``: the range of the member an error names, if it has one."""
    path = text.rpartition(" - at `")[2].rstrip("`")
    path = path.split("[", 1)[0]  # first_steps[2] is one of first_steps
    if path == "$.value":
        return f" ({_VALUE_RANGES[name]})" if name in _VALUE_RANGES else ""
    return f" ({_RANGES[path]})" if path in _RANGES else ""


def encode_property(value: Any) -> bytes:
    """The indented ``{"value": ...}`` document of a property value (only members that are set)."""
    return msgspec.json.format(_encoder.encode({"value": value}), indent=4)


def get_property(record: RoleRecord, name: str) -> Any:
    return getattr(record, _check(name))


def with_property(record: RoleRecord, name: str, value: Any) -> RoleRecord:
    return msgspec.structs.replace(record, **{_check(name): value})
