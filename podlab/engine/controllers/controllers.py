"""The controllers of kube-controller-manager the lessons need: Deployment, ReplicaSet, Job.

They run on the simulated clock like everything else: after any change of a Pod or of one of
their objects they reconcile once at that instant (after the kubelet has written Pod status),
repeating until nothing more changes. Their rules follow ``pkg/controller`` of Kubernetes 1.34:

* **ReplicaSet** keeps ``spec.replicas`` active Pods (not terminating, not Succeeded/Failed)
  from its template, named ``<replicaset>-<5 chars>`` with a controller ownerReference; a
  deleted or failed Pod is replaced; surplus Pods are deleted in ``ActivePodsWithRanks`` order
  (unscheduled, pending, not ready, ready for less time, more restarts, newer first).
* **Deployment** owns ReplicaSets named ``<deployment>-<pod-template-hash>``; a template change
  creates (or reuses) the ReplicaSet for the new template and rolls over with
  ``maxSurge``/``maxUnavailable`` (``rolloutRolling``: scale the new set up within the surge,
  scale old sets down while at least ``replicas - maxUnavailable`` Pods stay available), or
  ``Recreate`` (old Pods gone first). Old ReplicaSets beyond ``revisionHistoryLimit`` go.
* **Job** runs Pods until ``completions`` succeed. With ``restartPolicy: Never`` each failed
  Pod counts against ``backoffLimit`` and is replaced after a back-off of 10 s, 20 s, 40 s …
  (at most 10 min) from its failure; with ``OnFailure`` the kubelet restarts the containers
  and the container restarts count. Past the limit: ``FailureTarget`` then ``Failed``
  (``BackoffLimitExceeded``), active Pods deleted; done: ``SuccessCriteriaMet`` then
  ``Complete``. ``activeDeadlineSeconds`` ends it with ``DeadlineExceeded``.
"""

from __future__ import annotations

import copy
import json
import math
import random
from typing import TYPE_CHECKING, Any

from podlab.engine.apiserver.defaults import apply_defaults
from podlab.engine.apiserver.namespaces import AdmissionError
from podlab.engine.apiserver.objects import controller_uid, object_key, owner_key, owner_reference
from podlab.engine.controllers.services import pod_is_ready
from podlab.engine.core.version import parse_time, timestamp

if TYPE_CHECKING:
    from podlab.engine.apiserver.store import PodStore

#: Controllers act after the kubelet's status writes and the endpoint controllers.
PRIORITY_CONTROLLERS = 120
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
DEPLOYMENT_CONTROLLER = "deployment-controller"
REPLICASET_CONTROLLER = "replicaset-controller"
JOB_CONTROLLER = "job-controller"
JOB_BACKOFF = 10.0
JOB_MAX_BACKOFF = 600.0
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_PASSES = 20
JOB_LABELS = ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name",
              "controller-uid", "job-name")


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each byte picks a letter of the vowel-free alphabet."""
    return "".join(_ALPHABET[ord(ch) % len(_ALPHABET)] for ch in text)


def template_hash(template: dict[str, Any], collision_count: int = 0) -> str:
    """``controller.ComputeHash``: FNV-32a of the template (here its canonical JSON) and the
    collision count, printed in decimal and safe-encoded (``"7d9b8c6f4"``-like)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def resolve_percent(value: Any, total: int, *, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int):
        return value
    text = str(value or "0")
    if text.endswith("%"):
        number = _whole(text[:-1]) * total / 100
        return math.ceil(number) if round_up else math.floor(number)
    return _whole(text)


def _whole(digits: str) -> int:
    """Digits as a number; validation lets through nothing else (anything else is 0), and a
    number too long to read stands for a huge one (10**18)."""
    digits = digits.lstrip("0")
    if not (digits.isascii() and digits.isdigit()):
        return 0
    return int(digits) if len(digits) <= 18 else 10**18


def surge_and_unavailable(deployment: dict[str, Any]) -> tuple[int, int]:
    """``ResolveFenceposts``: maxSurge rounds up, maxUnavailable down; both 0 means 1
    unavailable."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = resolve_percent(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = resolve_percent(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _seconds(value: str | None) -> float | None:
    moment = parse_time(value=value)
    return None if moment is None else float(moment)


def _condition(kind: str, status: str, reason: str, message: str, now: float,
               previous: list[dict[str, Any]] | None, *, probe_time: bool = False
               ) -> dict[str, Any]:
    """A workload condition; the transition time stays while the status does not change."""
    last_transition = timestamp(now)
    last_update = timestamp(now)
    for old in previous or []:
        if old.get("type") == kind and old.get("status") == status:
            last_transition = old.get("lastTransitionTime") or last_transition
            if old.get("reason") == reason and old.get("message") == message:
                last_update = old.get("lastUpdateTime") or last_update
    condition: dict[str, Any] = {"type": kind, "status": status}
    if probe_time:
        condition["lastProbeTime"] = timestamp(now)
    else:
        condition["lastUpdateTime"] = last_update
    condition["lastTransitionTime"] = last_transition
    condition["reason"] = reason
    condition["message"] = message
    return condition


def _ready_since(pod: dict[str, Any]) -> float | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            moment = _seconds(condition.get("lastTransitionTime"))
            return 0.0 if moment is None else moment
    return None


def _restarts(pod: dict[str, Any]) -> int:
    status = pod.get("status") or {}
    return sum(
        int(cs.get("restartCount") or 0)
        for group in ("initContainerStatuses", "containerStatuses")
        for cs in status.get(group) or []
    )


def _is_active(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not (pod.get("metadata") or {}).get(
        "deletionTimestamp"
    )


def _ready_true(pod: dict[str, Any]) -> bool:
    """Some ``Ready`` condition is True (``_ready_since`` is not None)."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return True
    return False


