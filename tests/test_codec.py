"""The codec: JSON forms of every descriptor, errors with paths, classes, pointers, Any."""

from __future__ import annotations

import datetime
import enum
import uuid
from collections import deque
from typing import Any, Optional

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansar.create import descriptors as d
from ansar.create import lifecycle
from ansar.create.codec import (
    CodecError,
    Incognito,
    decode,
    decode_document,
    encode,
    from_word,
    parse_argument,
    register_class,
    resolve,
    to_word,
)
from ansar.create.retry import RetryIntervals

UTC = datetime.timezone.utc


def word_of(data: bytes) -> Any:
    return msgspec.json.decode(data)["value"]


def round_trip(value: Any, t: Any) -> Any:
    return decode(encode(value, t), t)


# Classes used below, bound the way programs bind them.
class Snooze:
    def __init__(self, seconds=1.0, count=0, name="snooze", note=None):
        self.seconds = seconds
        self.count = count
        self.name = name
        self.note = note


class Busy:
    def __init__(self, duties=None, managers=3, table=None):
        self.duties = duties if duties is not None else d.default_vector()
        self.managers = managers
        self.table = table if table is not None else d.default_map()


class Marker:
    pass


class Node:
    def __init__(self, name="", next=None):
        self.name = name
        self.next = next


class Pair:
    def __init__(self, left=None, right=None):
        self.left = left
        self.right = right


class Colour(enum.Enum):
    RED = 1
    GREEN = 2


class Record(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    sizes: dict[str, int] = {}
    blob: bytes = b""
    when: Optional[datetime.datetime] = None
    colour: Optional[Colour] = None
    tags: list[str] = []
    extra: Any = None


register_class(Snooze)
register_class(Busy, object_schema={"duties": d.VectorOf(d.Unicode()), "managers": int,
                                    "table": d.MapOf(d.String, d.String)})
register_class(Marker)
register_class(Node, {"name": d.Unicode, "next": d.PointerTo(Node)})
register_class(Pair, {"left": d.PointerTo(Node), "right": d.PointerTo(Node)})
register_class(Record)


# ---------------------------------------------------------------------------------------------
# The documented JSON forms.

def test_registered_message_under_any_is_a_triple():
    assert encode(lifecycle.Ack(), d.Any) == b'{"value":["ansar.create.lifecycle.Ack",{},[]]}'


def test_integer_is_written_bare():
    assert encode(5, d.Integer8) == b'{"value":5}'
    assert encode(5, int) == b'{"value":5}'


def test_completed_value_is_any():
    data = encode(lifecycle.Completed(value=lifecycle.Ack()))
    assert word_of(data) == ["ansar.create.lifecycle.Completed",
                             {"value": ["ansar.create.lifecycle.Ack", {}, []]}, []]
    assert decode(data) == lifecycle.Completed(value=lifecycle.Ack())


def test_word_map_file_decodes_to_bytes():
    data = b'{"value": [["explain", "define"], ["fly", "droll"]]}'
    assert decode(data, d.MapOf(d.String, d.String)) == {b"explain": b"define", b"fly": b"droll"}


def test_map_is_written_as_pairs_and_keys_sorted():
    data = encode({b"explain": b"define"}, d.MapOf(d.String, d.String))
    assert data == b'{"value":[["explain","define"]]}'
    assert encode(Snooze(), Snooze) == b'{"value":{"count":0,"name":"snooze","seconds":1.0}}'


def test_pretty_output_is_indented():
    text = encode(lifecycle.Ack(), pretty=True).decode()
    assert text.startswith('{\n    "value": [\n        "ansar.create.lifecycle.Ack",')


def test_none_fields_are_left_out():
    assert word_of(encode(lifecycle.Faulted(condition="no"), d.Any))[1] == {"condition": "no"}


@pytest.mark.parametrize("moment, text", [
    (datetime.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC), "2024-01-02T03:04:05.6"),
    (datetime.datetime(2023, 5, 30, 19, 35, 35, 302931, tzinfo=UTC), "2023-05-30T19:35:35.302931"),
    (datetime.datetime(2023, 5, 30, 19, 35, 35, 340000, tzinfo=UTC), "2023-05-30T19:35:35.34"),
    (datetime.datetime(2023, 5, 30, 19, 35, 35, tzinfo=UTC), "2023-05-30T19:35:35"),
    (datetime.datetime(2024, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
     "2024-01-02T03:04:05"),
])
def test_world_time_is_utc_text_with_trailing_zeros_trimmed(moment, text):
    assert word_of(encode(moment, d.WorldTime)) == text
    assert decode(encode(moment, d.WorldTime), d.WorldTime) == moment


def test_world_time_reads_z_and_offsets():
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert from_word("2024-01-02T03:04:05Z", d.WorldTime) == moment
    assert from_word("2024-01-02T04:04:05.25+01:00", d.WorldTime) == datetime.datetime(
        2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)


@pytest.mark.parametrize("seconds, text", [
    (90.5, "1m30.5s"), (7200.0, "2h"), (0.0, "0s"), (93784.5, "1d2h3m4.5s"), (0.25, "0.25s"),
    (-61.0, "-1m1s"), (3600.000001, "1h0.000001s"),
])
def test_time_span_text(seconds, text):
    assert to_word(seconds, d.TimeSpan) == text
    assert from_word(text, d.TimeSpan) == seconds


def test_time_span_reads_a_bare_number_and_fractional_units():
    assert from_word(12, d.TimeSpan) == 12.0
    assert from_word("1.5m", d.TimeSpan) == 90.0
    assert from_word("90", d.TimeSpan) == 90.0


def test_time_delta_is_written_like_a_span():
    delta = datetime.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000)
    assert to_word(delta, d.TimeDelta) == "1d2h3m4.5s"
    assert from_word("1d2h3m4.5s", d.TimeDelta) == delta
    assert round_trip(-delta, d.TimeDelta) == -delta


