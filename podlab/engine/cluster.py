"""The simulated cluster's nodes: the default cluster, Node objects in and out, node state.

A ``ClusterNode`` is one node as the control plane sees it (labels, taints, capacity,
allocatable, the ``Ready`` condition) together with the kubelet-side ``Node`` that owns its
images and back-off state. ``default_nodes()`` is the cluster every simulation starts with
unless a cluster file replaces it: one tainted control-plane node and two workers, ``node-1``
(``192.168.49.2``, the node part 1 of the engine used) and ``node-2``.

Timing constants follow Kubernetes 1.34 defaults:

* the kubelet renews its Lease every 10 s (``leaseDurationSeconds`` 40 s, renew interval a
  quarter of it) and posts its full status every 5 minutes when nothing changed;
* the node lifecycle controller checks nodes every 5 s (``--node-monitor-period``) and marks a
  node ``Unknown`` once it has not heard from it for more than 50 s
  (``--node-monitor-grace-period``, 50 s since 1.32; 40 s before).
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import math
import uuid
from typing import Any

from podlab.engine.apiserver import validation
from podlab.engine.core.quantity import QuantityError, cpu_millicores, memory_bytes
from podlab.engine.core.version import timestamp
from podlab.engine.kubelet import resources as res
from podlab.engine.kubelet.kubelet import Node

KUBELET_VERSION = "v1.34.1"
CONTAINER_RUNTIME = "containerd://2.1.4"
LEASE_RENEW_SECONDS = 10.0
#: nodeStatusUpdateFrequency: the kubelet computes its node status every 10 s and posts it
#: when something changed (else every STATUS_REPORT_SECONDS).
NODE_STATUS_UPDATE_SECONDS = 10.0
STATUS_REPORT_SECONDS = 300.0
NODE_MONITOR_PERIOD = 5.0
NODE_MONITOR_GRACE_PERIOD = 50.0

CONTROL_PLANE_ROLE = "node-role.kubernetes.io/control-plane"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
#: TaintNodesByCondition: the node lifecycle controller's NoSchedule taint for each pressure
#: condition that is True.
PRESSURE_TAINTS = {
    "MemoryPressure": TAINT_MEMORY_PRESSURE,
    "DiskPressure": TAINT_DISK_PRESSURE,
    "PIDPressure": TAINT_PID_PRESSURE,
}
#: The kubelet's ``evictionHard`` is in its configuration file, which a v1 Node does not
#: carry: a cluster file's Node gives it with this annotation, the statements separated by
#: commas (``memory.available<100Mi,pid.available<10%``). As in the kubelet, it replaces
#: the default thresholds: a signal left out has none.
EVICTION_HARD_ANNOTATION = validation.EVICTION_HARD_ANNOTATION

#: Taints the control plane owns: set and removed from node state, never by a manifest.
CONTROLLER_TAINTS = frozenset(
    {
        TAINT_UNREACHABLE,
        TAINT_NOT_READY,
        TAINT_UNSCHEDULABLE,
        TAINT_MEMORY_PRESSURE,
        TAINT_DISK_PRESSURE,
        TAINT_PID_PRESSURE,
    }
)

WORKER_CAPACITY = {
    "cpu": "4",
    "ephemeral-storage": "104857600Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "8148772Ki",
    "pods": "110",
}
CONTROL_PLANE_CAPACITY = {
    "cpu": "2",
    "ephemeral-storage": "104857600Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "4010532Ki",
    "pods": "110",
}

CONDITION_TEXT = {
    "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("KubeletReady", "kubelet is posting ready status"),
}
#: The kubelet's status setters (pkg/kubelet/nodestatus/setters.go) for a pressure condition
#: that is True: reason, message and the node event it records ("Node <name> status is
#: now: <event>"); the False side's event is in PRESSURE_CLEARED_EVENTS.
PRESSURE_TEXT = {
    "MemoryPressure": (
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
        "NodeHasInsufficientMemory",
    ),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure", "NodeHasDiskPressure"),
    "PIDPressure": (
        "KubeletHasInsufficientPID",
        "kubelet has insufficient PID available",
        "NodeHasInsufficientPID",
    ),
}
PRESSURE_CLEARED_EVENTS = {
    "MemoryPressure": "NodeHasSufficientMemory",
    "DiskPressure": "NodeHasNoDiskPressure",
    "PIDPressure": "NodeHasSufficientPID",
}
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."


def _standard_labels(name: str, zone: str, role: str | None) -> dict[str, str]:
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": zone,
    }
    if role is not None:
        labels[role] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    return dict(sorted(labels.items()))


def default_allocatable(
    capacity: dict[str, str], thresholds: tuple[res.Threshold, ...] = res.DEFAULT_THRESHOLDS
) -> dict[str, str]:
    """What the kubelet reports as allocatable with no reservations: the capacity less its
    hard eviction thresholds for ``memory.available`` and ``nodefs.available``
    (``hardEvictionReservation``; a percentage is of the capacity). A signal without a
    threshold reserves nothing."""
    out = dict(capacity)
    by_signal = {t.signal: t for t in thresholds}
    reserved = (("memory", res.SIGNAL_MEMORY), ("ephemeral-storage", res.SIGNAL_NODEFS))
    for resource, signal in reserved:
        text = capacity.get(resource)
        threshold = by_signal.get(signal)
        if text is None or threshold is None:
            continue
        try:
            total = int(memory_bytes(text))
        except (QuantityError, ValueError, TypeError):
            continue
        left = max(0, total - threshold.value(total))
        if resource == "memory" and left % 1024 == 0:
            out[resource] = f"{left // 1024}Ki"
        else:
            out[resource] = str(left)
    return out


def _node(name: str, ip: str, zone: str, *, control_plane: bool) -> dict[str, Any]:
    capacity = CONTROL_PLANE_CAPACITY if control_plane else WORKER_CAPACITY
    spec: dict[str, Any] = {}
    if control_plane:
        spec["taints"] = [{"effect": "NoSchedule", "key": CONTROL_PLANE_ROLE}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": _standard_labels(name, zone, CONTROL_PLANE_ROLE if control_plane else None),
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"address": ip, "type": "InternalIP"},
                {"address": name, "type": "Hostname"},
            ],
            "capacity": dict(capacity),
            "allocatable": default_allocatable(capacity),
        },
    }


def default_nodes(worker: str = "node-1", worker_ip: str = "192.168.49.2") -> list[dict[str, Any]]:
    """The default cluster: ``worker`` (first worker), ``node-2``, ``control-plane``.

    Listed in the order the scheduler breaks ties, so a lone Pod lands on ``worker``.
    """
    base = ipaddress.ip_address(worker_ip)
    return [
        _node(worker, str(base), "zone-a", control_plane=False),
        _node("node-2", str(base + 1), "zone-b", control_plane=False),
        _node("control-plane", str(base + 2), "zone-a", control_plane=True),
    ]


def _int(value: Any) -> int:
    try:
        return int(memory_bytes(value))
    except (QuantityError, ValueError, TypeError):
        return 0


def _cpu(value: Any) -> int:
    try:
        return int(cpu_millicores(value))
    except (QuantityError, ValueError, TypeError):
        return 0


class ClusterNode:
    """One node: the v1 object's fields the control plane changes, and its kubelet."""

    def __init__(
        self, obj: dict[str, Any], *, host_ip: str, pod_cidr: str, created: float, seed: int
    ) -> None:
        meta = obj.get("metadata") or {}
        self.name: str = meta.get("name") or ""
        digest = hashlib.sha256(f"node/{seed}/{self.name}".encode()).digest()
        self.uid = str(uuid.UUID(bytes=digest[:16], version=4))
        self.created = created
        self.host_ip = host_ip
        self.pod_cidr = pod_cidr
        self._network = ipaddress.ip_network(pod_cidr)
        self.next_ip = 2
        self.kubelet = Node(self.name, host_ip)
        self.labels: dict[str, str] = {}
        self.annotations: dict[str, str] = {}
        self.taints: list[dict[str, Any]] = []
        self.unschedulable = False
        self.capacity: dict[str, str] = {}
        self.allocatable: dict[str, str] = {}
        self.alloc_cpu = 0
        self.alloc_memory = 0
        self.alloc_storage = 0
        self.alloc_pods = 0
        # control plane view of the kubelet
        self.reachable = True
        self.ready = "True"  # the Ready condition's status: "True" or "Unknown"
        self.ready_since = created  # lastTransitionTime of the node conditions
        self.heartbeat = created  # last status post the control plane received
        self.lost_at: float | None = None
        #: The pressure conditions the API shows True (what the kubelet last posted), when
        #: each pressure condition last changed, and when the kubelet last posted a change.
        self.pressure: tuple[str, ...] = ()
        self.condition_since: dict[str, float] = {}
        self.status_posted = created
        self.static_pods: dict[str, Any] = {}  # manifest name -> PodWorker
        self.update(obj)

    # --- object in --------------------------------------------------------------------

    def update(self, obj: dict[str, Any]) -> None:
        """Take labels, annotations, taints, unschedulable and resources from a v1 Node."""
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        labels = dict(meta.get("labels") or {})
        labels.setdefault("kubernetes.io/hostname", self.name)
        labels.setdefault("kubernetes.io/os", "linux")
        labels.setdefault("kubernetes.io/arch", "amd64")
        self.labels = dict(sorted(labels.items()))
        self.annotations = dict(meta.get("annotations") or {})
        kept = [t for t in self.taints if t.get("key") in CONTROLLER_TAINTS]
        given = [
            {k: v for k, v in taint.items() if v not in (None, "")}
            for taint in spec.get("taints") or []
            if taint.get("key") not in CONTROLLER_TAINTS
        ]
        self.taints = given + kept
        self.unschedulable = bool(spec.get("unschedulable"))
        self._sync_unschedulable_taint()
        capacity = dict(status.get("capacity") or {})
        if not capacity:
            capacity = dict(self.capacity or WORKER_CAPACITY)
        allocatable = dict(status.get("allocatable") or {})
        if not allocatable:
            allocatable = default_allocatable(capacity, self.eviction_thresholds())
        for key, value in capacity.items():
            allocatable.setdefault(key, value)
        self.capacity = dict(sorted((k, str(v)) for k, v in capacity.items()))
        self.allocatable = dict(sorted((k, str(v)) for k, v in allocatable.items()))
        self.alloc_cpu = _cpu(self.allocatable.get("cpu", "0"))
        self.alloc_memory = _int(self.allocatable.get("memory", "0"))
        self.alloc_storage = _int(self.allocatable.get("ephemeral-storage", "0"))
        self.alloc_pods = _int(self.allocatable.get("pods", "0"))
        self.sync_kubelet()

    def sync_kubelet(self) -> None:
        """Hand the node's resources to its kubelet: allocatable is what an unset limit reads
        as through ``resourceFieldRef``; capacity is what ``memory.available`` is measured
        against by the eviction manager."""
        self.kubelet.allocatable = {"cpu": self.alloc_cpu, "memory": self.alloc_memory}
        self.kubelet.memory_capacity = _int(self.capacity.get("memory", "0"))
        self.kubelet.storage_capacity = _int(self.capacity.get("ephemeral-storage", "0"))
        self.kubelet.thresholds = self.eviction_thresholds()

    def eviction_thresholds(self) -> tuple[res.Threshold, ...]:
        """The kubelet's hard eviction thresholds: the defaults, or the node's
        ``EVICTION_HARD_ANNOTATION``. A manifest's Node with an invalid one is refused
        when it is read (``validation._node_kubelet_config``); a Node given directly keeps
        the defaults."""
        text = self.annotations.get(EVICTION_HARD_ANNOTATION)
        if text is None:
            return res.DEFAULT_THRESHOLDS
        try:
            return res.parse_eviction_hard([p for p in text.split(",") if p.strip()])
        except res.ThresholdError:
            return res.DEFAULT_THRESHOLDS

    def _sync_unschedulable_taint(self) -> None:
        has = any(t.get("key") == TAINT_UNSCHEDULABLE for t in self.taints)
        if self.unschedulable and not has:
            self.taints.append({"effect": "NoSchedule", "key": TAINT_UNSCHEDULABLE})
        elif not self.unschedulable and has:
            self.taints = [t for t in self.taints if t.get("key") != TAINT_UNSCHEDULABLE]

    def set_unschedulable(self, value: bool) -> None:
        self.unschedulable = value
        self._sync_unschedulable_taint()

    def add_taint(self, key: str, effect: str, now: float) -> None:
        if any(t.get("key") == key and t.get("effect") == effect for t in self.taints):
            return
        taint: dict[str, Any] = {"effect": effect, "key": key}
        if effect == "NoExecute":
            taint["timeAdded"] = timestamp(now)
        self.taints.append(taint)

    def remove_taints(self, key: str) -> None:
        self.taints = [t for t in self.taints if t.get("key") != key]

    def allocate_ip(self) -> str:
        ip = str(self._network.network_address + self.next_ip)
        last = self._network.num_addresses - 2
        self.next_ip = self.next_ip + 1 if self.next_ip < last else 2
        return ip

    # --- object out -------------------------------------------------------------------

    def post_pressure(self, pressure: tuple[str, ...], now: float) -> list[tuple[str, bool]]:
        """The kubelet posts its pressure conditions; returns the conditions that changed
        and whether each is True now."""
        changed = [
            (ctype, ctype in pressure)
            for ctype in PRESSURE_TEXT
            if (ctype in pressure) != (ctype in self.pressure)
        ]
        self.pressure = pressure
        for ctype, _true in changed:
            self.condition_since[ctype] = now
        if changed:
            self.status_posted = now
        return changed

    def last_heartbeat(self, now: float) -> float:
        """When the kubelet last posted its status (every 5 minutes while nothing changes)."""
        if not self.reachable:
            return self.heartbeat
        since = max(self.ready_since, self.created, self.status_posted)
        steps = math.floor((now - since) / STATUS_REPORT_SECONDS) if now > since else 0
        return since + steps * STATUS_REPORT_SECONDS

    def conditions(self, now: float) -> list[dict[str, Any]]:
        beat = timestamp(self.last_heartbeat(now))
        out = []
        for ctype, (reason, message) in CONDITION_TEXT.items():
            since = max(self.ready_since, self.condition_since.get(ctype, self.ready_since))
            if self.ready == "Unknown":
                status, reason, message = "Unknown", UNKNOWN_REASON, UNKNOWN_MESSAGE
            elif ctype in self.pressure:
                status = "True"
                reason, message, _event = PRESSURE_TEXT[ctype]
            else:
                status = "True" if ctype == "Ready" else "False"
            out.append(
                {
                    "lastHeartbeatTime": beat,
                    "lastTransitionTime": timestamp(since),
                    "message": message,
                    "reason": reason,
                    "status": status,
                    "type": ctype,
                }
            )
        return out

    def to_object(self, now: float) -> dict[str, Any]:
        """The v1 Node as ``kubectl get node -o json`` returns it at ``now``."""
        meta: dict[str, Any] = {
            "annotations": dict(
                sorted(
                    {
                        "node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                        **self.annotations,
                    }.items()
                )
            ),
            "creationTimestamp": timestamp(self.created),
            "labels": dict(self.labels),
            "name": self.name,
            "uid": self.uid,
        }
        spec: dict[str, Any] = {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr]}
        if self.taints:
            spec["taints"] = copy.deepcopy(self.taints)
        if self.unschedulable:
            spec["unschedulable"] = True
        digest = hashlib.sha256(self.uid.encode()).hexdigest()
        status = {
            "addresses": [
                {"address": self.host_ip, "type": "InternalIP"},
                {"address": self.name, "type": "Hostname"},
            ],
            "allocatable": dict(self.allocatable),
            "capacity": dict(self.capacity),
            "conditions": self.conditions(now),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": self.labels.get("kubernetes.io/arch", "amd64"),
                "bootID": str(uuid.UUID(digest[:32])),
                "containerRuntimeVersion": CONTAINER_RUNTIME,
                "kernelVersion": "6.8.0-48-generic",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": digest[32:64],
                "operatingSystem": self.labels.get("kubernetes.io/os", "linux"),
                "osImage": "Ubuntu 24.04.1 LTS",
                "systemUUID": str(uuid.UUID(digest[:32][::-1])),
            },
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": meta,
            "spec": spec,
            "status": status,
        }