class _Tally:
    """Counts over one owner's active Pods, kept from the Pods that changed (as an informer's
    cache is), so a ReplicaSet's status costs the same at 10 Pods and at 10,000."""

    __slots__ = ("active", "labels", "ready", "ready_true")

    def __init__(self) -> None:
        self.active = 0
        self.ready = 0
        self.ready_true = 0
        #: label sets of the active Pods (as item tuples) and how many Pods carry each
        self.labels: dict[tuple[tuple[str, Any], ...], int] = {}


#: what a ReplicaSet's status needs of one Pod: (owner key, active, ready, a Ready
#: condition is True, labels)
_Facts = tuple[tuple[str, str], bool, bool, bool, tuple[tuple[str, Any], ...]]


class ControllerManager:
    """Deployments, ReplicaSets and Jobs of one simulation."""

    def __init__(self, sim: PodStore) -> None:
        self.sim = sim
        self.store = sim.objects
        self._rng = random.Random(f"controllers/{sim.seed}")  # noqa: S311 - reproducible names
        self._pending = False
        #: the Jobs need a sync: anything but a change of a Pod no Job controls asks for one
        self._jobs_due = True
        self._timers: set[float] = set()
        self._job_backoff: dict[str, tuple[int, float]] = {}  # job uid -> (failures, last)
        #: owner uid -> (refused Pod creations in a row, when the last was refused)
        self._create_failures: dict[str, tuple[int, float]] = {}
        #: Pods changed since the tallies were brought up to date, by (namespace, name)
        self._stale: dict[tuple[str, str], None] = {}
        self._facts: dict[tuple[str, str], _Facts] = {}
        self._tallies: dict[tuple[str, str], _Tally] = {}
        #: id(ReplicaSet template) -> (that template, a copy without the hash label)
        self._stripped: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        #: how many Pods the tallies have re-read, and how many times a ReplicaSet's Pods
        #: were listed one by one (tests check that steady state does neither per Pod)
        self.pods_read = 0
        self.pod_scans = 0
        #: how many times the Jobs were synced (Pods of other owners do not count)
        self.job_syncs = 0

    # --- entry points ----------------------------------------------------------------------

    def has_objects(self) -> bool:
        return any(self.store.items(kind) for kind in ("Deployment", "ReplicaSet", "Job"))

    def pod_changed(self, _type: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        self._stale[(meta.get("namespace") or "default", meta.get("name") or "")] = None
        if self.has_objects():
            # the Job controller's Pod handlers enqueue only the Pod's controlling Job
            # (upstream pkg/controller/job: resolveControllerRef in addPod/updatePod)
            self.request_sync(jobs=_controlled_by_job(pod))

    def pod_touched(self, namespace: str, name: str) -> None:
        """A Pod changed without a record of its own (labels of an update): re-read it at
        the next sync, as the full listing it replaces did."""
        self._stale[(namespace, name)] = None

    def _refresh(self) -> None:
        """Bring the tallies up to date with the Pods that changed since the last time."""
        if not self._stale:
            return
        stale, self._stale = self._stale, {}
        for key in stale:
            old = self._facts.pop(key, None)
            if old is not None:
                self._count(old, -1)
            pod = self.sim.pod_view(key[1], key[0])
            if pod is None:
                continue
            owner = owner_key(pod)
            if owner is None:
                continue
            self.pods_read += 1
            labels = (pod.get("metadata") or {}).get("labels") or {}
            facts: _Facts = (
                owner, _is_active(pod), pod_is_ready(pod), _ready_true(pod),
                tuple(labels.items()),
            )
            self._facts[key] = facts
            self._count(facts, 1)

    def _count(self, facts: _Facts, sign: int) -> None:
        owner, active, ready, ready_true, labels = facts
        if not active:
            return
        tally = self._tallies.get(owner)
        if tally is None:
            tally = self._tallies[owner] = _Tally()
        tally.active += sign
        tally.ready += sign if ready else 0
        tally.ready_true += sign if ready_true else 0
        left = tally.labels.get(labels, 0) + sign
        if left:
            tally.labels[labels] = left
        else:
            del tally.labels[labels]
        if not tally.active:
            del self._tallies[owner]

    def request_sync(self, at: float | None = None, *, jobs: bool = True) -> None:
        if jobs:
            self._jobs_due = True
        loop = self.sim.loop
        if at is not None and at > loop.now:
            if at in self._timers:
                return
            self._timers.add(at)

            def fire(when: float = at) -> None:
                self._timers.discard(when)
                self.request_sync()

            loop.call_at(at, fire, PRIORITY_CONTROLLERS)
            return
        if not self._pending:
            self._pending = True
            loop.call_later(0, self.sync, PRIORITY_CONTROLLERS)

    def apply(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """Create or update a Deployment, ReplicaSet or Job (``kubectl apply``)."""
        obj = copy.deepcopy(obj)
        kind = obj["kind"]
        namespace, name = object_key(obj)
        current = self.store.get(kind, namespace, name)
        if current is None:
            meta = dict(obj.get("metadata") or {})
            meta.pop("resourceVersion", None)
            obj["metadata"] = meta
            obj["status"] = {}
            self.store.add(obj)
            self.request_sync()
            return []
        if kind == "Job":
            # The selector and its labels were generated from the stored Job's uid.
            spec = dict(obj.get("spec") or {})
            old_spec = current.get("spec") or {}
            template = copy.deepcopy(spec.get("template") or {})
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            old_labels = ((old_spec.get("template") or {}).get("metadata") or {}).get("labels")
            for key in JOB_LABELS:
                if key in (old_labels or {}):
                    labels[key] = old_labels[key]
            template["metadata"] = {**(template.get("metadata") or {}), "labels": labels}
            spec["template"] = template
            if not spec.get("manualSelector"):
                spec["selector"] = copy.deepcopy(old_spec.get("selector"))
            obj["spec"] = spec
        problems = self._update_problems(current, obj)
        if problems:
            return problems
        meta = dict(current["metadata"])
        for field in ("labels", "annotations"):
            new = (obj.get("metadata") or {}).get(field)
            if new is not None:
                kept = {k: v for k, v in (meta.get(field) or {}).items() if k == REVISION}
                meta[field] = {**kept, **copy.deepcopy(new)}
        spec_changed = obj.get("spec") != current.get("spec")
        if spec_changed or meta != current["metadata"]:
            current["metadata"] = meta
            current["spec"] = copy.deepcopy(obj.get("spec") or {})
            self.store.update(current, spec_changed=spec_changed)
            self.request_sync()
        return []

    def _update_problems(
        self, current: dict[str, Any], obj: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kind = current["kind"]
        name = current["metadata"]["name"]
        old_spec = current.get("spec") or {}
        new_spec = obj.get("spec") or {}
        problems = []
        if old_spec.get("selector") != new_spec.get("selector") and kind != "Job":
            problems.append(("spec.selector", new_spec.get("selector"), "field is immutable"))
        if kind == "Job":
            old_template = copy.deepcopy(old_spec.get("template"))
            new_template = copy.deepcopy(new_spec.get("template"))
            if old_template != new_template:
                problems.append(("spec.template", new_template, "field is immutable"))
            if old_spec.get("completions") != new_spec.get("completions"):
                problems.append(
                    ("spec.completions", new_spec.get("completions"), "field is immutable")
                )
        out = []
        for path, value, detail in problems:
            text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
            message = f"Invalid value: {text}: {detail}"
            out.append({
                "path": path,
                "code": "FieldValueInvalid",
                "message": message,
                "detail": {"value": value, "detail": detail},
                "kubectl": f'The {kind} "{name}" is invalid: {path}: {message}',
            })
        return out

    def scale(self, kind: str, name: str, replicas: int, namespace: str = "default") -> bool:
        """``kubectl scale``: set ``spec.replicas`` of a Deployment or ReplicaSet (or
        ``spec.parallelism`` of a Job)."""
        obj = self.store.get(kind, namespace, name)
        if obj is None or replicas < 0:
            return False
        field = "parallelism" if kind == "Job" else "replicas"
        spec = dict(obj.get("spec") or {})
        if spec.get(field) == replicas:
            return True
        spec[field] = int(replicas)
        obj["spec"] = spec
        self.store.update(obj, spec_changed=True)
        self.request_sync()
        return True

    def delete(self, kind: str, name: str, namespace: str = "default") -> bool:
        """``kubectl delete`` with background cascading: owned objects and Pods go too."""
        obj = self.store.delete(kind, namespace, name)
        if obj is None:
            return False
        uid = obj["metadata"].get("uid")
        if kind == "Deployment":
            for rs in list(self.store.items("ReplicaSet")):
                if controller_uid(rs) == uid:
                    self.delete("ReplicaSet", rs["metadata"]["name"], namespace)
        else:
            for pod in self._owned_pods(obj):
                self._delete_pod(pod)
        return True

    # --- the loop --------------------------------------------------------------------------

    def sync(self) -> None:
        self._pending = False
        for _ in range(_MAX_PASSES):
            changed = False
            for deployment in list(self.store.items("Deployment")):
                changed |= self._sync_deployment(deployment)
            for rs in list(self.store.items("ReplicaSet")):
                changed |= self._sync_replicaset(rs)
            if self._jobs_due:
                self._jobs_due = False
                self.job_syncs += 1
                jobs_changed = False
                for job in list(self.store.items("Job")):
                    jobs_changed |= self._sync_job(job)
                if jobs_changed:
                    self._jobs_due = True  # another pass, as every controller gets
                    changed = True
            if not changed:
                break

    def _owned_pods(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        """The owner's Pods as stored (read only): the simulation indexes them by owner."""
        uid = owner["metadata"].get("uid")
        namespace = owner["metadata"].get("namespace") or "default"
        if uid:
            return self.sim.owned_pod_views(namespace, uid)
        return [
            pod
            for pod in self.sim.pod_views()
            if (pod.get("metadata") or {}).get("namespace", "default") == namespace
            and controller_uid(pod) is None
        ]

    def _suffix(self) -> str:
        return "".join(self._rng.choice(_ALPHABET) for _ in range(5))

    def _create_pod(self, owner: dict[str, Any], component: str) -> None:
        meta = owner["metadata"]
        # read only: apply_defaults below copies the Pod it builds from the template
        template = (owner.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        while True:
            name = f"{meta['name']}-{self._suffix()}"
            if not self.sim.has_pod(name, namespace):
                break
        pod_meta: dict[str, Any] = {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": namespace,
            "uid": self.store.new_uid(namespace, name),
        }
        if template_meta.get("labels"):
            pod_meta["labels"] = dict(template_meta["labels"])
        if template_meta.get("annotations"):
            pod_meta["annotations"] = dict(template_meta["annotations"])
        pod_meta["ownerReferences"] = [owner_reference(owner)]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": pod_meta,
            "spec": template.get("spec") or {},
        }
        owner_uid = str(meta.get("uid"))
        failures, failed_at = self._create_failures.get(owner_uid, (0, -1.0))
        if failed_at == self.sim.now:
            return  # the sync stops at its first refused Pod
        try:
            self.sim.create_pod(apply_defaults(pod, uid=pod_meta["uid"]))
        except AdmissionError as refused:
            # the controller's FailedCreate and a rate-limited retry (5 ms doubling, 1000 s)
            self._create_failures[owner_uid] = (failures + 1, self.sim.now)
            self.store.event(owner, reason="FailedCreate", type="Warning",
                             message=f"Error creating: {refused.problem['message']}",
                             component=component)
            self.request_sync(at=self.sim.now + min(0.005 * 2 ** failures, 1000.0))
            return
        self._create_failures.pop(owner_uid, None)
        self.store.event(
            owner, reason="SuccessfulCreate", message=f"Created pod: {name}", component=component
        )

    def _delete_pod(self, pod: dict[str, Any], owner: dict[str, Any] | None = None,
                    component: str = "") -> None:
        meta = pod["metadata"]
        self.sim.delete_pod(meta["name"], namespace=meta.get("namespace") or "default")
        if owner is not None:
            self.store.event(
                owner, reason="SuccessfulDelete", message=f"Deleted pod: {meta['name']}",
                component=component,
            )

    # --- ReplicaSet ------------------------------------------------------------------------

    def _sync_replicaset(self, rs: dict[str, Any]) -> bool:
        spec = rs.get("spec") or {}
        wanted = int(spec.get("replicas", 1))
        meta = rs["metadata"]
        if not meta.get("uid") or int(spec.get("minReadySeconds") or 0) > 0:
            # Availability after minReadySeconds depends on the clock: count Pod by Pod.
            return self._sync_replicaset_by_pod(rs, wanted)
        owner = (meta.get("namespace") or "default", str(meta["uid"]))
        self._refresh()
        tally = self._tallies.get(owner)
        count = tally.active if tally is not None else 0
        changed = False
        if count < wanted:
            for _ in range(wanted - count):
                self._create_pod(rs, REPLICASET_CONTROLLER)
            changed = True
        elif count > wanted:
            self.pod_scans += 1
            active = [p for p in self._owned_pods(rs) if _is_active(p)]
            for pod in sorted(active, key=self._deletion_rank)[: len(active) - wanted]:
                self._delete_pod(pod, rs, REPLICASET_CONTROLLER)
            changed = True
        if changed:
            self._refresh()
            tally = self._tallies.get(owner)
        return self._write_rs_status(rs, self._tally_counts(rs, tally)) or changed

    @staticmethod
    def _tally_counts(rs: dict[str, Any], tally: _Tally | None) -> tuple[int, int, int, int]:
        """(replicas, fully labeled, ready, available) of a ReplicaSet without
        minReadySeconds, from its tally."""
        if tally is None:
            return 0, 0, 0, 0
        spec = rs.get("spec") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        fully = 0
        for items, pods in tally.labels.items():
            have = dict(items)
            if all(have.get(k) == v for k, v in labels.items()):
                fully += pods
        return tally.active, fully, tally.ready, tally.ready_true

    def _sync_replicaset_by_pod(self, rs: dict[str, Any], wanted: int) -> bool:
        self.pod_scans += 1
        pods = self._owned_pods(rs)
        active = [p for p in pods if _is_active(p)]
        changed = False
        if len(active) < wanted:
            for _ in range(wanted - len(active)):
                self._create_pod(rs, REPLICASET_CONTROLLER)
            changed = True
        elif len(active) > wanted:
            for pod in sorted(active, key=self._deletion_rank)[: len(active) - wanted]:
                self._delete_pod(pod, rs, REPLICASET_CONTROLLER)
            changed = True
        if changed:
            pods = self._owned_pods(rs)
            active = [p for p in pods if _is_active(p)]
        return self._write_rs_status(rs, self._rs_counts(rs, active)) or changed

    def _deletion_rank(self, pod: dict[str, Any]) -> tuple[Any, ...]:
        status = pod.get("status") or {}
        phase_order = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase") or "", 0)
        ready_since = _ready_since(pod)
        created = _seconds((pod.get("metadata") or {}).get("creationTimestamp")) or 0.0
        return (
            1 if (pod.get("spec") or {}).get("nodeName") else 0,
            phase_order,
            1 if ready_since is not None else 0,
            -(ready_since or 0.0),
            -_restarts(pod),
            -created,
        )

    def _available(self, pod: dict[str, Any], min_ready: int) -> bool:
        since = _ready_since(pod)
        if since is None:
            return False
        if min_ready <= 0:
            return True
        if since + min_ready <= self.sim.now:
            return True
        self.request_sync(at=since + min_ready)
        return False

    def _rs_counts(
        self, rs: dict[str, Any], active: list[dict[str, Any]]
    ) -> tuple[int, int, int, int]:
        """(replicas, fully labeled, ready, available) of a ReplicaSet, Pod by Pod."""
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        fully = sum(
            1
            for p in active
            if all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v
                   for k, v in labels.items())
        )
        ready = sum(1 for p in active if pod_is_ready(p))
        available = sum(1 for p in active if self._available(p, min_ready))
        return len(active), fully, ready, available

    def _write_rs_status(self, rs: dict[str, Any], counts: tuple[int, int, int, int]) -> bool:
        replicas, fully, ready, available = counts
        status: dict[str, Any] = {"replicas": replicas}
        if fully:
            status["fullyLabeledReplicas"] = fully
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        if status == rs.get("status"):
            return False
        rs["status"] = status
        self.store.update(rs)
        return True

    # --- Deployment ------------------------------------------------------------------------

    def _replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deployment["metadata"].get("uid")
        return [rs for rs in self.store.items("ReplicaSet") if controller_uid(rs) == uid]

    def _template_without_hash(self, rs: dict[str, Any]) -> dict[str, Any]:
        """The ReplicaSet's Pod template without the hash label (read only: kept per
        template object, which a change of the ReplicaSet replaces rather than edits)."""
        source = (rs.get("spec") or {}).get("template") or {}
        kept = self._stripped.get(id(source))
        if kept is not None and kept[0] is source:
            return kept[1]
        template = copy.deepcopy(source)
        labels = (template.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(HASH_LABEL, None)
        if len(self._stripped) >= 256:
            self._stripped.clear()
        self._stripped[id(source)] = (source, template)
        return template

    def _scale_rs(self, deployment: dict[str, Any], rs: dict[str, Any], replicas: int) -> bool:
        spec = rs.get("spec") or {}
        old = int(spec.get("replicas", 0))
        surge, _ = surge_and_unavailable(deployment)
        wanted = int(deployment["spec"].get("replicas", 1))
        annotations = dict(rs["metadata"].get("annotations") or {})
        new_annotations = {
            **annotations,
            DESIRED: str(wanted),
            MAX_REPLICAS: str(wanted + surge),
        }
        if old == replicas and annotations == new_annotations:
            return False
        rs["spec"] = {**spec, "replicas": replicas}
        rs["metadata"] = {**rs["metadata"], "annotations": new_annotations}
        self.store.update(rs, spec_changed=old != replicas)
        if old != replicas:
            direction = "up" if replicas > old else "down"
            self.store.event(
                deployment,
                reason="ScalingReplicaSet",
                message=f"Scaled {direction} replica set {rs['metadata']['name']} "
                f"from {old} to {replicas}",
                component=DEPLOYMENT_CONTROLLER,
            )
        return True

    def _new_replicaset(
        self, deployment: dict[str, Any], sets: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, bool]:
        template = (deployment.get("spec") or {}).get("template") or {}
        for rs in sets:
            if self._template_without_hash(rs) == template:
                return rs, False
        return None, False

    def _create_replicaset(
        self, deployment: dict[str, Any], replicas: int, revision: int
    ) -> dict[str, Any]:
        spec = deployment.get("spec") or {}
        meta = deployment["metadata"]
        namespace = meta.get("namespace") or "default"
        collisions = int((deployment.get("status") or {}).get("collisionCount") or 0)
        template = copy.deepcopy(spec.get("template") or {})
        while True:
            pod_hash = template_hash(template, collisions)
            name = f"{meta['name']}-{pod_hash}"
            if self.store.get("ReplicaSet", namespace, name) is None:
                break
            collisions += 1
        template_meta = dict(template.get("metadata") or {})
        template_meta["labels"] = {**(template_meta.get("labels") or {}), HASH_LABEL: pod_hash}
        template["metadata"] = template_meta
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        surge, _ = surge_and_unavailable(deployment)
        wanted = int(spec.get("replicas", 1))
        rs_spec: dict[str, Any] = {"replicas": replicas}
        if spec.get("minReadySeconds"):
            rs_spec["minReadySeconds"] = spec["minReadySeconds"]
        rs_spec["selector"] = selector
        rs_spec["template"] = template
        rs: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "annotations": {
                    DESIRED: str(wanted),
                    MAX_REPLICAS: str(wanted + surge),
                    REVISION: str(revision),
                },
                "labels": dict(template_meta["labels"]),
                "name": name,
                "namespace": namespace,
                "ownerReferences": [owner_reference(deployment)],
                "uid": self.store.new_uid(namespace, name),
            },
            "spec": rs_spec,
            "status": {"replicas": 0},
        }
        self.store.add(rs)
        if replicas:
            self.store.event(
                deployment,
                reason="ScalingReplicaSet",
                message=f"Scaled up replica set {name} from 0 to {replicas}",
                component=DEPLOYMENT_CONTROLLER,
            )
        return rs

    @staticmethod
    def _revision(obj: dict[str, Any]) -> int:
        text = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION) or "0"
        return int(text) if text.isdigit() else 0

    def _sync_deployment(self, deployment: dict[str, Any]) -> bool:
        spec = deployment.get("spec") or {}
        if spec.get("paused"):
            return self._write_deployment_status(deployment, self._replicasets_of(deployment))
        sets = self._replicasets_of(deployment)
        new_rs, _ = self._new_replicaset(deployment, sets)
        old_sets = [rs for rs in sets if rs is not new_rs]
        wanted = int(spec.get("replicas", 1))
        surge, max_unavailable = surge_and_unavailable(deployment)
        strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
        changed = False
        max_revision = max((self._revision(rs) for rs in sets), default=0)

        def replicas_of(rs: dict[str, Any]) -> int:
            return int((rs.get("spec") or {}).get("replicas", 0))

        old_total = sum(replicas_of(rs) for rs in old_sets)
        if new_rs is None:
            if strategy == "Recreate":
                first = 0 if old_total or any(self._owned_pods(rs) for rs in old_sets) else wanted
            elif old_total == 0:
                first = wanted
            else:
                first = max(0, min(wanted + surge - old_total, wanted))
            new_rs = self._create_replicaset(deployment, first, max_revision + 1)
            changed = True
        elif self._revision(new_rs) < max_revision:
            annotations = dict(new_rs["metadata"].get("annotations") or {})
            annotations[REVISION] = str(max_revision + 1)
            new_rs["metadata"] = {**new_rs["metadata"], "annotations": annotations}
            self.store.update(new_rs)
            changed = True

        if strategy == "Recreate":
            for rs in old_sets:
                if replicas_of(rs):
                    changed |= self._scale_rs(deployment, rs, 0)
            old_pods_left = any(self._owned_pods(rs) for rs in old_sets)
            if not old_pods_left and replicas_of(new_rs) != wanted:
                changed |= self._scale_rs(deployment, new_rs, wanted)
        else:
            changed |= self._roll(deployment, new_rs, old_sets, wanted, surge, max_unavailable)
        changed |= self._cleanup(deployment, new_rs, old_sets)
        self._sync_revision(deployment, new_rs)
        sets = self._replicasets_of(deployment)
        return self._write_deployment_status(deployment, sets) or changed

    def _roll(self, deployment: dict[str, Any], new_rs: dict[str, Any],
              old_sets: list[dict[str, Any]], wanted: int, surge: int,
              max_unavailable: int) -> bool:
        def replicas_of(rs: dict[str, Any]) -> int:
            return int((rs.get("spec") or {}).get("replicas", 0))

        def available_of(rs: dict[str, Any]) -> int:
            return int((rs.get("status") or {}).get("availableReplicas") or 0)

        changed = False
        # reconcileNewReplicaSet
        new_count = replicas_of(new_rs)
        if new_count > wanted:
            changed |= self._scale_rs(deployment, new_rs, wanted)
        elif new_count < wanted:
            current = new_count + sum(replicas_of(rs) for rs in old_sets)
            room = wanted + surge - current
            if room > 0:
                changed |= self._scale_rs(
                    deployment, new_rs, new_count + min(room, wanted - new_count)
                )
        else:
            changed |= self._scale_rs(deployment, new_rs, new_count)
        # reconcileOldReplicaSets
        old_count = sum(replicas_of(rs) for rs in old_sets)
        if old_count == 0:
            return changed
        all_count = old_count + replicas_of(new_rs)
        min_available = wanted - max_unavailable
        new_unavailable = replicas_of(new_rs) - available_of(new_rs)
        budget = all_count - min_available - new_unavailable
        if budget <= 0:
            return changed
        ordered = sorted(old_sets, key=lambda rs: (
            rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"]))
        # cleanupUnhealthyReplicas: unavailable old Pods go first.
        for rs in ordered:
            if budget <= 0:
                break
            unhealthy = replicas_of(rs) - available_of(rs)
            if unhealthy <= 0 or replicas_of(rs) == 0:
                continue
            down = min(budget, unhealthy)
            changed |= self._scale_rs(deployment, rs, replicas_of(rs) - down)
            budget -= down
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(available_of(rs) for rs in old_sets) + available_of(new_rs)
        if available <= min_available:
            return changed
        remaining = available - min_available
        for rs in ordered:
            if remaining <= 0:
                break
            if replicas_of(rs) == 0:
                continue
            down = min(replicas_of(rs), remaining)
            changed |= self._scale_rs(deployment, rs, replicas_of(rs) - down)
            remaining -= down
        return changed

    def _cleanup(self, deployment: dict[str, Any], new_rs: dict[str, Any],
                 old_sets: list[dict[str, Any]]) -> bool:
        limit = int((deployment.get("spec") or {}).get("revisionHistoryLimit", 10))
        idle = [
            rs for rs in old_sets
            if int((rs.get("spec") or {}).get("replicas", 0)) == 0
            and not int((rs.get("status") or {}).get("replicas") or 0)
            and not self._owned_pods(rs)
        ]
        if len(idle) <= limit:
            return False
        idle.sort(key=self._revision)
        for rs in idle[: len(idle) - limit]:
            self.store.delete("ReplicaSet", *object_key(rs))
        return True

    def _sync_revision(self, deployment: dict[str, Any], new_rs: dict[str, Any]) -> None:
        revision = str(self._revision(new_rs))
        annotations = dict(deployment["metadata"].get("annotations") or {})
        if annotations.get(REVISION) != revision:
            annotations[REVISION] = revision
            deployment["metadata"] = {**deployment["metadata"], "annotations": annotations}
            self.store.update(deployment)

    def _write_deployment_status(
        self, deployment: dict[str, Any], sets: list[dict[str, Any]]
    ) -> bool:
        spec = deployment.get("spec") or {}
        wanted = int(spec.get("replicas", 1))
        _, max_unavailable = surge_and_unavailable(deployment)
        template = spec.get("template") or {}
        new_rs = next((rs for rs in sets if self._template_without_hash(rs) == template), None)

        def status_of(rs: dict[str, Any], field: str) -> int:
            return int((rs.get("status") or {}).get(field) or 0)

        replicas = sum(status_of(rs, "replicas") for rs in sets)
        updated = status_of(new_rs, "replicas") if new_rs else 0
        ready = sum(status_of(rs, "readyReplicas") for rs in sets)
        available = sum(status_of(rs, "availableReplicas") for rs in sets)
        previous = (deployment.get("status") or {}).get("conditions") or []
        now = self.sim.now
        conditions = []
        if available >= wanted - max_unavailable:
            conditions.append(_condition(
                "Available", "True", "MinimumReplicasAvailable",
                "Deployment has minimum availability.", now, previous))
        else:
            conditions.append(_condition(
                "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.", now, previous))
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        complete = (
            new_rs is not None
            and updated == wanted
            and replicas == wanted
            and available == wanted
            and status_of(new_rs, "availableReplicas") == wanted
        )
        if complete:
            progressing = ("NewReplicaSetAvailable",
                           f'ReplicaSet "{rs_name}" has successfully progressed.')
        else:
            old_progress = next((c for c in previous if c.get("type") == "Progressing"), None)
            if old_progress is None:
                progressing = ("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
            elif (old_progress.get("reason") == "NewReplicaSetCreated"
                  and old_progress.get("message") == f'Created new replica set "{rs_name}"'
                  and self._unchanged_counts(deployment, replicas, updated, ready, available)):
                progressing = ("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
            else:
                progressing = ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        conditions.append(_condition("Progressing", "True", *progressing, now, previous))
        if progressing[0] == "ReplicaSetUpdated":
            # lastUpdateTime moves whenever the rollout makes progress.
            old = next((c for c in previous if c.get("type") == "Progressing"), None)
            if old is not None and not self._unchanged_counts(
                deployment, replicas, updated, ready, available
            ):
                conditions[-1]["lastUpdateTime"] = timestamp(now)
        status: dict[str, Any] = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
        }
        if replicas:
            status["replicas"] = replicas
        if updated:
            status["updatedReplicas"] = updated
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        unavailable = max(0, wanted - available)
        if unavailable:
            status["unavailableReplicas"] = unavailable
        status["conditions"] = conditions
        if status == deployment.get("status"):
            return False
        deployment["status"] = status
        self.store.update(deployment)
        return True

    @staticmethod
    def _unchanged_counts(deployment: dict[str, Any], replicas: int, updated: int, ready: int,
                          available: int) -> bool:
        old = deployment.get("status") or {}
        return (
            int(old.get("replicas") or 0) == replicas
            and int(old.get("updatedReplicas") or 0) == updated
            and int(old.get("readyReplicas") or 0) == ready
            and int(old.get("availableReplicas") or 0) == available
        )

    # --- Job -------------------------------------------------------------------------------

    def _sync_job(self, job: dict[str, Any]) -> bool:
        spec = job.get("spec") or {}
        status = dict(job.get("status") or {})
        conditions = list(status.get("conditions") or [])
        finished = any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in conditions
        )
        pods = self._owned_pods(job)
        now = self.sim.now
        uid = job["metadata"].get("uid") or ""
        active = [p for p in pods if _is_active(p)]
        terminating = [
            p for p in pods
            if (p.get("metadata") or {}).get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed_pods = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
        failed = max(len(failed_pods), int(status.get("failed") or 0))
        if finished:
            return False
        changed = False
        if "startTime" not in status:
            status["startTime"] = timestamp(now)
            deadline = spec.get("activeDeadlineSeconds")
            if deadline is not None:
                self.request_sync(at=now + float(deadline))
        backoff_limit = int(spec.get("backoffLimit", 6))
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1))
        restart_policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        failure: tuple[str, str] | None = None
        if failed_pods:
            last = max(
                (self._finished_at(p) for p in failed_pods), default=now
            )
            record = self._job_backoff.get(uid, (0, 0.0))
            if len(failed_pods) != record[0]:
                self._job_backoff[uid] = (len(failed_pods), last)
        if restart_policy == "OnFailure":
            restarts = sum(_restarts(p) for p in active)
            if (backoff_limit == 0 and restarts > 0) or (
                backoff_limit > 0 and restarts >= backoff_limit
            ):
                failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        if failed > backoff_limit:
            failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        start = _seconds(status.get("startTime"))
        deadline = spec.get("activeDeadlineSeconds")
        if failure is None and deadline is not None and start is not None:
            if now >= start + float(deadline):
                failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
        for condition in conditions:
            if condition.get("type") == "FailureTarget":
                failure = (condition.get("reason") or "", condition.get("message") or "")
        done = completions is not None and succeeded >= int(completions)
        if completions is None and succeeded > 0 and not active:
            done = True
        if any(c.get("type") == "SuccessCriteriaMet" for c in conditions):
            done = True
        if failure is not None:
            if not any(c.get("type") == "FailureTarget" for c in conditions):
                conditions.append(_condition("FailureTarget", "True", *failure, now, None,
                                             probe_time=True))
                self.store.event(job, reason=failure[0], message=failure[1],
                                 component=JOB_CONTROLLER, type="Warning")
                changed = True
            for pod in active:
                self._delete_pod(pod, job, JOB_CONTROLLER)
                failed += 1
                changed = True
            active = []
            still = [p for p in self._owned_pods(job)
                     if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
            if not still:
                conditions.append(_condition("Failed", "True", *failure, now, None,
                                             probe_time=True))
                changed = True
            else:
                for pod in still:
                    grace = (pod.get("metadata") or {}).get("deletionGracePeriodSeconds") or 0
                    self.request_sync(at=now + float(grace))
        elif done:
            for pod in active:
                self._delete_pod(pod, job, JOB_CONTROLLER)
            active = []
            message = "Reached expected number of succeeded pods"
            if not any(c.get("type") == "SuccessCriteriaMet" for c in conditions):
                conditions.append(_condition("SuccessCriteriaMet", "True", "CompletionsReached",
                                             message, now, None, probe_time=True))
                changed = True
            if not terminating:
                conditions.append(_condition("Complete", "True", "CompletionsReached",
                                             message, now, None, probe_time=True))
                status["completionTime"] = timestamp(now)
                self.store.event(job, reason="Completed", message="Job completed",
                                 component=JOB_CONTROLLER)
                changed = True
        else:
            want = parallelism
            if completions is not None:
                want = min(parallelism, int(completions) - succeeded)
            missing = want - len(active) - len(terminating)
            if missing > 0:
                failures, last_failure = self._job_backoff.get(uid, (0, 0.0))
                delay = 0.0
                if failures:
                    delay = min(JOB_MAX_BACKOFF, JOB_BACKOFF * 2 ** (failures - 1))
                if failures and now < last_failure + delay:
                    self.request_sync(at=last_failure + delay)
                else:
                    for _ in range(missing):
                        self._create_pod(job, JOB_CONTROLLER)
                    changed = True
                    pods = self._owned_pods(job)
                    active = [p for p in pods if _is_active(p)]
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if pod_is_ready(p))
        status["terminating"] = len(
            [p for p in self._owned_pods(job)
             if (p.get("metadata") or {}).get("deletionTimestamp")
             and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        )
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["uncountedTerminatedPods"] = {}
        if conditions:
            status["conditions"] = conditions
        for key in ("active", "succeeded", "failed"):
            if not status.get(key):
                status.pop(key, None)
        if status != job.get("status"):
            job["status"] = status
            self.store.update(job)
            changed = True
        return changed

    @staticmethod
    def _finished_at(pod: dict[str, Any]) -> float:
        latest = 0.0
        status = pod.get("status") or {}
        for group in ("initContainerStatuses", "containerStatuses"):
            for cs in status.get(group) or []:
                terminated = (cs.get("state") or {}).get("terminated") or {}
                moment = _seconds(terminated.get("finishedAt"))
                if moment is not None:
                    latest = max(latest, moment)
        return latest


def _controlled_by_job(pod: dict[str, Any]) -> bool:
    """True when the Pod's controller (its owner reference with ``controller: true``) is a
    Job."""
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind") == "Job"
    return False


__all__ = [
    "HASH_LABEL",
    "ControllerManager",
    "fnv32a",
    "resolve_percent",
    "safe_encode",
    "surge_and_unavailable",
    "template_hash",
]

