# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""The node's free room as ``Node.reserve`` remembers it between writes.

A write takes its room from a figure measured once and lowered by every write since; the
figure is measured again when something else took room (``Node.disk_changed``: a log rotated,
an emptyDir set up, an image pulled; a new container reserves what it holds). These tests
watch every reservation and check that the remembered figure never shows more room than a
fresh measurement: a write never takes room that is not free."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.kubelet.kubelet import Node
from podlab.engine.simulation import Simulation
from tests.engine.test_conformance_disk_full import full_disk_node


@pytest.fixture
def overstated(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Every (remembered, measured) room where the remembered one was larger."""
    found: list[tuple[tuple[int, int], tuple[int, int]]] = []
    reserve = Node.reserve

    def watched(self: Node, nbytes: int, ninodes: int, *, whole: bool = False) -> tuple[int, int]:
        # after the write's own reservation (a write reserves before it writes; a new
        # container's reservation accounts for what it already holds)
        granted = reserve(self, nbytes, ninodes, whole=whole)
        if self.storage_capacity > 0 and self._room is not None:
            fresh = self.disk_room()
            if self._room[0] > fresh[0] or self._room[1] > fresh[1]:
                found.append(((self._room[0], self._room[1]), fresh))
        return granted

    monkeypatch.setattr(Node, "reserve", watched)
    return found


def pod(name: str, script: str, restart: str = "Always") -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: {restart}\n"
        f'  containers:\n  - {{name: c, image: "busybox:1.36", command: [sh, -c, {json.dumps(script)}]}}\n'
    )


def start(*manifests: str, until: float) -> Simulation:
    result = parse_manifests("---\n".join(manifests))
    assert result.ok, result.problems
    sim = Simulation(seed=0, nodes=full_disk_node())
    sim.apply(result.objects)
    sim.run_until(until)
    return sim


def test_a_rotated_log_is_counted_before_the_next_write(overstated: list[Any]) -> None:
    # each rotation makes a new 0.log (one more inode) and gzips the older file; the
    # logger writes a megabyte at a time, so no write is big enough to measure the room anew
    loud = 'while true; do printf "%1000000s\\n" x; sleep 0.1; done'
    sim = start(pod("loud", loud), pod("quiet", "while true; do echo x >> /tmp/f; sleep 1; done"), until=120)
    worker = next(w for w in sim.control.nodes["node-1"].kubelet.workers if w.name == "loud")
    assert worker.slots[0].current.rotated_logs, "the logger's log was never rotated"
    assert overstated == []


INIT_THEN_APP = """apiVersion: v1
kind: Pod
metadata:
  name: steps
spec:
  initContainers:
  - {name: first, image: "busybox:1.36", command: [sh, -c, "echo init; sleep 2"]}
  containers:
  - {name: second, image: "busybox:1.36", command: [sh, -c, "sleep 1; echo app; sleep 3600"]}
"""


def test_new_containers_restarts_and_deletions_are_counted_before_the_next_write(overstated: list[Any]) -> None:
    # a container made (its log file and writable layer) takes room; one that exits is made
    # again; a Pod that is deleted gives its room back
    sim = start(
        INIT_THEN_APP,
        pod("crash", "echo start; touch /tmp/a /tmp/b; sleep 3; exit 1"),
        pod("writer", "while true; do echo line; date >> /tmp/f; sleep 1; done"),
        until=90,
    )
    sim.delete_pod("crash")
    sim.run_until(150)
    assert overstated == []


def test_the_eviction_managers_one_pass_adds_up_as_the_separate_figures() -> None:
    # Node.observations adds bytes and inodes in one pass (PodWorker.disk_usage)
    scratch = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: scratch\nspec:\n  containers:\n"
        '  - {name: c, image: "busybox:1.36", command: [sh, -c, "mkdir -p /s/d; while true; do date >> /s/d/f; sleep 1; done"], '
        "volumeMounts: [{name: s, mountPath: /s}, {name: m, mountPath: /m}]}\n"
        "  volumes:\n  - {name: s, emptyDir: {}}\n  - {name: m, emptyDir: {medium: Memory}}\n"
    )
    sim = start(
        INIT_THEN_APP,
        scratch,
        pod("writer", "mkdir -p /tmp/a/b; while true; do date >> /tmp/a/b/f; sleep 1; done"),
        pod("logger", 'while true; do printf "%1000000s\\n" x; sleep 0.1; done'),
        until=60,
    )
    node = sim.control.nodes["node-1"].kubelet
    assert {w.name for w in node.workers} == {"steps", "scratch", "writer", "logger"}
    for worker in node.workers:
        assert worker.disk_usage() == (worker.storage_usage(), worker.inode_usage())
    assert next(w for w in node.workers if w.name == "scratch").disk_usage()[1] > 3
    live = node._live()
    observed = node.observations(live)
    assert observed["nodefs.available"][0] == node.disk_available(live)
    assert observed["nodefs.inodesFree"][0] == node.inodes_free(live)
    assert observed["memory.available"][0] == node.memory_available()
    assert observed["pid.available"][0] == node.pid_available()
