"""A finalizer keeps a deleted Pod (finalizers.py cites the upstream code)."""

from __future__ import annotations

import copy

from podlab.engine.apiserver import finalizers
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.kubectl.get import get_pods
from podlab.engine.simulation import Simulation

POD = """apiVersion: v1
kind: Pod
metadata:
  name: held-pod
  finalizers:
  - example.com/audit-before-delete
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
"""


def started() -> tuple[Simulation, dict]:
    (pod,) = parse_manifests(POD).objects
    sim = Simulation(seed=0)
    sim.apply([copy.deepcopy(pod)])
    sim.run_until(10)
    assert sim.delete_pod("held-pod")
    return sim, pod


def test_the_object_stays_after_the_containers_stop() -> None:
    sim, _ = started()
    sim.run_until(20)
    meta = sim.pod("held-pod")["metadata"]
    assert (meta["deletionTimestamp"], meta["deletionGracePeriodSeconds"]) == (
        "2025-01-01T00:00:40Z", 30)
    sim.run_until(300)
    pod = sim.pod("held-pod")
    assert pod is not None, "a finalizer must keep the object"
    meta = pod["metadata"]
    # The kubelet's final DELETE (grace 0) moved the timestamp to that moment.
    assert meta["deletionTimestamp"] == "2025-01-01T00:00:40Z"
    assert meta["deletionGracePeriodSeconds"] == 0
    assert meta["finalizers"] == ["example.com/audit-before-delete"]
    assert pod["status"]["phase"] == "Failed"
    # printPod: a terminal phase shows the container's reason, not Terminating.
    assert get_pods(pods=[pod], now=300).splitlines()[1].split()[:3] == ["held-pod", "0/1", "Error"]


def test_removing_the_finalizer_deletes_the_object() -> None:
    sim, pod = started()
    sim.run_until(100)
    released = copy.deepcopy(pod)
    released["metadata"]["finalizers"] = []
    assert sim.apply([released]) == []
    assert sim.pod("held-pod") is None
    assert sim.records[-1].type == "DELETED"


def test_no_new_finalizers_while_deleting() -> None:
    sim, pod = started()
    sim.run_until(100)
    more = copy.deepcopy(pod)
    more["metadata"]["finalizers"] = ["example.com/audit-before-delete", "example.com/b",
                                      "example.com/a"]
    (problem,) = sim.apply([more])
    assert problem["path"] == "metadata.finalizers"
    assert problem["kubectl"] == (
        'The Pod "held-pod" is invalid: metadata.finalizers: Forbidden: no new finalizers can be '
        'added if the object is being deleted, found new finalizers '
        '[]string{"example.com/a", "example.com/b"}')
    assert sim.pod("held-pod")["metadata"]["finalizers"] == ["example.com/audit-before-delete"]


def test_a_pod_without_finalizers_goes() -> None:
    (pod,) = parse_manifests(POD).objects
    pod["metadata"].pop("finalizers")
    sim = Simulation(seed=0)
    sim.apply([pod])
    sim.run_until(10)
    sim.delete_pod("held-pod")
    sim.run_until(60)
    assert sim.pod("held-pod") is None
    assert finalizers.pending(pod) == []
