"""Conformance: the docs' probe examples (§13.1–13.5) and e2e probe cases (§12.1)."""

from __future__ import annotations

from typing import Any

from podlab.engine.simulation import Simulation
from tests.engine.test_kubelet_catalogue import FakeCatalogue


def make_pod(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"restartPolicy": "Always", "terminationGracePeriodSeconds": 30}
    body.update(spec)
    body["containers"] = containers
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def run(pods: list[dict[str, Any]], until: float, seed: int = 0) -> Simulation:
    sim = Simulation(seed=seed, catalogue=FakeCatalogue())
    assert sim.apply(pods) == []
    sim.run_until(until)
    return sim


def events_of(sim: Simulation, reason: str) -> list[dict[str, Any]]:
    return [e for e in sim.events() if e["reason"] == reason]


def rules(sim: Simulation, rule: str) -> list[float]:
    return [t.t for t in sim.transitions if t.rule == rule]


EXEC_LIVENESS = make_pod(
    "liveness-exec",
    [
        {
            "name": "liveness",
            "image": "registry.k8s.io/busybox:1.27.2",
            "args": [
                "/bin/sh",
                "-c",
                "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600",
            ],
            "livenessProbe": {
                "exec": {"command": ["cat", "/tmp/healthy"]},
                "initialDelaySeconds": 5,
                "periodSeconds": 5,
            },
        }
    ],
)


def test_exec_liveness_only_start_events_in_first_30_seconds() -> None:
    sim = run([EXEC_LIVENESS], 30)
    reasons = [e["reason"] for e in sim.events()]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    messages = {e["reason"]: e["message"] for e in sim.events()}
    assert messages["Scheduled"] == "Successfully assigned default/liveness-exec to node-1"
    assert messages["Created"] == "Created container: liveness"
    assert messages["Started"] == "Started container liveness"
    assert messages["Pulling"] == 'Pulling image "registry.k8s.io/busybox:1.27.2"'
    assert messages["Pulled"].startswith(
        'Successfully pulled image "registry.k8s.io/busybox:1.27.2" in 1.'
    )
    assert messages["Pulled"].endswith("including waiting). Image size: 1144547 bytes.")
    scheduled = events_of(sim, "Scheduled")[0]
    assert scheduled["source"] == {"component": "default-scheduler"}
    started = events_of(sim, "Started")[0]
    assert started["involvedObject"]["fieldPath"] == "spec.containers{liveness}"
    assert started["source"] == {"component": "kubelet", "host": "node-1"}


