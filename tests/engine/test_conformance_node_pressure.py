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
from podlab.engine.kubelet.resources import (
    EVICTION_INTERVAL,
    OS_DISK_BYTES,
    PRESSURE_TRANSITION_PERIOD,
)
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


#: A small disk, so that a Pod fills it in minutes: the operating system takes its
#: ``OS_DISK_BYTES`` (2.5 GiB) of it, as on a real node whose root file system is nodefs.
CAPACITY = 4 * 1024**3


def one_small_node(capacity: str = "4Gi") -> list[dict[str, Any]]:
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
    sim.run_until(210)
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
    """A Pod that writes a file leaving ``to_available`` of the disk free, then sleeps."""
    used = CAPACITY - int(CAPACITY * to_available) - images - OS_DISK_BYTES
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
    amount = CAPACITY * 20 // 100 - available
    message = f"Failed to garbage collect required amount of images. Attempted to free {amount} bytes, but only found 0 bytes eligible to free."
    assert node_events(sim) == [("Warning", "FreeDiskSpaceFailed", message, 1)]
    sim.run_until(610)  # failed twice in a row: ImageGCFailed too
    assert node_events(sim) == [("Warning", "FreeDiskSpaceFailed", message, 2), ("Warning", "ImageGCFailed", message, 1)]


# --- the operating system on the node's disk ----------------------------------------------


def test_the_operating_system_takes_its_share_of_the_nodes_disk() -> None:
    from podlab.engine.kubelet.resources import BYTES_PER_INODE, OS_INODES

    sim = simulation()
    kubelet = sim.control.nodes["node-1"].kubelet
    assert kubelet.disk_available() == CAPACITY - OS_DISK_BYTES
    assert kubelet.inode_capacity() == CAPACITY // BYTES_PER_INODE == 262144
    assert kubelet.inodes_free() == 262144 - OS_INODES
    # a node whose disk the OS nearly fills is under disk pressure at once: 2.75Gi less
    # 2.5Gi leaves 256Mi, below imagefs.available<15% (422.4Mi)
    small = Simulation(seed=0, nodes=one_small_node("2816Mi"))
    apply(small, pod("web", SLEEPER))
    small.run_until(40)
    disk = condition(small, "DiskPressure")
    assert (disk["status"], disk["reason"]) == ("True", "KubeletHasDiskPressure")
    web = small.pod("web")
    assert web is not None
    threshold = "442918520"  # 15 % of 2816Mi, with the float32 fraction the kubelet parses
    available = str(2816 * 1024**2 - OS_DISK_BYTES - BUSYBOX_BYTES)
    assert (web["status"]["reason"], web["status"]["message"]) == (
        "Evicted",
        f"The node was low on resource: ephemeral-storage. Threshold quantity: {threshold}, available: {available}. ",
    )
    from podlab.engine import cli

    lines = cli.describe_nodes(small, small.pods(), small.now).splitlines()
    assert "Taints:             node.kubernetes.io/disk-pressure:NoSchedule" in lines


# --- inodes: nodefs.inodesFree / imagefs.inodesFree -----------------------------------------

#: ten directories a round: /tmp/<i>/a/.../i (185000 inodes: past the threshold, within
#: what the disk has)
DIRS = '  - {name: c, image: "busybox:1.36", command: [sh, -c, "i=0; while [ $i -lt 18500 ]; do mkdir -p /tmp/$i/a/b/c/d/e/f/g/h/i; i=$((i+1)); done; sleep 3600"]}\n'
FEW_FILES = '  - {name: c, image: "busybox:1.36", command: [sh, -c, "for i in 1 2 3 4 5; do echo $i > /tmp/$i; done; sleep 3600"]}\n'


def test_files_the_containers_create_use_the_nodes_inodes() -> None:
    from podlab.engine.kubelet.resources import OS_INODES

    sim = simulation(pod("few", FEW_FILES))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(20)
    (worker,) = kubelet.workers
    # five files in the writable layer and the container's log file
    assert worker.inode_usage() == 5 + 1
    busybox_inodes = math.ceil(BUSYBOX_BYTES / 16384)
    assert kubelet.inodes_free() == 262144 - OS_INODES - busybox_inodes - 6


