# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""Conformance: the limits a real node puts on what runs in a Pod — CPU throttling (CFS
quota, cgroup v2 ``cpu.stat``), container log rotation (``containerLogMaxSize`` 10Mi,
``containerLogMaxFiles`` 5), the Pod's pids limit (``podPidsLimit``) and the memory a
program's own strings take (OOM kill: exit code 137, reason ``OOMKilled``). Each attack of
issue 11 also has to finish fast, which the ``podsim`` cases at the end check."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from podlab.engine import cli
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.kubectl.get import summarize_pod
from podlab.engine.runtime.runtime import (
    CONTAINER_LOG_MAX_FILES,
    CONTAINER_LOG_MAX_SIZE,
    CRI_RECORD_OVERHEAD,
    POD_PIDS_LIMIT,
    ContainerInstance,
)
from podlab.engine.runtime.shell.interp import MAX_KEPT_TREE
from podlab.engine.simulation import Simulation


def pod(name: str, script: str, *, limits: str = "", restart: str = "Always") -> str:
    resources = f", resources: {{limits: {{{limits}}}}}" if limits else ""
    quoted = json.dumps(script)
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
        f"  restartPolicy: {restart}\n  containers:\n"
        f"  - {{name: c, image: \"busybox:1.36\", command: [sh, -c, {quoted}]{resources}}}\n"
    )


def start(text: str, until: float) -> Simulation:
    result = parse_manifests(text)
    assert result.ok, result.problems
    sim = Simulation(seed=0)
    sim.apply(result.objects)
    sim.run_until(until)
    return sim


def instance(sim: Simulation, name: str) -> ContainerInstance:
    worker = sim._find(name, "default")  # noqa: SLF001 - the runtime's own view
    inst = worker.app_slots[0].current
    assert inst is not None
    return inst


def container_status(sim: Simulation, name: str) -> dict[str, Any]:
    found = sim.pod(name)
    assert found is not None
    return found["status"]["containerStatuses"][0]


def row(sim: Simulation, name: str) -> tuple[str, str, str]:
    found = sim.pod(name)
    assert found is not None
    cells = summarize_pod(pod=found, now=sim.now)
    return cells.ready, cells.status, cells.restarts


# --- CPU -----------------------------------------------------------------------------


def cpu_stat(text: str) -> dict[str, int]:
    return {key: int(value) for key, value in (line.split() for line in text.splitlines())}


def test_a_busy_loop_is_throttled_to_its_limit_and_shows_it_in_cpu_stat() -> None:
    # kubernetes.io "Assign CPU Resources": a container cannot use more than its limit; the
    # kernel's CFS quota throttles it (cgroup v2 cpu.max "50000 100000" for 500m).
    script = "while true; do :; done & sleep 60; cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.stat; sleep 100000"
    sim = start(pod("spin", script, limits="cpu: 500m"), 120)
    lines = sim.logs("spin").splitlines()
    assert lines[0] == "50000 100000"
    stat = cpu_stat("\n".join(lines[1:]))
    # 60 s at half a CPU (the spin stops to look around at most once a simulated second)
    assert 29_000_000 <= stat["usage_usec"] <= 31_500_000
    assert stat["nr_throttled"] == stat["nr_periods"] >= 590
    assert 29_000_000 <= stat["throttled_usec"] <= 31_500_000
    # throttling never kills: still running, never restarted
    assert row(sim, "spin") == ("1/1", "Running", "0")
    inst = instance(sim, "spin")
    assert 59 <= inst.cpu_usage <= 61  # 120 s at 500m


def test_without_a_limit_a_busy_loop_takes_one_whole_cpu_and_is_not_throttled() -> None:
    sim = start(pod("spin", "while true; do :; done & sleep 30; cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.stat; sleep 100000"), 60)
    lines = sim.logs("spin").splitlines()
    assert lines[0] == "max 100000"
    stat = cpu_stat("\n".join(lines[1:]))
    assert 29_000_000 <= stat["usage_usec"] <= 32_000_000
    assert stat["nr_periods"] == stat["nr_throttled"] == stat["throttled_usec"] == 0


def test_an_hour_of_busy_loop_is_a_few_thousand_events_not_millions_of_steps() -> None:
    sim = start(pod("spin", "while true; do :; done"), 3600)
    assert 3599 <= instance(sim, "spin").cpu_usage <= 3601
    # about one look per simulated second (benchmarks/bench_limits.py prints the real time)
    assert sim.loop.dispatched < 5000


