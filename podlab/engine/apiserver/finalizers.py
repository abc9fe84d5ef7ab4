"""Finalizers on Pods: the API server keeps a deleted object while ``metadata.finalizers``
lists anything.

Upstream (Kubernetes 1.34):

* The kubelet ends a graceful deletion with a second DELETE, grace period 0, once the
  containers are gone (status_manager ``syncPod``: ``metav1.NewDeleteOptions(0)``).
  ``rest.BeforeDelete`` (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go) moves
  ``deletionTimestamp`` to the request time plus 0 s, but never into the past: it becomes *now*,
  and ``deletionGracePeriodSeconds`` becomes 0.
* With finalizers pending, the generic store only updates the object
  (``updateForGracefulDeletionAndFinalizers`` in registry/generic/registry/store.go); it is
  removed when an update leaves ``finalizers`` empty while ``deletionGracePeriodSeconds`` is 0
  (``shouldDeleteDuringUpdate``).
* While an object is being deleted no finalizer may be added:
  ``ValidateNoNewFinalizers`` in apimachinery/pkg/api/validation/objectmeta.go says
  ``no new finalizers can be added if the object is being deleted, found new finalizers
  []string{"..."}`` on ``metadata.finalizers``.

kubectl shows such a Pod as ``Terminating`` only while its phase is not terminal
(``printPod`` in pkg/printers/internalversion/printers.go); once the containers have stopped
and the phase is Failed or Succeeded it shows the container's reason (``Error``,
``Completed``) and the object stays until the finalizer is removed.
"""

from __future__ import annotations

from typing import Any

NEW_FINALIZERS = "no new finalizers can be added if the object is being deleted"


def pending(pod: dict[str, Any]) -> list[str]:
    """The finalizers that still hold ``pod``."""
    return [str(f) for f in (pod.get("metadata") or {}).get("finalizers") or [] if f]


def held_metadata(meta: dict[str, Any], now_stamp: str) -> dict[str, Any]:
    """``meta`` after the final DELETE (grace 0) of an object whose finalizers hold it."""
    out = dict(meta)
    out["deletionTimestamp"] = now_stamp
    out["deletionGracePeriodSeconds"] = 0
    return out


def go_quoted(names: list[str]) -> str:
    """``%#v`` of a Go ``[]string``."""
    return "[]string{" + ", ".join('"' + n.replace('"', '\\"') + '"' for n in names) + "}"


def added_while_deleting(old: dict[str, Any], new_meta: dict[str, Any]) -> list[str]:
    """Finalizers ``new_meta`` adds to ``old`` (a Pod being deleted), sorted as sets.List."""
    if not (old.get("metadata") or {}).get("deletionTimestamp"):
        return []
    before = set(pending(old))
    return sorted({str(f) for f in new_meta.get("finalizers") or [] if f} - before)