def test_running_out_of_inodes_is_disk_pressure_and_evicts_the_pod_using_most() -> None:
    # 2500 directories a second: the 5 % threshold is crossed after about 50 s
    sim = simulation(pod("few", FEW_FILES), pod("dirs", DIRS))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(30)
    assert condition(sim, "DiskPressure")["status"] == "False"
    sim.run_until(120)
    assert kubelet.disk_available() > CAPACITY * 15 // 100  # bytes are not the problem
    dirs = sim.pod("dirs")
    assert dirs is not None
    status = dirs["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    # nodefs.inodesFree<5% of 262144 inodes: 13107 (a BinarySI quantity); what was free is
    # a DecimalSI one; no container is named for inodes
    prefix = "The node was low on resource: inodes. Threshold quantity: 13107, available: "
    assert status["message"].startswith(prefix), status["message"]
    available = int(status["message"][len(prefix):].removesuffix(". "))
    assert 0 < available < 13107
    disruption = next(c for c in status["conditions"] if c["type"] == "DisruptionTarget")
    assert disruption["reason"] == "TerminationByKubelet"
    few = sim.pod("few")
    assert few is not None and few["status"]["phase"] == "Running"
    disk = condition(sim, "DiskPressure")
    assert (disk["status"], disk["reason"], disk["message"]) == ("True", "KubeletHasDiskPressure", "kubelet has disk pressure")
    assert node(sim)["spec"]["taints"] == [TAINT]
    assert node_events(sim) == [
        ("Warning", "EvictionThresholdMet", "Attempting to reclaim inodes", 1),
        ("Normal", "NodeHasDiskPressure", "Node node-1 status is now: NodeHasDiskPressure", 1),
    ]


def test_unused_images_give_their_inodes_back_before_a_pod_is_evicted() -> None:
    from podlab.engine.kubelet.resources import OS_INODES

    # php's 195 MB image holds 11900 inodes here; with it gone the directories fit. The
    # directories come after imageMinimumGCAge (2 minutes), when the image may be deleted.
    old = pod("old", '  - {name: c, image: "php:8.3-cli", command: [sh, -c, "exit 0"]}\n')
    rounds = (262144 - OS_INODES - 13107 - math.ceil(BUSYBOX_BYTES / 16384) - 2) // 10 - 500
    script = json.dumps(f"sleep 130; i=0; while [ $i -lt {rounds} ]; do mkdir -p /tmp/$i/a/b/c/d/e/f/g/h/i; i=$((i+1)); done; sleep 3600")
    sim = simulation(old, pod("dirs", f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, {script}]}}\n'))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(400)
    assert "docker.io/library/php:8.3-cli" not in kubelet.images
    dirs = sim.pod("dirs")
    assert dirs is not None and dirs["status"]["phase"] == "Running"
    assert [e[1:] for e in node_events(sim)][:1] == [("EvictionThresholdMet", "Attempting to reclaim inodes", 1)]
    assert condition(sim, "DiskPressure")["status"] == "True"


# --- PIDs: pid.available --------------------------------------------------------------------

EVICTION_HARD = "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%,pid.available<80%"


def forks(name: str, count: int) -> str:
    script = json.dumps(f"i=0; while [ $i -lt {count} ]; do sleep 3600 & i=$((i+1)); done; wait")
    return pod(name, f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, {script}]}}\n')


def pid_node(eviction_hard: str | None = EVICTION_HARD) -> list[dict[str, Any]]:
    """A node with 1Gi of memory (``kernel.threads-max`` 8192, so MaxPID 8192) and, when
    given, the kubelet's ``evictionHard``."""
    from podlab.engine.cluster import EVICTION_HARD_ANNOTATION

    (n,) = one_small_node()
    n["status"]["capacity"]["memory"] = "1Gi"
    if eviction_hard is not None:
        n["metadata"]["annotations"] = {EVICTION_HARD_ANNOTATION: eviction_hard}
    return [n]


def test_pid_available_is_maxpid_less_the_nodes_tasks_and_has_no_default_threshold() -> None:
    from podlab.engine.kubelet.resources import OS_TASKS, max_pid

    # MaxPID is min(kernel.pid_max, kernel.threads-max); threads-max is RAM / 128 KiB
    assert max_pid(memory_bytes_of("8148772Ki")) == 63662
    assert max_pid(1024**3) == 8192
    sim = Simulation(seed=0, nodes=pid_node(None))
    apply(sim, forks("forker", 1000), forks("small", 500))
    kubelet = sim.control.nodes["node-1"].kubelet
    sim.run_until(60)
    # each Pod: its shell and its sleeps
    assert sorted(w.process_count() for w in kubelet.workers) == [501, 1001]
    assert kubelet.pid_available() == 8192 - OS_TASKS - 1502
    # upstream's DefaultEvictionHard has no pid.available on Linux: nothing happens
    sim.run_until(120)
    assert condition(sim, "PIDPressure")["status"] == "False"
    assert all(p["status"]["phase"] == "Running" for p in sim.pods())


