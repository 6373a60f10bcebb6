"""The order of roles as pure logic: the graph of ``after``, cycles, what may start, stop waves."""

from __future__ import annotations

from ansar.home._order import exclusive_clashes, find_cycle, needed, next_step, resolve, stop_waves

NAMES = ["a-0", "b-0", "client-0", "client-1", "server-0"]


def test_resolve_matches_each_search_against_the_roles():
    graph, unmatched = resolve(NAMES, {"client-0": ["server-0"], "client-1": ["server-.*", "a-0"], "a-0": None})
    assert graph == {"client-0": ["server-0"], "client-1": ["a-0", "server-0"]}
    assert unmatched == []


def test_resolve_names_a_search_that_matches_no_role():
    graph, unmatched = resolve(NAMES, {"client-0": ["server-0", "db-.*"]})
    assert graph == {"client-0": ["server-0"]}
    assert unmatched == [("client-0", "db-.*")]


def test_a_cycle_is_found_through_the_role_it_starts_at():
    graph = {"a-0": ["b-0"], "b-0": ["a-0"]}
    assert find_cycle(graph, "a-0") == ["a-0", "b-0", "a-0"]
    assert find_cycle(graph, "b-0") == ["b-0", "a-0", "b-0"]


def test_the_shortest_cycle_of_a_longer_chain():
    graph = {"a": ["b", "x"], "b": ["c"], "c": ["a"], "x": ["a"]}
    assert find_cycle(graph, "a") == ["a", "x", "a"]
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}, "a") == ["a", "b", "c", "a"]


def test_a_role_after_itself_is_a_cycle():
    assert find_cycle({"a-0": ["a-0"]}, "a-0") == ["a-0", "a-0"]


def test_no_cycle():
    graph = {"client-0": ["server-0"], "client-1": ["server-0", "client-0"]}
    assert all(find_cycle(graph, n) is None for n in NAMES)
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["b"]}, "a") is None  # a cycle not through a


def test_needed_is_transitive():
    graph = {"c": ["b"], "b": ["a"], "x": ["y"]}
    assert needed(graph, ["c"]) == {"a", "b"}
    assert needed(graph, ["c", "b"]) == {"a", "b"}
    assert needed(graph, ["a"]) == set()


def test_stop_waves_put_dependents_first():
    graph = {"client-0": ["server-0"], "client-1": ["server-0"], "server-0": ["db-0"]}
    assert stop_waves(graph, ["db-0", "server-0", "client-0", "client-1", "z-0"]) == [
        ["client-0", "client-1", "z-0"], ["server-0"], ["db-0"]]


def test_stop_waves_follow_needs_through_roles_not_stopped():
    graph = {"c": ["b"], "b": ["a"]}
    assert stop_waves(graph, ["a", "c"]) == [["c"], ["a"]]


def test_stop_waves_without_after_is_one_wave():
    assert stop_waves({}, ["b", "a"]) == [["a", "b"]]
    assert stop_waves({}, []) == []


def test_exclusive_clashes_with_running_roles_and_earlier_ones():
    exclusive = {"a-0": "disk", "b-0": "disk", "c-0": "disk", "d-0": None, "e-0": "net"}
    assert exclusive_clashes(["b-0", "c-0", "d-0", "e-0"], ["a-0"], exclusive) == [
        ("b-0", ["a-0"]), ("c-0", ["a-0", "b-0"])]
    assert exclusive_clashes(["a-0"], ["a-0"], exclusive) == []  # itself is no clash
    assert exclusive_clashes(["a-0", "e-0"], [], exclusive) == []
    assert exclusive_clashes(["b-0", "c-0"], [], exclusive, among=False) == []
    assert exclusive_clashes(["b-0", "c-0"], ["a-0"], exclusive, among=False) == [("b-0", ["a-0"]), ("c-0", ["a-0"])]