def test_exec_liveness_kills_between_35_and_45_seconds_and_restarts_after_grace() -> None:
    sim = run([EXEC_LIVENESS], 80)
    unhealthy = events_of(sim, "Unhealthy")
    assert len(unhealthy) == 1 and unhealthy[0]["count"] == 3
    assert unhealthy[0]["type"] == "Warning"
    assert unhealthy[0]["message"].startswith(
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
    )
    killing = events_of(sim, "Killing")
    assert [k["message"] for k in killing] == [
        "Container liveness failed liveness probe, will be restarted"
    ]
    kill_times = rules(sim, "liveness.kill")
    # first failure at the first tick after rm (t≈31), third one two periods later
    first_failure = unhealthy[0]["firstTimestamp"]
    assert "2025-01-01T00:00:35Z" >= first_failure >= "2025-01-01T00:00:31Z"
    assert killing[0]["firstTimestamp"] in [f"2025-01-01T00:00:4{s}Z" for s in range(0, 6)]
    # sh is PID 1 and ignores SIGTERM: the whole 30 s grace, then SIGKILL (137)
    assert len(kill_times) == 1 and 70 <= kill_times[0] <= 76
    status = sim.pods()[0]["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert "running" in status["state"]
    last = status["lastState"]["terminated"]
    assert last["exitCode"] == 137 and last["reason"] == "Error"


def test_exec_liveness_crash_loop_appears_only_after_several_restarts() -> None:
    sim = run([EXEC_LIVENESS], 700)
    restarts = rules(sim, "restart.start")
    gaps = [b - a for a, b in zip(restarts, restarts[1:], strict=False)]
    # the first five restarts follow the ~70 s run time immediately
    assert all(60 <= gap <= 75 for gap in gaps[:4]), gaps
    backoff = rules(sim, "restart.backoff")
    assert backoff and backoff[0] > restarts[4]


HTTP_LIVENESS = make_pod(
    "liveness-http",
    [
        {
            "name": "liveness",
            "image": "registry.k8s.io/e2e-test-images/agnhost:2.40",
            "args": ["liveness"],
            "livenessProbe": {
                "httpGet": {
                    "path": "/healthz",
                    "port": 8080,
                    "httpHeaders": [{"name": "Custom-Header", "value": "Awesome"}],
                },
                "initialDelaySeconds": 3,
                "periodSeconds": 3,
            },
        }
    ],
)


def test_http_liveness_fails_after_ten_seconds_with_status_500() -> None:
    sim = run([HTTP_LIVENESS], 60)
    unhealthy = events_of(sim, "Unhealthy")
    assert (
        unhealthy[0]["message"] == "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )
    kill = rules(sim, "liveness.kill")
    killing = events_of(sim, "Killing")
    assert killing[0]["message"] == "Container liveness failed liveness probe, will be restarted"
    # agnhost started ≈4 s (pull); 200 until it is 10 s old, three failures 3 s apart
    started = rules(sim, "container.started")[0]
    assert 3.5 <= started <= 4.5
    assert killing[0]["firstTimestamp"] in [f"2025-01-01T00:00:2{s}Z" for s in range(0, 4)]
    # this agnhost ignores SIGTERM as PID 1: SIGKILL when the 30 s grace ends
    assert len(kill) == 1 and 50 <= kill[0] <= 54


def test_goproxy_tcp_probes_ready_after_initial_delay_and_never_restart() -> None:
    pod = make_pod(
        "goproxy",
        [
            {
                "name": "goproxy",
                "image": "registry.k8s.io/goproxy:0.1",
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {
                    "tcpSocket": {"port": 8080},
                    "initialDelaySeconds": 15,
                    "periodSeconds": 10,
                },
                "livenessProbe": {
                    "tcpSocket": {"port": 8080},
                    "initialDelaySeconds": 15,
                    "periodSeconds": 10,
                },
            }
        ],
    )
    sim = run([pod], 300)
    started = rules(sim, "container.started")[0]
    ready = rules(sim, "readiness.ready")
    assert len(ready) == 1 and started + 15 <= ready[0] <= started + 25
    assert events_of(sim, "Unhealthy") == []
    status = sim.pods()[0]["status"]
    assert status["containerStatuses"][0]["restartCount"] == 0
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["ContainersReady"]["status"] == "True"


def test_readiness_probe_on_closed_port_never_ready() -> None:
    pod = make_pod(
        "p2",
        [
            {
                "name": "c",
                "image": "registry.k8s.io/goproxy:0.1",
                "readinessProbe": {"httpGet": {"path": "/", "port": 81}, "periodSeconds": 5},
            }
        ],
    )
    sim = run([pod], 60)
    assert rules(sim, "readiness.ready") == []
    message = events_of(sim, "Unhealthy")[0]["message"]
    assert message == (
        'Readiness probe failed: Get "http://10.244.1.2:81/": dial tcp 10.244.1.2:81: '
        "connect: connection refused"
    )
    ready = {c["type"]: c for c in sim.pods()[0]["status"]["conditions"]}["Ready"]
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [c]"


def test_startup_probe_protects_a_slow_starter() -> None:
    script = "sleep 95; touch /tmp/up; sleep 3600"
    probe = {"exec": {"command": ["cat", "/tmp/up"]}, "periodSeconds": 10}
    pod = make_pod(
        "slow",
        [
            {
                "name": "app",
                "image": "busybox:1.36",
                "command": ["sh", "-c", script],
                "livenessProbe": dict(probe, failureThreshold=1),
                "startupProbe": dict(probe, failureThreshold=30),
            }
        ],
    )
    sim = run([pod], 400)
    assert rules(sim, "liveness.kill") == [] and rules(sim, "startup.kill") == []
    started = rules(sim, "startup.succeeded")
    app_start = rules(sim, "container.started")[0]
    assert len(started) == 1 and app_start + 95 <= started[0] <= app_start + 106
    unhealthy = events_of(sim, "Unhealthy")
    assert unhealthy[0]["message"].startswith("Startup probe failed: cat: can't open '/tmp/up'")
    assert sim.pods()[0]["status"]["containerStatuses"][0]["started"] is True


def test_startup_probe_that_never_succeeds_kills_after_its_budget() -> None:
    pod = make_pod(
        "never",
        [
            {
                "name": "app",
                "image": "busybox:1.36",
                "command": ["sleep", "3600"],
                "startupProbe": {
                    "exec": {"command": ["false"]},
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                    "terminationGracePeriodSeconds": 5,
                },
            }
        ],
    )
    sim = run([pod], 60)
    kills = events_of(sim, "Killing")
    assert kills[0]["message"] == "Container app failed startup probe, will be restarted"
    # probes at 10, 20, 30 (app started at ~1.5 s); killed with the probe-level grace of 5 s
    kill_at = rules(sim, "startup.kill")[0]
    assert 34 <= kill_at <= 37


def test_exec_probe_timeout_is_a_failure_with_the_timed_out_text() -> None:
    pod = make_pod(
        "slowprobe",
        [
            {
                "name": "c",
                "image": "busybox:1.36",
                "command": ["sleep", "600"],
                "readinessProbe": {
                    "exec": {"command": ["sh", "-c", "sleep 10"]},
                    "timeoutSeconds": 1,
                    "periodSeconds": 5,
                },
            }
        ],
    )
    sim = run([pod], 30)
    message = events_of(sim, "Unhealthy")[0]["message"]
    assert message == 'Readiness probe failed: command "sh -c sleep 10" timed out'
    assert rules(sim, "readiness.ready") == []


def test_non_local_redirect_is_success_with_probe_warning() -> None:
    pod = make_pod(
        "redirect",
        [
            {
                "name": "c",
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.40",
                "args": ["liveness"],
                "livenessProbe": {
                    "httpGet": {"path": "/redirect?loc=http%3A%2F%2F0.0.0.0%2F", "port": 8080},
                    "failureThreshold": 1,
                    "periodSeconds": 5,
                },
            }
        ],
    )
    sim = run([pod], 60)
    assert rules(sim, "liveness.kill") == []
    warning = events_of(sim, "ProbeWarning")[0]
    assert warning["message"] == (
        "Liveness probe warning: Probe terminated redirects, Response body: "
        '<a href="http://0.0.0.0/">Found</a>.'
    )


def test_local_redirect_is_followed() -> None:
    pod = make_pod(
        "local-redirect",
        [
            {
                "name": "c",
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.40",
                "args": ["liveness"],
                "livenessProbe": {
                    "httpGet": {"path": "/redirect?loc=%2Fhealthz", "port": 8080},
                    "failureThreshold": 1,
                    "periodSeconds": 5,
                },
            }
        ],
    )
    sim = run([pod], 60)
    assert rules(sim, "liveness.kill")


def test_readiness_continues_while_liveness_stops_during_termination() -> None:
    pod = make_pod(
        "terminating",
        [
            {
                "name": "c",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "touch /tmp/ok; sleep 3600"],
                "livenessProbe": {"exec": {"command": ["false"]}, "initialDelaySeconds": 20},
            }
        ],
    )
    sim = run([pod], 5)
    sim.delete_pod("terminating")
    sim.run_until(60)
    assert not any("failed liveness probe" in e["message"] for e in sim.events())


def _condition(sim: Simulation, name: str, kind: str) -> dict[str, Any]:
    pod = next(p for p in sim.pods() if p["metadata"]["name"] == name)
    return next(c for c in pod["status"]["conditions"] if c["type"] == kind)


def test_ready_keeps_its_transition_time_across_a_liveness_restart() -> None:
    """A liveness kill and the restart happen in one pod sync (kuberuntime's
    computePodActions lists the container both to kill and to start), so the status
    manager never sees Ready become False: updateLastTransitionTime
    (pkg/kubelet/status/status_manager.go) keeps the old lastTransitionTime while the status
    stays the same. ``kubectl get pods -w`` goes from 1/1 Running 0 to 1/1 Running 1."""
    sim = run([EXEC_LIVENESS], 30)
    before = _condition(sim, "liveness-exec", "Ready")
    sim.run_until(100)
    pod = sim.pods()[0]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    after = _condition(sim, "liveness-exec", "Ready")
    assert after["status"] == "True"
    assert after["lastTransitionTime"] == before["lastTransitionTime"]


def test_ready_transition_time_moves_when_a_crashed_container_runs_again() -> None:
    """A container that exits by itself is seen Terminated (Ready False) before the back-off
    lets it start again; Ready's lastTransitionTime is then the moment it ran again."""
    crasher = make_pod("crasher", [{"name": "app", "image": "busybox:1.36",
                                    "command": ["sh", "-c", "sleep 2; exit 1"]}])
    sim = run([crasher], 8)
    down = _condition(sim, "crasher", "Ready")
    assert down["status"] == "False"
    for until in range(9, 60):
        sim.run_until(until)
        if _condition(sim, "crasher", "Ready")["status"] == "True":
            break
    up = _condition(sim, "crasher", "Ready")
    again = rules(sim, "restart.start")[-1]
    assert up["status"] == "True" and again > 8
    assert up["lastTransitionTime"].endswith(f":{int(again):02d}Z"), (up, again)
