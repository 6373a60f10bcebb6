"""settings, input, get, set, edit, folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from test_command_support import (  # noqa: F401 - fixtures
    Ansar,
    ansar_fixture,
    home_fixture,
)


def write(path: Path, value: object) -> str:
    path.write_text(json.dumps(value))
    return str(path)


# settings and input


def test_settings_prints_the_stored_settings_indented(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert home.ok("settings", "snooze-0") == '{\n    "value": {\n        "seconds": 2.0\n    }\n}\n'


def test_settings_set_file_replaces_them_after_the_executable_checks(home: Ansar) -> None:
    home.ok("add", "snooze")
    short = write(home.cwd / "short-snooze", {"value": {"seconds": 1.0}})
    home.ok("settings", "snooze-0", f"--set-file={short}")
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 1.0}}
    longer = write(home.cwd / "long-snooze", {"value": {"seconds": 9}})
    home.ok("settings", "snooze-0", f"--encoding-file={longer}")
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 9.0}}  # as the executable says


def test_settings_from_stdin(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("settings", "snooze-0", "--set-file=-", stdin='{"value": {"seconds": 3.5}}')
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 3.5}}


def test_settings_refuses_a_file_the_executable_refuses(home: Ansar) -> None:
    home.ok("add", "snooze")
    bad = write(home.cwd / "bad", {"value": {"seconds": "soon"}})
    err = home.refused(2, "settings", "snooze-0", f"--set-file={bad}")
    assert 'executable "snooze" refused the settings' in err and "Expected float" in err
    unknown = write(home.cwd / "unknown", {"value": {"minutes": 1}})
    assert "unknown field `minutes`" in home.refused(2, "settings", "snooze-0", f"--set-file={unknown}")


def test_settings_refuses_a_file_that_is_not_a_value_document(home: Ansar) -> None:
    home.ok("add", "snooze")
    (home.cwd / "junk").write_text("seconds: 1")
    err = home.refused(2, "settings", "snooze-0", "--set-file=junk")
    assert err.startswith('ansar: junk: not a {"value": ...} document')
    assert home.refused(1, "settings", "snooze-0", "--set-file=missing") == "ansar: missing: not found"


def test_settings_of_a_role_without_settings_says_so(home: Ansar) -> None:
    home.ok("add", "noop")
    err = home.refused(1, "settings", "noop-0")
    assert err == 'ansar: role "noop-0" has no settings (executable "noop" takes none)'
    some = write(home.cwd / "some", {"value": {"seconds": 1.0}})
    assert home.refused(1, "settings", "noop-0", f"--set-file={some}") == err  # both forms agree


def test_settings_of_an_unknown_role_is_refused(home: Ansar) -> None:
    assert home.refused(1, "settings", "ghost-0") == f'ansar: role "ghost-0" not found in {home.home}'


def test_settings_refuses_two_different_files(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert "not both" in home.refused(2, "settings", "snooze-0", "--set-file=a", "--encoding-file=b")


def test_input_prints_and_replaces_the_input(home: Ansar) -> None:
    home.ok("add", "factorial")
    assert home.document("input", "factorial-0") == {"value": 5}
    seven = write(home.cwd / "factorial-7", {"value": 7})
    home.ok("input", "factorial-0", f"--set-file={seven}")
    assert home.document("input", "factorial-0") == {"value": 7}
    bad = write(home.cwd / "bad", {"value": "seven"})
    assert "Expected int" in home.refused(2, "input", "factorial-0", f"--set-file={bad}")


def test_input_of_a_role_without_input_says_so(home: Ansar) -> None:
    home.ok("add", "snooze")
    err = home.refused(1, "input", "snooze-0")
    assert err == 'ansar: role "snooze-0" has no input (executable "snooze" takes none)'


def test_settings_refused_when_the_executable_is_gone(home: Ansar) -> None:
    home.ok("add", "snooze")
    short = write(home.cwd / "short", {"value": {"seconds": 1.0}})
    (home.bin / "snooze").unlink()
    err = home.refused(1, "settings", "snooze-0", f"--set-file={short}")
    assert err == f'ansar: executable "snooze" not found in {home.bin}'
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 2.0}}  # still readable


# get and set


def test_get_of_an_unset_property_is_null(home: Ansar) -> None:
    home.ok("add", "client")
    assert home.document("get", "retry", "client-0") == {"value": None}
    assert home.document("get", "storage", "client-0") == {"value": None}


def test_set_retry_then_get_prints_only_the_members_set(home: Ansar) -> None:
    home.ok("add", "client", "test-client-{number}", "--start=10", "--count=40")
    retry = write(home.cwd / "client-retry", {"value": {"first_steps": [1.0, 2.0, 4.0]}})
    home.ok("set", "retry", r"test-client-\d\d", f"--encoding-file={retry}")
    out = home.ok("get", "retry", "test-client-49")
    assert json.loads(out) == {"value": {"first_steps": [1.0, 2.0, 4.0]}}
    assert out.startswith('{\n    "value": {\n        "first_steps": [')
    assert home.document("get", "retry", "test-client-10") == {"value": {"first_steps": [1.0, 2.0, 4.0]}}


def test_set_accepts_set_file_and_stdin(home: Ansar) -> None:
    home.ok("add", "client")
    storage = write(home.cwd / "storage", {"value": 1000000})
    home.ok("set", "storage", "client-0", f"--set-file={storage}")
    assert home.document("get", "storage", "client-0") == {"value": 1000000}
    home.ok("set", "retry", "client-0", "--encoding-file=-", stdin='{"value": {"regular_steps": 8.0, "step_limit": 6}}')
    assert home.document("get", "retry", "client-0") == {"value": {"regular_steps": 8.0, "step_limit": 6}}


def test_set_null_clears_a_property(home: Ansar) -> None:
    home.ok("add", "client")
    home.ok("set", "storage", "client-0", "--set-file=-", stdin='{"value": 5000}')
    home.ok("set", "storage", "client-0", "--set-file=-", stdin='{"value": null}')
    assert home.document("get", "storage", "client-0") == {"value": None}
    record = json.loads((home.home / "role" / "client-0.json").read_text())
    assert record == {"value": {"executable": "client"}}


@pytest.mark.parametrize(
    "value, text",
    [
        ({"value": {"first_step": [1.0]}}, "unknown field `first_step`"),
        ({"value": {"first_steps": "1.0"}}, "Expected `array`, got `str` - at `$.value.first_steps`"),
        ({"valu": {}}, "unknown field `valu`"),
    ],
)
def test_set_refuses_a_bad_retry_naming_the_file(home: Ansar, value: object, text: str) -> None:
    home.ok("add", "client")
    bad = write(home.cwd / "bad-retry", value)
    err = home.refused(2, "set", "retry", "client-0", f"--encoding-file={bad}")
    assert err.startswith(f"ansar: {bad}: ") and text in err


def test_set_refuses_a_storage_that_is_not_a_positive_int(home: Ansar) -> None:
    home.ok("add", "client")
    for value in (-1, 0, 1.5, "big"):
        bad = write(home.cwd / "bad", {"value": value})
        home.refused(2, "set", "storage", "client-0", f"--encoding-file={bad}")


def test_get_and_set_refuse_an_unknown_property(home: Ansar) -> None:
    home.ok("add", "client")
    refusal = 'ansar: no property "colour" (there is after, exclusive, ready, retry, storage, timeout)'
    assert home.refused(2, "get", "colour", "client-0") == refusal
    assert 'no property "colour"' in home.refused(2, "set", "colour", "client-0", "--encoding-file=x")


def test_set_needs_a_file_and_a_match(home: Ansar) -> None:
    home.ok("add", "client")
    assert "needs --encoding-file" in home.refused(2, "set", "retry", "client-0")
    retry = write(home.cwd / "retry", {"value": {}})
    assert 'search "server-.*" matches no role' in home.refused(1, "set", "retry", "server-.*", f"--set-file={retry}")


def test_get_of_an_unknown_role_is_refused(home: Ansar) -> None:
    assert 'role "ghost" not found' in home.refused(1, "get", "retry", "ghost")


# edit


def editor(tmp: Path, replacement: str | None, status: int = 0) -> str:
    """An $EDITOR that writes ``replacement`` over the file (or leaves it), then exits ``status``."""
    script = tmp / "editor.py"
    body = "import sys\n"
    if replacement is not None:
        body += f"open(sys.argv[1], 'w').write({replacement!r})\n"
    body += f"sys.exit({status})\n"
    script.write_text(body)
    return f"{sys.executable} {script}"


def test_edit_settings_stores_what_the_editor_left(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "snooze")
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": {"seconds": 7.5}}'))
    monkeypatch.delenv("VISUAL", raising=False)
    home.ok("edit", "settings", "snooze-0")
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 7.5}}


def test_edit_input_and_property(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "factorial")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": 10}'))
    home.ok("edit", "input", "factorial-0")
    assert home.document("input", "factorial-0") == {"value": 10}
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": {"first_steps": [0.5]}}'))
    home.ok("edit", "retry", "factorial-0")
    assert home.document("get", "retry", "factorial-0") == {"value": {"first_steps": [0.5]}}


def test_edit_that_no_longer_decodes_stores_nothing(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "snooze")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": {"seconds": "long"}}'))
    assert "Expected float" in home.refused(2, "edit", "settings", "snooze-0")
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": {"first_steps": [oops'))
    assert "edited retry" in home.refused(2, "edit", "retry", "snooze-0")


def test_edit_left_unchanged_or_abandoned_stores_nothing(home: Ansar, monkeypatch: pytest.MonkeyPatch) -> None:
    home.ok("add", "snooze")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor(home.cwd, None))
    home.ok("edit", "settings", "snooze-0")
    monkeypatch.setenv("EDITOR", editor(home.cwd, '{"value": {"seconds": 1.0}}', status=3))
    assert "exited with status 3; nothing stored" in home.refused(1, "edit", "settings", "snooze-0")
    monkeypatch.setenv("EDITOR", str(home.cwd / "no-such-editor"))
    assert "cannot be run" in home.refused(1, "edit", "settings", "snooze-0")


def test_edit_refuses_what_cannot_be_edited(home: Ansar) -> None:
    home.ok("add", "noop")
    assert 'cannot edit "model"' in home.refused(2, "edit", "model", "noop-0")
    assert 'has no settings' in home.refused(1, "edit", "settings", "noop-0")


# folder


def test_folder_prints_where_a_role_keeps_things(home: Ansar) -> None:
    home.ok("add", "snooze")
    h = home.home
    expected = {
        "model": h / "model" / "snooze-0",
        "tmp": h / "tmp" / "snooze-0",
        "logs": h / "logs" / "snooze-0",
        "resource": h / "resource" / "snooze",
        "bin": home.bin,
        "settings": h / "settings" / "snooze-0.json",
        "input": h / "input" / "snooze-0.json",
        "history": h / "history" / "snooze-0.json",
        "lock": h / "lock" / "snooze-0.lock",
    }
    for kind, path in expected.items():
        assert home.ok("folder", kind, "snooze-0") == f"{path}\n"
    assert home.ok("folder", "bin") == f"{home.bin}\n"


def test_folder_refuses_unknown_kinds_and_roles(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert 'no folder kind "attic"' in home.refused(2, "folder", "attic", "snooze-0")
    assert 'role "ghost" not found' in home.refused(1, "folder", "model", "ghost")
    assert '"model" needs a role' in home.refused(2, "folder", "model")