def test_a_role_starts_once_each_role_it_is_after_is_up():
    graph = {"client-0": ["server-0"]}
    queued = ["client-0", "server-0"]
    assert next_step(queued, graph, up=[]).start == ["server-0"]
    assert next_step(["client-0"], graph, up=[], running=["server-0"]).start == []
    assert next_step(["client-0"], graph, up=["server-0"], running=["server-0"]).start == ["client-0"]


def test_without_after_every_queued_role_starts_in_the_order_given():
    assert next_step(["b", "a", "c"], {}, up=[]) == (["b", "a", "c"], [])


def test_a_role_after_a_blocked_one_is_faulted_naming_it():
    graph = {"client-0": ["server-0"], "client-1": ["server-0"], "other-0": []}
    step = next_step(["client-0", "client-1", "other-0"], graph, up=[], blocked={"server-0": "ended Faulted"})
    assert step.start == ["other-0"]
    assert step.faulted == [("client-0", "server-0 ended Faulted"), ("client-1", "server-0 ended Faulted")]
    step = next_step(["client-0"], graph, up=[], blocked={"server-0": "not ready after 30.0s"})
    assert step.faulted == [("client-0", "server-0 not ready after 30.0s")]


def test_exclusive_roles_start_one_at_a_time_in_order():
    exclusive = {"a-0": "disk", "b-0": "disk", "c-0": None}
    assert next_step(["a-0", "b-0", "c-0"], {}, up=[], exclusive=exclusive).start == ["a-0", "c-0"]
    assert next_step(["b-0"], {}, up=[], running=["a-0"], exclusive=exclusive).start == []
    assert next_step(["b-0"], {}, up=["a-0"], running=[], exclusive=exclusive).start == ["b-0"]


def test_room_limits_the_roles_started_and_a_waiting_role_holds_up_no_other():
    graph = {"a-0": ["server-0"]}
    step = next_step(["a-0", "b-0", "c-0", "d-0"], graph, up=[], room=2)
    assert step.start == ["b-0", "c-0"]
    assert next_step(["a-0", "b-0"], {}, up=[], room=0).start == []


def test_room_and_exclusive_together():
    exclusive = {"a-0": "x", "b-0": "x"}
    assert next_step(["a-0", "b-0", "c-0", "d-0"], {}, up=[], exclusive=exclusive, room=2).start == ["a-0", "c-0"]


# --- end to end (the check of ansar set needs check_property called by ansar/command/_values.py) --------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

_WIRED = "check_property" in (Path(__file__).resolve().parent.parent / "ansar/command/_values.py").read_text()


def _set(cli, name: str, role: str, value: object) -> None:
    path = cli.cwd / f"{name}-{role}.json"
    path.write_text(json.dumps({"value": value}))
    cli.ok("set", name, role, f"--encoding-file={path}")


def test_run_starts_the_client_once_the_server_is_ready_without_retry(cli) -> None:
    cli.ok("add", "warm")
    cli.ok("add", "probe")
    cli.ok("update", "warm-0", "--port=65429", "--setup=0.5")
    cli.ok("update", "probe-0", "--port=65429")
    _set(cli, "after", "probe-0", ["warm-0"])
    _set(cli, "ready", "warm-0", 10)
    done = cli("run", "probe-0", seconds=60)  # warm-0 outside the search: started in the background
    assert done.returncode == 0, done.stderr
    completed = dict(map(tuple, json.loads(done.stdout)["value"][1]["completed"]))
    assert completed["probe-0"][0] == "ansar.create.test.TestReport"
    assert completed["probe-0"][1]["failed"] == 0
    assert cli.running() == ["warm-0"]  # left running
    cli.ok("stop", "warm-0")


def test_no_deps_refuses_naming_the_roles_not_running(cli) -> None:
    cli.ok("add", "warm")
    cli.ok("add", "probe")
    _set(cli, "after", "probe-0", ["warm-0"])
    refusal = 'ansar: cannot perform "run", "probe-0" after roles not running - warm-0'
    assert cli.refused(1, "run", "probe-0", "--no-deps") == refusal
    assert cli.running() == []


