# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""Conformance: a full node disk, as Linux and the container runtime see it.

A container's writable layer, its logs and its disk-backed emptyDirs are on the node's file
system. Once that is full, ``write(2)`` writes what fits and then fails with ``ENOSPC``, and a
file or directory that finds no free inode is not created (``ENOSPC`` too): busybox prints
``No space left on device`` and the command fails. containerd's CRI logger cannot write a
line either: it logs the error and goes on draining the container's output
(containerd ``pkg/cri/io/logger.go`` ``redirectLogs``), so those lines are lost.

The nodes here have no disk thresholds (``kubelet.podlab.dev/eviction-hard`` gives only
``memory.available``), so nothing is evicted before the disk is full."""

from __future__ import annotations

import json
from typing import Any

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.cluster import EVICTION_HARD_ANNOTATION, default_nodes
from podlab.engine.simulation import Simulation


def full_disk_node() -> list[dict[str, Any]]:
    node = default_nodes()[0]
    node["status"]["capacity"]["ephemeral-storage"] = "4Gi"
    node["status"].pop("allocatable")
    node["metadata"]["annotations"] = {EVICTION_HARD_ANNOTATION: "memory.available<100Mi"}
    return [node]


def run(script: str, volumes: str = "", until: float = 600) -> Simulation:
    mounts = "" if not volumes else ", volumeMounts: [{name: data, mountPath: /data}, {name: mem, mountPath: /mem}]"
    container = f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, {json.dumps(script)}]{mounts}}}\n'
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  restartPolicy: Never\n"
        f"  containers:\n{container}{volumes}"
    )
    result = parse_manifests(manifest)
    assert result.ok, result.problems
    sim = Simulation(seed=0, nodes=full_disk_node())
    sim.apply(result.objects)
    sim.run_until(until)
    return sim


def kubelet(sim: Simulation) -> Any:
    return sim.control.nodes["node-1"].kubelet


VOLUMES = "  volumes:\n  - {name: data, emptyDir: {}}\n  - {name: mem, emptyDir: {medium: Memory}}\n"


def test_writes_fail_with_no_space_left_once_the_disk_is_full() -> None:
    # the messages go to a tmpfs while the disk is full (a log line could not be written),
    # and are printed once the big file is gone
    script = (
        "yes > /tmp/y 2> /mem/out; echo yes=$? >> /mem/out; "
        "echo more >> /tmp/y 2>> /mem/out; echo echo=$? >> /mem/out; "
        "printf abc >> /tmp/y 2>> /mem/out; echo printf=$? >> /mem/out; "
        "echo x > /data/f 2>> /mem/out; echo emptydir=$? >> /mem/out; "
        "cat /mem/out > /tmp/copy 2>> /mem/out; echo cat=$? >> /mem/out; "
        "cp /mem/out /tmp/ 2>> /mem/out; echo cp=$? >> /mem/out; "
        "touch /tmp/empty 2>> /mem/out; echo touch=$? >> /mem/out; "
        "mkdir /tmp/d 2>> /mem/out; echo mkdir=$? >> /mem/out; "
        "sleep 5; rm /tmp/y; cat /mem/out; sleep 3600"
    )
    sim = run(script, VOLUMES)
    logs = sim.logs("p").splitlines()
    assert logs == [
        "yes: No space left on device",
        "yes=1",
        "sh: write error: No space left on device",
        "echo=1",
        # printf writes through stdio and never checks: the output is lost, the status 0
        "printf=0",
        "sh: write error: No space left on device",
        "emptydir=1",
        "cat: write error: No space left on device",
        "cat=1",
        # the copy is made (an inode is free), its first write fails
        "cp: write error: No space left on device",
        "cp=1",
        # a file or a directory needs an inode, not free bytes
        "touch=0",
        "mkdir=0",
    ]
    pod = sim.pod("p")
    assert pod is not None and pod["status"]["phase"] == "Running"


def test_the_disk_fills_to_exactly_zero_and_never_below() -> None:
    sim = run("yes > /tmp/y; yes > /tmp/y2; sleep 3600", until=400)
    node = kubelet(sim)
    assert node.disk_available() == 0
    (worker,) = node.workers
    # the first file took every free byte; the second one got none
    fs = worker.slots[0].current.fs
    assert fs.size("/tmp/y2") == 0
    assert fs.size("/tmp/y") > 1024**3


def test_log_lines_are_lost_while_the_disk_is_full() -> None:
    sim = run("echo before; yes > /tmp/y; echo lost; echo lost 2>&1; rm /tmp/y; echo after; sleep 3600")
    assert sim.logs("p").splitlines() == ["before", "after"]


def test_no_free_inode_means_no_new_file_or_directory() -> None:
    # a few inodes left: the operating system's count raised to take the rest
    sim = run("sleep 20; " + "touch /tmp/a; echo a=$?; mkdir -p /tmp/b/c/d/e/f 2>/tmp/err; echo b=$?; "
              "touch /tmp/x 2>&1; echo x=$?; mkdir /tmp/y 2>&1; echo y=$?; echo z > /tmp/z 2>&1; echo z=$?; "
              "cp /tmp/a /tmp/b/ 2>&1; echo cp=$?; echo more >> /tmp/a; echo append=$?; sleep 3600", VOLUMES, until=5)
    node = kubelet(sim)
    node.os_inodes += node.inodes_free() - 4
    sim.run_until(60)
    assert node.inodes_free() == 0
    logs = sim.logs("p").splitlines()
    assert logs == [
        "a=0",
        "b=1",
        "touch: /tmp/x: No space left on device",
        "x=1",
        "mkdir: can't create directory '/tmp/y': No space left on device",
        "y=1",
        "sh: can't create /tmp/z: No space left on device",
        "z=1",
        "cp: can't create '/tmp/b/a': No space left on device",
        "cp=1",
        # an existing file grows without a new inode
        "append=0",
    ]
    fs = node.workers[0].slots[0].current.fs
    # mkdir -p made the directories it had inodes for (the error file took one), then
    # named the one it could not make as busybox does, cut after it
    assert fs.is_dir("/tmp/b/c") and not fs.exists("/tmp/b/c/d")
    assert fs.read("/tmp/err") == "mkdir: can't create directory '/tmp/b/c/d/': No space left on device\n"
