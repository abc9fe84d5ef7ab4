"""The learner's registry (``Simulation.set_image_available``), node-pressure eviction against
the node's own capacity, and Nodes in ``podsim``'s JSON outputs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from podlab.engine import cli
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.cluster import default_nodes
from podlab.engine.simulation import Simulation

GOLDEN = Path(__file__).parent / "golden"
NOT_FOUND = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to '
    'resolve reference "{ref}": {ref}: not found'
)


def pod(name: str, image: str, *, node: str | None = None, policy: str | None = None,
        extra: dict[str, Any] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": image, **(extra or {})}
    if policy is not None:
        container["imagePullPolicy"] = policy
    spec: dict[str, Any] = {"containers": [container]}
    if node is not None:
        spec["nodeName"] = node
    text = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": spec})
    result = parse_manifests(text)
    assert result.ok, result.problems
    return result.objects[0]


def state(sim: Simulation, name: str) -> dict[str, Any]:
    found = sim.pod(name)
    assert found is not None
    return found["status"]["containerStatuses"][0]["state"]


def waiting(sim: Simulation, name: str) -> tuple[str, str]:
    entry = state(sim, name).get("waiting") or {}
    return entry.get("reason", ""), entry.get("message", "")


def messages(sim: Simulation, name: str, reason: str) -> list[str]:
    return [
        e["message"]
        for e in sim.events()
        if e["involvedObject"]["name"] == name and e["reason"] == reason
    ]


# --- the registry -----------------------------------------------------------------------


def test_a_removed_image_fails_to_pull_like_an_unknown_tag() -> None:
    sim = Simulation(seed=0)
    assert sim.set_image_available("nginx:1.27", False)
    sim.apply([pod("gone", "nginx:1.27"), pod("never", "nginx:9.9")])
    sim.run_until(2)
    ref = "docker.io/library/nginx:1.27"
    assert waiting(sim, "gone") == ("ErrImagePull", NOT_FOUND.format(ref=ref))
    assert messages(sim, "gone", "Failed")[0] == (
        f'Failed to pull image "nginx:1.27": {NOT_FOUND.format(ref=ref)}'
    )
    # the same shape of message as a tag that never existed
    other = "docker.io/library/nginx:9.9"
    assert waiting(sim, "never") == ("ErrImagePull", NOT_FOUND.format(ref=other))
    sim.run_until(30)
    assert waiting(sim, "gone")[0] == "ImagePullBackOff"
    assert waiting(sim, "gone")[1] == 'Back-off pulling image "nginx:1.27"'


def test_a_node_keeps_an_image_the_registry_lost() -> None:
    sim = Simulation(seed=0)
    sim.apply([pod("first", "nginx:1.27", node="node-1")])
    sim.run_until(10)
    assert "running" in state(sim, "first")
    assert sim.set_image_available("nginx:1.27", False)
    sim.apply([
        pod("cached", "nginx:1.27", node="node-1"),
        pod("elsewhere", "nginx:1.27", node="node-2"),
        pod("always", "nginx:1.27", node="node-1", policy="Always"),
    ])
    sim.run_until(15)
    assert "running" in state(sim, "cached")
    assert messages(sim, "cached", "Pulled") == [
        'Container image "nginx:1.27" already present on machine'
    ]
    assert waiting(sim, "elsewhere")[0] in ("ErrImagePull", "ImagePullBackOff")
    assert waiting(sim, "always")[0] in ("ErrImagePull", "ImagePullBackOff")


def test_a_new_tag_of_a_known_repository_can_be_pushed_and_a_stuck_pod_recovers() -> None:
    sim = Simulation(seed=0)
    sim.apply([pod("web", "nginx:1.99")])
    sim.run_until(30)
    assert waiting(sim, "web")[0] == "ImagePullBackOff"
    assert sim.set_image_available("nginx:1.99", True)
    pushed_at = sim.now
    sim.run_until(400)
    assert "running" in state(sim, "web")
    status = sim.pod("web")["status"]["containerStatuses"][0]  # type: ignore[index]
    assert status["image"] == "docker.io/library/nginx:1.99"
    pulls = [e for e in sim.events() if e["reason"] == "Pulled"]
    assert pulls and pulls[0]["message"].startswith('Successfully pulled image "nginx:1.99"')
    started = next(t for t in sim.transitions if t.pod == "web" and t.new == "Running")
    assert started.t > pushed_at  # on the next pull attempt, not at the push
    # it is an nginx: its entrypoint speaks as nginx's does
    assert "/docker-entrypoint.sh" in sim.logs("web", "c")


def test_a_test_image_pushed_under_an_unknown_name_listens_logs_and_stops() -> None:
    sim = Simulation(seed=0)
    sim.apply([pod("svc", "user-service:v1", extra={"ports": [{"containerPort": 9000}]})])
    sim.run_until(20)
    reason, message = waiting(sim, "svc")
    assert reason in ("ErrImagePull", "ImagePullBackOff")
    failed = [e["message"] for e in sim.events() if e["reason"] == "Failed"
              and e["message"].startswith("Failed to pull")]
    assert "pull access denied, repository does not exist or may require authorization" \
        in failed[0]
    assert sim.set_image_available("user-service:v1", True, [(9000, "TCP")])
    sim.run_until(400)
    assert "running" in state(sim, "svc")
    assert "docker.io/library/user-service:v1 started; listening on 9000/tcp" in \
        sim.logs("svc", "c")
    sim.delete_pod("svc")
    sim.run_until(500)
    finished = [t.new for t in sim.transitions if t.pod == "svc" and t.field == "state"
                and str(t.new).startswith("Terminated")]
    assert finished == ["Terminated:Completed"]  # SIGTERM: exit 0


def test_pushing_an_invalid_reference_is_refused() -> None:
    sim = Simulation(seed=0)
    assert sim.set_image_available("example.invalid/team/app:1.0", True)  # a test image
    assert not sim.set_image_available("Not A Reference", True)
    assert not sim.set_image_available("app@sha256:" + "a" * 64, True)
    assert sim.set_image_available("busybox:1.36", True)  # already there: nothing to do
    assert sim.set_image_available("busybox:1.36", False)
    assert sim.set_image_available("busybox:1.36", True)
    sim.apply([pod("back", "busybox:1.36", extra={"command": ["sleep", "60"]})])
    sim.run_until(5)
    assert "running" in state(sim, "back")


# --- node-pressure eviction uses the node's capacity ------------------------------------


def _small_cluster(memory: str) -> list[dict[str, Any]]:
    nodes = default_nodes()
    for node in nodes:
        node["status"]["capacity"]["memory"] = memory
        node["status"].pop("allocatable")
    return nodes


HOG = {"command": ["stress"], "args": ["--vm", "1", "--vm-bytes", "2050M", "--vm-hang", "1"]}


def test_memory_pressure_is_measured_against_the_nodes_capacity() -> None:
    small = Simulation(seed=0, nodes=_small_cluster("2Gi"))
    small.apply([pod("hog", "polinux/stress", node="node-1", extra=HOG)])
    small.run_until(40)
    status = small.pod("hog")["status"]  # type: ignore[index]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    # memory.available is the node's 2Gi capacity minus what the Pod uses
    used = int(status["message"].split("was using ")[1].split("Ki")[0])
    assert f"available: {2 * 1024**2 - used}Ki." in status["message"]

    roomy = Simulation(seed=0)  # node-1 has 8148772Ki: the same Pod fits
    roomy.apply([pod("hog", "polinux/stress", node="node-1", extra=HOG)])
    roomy.run_until(40)
    assert roomy.pod("hog")["status"]["phase"] == "Running"  # type: ignore[index]


def test_an_unset_limit_reads_as_the_nodes_allocatable() -> None:
    env = {"command": ["sh", "-c", "echo $MEM $CPU; sleep 60"], "env": [
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                           "divisor": "1Ki"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                           "divisor": "1m"}}},
    ]}
    sim = Simulation(seed=0)
    sim.apply([pod("limits", "busybox:1.36", node="node-1", extra=env)])
    sim.run_until(5)
    # node-1: capacity 8148772Ki memory minus the 100Mi eviction threshold, 4 CPUs
    assert sim.logs("limits", "c") == f"{8148772 - 102400} 4000\n"


# --- Nodes in podsim's JSON outputs -----------------------------------------------------


def _podsim(args: list[str]) -> tuple[int, str, str]:
    argv = [str(GOLDEN / a) if a.endswith(".yaml") else a for a in args]
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def test_json_lists_nodes_when_the_run_uses_the_cluster() -> None:
    code, out, err = _podsim(["completed-never.yaml", "--cordon", "node-2@5", "--until", "30",
                              "-o", "json"])
    assert code == 0, err
    items = json.loads(out)["items"]
    assert [i["kind"] for i in items] == ["Pod", "Node", "Node", "Node"]
    nodes = {i["metadata"]["name"]: i for i in items[1:]}
    assert list(nodes) == ["control-plane", "node-1", "node-2"]
    assert nodes["node-2"]["spec"]["unschedulable"] is True
    # a Pod-only run prints what it always printed
    code, out, _ = _podsim(["completed-never.yaml", "--until", "30", "-o", "json"])
    assert [i["kind"] for i in json.loads(out)["items"]] == ["Pod"]


def test_jsonl_records_node_changes(tmp_path: Path) -> None:
    code, out, err = _podsim(["completed-never.yaml", "--cordon", "node-2@5", "--uncordon",
                              "node-2@6", "--lose-node", "node-1@20", "--restore-node",
                              "node-1@200", "--until", "300", "-o", "jsonl"])
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    nodes = [line for line in lines if line["kind"] == "Node"]
    assert [list(line) for line in nodes] == [["t", "kind", "type", "object"]] * len(nodes)
    summary = [
        (line["t"], line["object"]["metadata"]["name"], line["type"],
         bool(line["object"]["spec"].get("unschedulable")),
         [t["key"] for t in line["object"]["spec"].get("taints") or []],
         {c["type"]: c["status"] for c in line["object"]["status"]["conditions"]}["Ready"])
        for line in nodes
    ]
    unreachable = "node.kubernetes.io/unreachable"
    unschedulable = "node.kubernetes.io/unschedulable"
    assert summary == [
        (5, "node-2", "MODIFIED", True, [unschedulable], "True"),
        (6, "node-2", "MODIFIED", False, [], "True"),
        (75, "node-1", "MODIFIED", False, [unreachable, unreachable], "Unknown"),
        (200, "node-1", "MODIFIED", False, [unreachable, unreachable], "True"),
        (200, "node-1", "MODIFIED", False, [], "True"),
    ]
    versions = [int(line["object"]["metadata"]["resourceVersion"])
                for line in lines if line["kind"] != "Event"]
    assert versions == sorted(versions)
    # without node actions there are no Node lines
    _, plain, _ = _podsim(["completed-never.yaml", "--until", "300", "-o", "jsonl"])
    assert '"kind":"Node"' not in plain


def test_a_node_document_joins_the_cluster_without_a_note(tmp_path: Path) -> None:
    text = """apiVersion: v1
kind: Node
metadata:
  name: node-3
  labels: {disk: ssd}
"""
    result = parse_manifests(text)
    assert result.ok and result.notes == []
    manifest = tmp_path / "node.yaml"
    manifest.write_text(text, encoding="utf-8")
    code, out, err = _podsim([str(GOLDEN / "completed-never.yaml"), f"{manifest}@10",
                              "--until", "20", "-o", "jsonl"])
    assert code == 0, err
    added = [json.loads(line) for line in out.splitlines() if '"kind":"Node"' in line]
    assert [(a["t"], a["type"], a["object"]["metadata"]["name"]) for a in added] == [
        (10, "ADDED", "node-3")
    ]
    assert added[0]["object"]["metadata"]["labels"]["disk"] == "ssd"
