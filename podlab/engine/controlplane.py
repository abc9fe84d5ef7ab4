"""The control plane around the kubelets: scheduling queue, node lifecycle, taint eviction,
cordon and drain, static Pods.

``ControlPlane`` is owned by ``Simulation`` and works on its Pod workers:

* **Scheduling queue.** A new Pod without ``nodeName`` and without scheduling gates is
  scheduled at once (``scheduler.Scheduler``). One that does not fit stays ``Pending`` with
  ``PodScheduled=False`` (``Unschedulable``) and a ``FailedScheduling`` event; it is tried
  again when the cluster changes (a Pod goes or finishes, a node is added, uncordoned,
  untainted or comes back), after its back-off (1 s doubling to 10 s), and at least every
  5 minutes (the queue's leftover flush runs every 30 s for Pods unschedulable > 5 min).
  Pods waiting together are tried by priority, then age.
* **Binding** gives the Pod a node, an IP from the node's Pod CIDR and a kubelet.
* **Node lifecycle.** A node that stops reporting turns ``Unknown`` after the grace period,
  gets the ``unreachable`` NoSchedule and NoExecute taints, and its Pods ``Ready=False``
  (``NodeNotReady`` events). The kubelet there keeps running containers but nothing it
  reports reaches the API until the node returns.
* **Taint eviction.** Pods not tolerating a NoExecute taint are deleted at once; tolerating
  ones after their ``tolerationSeconds`` (default 300 s for ``unreachable``/``not-ready``).
* **Static Pods** run from a manifest on one node; the API shows a mirror Pod
  ``<name>-<node>`` that comes back when deleted.
"""

from __future__ import annotations

import copy
import hashlib
import math
from typing import TYPE_CHECKING, Any

from podlab.engine.apiserver.objects import Record
from podlab.engine.cluster import (
    NODE_STATUS_UPDATE_SECONDS,
    PRESSURE_CLEARED_EVENTS,
    PRESSURE_TAINTS,
    PRESSURE_TEXT,
    TAINT_UNREACHABLE,
    ClusterNode,
    address_of,
    default_nodes,
    detection_time,
    next_monitor_tick,
)
from podlab.engine.core import events as ev
from podlab.engine.core.loop import PRIORITY_KUBELET, Timer
from podlab.engine.core.version import timestamp
from podlab.engine.kubelet.kubelet import Node, PodWorker
from podlab.engine.kubelet.status import TERMINAL_PHASES
from podlab.engine.scheduler.scheduler import (
    GATED_MESSAGE,
    Decision,
    PodInfo,
    Scheduler,
    pod_info,
    pod_requests,
    tolerates,
)

if TYPE_CHECKING:
    from podlab.engine.simulation import Simulation

NODE_CONTROLLER = "node-controller"
TAINT_CONTROLLER = "taint-eviction-controller"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 10.0
UNSCHEDULABLE_FLUSH = 300.0
FLUSH_PERIOD = 30.0
PRIORITY_SCHEDULER = PRIORITY_KUBELET + 5


class Waiting:
    """A Pod the scheduler could not place yet."""

    __slots__ = ("attempts", "last", "timer")

    def __init__(self) -> None:
        self.attempts = 0
        self.last = 0.0
        self.timer: Timer | None = None


