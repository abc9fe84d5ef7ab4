"""Signals and the shell: PID 1 ignoring SIGTERM, deferred traps, interrupted wait, jobs."""

from __future__ import annotations

import pytest

from podlab.engine.runtime.fakeruntime import RunResult, run_program
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import SIGINT, SIGKILL, SIGTERM
from podlab.engine.runtime.shell import APPLETS, command_program, run_script


def sh(script: str, signals: list[tuple[float, int]], *, until: float = 10_000.0,
       is_pid1: bool = True) -> RunResult:
    fs = MemoryFileSystem({f"/bin/{name}": "" for name in APPLETS}, dirs=["/tmp"])
    return run_program(run_script(script), fs=fs, signals=signals, until=until, is_pid1=is_pid1)


def test_pid1_shell_ignores_sigterm_without_trap() -> None:
    result = sh("sleep 600; echo done", [(10.0, SIGTERM)], until=100.0)
    assert result.exit_code is None  # still running: the kubelet will SIGKILL after the grace
    result = sh("sleep 60; echo done", [(10.0, SIGTERM)])
    assert (result.exit_code, result.finished_at, result.stdout) == (0, 60.0, "done\n")


def test_sigkill_always_kills() -> None:
    result = sh("trap 'echo no' TERM KILL; sleep 600", [(5.0, SIGKILL)])
    assert (result.exit_code, result.finished_at, result.stdout) == (137, 5.0, "")


def test_non_pid1_shell_dies_by_default() -> None:
    result = sh("sleep 600", [(5.0, SIGTERM)], is_pid1=False)
    assert (result.exit_code, result.finished_at) == (143, 5.0)


def test_trap_runs_after_the_foreground_command() -> None:
    result = sh("trap 'echo caught; exit 0' TERM; sleep 3600; echo not reached",
                [(10.0, SIGTERM)])
    assert (result.exit_code, result.finished_at, result.stdout) == (0, 3600.0, "caught\n")


def test_wait_is_interrupted_at_once() -> None:
    result = sh("trap 'echo caught; exit 0' TERM; sleep 3600 & wait", [(10.0, SIGTERM)])
    assert (result.exit_code, result.finished_at, result.stdout) == (0, 10.0, "caught\n")


def test_interrupted_wait_returns_128_plus_signal() -> None:
    result = sh("trap 'echo caught' TERM INT; sleep 3600 & wait; echo \"wait=$?\"",
                [(4.0, SIGINT)])
    assert result.stdout == "caught\nwait=130\n"
    assert result.finished_at == 4.0


def test_trap_that_does_not_exit_continues_the_script() -> None:
    result = sh("trap 'echo term' TERM; sleep 5; echo after; sleep 5; echo end",
                [(2.0, SIGTERM), (7.0, SIGTERM)])
    assert result.stdout == "term\nafter\nterm\nend\n"
    assert (result.exit_code, result.finished_at) == (0, 10.0)


def test_ignored_and_reset_traps() -> None:
    ignored = sh("trap '' TERM; sleep 20; echo survived", [(5.0, SIGTERM)], is_pid1=False)
    assert (ignored.exit_code, ignored.stdout) == (0, "survived\n")
    reset = sh("trap 'echo x' TERM; trap - TERM; sleep 20", [(5.0, SIGTERM)], is_pid1=False)
    assert (reset.exit_code, reset.finished_at, reset.stdout) == (143, 5.0, "")


def test_trap_listing_and_bad_signal() -> None:
    result = sh("trap 'echo bye' TERM; trap; trap 'x' NOPE; echo $?", [])
    assert result.stdout == "trap -- 'echo bye' TERM\n1\n"
    assert result.stderr == "sh: trap: NOPE: bad trap\n"


def test_exit_trap_runs_on_exit() -> None:
    result = sh("trap 'echo cleanup' EXIT; echo work; exit 4", [])
    assert (result.stdout, result.exit_code) == ("work\ncleanup\n", 4)


def test_kill_self_runs_trap() -> None:
    result = sh("trap 'echo got TERM' TERM; kill -TERM $$; echo next", [])
    assert result.stdout == "got TERM\nnext\n"
    result = sh("kill -9 $$; echo never", [])
    assert (result.exit_code, result.stdout) == (137, "")


def test_kill_background_job() -> None:
    result = sh("sleep 100 & pid=$!; kill $pid; wait $pid; echo \"status $?\"", [])
    assert (result.stdout, result.finished_at) == ("status 143\n", 0.0)
    result = sh("sleep 100 & kill -9 %1; wait; echo $?", [])
    assert result.stdout == "0\n"
    result = sh("kill 4242", [])
    assert (result.exit_code, result.stderr) == (1, "sh: can't kill pid 4242: No such process\n")


def test_background_jobs_run_concurrently() -> None:
    result = sh("(sleep 2; echo two) & (sleep 1; echo one) & echo zero; wait; echo all", [])
    assert result.stdout == "zero\none\ntwo\nall\n"
    assert result.finished_at == 2.0


def test_wait_for_a_specific_job_status() -> None:
    result = sh("(sleep 1; exit 3) & p=$!; sleep 5 & wait $p; echo $?", [])
    assert result.stdout == "3\n"
    assert result.finished_at == 1.0


def test_exec_probe_style_sleep_and_exit() -> None:
    """`sh -c "sleep 10 & exit 1"` exits at once with 1 (the e2e probe-timeout case)."""
    fs = MemoryFileSystem({f"/bin/{name}": "" for name in APPLETS})
    result = run_program(command_program(["/bin/sh", "-c", "sleep 10 & exit 1"]), fs=fs,
                         is_pid1=False)
    assert (result.exit_code, result.finished_at) == (1, 0.0)


def test_docs_liveness_exec_timeline() -> None:
    """The docs' exec-liveness container: the file exists for 30 s, SIGTERM is ignored."""
    fs = MemoryFileSystem({f"/bin/{name}": "" for name in APPLETS}, dirs=["/tmp"])
    script = "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"
    result = run_program(run_script(script), fs=fs, signals=[(45.0, SIGTERM)], until=40.0)
    assert result.exit_code is None
    assert not fs.exists("/tmp/healthy")


@pytest.mark.parametrize("sig", [SIGTERM, SIGINT])
def test_sleep_infinity_with_trap_never_reaches_the_trap(sig: int) -> None:
    result = sh("trap 'exit 0' TERM INT; sleep infinity", [(1.0, sig)], until=500.0)
    assert result.exit_code is None