def test_clock_time_is_local_iso_text():
    stamp = 1_700_000_000.25
    text = to_word(stamp, d.ClockTime)
    assert text == datetime.datetime.fromtimestamp(stamp).isoformat().rstrip("0")
    assert from_word(text, d.ClockTime) == stamp


def test_block_is_base64_and_decodes_to_bytearray():
    assert to_word(b"\x00\xffab", d.Block) == "AP9hYg=="
    value = from_word("AP9hYg==", d.Block)
    assert type(value) is bytearray and value == b"\x00\xffab"


def test_string_is_latin1_text():
    assert to_word(b"caf\xe9", d.String) == "caf\u00e9"
    assert from_word("caf\u00e9", d.String) == b"caf\xe9"


def test_uuid_is_text():
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert to_word(u, d.UUID) == "12345678-1234-5678-1234-567812345678"
    assert round_trip(u, d.UUID) == u


def test_enumeration_is_a_type_and_its_values():
    Op = d.Enumeration(ADD=0, SUB=1)
    assert Op.ADD == 0 and Op.SUB == 1 and Op(1) is Op.SUB and Op["ADD"] is Op.ADD
    assert [m.name for m in Op] == ["ADD", "SUB"]
    assert encode(Op.SUB, Op) == b'{"value":"SUB"}'
    assert decode(b'{"value":"ADD"}', Op) is Op.ADD


def test_enum_class_is_written_by_name():
    assert encode(Colour.GREEN, Colour) == b'{"value":"GREEN"}'
    assert round_trip(Colour.RED, d.Enumeration(Colour)) is Colour.RED


def test_set_and_deque_are_lists():
    assert word_of(encode({3, 1, 2}, d.SetOf(d.Integer8))) == [1, 2, 3]
    assert round_trip({"a", "b"}, d.SetOf(d.Unicode)) == {"a", "b"}
    value = round_trip(deque([1, 2]), d.DequeOf(d.Integer4))
    assert type(value) is deque and value == deque([1, 2])


def test_array_has_exact_length():
    assert round_trip([1, 2, 3], d.ArrayOf(d.Byte, 3)) == [1, 2, 3]
    with pytest.raises(CodecError, match="Expected array of length 3, got 2"):
        decode(b'{"value":[1,2]}', d.ArrayOf(d.Byte, 3))


