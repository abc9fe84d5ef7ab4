"""Conformance: restart policy, termination messages, hooks, back-off, image pulls,
termination and deadlines (§4, §6, §8, §12.2–12.6)."""

from __future__ import annotations

import pytest

from podlab.engine.kubelet.kubelet import Backoff
from tests.engine.test_conformance_probes import events_of, make_pod, rules, run

BUSYBOX = "busybox:1.36"


def one(name: str, script: str, **container: object) -> dict:
    spec = {"name": "c", "image": BUSYBOX, "command": ["sh", "-c", script]}
    spec.update(container)
    return make_pod(name, [spec])


@pytest.mark.parametrize(
    ("policy", "code", "phase", "restarts"),
    [
        ("Always", 0, "Running", True),
        ("Always", 1, "Running", True),
        ("OnFailure", 0, "Succeeded", False),
        ("OnFailure", 1, "Running", True),
        ("Never", 0, "Succeeded", False),
        ("Never", 1, "Failed", False),
    ],
)
def test_restart_policy_by_exit_code(policy: str, code: int, phase: str, restarts: bool) -> None:
    pod = one("p", f"sleep 2; exit {code}")
    pod["spec"]["restartPolicy"] = policy
    sim = run([pod], 8)
    status = sim.pods()[0]["status"]
    assert status["phase"] == phase
    assert bool(rules(sim, "restart.start")) is restarts
    if not restarts:
        state = status["containerStatuses"][0]["state"]["terminated"]
        assert state["exitCode"] == code
        assert state["reason"] == ("Completed" if code == 0 else "Error")


def test_terminate_cmd_restart_counts_like_e2e() -> None:
    # R1–R3 with a file that survives restarts is not possible without volumes; the
    # sequence "fail once then succeed" is modelled with the restart count itself.
    pod = one("rpof", "exit 1")
    pod["spec"]["restartPolicy"] = "Never"
    sim = run([pod], 10)
    status = sim.pods()[0]["status"]
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["restartCount"] == 0
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["ContainersReady"]["reason"] == "PodFailed"
    assert conditions["PodReadyToStartContainers"]["status"] == "False"


@pytest.mark.parametrize(
    ("script", "policy", "path", "phase", "message"),
    [
        ("echo -n DONE > /dev/termination-log", "File", None, "Succeeded", "DONE"),
        (
            "echo -n DONE > /dev/termination-custom-log",
            "File",
            "/dev/termination-custom-log",
            "Succeeded",
            "DONE",
        ),
        ("echo -n DONE; false", "FallbackToLogsOnError", None, "Failed", "DONE"),
        ("echo -n DONE; true", "FallbackToLogsOnError", None, "Succeeded", None),
        (
            "echo -n OK > /dev/termination-log; echo DONE; true",
            "FallbackToLogsOnError",
            None,
            "Succeeded",
            "OK",
        ),
    ],
)
def test_termination_messages(
    script: str, policy: str, path: str | None, phase: str, message: str | None
) -> None:
    extra: dict[str, object] = {"terminationMessagePolicy": policy}
    if path:
        extra["terminationMessagePath"] = path
    pod = one("msg", script, **extra)
    pod["spec"]["restartPolicy"] = "Never"
    sim = run([pod], 10)
    status = sim.pods()[0]["status"]
    assert status["phase"] == phase
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated.get("message") == message