class ControlPlane:
    """Scheduler, node lifecycle controller and taint eviction for one ``Simulation``."""

    def __init__(self, sim: Simulation, nodes: list[dict[str, Any]] | None) -> None:
        self.sim = sim
        self.scheduler = Scheduler()
        self.nodes: dict[str, ClusterNode] = {}
        self.waiting: dict[tuple[str, str], Waiting] = {}
        self.infos: dict[tuple[str, str], PodInfo] = {}
        self.evictions: dict[tuple[str, str], Timer] = {}
        self.pending_delete: dict[tuple[str, str], float] = {}
        self.held: set[tuple[str, str]] = set()
        self.retry_timer: Timer | None = None
        self.detections: dict[str, Timer] = {}
        self.status_syncs: dict[str, Timer] = {}
        for obj in nodes if nodes is not None else default_nodes(sim.node.name, sim.node.host_ip):
            self.add_node(obj)

    # --- nodes --------------------------------------------------------------------------

    def add_node(self, obj: dict[str, Any], *, record: bool = False) -> ClusterNode:
        """Add or update a node; ``record`` puts the change on the timeline (a Node document
        applied while the simulation runs, not the cluster it starts with)."""
        name = (obj.get("metadata") or {}).get("name") or ""
        existing = self.nodes.get(name)
        if existing is not None:
            existing.update(obj)
            if record:
                self.node_record(existing, "MODIFIED")
            self._node_changed(existing)
            return existing
        index = len(self.nodes)
        used = {n.host_ip for n in self.nodes.values()}
        ip = address_of(obj)
        if ip is None:
            base = int.from_bytes(bytes(map(int, self.sim.node.host_ip.split("."))), "big")
            candidate = base + index
            while ".".join(str(b) for b in candidate.to_bytes(4, "big")) in used:
                candidate += 1
            ip = ".".join(str(b) for b in candidate.to_bytes(4, "big"))
        cidr = (obj.get("spec") or {}).get("podCIDR") or f"10.244.{(index + 1) % 256}.0/24"
        node = ClusterNode(obj, host_ip=ip, pod_cidr=cidr, created=self.sim.now, seed=self.sim.seed)
        if name == self.sim.node.name:
            node.kubelet = self.sim.node
            node.sync_kubelet()
        node.kubelet.reporter = self
        self.nodes[name] = node
        if record:
            self.node_record(node, "ADDED")
        self._node_changed(node)
        return node

    def node_record(self, node: ClusterNode, type: str) -> None:
        """A change of the v1 Node (added, cordoned, NotReady, tainted, Ready again) on the
        timeline, with the object as ``kubectl get node -o json`` would return it then."""
        obj = node.to_object(self.sim.now)
        obj["metadata"]["resourceVersion"] = str(self.sim._next_version())
        self.sim.records.append(Record(self.sim.now, "Node", type, lambda: obj))

    def replace(self, nodes: list[dict[str, Any]]) -> None:
        """A cluster file: these nodes instead of the default ones (before any Pod exists)."""
        if self.sim._workers:
            raise ValueError("the cluster can only be replaced before any Pod exists")
        default = self.nodes.get(self.sim.node.name)
        self.nodes = {}
        self.scheduler = Scheduler()
        for obj in nodes:
            node = self.add_node(obj)
            if default is not None and node.name == default.name:
                node.kubelet = default.kubelet
                node.sync_kubelet()
                node.kubelet.reporter = self

    def node_objects(self) -> list[dict[str, Any]]:
        return [
            n.to_object(self.sim.now) for n in sorted(self.nodes.values(), key=lambda n: n.name)
        ]

    def _node_changed(self, node: ClusterNode) -> None:
        self._check_taints(node)
        self.cluster_changed()

    def _pods_on(self, node: str) -> list[PodWorker]:
        return [
            w
            for w in list(self.sim._workers.values())
            if isinstance(w, PodWorker) and w.spec.get("nodeName") == node and not w.removed
        ]

    def cordon(self, name: str) -> bool:
        node = self.nodes.get(name)
        if node is None:
            return False
        if not node.unschedulable:
            node.set_unschedulable(True)
            self.node_record(node, "MODIFIED")
        return True

    def uncordon(self, name: str) -> bool:
        node = self.nodes.get(name)
        if node is None:
            return False
        if node.unschedulable:
            node.set_unschedulable(False)
            self.node_record(node, "MODIFIED")
        self.cluster_changed()
        return True

    def drain(self, name: str, grace_period: float | None = None) -> bool:
        """``kubectl drain --force --ignore-daemonsets``: cordon, then evict every Pod except
        mirror Pods and DaemonSet Pods, each with its own grace period."""
        if not self.cordon(name):
            return False
        for worker in sorted(self._pods_on(name), key=lambda w: (w.namespace, w.name)):
            meta = worker.pod.get("metadata") or {}
            if MIRROR_ANNOTATION in (meta.get("annotations") or {}) or worker.deleting:
                continue
            owners = meta.get("ownerReferences") or []
            if any(o.get("kind") == "DaemonSet" for o in owners):
                continue
            if (worker.pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
                self.sim.delete_pod(worker.name, namespace=worker.namespace, grace_period=0)
                continue
            self._disruption(worker, "EvictionByEvictionAPI", "Eviction API: evicting")
            self.sim.delete_pod(worker.name, namespace=worker.namespace, grace_period=grace_period)
        return True

    def _disruption(self, worker: PodWorker, reason: str, message: str) -> None:
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": timestamp(self.sim.now),
            "reason": reason,
            "message": message,
        }
        status = dict(worker.pod.get("status") or {})
        status["conditions"] = [
            c for c in status.get("conditions") or [] if c.get("type") != "DisruptionTarget"
        ] + [condition]
        worker.pod["status"] = status
        worker.conditions = [c for c in worker.conditions if c.get("type") != "DisruptionTarget"]
        worker.conditions.append(condition)
        self.sim._pod_record(worker, "MODIFIED")

    # --- node pressure: the kubelet's status, TaintNodesByCondition ------------------------

    def _cluster_node(self, kubelet: Node) -> ClusterNode | None:
        return next((n for n in self.nodes.values() if n.kubelet is kubelet), None)

    def node_event(self, kubelet: Node, type: str, reason: str, message: str) -> None:
        """An event about the node from its kubelet (``involvedObject`` is the Node)."""
        node = self._cluster_node(kubelet)
        if node is None or not node.reachable:
            return
        self.sim.recorder.record(
            pod=node.name,
            namespace="default",
            uid=node.name,  # the kubelet's nodeRef carries the node's name as its UID
            reason=reason,
            message=message,
            type=type,
            host=node.name,
            kind="Node",
        )

    def pressure_changed(self, kubelet: Node) -> None:
        """The eviction manager's node conditions changed: the kubelet's next node status
        update (every 10 s) posts them (``NodeHasDiskPressure`` ... events), and the node
        lifecycle controller adds or removes the matching NoSchedule taints."""
        node = self._cluster_node(kubelet)
        if node is None or not node.reachable:
            return  # posted when the node reports again
        timer = self.status_syncs.get(node.name)
        if timer is not None and timer.active:
            return
        period = NODE_STATUS_UPDATE_SECONDS
        due = (math.floor(self.sim.now / period) + 1) * period
        self.status_syncs[node.name] = self.sim.loop.call_at(
            due, lambda: self._post_pressure(node), PRIORITY_SCHEDULER
        )

    def _post_pressure(self, node: ClusterNode) -> None:
        self.status_syncs.pop(node.name, None)
        if not node.reachable:
            return
        changed = node.post_pressure(node.kubelet.pressure, self.sim.now)
        if not changed:
            return
        for ctype, true in changed:
            event = PRESSURE_TEXT[ctype][2] if true else PRESSURE_CLEARED_EVENTS[ctype]
            self.node_event(
                node.kubelet, ev.NORMAL, event, f"Node {node.name} status is now: {event}"
            )
        self.node_record(node, "MODIFIED")
        tainted = False
        for ctype, true in changed:
            key = PRESSURE_TAINTS[ctype]
            has = any(t.get("key") == key for t in node.taints)
            if true and not has:
                node.add_taint(key, "NoSchedule", self.sim.now)
                tainted = True
            elif not true and has:
                node.remove_taints(key)
                tainted = True
        if tainted:
            self.node_record(node, "MODIFIED")
        self._node_changed(node)

    def admit_refusal(self, worker: PodWorker, node: ClusterNode) -> str | None:
        """What the node's kubelet says when it admits this Pod under pressure."""
        return node.kubelet.admit_refusal(worker.pod)

    # --- node loss ------------------------------------------------------------------------

    def lose_node(self, name: str) -> bool:
        node = self.nodes.get(name)
        if node is None or not node.reachable:
            return False
        node.reachable = False
        node.lost_at = self.sim.now
        node.heartbeat = node.last_heartbeat(self.sim.now)
        self.detections[name] = self.sim.loop.call_at(
            detection_time(self.sim.now), lambda: self._detect(node), PRIORITY_SCHEDULER
        )
        return True

    def _detect(self, node: ClusterNode) -> None:
        self.detections.pop(node.name, None)
        if node.reachable:
            return
        now = self.sim.now
        node.ready = "Unknown"
        node.ready_since = now
        node.add_taint(TAINT_UNREACHABLE, "NoSchedule", now)
        node.add_taint(TAINT_UNREACHABLE, "NoExecute", now)
        self.node_record(node, "MODIFIED")
        for worker in self._pods_on(node.name):
            self._mark_not_ready(worker)
        self._check_taints(node)

    def _mark_not_ready(self, worker: PodWorker) -> None:
        status = dict(worker.pod.get("status") or {})
        if status.get("phase") in TERMINAL_PHASES:
            return
        conditions = []
        changed = False
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Ready" and condition.get("status") != "False":
                condition = dict(condition)
                condition["status"] = "False"
                condition["lastTransitionTime"] = timestamp(self.sim.now)
                changed = True
            conditions.append(condition)
        self.sim.recorder.record(
            pod=worker.name,
            namespace=worker.namespace,
            uid=worker.uid,
            reason="NodeNotReady",
            message="Node is not ready",
            type=ev.WARNING,
            component=NODE_CONTROLLER,
        )
        if changed:
            status["conditions"] = conditions
            worker.pod["status"] = status
            self.sim._pod_record(worker, "MODIFIED")

    def restore_node(self, name: str) -> bool:
        node = self.nodes.get(name)
        if node is None or node.reachable:
            return False
        timer = self.detections.pop(name, None)
        if timer is not None:
            timer.cancel()
        node.reachable = True
        was_unknown = node.ready == "Unknown"
        node.ready = "True"
        if was_unknown:
            node.ready_since = self.sim.now
            self.node_record(node, "MODIFIED")
        for worker in self._pods_on(name):
            key = (worker.namespace, worker.name)
            if worker.start_time is None and not worker.deleting:
                worker.admit()
            if key in self.pending_delete:
                worker.delete(self.pending_delete.pop(key))
            self.held.discard(key)
            if worker.last_status is not None and worker.last_status != worker.pod.get("status"):
                self.sim.pod_status_changed(worker, worker.last_status)
        self._post_pressure(node)
        self.sim.loop.call_at(
            next_monitor_tick(self.sim.now), lambda: self._untaint(node), PRIORITY_SCHEDULER
        )
        return True

    def _untaint(self, node: ClusterNode) -> None:
        if not node.reachable:
            return
        if any(t.get("key") == TAINT_UNREACHABLE for t in node.taints):
            node.remove_taints(TAINT_UNREACHABLE)
            self.node_record(node, "MODIFIED")
        self._node_changed(node)

    def reachable(self, worker: Any) -> bool:
        node = self.nodes.get((worker.spec or {}).get("nodeName") or "")
        return node is None or node.reachable

    # --- taint eviction -----------------------------------------------------------------

    def _check_taints(self, node: ClusterNode, workers: list[PodWorker] | None = None) -> None:
        taints = [t for t in node.taints if t.get("effect") == "NoExecute"]
        for worker in self._pods_on(node.name) if workers is None else workers:
            key = (worker.namespace, worker.name)
            if worker.deleting:
                continue
            tolerations = list(worker.spec.get("tolerations") or [])
            seconds: float | None = None
            untolerated = False
            for taint in taints:
                match = next((t for t in tolerations if tolerates(t, taint)), None)
                if match is None:
                    untolerated = True
                    break
                limit = match.get("tolerationSeconds")
                if limit is not None:
                    value = max(0.0, float(limit))
                    seconds = value if seconds is None else min(seconds, value)
            timer = self.evictions.pop(key, None)
            if untolerated:
                if timer is not None:
                    timer.cancel()
                self._taint_evict(worker)
            elif seconds is not None:
                if timer is not None and timer.active:
                    self.evictions[key] = timer
                    continue
                self.evictions[key] = self.sim.loop.call_later(
                    seconds, lambda w=worker: self._taint_evict(w), PRIORITY_SCHEDULER
                )
            elif timer is not None:
                timer.cancel()

    def _taint_evict(self, worker: PodWorker) -> None:
        self.evictions.pop((worker.namespace, worker.name), None)
        if worker.removed or worker.deleting:
            return
        self.sim.recorder.record(
            pod=worker.name,
            namespace=worker.namespace,
            uid=worker.uid,
            reason="TaintManagerEviction",
            message=f"Marking for deletion Pod {worker.namespace}/{worker.name}",
            type=ev.NORMAL,
            component=TAINT_CONTROLLER,
        )
        self._disruption(
            worker, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint"
        )
        self.sim.delete_pod(worker.name, namespace=worker.namespace)

    # --- Pods in --------------------------------------------------------------------------

    def create(self, worker: PodWorker) -> PodWorker:
        """A new Pod object exists (``ADDED`` recorded): bind it, gate it or schedule it."""
        spec = worker.spec
        key = (worker.namespace, worker.name)
        self.infos[key] = pod_info(worker.pod, self.sim.now)
        if spec.get("nodeName"):
            return self._direct(worker)
        if spec.get("schedulingGates"):
            self._set_scheduled_condition(worker, "SchedulingGated", GATED_MESSAGE)
            self.sim._pod_record(worker, "MODIFIED")
            return worker
        return self._attempt(worker)

    def _direct(self, worker: PodWorker) -> PodWorker:
        """``spec.nodeName`` set by the user: no scheduler; the kubelet admits or rejects."""
        node = self.nodes.get(worker.spec["nodeName"])
        if node is None:
            return worker
        refusal = self.admit_refusal(worker, node) if node.reachable else None
        if refusal is not None:
            return self._refuse(self._worker_on(worker, node), "Evicted", refusal)
        info = self.infos[(worker.namespace, worker.name)]
        usage = self.scheduler.usage_of(node.name)
        checks = (
            ("pods", 1, len(usage.pods), node.alloc_pods),
            ("cpu", info.cpu, usage.cpu, node.alloc_cpu),
            ("memory", info.memory, usage.memory, node.alloc_memory),
        )
        for resource, wanted, used, capacity in checks:
            if wanted > 0 and wanted + used > capacity:
                return self._reject(worker, node, resource, wanted, used, capacity)
        return self._bind(worker, node, scheduled=False)

    def _reject(
        self,
        worker: PodWorker,
        node: ClusterNode,
        resource: str,
        wanted: int,
        used: int,
        capacity: int,
    ) -> PodWorker:
        fresh = self._worker_on(worker, node)
        message = (
            f"Node didn't have enough resource: {resource}, requested: {wanted}, used: {used}, "
            f"capacity: {capacity}"
        )
        return self._refuse(fresh, f"OutOf{resource}", message)

    def _refuse(self, fresh: PodWorker, reason: str, message: str) -> PodWorker:
        """The kubelet's ``rejectPod``: a warning event and phase Failed with the reason; the
        scheduler's ``PodScheduled`` condition stays."""
        self.sim.record_event(fresh, "", reason, message, ev.WARNING)
        status = {
            "phase": "Failed",
            "reason": reason,
            "message": f"Pod was rejected: {message}",
            "startTime": timestamp(self.sim.now),
            "qosClass": fresh.pod["status"].get("qosClass"),
        }
        before = fresh.pod["status"].get("conditions") or []
        scheduled = [c for c in before if c.get("type") == "PodScheduled"]
        if scheduled:
            status["conditions"] = scheduled
        fresh.pod["status"] = status
        fresh.phase = "Failed"
        fresh.phase_terminal = True
        fresh.node.disk_changed()
        fresh.finished = True
        self.sim._pod_record(fresh, "MODIFIED")
        return fresh

    def _set_scheduled_condition(self, worker: PodWorker, reason: str, message: str) -> None:
        status = dict(worker.pod["status"])
        before = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None
        )
        when = timestamp(self.sim.now)
        if before is not None and before.get("status") == "False":
            when = before.get("lastTransitionTime") or when
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": when,
                "reason": reason,
                "message": message,
            }
        ]
        worker.pod["status"] = status
        worker.conditions = list(status["conditions"])

    def gates_removed(self, worker: PodWorker) -> None:
        """An update removed the last scheduling gate: the Pod enters the queue."""
        if not worker.spec.get("schedulingGates") and not worker.spec.get("nodeName"):
            self._attempt(worker)

    def _schedulable_nodes(self) -> list[ClusterNode]:
        return list(self.nodes.values())

    def _attempt(self, worker: PodWorker) -> PodWorker:
        key = (worker.namespace, worker.name)
        info = self.infos.get(key) or pod_info(worker.pod, self.sim.now)
        nodes = self._schedulable_nodes()
        volume_message = self._volume_message(worker, len(nodes))
        if volume_message is not None:
            decision = Decision(node=None, message=volume_message)
        else:
            # read only when preemption is considered (a generator: no scan of every Pod
            # for each Pod that fits)
            terminating = (
                (w.namespace, w.name)
                for w in self.sim._workers.values()
                if isinstance(w, PodWorker) and w.deleting
            )
            nominated = (worker.pod.get("status") or {}).get("nominatedNodeName")
            decision = self.scheduler.schedule(
                info, nodes, terminating=terminating, nominated=nominated
            )
        if decision.node is not None:
            self._forget_waiting(key)
            return self._bind(worker, self.nodes[decision.node], scheduled=True)
        self.sim.record_event(
            worker, "", "FailedScheduling", decision.message, ev.WARNING, component=ev.SCHEDULER
        )
        self._set_scheduled_condition(worker, "Unschedulable", decision.message)
        if decision.nominated is not None:
            status = dict(worker.pod["status"])
            status["nominatedNodeName"] = decision.nominated
            worker.pod["status"] = status
        self.sim._pod_record(worker, "MODIFIED")
        if decision.nominated is not None:
            for victim in decision.victims:
                self._preempt(victim, worker, decision.nominated)
        entry = self.waiting.setdefault(key, Waiting())
        entry.attempts += 1
        entry.last = self.sim.now
        self._arm_flush(key, entry)
        return worker

    def _volume_message(self, worker: PodWorker, nodes: int) -> str | None:
        try:
            from podlab.engine.kubelet.volumes import unschedulable_message
        except ImportError:
            return None
        store = getattr(self.sim, "store", None)
        if store is None:
            return None
        return unschedulable_message(worker.pod, store, nodes)

    def _preempt(self, victim: PodInfo, preemptor: PodWorker, node: str) -> None:
        worker = self.sim._workers.get(victim.key)
        if not isinstance(worker, PodWorker) or worker.deleting:
            return
        self.sim.recorder.record(
            pod=worker.name,
            namespace=worker.namespace,
            uid=worker.uid,
            reason="Preempted",
            message=f"Preempted by pod {preemptor.uid} on node {node}",
            type=ev.NORMAL,
            component=ev.SCHEDULER,
        )
        self._disruption(
            worker,
            "PreemptionByScheduler",
            "default-scheduler: preempting to accommodate a higher priority pod",
        )
        self.sim.delete_pod(worker.name, namespace=worker.namespace)

    def _arm_flush(self, key: tuple[str, str], entry: Waiting) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
        due = (math.floor((entry.last + UNSCHEDULABLE_FLUSH) / FLUSH_PERIOD) + 1) * FLUSH_PERIOD
        entry.timer = self.sim.loop.call_at(due, lambda: self._retry_one(key), PRIORITY_SCHEDULER)

    def _forget_waiting(self, key: tuple[str, str]) -> None:
        entry = self.waiting.pop(key, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()

    def _retry_one(self, key: tuple[str, str]) -> None:
        worker = self.sim._workers.get(key)
        if key not in self.waiting or worker is None or worker.deleting:
            self._forget_waiting(key)
            return
        self._attempt(worker)

    def cluster_changed(self) -> None:
        """Something that may make waiting Pods fit happened: move them back to the queue."""
        if not self.waiting:
            return
        due = min(self._due(entry) for entry in self.waiting.values())
        if self.retry_timer is not None and self.retry_timer.active:
            if self.retry_timer.time <= due:
                return
            self.retry_timer.cancel()
        self.retry_timer = self.sim.loop.call_at(due, self._retry_due, PRIORITY_SCHEDULER)

    def _due(self, entry: Waiting) -> float:
        backoff = min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** max(0, entry.attempts - 1))
        return max(self.sim.now, entry.last + backoff)

    def _retry_due(self) -> None:
        self.retry_timer = None
        now = self.sim.now
        due = [key for key, entry in self.waiting.items() if self._due(entry) <= now]
        later = [key for key in self.waiting if key not in due]

        def order(key: tuple[str, str]) -> tuple[int, float, str, str]:
            info = self.infos.get(key)
            return (-(info.priority if info else 0), info.created if info else 0.0, *key)

        for key in sorted(due, key=order):
            worker = self.sim._workers.get(key)
            if worker is None or worker.deleting:
                self._forget_waiting(key)
                continue
            self._attempt(worker)
        if later:
            self.cluster_changed()

    def _worker_on(self, worker: PodWorker, node: ClusterNode) -> PodWorker:
        """The kubelet's worker for this Pod on ``node``; it takes over from the unbound worker."""
        sim = self.sim
        pod = worker.pod
        spec = dict(pod["spec"])
        spec["nodeName"] = node.name
        pod["spec"] = spec
        saved = sim.node
        sim.node = node.kubelet
        try:
            fresh = PodWorker(sim, pod, node.allocate_ip())
        finally:
            sim.node = saved
        fresh.conditions = list(worker.conditions)
        key = (fresh.namespace, fresh.name)
        if sim._workers.get(key) is worker:
            sim._workers[key] = fresh
        return fresh

    def _bind(self, worker: PodWorker, node: ClusterNode, *, scheduled: bool) -> PodWorker:
        fresh = self._worker_on(worker, node)
        key = (fresh.namespace, fresh.name)
        info = self.infos.get(key) or pod_info(fresh.pod, self.sim.now)
        self.scheduler.assign(info, node.name)
        if scheduled:
            status = dict(fresh.pod["status"])
            status.pop("nominatedNodeName", None)
            status["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": timestamp(self.sim.now),
                }
            ]
            fresh.pod["status"] = status
            fresh.conditions = list(status["conditions"])
            self.sim.record_event(
                fresh,
                "",
                "Scheduled",
                ev.scheduled_message(fresh.namespace, fresh.name, node.name),
                ev.NORMAL,
                component=ev.SCHEDULER,
            )
            self.sim._pod_record(fresh, "MODIFIED")
        fresh.scheduled_at = self.sim.now
        refusal = self.admit_refusal(fresh, node) if node.reachable else None
        if refusal is not None:
            self._refuse(fresh, "Evicted", refusal)
            self.scheduler.unassign(info)
            self.cluster_changed()
            return fresh
        if node.reachable:
            fresh.admit()
        self._check_taints(node, [fresh])  # the node's other Pods were checked already
        return fresh

    # --- Pods out -------------------------------------------------------------------------

    def pod_gone(self, worker: Any) -> None:
        key = (worker.namespace, worker.name)
        info = self.infos.pop(key, None)
        self._forget_waiting(key)
        timer = self.evictions.pop(key, None)
        if timer is not None:
            timer.cancel()
        self.pending_delete.pop(key, None)
        if info is not None and key in self.scheduler.placement:
            self.scheduler.unassign(info)
            self.cluster_changed()

    def phase_changed(self, worker: Any, phase: str) -> None:
        if phase in TERMINAL_PHASES:
            key = (worker.namespace, worker.name)
            info = self.infos.get(key)
            if info is not None and key in self.scheduler.placement:
                self.scheduler.unassign(info)
                self.cluster_changed()

    def delete(self, worker: Any, grace: float) -> str:
        """How the API server deletes this Pod: ``"now"`` (never bound), ``"mirror"`` (a
        mirror Pod: recreated), ``"held"`` (its node is unreachable) or ``"kubelet"``."""
        if getattr(worker, "static_manifest", False):
            return "mirror"
        node_name = worker.spec.get("nodeName")
        if not node_name or node_name not in self.nodes:
            return "now"
        if not self.reachable(worker):
            self.pending_delete[(worker.namespace, worker.name)] = grace
            return "held"
        return "kubelet"

    def shorten_pending_delete(self, worker: Any, grace: float) -> None:
        """A second DELETE with a shorter grace period while the node cannot be reached: the
        kubelet gets the shorter one when the node comes back."""
        key = (worker.namespace, worker.name)
        if key in self.pending_delete:
            self.pending_delete[key] = min(self.pending_delete[key], grace)

    def recreate_mirror(self, worker: PodWorker) -> None:
        """The API deleted a mirror Pod; the kubelet creates it again right away."""
        self.sim._pod_record(worker, "DELETED")
        meta = dict(worker.pod["metadata"])
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        meta["creationTimestamp"] = timestamp(self.sim.now)
        worker.pod["metadata"] = meta
        self.sim._pod_record(worker, "ADDED")

    # --- static Pods ----------------------------------------------------------------------

    def add_static_pod(self, manifest: dict[str, Any], node_name: str) -> PodWorker | None:
        node = self.nodes.get(node_name)
        if node is None:
            return None
        pod = copy.deepcopy(manifest)
        meta = pod.setdefault("metadata", {})
        base = meta.get("name") or ""
        text = repr(sorted(((k, repr(v)) for k, v in pod.items()), key=str))
        digest = hashlib.sha256(f"{node_name}/{text}".encode()).hexdigest()[:32]
        meta["name"] = f"{base}-{node_name}"
        meta["uid"] = digest
        annotations = dict(meta.get("annotations") or {})
        annotations.update(
            {
                "kubernetes.io/config.hash": digest,
                MIRROR_ANNOTATION: digest,
                "kubernetes.io/config.seen": timestamp(self.sim.now).replace("Z", ".000000000Z"),
                "kubernetes.io/config.source": "file",
            }
        )
        meta["annotations"] = dict(sorted(annotations.items()))
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "controller": True,
                "kind": "Node",
                "name": node_name,
                "uid": node.uid,
            }
        ]
        spec = pod.setdefault("spec", {})
        spec["nodeName"] = node_name
        spec["tolerations"] = [
            t
            for t in spec.get("tolerations") or []
            if t.get("key") not in ("node.kubernetes.io/not-ready", TAINT_UNREACHABLE)
        ] + [{"effect": "NoExecute", "operator": "Exists"}]
        key = (meta.get("namespace") or "default", meta["name"])
        if key in self.sim._workers:
            return None
        worker = self.sim._create(pod)
        worker = self.sim._workers.get(key, worker)
        worker.static_manifest = True  # type: ignore[attr-defined]  # only mirror Pods have it
        node.static_pods[base] = worker
        return worker

    def remove_static_pod(self, name: str, node_name: str) -> bool:
        node = self.nodes.get(node_name)
        if node is None or name not in node.static_pods:
            return False
        worker = node.static_pods.pop(name)
        worker.static_manifest = False  # type: ignore[attr-defined]
        return self.sim.delete_pod(worker.name, namespace=worker.namespace)


def requests_of(pod: dict[str, Any]) -> tuple[int, int, int]:
    """(millicores, bytes, bytes) the scheduler reserves for ``pod``."""
    return pod_requests(pod.get("spec") or {})


__all__ = ["ControlPlane", "MIRROR_ANNOTATION", "requests_of"]