def test_type_is_written_by_its_full_name():
    assert to_word(lifecycle.Ack, d.Type) == "ansar.create.lifecycle.Ack"
    assert from_word("ansar.create.lifecycle.Ack", d.Type) is lifecycle.Ack


def test_addresses_and_words_pass_through():
    assert round_trip(7, d.Address) == 7
    assert round_trip((1, 2), d.TargetAddress) == (1, 2)
    assert round_trip({"a": [1, 2.5, None, True]}, d.Word) == {"a": [1, 2.5, None, True]}


def test_character_and_rune():
    assert round_trip(b"x", d.Character) == b"x"
    assert round_trip("\u00e9", d.Rune) == "\u00e9"
    with pytest.raises(CodecError, match="length 1"):
        encode("ab", d.Rune)


def test_vector_of_any_names_each_item():
    word = word_of(encode([lifecycle.Ack(), lifecycle.Nak()], d.VectorOf(d.Any)))
    assert word == [["ansar.create.lifecycle.Ack", {}, []], ["ansar.create.lifecycle.Nak", {}, []]]


def test_builtin_values_travel_under_any():
    for value in (5, 2.5, "text", b"raw", True, [1, "a"], {"k": 1}, 2**80):
        assert round_trip(value, d.Any) == value
    assert word_of(encode(5)) == ["int", 5, []]


def test_none_is_null():
    assert encode(None) == b'{"value":null}'
    assert decode(b'{"value":null}', d.Integer8) is None


# ---------------------------------------------------------------------------------------------
# Descriptors as classes or instances, Python types and typing forms.

def test_descriptor_classes_and_instances_are_the_same_type():
    assert resolve(d.MapOf(d.String, d.String)) == resolve(d.MapOf(d.String(), d.String()))
    assert resolve(d.VectorOf(d.Unicode())) == d.VectorOf(d.Unicode())
    assert resolve(d.Integer8) == d.Integer8()


@pytest.mark.parametrize("python, descriptor", [
    (bool, d.Boolean()), (int, d.Integer8()), (float, d.Float8()), (str, d.Unicode()), (bytes, d.String()),
    (bytearray, d.Block()), (datetime.datetime, d.WorldTime()), (datetime.timedelta, d.TimeDelta()),
    (uuid.UUID, d.UUID()), (Snooze, d.UserDefined(Snooze)), (list[int], d.VectorOf(d.Integer8())),
    (dict[str, float], d.MapOf(d.Unicode(), d.Float8())), (Optional[int], d.Integer8()),
    (int | None, d.Integer8()), (Any, d.Any()), (set[str], d.SetOf(d.Unicode())),
])
def test_python_types_map_to_descriptors(python, descriptor):
    assert resolve(python) == descriptor


def test_unusable_type_is_refused():
    with pytest.raises(CodecError, match="needs arguments"):
        resolve(d.ArrayOf)
    with pytest.raises(CodecError, match="Cannot use"):
        resolve(42)


# ---------------------------------------------------------------------------------------------
# Classes: plain (bound with or without a schema), markers, msgspec Structs.

def test_schema_follows_init_defaults():
    schema = Snooze.__art__.schema
    assert schema == {"seconds": d.Float8(), "count": d.Integer8(), "name": d.Unicode(), "note": d.Any()}
    assert Snooze.__art__.name == "Snooze"


def test_plain_class_round_trip_without_schema():
    value = round_trip(Snooze(seconds=2.5, count=3, note=lifecycle.Ack()), Snooze)
    assert (value.seconds, value.count, value.name, value.note) == (2.5, 3, "snooze", lifecycle.Ack())


def test_plain_class_with_schema_reads_the_tour_file():
    data = b'{"value": {"duties": ["noop", "snooze"], "managers": 5, "table": [["a", "b"]]}}'
    value = decode(data, Busy)
    assert (value.duties, value.managers, value.table) == (["noop", "snooze"], 5, {b"a": b"b"})


def test_missing_fields_take_init_defaults():
    value = decode(b'{"value": {}}', Snooze)
    assert (value.seconds, value.count, value.name) == (1.0, 0, "snooze")


def test_marker_class_has_no_fields():
    assert Marker.__art__.schema == {}
    assert isinstance(round_trip(Marker(), d.Any), Marker)
    assert encode(Marker(), Marker) == b'{"value":{}}'


