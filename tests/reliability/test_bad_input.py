"""Bad input, property-based (hypothesis): command-line words and settings on both sides of the
sub-command, role names and templates, searches, settings and input files, log times and spans.

Each case works, or gets one ``ansar: ...`` line on stderr and a non-zero exit (2 for usage),
with the home byte-for-byte unchanged and never a traceback. The command runs in-process
(``ansar.command.main.main(argv)``) for speed; a few cases run as processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import FIGURES, Cli, InProcess, home_tree, one_line_refusal, soak

EXAMPLES = soak(60, 600)
COMMANDS = ["list", "add", "update", "delete", "set", "get", "settings", "input", "log", "history", "status",
            "returned", "folder", "run", "start", "stop", "deploy", "snapshot", "create", "destroy"]
# Sub-commands that must not start roles in-process: their words and settings are still fuzzed,
# against a home with no role they could start.
WORDS = st.one_of(
    st.sampled_from(["zombie", "zombie-0", "noop", "../x", "/etc", ".", "..", "-", "--", "-f", "--force", "{number}",
                     "{executable}", "{nope}", "{", "}", "(", "[", "*", "\\", "a" * 300, "retry", "storage",
                     "--count=-1", "--count=99999999999", "--start=x", "--last=DAY", "--last=-1s", "--last=1e400",
                     "--start=2026-13-40", "--count=20", "--jobs=0", "--jobs=-3", "--seconds=nan",
                     "--seconds=1e999", "--set-file=/nonexistent", "--debug-level=LOUD", "--signal=HUP",
                     "--signal=NOPE", "--home-path=/", "--invert-search", "-l", "--help"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
    st.from_regex(r"--[a-z-]{1,12}=[^\x00]{0,12}", fullmatch=True),
)


@pytest.fixture
def refusals(cli: Cli, tmp_path: Path) -> InProcess:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "noop")
    fast.ok("add", "snooze")
    return fast


def _check(fast: InProcess, home: Path, argv: list[str]) -> None:
    if argv and argv[0] in ("run", "start") or (argv[:1] == ["-f"] and argv[1:2] in (["run"], ["start"])):
        argv = ["--help"] if not argv[1:] else argv  # roles are not started in-process
    before = home_tree(home)
    status, _, err = fast(*argv)
    FIGURES.fault()
    assert "Traceback" not in err and "<SystemExit" not in err, (argv, err)
    if status != 0:
        assert one_line_refusal(status, err), (argv, status, err)
        assert status in (1, 2, 130), (argv, status)
        after = home_tree(home)
        assert after == before, (argv, "the home changed under a refusal")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(before=st.lists(WORDS, max_size=2), command=st.sampled_from(COMMANDS), after=st.lists(WORDS, max_size=4))
def test_any_words_work_or_get_one_line(refusals: InProcess, before: list[str], command: str,
                                        after: list[str]) -> None:
    if command in ("run", "start", "create", "destroy"):
        after = [w for w in after if not w.startswith("-") or "=" in w][:2] + ["--help"]
    _check(refusals, refusals.home, before + [command] + after)


JSON_TEXT = st.one_of(
    st.sampled_from(["", "{", "[]", "null", '{"value": ', '{"value": {"seconds": "many"}}',
                     '{"value": {"seconds": 1e999}}', '{"value": {"seconds": -1}}', "[" * 5000 + "]" * 5000,
                     '{"value": {"nope": 1}}', '{"value": {"first_steps": "x"}}', "\xff\xfe", '{"value": 1}']),
    st.text(max_size=40),
)


@settings(max_examples=soak(40, 400), deadline=None, suppress_health_check=list(HealthCheck))
@given(text=JSON_TEXT, what=st.sampled_from([("settings", "snooze-0"), ("input", "snooze-0"),
                                              ("set", "retry", "snooze-0"), ("set", "storage", "snooze-0")]))
def test_any_settings_input_or_property_file_works_or_gets_one_line(refusals: InProcess, tmp_path: Path, text: str,
                                                                    what: tuple[str, ...]) -> None:
    path = tmp_path / "given.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    flag = "--encoding-file" if what[0] == "set" else "--set-file"
    _check(refusals, refusals.home, [*what, f"{flag}={path}"])


@settings(max_examples=soak(40, 300), deadline=None, suppress_health_check=list(HealthCheck))
@given(last=WORDS, start=WORDS)
def test_any_log_time_or_span_works_or_gets_one_line(refusals: InProcess, last: str, start: str) -> None:
    _check(refusals, refusals.home, ["log", "snooze-0", f"--last={last}"])
    _check(refusals, refusals.home, ["log", "snooze-0", f"--start={start}", "--count=3"])
    _check(refusals, refusals.home, ["history", "snooze-0", f"--start={start}"])


@pytest.mark.parametrize("argv, status", [(["nope"], 2), (["add"], 2), (["run", "--jobs=0"], 2),
                                          (["log", "snooze-0", "--last=soon"], 2), (["delete", "ghost"], 1)])
def test_refusals_as_processes(cli: Cli, refusals: InProcess, argv: list[str], status: int) -> None:
    before = home_tree(cli.home)
    text = cli.refused(status, *argv)
    FIGURES.fault()
    assert text.startswith("ansar: ")
    assert home_tree(cli.home) == before


NAMES = st.sampled_from(["snooze-0", "noop-0", "ghost", "../x", "", "snooze-\\d", "[", "a" * 300])
PROPERTY_VALUES = st.one_of(
    st.tuples(st.just("timeout"), st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                                            st.text(max_size=5), st.none())),
    st.tuples(st.just("after"), st.one_of(st.lists(NAMES, max_size=3), NAMES, st.integers(), st.none())),
    st.tuples(st.just("ready"), st.one_of(st.floats(), st.none(), st.text(max_size=5),
                                          st.fixed_dictionaries({"seconds": st.floats(), "port": st.integers()}),
                                          st.fixed_dictionaries({"seconds": st.floats(), "text": st.text()}))),
    st.tuples(st.just("exclusive"), st.one_of(NAMES, st.text(max_size=20), st.integers(), st.none())),
)


@settings(max_examples=soak(40, 400), deadline=None, suppress_health_check=list(HealthCheck))
@given(value=PROPERTY_VALUES)
def test_any_property_value_works_or_gets_one_line(refusals: InProcess, tmp_path: Path,
                                                   value: tuple[str, object]) -> None:
    # noop-0 is after snooze-0, so that snooze-0 after noop-0 is a cycle set must refuse.
    path = tmp_path / "after.json"
    path.write_text('{"value": ["snooze-0"]}')
    refusals.ok("set", "after", "noop-0", f"--encoding-file={path}")
    name, given = value
    path = tmp_path / "given.json"
    path.write_text(json.dumps({"value": given}))
    _check(refusals, refusals.home, ["set", name, "snooze-0", f"--encoding-file={path}"])


@settings(max_examples=soak(40, 400), deadline=None, suppress_health_check=list(HealthCheck))
@given(line=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_command_line_is_stored_exactly_or_refused_in_one_line(refusals: InProcess, line: str) -> None:
    if not (refusals.home / "role" / "line-0.json").exists():
        refusals.ok("add", "--command=true", "line-0")
    _check(refusals, refusals.home, ["update", "line-0", f"--command={line}"])
    shown = json.loads(refusals.ok("settings", "line-0"))["value"]["command"]
    if "\x00" in line or not line.strip():
        assert shown != line, "a NUL or an empty line was stored"
        return
    assert shown == line
    listed = [r for r in refusals.ok("list", "-l").splitlines() if r.startswith("line-0 ")]
    assert len(listed) == 1 and listed[0].isprintable(), listed
