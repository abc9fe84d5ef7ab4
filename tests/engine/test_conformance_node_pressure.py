# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""Conformance: the node's pressure conditions and what follows from them (Kubernetes 1.34).

The eviction manager observes ``nodefs.available`` and ``imagefs.available`` (one disk here:
the image store is on the node's file system, so the default ``imagefs.available<15%`` is
crossed before ``nodefs.available<10%``). A crossed threshold makes the kubelet report
``DiskPressure=True`` (``KubeletHasDiskPressure``, "kubelet has disk pressure", event
``NodeHasDiskPressure``); it goes back to False (``KubeletHasNoDiskPressure``) only once the
threshold has not been seen crossed for ``evictionPressureTransitionPeriod`` (5 minutes).
The node lifecycle controller taints the node ``node.kubernetes.io/disk-pressure:NoSchedule``
while the condition is True (TaintNodesByCondition); the scheduler keeps Pods that do not
tolerate it away, and the kubelet's admission refuses every non-critical Pod that reaches
it anyway (``The node had condition: [DiskPressure]. ``). Before evicting a Pod for disk the
kubelet deletes unused images (reclaimNodeLevelResources)."""

from __future__ import annotations

import json
import math
from typing import Any

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.cluster import NODE_STATUS_UPDATE_SECONDS, default_nodes
from podlab.engine.kubectl.get import get_events, get_nodes
from podlab.engine.kubelet.resources import EVICTION_INTERVAL, PRESSURE_TRANSITION_PERIOD
from podlab.engine.simulation import Simulation
from tests.lab.manifests import MEMORY_HOG

TAINT = {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure"}
FILLER = '  - {name: c, image: "busybox:1.36", command: [sh, -c, "yes > /tmp/y"]}\n'
SLEEPER = '  - {name: c, image: "busybox:1.36", command: [sleep, "3600"]}\n'


def pod(name: str, containers: str, extra: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: Never\n"
        f"  containers:\n{containers}{extra}"
    )


def one_small_node(capacity: str = "1Gi") -> list[dict[str, Any]]:
    node = default_nodes()[0]
    node["status"]["capacity"]["ephemeral-storage"] = capacity
    node["status"].pop("allocatable")
    return [node]


def simulation(*docs: str) -> Simulation:
    sim = Simulation(seed=0, nodes=one_small_node())
    apply(sim, *docs)
    return sim


def apply(sim: Simulation, *docs: str) -> None:
    result = parse_manifests("---\n".join(docs))
    assert result.ok, result.problems
    sim.apply(result.objects)


def node(sim: Simulation) -> dict[str, Any]:
    (only,) = sim.nodes()
    return only


def condition(sim: Simulation, ctype: str) -> dict[str, Any]:
    return next(c for c in node(sim)["status"]["conditions"] if c["type"] == ctype)


def node_events(sim: Simulation) -> list[tuple[str, str, str, int]]:
    return [
        (e["type"], e["reason"], e["message"], e["count"])
        for e in sim.events()
        if e["involvedObject"]["kind"] == "Node"
    ]


def evicted_at(sim: Simulation, name: str) -> float:
    """When the eviction manager's pass evicted the Pod (its Evicted event)."""
    event = next(e for e in sim.events() if e["reason"] == "Evicted" and e["involvedObject"]["name"] == name)
    return parse_time(event["firstTimestamp"])


