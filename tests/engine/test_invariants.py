"""Invariants over random small Pods (§3.4): the engine never crashes, terminal phases never
revert, finishedAt implies startedAt, restartCount never decreases, same seed → same records."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from podlab.engine.simulation import Simulation
from tests.engine.test_kubelet_catalogue import FakeCatalogue

SCRIPTS = [
    "sleep 3600",
    "exit 1",
    "exit 0",
    "sleep 3; exit 2",
    "touch /tmp/ok; sleep 20; rm /tmp/ok; sleep 600",
    "trap 'exit 0' TERM; while true; do sleep 1; done",
    "echo hello; sleep 5",
]
IMAGES = ["busybox:1.36", "busybox:1.36", "registry.k8s.io/goproxy:0.1", "nope:1.0"]


def probes() -> hs.SearchStrategy[dict[str, Any]]:
    handler = hs.sampled_from(
        [
            {"exec": {"command": ["cat", "/tmp/ok"]}},
            {"exec": {"command": ["true"]}},
            {"tcpSocket": {"port": 8080}},
            {"httpGet": {"path": "/", "port": 8080}},
        ]
    )
    return hs.builds(
        lambda h, delay, period, failures: {
            **h,
            "initialDelaySeconds": delay,
            "periodSeconds": period,
            "failureThreshold": failures,
        },
        handler,
        hs.integers(0, 10),
        hs.integers(1, 10),
        hs.integers(1, 3),
    )


def containers(prefix: str) -> hs.SearchStrategy[dict[str, Any]]:
    return hs.builds(
        lambda index, image, script, liveness, readiness: {
            "name": f"{prefix}{index}",
            "image": image,
            "command": ["sh", "-c", script],
            **({"livenessProbe": liveness} if liveness else {}),
            **({"readinessProbe": readiness} if readiness else {}),
        },
        hs.integers(0, 0),
        hs.sampled_from(IMAGES),
        hs.sampled_from(SCRIPTS),
        hs.none() | probes(),
        hs.none() | probes(),
    )


@hs.composite
def pods(draw: hs.DrawFn) -> dict[str, Any]:
    count = draw(hs.integers(1, 2))
    app = []
    for i in range(count):
        c = draw(containers("c"))
        c["name"] = f"c{i}"
        app.append(c)
    spec: dict[str, Any] = {
        "restartPolicy": draw(hs.sampled_from(["Always", "OnFailure", "Never"])),
        "terminationGracePeriodSeconds": draw(hs.sampled_from([0, 1, 5, 30])),
        "containers": app,
    }
    if draw(hs.booleans()):
        init = draw(containers("i"))
        init.pop("livenessProbe", None)
        init.pop("readinessProbe", None)
        init["command"] = ["sh", "-c", draw(hs.sampled_from(["true", "false", "sleep 2"]))]
        spec["initContainers"] = [init]
    if draw(hs.booleans()):
        spec["activeDeadlineSeconds"] = draw(hs.integers(1, 200))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def check(sim: Simulation) -> None:
    terminal: str | None = None
    counts: dict[str, int] = {}
    for record in sim.records:
        if record.kind != "Pod":
            continue
        status = record.object.get("status") or {}
        phase = status.get("phase")
        if terminal is not None:
            assert phase == terminal, "terminal phase reverted"
        if phase in ("Succeeded", "Failed"):
            terminal = phase
        for group in ("initContainerStatuses", "containerStatuses"):
            for cs in status.get(group) or []:
                for state in (cs["state"], cs["lastState"]):
                    term = state.get("terminated")
                    if term and term.get("finishedAt"):
                        assert term.get("startedAt"), "finishedAt without startedAt"
                key = f"{group}/{cs['name']}"
                assert cs["restartCount"] >= counts.get(key, 0), "restartCount decreased"
                counts[key] = cs["restartCount"]
        for cond in status.get("conditions") or []:
            assert cond["status"] in ("True", "False")
            assert cond.get("lastTransitionTime")
    times = [r.t for r in sim.records]
    assert times == sorted(times)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod=pods(), seed=hs.integers(0, 3), delete_at=hs.none() | hs.integers(1, 300))
def test_random_pods_keep_the_invariants(
    pod: dict[str, Any], seed: int, delete_at: int | None
) -> None:
    sim = Simulation(seed=seed, catalogue=FakeCatalogue())
    sim.apply([pod])
    if delete_at is not None:
        sim.run_until(delete_at)
        sim.delete_pod("p")
    sim.run_until(900)
    check(sim)


def test_same_seed_same_timeline() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}
            ]
        },
    }

    def timeline(seed: int) -> str:
        sim = Simulation(seed=seed, catalogue=FakeCatalogue())
        sim.apply([pod])
        sim.run_until(600)
        return json.dumps([r.to_dict() for r in sim.records], sort_keys=True)

    assert timeline(1) == timeline(1)
    assert timeline(1) != timeline(2)
