"""The API server as the other components see it: the interfaces they read and write through.

A component is handed the cluster it runs in (``simulation.Simulation`` is the one the engine
builds) and uses only what these protocols name, so no component imports the simulation that
assembles them: the store, the controllers and the kubelet depend on the API server, never on
each other's owner (the upstream components talk to ``kube-apiserver`` through client-go in
the same way).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from podlab.engine.apiserver.objects import ApiObjects, Record
    from podlab.engine.core.events import EventRecorder
    from podlab.engine.core.loop import EventLoop


class Timeline(Protocol):
    """The clock, the seed and the ordered record of changes every stored object joins."""

    seed: int
    records: list[Record]
    recorder: EventRecorder

    @property
    def now(self) -> float: ...

    def _next_version(self) -> int:
        """The next resourceVersion (one counter for Pods, objects and Events)."""
        ...


class PodStore(Protocol):
    """Pods and the other stored objects, as the controllers read and write them."""

    seed: int
    loop: EventLoop
    objects: ApiObjects

    @property
    def now(self) -> float: ...

    def pod_view(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        """The stored Pod itself: read only."""
        ...

    def pod_views(self) -> Iterable[dict[str, Any]]:
        """Every stored Pod: read only, not kept past the current instant."""
        ...

    def owned_pod_views(self, namespace: str, uid: str | None) -> list[dict[str, Any]]:
        """The stored Pods whose controller has ``uid``: read only."""
        ...

    def has_pod(self, name: str, namespace: str = "default") -> bool: ...

    def create_pod(self, pod: dict[str, Any]) -> None:
        """Create a validated, defaulted Pod the caller hands over."""
        ...

    def delete_pod(
        self, name: str, *, namespace: str = "default", grace_period: float | None = None
    ) -> bool:
        """Delete a Pod gracefully (``grace_period=None``: the Pod's own)."""
        ...