def test_struct_uses_msgspec_forms():
    when = datetime.datetime(2024, 1, 2, tzinfo=UTC)
    record = Record(name="r", sizes={"a": 1}, blob=b"\x01", when=when, colour=Colour.RED, tags=["t"],
                    extra=lifecycle.Ack())
    word = to_word(record, Record)
    assert word == {"name": "r", "sizes": {"a": 1}, "blob": "AQ==", "when": "2024-01-02T00:00:00",
                    "colour": "RED", "tags": ["t"], "extra": ["ansar.create.lifecycle.Ack", {}, []]}
    assert from_word(word, Record) == record
    assert round_trip(record, d.Any) == record


def test_struct_missing_required_field_and_unknown_field():
    with pytest.raises(CodecError, match="Object missing required field name"):
        decode(b'{"value": {}}', Record)
    with pytest.raises(CodecError, match="Object contains unknown field other"):
        decode(b'{"value": {"name": "x", "other": 1}}', Record)


def test_retry_intervals_prints_only_members_set():
    retry = RetryIntervals(first_steps=[1.0, 2.0, 4.0])
    assert encode(retry, RetryIntervals) == b'{"value":{"first_steps":[1.0,2.0,4.0]}}'
    assert round_trip(retry, RetryIntervals) == retry


def test_unregistered_plain_class_cannot_travel_under_any():
    class Stray:
        pass

    with pytest.raises(CodecError, match="not registered"):
        encode(Stray())


# ---------------------------------------------------------------------------------------------
# Errors: one line, the path kept, the source named.

def test_error_names_source_and_path():
    with pytest.raises(CodecError) as e:
        decode(b'{"value": {"seconds": "long"}}', Snooze, source="settings.json")
    assert str(e.value) == "settings.json: Expected float, got str - at $.seconds"


def test_error_path_through_lists_maps_and_any():
    with pytest.raises(CodecError, match=r"Expected str, got int - at \$\.duties\[1\]$"):
        decode(b'{"value": {"duties": ["a", 2]}}', Busy)
    with pytest.raises(CodecError, match=r"Expected str, got int - at \$\[0\]\[1\]$"):
        decode(b'{"value": [["a", 2]]}', d.MapOf(d.Unicode, d.Unicode))
    with pytest.raises(CodecError, match=r"Expected float, got str - at \$\[1\]\.seconds$"):
        decode(b'{"value": ["tests.test_codec.Snooze", {"seconds": "x"}, []]}'.replace(
            b"tests.test_codec", Snooze.__module__.encode()))


def test_out_of_range_integer_is_refused():
    with pytest.raises(CodecError, match=r"Expected int in range 0\.\.255, got 256"):
        decode(b'{"value": 256}', d.Byte)
    with pytest.raises(CodecError, match="range"):
        decode(b'{"value": -1}', d.Unsigned2)
    with pytest.raises(CodecError, match="range"):
        encode(2**63, d.Integer8)
    assert round_trip(2**64 - 1, d.Unsigned8) == 2**64 - 1


def test_unknown_enumeration_name_is_refused():
    with pytest.raises(CodecError, match="Invalid enum value 'PURPLE'"):
        decode(b'{"value": "PURPLE"}', Colour)


def test_damaged_documents_are_refused():
    with pytest.raises(CodecError, match="^f.json: Input data was truncated"):
        decode(b'{"value": ', d.Any, source="f.json")
    with pytest.raises(CodecError, match="^f.json: JSON is malformed"):
        decode(b'{"value": x}', d.Any, source="f.json")
    with pytest.raises(CodecError, match="missing required field value"):
        decode(b'{"other": 1}')
    with pytest.raises(CodecError, match="Expected bool, got int"):
        decode(b'{"value": 1}', d.Boolean)
    with pytest.raises(CodecError, match="Expected int, got bool"):
        encode(True, d.Integer4)


def test_encoding_a_wrong_value_names_the_path():
    with pytest.raises(CodecError, match=r"Expected float, got str - at \$\.seconds"):
        encode(Snooze(seconds="x"), Snooze)