def memory_bytes_of(text: str) -> int:
    from podlab.engine.core.quantity import memory_bytes

    return int(memory_bytes(text))


def test_pid_pressure_condition_taint_admission_and_eviction_of_the_pod_with_most_processes() -> None:
    sim = Simulation(seed=0, nodes=pid_node())
    apply(sim, forks("forker", 1000), forks("small", 500))
    sim.run_until(60)
    forker, small = sim.pod("forker"), sim.pod("small")
    assert forker is not None and small is not None
    # rankPIDPressure: same priority, so the Pod with more processes goes
    status = forker["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    prefix = "The node was low on resource: pids. Threshold quantity: 6553, available: "
    assert status["message"].startswith(prefix), status["message"]
    assert small["status"]["phase"] == "Running"
    at = evicted_at(sim, "forker")
    pid = condition(sim, "PIDPressure")
    assert (pid["status"], pid["reason"], pid["message"]) == ("True", "KubeletHasInsufficientPID", "kubelet has insufficient PID available")
    assert pid["lastTransitionTime"] == sim_time(next_status_update(at))
    assert condition(sim, "DiskPressure")["status"] == "False"
    assert node(sim)["spec"]["taints"] == [{"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure"}]
    assert node_events(sim) == [
        ("Warning", "EvictionThresholdMet", "Attempting to reclaim pids", 1),
        ("Normal", "NodeHasInsufficientPID", "Node node-1 status is now: NodeHasInsufficientPID", 1),
    ]
    # the scheduler keeps new Pods away; the kubelet refuses any non-critical Pod that gets
    # past it, even a Burstable one
    burstable = '  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], resources: {requests: {memory: 10Mi}}}\n'
    apply(sim, pod("late", SLEEPER), pod("bound", burstable, "  nodeName: node-1\n"))
    sim.run_until(70)
    late, bound = sim.pod("late"), sim.pod("bound")
    assert late is not None and bound is not None
    assert late["status"]["conditions"][0]["message"].startswith(
        "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/pid-pressure: }. ")
    assert (bound["status"]["reason"], bound["status"]["message"]) == (
        "Evicted", "Pod was rejected: The node had condition: [PIDPressure]. ")
    # describe node shows it
    from podlab.engine import cli

    lines = cli.describe_nodes(sim, sim.pods(), sim.now).splitlines()
    assert "Taints:             node.kubernetes.io/pid-pressure:NoSchedule" in lines
    row = lines[lines.index("Conditions:") + 5]
    assert row.split()[:2] == ["PIDPressure", "True"] and row.endswith("KubeletHasInsufficientPID    kubelet has insufficient PID available")
    # five minutes after the last low reading the condition and the taint go
    sim.run_until(at + PRESSURE_TRANSITION_PERIOD + 2 * EVICTION_INTERVAL)
    pid = condition(sim, "PIDPressure")
    assert (pid["status"], pid["reason"], pid["message"]) == ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available")
    assert node(sim)["spec"].get("taints") is None
    assert node_events(sim)[-1] == ("Normal", "NodeHasSufficientPID", "Node node-1 status is now: NodeHasSufficientPID", 1)
    late = sim.pod("late")
    assert late is not None and late["status"]["phase"] == "Running"


def test_pid_pressure_evicts_lower_priority_pods_first() -> None:
    sim = Simulation(seed=0, nodes=pid_node())
    important = forks("important", 1000).replace("  restartPolicy: Never\n", "  restartPolicy: Never\n  priority: 1000\n")
    apply(sim, important, forks("small", 700))
    sim.run_until(60)
    small, kept = sim.pod("small"), sim.pod("important")
    assert small is not None and kept is not None
    assert small["status"]["reason"] == "Evicted"
    assert kept["status"]["phase"] == "Running"


def test_eviction_hard_replaces_the_default_thresholds() -> None:
    from podlab.engine.kubelet import resources

    sim = Simulation(seed=0, nodes=pid_node("pid.available<80%"))
    kubelet = sim.control.nodes["node-1"].kubelet
    assert [t.signal for t in kubelet.thresholds] == ["pid.available"]
    assert [t.signal for t in resources.DEFAULT_THRESHOLDS] == [
        "memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree"]


# --- an invalid evictionHard: the kubelet would not start ----------------------------------

def eviction_node_manifest(value: str) -> str:
    return (
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  annotations:\n"
        f"    kubelet.podlab.dev/eviction-hard: {json.dumps(value)}\n"
    )


def test_an_invalid_eviction_hard_annotation_is_refused_with_the_kubelets_error() -> None:
    cases = {
        "memory.available<100Mi,disk.available<10%": "unsupported eviction signal disk.available",
        "memory.available>100Mi": "invalid eviction threshold syntax memory.available>100Mi, expected <signal><operator><value>",
        "memory.available<lots": "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        "nodefs.available<ten%": 'strconv.ParseFloat: parsing "ten": invalid syntax',
        "nodefs.available<150%": "eviction percentage threshold nodefs.available must be <= 100%: 150%",
        "nodefs.available<-5%": "eviction percentage threshold nodefs.available must be >= 0%: -5%",
        "memory.available<0": "eviction threshold memory.available must be positive: 0",
        "pid.available<10%,pid.available<20%": "found duplicate eviction threshold for signal pid.available",
    }
    for value, error in cases.items():
        result = parse_manifests(eviction_node_manifest(value), filename="cluster.yaml")
        assert not result.ok and not result.objects, value
        (problem,) = result.problems
        # located on the annotation's value
        assert (problem.line, problem.column, problem.path) == (6, 39, "metadata.annotations[kubelet.podlab.dev/eviction-hard]")
        assert problem.kubectl_line() == f"metadata.annotations[kubelet.podlab.dev/eviction-hard]: Invalid value: {json.dumps(value)}: {error}"
    # the kubelet ignores 0% and 100%; a valid one is accepted
    for value in ("memory.available<100Mi,nodefs.available<0%", "pid.available<10%"):
        assert parse_manifests(eviction_node_manifest(value)).ok, value


def test_podsim_refuses_a_cluster_file_with_an_invalid_eviction_hard(tmp_path: Any) -> None:
    import io

    from podlab.engine import cli

    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(eviction_node_manifest("memory.available<100Mi,disk.available<10%"), encoding="utf-8")
    pods = tmp_path / "pod.yaml"
    pods.write_text(pod("web", SLEEPER), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(pods), "--cluster", str(cluster), "--until", "10"], out, err, stdin=io.StringIO(""))
    assert code == 2
    assert f"{cluster}:6:39: metadata.annotations[kubelet.podlab.dev/eviction-hard]: Invalid value: " in err.getvalue()
    assert "unsupported eviction signal disk.available" in err.getvalue()