def test_disk_pressure_condition_taint_and_events_follow_the_eviction_manager() -> None:
    sim = simulation(pod("filler", FILLER))
    sim.run_until(150)
    assert (condition(sim, "DiskPressure")["status"], node(sim)["spec"].get("taints")) == ("False", None)
    sim.run_until(260)
    at = evicted_at(sim, "filler")
    # the pass that sees the threshold crossed evicts at once; the kubelet's next node status
    # update (every 10 s) posts the condition
    disk = condition(sim, "DiskPressure")
    assert (disk["status"], disk["reason"], disk["message"]) == ("True", "KubeletHasDiskPressure", "kubelet has disk pressure")
    assert disk["lastTransitionTime"] == disk["lastHeartbeatTime"] == sim_time(next_status_update(at))
    assert node(sim)["spec"]["taints"] == [TAINT]  # NoSchedule: no timeAdded
    ready = condition(sim, "Ready")
    assert (ready["status"], ready["lastTransitionTime"]) == ("True", "2025-01-01T00:00:00Z")
    assert condition(sim, "MemoryPressure")["status"] == "False"
    assert node_events(sim) == [
        ("Warning", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", 1),
        ("Normal", "NodeHasDiskPressure", "Node node-1 status is now: NodeHasDiskPressure", 1),
    ]
    event = next(e for e in sim.events() if e["reason"] == "NodeHasDiskPressure")
    assert event["involvedObject"] == {"kind": "Node", "name": "node-1", "uid": "node-1"}
    assert (event["metadata"]["namespace"], event["source"]) == ("default", {"component": "kubelet", "host": "node-1"})
    # kubectl get nodes shows Ready only: the pressure is in describe and the conditions
    assert get_nodes(nodes=sim.nodes(), now=sim.now).splitlines()[1].split()[:2] == ["node-1", "Ready"]
    assert "node/node-1" in get_events(events=sim.events(), now=sim.now)

    # the evicted Pod's disk is freed; the condition stays True for the transition period
    # after the threshold was last seen crossed, then the taint goes
    sim.run_until(at + PRESSURE_TRANSITION_PERIOD - EVICTION_INTERVAL / 2)
    assert condition(sim, "DiskPressure")["status"] == "True"
    sim.run_until(at + PRESSURE_TRANSITION_PERIOD + 2 * EVICTION_INTERVAL)
    disk = condition(sim, "DiskPressure")
    assert (disk["status"], disk["reason"], disk["message"]) == ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure")
    cleared = next_status_update(at + PRESSURE_TRANSITION_PERIOD)
    assert disk["lastTransitionTime"] == sim_time(cleared)
    assert node(sim)["spec"].get("taints") is None
    assert node_events(sim)[-1] == ("Normal", "NodeHasNoDiskPressure", "Node node-1 status is now: NodeHasNoDiskPressure", 1)


def next_status_update(t: float) -> float:
    """The kubelet's first node status update after ``t`` (every 10 s)."""
    return (math.floor(t / NODE_STATUS_UPDATE_SECONDS) + 1) * NODE_STATUS_UPDATE_SECONDS


def sim_time(t: float) -> str:
    from podlab.engine.core.version import timestamp

    return timestamp(t)


def test_the_scheduler_keeps_new_pods_away_until_the_taint_goes() -> None:
    sim = simulation(pod("filler", FILLER))
    sim.run_until(260)
    at = evicted_at(sim, "filler")
    apply(sim, pod("late", SLEEPER))
    sim.run_until(270)
    late = sim.pod("late")
    assert late is not None
    scheduled = late["status"]["conditions"][0]
    message = (
        "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."  # upstream prints both periods
    )
    assert (late["status"]["phase"], scheduled["reason"], scheduled["message"]) == ("Pending", "Unschedulable", message)
    failed = [e for e in sim.events() if e["reason"] == "FailedScheduling"]
    assert [(e["type"], e["source"]["component"], e["message"]) for e in failed] == [("Warning", "default-scheduler", message)]
    # once the condition clears, the queue tries again and the Pod runs
    sim.run_until(at + PRESSURE_TRANSITION_PERIOD + 30)
    late = sim.pod("late")
    assert late is not None and late["status"]["phase"] == "Running"
    bound = next(e for e in sim.events() if e["reason"] == "Scheduled" and e["involvedObject"]["name"] == "late")
    cleared = next_status_update(at + PRESSURE_TRANSITION_PERIOD)
    assert cleared <= parse_time(bound["firstTimestamp"]) <= cleared + 11


def parse_time(text: str) -> float:
    import datetime

    base = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    return (datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) - base).total_seconds()


def test_the_kubelet_refuses_pods_under_disk_pressure_even_when_they_tolerate_the_taint() -> None:
    sim = simulation(pod("filler", FILLER))
    sim.run_until(260)
    tolerating = "  tolerations:\n  - {key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule}\n"
    apply(sim, pod("bound", SLEEPER, "  nodeName: node-1\n"), pod("tolerant", SLEEPER, tolerating))
    sim.run_until(265)
    refusal = "The node had condition: [DiskPressure]. "
    for name in ("bound", "tolerant"):
        found = sim.pod(name)
        assert found is not None
        status = found["status"]
        assert (status["phase"], status["reason"], status["message"]) == ("Failed", "Evicted", f"Pod was rejected: {refusal}")
        assert [(e["type"], e["message"]) for e in sim.events() if e["involvedObject"]["name"] == name and e["reason"] == "Evicted"] == [("Warning", refusal)]
    # the scheduler placed the tolerating Pod: its PodScheduled condition stays
    tolerant = sim.pod("tolerant")
    assert tolerant is not None
    assert [(c["type"], c["status"]) for c in tolerant["status"]["conditions"]] == [("PodScheduled", "True")]
    # a critical Pod is admitted
    critical = "  priority: 2000000000\n  tolerations:\n  - {key: node.kubernetes.io/disk-pressure, operator: Exists}\n"
    apply(sim, pod("critical", SLEEPER, critical))
    sim.run_until(275)
    found = sim.pod("critical")
    assert found is not None and found["status"]["phase"] == "Running"