# ---------------------------------------------------------------------------------------------
# Unknown types, pointers.

def test_unknown_type_is_kept_and_written_back_unchanged():
    data = encode_raw(["elsewhere.Thing", {"b": [1, 2], "a": "x"}, []])
    value = decode(data)
    assert isinstance(value, Incognito) and value.type_name == "elsewhere.Thing"
    assert encode(value) == data
    assert encode(lifecycle.Completed(value=value)) == encode_raw(
        ["ansar.create.lifecycle.Completed", {"value": ["elsewhere.Thing", {"a": "x", "b": [1, 2]}, []]}, []])


def test_unknown_type_keeps_the_pointers_it_uses():
    data = b'{"pointer":[[1,{"y":2}]],"value":["elsewhere.Thing",{"p":1},[1]]}'
    value = decode(data)
    assert value.pointers == [[1, {"y": 2}]]
    assert encode(value) == data


def encode_raw(word: Any) -> bytes:
    return msgspec.json.encode({"value": word}, order="sorted")


def test_shared_pointer_is_written_once_and_shared_after():
    shared = Node("s")
    data = encode(Pair(shared, shared), Pair)
    document = msgspec.json.decode(data)
    assert document == {"value": {"left": 1, "right": 1}, "pointer": [[1, {"name": "s"}]]}
    pair = decode(data, Pair)
    assert pair.left is pair.right and pair.left.name == "s"


def test_cycle_round_trips():
    a, b = Node("a"), Node("b")
    a.next, b.next = b, a
    data = encode(a, d.PointerTo(Node))
    assert msgspec.json.decode(data) == {
        "value": 1, "pointer": [[1, {"name": "a", "next": 2}], [2, {"name": "b", "next": 1}]]}
    x = decode(data, d.PointerTo(Node))
    assert x.name == "a" and x.next.name == "b" and x.next.next is x


def test_any_lists_the_aliases_it_uses():
    shared = Node("s", Node("t"))
    word = msgspec.json.decode(encode([Pair(shared, shared)], d.VectorOf(d.Any)))
    assert word["value"] == [[Pair.__art__.path, {"left": 1, "right": 1}, [1, 2]]]
    assert word["pointer"] == [[1, {"name": "s", "next": 2}], [2, {"name": "t"}]]


def test_shared_containers_and_unknown_alias():
    items = [1, 2]
    value = round_trip([items, items], d.VectorOf(d.PointerTo(d.VectorOf(d.Integer8))))
    assert value == [[1, 2], [1, 2]] and value[0] is value[1]
    with pytest.raises(CodecError, match="Unknown pointer alias 9"):
        decode(b'{"value": {"left": 9}}', Pair)


def test_to_word_refuses_pointers():
    with pytest.raises(CodecError, match="encode"):
        to_word(Pair(Node(), None), Pair)


def test_document_members_beside_the_value():
    value, document = decode_document(encode(3, int, version=2), int)
    assert value == 3 and document["version"] == 2


# ---------------------------------------------------------------------------------------------
# Command-line arguments.

@pytest.mark.parametrize("text, t, value", [
    ("5.0", float, 5.0), ("5", d.Float8, 5.0), ("abc", str, "abc"), ("true", bool, True),
    ("false", d.Boolean, False), ("3", int, 3), ("abc", d.String, b"abc"), ("1m", d.TimeSpan, 60.0),
    ('["noop","snooze"]', d.VectorOf(d.Unicode), ["noop", "snooze"]),
    ('[["a","b"]]', d.MapOf(d.String, d.String), {b"a": b"b"}), ("GREEN", Colour, Colour.GREEN),
    ("[1, 2]", d.Word, [1, 2]), ("plain", d.Word, "plain"),
])
def test_parse_argument(text, t, value):
    assert parse_argument(text, t) == value


def test_parse_argument_objects_and_errors():
    assert parse_argument('{"seconds": 2.0}', Snooze).seconds == 2.0
    with pytest.raises(CodecError, match="^Expected float, got 'abc'$"):
        parse_argument("abc", float)
    with pytest.raises(CodecError, match="^Expected int, got '1.5'$"):
        parse_argument("1.5", int)
    with pytest.raises(CodecError, match="^Expected bool, got 'maybe'$"):
        parse_argument("maybe", bool)
    with pytest.raises(CodecError, match="Expected a time span"):
        parse_argument("soon", d.TimeSpan)
    with pytest.raises(CodecError, match="as JSON"):
        parse_argument("noop,snooze", d.VectorOf(d.Unicode))


