# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""Conformance: the kubelet's eviction manager and local ephemeral storage. Every
housekeeping interval (10 s) ``localStorageEviction`` looks at each Pod in upstream's order —
an emptyDir past its ``sizeLimit``, the Pod past the sum of its containers'
``ephemeral-storage`` limits, a container past its own — and without limits the node's
``nodefs.available<10%`` hard threshold evicts the Pod using the most disk. Messages are the
kubelet's (pkg/kubelet/eviction/helpers.go). Whatever a program writes, PodLab keeps at most
``MAX_KEPT_TREE`` of content per tree and counts the rest."""

from __future__ import annotations

import json
from typing import Any

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.cluster import default_nodes
from podlab.engine.kubelet.resources import EVICTION_INTERVAL, percent_threshold, pod_limit
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.shell.interp import MAX_KEPT_TREE
from podlab.engine.simulation import Simulation

YES_PER_SECOND = 4 * 1024 * 1024  # yes writes 4 MiB per CPU-second (docs/engine.md)


def manifest(name: str, containers: str, volumes: str = "", restart: str = "Never") -> str:
    text = (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
        f"  restartPolicy: {restart}\n  containers:\n{containers}"
    )
    return text + (f"  volumes:\n{volumes}" if volumes else "")


def container(name: str, script: str, *, limits: str = "", requests: str = "", mounts: str = "") -> str:
    parts = []
    if limits:
        parts.append(f"limits: {{{limits}}}")
    if requests:
        parts.append(f"requests: {{{requests}}}")
    resources = f", resources: {{{', '.join(parts)}}}" if parts else ""
    volume_mounts = f", volumeMounts: [{mounts}]" if mounts else ""
    return (
        f'  - {{name: {name}, image: "busybox:1.36", command: [sh, -c, {json.dumps(script)}]'
        f"{resources}{volume_mounts}}}\n"
    )


def start(text: str, until: float, **kwargs: Any) -> Simulation:
    result = parse_manifests(text)
    assert result.ok, result.problems
    sim = Simulation(seed=0, **kwargs)
    sim.apply(result.objects)
    sim.run_until(until)
    return sim


def status(sim: Simulation, name: str) -> dict[str, Any]:
    found = sim.pod(name)
    assert found is not None
    return found["status"]


def evicted_events(sim: Simulation) -> list[tuple[str, str, str]]:
    return [(e["type"], e["source"]["component"], e["message"]) for e in sim.events() if e["reason"] == "Evicted"]


def writable_layer(sim: Simulation, name: str, index: int = 0) -> MemoryFileSystem:
    worker = sim._find(name, "default")  # noqa: SLF001 - the runtime's own view
    inst = worker.app_slots[index].current
    assert inst is not None and isinstance(inst.fs, MemoryFileSystem)
    return inst.fs


# --- the Pod's total, a container's own limit ------------------------------------------


def test_a_container_writing_past_its_limit_evicts_the_pod_with_the_pods_total_message() -> None:
    # 100Mi at 4 MiB/s is passed after 25 s; the next look of the eviction manager (every 10 s)
    # evicts. One container: its limit is also the Pod's total, which upstream checks first.
    sim = start(manifest("disk", container("c", "yes > /tmp/y", limits="ephemeral-storage: 100Mi")), 60)
    st = status(sim, "disk")
    message = "Pod ephemeral local storage usage exceeds the total limit of containers 100Mi. "
    assert (st["phase"], st["reason"], st["message"]) == ("Failed", "Evicted", message)
    assert evicted_events(sim) == [("Warning", "kubelet", message)]
    # kubectl describe's events, as on a real node: the eviction, then the kill
    reasons = [(e["reason"], e["message"]) for e in sim.events()]
    evicted = reasons.index(("Evicted", message))
    assert reasons[evicted + 1] == ("Killing", "Stopping container c")
    target = {c["type"]: c for c in st["conditions"]}["DisruptionTarget"]
    assert (target["reason"], target["message"]) == ("TerminationByKubelet", message)
    evicted_at = next(t.t for t in sim.transitions if t.rule == "evicted.kill")
    assert 100 * 1024 * 1024 / YES_PER_SECOND < evicted_at <= 100 * 1024 * 1024 / YES_PER_SECOND + EVICTION_INTERVAL + 1
    # the file counts its 100 MiB, PodLab keeps at most MAX_KEPT_TREE of it
    fs = writable_layer(sim, "disk")
    assert fs.kept_bytes() <= MAX_KEPT_TREE
    assert fs.size("/tmp/y") > 100 * 1024 * 1024


def test_the_pods_total_is_the_sum_of_its_containers_limits() -> None:
    # two containers of 40Mi each: the Pod may use 80Mi; one writing 60Mi on its own is past
    # its container limit but not the Pod's total, so the container's message is the answer
    text = manifest(
        "pair",
        container("a", 'printf "%62914560s" x > /tmp/z; sleep 3600', limits="ephemeral-storage: 40Mi")
        + container("b", "sleep 3600", limits="ephemeral-storage: 40Mi"),
    )
    sim = start(text, 60)
    st = status(sim, "pair")
    assert (st["reason"], st["message"]) == ("Evicted", 'Container a exceeded its local ephemeral storage limit "40Mi". ')
    assert pod_limit(sim.pod("pair")["spec"], "ephemeral-storage").canonical() == "80Mi"  # type: ignore[index, union-attr]


def test_the_limit_prints_as_the_api_server_canonicalises_it() -> None:
    text = manifest("kib", container("c", "yes > /tmp/y", limits="ephemeral-storage: 10240Ki"))
    sim = start(text, 30)
    assert status(sim, "kib")["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 10Mi. "


def test_logs_count_toward_the_containers_ephemeral_storage() -> None:
    # the container's logs (current and rotated files) are its ephemeral storage too
    sim = start(manifest("loud", container("c", "yes", limits="ephemeral-storage: 20Mi")), 30)
    st = status(sim, "loud")
    assert (st["reason"], st["message"]) == ("Evicted", "Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. ")


def test_within_its_limit_a_pod_keeps_running() -> None:
    sim = start(manifest("calm", container("c", 'printf "%1048576s" x > /tmp/y; sleep 3600', limits="ephemeral-storage: 100Mi")), 60)
    assert status(sim, "calm")["phase"] == "Running"


# --- emptyDir sizeLimit --------------------------------------------------------------


def test_an_emptydir_past_its_size_limit_evicts_even_past_the_kept_content() -> None:
    text = manifest(
        "scratch",
        container("c", "yes > /cache/y", mounts="{name: cache, mountPath: /cache}"),
        "  - {name: cache, emptyDir: {sizeLimit: 64Mi}}\n",
    )
    sim = start(text, 60)
    st = status(sim, "scratch")
    assert (st["reason"], st["message"]) == ("Evicted", 'Usage of EmptyDir volume "cache" exceeds the limit "64Mi". ')


def test_writes_through_a_subpath_are_counted_on_the_volume() -> None:
    text = manifest(
        "sub",
        container("c", "yes > /data/y", mounts="{name: cache, mountPath: /data, subPath: part}"),
        "  - {name: cache, emptyDir: {sizeLimit: 64Mi}}\n",
    )
    sim = start(text, 60)
    assert status(sim, "sub")["message"] == 'Usage of EmptyDir volume "cache" exceeds the limit "64Mi". '
    worker = sim._find("sub", "default")  # noqa: SLF001 - the runtime's own view
    ((volume, used),) = worker.volumes.empty_dir_usage()
    assert used > 64 * 1024 * 1024 and volume.fs.kept_bytes() <= MAX_KEPT_TREE


def test_an_emptydir_counts_toward_the_pods_total() -> None:
    text = manifest(
        "shared",
        container("c", "yes > /cache/y", limits="ephemeral-storage: 50Mi", mounts="{name: cache, mountPath: /cache}"),
        "  - {name: cache, emptyDir: {}}\n",
    )
    sim = start(text, 60)
    assert status(sim, "shared")["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 50Mi. "


# --- the node's disk: nodefs.available < 10% ----------------------------------------------


def small_disk(capacity: str) -> list[dict[str, Any]]:
    nodes = default_nodes()
    for node in nodes:
        node["status"]["capacity"]["ephemeral-storage"] = capacity
        node["status"].pop("allocatable")
    return nodes


def test_without_limits_the_nodes_disk_threshold_evicts_the_biggest_user() -> None:
    # a node with a 4Gi disk, 2.5Gi of it the operating system's: below 15 % available (imagefs.available: the image store is on
    # the same disk, so this default threshold is crossed before nodefs.available's 10 %) the
    # eviction manager evicts the Pod using the most disk beyond its request, with the
    # threshold and what is available
    text = manifest("filler", container("c", "yes > /tmp/y")) + "  nodeName: node-1\n"
    quiet = manifest("quiet", container("c", "sleep 3600")) + "  nodeName: node-1\n"
    result = parse_manifests(text + "---\n" + quiet)
    assert result.ok, result.problems
    sim = Simulation(seed=0, nodes=small_disk("4Gi"))
    sim.apply(result.objects)
    sim.run_until(260)
    st = status(sim, "filler")
    assert (st["phase"], st["reason"]) == ("Failed", "Evicted")
    head, rest = st["message"].split("available: ", 1)
    # the kubelet parses "15%" as a float32 fraction: 15 % of 4Gi is 644245120 bytes, not
    # 644245094.4 (GetThresholdQuantity)
    assert head == "The node was low on resource: ephemeral-storage. Threshold quantity: 644245120, "
    assert percent_threshold(1024**3, 15) == 161061280 and percent_threshold(1024**3, 10) == 107374184
    available, tail = rest.split(". ", 1)
    assert available.endswith("Ki") or available.isdigit()
    assert tail.startswith("Container c was using ") and tail.endswith(", request is 0, has larger consumption of ephemeral-storage. ")
    assert status(sim, "quiet")["phase"] == "Running"
    # the same Pod on the lab's own node (100Gi disk) runs on
    roomy = start(text, 260)
    assert status(roomy, "filler")["phase"] == "Running"


# --- what the filesystem keeps and counts -------------------------------------------------


def test_a_tree_counts_bytes_past_what_it_keeps() -> None:
    fs = MemoryFileSystem(dirs=["/tmp"])
    fs.write("/tmp/a", "x" * 10)
    assert fs.count_append("/tmp/a", 1000)
    assert not fs.count_append("/tmp/missing", 5)
    assert (fs.kept_bytes(), fs.file_bytes(), fs.size("/tmp/a")) == (10, 1010, 1010)
    assert fs.read("/tmp/a") == "x" * 10
    copy = fs.copy()
    fs.write("/tmp/a", "y")  # truncating forgets what was counted
    assert (fs.kept_bytes(), fs.file_bytes()) == (1, 1)
    assert copy.file_bytes() == 1010
    copy.remove("/tmp", recursive=True)
    assert (copy.kept_bytes(), copy.file_bytes()) == (0, 0)
    assert fs.layer_bytes({"/tmp/a": "y"}) == 0
    assert fs.layer_bytes({}) == 1
    assert fs.layer_bytes({}, ("/tmp/",)) == 0


def test_ls_shows_the_size_written_not_the_part_kept() -> None:
    script = 'printf "%40000000s" x > /tmp/big; ls -l /tmp/big; sleep 3600'
    sim = start(manifest("ls", container("c", script)), 30)
    assert sim.logs("ls").split()[4] == "40000000"
    assert writable_layer(sim, "ls").kept_bytes() <= MAX_KEPT_TREE


def test_under_disk_pressure_a_pod_within_its_request_goes_last() -> None:
    # rankDiskPressureFunc: Pods using more than they request first. Both write as fast;
    # "asked" requested 1Gi of ephemeral-storage and stays under it, so "greedy" goes.
    asked = manifest("asked", container("c", "yes > /tmp/y", requests="ephemeral-storage: 1Gi")) + "  nodeName: node-1\n"
    greedy = manifest("greedy", container("c", "yes > /tmp/y")) + "  nodeName: node-1\n"
    result = parse_manifests(asked + "---\n" + greedy)
    assert result.ok, result.problems
    sim = Simulation(seed=0, nodes=small_disk("4608Mi"))  # 2Gi beside the operating system
    sim.apply(result.objects)
    sim.run_until(250)
    assert status(sim, "greedy")["reason"] == "Evicted"
    assert status(sim, "asked")["phase"] == "Running"