def address_of(obj: dict[str, Any]) -> str | None:
    for address in (obj.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP" and address.get("address"):
            return str(address["address"])
    return None


def detection_time(lost_at: float) -> float:
    """When the node lifecycle controller marks a node lost at ``lost_at`` as Unknown.

    The last Lease renewal is the latest 10 s tick at or before ``lost_at``; the controller
    notices on its first 5 s check strictly more than the grace period after it.
    """
    last_renew = math.floor(lost_at / LEASE_RENEW_SECONDS) * LEASE_RENEW_SECONDS
    deadline = last_renew + NODE_MONITOR_GRACE_PERIOD
    return (math.floor(deadline / NODE_MONITOR_PERIOD) + 1) * NODE_MONITOR_PERIOD


def next_monitor_tick(now: float) -> float:
    """The node lifecycle controller's first check at or after ``now``."""
    return math.ceil(now / NODE_MONITOR_PERIOD) * NODE_MONITOR_PERIOD


__all__ = [
    "CONTROL_PLANE_ROLE",
    "ClusterNode",
    "KUBELET_VERSION",
    "NODE_MONITOR_GRACE_PERIOD",
    "NODE_STATUS_UPDATE_SECONDS",
    "PRESSURE_CLEARED_EVENTS",
    "PRESSURE_TAINTS",
    "PRESSURE_TEXT",
    "TAINT_DISK_PRESSURE",
    "TAINT_MEMORY_PRESSURE",
    "TAINT_PID_PRESSURE",
    "EVICTION_HARD_ANNOTATION",
    "TAINT_NOT_READY",
    "TAINT_UNREACHABLE",
    "TAINT_UNSCHEDULABLE",
    "address_of",
    "default_allocatable",
    "default_nodes",
    "detection_time",
    "next_monitor_tick",
]