def test_a_counting_loop_counts_at_the_interpreters_rate_and_runs_an_hour_in_bulk() -> None:
    # one iteration of `while true; do i=$((i+1)); done` is three commands (the loop's turn,
    # `true`, the assignment): 1000 commands per CPU-second make 333 iterations per second.
    # The trap reads $i when the TERM of the background job arrives, at most one CPU slice
    # (a second) after it was sent.
    script = "(sleep 60; kill -TERM 1) & i=0; trap 'echo $i; exit 0' TERM; while true; do i=$((i+1)); done"
    sim = start(pod("count", script, restart="Never"), 70)
    counted = int(sim.logs("count"))
    assert 60 * 333 <= counted <= 63 * 333
    assert container_status(sim, "count")["state"]["terminated"]["exitCode"] == 0
    # under a CPU limit of 100m, a tenth as many
    sim = start(pod("count", script, limits="cpu: 100m", restart="Never"), 70)
    assert 6 * 333 <= int(sim.logs("count")) <= 6.4 * 333
    # an hour: the loop runs on (no PodLab step limit ends it), a second of CPU per look
    sim = start(pod("count", "i=0; while true; do i=$((i+1)); done"), 3600)
    assert row(sim, "count") == ("1/1", "Running", "0")
    assert 3599 <= instance(sim, "count").cpu_usage <= 3601
    assert sim.loop.dispatched < 5000


# --- logs ----------------------------------------------------------------------------


def stamp(t: float) -> str:
    """The kubelet's rotated-file suffix (``20060102-150405``)."""
    minutes, seconds = divmod(int(t), 60)
    return f"20250101-00{minutes:02d}{seconds:02d}"


def test_the_kubelet_rotates_container_logs_and_kubectl_logs_shows_the_current_file() -> None:
    # containerLogMaxSize 10Mi, containerLogMaxFiles 5 (kubelet defaults): the kubelet's log
    # manager looks every 10 s, renames 0.log when it is past 10Mi and keeps 5 files.
    sim = start(pod("chatty", "echo first line; yes"), 5)
    assert sim.logs("chatty").startswith("first line\ny\ny\n")
    sim.run_until(300)
    inst = instance(sim, "chatty")
    text = sim.logs("chatty")
    assert "first line" not in text  # it went with a rotated file
    assert text.startswith("y\n") and set(text) == {"y", "\n"}
    # at most what 10 s of `yes` writes on top of the size the manager rotates at
    assert len(text) == inst.log_bytes <= CONTAINER_LOG_MAX_SIZE + 10 * 4 * 1024 * 1024
    assert len(inst.rotated_logs) == CONTAINER_LOG_MAX_FILES - 1
    # the file on disk is in the CRI format: every "y" line also carries its time, stream and
    # tag, so the file is 21 times what was written
    assert inst.log_disk_bytes == inst.log_bytes + text.count("\n") * CRI_RECORD_OVERHEAD
    # the newest rotated file stays as it is; the kubelet gzips the older ones
    *older, (_t, newest) = inst.rotated_logs
    assert newest > CONTAINER_LOG_MAX_SIZE
    assert all(100 < size and size * 10 < newest for _t, size in older)
    # ls of the container's log directory
    names = [name for name, _size in inst.log_files()]
    assert names[0] == "0.log" and len(names) == CONTAINER_LOG_MAX_FILES
    assert [n.endswith(".gz") for n in names[1:]] == [True, True, True, False]
    assert names[-1] == f"0.log.{stamp(inst.rotated_logs[-1][0])}"
    # a log that stays under the size is never rotated
    quiet = start(pod("quiet", "i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo $i; sleep 1; done; sleep 100000"), 300)
    assert instance(quiet, "quiet").rotated_logs == []
    assert quiet.logs("quiet").splitlines()[:2] == ["1", "2"]


# --- pids ----------------------------------------------------------------------------


def test_a_fork_past_the_pods_pids_limit_fails_with_eagain() -> None:
    # podPidsLimit: fork() returns EAGAIN; busybox ash prints "can't fork" and the shell
    # that tried ends with status 2 (its background jobs keep running).
    script = f"i=0; while [ $i -lt {POD_PIDS_LIMIT + 5} ]; do sleep 1000 & i=$((i+1)); done; echo unreachable"
    sim = start(pod("forks", script, restart="Never"), 60)
    assert sim.logs("forks") == "sh: can't fork: Resource temporarily unavailable\n"
    terminated = container_status(sim, "forks")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (2, "Error")
    # the sleeps died with the container: every pid went back to the Pod's cgroup
    assert instance(sim, "forks").pids.current == 0