def test_an_invalid_eviction_hard_is_explained_in_the_learners_language() -> None:
    import django

    django.setup()
    from podlab.lab.problems import explain_problem

    (problem,) = parse_manifests(eviction_node_manifest("memory.available<lots")).problems
    english = explain_problem(problem, lang="en")
    chinese = explain_problem(problem, lang="zh-hans")
    assert (english["line"], english["column"]) == (chinese["line"], chinese["column"]) == (6, 39)
    assert "the kubelet would not start with this evictionHard" in english["message"]
    assert "kubelet 无法以这个 evictionHard 启动" in chinese["message"]
    # kubectl's (here the kubelet's) exact text stays the secondary detail
    assert english["kubectl"] == chinese["kubectl"] == (
        'Invalid value: "memory.available<lots": quantities must match the regular expression '
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


# --- allocatable = capacity - reserved - hard eviction thresholds ---------------------------

def allocatable_with(eviction_hard: str | None) -> dict[str, str]:
    sim = Simulation(seed=0, nodes=pid_node(eviction_hard))
    return node(sim)["status"]["allocatable"]


def test_allocatable_leaves_out_the_configured_hard_eviction_thresholds() -> None:
    gib = 1024**3
    four_gib_less_10_percent = str(4 * gib - 429496736)  # 10 % as the kubelet's float32 fraction
    # 1Gi of memory and 4Gi of disk (pid_node); the defaults leave out 100Mi and 10 %
    default = allocatable_with(None)
    assert (default["memory"], default["ephemeral-storage"]) == ("946176Ki", four_gib_less_10_percent)
    # the annotation's thresholds instead (hardEvictionReservation), a percentage of capacity
    given = allocatable_with("memory.available<500Mi,nodefs.available<20%")
    assert (given["memory"], given["ephemeral-storage"]) == ("536576Ki", str(4 * gib - 858993472))
    assert allocatable_with("memory.available<10%,nodefs.available<1Gi")["memory"] == str(gib - 107374184)
    assert allocatable_with("memory.available<10%,nodefs.available<1Gi")["ephemeral-storage"] == str(3 * gib)
    # a signal without a threshold reserves nothing
    bare = allocatable_with("pid.available<80%")
    assert (bare["memory"], bare["ephemeral-storage"]) == ("1Gi", "4Gi")
    # what the scheduler fits Pods into and what an unset limit reads as
    sim = Simulation(seed=0, nodes=pid_node("memory.available<500Mi"))
    assert sim.control.nodes["node-1"].kubelet.allocatable["memory"] == 536576 * 1024
