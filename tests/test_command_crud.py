"""create, add, list, update, delete, destroy, and the command line itself."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_command_support import (  # noqa: F401 - fixtures
    Ansar,
    ansar_fixture,
    home_fixture,
    make_executable,
    run_ansar,
    snapshot,
)

# The command line.


def test_help_lists_every_sub_command_and_global_setting(ansar: Ansar) -> None:
    out = ansar.ok("--help")
    for name in ("create", "add", "list", "update", "delete", "destroy", "settings", "input", "get",
                 "set", "edit", "folder", "--force", "--debug-level"):
        assert name in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_sub_command_help_lists_settings_with_type_and_default(ansar: Ansar, where: str) -> None:
    out = ansar.ok(*(["--help", "add"] if where == "before" else ["add", "--help"]))
    assert "--start=<INT>" in out and "(default 0)" in out
    assert "--count=<INT>" in out and "(default 1)" in out
    assert "--home-path=<STR>" in out and "(default .ansar-home)" in out
    assert "--force, -f" in out


def test_no_sub_command_is_a_usage_error(ansar: Ansar) -> None:
    assert ansar.refused(2) == "ansar: no sub-command given (ansar --help lists them)"


def test_unknown_sub_command_is_a_usage_error(ansar: Ansar) -> None:
    assert 'unknown sub-command "frobnicate"' in ansar.refused(2, "frobnicate")


def test_unknown_setting_is_a_usage_error(home: Ansar) -> None:
    assert 'unknown setting "--bogus"' in home.refused(2, "list", "--bogus")
    assert 'unknown setting "--bogus"' in home.refused(2, "--bogus", "list")


def test_bad_setting_value_is_a_usage_error(home: Ansar) -> None:
    assert '"--count=many" is not an int' in home.refused(2, "add", "snooze", "--count=many")
    assert "is not one of" in home.refused(2, "list", "--debug-level=LOUD")


def test_too_many_words_is_a_usage_error(home: Ansar) -> None:
    assert 'unexpected word "b"' in home.refused(2, "list", "a", "b")


def test_globals_are_accepted_before_and_after_the_sub_command(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert home.ok("--debug-level=CONSOLE", "list") == "snooze-0\n"
    assert home.ok("list", "--debug-level=debug", "-f") == "snooze-0\n"


def test_the_console_script_runs_as_a_process(home: Ansar) -> None:
    done = run_ansar("add", "snooze", cwd=home.cwd)
    assert (done.returncode, done.stderr) == (0, "")
    done = run_ansar("list", cwd=home.cwd)
    assert (done.returncode, done.stdout) == (0, "snooze-0\n")
    done = run_ansar("list", "nothing-like-this", cwd=home.cwd)
    assert done.returncode == 1
    assert done.stderr == 'ansar: search "nothing-like-this" matches no role\n'


# create


def test_create_makes_a_private_home_in_the_current_folder(ansar: Ansar) -> None:
    ansar.ok("create")
    assert stat.S_IMODE(os.stat(ansar.home).st_mode) == 0o700
    record = json.loads((ansar.home / "home.json").read_text())
    assert record == {"value": {"version": 1}}
    assert stat.S_IMODE(os.stat(ansar.home / "home.json").st_mode) == 0o600
    for kind in ("bin", "settings", "input", "model", "resource", "tmp", "logs", "lock", "history", "role"):
        assert (ansar.home / kind).is_dir()


def test_create_takes_a_home_path_word(ansar: Ansar) -> None:
    ansar.ok("create", "toy-robot")
    assert (ansar.cwd / "toy-robot" / "home.json").exists()
    assert not ansar.home.exists()
    # Without a redirect, executables are looked for in the home's own bin.
    err = ansar.refused(1, "add", "snooze", "left-arm", "toy-robot")
    assert err == f'ansar: executable "snooze" not found in {ansar.cwd / "toy-robot" / "bin"}'
    make_executable(ansar.cwd / "toy-robot" / "bin", "snooze", {"seconds": 1.0})
    ansar.ok("add", "snooze", "left-arm", "toy-robot")
    assert ansar.ok("list", "--home-path=toy-robot") == "left-arm\n"


def test_create_redirect_bin_is_stored_absolute_and_used_by_add(ansar: Ansar) -> None:
    ansar.ok("create", "--redirect-bin=dist")
    record = json.loads((ansar.home / "home.json").read_text())
    assert record["value"]["redirect"] == {"bin": str(ansar.bin)}
    assert not (ansar.home / "bin").exists()
    ansar.ok("add", "snooze")
    assert ansar.ok("folder", "bin") == f"{ansar.bin}\n"


def test_create_redirects_other_folders(ansar: Ansar) -> None:
    (ansar.cwd / "elsewhere").mkdir()  # a redirect's last folder is made, never a deeper path
    ansar.ok("create", "--redirect-bin=dist", "--redirect-logs=elsewhere/logs", "--redirect-model=models")
    ansar.ok("add", "snooze")
    assert (ansar.cwd / "elsewhere" / "logs" / "snooze-0").is_dir()
    assert ansar.ok("folder", "model", "snooze-0") == f"{ansar.cwd / 'models' / 'snooze-0'}\n"


def test_create_refuses_an_existing_home(home: Ansar) -> None:
    assert "a home already exists" in home.refused(1, "create")


def test_create_refuses_a_folder_with_other_things_in_it(ansar: Ansar) -> None:
    (ansar.cwd / "busy").mkdir()
    (ansar.cwd / "busy" / "notes.txt").write_text("mine")
    assert "exists and is not an empty folder" in ansar.refused(1, "create", "busy")


def test_create_refuses_an_unknown_redirect(ansar: Ansar) -> None:
    assert 'cannot redirect "role"' in ansar.refused(2, "create", "--redirect-role=x")
    assert 'cannot redirect "nonsense"' in ansar.refused(2, "create", "--redirect-nonsense=x")
    assert not ansar.home.exists()


def test_create_refuses_two_different_homes(ansar: Ansar) -> None:
    assert "two homes given" in ansar.refused(2, "create", "a", "--home-path=b")


# add


def test_add_stores_the_executables_default_settings_and_input(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("add", "factorial")
    assert home.ok("list") == "factorial-0\nsnooze-0\n"
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 2.0}}
    assert home.document("input", "factorial-0") == {"value": 5}
    record = json.loads((home.home / "role" / "snooze-0.json").read_text())
    assert record == {"value": {"executable": "snooze"}}
    for kind in ("model", "tmp", "logs"):
        assert (home.home / kind / "snooze-0").is_dir()
    assert (home.home / "resource" / "snooze").is_dir()


def test_add_applies_settings_checked_by_the_executable(home: Ansar) -> None:
    home.ok("add", "snooze", "--seconds=5.0")
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 5.0}}


def test_add_refuses_a_setting_the_executable_refuses(home: Ansar) -> None:
    err = home.refused(2, "add", "snooze", "--seconds=soon")
    assert 'executable "snooze" refused --seconds=soon' in err and "Expected float" in err
    err = home.refused(2, "add", "snooze", "--colour=red")
    assert 'unknown setting "--colour"' in err


def test_add_with_role_template_and_home_words(ansar: Ansar) -> None:
    ansar.ok("create", "toy-robot", "--redirect-bin=dist")
    ansar.ok("add", "server", "left-arm", "toy-robot", "--port=1")
    assert ansar.ok("list", "--home-path=toy-robot") == "left-arm\n"
    assert ansar.document("settings", "left-arm", "--home-path=toy-robot") == {
        "value": {"host": "127.0.0.1", "port": 1}
    }


def test_add_many_roles_from_a_template(home: Ansar) -> None:
    home.ok("add", "client", "test-client-{number}", "--start=10", "--count=40")
    home.ok("add", "client", "test-client")
    names = home.ok("list").split()
    assert names[:3] == ["test-client", "test-client-10", "test-client-11"]
    assert len(names) == 41 and names[-1] == "test-client-49"


def test_add_template_with_executable_and_format(home: Ansar) -> None:
    home.ok("add", "snooze", "{executable}.{number:03d}", "--count=2")
    assert home.ok("list") == "snooze.000\nsnooze.001\n"


def test_add_refuses_an_existing_role(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert home.refused(1, "add", "snooze") == f'ansar: role "snooze-0" already exists in {home.home}'
    assert 'role "snooze-0" already exists' in home.refused(1, "add", "snooze", "--count=3")
    assert home.ok("list") == "snooze-0\n"


def test_add_refuses_any_existing_role_of_a_range_and_adds_none(home: Ansar) -> None:
    home.ok("add", "snooze", "--start=2")
    home.refused(1, "add", "snooze", "--count=5")
    assert home.ok("list") == "snooze-2\n"


def test_add_refuses_a_missing_executable(home: Ansar) -> None:
    err = home.refused(1, "add", "robot-arm")
    assert err == f'ansar: executable "robot-arm" not found in {home.bin}'


def test_add_refuses_a_file_that_is_not_executable(home: Ansar) -> None:
    (home.bin / "readme").write_text("not a program")
    assert "not executable" in home.refused(1, "add", "readme")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "..", "spaced name", "star*", "x" * 201])
def test_add_refuses_a_role_name_that_is_not_plain(home: Ansar, name: str) -> None:
    assert "is not a plain name" in home.refused(2, "add", "snooze", name)


def test_add_refuses_an_executable_name_that_is_not_plain(home: Ansar) -> None:
    assert 'executable "../dist/snooze" is not a plain name' in home.refused(2, "add", "../dist/snooze", "x")


def test_add_refuses_bad_templates(home: Ansar) -> None:
    assert "only {executable} and {number}" in home.refused(2, "add", "snooze", "{who}")
    assert "the same name more than once" in home.refused(2, "add", "snooze", "same", "--count=2")
    assert "role template" in home.refused(2, "add", "snooze", "{number")
    assert "adds no role" in home.refused(2, "add", "snooze", "--count=0")
    # Refused before a name is made: this count once built names until the machine ran out of memory.
    assert "(at most 10,000)" in home.refused(2, "add", "snooze", "--count=99999999999")
    assert "(at most 10,000)" in home.refused(2, "add", "--command=true", "--count=10001")


def test_add_refuses_an_executable_that_fails_or_talks_nonsense(home: Ansar) -> None:
    err = home.refused(1, "add", "broken")
    assert 'executable "broken" failed the settings' in err and "RuntimeError" in err
    assert 'executable "garbage"' in home.refused(2, "add", "garbage")


def test_add_without_a_home_is_refused(ansar: Ansar) -> None:
    assert ansar.refused(1, "add", "snooze") == f"ansar: {ansar.home}: no such home"


# list


def test_list_of_an_empty_home_prints_nothing(home: Ansar) -> None:
    assert home.ok("list") == ""


def test_list_search_is_a_whole_name_regular_expression(home: Ansar) -> None:
    home.ok("add", "client", "client-{number}", "--count=12")
    home.ok("add", "server")
    assert home.ok("list", "client-1") == "client-1\n"
    assert home.ok("list", r"client-1\d") == "client-10\nclient-11\n"
    assert home.ok("list", "client-.*", "--invert-search") == "server-0\n"


def test_list_search_matching_nothing_is_an_error_naming_it(home: Ansar) -> None:
    home.ok("add", "server")
    assert home.refused(1, "list", "client") == 'ansar: search "client" matches no role'
    assert "not server-0" in home.refused(1, "list", "server-0", "--invert-search")


def test_list_search_that_is_not_a_regular_expression_is_a_usage_error(home: Ansar) -> None:
    assert 'search "(" is not a regular expression' in home.refused(2, "list", "(")


def test_long_listing_shows_executable_settings_and_properties(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("add", "noop")
    (home.cwd / "retry").write_text('{"value": {"first_steps": [1.0, 2.0]}}')
    home.ok("set", "retry", "snooze-0", "--encoding-file=retry")
    lines = home.ok("list", "-l").splitlines()
    assert lines[0].split() == ["noop-0", "noop", "-", "-"]
    assert lines[1].split() == ["snooze-0", "snooze", "seconds=2.0", 'retry={"first_steps":[1.0,2.0]}']
    assert home.ok("list", "--long-listing") == home.ok("list", "-l")


def test_list_names_a_damaged_role_file(home: Ansar) -> None:
    home.ok("add", "snooze")
    (home.home / "role" / "snooze-0.json").write_text('{"value": {"executable": 7}}')
    err = home.refused(1, "list", "-l")
    assert str(home.home / "role" / "snooze-0.json") in err and "Expected `str`" in err


# update


def test_update_changes_a_stored_setting(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("update", "snooze-0", "--seconds=5.0")
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 5.0}}


def test_update_keeps_the_other_settings(home: Ansar) -> None:
    home.ok("add", "server", "--port=1")
    home.ok("update", "server-0", "--host=example.com")
    assert home.document("settings", "server-0") == {"value": {"host": "example.com", "port": 1}}


def test_update_changes_every_matching_role(home: Ansar) -> None:
    home.ok("add", "server", "--count=3")
    home.ok("update", "server-0", "--port=7")
    home.ok("add", "snooze")
    home.ok("update", "server-.*", "--host=h")
    for n, port in ((0, 7), (1, 65432), (2, 65432)):
        assert home.document("settings", f"server-{n}") == {"value": {"host": "h", "port": port}}
    assert home.document("settings", "snooze-0") == {"value": {"seconds": 2.0}}


def test_update_refuses_a_bad_value_and_changes_nothing(home: Ansar) -> None:
    home.ok("add", "server", "--count=2")
    home.ok("add", "snooze")
    err = home.refused(2, "update", ".*", "--port=8")
    assert 'cannot update "snooze-0"' in err and 'unknown setting "--port"' in err
    assert 'refused --port=x' in home.refused(2, "update", "server-0", "--port=x")


def test_update_refuses_a_role_without_settings(home: Ansar) -> None:
    home.ok("add", "noop")
    assert 'unknown setting "--seconds"' in home.refused(2, "update", "noop-0", "--seconds=1.0")


def test_update_needs_a_setting_and_a_match(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert "nothing to change" in home.refused(2, "update", "snooze-0")
    assert 'search "zombie-0" matches no role' in home.refused(1, "update", "zombie-0", "--seconds=1.0")
    assert "needs <search>" in home.refused(2, "update")


# delete


def test_delete_removes_the_role_and_what_is_kept_for_it(home: Ansar) -> None:
    home.ok("add", "snooze")
    home.ok("add", "factorial")
    (home.home / "model" / "factorial-0" / "data.json").write_text("{}")
    home.ok("delete", "factorial-0")
    assert home.ok("list") == "snooze-0\n"
    for path in ("role/factorial-0.json", "input/factorial-0.json", "model/factorial-0", "tmp/factorial-0",
                 "logs/factorial-0"):
        assert not (home.home / path).exists(), path
    assert (home.home / "resource" / "factorial").is_dir()  # resources belong to the executable


def test_delete_by_search_and_inverted_search(home: Ansar) -> None:
    home.ok("add", "client", "--count=3")
    home.ok("add", "server")
    home.ok("delete", "client-[01]")
    assert home.ok("list") == "client-2\nserver-0\n"
    home.ok("delete", "server-0", "--invert-search")
    assert home.ok("list") == "server-0\n"


def test_delete_refuses_a_search_matching_nothing(home: Ansar) -> None:
    home.ok("add", "snooze")
    assert home.refused(1, "delete", "zombie-0") == 'ansar: search "zombie-0" matches no role'


def test_delete_needs_a_search(home: Ansar) -> None:
    assert "needs <search>" in home.refused(2, "delete")


# destroy


def test_destroy_removes_the_home_but_not_a_redirected_bin(home: Ansar) -> None:
    home.ok("add", "snooze")
    bin_before = snapshot(home.bin)
    home.ok("destroy")
    assert not home.home.exists()
    assert snapshot(home.bin) == bin_before
    assert [p.name for p in home.cwd.iterdir() if p.name.startswith(".")] == []
    home.ok("create", "--redirect-bin=dist")  # and a new one can be made at once


def test_destroy_removes_what_roles_own_in_redirected_folders_only(ansar: Ansar) -> None:
    shared = ansar.cwd / "shared-logs"
    shared.mkdir()
    (shared / "keep-me").write_text("someone else's")
    ansar.ok("create", "--redirect-bin=dist", f"--redirect-logs={shared}")
    ansar.ok("add", "snooze")
    assert (shared / "snooze-0").is_dir()
    ansar.ok("destroy")
    assert sorted(p.name for p in shared.iterdir()) == ["keep-me"]


def test_destroy_takes_a_home_word(ansar: Ansar) -> None:
    ansar.ok("create", "toy-robot")
    ansar.ok("destroy", "toy-robot")
    assert not (ansar.cwd / "toy-robot").exists()


def test_destroy_refuses_a_folder_that_is_not_a_home(ansar: Ansar) -> None:
    (ansar.cwd / "precious").mkdir()
    (ansar.cwd / "precious" / "thesis.tex").write_text("years of work")
    assert "not a home (no home.json)" in ansar.refused(1, "destroy", "precious")
    assert (ansar.cwd / "precious" / "thesis.tex").exists()
    assert "no such home" in ansar.refused(1, "destroy", "nowhere")


def test_an_executable_added_later_to_bin_is_found(home: Ansar) -> None:
    make_executable(home.bin, "robot-arm", {"rotation": 0.0})
    home.ok("add", "robot-arm", "left-arm", "--rotation=-90.0")
    assert home.document("settings", "left-arm") == {"value": {"rotation": -90.0}}


# After a new user's trial.


def test_an_unknown_sub_command_is_a_usage_error(ansar: Ansar) -> None:
    assert ansar.refused(2, "launch") == 'ansar: unknown sub-command "launch" (ansar --help lists them)'


def test_a_mistake_before_the_sub_command_is_named_once(home: Ansar) -> None:
    assert home.refused(2, "-l", "list") == 'ansar: before the sub-command: unknown flag "-l"'


def test_an_executable_that_hangs_is_ended_with_what_it_started(home: Ansar, monkeypatch) -> None:
    import psutil

    from ansar.home import _executable

    monkeypatch.setattr(_executable, "ASK_SECONDS", 1.0)
    monkeypatch.setattr(_executable.ask, "__defaults__", None)
    monkeypatch.setattr(_executable.ask, "__kwdefaults__", {"seconds": 1.0})
    bin_folder = home.cwd / "dist"
    bin_folder.mkdir(exist_ok=True)
    hang = bin_folder / "hang"
    marker = f"sleep {os.getpid() % 1000 + 1000}"
    hang.write_text(f"#!/bin/sh\n{marker}\n")
    hang.chmod(0o755)
    assert "did not answer" in home.refused(1, "add", "hang")
    left = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[-1:] == [marker.split()[1]]]
    assert left == []


def test_a_role_name_starting_with_a_dash_is_refused(home: Ansar) -> None:
    make_executable(home.cwd / "dist", "snooze", settings={"seconds": 1.0})
    assert "is not a plain name" in home.refused(2, "add", "snooze", "--", "-weird")