# ---------------------------------------------------------------------------------------------
# Round trips of generated values.

@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer8_round_trip(n):
    assert round_trip(n, d.Integer8) == n


@given(st.text())
def test_unicode_round_trip(text):
    assert round_trip(text, d.Unicode) == text


@given(st.dictionaries(st.binary(max_size=8), st.binary(max_size=8), max_size=5))
def test_string_map_round_trip(m):
    assert round_trip(m, d.MapOf(d.String, d.String)) == m


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_time_span_round_trip(micro):
    seconds = micro / 1_000_000
    assert round_trip(seconds, d.TimeSpan) == seconds
    delta = datetime.timedelta(microseconds=micro)
    assert round_trip(delta, d.TimeDelta) == delta


@given(st.datetimes(timezones=st.just(UTC)))
def test_world_time_round_trip(moment):
    assert round_trip(moment, d.WorldTime) == moment


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False)), st.binary())
def test_vector_and_block_round_trip(floats, blob):
    assert round_trip(floats, d.VectorOf(d.Float8)) == floats
    assert round_trip(bytearray(blob), d.Block) == blob


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(),
                    lambda inner: st.lists(inner, max_size=4), max_leaves=10))
def test_builtins_under_any_round_trip(value):
    assert round_trip(value, d.Any) == value


def test_codec_module_imports_light():
    import subprocess
    import sys

    code = ("import sys, msgspec; before = set(sys.modules); "
            "import ansar.create.codec, ansar.create.descriptors, ansar.create.storage; "
            "print(sorted({'inspect', 'json', 'base64', 'uuid', 'decimal'} & (set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_runtime_addresses_decode_as_addresses():
    from ansar.create.point import Address

    value = round_trip(Address(9), d.Address)
    assert type(value) is Address and value == 9
    assert word_of(encode(Address(9))) == ["int", 9, []]


def test_unregistered_struct_is_registered_when_sent_under_any():
    class Late(msgspec.Struct):
        n: int = 0

    assert round_trip(Late(n=4), d.Any) == Late(n=4)
    assert Late.__art__.name == "Late"


def test_binding_again_replaces_the_schema():
    class Rebound:
        def __init__(self, a=0, b=0):
            self.a, self.b = a, b

    register_class(Rebound)
    assert to_word(Rebound(1, 2), Rebound) == {"a": 1, "b": 2}
    register_class(Rebound, object_schema={"a": int})
    assert to_word(Rebound(1, 2), Rebound) == {"a": 1}


def test_plain_class_field_outside_init_is_set_after_construction():
    class Loose:
        def __init__(self, a=0):
            self.a = a
            self.b = None

    register_class(Loose, object_schema={"a": int, "b": str})
    value = from_word({"a": 1, "b": "x"}, Loose)
    assert (value.a, value.b) == (1, "x")


def test_float4_refuses_what_single_precision_cannot_hold():
    import ansar.create as ar
    from ansar.create.codec import CodecError, decode, parse_argument

    assert parse_argument("1e30", ar.Float4) == 1e30
    with pytest.raises(CodecError, match="at most"):
        parse_argument("1e40", ar.Float4)
    with pytest.raises(CodecError, match="at most"):
        decode(b'{"value": -1e39}', ar.Float4)
    assert parse_argument("1e40", ar.Float8) == 1e40


def test_strict_decoding_refuses_a_field_the_class_does_not_have():
    from ansar.create.codec import CodecError, decode, register_class

    class Typo:
        def __init__(self, seconds=1.0):
            self.seconds = seconds

    register_class(Typo)
    assert decode(b'{"value": {"secnds": 9.0}}', Typo).seconds == 1.0  # lenient between programs
    with pytest.raises(CodecError, match="unknown field secnds"):
        decode(b'{"value": {"secnds": 9.0}}', Typo, source="typo.json", strict=True)
