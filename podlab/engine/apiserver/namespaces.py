"""Namespaces, ServiceAccounts and the API server's admission of namespaced objects.

* **NamespaceLifecycle** (``apiserver/pkg/admission/plugin/namespace/lifecycle``): creating a
  namespaced object in a namespace that does not exist is ``NotFound`` (``namespaces "x" not
  found``); in a namespace being deleted it is ``Forbidden`` (``unable to create new content
  in namespace x because it is being terminated``); ``default``, ``kube-system`` and
  ``kube-public`` may not be deleted (``this namespace may not be deleted``).
* **ServiceAccount admission** (``plugin/pkg/admission/serviceaccount``): a new Pod that is not
  a mirror Pod must name an existing ServiceAccount of its namespace (``default`` when it
  names none), else ``Forbidden``: ``error looking up service account NS/NAME:
  serviceaccount "NAME" not found``.
* The **service account controller** gives every namespace its ``default`` ServiceAccount;
  the **namespace controller** deletes a deleted namespace's content (Pods gracefully, with
  their own grace periods) and removes the namespace once no Pod is left.

Refusals are problems shaped like the others ``Simulation.apply`` returns: a Kubernetes
status reason as ``code``, the API server's message, and kubectl's line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Protocol

#: the namespaces a new cluster has (kubeadm), in ``kubectl get namespaces`` order
INITIAL = ("default", "kube-node-lease", "kube-public", "kube-system")
#: lifecycle admission's immortal namespaces
IMMORTAL = frozenset({"default", "kube-system", "kube-public"})
CLUSTER_SCOPED = frozenset({"Namespace", "Node"})
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

_RESOURCES = {"Pod": "pods", "Service": "services", "Deployment": "deployments",
              "ReplicaSet": "replicasets", "Job": "jobs", "ConfigMap": "configmaps",
              "Secret": "secrets", "PersistentVolumeClaim": "persistentvolumeclaims",
              "ServiceAccount": "serviceaccounts"}


class _Store(Protocol):
    def remove_namespace(self, namespace: str) -> None: ...


class _Controllers(Protocol):
    def request_sync(self, at: float | None = None) -> None: ...


class Cluster(Protocol):
    """What the namespace controller and admission use of the cluster that builds them."""

    store: _Store
    controllers: _Controllers

    @property
    def now(self) -> float: ...

    def _new_uid(self) -> str: ...

    def pods(self) -> list[dict[str, Any]]: ...

    def pod_views(self) -> Iterable[dict[str, Any]]: ...

    def list_objects(self, kind: str) -> list[dict[str, Any]]: ...

    def delete_object(self, target: str, *, namespace: str = "default") -> bool: ...

    def delete_pod(self, name: str, *, namespace: str = "default",
                   grace_period: float | None = None) -> bool: ...


class AdmissionError(Exception):
    """An object the API server's admission refused; ``problem`` as ``apply`` returns it."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["message"])
        self.problem = problem


def _refusal(reason: str, message: str, *, filename: str, **detail: Any) -> dict[str, Any]:
    return {
        "path": "metadata.namespace",
        "code": reason,
        "message": message,
        "detail": detail,
        "kubectl": f'Error from server ({reason}): error when creating "{filename}": {message}',
    }


def not_found(namespace: str, *, filename: str = "lab.yaml") -> dict[str, Any]:
    return _refusal("NotFound", f'namespaces "{namespace}" not found', filename=filename,
                    namespace=namespace)


