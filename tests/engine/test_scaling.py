"""The engine's cost grows with the work, not with the store: counted, not timed.

Each check counts operations the hot paths would repeat if they regressed to whole-store
work: copies of every Pod (``Simulation.pod_copies``), Pods the controllers re-read
(``ControllerManager.pods_read``) and Pod-by-Pod listings of a ReplicaSet
(``ControllerManager.pod_scans``). None depends on the speed of the machine.
"""

from __future__ import annotations

from typing import Any

from podlab.engine.apiserver.defaults import apply_defaults
from podlab.engine.simulation import Simulation


def web(replicas: int, *, exec_readiness: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "nginx",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80}],
        "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
        "livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 10},
    }
    return apply_defaults({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    })


def pod_records(sim: Simulation) -> int:
    return sum(1 for record in sim.records if record.kind == "Pod")


def ready_pods(sim: Simulation) -> int:
    return sum(
        1
        for pod in sim.pod_views()
        if any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])
    )


def started(replicas: int) -> Simulation:
    sim = Simulation(seed=3)
    assert sim.apply([web(replicas)]) == []
    sim.run_until(120)
    assert ready_pods(sim) == replicas
    return sim


def test_steady_state_reads_no_pod_and_copies_nothing() -> None:
    sim = started(12)
    copies, reads, scans = sim.pod_copies, sim.controllers.pods_read, sim.controllers.pod_scans
    records = pod_records(sim)
    sim.run_until(900)
    assert pod_records(sim) == records  # nothing changed: ready Pods, passing probes
    assert sim.pod_copies == copies
    assert sim.controllers.pods_read == reads
    assert sim.controllers.pod_scans == scans


def test_a_rollout_copies_no_pod_and_reads_each_change_once() -> None:
    sim = Simulation(seed=3)
    sim.apply([web(10)])
    sim.run_until(60)
    assert sim.scale("deployment/web", 25)
    sim.run_until(180)
    assert ready_pods(sim) == 25
    assert sim.pod_copies == 0  # controllers and endpoints read the store, never copy it
    # the controllers re-read a Pod once per recorded change at most, not once per sync
    assert 25 <= sim.controllers.pods_read <= pod_records(sim)
    assert sim.controllers.pod_scans == 0  # growing never lists the Pods one by one


def test_work_per_pod_does_not_grow_with_the_replicas() -> None:
    reads = {}
    for replicas in (10, 40):
        sim = started(replicas)
        reads[replicas] = sim.controllers.pods_read / replicas
    # the same changes per Pod at both sizes (creation, scheduling, start, readiness)
    assert reads[40] <= reads[10] * 1.25


def test_endpoints_read_the_store_without_copies() -> None:
    sim = started(6)
    sim.create_service("web", selector={"app": "web"}, port=80, target_port=80)
    sim.run_for(30)
    sim.delete_pod(sim.pod_views().__next__()["metadata"]["name"])
    sim.run_for(60)
    assert sim.pod_copies == 0
    slices = sim.list_objects("Endpoints")
    assert slices and sim.pod_copies == 0  # list_objects copies Endpoints, not Pods


def test_tallies_agree_with_counting_pod_by_pod() -> None:
    """The tallies kept from changes give the status a listing of every Pod would."""
    sim = Simulation(seed=5)
    sim.apply([web(8)])
    checks = 0
    for step, action in enumerate([
        lambda: None,
        lambda: sim.scale("deployment/web", 14),
        lambda: sim.delete_pod(next(iter(sim.pod_views()))["metadata"]["name"]),
        lambda: sim.scale("deployment/web", 5),
        lambda: sim.kill_container(next(iter(sim.pod_views()))["metadata"]["name"], "nginx"),
        lambda: sim.scale("deployment/web", 9),
    ]):
        action()
        for _ in range(6):
            sim.run_for(7 + step)
            manager = sim.controllers
            for rs in sim.objects.items("ReplicaSet"):
                active = [p for p in manager._owned_pods(rs) if p["status"].get("phase")
                          not in ("Succeeded", "Failed")
                          and not p["metadata"].get("deletionTimestamp")]
                manager._refresh()
                tally = manager._tallies.get(("default", rs["metadata"]["uid"]))
                assert manager._tally_counts(rs, tally) == manager._rs_counts(rs, active)
                checks += 1
    assert checks >= 36


def test_endpoints_re_read_only_the_pods_that_changed() -> None:
    sim = started(20)
    sim.create_service("web", selector={"app": "web"}, port=80, target_port=80)
    sim.run_for(5)
    assert len(sim.services.endpoints_of("web")) == 20
    reads, records = sim.services.pods_read, pod_records(sim)
    gone = next(iter(sim.pod_views()))["metadata"]["name"]
    sim.delete_pod(gone)
    sim.run_for(60)
    names = [view.pod for view in sim.services.endpoints_of("web")]
    assert gone not in names and len(names) == 20  # the replacement took its place
    # one read per changed Pod at most, not every Pod per change
    assert 0 < sim.services.pods_read - reads <= pod_records(sim) - records


def test_pods_of_other_owners_do_not_sync_the_jobs() -> None:
    sim = started(10)
    job = apply_defaults({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "c", "image": "registry.k8s.io/busybox:1.27.2",
             "command": ["sh", "-c", "sleep 5"]}]}}},
    })
    assert sim.apply([job]) == []
    sim.run_for(60)
    assert sim.objects.get("Job", "default", "once")["status"].get("succeeded") == 1
    syncs = sim.controllers.job_syncs
    for pod in [p["metadata"]["name"] for p in sim.pod_views()
                if p["metadata"]["name"].startswith("web-")][:5]:
        sim.delete_pod(pod)
    sim.run_for(120)
    assert ready_pods(sim) == 10  # the Deployment replaced them
    # the web Pods' changes (deletion, replacement, start, readiness) woke only the
    # Deployment and its ReplicaSet
    assert sim.controllers.job_syncs == syncs