def test_unused_images_are_deleted_before_a_pod_is_evicted() -> None:
    # "old" finishes at once; its 195 MB image is unused. When the disk crosses the threshold
    # the kubelet deletes that image first, which is enough for a while: no eviction then.
    old = pod("old", '  - {name: c, image: "php:8.3-cli", command: [sh, -c, "exit 0"]}\n')
    sim = simulation(old, pod("filler", FILLER))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(150)
    assert "docker.io/library/php:8.3-cli" in kubelet.images
    disk_before = kubelet.disk_available()
    sim.run_until(200)
    assert "docker.io/library/php:8.3-cli" not in kubelet.images
    assert kubelet.images == {"docker.io/library/busybox:1.36"}  # in use by the filler
    filler = sim.pod("filler")
    assert filler is not None and filler["status"]["phase"] == "Running"
    assert condition(sim, "DiskPressure")["status"] == "True"  # the threshold was crossed
    assert disk_before < kubelet.disk_available() + 60 * 4 * 1024 * 1024
    # the filler keeps writing: the next crossing has no image left to delete
    sim.run_until(300)
    filler = sim.pod("filler")
    assert filler is not None and filler["status"]["reason"] == "Evicted"
    met = [e for e in node_events(sim) if e[1] == "EvictionThresholdMet"]
    assert met == [("Warning", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", 2)]


def test_images_count_on_the_nodes_disk() -> None:
    sim = simulation(pod("web", '  - {name: c, image: "php:8.3-cli", command: [sleep, "3600"]}\n'))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(30)
    assert kubelet.image_bytes() == 194970393
    assert kubelet.storage_capacity - kubelet.disk_available() >= 194970393


def test_the_default_nodes_disk_shows_no_pressure() -> None:
    sim = Simulation(seed=0)
    apply(sim, pod("filler", FILLER))
    sim.run_until(300)
    assert all(
        c["status"] == "False"
        for n in sim.nodes()
        for c in n["status"]["conditions"]
        if c["type"].endswith("Pressure")
    )


def test_memory_pressure_reports_its_condition_and_taint_and_refuses_best_effort_pods() -> None:
    sim = Simulation(seed=0)
    apply(sim, MEMORY_HOG)  # a lone Pod lands on node-1
    sim.run_until(40)
    hog = sim.pod("hog")
    assert hog is not None and hog["status"]["reason"] == "Evicted"
    node1 = next(n for n in sim.nodes() if n["metadata"]["name"] == "node-1")
    memory = next(c for c in node1["status"]["conditions"] if c["type"] == "MemoryPressure")
    assert (memory["status"], memory["reason"], memory["message"]) == (
        "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
    assert node1["spec"]["taints"] == [{"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure"}]
    assert [(e["reason"], e["message"]) for e in sim.events() if e["involvedObject"]["kind"] == "Node"] == [
        ("EvictionThresholdMet", "Attempting to reclaim memory"),
        ("NodeHasInsufficientMemory", "Node node-1 status is now: NodeHasInsufficientMemory"),
    ]
    # under memory pressure alone the kubelet refuses BestEffort Pods only
    burstable = '  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], resources: {requests: {memory: 10Mi}}}\n'
    apply(sim, pod("besteffort", SLEEPER, "  nodeName: node-1\n"), pod("burstable", burstable, "  nodeName: node-1\n"))
    sim.run_until(50)
    besteffort, admitted = sim.pod("besteffort"), sim.pod("burstable")
    assert besteffort is not None and admitted is not None
    assert (besteffort["status"]["reason"], besteffort["status"]["message"]) == (
        "Evicted", "Pod was rejected: The node had condition: [MemoryPressure]. ")
    assert admitted["status"]["phase"] == "Running"
    # five minutes after the last low reading the condition and the taint go
    sim.run_until(40 + PRESSURE_TRANSITION_PERIOD + NODE_STATUS_UPDATE_SECONDS)
    node1 = next(n for n in sim.nodes() if n["metadata"]["name"] == "node-1")
    memory = next(c for c in node1["status"]["conditions"] if c["type"] == "MemoryPressure")
    assert (memory["status"], memory["reason"]) == ("False", "KubeletHasSufficientMemory")
    assert node1["spec"].get("taints") is None


def test_kubectl_describe_node_shows_the_condition_the_taint_and_the_events() -> None:
    from podlab.engine import cli

    web = '  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: "1", memory: 128Mi}}}\n'
    sim = simulation(pod("filler", FILLER), pod("web", web))
    sim.run_until(300)
    text = cli.describe_nodes(sim, sim.pods(), sim.now)
    lines = text.splitlines()
    assert lines[0] == "Name:               node-1"
    assert "Taints:             node.kubernetes.io/disk-pressure:NoSchedule" in lines
    assert "Unschedulable:      false" in lines
    assert lines[lines.index("Lease:") + 1:lines.index("Lease:") + 4] == [
        "  HolderIdentity:  node-1", "  AcquireTime:     <unset>", "  RenewTime:       Wed, 01 Jan 2025 00:05:00 +0000"]
    conditions = lines.index("Conditions:")
    assert lines[conditions + 1].split() == ["Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"]
    disk = lines[conditions + 4]
    assert disk.split("   ")[0].strip() == "DiskPressure" and "KubeletHasDiskPressure" in disk and disk.endswith("kubelet has disk pressure")
    # the evicted Pod is not listed; the one running is, with its share of allocatable
    assert "Non-terminated Pods:          (1 in total)" in lines
    row = next(line for line in lines if line.startswith("  default "))
    assert row.split() == ["default", "web", "250m", "(6%)", "1", "(25%)", "64Mi", "(0%)", "128Mi", "(1%)", "5m"]
    assert "  (Total limits may be over 100 percent, i.e., overcommitted.)" in lines
    events = lines[lines.index("Events:") + 3:]
    assert [e.split()[:2] for e in events] == [["Warning", "EvictionThresholdMet"], ["Normal", "NodeHasDiskPressure"]]
    assert events[1].endswith("kubelet  Node node-1 status is now: NodeHasDiskPressure")
    # taints sort by effect then key, value shown as key=value:effect
    from podlab.engine.kubectl.describe import describe_node

    node = sim.nodes()[0]
    node["spec"]["taints"] = [{"key": "b", "effect": "NoSchedule"}, {"key": "a", "value": "x", "effect": "NoExecute"}]
    described = describe_node(node=node, pods=[], events=None, now=sim.now).splitlines()
    at = described.index("Taints:             a=x:NoExecute")
    assert described[at + 1] == "                    b:NoSchedule"


BUSYBOX_BYTES = 2130946  # the catalogue's sizes, as the Pulled events say
PHP_BYTES = 194970393


def filling(to_available: float, images: int) -> str:
    """A Pod that writes a file leaving ``to_available`` of the 1Gi disk free, then sleeps."""
    used = 1024**3 - int(1024**3 * to_available) - images
    script = json.dumps(f'printf "%{used}s" x > /tmp/f; sleep 3600')
    return pod("filling", f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, {script}]}}\n')


def test_the_image_garbage_collector_frees_unused_images_past_85_percent() -> None:
    # 15.5 % free: usage 85 % (the kubelet's integer percent), not yet the eviction threshold
    old = pod("old", '  - {name: c, image: "php:8.3-cli", command: [sh, -c, "exit 0"]}\n')
    sim = simulation(old, filling(0.155, BUSYBOX_BYTES + PHP_BYTES))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(290)
    assert "docker.io/library/php:8.3-cli" in kubelet.images
    assert condition(sim, "DiskPressure")["status"] == "False"
    sim.run_until(310)  # the collector's look at 300 s
    assert kubelet.images == {"docker.io/library/busybox:1.36"}
    assert node_events(sim) == []  # enough was freed: nothing to say
    filler = sim.pod("filling")
    assert filler is not None and filler["status"]["phase"] == "Running"


def test_the_image_garbage_collector_says_when_it_cannot_free_enough() -> None:
    sim = simulation(filling(0.155, BUSYBOX_BYTES))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(310)
    available = kubelet.disk_available()
    amount = 1024**3 * 20 // 100 - available
    message = f"Failed to garbage collect required amount of images. Attempted to free {amount} bytes, but only found 0 bytes eligible to free."
    assert node_events(sim) == [("Warning", "FreeDiskSpaceFailed", message, 1)]
    sim.run_until(610)  # failed twice in a row: ImageGCFailed too
    assert node_events(sim) == [("Warning", "FreeDiskSpaceFailed", message, 2), ("Warning", "ImageGCFailed", message, 1)]