def test_crash_loop_back_off_sequence_doubles_to_300_seconds() -> None:
    sim = run([one("crash", "exit 1")], 2400)
    starts = rules(sim, "container.started") + rules(sim, "restart.start")
    exits = rules(sim, "container.failed")
    delays = [start - finish for finish, start in zip(exits, starts[1:], strict=False)]
    windows = [0, 10, 20, 40, 80, 160, 300, 300, 300]
    for delay, window in zip(delays, windows, strict=False):
        # restarted on the first sync after the window: PLEG (≤1 s) + a 10–15 s sync retry
        assert window <= delay <= window + 16, (delays, window)
    assert len(delays) >= 9
    waiting = sim.pods()[0]["status"]["containerStatuses"][0]
    back_off = events_of(sim, "BackOff")[0]
    uid = sim.pods()[0]["metadata"]["uid"]
    assert (
        back_off["message"] == f"Back-off restarting failed container c in pod crash_default({uid})"
    )
    assert back_off["count"] > 9
    if "waiting" in waiting["state"]:
        assert waiting["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert waiting["state"]["waiting"]["message"].startswith("back-off 5m0s restarting")


def test_back_off_resets_after_ten_minutes_of_running() -> None:
    backoff = Backoff(10, 300)
    key = "k"
    for now in (0, 1, 2, 3, 4, 5, 6):
        backoff.next(key, now, now)
    assert backoff.get(key) == 300
    assert backoff.in_backoff_since(key, 100, 120)
    # the previous update is more than 600 s before the new crash: the entry expires
    assert not backoff.in_backoff_since(key, 700, 701)
    backoff.next(key, 700, 701)
    assert backoff.get(key) == 10


def test_unknown_image_alternates_err_image_pull_and_image_pull_back_off() -> None:
    pod = make_pod("bad", [{"name": "c", "image": "nginxx", "imagePullPolicy": "Always"}])
    sim = run([pod], 120)
    failed = [e["message"] for e in events_of(sim, "Failed")]
    assert failed[0].startswith('Failed to pull image "nginxx": rpc error: code = NotFound')
    assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed
    backoff = events_of(sim, "BackOff")
    assert backoff[0]["message"] == 'Back-off pulling image "nginxx"'
    assert backoff[0]["type"] == "Normal"
    reasons = [t.new for t in sim.transitions if t.field == "state"]
    assert reasons[:2] == ["Waiting:ErrImagePull", "Waiting:ImagePullBackOff"]
    assert sim.pods()[0]["status"]["phase"] == "Pending"
    pulling = [e for e in sim.events() if e["reason"] == "Pulling"][0]
    assert pulling["count"] >= 3


def test_never_pull_and_invalid_image_name() -> None:
    never = make_pod("never", [{"name": "c", "image": BUSYBOX, "imagePullPolicy": "Never"}])
    invalid = make_pod("invalid", [{"name": "c", "image": "Busybox:1.36"}])
    sim = run([never, invalid], 5)
    by_pod = {p["metadata"]["name"]: p for p in sim.pods()}
    waiting = by_pod["never"]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "busybox:1.36" is not present with pull policy of Never',
    }
    invalid_waiting = by_pod["invalid"]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert invalid_waiting["reason"] == "InvalidImageName"
    assert invalid_waiting["message"].startswith('Failed to apply default image tag "Busybox:1.36"')
    assert events_of(sim, "InspectFailed")[0]["type"] == "Warning"


def test_cached_image_is_already_present_for_if_not_present() -> None:
    first = make_pod("a", [{"name": "c", "image": BUSYBOX, "command": ["sleep", "100"]}])
    second = make_pod("b", [{"name": "c", "image": BUSYBOX, "command": ["sleep", "100"]}])
    # the image cache is per node: keep the second Pod on the first one's node (the
    # scheduler would spread two BestEffort Pods over the two workers)
    second["spec"]["nodeName"] = "node-1"
    sim = run([first], 5)
    sim.apply([second])
    sim.run_until(10)
    pulled = [e for e in events_of(sim, "Pulled") if e["involvedObject"]["name"] == "b"]
    assert pulled[0]["message"].startswith(
        'Container image "busybox:1.36" already present on machine'
    )


