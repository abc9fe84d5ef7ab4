"""The API server's store for the objects that are not Pods: Services, EndpointSlices,
Endpoints, Deployments, ReplicaSets and Jobs.

Every change bumps the simulation's resourceVersion and appends a ``Record`` (``ADDED``,
``MODIFIED``, ``DELETED``) to ``sim.records``, exactly as Pod changes do, so ``podsim -o
jsonl`` and the lab see one timeline. Objects are kept as plain v1 dicts; readers get deep
copies. Also here: label selectors and owner references, which the Service and controller
code share.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from podlab.engine.apiserver.defaults import deterministic_uid
from podlab.engine.core.version import timestamp

if TYPE_CHECKING:
    from podlab.engine.apiserver.store import Timeline


class Record:
    """One line of the timeline, as a watch delivers it: a change of a stored object (Pod, Node,
    Service, ...) or an event; ``object`` is built on demand."""

    __slots__ = ("_make", "_object", "kind", "t", "type")

    def __init__(self, t: float, kind: str, type: str, make: Callable[[], dict[str, Any]]) -> None:
        self.t = t
        self.kind = kind
        self.type = type
        self._make: Callable[[], dict[str, Any]] | None = make
        self._object: dict[str, Any] | None = None

    @property
    def object(self) -> dict[str, Any]:
        if self._object is None and self._make is not None:
            self._object = self._make()
            self._make = None
        return self._object if self._object is not None else {}

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "kind": self.kind, "type": self.type, "object": self.object}

    def __repr__(self) -> str:
        return f"Record(t={self.t!r}, kind={self.kind!r}, type={self.type!r})"


#: The order ``kubectl get all`` lists kinds in (Pods come first and are not kept here).
KIND_ORDER = ("Service", "Deployment", "ReplicaSet", "Job", "EndpointSlice", "Endpoints")

API_VERSIONS: dict[str, str] = {
    "Service": "v1",
    "Endpoints": "v1",
    "EndpointSlice": "discovery.k8s.io/v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
}

Key = tuple[str, str]


def object_key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "default", meta.get("name") or "")


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, Any] | None) -> bool:
    """A ``metav1.LabelSelector`` (matchLabels and matchExpressions) against ``labels``.

    An empty selector matches everything, as ``LabelSelectorAsSelector`` makes it.
    """
    labels = labels or {}
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = list(expression.get("values") or [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def map_selector_matches(selector: dict[str, Any] | None, labels: dict[str, Any] | None) -> bool:
    """A Service's plain ``spec.selector`` map; an empty map selects nothing here (the
    caller treats a Service without a selector as one whose endpoints are managed by hand)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(key) == value for key, value in selector.items())


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    """The controller reference a controller puts on what it creates."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion") or API_VERSIONS.get(owner.get("kind") or "", "v1"),
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": owner.get("kind") or "",
        "name": meta.get("name") or "",
        "uid": meta.get("uid") or "",
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    """The uid of the object's controller (the owner reference with ``controller: true``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            uid = ref.get("uid")
            return str(uid) if uid else None
    return None


def owner_key(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, controller uid) of an owned object, the key of the owner indexes."""
    meta = obj.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            uid = ref.get("uid")
            return (meta.get("namespace") or "default", str(uid)) if uid else None
    return None


class ApiObjects:
    """Objects by kind, then by (namespace, name), with the timeline records."""

    def __init__(self, sim: Timeline) -> None:
        self._sim = sim
        self._objects: dict[str, dict[Key, dict[str, Any]]] = {k: {} for k in KIND_ORDER}
        self._uids = 0

    def new_uid(self, namespace: str, name: str) -> str:
        """A uid for an object created in the simulation (reproducible for a seed)."""
        self._uids += 1
        return deterministic_uid(
            seed=f"objects/{self._sim.seed}", index=self._uids, namespace=namespace, name=name
        )

    def _record(self, kind: str, type: str, obj: dict[str, Any]) -> None:
        meta = dict(obj.get("metadata") or {})
        meta["resourceVersion"] = str(self._sim._next_version())
        obj["metadata"] = meta
        snapshot = copy.deepcopy(obj)
        self._sim.records.append(Record(self._sim.now, kind, type, lambda: snapshot))

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object itself (callers that change it must call ``update``)."""
        return self._objects[kind].get((namespace, name))

    def items(self, kind: str) -> list[dict[str, Any]]:
        """The stored objects of ``kind`` in the API server's list order (namespace, name)."""
        table = self._objects[kind]
        return [table[key] for key in sorted(table)]

    def list(self, kind: str) -> list[dict[str, Any]]:
        """Copies of the objects of ``kind``, as ``kubectl get`` receives them."""
        return [copy.deepcopy(obj) for obj in self.items(kind)]

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object; sets apiVersion, creationTimestamp and generation."""
        kind = obj["kind"]
        obj.setdefault("apiVersion", API_VERSIONS[kind])
        meta = dict(obj.get("metadata") or {})
        meta.setdefault("namespace", "default")
        meta["creationTimestamp"] = timestamp(self._sim.now)
        if kind in ("Deployment", "ReplicaSet", "Job"):
            meta["generation"] = 1
        obj["metadata"] = meta
        self._objects[kind][object_key(obj)] = obj
        self._record(kind, "ADDED", obj)
        return obj

    def update(self, obj: dict[str, Any], *, spec_changed: bool = False) -> None:
        """Record a change of a stored object (``spec_changed`` bumps ``generation``)."""
        if spec_changed:
            meta = dict(obj.get("metadata") or {})
            meta["generation"] = int(meta.get("generation") or 0) + 1
            obj["metadata"] = meta
        self._record(obj["kind"], "MODIFIED", obj)

    def delete(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects[kind].pop((namespace, name), None)
        if obj is not None:
            self._record(kind, "DELETED", obj)
        return obj

    def event(
        self,
        obj: dict[str, Any],
        *,
        reason: str,
        message: str,
        component: str,
        type: str = "Normal",
    ) -> None:
        """An event about ``obj`` from a controller (aggregated like every other event)."""
        meta = obj.get("metadata") or {}
        self._sim.recorder.record(
            pod=meta.get("name") or "",
            namespace=meta.get("namespace") or "default",
            uid=meta.get("uid") or "",
            reason=reason,
            message=message,
            type=type,
            component=component,
            kind=obj.get("kind") or "",
            api_version=obj.get("apiVersion") or "",
        )


__all__ = [
    "API_VERSIONS",
    "KIND_ORDER",
    "ApiObjects",
    "controller_uid",
    "map_selector_matches",
    "object_key",
    "owner_key",
    "owner_reference",
    "selector_matches",
]
