"""Cluster conformance: the default scheduler's decisions and messages, taints and
tolerations, affinity, node loss, cordon/drain, static Pods, and golden kubectl views."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.kubectl.describe import describe_pods
from podlab.engine.kubectl.get import get_nodes, get_pods
from podlab.engine.scheduler.scheduler import fit_error, pod_requests, tolerates
from podlab.engine.simulation import Simulation

GOLDEN = Path(__file__).parent / "golden"
LESSONS = Path(__file__).resolve().parents[2] / "lessons"
CP_TAINT = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


def pod(name: str, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "registry.k8s.io/pause:3.10"}
    resources = spec.pop("resources", None)
    if resources:
        container["resources"] = {"requests": resources}
    body = {"containers": [container], **spec}
    text = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}
    import json

    result = parse_manifests(json.dumps(text))
    assert result.ok, result.problems
    return result.objects[0]


def messages(sim: Simulation, name: str, reason: str) -> list[str]:
    return [
        e["message"]
        for e in sim.events()
        if e["involvedObject"]["name"] == name and e["reason"] == reason
    ]


def node_of(sim: Simulation, name: str) -> str | None:
    found = sim.pod(name)
    assert found is not None
    return found["spec"].get("nodeName")


def condition(sim: Simulation, name: str, ctype: str) -> dict[str, Any]:
    found = sim.pod(name)
    assert found is not None
    return next(c for c in found["status"]["conditions"] if c["type"] == ctype)


# --- the default cluster and scheduling --------------------------------------------------


def test_default_cluster_nodes() -> None:
    sim = Simulation()
    nodes = {n["metadata"]["name"]: n for n in sim.nodes()}
    assert sorted(nodes) == ["control-plane", "node-1", "node-2"]
    assert nodes["control-plane"]["spec"]["taints"] == [
        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}
    ]
    assert nodes["node-1"]["status"]["addresses"][0] == {
        "address": "192.168.49.2", "type": "InternalIP"
    }
    labels = nodes["node-2"]["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "node-2"
    assert labels["topology.kubernetes.io/zone"] == "zone-b"
    for key in ("cpu", "memory", "pods", "ephemeral-storage"):
        assert key in nodes["node-1"]["status"]["allocatable"]


def test_single_pod_lands_on_node_1_and_two_spread() -> None:
    sim = Simulation()
    sim.apply([pod("a")])
    assert node_of(sim, "a") == "node-1"
    assert messages(sim, "a", "Scheduled") == ["Successfully assigned default/a to node-1"]
    sim.apply([pod("b")])
    assert node_of(sim, "b") == "node-2"
    assert sim.pod("b")["status"].get("podIP") in (None, "10.244.2.2")


def test_64_cpu_lesson_example_stays_pending() -> None:
    text = (LESSONS / "10-how-a-pod-is-created/examples/creation-unschedulable.yaml").read_text()
    sim = Simulation()
    sim.apply(parse_manifests(text).objects)
    sim.run_until(60)
    summary = get_pods(pods=sim.pods(), now=60)
    assert "Pending" in summary
    assert messages(sim, "creation-unschedulable", "FailedScheduling") == [
        f"0/3 nodes are available: {CP_TAINT}, 2 Insufficient cpu. preemption: 0/3 nodes are "
        "available: 3 Preemption is not helpful for scheduling.."
    ]
    cond = condition(sim, "creation-unschedulable", "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")


def test_insufficient_memory_message_and_retry_after_delete() -> None:
    sim = Simulation()
    sim.apply([pod("a", resources={"memory": "7Gi"}), pod("b", resources={"memory": "7Gi"})])
    sim.apply([pod("c", resources={"memory": "7Gi"})])
    assert messages(sim, "c", "FailedScheduling") == [
        f"0/3 nodes are available: {CP_TAINT}, 2 Insufficient memory. preemption: 0/3 nodes "
        "are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims "
        "found for incoming pod.."
    ]
    sim.run_until(20)
    assert node_of(sim, "c") is None
    sim.delete_pod("a", grace_period=0)
    sim.run_until(40)
    assert node_of(sim, "c") == "node-1"


def test_unschedulable_pod_is_retried_every_five_minutes() -> None:
    sim = Simulation()
    sim.apply([pod("big", resources={"cpu": "64"})])
    sim.run_until(329)
    assert [e["count"] for e in sim.events() if e["reason"] == "FailedScheduling"] == [1]
    sim.run_until(330)
    assert [e["count"] for e in sim.events() if e["reason"] == "FailedScheduling"] == [2]


def test_node_selector_and_affinity() -> None:
    sim = Simulation()
    sim.apply([pod("gpu", nodeSelector={"gpu": "true"})])
    assert messages(sim, "gpu", "FailedScheduling") == [
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
        "for scheduling.."
    ]
    zone_b = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [
                        {"key": "topology.kubernetes.io/zone", "operator": "In",
                         "values": ["zone-b"]}
                    ]}
                ]
            }
        }
    }
    sim.apply([pod("zoned", affinity=zone_b)])
    assert node_of(sim, "zoned") == "node-2"
    preferred = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 80, "preference": {"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-2"]}
                ]}}
            ]
        }
    }
    fresh = Simulation()
    fresh.apply([pod("prefers", affinity=preferred)])
    assert node_of(fresh, "prefers") == "node-2"


def test_taints_and_tolerations() -> None:
    taint = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
    assert tolerates({"key": "dedicated", "operator": "Equal", "value": "batch",
                      "effect": "NoSchedule"}, taint)
    assert not tolerates({"key": "dedicated", "operator": "Equal", "value": "web"}, taint)
    assert tolerates({"operator": "Exists"}, taint)
    assert not tolerates({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
                         taint)
    sim = Simulation()
    everywhere = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                   "effect": "NoSchedule"}]
    only_cp = {"kubernetes.io/hostname": "control-plane"}
    sim.apply([pod("on-cp", tolerations=everywhere, nodeSelector=only_cp)])
    assert node_of(sim, "on-cp") == "control-plane"
    nodes = [n for n in sim.nodes() if n["metadata"]["name"] == "node-2"]
    node2 = copy.deepcopy(nodes[0])
    node2["spec"]["taints"] = [{"key": "maintenance", "effect": "NoExecute"}]
    sim.apply([pod("victim", nodeSelector={"kubernetes.io/hostname": "node-2"})])
    sim.run_until(5)
    sim.apply([node2])
    assert sim.pod("victim")["metadata"].get("deletionTimestamp")
    assert messages(sim, "victim", "TaintManagerEviction") == [
        "Marking for deletion Pod default/victim"
    ]


def test_prefer_no_schedule_steers_away() -> None:
    sim = Simulation()
    node1 = next(n for n in sim.nodes() if n["metadata"]["name"] == "node-1")
    node1 = copy.deepcopy(node1)
    node1["spec"]["taints"] = [{"key": "slow", "effect": "PreferNoSchedule"}]
    sim.apply([node1])
    sim.apply([pod("a")])
    assert node_of(sim, "a") == "node-2"


def test_pod_anti_affinity_spreads_and_blocks() -> None:
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
    ]}}
    sim = Simulation()
    pods = []
    for name in ("w1", "w2", "w3"):
        p = pod(name, affinity=anti)
        p["metadata"]["labels"] = {"app": "web"}
        pods.append(p)
    sim.apply(pods)
    assert {node_of(sim, "w1"), node_of(sim, "w2")} == {"node-1", "node-2"}
    assert node_of(sim, "w3") is None
    assert messages(sim, "w3", "FailedScheduling") == [
        f"0/3 nodes are available: {CP_TAINT}, 2 node(s) didn't match pod anti-affinity rules. "
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.."
    ]


def test_pod_affinity_follows_the_target() -> None:
    sim = Simulation()
    sim.apply([pod("x"), pod("y")])
    target = pod("db")
    target["metadata"]["labels"] = {"app": "db"}
    target["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-2"}
    sim.apply([target])
    near = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}
    ]}}
    sim.apply([pod("app", affinity=near)])
    assert node_of(sim, "app") == "node-2"


def test_node_name_bypasses_scheduler_and_kubelet_rejects() -> None:
    sim = Simulation()
    sim.apply([pod("direct", nodeName="control-plane")])
    assert node_of(sim, "direct") == "control-plane"
    assert messages(sim, "direct", "Scheduled") == []
    sim.apply([pod("huge", nodeName="node-1", resources={"cpu": "64"})])
    status = sim.pod("huge")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "OutOfcpu")
    assert status["message"] == (
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 0, "
        "capacity: 4000"
    )


def test_scheduling_gates() -> None:
    sim = Simulation()
    gated = pod("gated", schedulingGates=[{"name": "example.com/quota"}])
    sim.apply([gated])
    assert "SchedulingGated" in get_pods(pods=sim.pods(), now=0)
    cond = condition(sim, "gated", "PodScheduled")
    assert cond["reason"] == "SchedulingGated"
    opened = copy.deepcopy(gated)
    opened["spec"]["schedulingGates"] = []
    sim.run_until(10)
    assert sim.apply([opened]) == []
    assert node_of(sim, "gated") == "node-1"
    added = copy.deepcopy(gated)
    added["spec"]["schedulingGates"] = [{"name": "new"}]
    assert sim.apply([added])[0]["code"] == "FieldValueForbidden"


def test_priority_preemption() -> None:
    sim = Simulation()
    sim.apply([pod("low1", resources={"cpu": "3"}), pod("low2", resources={"cpu": "3"})])
    high = pod("high", resources={"cpu": "3"})
    high["spec"]["priority"] = 1000
    sim.apply([high])
    assert sim.pod("high")["status"]["nominatedNodeName"] == "node-1"
    assert sim.pod("low1")["metadata"].get("deletionTimestamp")
    assert messages(sim, "low1", "Preempted")[0].startswith("Preempted by pod ")
    sim.run_until(60)
    assert node_of(sim, "high") == "node-1"


def test_effective_requests_count_init_containers_and_overhead() -> None:
    spec = {
        "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "500m"}}},
                       {"name": "b", "resources": {"requests": {"cpu": "500m"}}}],
        "overhead": {"cpu": "100m"},
    }
    assert pod_requests(spec)[0] == 2100
    assert fit_error(2, {}, "") == "0/2 nodes are available:"


# --- nodes: loss, cordon, drain ------------------------------------------------------------


def test_node_loss_timeline() -> None:
    sim = Simulation()
    sim.apply([pod("a")])
    sim.run_until(60)
    sim.lose_node("node-1")
    sim.run_until(114)
    ready = {n["metadata"]["name"]: n for n in sim.nodes()}["node-1"]
    assert "NotReady" not in get_nodes(nodes=[ready], now=114)
    sim.run_until(115)
    node1 = {n["metadata"]["name"]: n for n in sim.nodes()}["node-1"]
    cond = next(c for c in node1["status"]["conditions"] if c["type"] == "Ready")
    assert (cond["status"], cond["reason"]) == ("Unknown", "NodeStatusUnknown")
    assert {t["key"] for t in node1["spec"]["taints"]} == {"node.kubernetes.io/unreachable"}
    assert condition(sim, "a", "Ready")["status"] == "False"
    assert messages(sim, "a", "NodeNotReady") == ["Node is not ready"]
    sim.run_until(414)
    assert not sim.pod("a")["metadata"].get("deletionTimestamp")
    sim.run_until(415)
    assert "Terminating" in get_pods(pods=sim.pods(), now=415)
    sim.run_until(600)
    assert sim.pod("a") is not None  # the kubelet never confirms while unreachable
    sim.restore_node("node-1")
    sim.run_until(700)
    assert sim.pod("a") is None


def test_node_return_before_eviction_restores_ready() -> None:
    sim = Simulation()
    sim.apply([pod("a")])
    sim.run_until(10)
    sim.lose_node("node-1")
    sim.run_until(200)
    sim.restore_node("node-1")
    sim.run_until(210)
    assert condition(sim, "a", "Ready")["status"] == "True"
    node1 = {n["metadata"]["name"]: n for n in sim.nodes()}["node-1"]
    assert "taints" not in node1["spec"]


def test_cordon_blocks_and_uncordon_releases() -> None:
    sim = Simulation()
    sim.cordon("node-1")
    sim.cordon("node-2")
    sim.apply([pod("a")])
    assert messages(sim, "a", "FailedScheduling") == [
        f"0/3 nodes are available: {CP_TAINT}, 2 node(s) were unschedulable. preemption: 0/3 "
        "nodes are available: 3 Preemption is not helpful for scheduling.."
    ]
    sim.uncordon("node-2")
    sim.run_until(5)
    assert node_of(sim, "a") == "node-2"


def test_drain_evicts_with_grace_and_skips_mirror_pods() -> None:
    sim = Simulation()
    sim.apply([pod("a", nodeName="node-1", terminationGracePeriodSeconds=5)])
    sim.add_static_pod(pod("etcd"), "node-1")
    sim.run_until(10)
    sim.drain("node-1")
    assert sim.pod("a")["metadata"]["deletionGracePeriodSeconds"] == 5
    assert condition(sim, "a", "DisruptionTarget")["reason"] == "EvictionByEvictionAPI"
    assert not sim.pod("etcd-node-1")["metadata"].get("deletionTimestamp")
    assert "SchedulingDisabled" in get_nodes(nodes=sim.nodes(), now=10)


# --- static Pods ---------------------------------------------------------------------------


def test_static_pod_mirror_comes_back_and_goes_with_manifest() -> None:
    sim = Simulation()
    mirror = sim.add_static_pod(pod("web"), "node-2")
    assert mirror is not None
    assert mirror["metadata"]["name"] == "web-node-2"
    assert "kubernetes.io/config.mirror" in mirror["metadata"]["annotations"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    sim.run_until(10)
    assert sim.delete_pod("web-node-2")
    assert sim.pod("web-node-2") is not None
    assert not sim.pod("web-node-2")["metadata"].get("deletionTimestamp")
    sim.run_until(20)
    assert sim.remove_static_pod("web", "node-2")
    sim.run_until(60)
    assert sim.pod("web-node-2") is None


# --- golden views --------------------------------------------------------------------------


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PODLAB_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_golden_get_nodes() -> None:
    sim = Simulation()
    sim.run_until(30)
    sim.cordon("node-2")
    sim.lose_node("node-1")
    sim.run_until(120)
    _golden("cluster-get-nodes.txt", get_nodes(nodes=sim.nodes(), now=120))


def test_golden_failed_scheduling_describe() -> None:
    text = (LESSONS / "10-how-a-pod-is-created/examples/creation-unschedulable.yaml").read_text()
    sim = Simulation()
    sim.apply(parse_manifests(text).objects)
    sim.run_until(60)
    _golden("unschedulable-describe.txt", describe_pods(pods=sim.pods(), events=sim.events(),
                                                        now=60))


@pytest.mark.parametrize("seed", [0, 7])
def test_scheduling_is_deterministic(seed: int) -> None:
    def run() -> list[tuple[str, str | None]]:
        sim = Simulation(seed=seed)
        sim.apply([pod(f"p{i}", resources={"cpu": "700m"}) for i in range(8)])
        return [(p["metadata"]["name"], p["spec"].get("nodeName")) for p in sim.pods()]

    assert run() == run()


def test_a_pod_that_may_not_preempt_says_so_after_the_histogram() -> None:
    """DefaultPreemption's PostFilter prefixes "preemption: "; FitError.Error() adds one
    period (the histogram's own FitError would end in two)."""
    sim = Simulation()
    sim.apply([pod("meek", resources={"cpu": "64"}, preemptionPolicy="Never")])
    assert messages(sim, "meek", "FailedScheduling") == [
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. "
        "preemption: not eligible due to preemptionPolicy=Never."
    ]
