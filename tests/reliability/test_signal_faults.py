"""``pause``, ``resume`` and ``signal`` on roles that end meanwhile: each answers with success or one
line, never a traceback, and reaches nothing that is not the role (a stale lock record naming an
unrelated process included)."""

from __future__ import annotations

import subprocess

from reliability_support import FIGURES, Cli, InProcess, one_line_refusal, wait_for

from ansar.home._signals import is_paused

__all__: list[str] = []


def test_pause_resume_and_signal_of_roles_ending_meanwhile(cli: Cli) -> None:
    fast: InProcess = cli.fast  # type: ignore[attr-defined]
    fast.ok("add", "--command=sleep 0.3", "brief-{number}", "--count=2")
    bystander = subprocess.Popen(["sleep", "30"])  # not of the home: must never be signalled
    try:
        cli.ok("start")
        FIGURES.fault(2)
        answers = []
        while fast.ok("status"):  # until both have ended by themselves
            for args in (("pause",), ("resume",), ("signal", "--signal=CONT"), ("-f", "pause"), ("-f", "resume")):
                status, out, err = fast(*args)
                assert status == 0 or one_line_refusal(status, err), (args, status, err)
                answers.append(status)
        fast.ok("-f", "resume")
        assert 0 in answers
        pid_file = cli.home / "lock" / "brief-0.pid"
        pid_file.write_text(f"{bystander.pid} 1\n")  # a stale record naming an unrelated process
        FIGURES.fault()
        assert fast("pause")[0] == 1 and fast("-f", "pause")[0] == 0
        assert fast("-f", "signal", "--signal=STOP")[0] == 0
        assert not is_paused(bystander.pid) and bystander.poll() is None
        wait_for(lambda: fast.ok("status") == "", seconds=2.0, what="both ended")
    finally:
        bystander.kill()
        bystander.wait()
