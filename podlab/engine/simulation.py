"""``Simulation``: the public face of the engine (see docs/engine.md).

It plays the API server (object store, resourceVersions, update rules, deletion), the
scheduler (one node, ``node-1``) and hands Pods to the kubelet's pod workers. Every change of a
Pod object and every event is appended to ``records`` in time order; that is what
``podsim -o jsonl`` prints.
"""

from __future__ import annotations

import copy
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from podlab.engine.apiserver import finalizers
from podlab.engine.apiserver.namespaces import AdmissionError, Namespaces
from podlab.engine.apiserver.objects import ApiObjects, Record, owner_key
from podlab.engine.cluster import LEASE_RENEW_SECONDS
from podlab.engine.controllers.controllers import ControllerManager
from podlab.engine.controllers.services import ClusterNetwork, ServiceController
from podlab.engine.controlplane import ControlPlane
from podlab.engine.core import events as ev
from podlab.engine.core.loop import EventLoop
from podlab.engine.core.transitions import Transition, cause
from podlab.engine.core.version import parse_time, timestamp
from podlab.engine.kubelet.kubelet import Node, PodWorker
from podlab.engine.kubelet.status import qos_class
from podlab.engine.kubelet.volumes import ObjectStore
from podlab.engine.runtime.process import SIGKILL, SIGTERM
from podlab.engine.runtime.registry import Registry
from podlab.engine.runtime.runtime import Catalogue, ModuleCatalogue, Network

if TYPE_CHECKING:
    from podlab.engine.kubelet.probes import ProbeWorker

NODE_NAME = "node-1"
HOST_IP = "192.168.49.2"

UPDATE_FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _problem(name: str, path: str, code: str, message: str, **detail: Any) -> dict[str, Any]:
    return {
        "path": path,
        "code": code,
        "message": message,
        "detail": detail,
        "kubectl": f'The Pod "{name}" is invalid: {path}: {message}',
    }