def test_a_fork_bomb_hits_the_limit_and_ends() -> None:
    sim = start(pod("bomb", "f(){ f & f & wait; }; f", restart="Never"), 120)
    assert "sh: can't fork: Resource temporarily unavailable\n" in sim.logs("bomb")
    inst = instance(sim, "bomb")
    assert inst.pids.events_max > 0 and inst.pids.current == 0
    terminated = container_status(sim, "bomb")["state"]["terminated"]
    assert terminated["reason"] in ("Completed", "Error")
    assert inst.finished_at is not None and inst.finished_at < 30


# --- memory --------------------------------------------------------------------------


def test_a_shell_growing_a_variable_is_oom_killed_at_its_memory_limit() -> None:
    # kubernetes.io "Assign Memory Resources": past its limit the container is OOM-killed,
    # Terminated with reason OOMKilled and exit code 137, then restarted with back-off.
    sim = start(pod("grow", "x=x; while true; do x=$x$x; done", limits="memory: 64Mi"), 45)
    status = container_status(sim, "grow")
    last = status["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "OOMKilled")
    assert status["restartCount"] >= 2
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert row(sim, "grow")[1] == "CrashLoopBackOff"
    backoffs = [e for e in sim.events() if e["reason"] == "BackOff"]
    assert backoffs and backoffs[0]["message"] == "Back-off restarting failed container c in pod grow_default(" + sim.pod("grow")["metadata"]["uid"] + ")"


def test_without_a_limit_a_growing_variable_still_ends_oom_killed_not_in_real_gigabytes() -> None:
    sim = start(pod("grow", "x=x; while true; do x=$x$x; done", restart="Never"), 30)
    terminated = container_status(sim, "grow")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")


def test_a_growing_variable_is_oom_killed_at_the_real_limit_above_what_podlab_builds() -> None:
    # doubling x: the kernel kills the shell when x plus the string twice its size passes
    # memory.max. Under 300Mi the last length printed is 128 MiB (x=128Mi + 256 MiB > 300Mi),
    # under 1Gi 512 MiB, though PodLab builds no string over MAX_MATERIALISED
    script = "x=x; while true; do x=$x$x; echo ${#x}; done"
    for limit, last in (("300Mi", 128 * 1024 * 1024), ("1Gi", 512 * 1024 * 1024), ("64Mi", 32 * 1024 * 1024)):
        sim = start(pod("grow", script, limits=f"memory: {limit}", restart="Never"), 10)
        terminated = container_status(sim, "grow")["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
        assert int(sim.logs("grow").split()[-1]) == last
    # unset gives the memory back: the same loop that unsets a copy each turn runs on
    sim = start(pod("copy", "x=$(printf %01000000d 0); while true; do y=$x$x; unset y; sleep 1; done", limits="memory: 16Mi"), 30)
    assert row(sim, "copy") == ("1/1", "Running", "0")


def test_memory_current_counts_what_the_shell_holds() -> None:
    script = "x=$(printf %0100000d 0); y=$x$x$x$x$x$x$x$x$x$x; cat /sys/fs/cgroup/memory.current; sleep 100000"
    sim = start(pod("hold", script, limits="memory: 64Mi"), 10)
    used = int(sim.logs("hold").strip())
    assert 1_100_000 <= used <= 1_400_000  # 100 KB + 1 MB held, plus the shell itself


def test_printf_padding_streams_instead_of_allocating() -> None:
    # printf writes its padding through stdio: a huge width is 1 GB of output, not 1 GB held
    sim = start(pod("pad", 'printf "%999999999s" x >/dev/null; echo done', restart="Never"), 600)
    terminated = container_status(sim, "pad")["state"]["terminated"]
    assert terminated["exitCode"] == 0
    assert sim.logs("pad") == "done\n"
    # into a command substitution the shell reads all of it (4 minutes of CPU at 4 MiB/s):
    # 1 GB the shell holds, on a node with the memory for it
    sim = start(pod("sub", 'x=$(printf "%999999999s" x); echo ${#x}', restart="Never"), 600)
    assert sim.logs("sub") == "999999999\n"
    # ... in a container with less, the OOM killer ends it as the output grows past its limit
    sim = start(pod("small", 'x=$(printf "%999999999s" x); echo ${#x}', limits="memory: 512Mi", restart="Never"), 600)
    terminated = container_status(sim, "small")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    assert terminated["finishedAt"] < "2025-01-01T00:04:00Z"
    assert sim.logs("small") == ""


# --- podsim: every attack of issue 11 finishes fast, with the node's own answer -------


def podsim(tmp_path: Path, name: str, script: str, until: int, *args: str, restart: str = "Always") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(pod(name, script, restart=restart))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(path), "--until", str(until), *args], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_podsim_attacks_end_with_the_nodes_answer(tmp_path: Path) -> None:
    # what each costs for real: benchmarks/bench_limits.py
    table = podsim(tmp_path, "spin", "while true; do :; done", 3600)
    assert table.splitlines()[1].split()[:4] == ["spin", "1/1", "Running", "0"]
    logs = podsim(tmp_path, "yes-log", "yes", 120, "-o", "logs")
    # podsim prefixes each line with [pod/yes-log/c]; the file itself holds "y\n" lines
    assert 2 * logs.count("\n") <= CONTAINER_LOG_MAX_SIZE + 10 * 4 * 1024 * 1024 + 64 * 1024
    table = podsim(tmp_path, "grow", "x=x; while true; do x=$x$x; done", 120)
    assert table.splitlines()[1].split()[2] in ("OOMKilled", "CrashLoopBackOff")
    table = podsim(tmp_path, "bomb", "f(){ f & f & wait; }; f", 120)
    assert table.splitlines()[1].split()[0] == "bomb"
    table = podsim(tmp_path, "pad", 'printf "%999999999s" x >/dev/null; echo done', 600, "-o", "logs", restart="Never")
    assert table == "[pod/pad/c] done\n"


def test_files_in_a_memory_backed_emptydir_count_against_the_memory_limit() -> None:
    # emptyDir medium: Memory is a tmpfs; its pages are charged to the writer's memory cgroup
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shm\nspec:\n  restartPolicy: Never\n"
        "  containers:\n"
        '  - {name: c, image: "busybox:1.36", command: [sh, -c, "yes > /cache/y"], '
        "resources: {limits: {memory: 32Mi}}, volumeMounts: [{name: cache, mountPath: /cache}]}\n"
        "  volumes:\n  - {name: cache, emptyDir: {medium: Memory}}\n"
    )
    sim = start(text, 60)
    terminated = container_status(sim, "shm")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    # on disk (no medium) the same writes are no memory of the container
    sim = start(text.replace("{medium: Memory}", "{}").replace("32Mi", "8Mi"), 5)
    assert "running" in container_status(sim, "shm")["state"]