class Namespaces:
    """The cluster's Namespaces and ServiceAccounts, and the admission checks that use them."""

    def __init__(self, sim: Cluster) -> None:
        self._sim = sim
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._accounts: dict[tuple[str, str], dict[str, Any]] = {}
        for name in INITIAL:
            self._create({"metadata": {"name": name}})

    # --- reading ---------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        return name in self._namespaces

    def phase(self, name: str) -> str | None:
        found = self._namespaces.get(name)
        return None if found is None else str(found["status"]["phase"])

    def list(self, kind: str) -> list[dict[str, Any]]:
        """Copies of the Namespaces (by name) or ServiceAccounts (by namespace, name)."""
        if kind == "Namespace":
            return [copy.deepcopy(self._namespaces[n]) for n in sorted(self._namespaces)]
        return [copy.deepcopy(self._accounts[k]) for k in sorted(self._accounts)]

    def account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._accounts.get((namespace, name))

    # --- writing ---------------------------------------------------------------------------

    def _create(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = dict(obj.get("metadata") or {})
        name = str(meta.get("name", ""))
        meta.pop("namespace", None)  # cluster-scoped: the API server drops it
        meta["uid"] = meta.get("uid") or self._sim._new_uid()  # noqa: SLF001 - one id source
        meta["creationTimestamp"] = _timestamp(self._sim.now)
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        self._namespaces[name] = namespace
        # the service account controller: every namespace has its "default" account
        self._put_account({"metadata": {"name": "default", "namespace": name}})
        return namespace

    def _put_account(self, obj: dict[str, Any]) -> None:
        meta = dict(obj.get("metadata") or {})
        namespace = str(meta.get("namespace") or "default")
        meta["namespace"] = namespace
        key = (namespace, str(meta.get("name", "")))
        old = self._accounts.get(key)
        if old is not None:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
        else:
            meta["uid"] = meta.get("uid") or self._sim._new_uid()  # noqa: SLF001
            meta["creationTimestamp"] = _timestamp(self._sim.now)
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
        for field in ("secrets", "imagePullSecrets", "automountServiceAccountToken"):
            if field in obj:
                account[field] = copy.deepcopy(obj[field])
        self._accounts[key] = account

    def apply(self, obj: dict[str, Any], *, filename: str = "lab.yaml") -> list[dict[str, Any]]:
        """``kubectl apply`` of a Namespace or a ServiceAccount; returns refusals."""
        meta = obj.get("metadata") or {}
        name = str(meta.get("name", ""))
        if obj.get("kind") == "Namespace":
            current = self._namespaces.get(name)
            if current is None:
                self._create(obj)
            else:  # labels and annotations change; the phase is the server's
                new_meta = dict(current["metadata"])
                labels = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
                new_meta["labels"] = labels
                if "annotations" in meta:
                    new_meta["annotations"] = dict(meta["annotations"])
                current["metadata"] = new_meta
            return []
        namespace = str(meta.get("namespace") or "default")
        refused = self.admit_namespace(namespace, kind="ServiceAccount", name=name,
                                       filename=filename,
                                       creating=self.account(namespace, name) is None)
        if refused is not None:
            return [refused]
        self._put_account(obj)
        self._sim.controllers.request_sync()  # a ReplicaSet waiting for it creates its Pods
        return []

    # --- admission -------------------------------------------------------------------------

    def admit_namespace(self, namespace: str, *, kind: str, name: str, filename: str,
                        creating: bool = True) -> dict[str, Any] | None:
        """NamespaceLifecycle for creating ``kind``/``name`` in ``namespace``."""
        if not creating or kind in CLUSTER_SCOPED:
            return None
        found = self._namespaces.get(namespace)
        if found is None:
            return not_found(namespace, filename=filename)
        if found["status"]["phase"] == "Terminating":
            resource = _RESOURCES.get(kind, kind.lower() + "s")
            return _refusal(
                "Forbidden",
                f'{resource} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated",
                filename=filename, namespace=namespace)
        return None

    def admit_pod(self, pod: dict[str, Any], *, filename: str = "lab.yaml"
                  ) -> dict[str, Any] | None:
        """Both admission checks for a new Pod; None when it is admitted."""
        meta = pod.get("metadata") or {}
        namespace = str(meta.get("namespace") or "default")
        name = str(meta.get("name", ""))
        refused = self.admit_namespace(namespace, kind="Pod", name=name, filename=filename)
        if refused is not None:
            return refused
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            return None
        spec = pod.get("spec") or {}
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if self.account(namespace, account) is None:
            return _refusal(
                "Forbidden",
                f'pods "{name}" is forbidden: error looking up service account '
                f'{namespace}/{account}: serviceaccount "{account}" not found',
                filename=filename, namespace=namespace, serviceAccount=account)
        return None

    def admit(self, obj: dict[str, Any], *, creating: bool, filename: str = "lab.yaml"
              ) -> dict[str, Any] | None:
        """Admission for any object ``apply`` creates (Pods get both checks)."""
        if not creating:
            return None
        if obj.get("kind", "Pod") == "Pod":
            return self.admit_pod(obj, filename=filename)
        meta = obj.get("metadata") or {}
        return self.admit_namespace(str(meta.get("namespace") or "default"),
                                    kind=str(obj.get("kind")), name=str(meta.get("name", "")),
                                    filename=filename)

    # --- deletion --------------------------------------------------------------------------

    def delete(self, name: str) -> dict[str, Any] | None:
        """``kubectl delete namespace NAME``: None when accepted, else the refusal (kubectl's
        line in ``kubectl``). The namespace turns Terminating, its content is deleted, and it
        goes when its last Pod is gone."""
        found = self._namespaces.get(name)
        if found is None:
            message = f'namespaces "{name}" not found'
            return {"code": "NotFound", "message": message, "path": "metadata.name",
                    "detail": {}, "kubectl": f"Error from server (NotFound): {message}"}
        if name in IMMORTAL:
            message = f'namespaces "{name}" is forbidden: this namespace may not be deleted'
            return {"code": "Forbidden", "message": message, "path": "metadata.name",
                    "detail": {}, "kubectl": f"Error from server (Forbidden): {message}"}
        if found["status"]["phase"] == "Terminating":
            return None
        meta = dict(found["metadata"])
        meta["deletionTimestamp"] = _timestamp(self._sim.now)
        found["metadata"] = meta
        found["status"] = {"phase": "Terminating"}
        self._delete_content(name)
        self.pod_gone(name)
        return None

    def _delete_content(self, namespace: str) -> None:
        sim = self._sim
        for kind, resource in (("Deployment", "deployment"), ("ReplicaSet", "replicaset"),
                               ("Job", "job"), ("Service", "service")):
            for obj in sim.list_objects(kind):
                meta = obj.get("metadata") or {}
                if (meta.get("namespace") or "default") == namespace:
                    sim.delete_object(f"{resource}/{meta['name']}", namespace=namespace)
        for pod in sim.pods():
            meta = pod.get("metadata") or {}
            if (meta.get("namespace") or "default") == namespace:
                sim.delete_pod(str(meta["name"]), namespace=namespace)
        sim.store.remove_namespace(namespace)
        for key in [k for k in self._accounts if k[0] == namespace]:
            del self._accounts[key]

    def pod_gone(self, namespace: str) -> None:
        """A Pod was removed: a Terminating namespace without Pods goes."""
        found = self._namespaces.get(namespace)
        if found is None or found["status"]["phase"] != "Terminating":
            return
        if any((p.get("metadata") or {}).get("namespace", "default") == namespace
               for p in self._sim.pod_views()):
            return
        del self._namespaces[namespace]


def _timestamp(seconds: float) -> str:
    from podlab.engine.core.version import timestamp

    return timestamp(seconds)


__all__ = ["CLUSTER_SCOPED", "IMMORTAL", "INITIAL", "AdmissionError", "Namespaces",
           "not_found"]
