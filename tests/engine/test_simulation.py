"""The Simulation API: records, resource versions, logs, kill_container, loop, status helpers."""

from __future__ import annotations

import pytest

from podlab.engine.core.events import go_duration
from podlab.engine.core.loop import EventLoop
from podlab.engine.kubelet.status import pod_phase
from podlab.engine.runtime.process import SIGTERM
from tests.engine.test_conformance_probes import make_pod, rules, run


def test_loop_orders_by_time_priority_and_sequence() -> None:
    loop = EventLoop(seed=1)
    seen: list[str] = []
    loop.call_at(2.0, lambda: seen.append("late"))
    loop.call_at(1.0, lambda: seen.append("b"), priority=5)
    loop.call_at(1.0, lambda: seen.append("a"), priority=0)
    loop.call_at(1.0, lambda: seen.append("c"), priority=5)
    cancelled = loop.call_at(1.5, lambda: seen.append("never"))
    cancelled.cancel()
    assert loop.next_time() == 1.0
    loop.run_until(1.9)
    assert seen == ["a", "b", "c"] and loop.now == 1.9
    loop.run_until(5)
    assert seen[-1] == "late" and loop.next_time() is None


def test_records_and_resource_versions() -> None:
    pod = make_pod("api", [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "60"]}])
    sim = run([pod], 5)
    first = sim.records[0]
    assert (first.kind, first.type) == ("Pod", "ADDED")
    assert first.object["status"]["phase"] == "Pending"
    versions = [int(r.object["metadata"]["resourceVersion"]) for r in sim.records]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    current = sim.pods()[0]
    assert current["spec"]["nodeName"] == "node-1"
    assert current["status"]["podIP"] == "10.244.1.2"
    assert current["status"]["hostIP"] == "192.168.49.2"
    assert current["status"]["podIPs"] == [{"ip": "10.244.1.2"}]
    assert current["metadata"]["creationTimestamp"] == "2025-01-01T00:00:00Z"
    cs = current["status"]["containerStatuses"][0]
    assert cs["containerID"].startswith("containerd://") and len(cs["containerID"]) == 77
    assert cs["imageID"].startswith("docker.io/library/busybox@sha256:")