def test_files_copied_into_a_memory_backed_emptydir_are_the_writers_memory() -> None:
    # cp, tee, sed -i and wget write tmpfs pages as a redirection does: two copies of 20 MB
    # into /cache pass the 32Mi limit and the kernel OOM-kills the container
    script = 'printf "%20000000s" x > /tmp/a; cp /tmp/a /cache/1; echo one; cp /tmp/a /cache/2; echo two; sleep 3600'
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shm\nspec:\n  restartPolicy: Never\n"
        "  containers:\n"
        f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, {json.dumps(script)}], '
        "resources: {limits: {memory: 32Mi}}, volumeMounts: [{name: cache, mountPath: /cache}]}\n"
        "  volumes:\n  - {name: cache, emptyDir: {medium: Memory}}\n"
    )
    sim = start(text, 30)
    terminated = container_status(sim, "shm")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    assert sim.logs("shm") == "one\n"
    # the same copies onto a disk-backed emptyDir are no memory of the container
    sim = start(text.replace("{medium: Memory}", "{}"), 30)
    assert "running" in container_status(sim, "shm")["state"]
    assert sim.logs("shm") == "one\ntwo\n"


def test_a_tmpfs_fills_up_to_the_real_memory_limit_above_what_podlab_keeps() -> None:
    # tmpfs pages are counted by size: a 256Mi limit is reached after 256 MiB of `yes` (about
    # 64 CPU-seconds), though PodLab keeps 32 MiB of the file and never builds a 128 MiB string
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shm\nspec:\n  restartPolicy: Never\n"
        "  containers:\n"
        '  - {name: c, image: "busybox:1.36", command: [sh, -c, "yes > /cache/y"], '
        "resources: {limits: {memory: 256Mi}}, volumeMounts: [{name: cache, mountPath: /cache}]}\n"
        "  volumes:\n  - {name: cache, emptyDir: {medium: Memory}}\n"
    )
    sim = start(text, 120)
    terminated = container_status(sim, "shm")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    inst = instance(sim, "shm")
    assert inst.finished_at is not None and 60 <= inst.finished_at <= 70
    worker = sim._find("shm", "default")  # noqa: SLF001 - the runtime's own view
    (volume, used), = worker.volumes.empty_dir_usage()
    assert 250 * 1024 * 1024 <= used <= 256 * 1024 * 1024
    assert volume.fs.kept_bytes() <= MAX_KEPT_TREE