class Simulation:
    """A deterministic single-node cluster: apply Pods, advance time, observe."""

    def __init__(
        self,
        seed: int = 0,
        *,
        catalogue: Catalogue | None = None,
        node_name: str = NODE_NAME,
        host_ip: str = HOST_IP,
        nodes: list[dict[str, Any]] | None = None,
    ) -> None:
        self.seed = seed
        self.loop = EventLoop(seed)
        self._ids = random.Random(f"uids/{seed}")  # noqa: S311 - reproducible ids
        self.node = Node(node_name, host_ip)
        self.network: Network = ClusterNetwork()
        #: the registry the kubelets pull from: the catalogue plus the learner's changes
        self.registry = Registry(catalogue if catalogue is not None else ModuleCatalogue())
        self.catalogue: Catalogue = self.registry
        #: ConfigMaps, Secrets and PersistentVolumeClaims (volumes.py) the Pods refer to.
        self.store = ObjectStore()
        self.records: list[Record] = []
        #: how many probe results there have been (a cheap "did the meters change" check)
        self.probe_results = 0
        self.transitions: list[Transition] = []
        self._version = 0
        self._workers: dict[tuple[str, str], PodWorker] = {}
        #: (namespace, controller uid) -> keys of the live Pods it controls, in the order of
        #: ``_workers`` (maintained on create and removal: ownerReferences never change)
        self._owned: dict[tuple[str, str], dict[tuple[str, str], None]] = {}
        #: how many whole-store Pod copies ``pods()`` has made (tests watch the hot paths)
        self.pod_copies = 0
        self._gone: dict[tuple[str, str], PodWorker] = {}
        self.recorder = ev.EventRecorder(
            lambda: self.loop.now, self._next_version, self._event_changed
        )
        #: the scheduler, node lifecycle and taint eviction (controlplane.py); ``nodes``
        #: (v1 Node objects) replaces the default cluster of cluster.default_nodes()
        self.control = ControlPlane(self, nodes)
        #: Services, EndpointSlices, Endpoints, Deployments, ReplicaSets and Jobs.
        self.objects = ApiObjects(self)
        self.services = ServiceController(self)
        self.controllers = ControllerManager(self)
        #: Namespaces, ServiceAccounts and the admission checks that use them
        self.namespaces = Namespaces(self)

    # --- clock ---------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.loop.now

    def run_until(self, t: float) -> None:
        self.loop.run_until(t)

    def run_for(self, seconds: float) -> None:
        self.loop.run_until(self.loop.now + seconds)

    def next_time(self) -> float | None:
        return self.loop.next_time()

    # --- API server ----------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The last resourceVersion handed out: it moves whenever a Pod or an Event changes."""
        return self._version

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def _event_changed(self, type: str, entry: ev.EventEntry) -> None:
        count, last, version = entry.count, entry.last, entry.resource_version

        def make() -> dict[str, Any]:
            obj = entry.to_dict()
            obj["count"] = count
            obj["lastTimestamp"] = timestamp(last)
            obj["metadata"]["resourceVersion"] = str(version)
            return obj

        self.records.append(Record(self.loop.now, "Event", type, make))

    def _pod_record(self, worker: PodWorker, type: str) -> None:
        pod = worker.pod
        meta = dict(pod["metadata"])
        meta["resourceVersion"] = str(self._next_version())
        pod["metadata"] = meta
        spec = pod["spec"]
        status = pod.get("status", {})

        def make() -> dict[str, Any]:
            return {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": spec,
                "status": status,
            }

        self.records.append(Record(self.loop.now, "Pod", type, make))
        self.services.pod_changed(type, pod)
        self.controllers.pod_changed(type, pod)

    def record_event(
        self,
        worker: PodWorker,
        field_path: str,
        reason: str,
        message: str,
        type: str,
        component: str = ev.KUBELET,
    ) -> None:
        if component == ev.KUBELET and not self.control.reachable(worker):
            return  # a node that stops reporting posts no events either
        self.recorder.record(
            pod=worker.name,
            namespace=worker.namespace,
            uid=worker.uid,
            reason=reason,
            message=message,
            type=type,
            field_path=field_path,
            component=component,
            host=worker.node.name if component == ev.KUBELET else "",
        )

    def pod_status_changed(self, worker: PodWorker, status: dict[str, Any]) -> None:
        if not self.control.reachable(worker):
            return  # held by the kubelet until its node reports again
        phase = (worker.pod.get("status") or {}).get("phase")
        worker.pod["status"] = status
        self._pod_record(worker, "MODIFIED")
        if status.get("phase") != phase:
            self.control.phase_changed(worker, str(status.get("phase") or ""))

    def remove_pod(self, worker: PodWorker) -> None:
        if worker.removed:
            return
        if finalizers.pending(worker.pod):
            # The final DELETE only updates the object while finalizers hold it (finalizers.py).
            if not getattr(worker, "held_by_finalizers", False):
                worker.held_by_finalizers = True  # type: ignore[attr-defined]
                worker.pod["metadata"] = finalizers.held_metadata(
                    worker.pod["metadata"], timestamp(self.loop.now))
                for slot in worker.slots:
                    for probe in slot.probes.values():
                        probe.stop()
                self._pod_record(worker, "MODIFIED")
                self.control.pod_gone(worker)
            return
        worker.removed = True
        worker.node.disk_changed()
        key = (worker.namespace, worker.name)
        if self._workers.get(key) is worker:
            del self._workers[key]
            owner = self._owner_key(worker.pod)
            if owner is not None:
                keys = self._owned.get(owner)
                if keys is not None:
                    keys.pop(key, None)
                    if not keys:
                        del self._owned[owner]
        self._gone[key] = worker
        for slot in worker.slots:
            for probe in slot.probes.values():
                probe.stop()
        self._pod_record(worker, "DELETED")
        self.control.pod_gone(worker)
        self.namespaces.pod_gone(worker.namespace)

    def _new_uid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def apply(self, objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create or update Pods now. Returns the problems of refused updates (kubectl's)."""
        problems: list[dict[str, Any]] = []
        stored = False
        for obj in objects:
            if obj.get("kind") in ("Namespace", "ServiceAccount"):
                problems.extend(self.namespaces.apply(obj))
                continue
            refused = self.namespaces.admit(obj, creating=self._creates(obj))
            if refused is not None:
                problems.append(refused)
                continue
            if self.store.accepts(obj):
                self.store.put(copy.deepcopy(obj))
                stored = True
                continue
            if obj.get("kind") == "Service":
                problems.extend(self.services.apply(obj))
                continue
            if obj.get("kind") in ("Deployment", "ReplicaSet", "Job"):
                problems.extend(self.controllers.apply(obj))
                continue
            if obj.get("kind") == "Node":
                self.control.add_node(copy.deepcopy(obj), record=True)
                continue
            if obj.get("kind", "Pod") != "Pod":
                continue
            meta = obj.get("metadata") or {}
            key = (meta.get("namespace") or "default", meta.get("name", ""))
            if key in self._workers:
                problems.extend(self._update(self._workers[key], obj))
            else:
                self._create(copy.deepcopy(obj))
        if stored:
            self._retry_unscheduled()
        return problems

    def create_pod(self, pod: dict[str, Any]) -> None:
        """Create a Pod the caller built and hands over (a controller's, already defaulted):
        what ``apply`` does for a new name, without copying it again. Raises
        ``AdmissionError`` when admission refuses it (a missing ServiceAccount)."""
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace") or "default", meta.get("name", ""))
        if key in self._workers:
            raise ValueError(f'pods "{key[1]}" already exists')
        refused = self.namespaces.admit_pod(pod)
        if refused is not None:
            raise AdmissionError(refused)
        self._create(pod)

    def _creates(self, obj: dict[str, Any]) -> bool:
        """True when applying ``obj`` creates it (admission checks creations only)."""
        kind = obj.get("kind", "Pod")
        meta = obj.get("metadata") or {}
        namespace, name = meta.get("namespace") or "default", meta.get("name", "")
        if kind == "Pod":
            return (namespace, name) not in self._workers
        if self.store.accepts(obj):
            return self.store.get(str(kind), namespace, name) is None
        if kind in ("Service", "Deployment", "ReplicaSet", "Job"):
            return self.objects.get(str(kind), namespace, name) is None
        return True

    def _retry_unscheduled(self) -> None:
        """A new claim moves the Pods waiting for it back to the scheduling queue."""
        self.control.cluster_changed()

    def _create(self, pod: dict[str, Any]) -> PodWorker:
        meta = pod.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        meta["uid"] = meta.get("uid") or self._new_uid()
        meta["creationTimestamp"] = timestamp(self.loop.now)
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        spec = pod.setdefault("spec", {})
        grace = spec.get("terminationGracePeriodSeconds")
        if grace is not None and grace < 0:
            spec["terminationGracePeriodSeconds"] = 1
        pod["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
        # the API object's worker; the control plane replaces it with the kubelet's
        # worker on the node the Pod is bound to (IP from that node's Pod CIDR)
        worker = PodWorker(self, pod, "")
        key = (worker.namespace, worker.name)
        self._workers[key] = worker
        owner = self._owner_key(pod)
        if owner is not None:
            self._owned.setdefault(owner, {})[key] = None
        self._gone.pop(key, None)
        self._pod_record(worker, "ADDED")
        return self.control.create(worker)

    def _update(self, worker: PodWorker, obj: dict[str, Any]) -> list[dict[str, Any]]:
        name = worker.name
        old_spec = worker.spec
        new_spec = copy.deepcopy(obj.get("spec") or {})
        new_spec.setdefault("nodeName", old_spec.get("nodeName"))
        grace = new_spec.get("terminationGracePeriodSeconds")
        if grace is not None and grace < 0:
            new_spec["terminationGracePeriodSeconds"] = 1
        problems: list[dict[str, Any]] = []
        new_ads = new_spec.get("activeDeadlineSeconds")
        old_ads = old_spec.get("activeDeadlineSeconds")
        if new_ads is not None:
            if new_ads < 0 or new_ads > 2**31 - 1:
                problems.append(
                    _problem(
                        name,
                        "spec.activeDeadlineSeconds",
                        "FieldValueInvalid",
                        f"Invalid value: {new_ads}: must be between 0 and 2147483647, inclusive",
                        value=new_ads,
                    )
                )
            elif old_ads is not None and new_ads > old_ads:
                problems.append(
                    _problem(
                        name,
                        "spec.activeDeadlineSeconds",
                        "FieldValueInvalid",
                        f"Invalid value: {new_ads}: must be less than or equal to previous value",
                        value=new_ads,
                        previous=old_ads,
                    )
                )
        elif old_ads is not None:
            problems.append(
                _problem(
                    name,
                    "spec.activeDeadlineSeconds",
                    "FieldValueInvalid",
                    'Invalid value: "null": must not update from a positive integer to nil value',
                    previous=old_ads,
                )
            )
        old_tol = list(old_spec.get("tolerations") or [])
        new_tol = list(new_spec.get("tolerations") or [])
        tolerations_ok = all(t in new_tol for t in old_tol)
        old_gates = list(old_spec.get("schedulingGates") or [])
        new_gates = list(new_spec.get("schedulingGates") or [])
        for gate in new_gates:
            if gate not in old_gates:
                problems.append(
                    _problem(
                        name,
                        "spec.schedulingGates",
                        "FieldValueForbidden",
                        "Forbidden: only deletion is allowed, but found new scheduling "
                        f"gate '{gate.get('name', '')}'",
                        gate=gate.get("name", ""),
                    )
                )

        def masked(spec: dict[str, Any]) -> dict[str, Any]:
            out = {
                k: v
                for k, v in spec.items()
                if k not in ("activeDeadlineSeconds", "tolerations", "schedulingGates")
            }
            for group in ("containers", "initContainers"):
                if group in out:
                    out[group] = [{k: v for k, v in c.items() if k != "image"} for c in out[group]]
            old_grace = old_spec.get("terminationGracePeriodSeconds")
            if out.get("terminationGracePeriodSeconds") == 1 and old_grace == 1:
                out["terminationGracePeriodSeconds"] = 1
            return out

        changed = [
            key
            for key in sorted(set(old_spec) | set(new_spec))
            if masked(old_spec).get(key) != masked(new_spec).get(key)
        ]
        if changed or not tolerations_ok:
            problems.append(
                _problem(
                    name,
                    "spec",
                    "FieldValueForbidden",
                    UPDATE_FORBIDDEN,
                    fields=[f"spec.{key}" for key in changed]
                    + ([] if tolerations_ok else ["spec.tolerations"]),
                )
            )
        new_meta = obj.get("metadata") or {}
        added = finalizers.added_while_deleting(worker.pod, new_meta)
        if added:
            problems.append(_problem(
                name, "metadata.finalizers", "FieldValueForbidden",
                f"Forbidden: {finalizers.NEW_FINALIZERS}, found new finalizers "
                f"{finalizers.go_quoted(added)}", finalizers=added,
            ))
        if problems:
            return problems
        old_meta = worker.pod["metadata"]
        meta = dict(old_meta)
        for field in ("labels", "annotations", "finalizers"):
            if field in new_meta:
                meta[field] = copy.deepcopy(new_meta[field])
                if field == "finalizers" and not meta[field]:
                    del meta[field]
        released = getattr(worker, "held_by_finalizers", False) and not finalizers.pending(
            {"metadata": meta})
        worker.pod["metadata"] = meta
        if released:
            # shouldDeleteDuringUpdate: no finalizers left and a grace period of 0.
            self.remove_pod(worker)
            return []
        self.controllers.pod_touched(worker.namespace, worker.name)
        # An update that changes only labels, annotations or finalizers is still a change
        # of the object: a new resourceVersion and a MODIFIED event, which the endpoints
        # and workload controllers watch (a Pod relabelled out of a Service's selector
        # leaves its endpoints).
        if new_spec != old_spec or meta != old_meta:
            worker.pod["spec"] = new_spec
            self._pod_record(worker, "MODIFIED")
            if new_spec != old_spec:
                if new_ads != old_ads:
                    worker.transition(
                        None,
                        "activeDeadlineSeconds",
                        old_ads,
                        new_ads,
                        "pod.deadline",
                        cause("spec.activeDeadlineSeconds", new_ads),
                    )
                if not old_spec.get("nodeName"):
                    worker.spec = new_spec  # not on a kubelet yet
                    if old_gates and not new_gates:
                        self.control.gates_removed(worker)
                else:
                    worker.update_spec(new_spec)
        return []

    def delete_pod(
        self, name: str, *, namespace: str = "default", grace_period: float | None = None
    ) -> bool:
        """``kubectl delete pod``; ``grace_period=None`` uses the Pod's own grace period.

        False when there is no such Pod. A Pod already being deleted is accepted again (the
        API server answers with the object, kubectl prints ``pod "X" deleted``); only a
        shorter grace period changes anything (see ``_delete_again``)."""
        worker = self._workers.get((namespace, name))
        if worker is None:
            return False
        if (worker.pod.get("metadata") or {}).get("deletionTimestamp") or worker.deleting:
            self._delete_again(worker, grace_period)
            return True
        if grace_period is None:
            grace = worker.spec.get("terminationGracePeriodSeconds")
            grace = 30 if grace is None else grace
        else:
            grace = max(0, int(grace_period))
        mode = self.control.delete(worker, float(grace))
        if mode == "now":
            self.remove_pod(worker)
            return True
        meta = dict(worker.pod["metadata"])
        meta["deletionTimestamp"] = timestamp(self.loop.now + grace)
        meta["deletionGracePeriodSeconds"] = int(grace)
        worker.pod["metadata"] = meta
        self._pod_record(worker, "MODIFIED")
        if mode == "mirror":
            self.control.recreate_mirror(worker)
            return True
        if mode == "kubelet" or grace == 0:
            worker.delete(float(grace))
        if grace == 0:
            self.remove_pod(worker)
        return True

    def _delete_again(self, worker: PodWorker, grace_period: float | None) -> None:
        """A DELETE of a Pod that already has its deletionTimestamp (apiserver
        ``rest.BeforeDelete``): with no grace period, or one not shorter than
        ``deletionGracePeriodSeconds``, nothing changes; a shorter one moves the deadline to
        the first request's time plus the new period and sets the new period; 0 removes the
        Pod at once. The kubelet's pod worker sees the shorter period and runs ``killPod``
        again with it (``podWorkers.UpdatePod``: a terminating Pod's grace may only shrink)."""
        meta = dict(worker.pod.get("metadata") or {})
        current = meta.get("deletionGracePeriodSeconds")
        if current is None or int(current) == 0:
            self.remove_pod(worker)  # a deletion left half done: finish it now
            return
        if grace_period is None or max(0, int(grace_period)) >= int(current):
            return
        period = max(0, int(grace_period))
        requested = parse_time(value=meta.get("deletionTimestamp"))
        first = (requested if requested is not None else self.loop.now + int(current)) - int(
            current)
        meta["deletionTimestamp"] = timestamp(first + period)
        meta["deletionGracePeriodSeconds"] = period
        worker.pod["metadata"] = meta
        self._pod_record(worker, "MODIFIED")
        if period == 0:
            if worker.deleting:
                worker.shorten_grace(0.0)
            self.remove_pod(worker)
        elif worker.deleting:
            worker.shorten_grace(float(period))
        else:
            self.control.shorten_pending_delete(worker, float(period))

    def stop_signal(self, name: str, container: str, namespace: str | None = None) -> int:
        """The signal the runtime stops ``container`` with: its image's STOPSIGNAL (nginx
        since 1.19.5 and php-fpm: SIGQUIT), SIGTERM while the image is not known. Without a
        namespace, the first Pod of that name (the lab names Pods by name alone)."""
        workers = [w for key, w in [*self._workers.items(), *self._gone.items()]
                   if key[1] == name and (namespace is None or key[0] == namespace)]
        for worker in workers[:1]:
            for slot in worker.slots:
                if slot.name == container and slot.image_info is not None:
                    return int(slot.image_info.stop_signal)
        return SIGTERM

    def kill_container(
        self, name: str, container: str, *, signal: int = SIGKILL, namespace: str = "default"
    ) -> bool:
        """Send ``signal`` to the container's main process (as ``kill`` on the node would)."""
        worker = self._workers.get((namespace, name))
        if worker is None:
            return False
        for slot in worker.slots:
            if slot.name == container and slot.current is not None and slot.current.running:
                if slot.exit_rule is None:
                    slot.exit_rule = ("manual.kill", cause("signal", signal))
                slot.current.signal(signal)
                if slot.current.running and slot.exit_rule[0] == "manual.kill":
                    slot.exit_rule = None
                return True
        return False

    # --- Services and controllers (services.py, controllers.py) ---------------------------

    def create_service(
        self,
        name: str,
        *,
        selector: dict[str, str] | None = None,
        port: int = 80,
        target_port: int | str | None = None,
        ports: list[dict[str, Any]] | None = None,
        type: str = "ClusterIP",
        namespace: str = "default",
    ) -> list[dict[str, Any]]:
        """``kubectl create service``/``apply`` of a Service now; returns refusals."""
        from podlab.engine.apiserver.defaults import apply_defaults

        if ports is None:
            entry: dict[str, Any] = {"port": port}
            if target_port is not None:
                entry["targetPort"] = target_port
            ports = [entry]
        spec: dict[str, Any] = {"ports": ports, "type": type}
        if selector:
            spec["selector"] = dict(selector)
        manifest = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
        uid = self.objects.new_uid(namespace, name)
        return self.apply([apply_defaults(manifest, uid=uid)])

    def delete_service(self, name: str, *, namespace: str = "default") -> bool:
        return self.services.delete(name, namespace)

    def scale(self, target: str, replicas: int, *, namespace: str = "default") -> bool:
        """``kubectl scale deployment/NAME --replicas=N`` (also ``replicaset/``, ``rs/``,
        ``deploy/``; ``job/`` sets parallelism). False when there is no such object."""
        kind, name = self._workload(target)
        return self.controllers.scale(kind, name, replicas, namespace)

    def delete_object(self, target: str, *, namespace: str = "default") -> bool:
        """``kubectl delete deployment/NAME`` (and ``service/``, ``replicaset/``, ``job/``):
        the object goes and what it owns is deleted in the background."""
        if target.partition("/")[0].lower() in ("service", "services", "svc"):
            return self.services.delete(target.partition("/")[2], namespace)
        if target.partition("/")[0].lower() in ("namespace", "namespaces", "ns"):
            return self.namespaces.delete(target.partition("/")[2]) is None
        kind, name = self._workload(target)
        return self.controllers.delete(kind, name, namespace)

    @staticmethod
    def _workload(target: str) -> tuple[str, str]:
        resource, _, name = target.partition("/")
        kinds = {
            "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
            "replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
            "job": "Job", "jobs": "Job",
        }
        if resource.lower() not in kinds or not name:
            raise ValueError(f"cannot scale or delete {target!r}: use deployment/NAME, "
                             "replicaset/NAME or job/NAME")
        return kinds[resource.lower()], name

    def list_objects(self, kind: str) -> list[dict[str, Any]]:
        """Services, EndpointSlices, Endpoints, Deployments, ReplicaSets, Jobs, Namespaces or
        ServiceAccounts, by name."""
        if kind in ("Namespace", "ServiceAccount"):
            return self.namespaces.list(kind)
        return self.objects.list(kind)

    # --- the registry (registry.py) ------------------------------------------------------

    def set_image_available(
        self, reference: str, available: bool, ports: list[tuple[int, str]] | None = None
    ) -> bool:
        """Push ``reference`` to the registry or remove it from there. Later pulls of a
        removed image fail as for an unknown one; nodes that have it keep it. A new tag of a
        known repository (``nginx:1.99``) behaves as that repository's image; a repository
        nobody publishes (``my-app:latest``) becomes a test image listening on ``ports``
        ((port, protocol) pairs, the container's declared ports). False for an invalid
        reference or one by digest."""
        return self.registry.set_available(reference, available, ports)

    # --- nodes (cluster.py, controlplane.py) ---------------------------------------------

    def nodes(self) -> list[dict[str, Any]]:
        """v1 Nodes as ``kubectl get nodes -o json`` returns them now, sorted by name."""
        return self.control.node_objects()

    def lease_renewed(self, node: str) -> float | None:
        """When the node's kubelet last renewed its Lease (every 10 s while it reports)."""
        found = self.control.nodes.get(node)
        if found is None:
            return None
        last = self.now if found.reachable else (found.lost_at or self.now)
        return max(found.created, math.floor(last / LEASE_RENEW_SECONDS) * LEASE_RENEW_SECONDS)

    def cordon(self, node: str) -> bool:
        """``kubectl cordon``: no new Pods are scheduled to ``node``."""
        return self.control.cordon(node)

    def uncordon(self, node: str) -> bool:
        return self.control.uncordon(node)

    def drain(self, node: str, *, grace_period: float | None = None) -> bool:
        """``kubectl drain --force --ignore-daemonsets``: cordon, then evict its Pods."""
        return self.control.drain(node, grace_period)

    def lose_node(self, node: str) -> bool:
        """The node stops reporting (kubelet down or network cut); its containers go on."""
        return self.control.lose_node(node)

    def restore_node(self, node: str) -> bool:
        """The node reports again: held statuses and deletions reach it, taints go."""
        return self.control.restore_node(node)

    def add_static_pod(self, manifest: dict[str, Any], node: str) -> dict[str, Any] | None:
        """A Pod manifest placed in ``node``'s staticPodPath; returns the mirror Pod."""
        worker = self.control.add_static_pod(manifest, node)
        return copy.deepcopy(worker.pod) if worker is not None else None

    def remove_static_pod(self, name: str, node: str) -> bool:
        """The manifest ``name`` is removed from ``node``: the kubelet stops the Pod."""
        return self.control.remove_static_pod(name, node)

    # --- observation ---------------------------------------------------------------------

    def _find(self, name: str, namespace: str) -> PodWorker:
        worker = self._workers.get((namespace, name)) or self._gone.get((namespace, name))
        if worker is None:
            raise LookupError(f'pods "{name}" not found')
        return worker

    def pods(self) -> list[dict[str, Any]]:
        """Copies of every Pod (callers may keep and change them)."""
        self.pod_copies += 1
        return [copy.deepcopy(w.pod) for w in self._workers.values()]

    def pod_views(self) -> Iterator[dict[str, Any]]:
        """The stored Pods themselves, for the engine's own readers (controllers, endpoints):
        read only, and not to be kept past the current instant. Writers replace a Pod's
        ``metadata``, ``spec`` or ``status`` as a whole and record the change."""
        for worker in self._workers.values():
            yield worker.pod

    def owned_pod_views(self, namespace: str, uid: str | None) -> list[dict[str, Any]]:
        """The stored Pods whose controller has ``uid`` (an index kept on write), in the
        order of ``pod_views``; read only, like them."""
        keys = self._owned.get((namespace, uid or ""))
        if not keys:
            return []
        workers = self._workers
        return [workers[key].pod for key in keys]

    def has_pod(self, name: str, namespace: str = "default") -> bool:
        return (namespace, name) in self._workers

    def pod_view(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        """The stored Pod itself (read only, like ``pod_views``)."""
        worker = self._workers.get((namespace, name))
        return worker.pod if worker is not None else None

    @staticmethod
    def _owner_key(pod: dict[str, Any]) -> tuple[str, str] | None:
        return owner_key(pod)

    def pod(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        worker = self._workers.get((namespace, name))
        return copy.deepcopy(worker.pod) if worker is not None else None

    def probe_report(self) -> list[dict[str, Any]]:
        """Every probe worker's schedule, counters and last results, Pod by Pod."""
        return [probe.report() for probe in self.probe_workers()]

    def probe_workers(self) -> Iterator[ProbeWorker]:
        """Every probe worker, Pod by Pod, in the order of ``probe_report``."""
        for worker in self._workers.values():
            for slot in worker.slots:
                yield from slot.probes.values()

    def events(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self.recorder.entries]

    def logs(
        self,
        name: str,
        container: str | None = None,
        *,
        previous: bool = False,
        namespace: str = "default",
    ) -> str:
        worker = self._find(name, namespace)
        slots = [s for s in worker.slots if container is None or s.name == container]
        if container is None and len(worker.app_slots) == 1:
            slots = worker.app_slots
        if not slots:
            raise LookupError(f"container {container} is not valid for pod {name}")
        slot = slots[0]
        # the kubelet's validateContainerLogStatus: the instance behind the status fields
        current = slot.current
        waiting_after_exit = (
            current is not None and current.exited and slot.waiting is not None
        )
        last_terminated = current if waiting_after_exit else slot.previous
        if last_terminated is not None and not last_terminated.exited:
            last_terminated = None
        if previous:
            inst = last_terminated
            if inst is None:
                raise LookupError(
                    f'previous terminated container "{slot.name}" in pod "{name}" not found'
                )
        else:
            inst = current
        if inst is None:
            reason = (
                slot.waiting[0]
                if slot.waiting
                else ("PodInitializing" if worker.init_slots else "ContainerCreating")
            )
            shown = {
                "ErrImagePull": "image can't be pulled",
                "ImagePullBackOff": "trying and failing to pull image",
            }.get(reason, reason)
            raise LookupError(
                f'container "{slot.name}" in pod "{name}" is waiting to start: {shown}'
            )
        return inst.log_text()
