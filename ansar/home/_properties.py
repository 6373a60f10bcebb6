"""Role properties: values the home keeps for a role beside its executable's settings.

``retry`` makes the role's process retry its main function (see ``ansar.create.retry``);
``storage`` caps the bytes kept of the role's logs; ``timeout`` is how long, in seconds, an
execution may run before it is stopped and ends ``TimedOut``. ``after`` (searches), ``ready``
(seconds, or seconds with a port or a text) and ``exclusive`` (a name) order the roles ``run`` and
``start`` start (see ``_order`` and ``_ready``). A property never set is null.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Iterable, Optional, TypeVar, Union

import msgspec

from ansar.create._role import RoleRecord
from ansar.create.retry import RANGES, RetryIntervals

from ._names import BadValue, quoted

__all__ = ["PROPERTIES", "check_property", "decode_property", "encode_property", "get_property", "with_property"]

T = TypeVar("T")

STORAGE_LEAST = 1024  # a KiB
STORAGE_MOST = 1 << 40  # a TiB

TIMEOUT_MOST = 366 * 24 * 3600.0  # a year
READY_MOST = 24 * 3600.0  # a day
NAME_FORM = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$"

_Seconds = Annotated[float, msgspec.Meta(gt=0.0, le=READY_MOST)]


class _ReadyCheck(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What ``ansar set ready`` accepts in the long form (a ``_records.ReadyCheck`` once stored)."""

    seconds: _Seconds
    port: Optional[Annotated[int, msgspec.Meta(ge=1, le=65535)]] = None
    text: Optional[Annotated[str, msgspec.Meta(min_length=1, pattern="^[^\\x00\\n]*$")]] = None


PROPERTIES: dict[str, Any] = {
    "after": Optional[list[Annotated[str, msgspec.Meta(min_length=1)]]],
    "exclusive": Optional[Annotated[str, msgspec.Meta(pattern=NAME_FORM)]],
    "ready": Optional[Union[_Seconds, _ReadyCheck]],
    "retry": Optional[RetryIntervals],
    "storage": Optional[Annotated[int, msgspec.Meta(ge=STORAGE_LEAST, le=STORAGE_MOST)]],
    "timeout": Optional[Annotated[float, msgspec.Meta(gt=0.0, le=TIMEOUT_MOST)]],
}

# What a value accepts, by the path msgspec names in its error.
_RANGES = {f"$.value.{member}": f"{member}: {text}" for member, text in RANGES.items()}
_READY_FORM = 'seconds above 0 and at most 86400, or {"seconds": S, "port": P} or {"seconds": S, "text": T}'
_RANGES.update({"$.value.seconds": f"ready: {_READY_FORM}", "$.value.port": "port: 1 to 65535",
                "$.value.text": "text: a line of text, not empty"})
_VALUE_RANGES = {
    "after": "after: a list of role searches",
    "exclusive": "exclusive: a name of letters, digits and _ . @ + -, starting with a letter or digit",
    "ready": f"ready: {_READY_FORM}",
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
        value = decoder.decode(data).value
    except msgspec.ValidationError as e:
        raise BadValue(f"{where}: {e}{_expected(name, str(e))}") from None
    except msgspec.DecodeError as e:
        raise BadValue(f"{where}: {e}") from None
    if name == "after" and value is not None:
        from ._names import Search

        for search in value:
            try:
                Search(search)
            except BadValue as e:
                raise BadValue(f"{where}: {e}") from None
    if isinstance(value, _ReadyCheck):
        if value.port is not None and value.text is not None:
            raise BadValue(f"{where}: ready takes a port or a text, not both")
        from ansar.create._records import ReadyCheck

        value = ReadyCheck(**msgspec.structs.asdict(value))
    return value


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


def check_property(home: Any, names: Iterable[str], name: str, value: Any) -> None:
    """Refuse, before anything is stored, an ``after`` for the roles ``names`` of ``home`` whose
    search matches no role or that would close a cycle: BadValue naming the first such role."""
    if name != "after" or value is None:
        return
    from ._order import find_cycle, resolve

    names = sorted(names)
    every = home.names()
    after = {role: getattr(home.role(role, listed=True).role, "after", None) for role in every}
    after.update({role: value for role in names})
    graph, unmatched = resolve(every, after)
    for role, search in unmatched:
        if role in names:
            raise BadValue(f'cannot set "after" for {quoted(role)} (search {quoted(search)} matches no role)')
    for role in names:
        cycle = find_cycle(graph, role)
        if cycle is not None:
            raise BadValue(f'cannot set "after" for {quoted(role)} (cycle {", ".join(cycle)})')