@pytest.mark.skipif(not _WIRED, reason="ansar set does not call check_property yet (lead's _values.py)")
def test_a_cycle_is_refused_and_the_home_unchanged(cli) -> None:
    cli.ok("add", "zombie", "a-{number}")
    cli.ok("add", "zombie", "b-{number}")
    _set(cli, "after", "a-0", ["b-0"])
    (cli.cwd / "after").write_text(json.dumps({"value": ["a-0"]}))
    refusal = 'ansar: cannot set "after" for "b-0" (cycle b-0, a-0, b-0)'
    assert cli.refused(2, "set", "after", "b-0", "--encoding-file=after") == refusal
    assert json.loads(cli.ok("get", "after", "b-0")) == {"value": None}


def _most_at_once(cli, prefixes: list[str], *args: str) -> tuple[int, object]:
    """Run ``ansar run *args`` while sampling how many of the roles named by ``prefixes`` run."""
    import threading

    import psutil

    from ansar.create._tree import scan

    mine = f"--home-path={cli.home}"
    most = [0]
    done = threading.Event()

    def count() -> int:
        n = 0
        for pid in scan():
            try:
                argv = psutil.Process(pid).cmdline()
            except psutil.Error:
                continue
            if mine in argv and any(a.startswith("--role-name=") and a[12:].startswith(tuple(prefixes))
                                    for a in argv):
                n += 1
        return n

    def sample() -> None:
        while not done.is_set():
            most[0] = max(most[0], count())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        finished = cli("run", *args, seconds=90)
    finally:
        done.set()
        sampler.join()
    return most[0], finished


def test_exclusive_roles_never_run_at_once_and_jobs_hold_with_after(cli) -> None:
    cli.ok("add", "snooze", "x-{number}", "--count=3")
    cli.ok("add", "snooze", "y-{number}", "--count=6")
    cli.ok("update", ".*", "--seconds=0.3")
    for n in range(3):
        _set(cli, "exclusive", f"x-{n}", "disk")
    for n in range(1, 6):
        _set(cli, "after", f"y-{n}", ["y-0"])
    most, finished = _most_at_once(cli, ["x-"], "--jobs=4")
    assert finished.returncode == 0, finished.stderr
    assert len(json.loads(finished.stdout)["value"][1]["completed"]) == 9
    assert most == 1
    most, finished = _most_at_once(cli, ["x-", "y-"], "--jobs=4")
    assert finished.returncode == 0, finished.stderr
    assert 1 <= most <= 4


def test_stop_stops_dependents_first(cli) -> None:
    cli.ok("add", "zombie", "a-{number}")
    cli.ok("add", "zombie", "b-{number}")
    _set(cli, "after", "b-0", ["a-0"])
    cli.ok("start")
    assert cli.running() == ["a-0", "b-0"]
    done = cli("--debug-level=CONSOLE", "stop")
    assert done.returncode == 0, done.stderr
    waves = [line.split(" - ", 1)[1] for line in done.stderr.splitlines() if "Stop roles" in line]
    assert waves == ["Stop roles (b-0)", "Stop roles (a-0)"]
    assert cli.running() == []


def test_a_server_not_ready_in_time_faults_its_client_and_is_left_alone(cli) -> None:
    cli.ok("add", "warm")
    cli.ok("add", "probe")
    cli.ok("update", "warm-0", "--port=65428", "--setup=30.0")
    _set(cli, "after", "probe-0", ["warm-0"])
    _set(cli, "ready", "warm-0", 0.5)
    refusal = 'ansar: role "probe-0" did not start (warm-0 not ready after 0.5s)'
    assert cli.refused(1, "start") == refusal
    assert cli.running() == ["warm-0"]
    assert cli.ok("status", "-l").strip().endswith("(not ready)")