def test_logs_current_and_previous() -> None:
    pod = make_pod(
        "talker",
        [{"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "echo hi; exit 1"]}],
    )
    sim = run([pod], 30)
    assert sim.logs("talker", "c") == "hi\n"
    assert sim.logs("talker", "c", previous=True) == "hi\n"
    fresh = run([make_pod("x", [{"name": "c", "image": "busybox:1.36", "command": ["true"]}])], 0)
    with pytest.raises(LookupError):
        fresh.logs("x", "c", previous=True)


def test_kill_container_with_sigterm_is_ignored_by_shell_pid1_but_sigkill_works() -> None:
    pod = make_pod("victim", [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "600"]}])
    sim = run([pod], 5)
    assert sim.kill_container("victim", "c", signal=SIGTERM)
    sim.run_until(6)
    assert rules(sim, "manual.kill") == []
    assert sim.kill_container("victim", "c")
    sim.run_until(8)
    kills = [t for t in sim.transitions if t.rule == "manual.kill"]
    assert len(kills) == 1 and kills[0].new == "Terminated:Error"
    status = sim.pods()[0]["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 137


def test_go_duration_format() -> None:
    assert go_duration(1.2344) == "1.234s"
    assert go_duration(0.5) == "500ms"
    assert go_duration(80) == "1m20s"
    assert go_duration(300) == "5m0s"
    assert go_duration(62.5) == "1m2.5s"


def test_phase_decision_for_never_with_failure() -> None:
    spec = {"restartPolicy": "Never", "containers": [{"name": "a"}]}
    failed = [{"name": "a", "state": {"terminated": {"exitCode": 1}}, "lastState": {}}]
    assert pod_phase(spec, [], failed) == "Failed"
    waiting = [
        {"name": "a", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
    ]
    assert pod_phase(spec, [], waiting) == "Pending"
    spec["restartPolicy"] = "Always"
    assert pod_phase(spec, [], failed) == "Running"
    assert pod_phase(spec, [], failed, finalising=True) == "Failed"


def test_transitions_name_their_cause() -> None:
    pod = make_pod("cause", [{"name": "c", "image": "busybox:1.36", "command": ["false"]}])
    pod["spec"]["restartPolicy"] = "Never"
    sim = run([pod], 10)
    failed = [t for t in sim.transitions if t.rule == "container.failed"][0]
    assert failed.cause == {"field": "spec.containers[0].command", "value": ["false"]}
    phase = [t for t in sim.transitions if t.field == "phase"]
    assert [p.new for p in phase] == ["Running", "Failed"] or [p.new for p in phase] == ["Failed"]


def test_probe_report_shows_schedule_counts_and_results() -> None:
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation

    manifest = """\
apiVersion: v1
kind: Pod
metadata:
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox:1.27.2
    args: ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      initialDelaySeconds: 5
      periodSeconds: 5
"""
    result = parse_manifests(manifest)
    sim = Simulation(seed=0)
    sim.apply(result.objects)
    sim.run_until(42)
    (report,) = sim.probe_report()
    assert report["probe"] == "liveness" and report["handler"] == "exec"
    assert (report["period"], report["initial_delay"], report["failure_threshold"]) == (5, 5, 3)
    assert report["failures"] == 2 and report["successes"] == 0
    assert [r["ok"] for r in report["results"]][-3:] == [True, False, False]
    assert "can't open '/tmp/healthy'" in report["results"][-1]["message"]
    assert report["next_t"] == 45.0


def test_a_labels_only_update_is_a_modification_the_endpoints_follow() -> None:
    import copy

    from podlab.engine.apiserver.defaults import apply_defaults
    from podlab.engine.simulation import Simulation

    sim = Simulation(seed=0)
    pod = apply_defaults({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": "p", "labels": {"app": "a"}},
                          "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                                                   "ports": [{"containerPort": 80}]}]}})
    sim.create_service("s", selector={"app": "a"}, port=80, target_port=80)
    assert sim.apply([pod]) == []
    sim.run_until(30)
    assert [view.pod for view in sim.services.endpoints_of("s")] == ["p"]
    version = sim.pod_view("p")["metadata"]["resourceVersion"]
    relabelled = copy.deepcopy(pod)
    relabelled["metadata"]["labels"] = {"app": "b"}
    assert sim.apply([relabelled]) == []
    meta = sim.pod_view("p")["metadata"]
    assert meta["labels"] == {"app": "b"} and int(meta["resourceVersion"]) > int(version)
    assert sim.records[-1].kind == "Pod" and sim.records[-1].type == "MODIFIED"
    sim.run_until(31)
    assert sim.services.endpoints_of("s") == []  # out of the selector, out of the Service
    assert sim.apply([pod]) == []
    sim.run_until(32)
    assert [view.pod for view in sim.services.endpoints_of("s")] == ["p"]
    records = len(sim.records)
    assert sim.apply([pod]) == []  # the same labels again: no change, no record
    assert len(sim.records) == records


SLEEPER = """apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
"""


def _sleeper():
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation

    sim = Simulation()
    assert sim.apply(parse_manifests(SLEEPER).objects) == []
    sim.run_until(10)
    return sim


def _killings(sim) -> list[int]:
    return [e.get("count", 1) for e in sim.events() if e["reason"] == "Killing"]


def test_deleting_a_pod_being_deleted_is_accepted_and_changes_nothing() -> None:
    # apiserver rest.BeforeDelete: a pending graceful deletion answers with the object
    # (kubectl prints `pod "sleeper" deleted` again); no or a longer period changes nothing
    from podlab.engine.core.version import timestamp

    sim = _sleeper()
    assert sim.delete_pod("sleeper")
    sim.run_until(15)
    before = dict(sim.pod("sleeper")["metadata"])
    assert before["deletionTimestamp"] == timestamp(40)
    assert before["deletionGracePeriodSeconds"] == 30
    assert sim.delete_pod("sleeper")
    assert sim.delete_pod("sleeper", grace_period=60)
    assert sim.delete_pod("sleeper", grace_period=30)
    meta = sim.pod("sleeper")["metadata"]
    assert (meta["deletionTimestamp"], meta["deletionGracePeriodSeconds"]) == (
        timestamp(40), 30)
    sim.run_until(39)
    assert sim.has_pod("sleeper")  # sleep as PID 1 ignores SIGTERM: SIGKILL at the deadline
    assert _killings(sim) == [1]
    sim.run_until(45)
    assert not sim.has_pod("sleeper")
    assert not sim.delete_pod("sleeper")  # gone: NotFound


def test_a_shorter_grace_period_moves_the_deadline_and_kills_again() -> None:
    # the new deadline counts from the first delete; the kubelet runs killPod again with the
    # new period (a second Killing event) and SIGKILLs when it runs out
    from podlab.engine.core.version import timestamp

    sim = _sleeper()
    assert sim.delete_pod("sleeper")
    sim.run_until(15)
    assert sim.delete_pod("sleeper", grace_period=8)
    meta = sim.pod("sleeper")["metadata"]
    assert (meta["deletionTimestamp"], meta["deletionGracePeriodSeconds"]) == (
        timestamp(18), 8)
    sim.run_until(22)
    assert sim.has_pod("sleeper")
    assert _killings(sim) == [2]
    sim.run_until(24)
    assert not sim.has_pod("sleeper")
    terminated = [t for t in sim.transitions if t.pod == "sleeper" and t.field == "phase"]
    assert terminated and terminated[-1].new == "Failed"


def test_a_forced_second_delete_removes_the_pod_at_once() -> None:
    sim = _sleeper()
    assert sim.delete_pod("sleeper")
    sim.run_until(12)
    assert sim.delete_pod("sleeper", grace_period=0)
    assert not sim.has_pod("sleeper")


def test_a_grace_period_of_the_largest_int64_gives_the_last_timestamp() -> None:
    # terminationGracePeriodSeconds is an int64 the API server takes whole; its deadline
    # overflowed the timestamp (OverflowError: `internal` in the lab, a traceback in podsim)
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.core.version import timestamp
    from podlab.engine.simulation import Simulation

    sim = Simulation()
    text = SLEEPER.replace("Seconds: 30", "Seconds: 9223372036854775807")
    result = parse_manifests(text)
    assert result.problems == [] and sim.apply(result.objects) == []
    sim.run_until(10)
    assert sim.delete_pod("sleeper")
    sim.run_until(60)
    meta = sim.pod("sleeper")["metadata"]
    assert meta["deletionTimestamp"] == "9999-12-31T23:59:59Z"
    assert meta["deletionGracePeriodSeconds"] == 2**63 - 1
    assert timestamp(-1e300) == "0001-01-01T00:00:00Z"
    assert timestamp(65.9) == "2025-01-01T00:01:05Z"