def test_sleep_3600_takes_the_whole_grace_period_and_exits_137() -> None:
    sim = run([one("sleeper", "sleep 3600")], 10)
    sim.delete_pod("sleeper")
    meta = sim.pods()[0]["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 30
    assert meta["deletionTimestamp"] == "2025-01-01T00:00:40Z"
    sim.run_until(39.5)
    assert sim.pods(), "still terminating"
    sim.run_until(41)
    assert sim.pods() == []
    killing = events_of(sim, "Killing")[0]
    assert killing["message"] == "Stopping container c"
    deleted = [r for r in sim.records if r.kind == "Pod" and r.type == "DELETED"]
    final = deleted[0].object["status"]
    terminated = final["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 137 and terminated["reason"] == "Error"
    assert final["phase"] == "Failed"
    assert deleted[0].t == pytest.approx(40, abs=0.01)


def test_trap_handler_exits_promptly_with_its_code() -> None:
    script = "trap 'exit 143' TERM; while true; do sleep 1; done"
    sim = run([one("trapper", script)], 10)
    sim.delete_pod("trapper")
    sim.run_until(13)
    assert sim.pods() == []
    deleted = [r for r in sim.records if r.type == "DELETED"][0]
    terminated = deleted.object["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 143
    assert deleted.t <= 11.01


def test_trap_exit_zero_gives_succeeded() -> None:
    script = "trap 'exit 0' TERM; while true; do sleep 1; done"
    sim = run([one("trap0", script)], 10)
    sim.delete_pod("trap0")
    sim.run_until(13)
    deleted = [r for r in sim.records if r.type == "DELETED"][0]
    assert deleted.object["status"]["phase"] == "Succeeded"


def test_pre_stop_sleep_delays_termination_within_grace() -> None:
    pod = one("hooked", "sleep 3600", lifecycle={"preStop": {"sleep": {"seconds": 5}}})
    sim = run([pod], 10)
    sim.delete_pod("hooked")
    sim.run_until(60)
    deleted = [r for r in sim.records if r.type == "DELETED"][0]
    # 5 s hook, then 25 s left for SIGTERM (ignored by sh) → SIGKILL at 30 s
    assert deleted.t == pytest.approx(40, abs=0.01)


def test_pre_stop_that_never_ends_gets_two_more_seconds() -> None:
    pod = one(
        "stuck",
        "sleep 3600",
        lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 1000"]}}},
    )
    pod["spec"]["terminationGracePeriodSeconds"] = 10
    sim = run([pod], 5)
    sim.delete_pod("stuck")
    sim.run_until(30)
    deleted = [r for r in sim.records if r.type == "DELETED"][0]
    assert deleted.t == pytest.approx(17, abs=0.01)


def test_delete_with_short_grace_cuts_sleep_hook() -> None:
    pod = one("short", "sleep 3600", lifecycle={"preStop": {"sleep": {"seconds": 15}}})
    sim = run([pod], 5)
    sim.delete_pod("short", grace_period=2)
    sim.run_until(30)
    deleted = [r for r in sim.records if r.type == "DELETED"][0]
    assert 7 <= deleted.t <= 20


def test_post_start_failure_kills_and_reports_the_hook_error() -> None:
    pod = one(
        "lifecycle-demo",
        "sleep 3600",
        lifecycle={"postStart": {"exec": {"command": ["badcommand"]}}},
    )
    sim = run([pod], 40)
    hook = events_of(sim, "FailedPostStartHook")[0]
    assert hook["message"] == "PostStartHook failed" and hook["type"] == "Warning"
    killing = [e["message"] for e in events_of(sim, "Killing")]
    assert "FailedPostStartHook" in killing
    assert rules(sim, "poststart.error")
    transitions = [t for t in sim.transitions if t.rule == "poststart.error"]
    assert transitions[0].cause["field"] == "spec.containers[0].lifecycle.postStart"


def test_post_start_blocks_the_next_container() -> None:
    first = {
        "name": "first",
        "image": BUSYBOX,
        "command": ["sleep", "3600"],
        "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "sleep 5"]}}},
    }
    second = {"name": "second", "image": BUSYBOX, "command": ["sleep", "3600"]}
    sim = run([make_pod("ordered", [first, second])], 20)
    starts = [(t.container, t.t) for t in sim.transitions if t.rule == "container.started"]
    assert starts[0][0] == "first" and starts[1][0] == "second"
    assert starts[1][1] - starts[0][1] >= 5


def test_active_deadline_fails_the_pod() -> None:
    pod = one("deadline", "sleep 3600")
    pod["spec"]["activeDeadlineSeconds"] = 5
    sim = run([pod], 60)
    status = sim.pods()[0]["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "DeadlineExceeded"
    assert status["message"] == "Pod was active on the node longer than the specified deadline"
    assert events_of(sim, "DeadlineExceeded")
    assert "terminated" in status["containerStatuses"][0]["state"]


def test_active_deadline_can_be_lowered_by_update() -> None:
    pod = one("upd", "sleep 3600")
    sim = run([pod], 10)
    changed = one("upd", "sleep 3600")
    changed["spec"]["activeDeadlineSeconds"] = 15
    assert sim.apply([changed]) == []
    sim.run_until(60)
    assert sim.pods()[0]["status"]["reason"] == "DeadlineExceeded"


def test_forbidden_update_returns_kubectl_wording() -> None:
    sim = run([one("frozen", "sleep 3600")], 5)
    problems = sim.apply([one("frozen", "sleep 10")])
    assert len(problems) == 1
    assert problems[0]["code"] == "FieldValueForbidden"
    assert problems[0]["kubectl"].startswith(
        'The Pod "frozen" is invalid: spec: Forbidden: pod updates may not change fields other '
        "than `spec.containers[*].image`"
    )


def test_image_update_restarts_the_container() -> None:
    sim = run([one("img", "sleep 3600")], 5)
    updated = one("img", "sleep 3600")
    updated["spec"]["containers"][0]["image"] = "busybox:latest"
    assert sim.apply([updated]) == []
    sim.run_until(60)
    messages = [e["message"] for e in events_of(sim, "Killing")]
    assert messages == ["Container c definition changed, will be restarted"]
    status = sim.pods()[0]["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert status["image"] == "docker.io/library/busybox:latest"


def test_oom_killed_over_memory_limit() -> None:
    pod = make_pod(
        "memory-demo-2",
        [
            {
                "name": "memory-demo-2-ctr",
                "image": "podlab/stress:1.0",
                "args": ["--vm", "1", "--vm-bytes", "250M"],
                "resources": {"limits": {"memory": "100Mi"}, "requests": {"memory": "50Mi"}},
            }
        ],
    )
    sim = run([pod], 4)
    status = sim.pods()[0]["status"]
    state = status["containerStatuses"][0]
    terminated = state["lastState"].get("terminated") or state["state"].get("terminated")
    assert terminated["reason"] == "OOMKilled" and terminated["exitCode"] == 137
    assert status["qosClass"] == "Burstable"


def test_init_containers_run_in_order_then_app() -> None:
    pod = make_pod(
        "init",
        [{"name": "run1", "image": BUSYBOX, "command": ["sleep", "3600"]}],
        initContainers=[
            {"name": "init1", "image": BUSYBOX, "command": ["sh", "-c", "sleep 2"]},
            {"name": "init2", "image": BUSYBOX, "command": ["true"]},
        ],
    )
    sim = run([pod], 2)
    status = sim.pods()[0]["status"]
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"
    init = {c["type"]: c for c in status["conditions"]}["Initialized"]
    assert init["message"] == "containers with incomplete status: [init1 init2]"
    sim.run_until(20)
    status = sim.pods()[0]["status"]
    assert status["phase"] == "Running"
    assert all(
        s["ready"] and s["state"]["terminated"]["exitCode"] == 0
        for s in status["initContainerStatuses"]
    )
    starts = [t.container for t in sim.transitions if t.rule == "container.started"]
    assert starts == ["init1", "init2", "run1"]


def test_failing_init_container_with_never_fails_the_pod() -> None:
    pod = make_pod(
        "initfail",
        [{"name": "run1", "image": BUSYBOX, "command": ["true"]}],
        restartPolicy="Never",
        initContainers=[
            {"name": "init1", "image": BUSYBOX, "command": ["true"]},
            {"name": "init2", "image": BUSYBOX, "command": ["false"]},
        ],
    )
    sim = run([pod], 30)
    status = sim.pods()[0]["status"]
    assert status["phase"] == "Failed"
    init = {c["type"]: c for c in status["conditions"]}["Initialized"]
    assert init["reason"] == "ContainersNotInitialized"
    assert init["message"] == "containers with incomplete status: [init2]"
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"


def test_qos_classes() -> None:
    from podlab.engine.kubelet.status import qos_class

    guaranteed = {
        "containers": [
            {
                "resources": {
                    "limits": {"cpu": "100m", "memory": "100Mi"},
                    "requests": {"cpu": "100m", "memory": "100Mi"},
                }
            }
        ]
    }
    assert qos_class(guaranteed) == "Guaranteed"
    assert qos_class({"containers": [{}]}) == "BestEffort"
    mixed = {"containers": [{"resources": {"requests": {"memory": "200Mi"}}}, {}]}
    assert qos_class(mixed) == "Burstable"
