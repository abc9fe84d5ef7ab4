"""Requests, limits and what the kubelet does with them (reference §9).

* :func:`effective_requests`: the Pod's request per resource, as the scheduler and the
  eviction manager count it (init containers, sidecars and app containers).
* :func:`resource_field_value`: ``resourceFieldRef`` for env and downwardAPI volumes.
* :func:`memory_eviction_order` and :func:`eviction_messages`: the eviction manager's ranking
  under memory pressure and the messages the kubelet writes to an evicted Pod.

Memory over a container's limit is the kernel's business (an OOM kill in ``runtime.py``);
CPU limits only slow CPU work down (``ContainerInstance.cpu_share``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podlab.engine.core.quantity import QuantityError, cpu_millicores, memory_bytes

#: ``--eviction-hard`` defaults of the kubelet for memory.
MEMORY_AVAILABLE_THRESHOLD = 100 * 1024 * 1024
MEMORY_THRESHOLD_TEXT = "100Mi"
#: The eviction manager's ``--housekeeping-interval`` / monitoring period.
EVICTION_INTERVAL = 10.0


def quantity(container: dict[str, Any], kind: str, name: str) -> int | None:
    """``resources.<kind>.<name>`` in millicores (cpu) or bytes, None when unset or bad."""
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        return None
    try:
        return cpu_millicores(value) if name == "cpu" else memory_bytes(value)
    except (QuantityError, ValueError, TypeError):
        return None


def request(container: dict[str, Any], name: str) -> int:
    """The request after defaulting (a limit without a request is the request)."""
    value = quantity(container, "requests", name)
    if value is None:
        value = quantity(container, "limits", name)
    return value or 0


def effective_requests(spec: dict[str, Any], name: str) -> int:
    """``max(init peak, sum of app containers + sidecars)``; a regular init container runs
    next to the sidecars started before it."""
    sidecars = 0
    init_peak = 0
    for container in spec.get("initContainers") or []:
        value = request(container, name)
        if container.get("restartPolicy") == "Always":
            sidecars += value
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + value)
    apps = sum(request(c, name) for c in spec.get("containers") or []) + sidecars
    return max(init_peak, apps)


def resource_field_value(
    ref: dict[str, Any],
    containers: Sequence[dict[str, Any]],
    default_container: str,
    node_allocatable: dict[str, int],
) -> str:
    """``resourceFieldRef``: the value divided by ``divisor`` and rounded up; an unset limit
    reads as the node's allocatable."""
    resource = str(ref.get("resource", ""))
    target = ref.get("containerName") or default_container
    container = next((c for c in containers if c.get("name") == target), {})
    kind, _, name = resource.partition(".")
    base = name.removeprefix("hugepages-") if name.startswith("hugepages-") else name
    value = quantity(container, kind, base)
    if value is None and kind == "requests":
        value = quantity(container, "limits", base)
    if value is None:
        value = node_allocatable.get(base, 0) if kind == "limits" else 0
    divisor_text = ref.get("divisor")
    try:
        if base == "cpu":
            divisor = cpu_millicores(divisor_text) if divisor_text else 1000
        else:
            divisor = memory_bytes(divisor_text) if divisor_text else 1
    except (QuantityError, ValueError, TypeError):
        divisor = 1000 if base == "cpu" else 1
    return str(math.ceil(value / max(divisor, 1)))


@dataclass(slots=True)
class PodUsage:
    """What the eviction manager knows about one Pod."""

    key: object
    memory: int  # bytes in use by its containers
    memory_request: int
    priority: int
    biggest: tuple[str, int, int]  # (container, usage, request) of its biggest user


def memory_eviction_order(pods: Sequence[PodUsage]) -> list[PodUsage]:
    """``rankMemoryPressure``: Pods using more than they requested first, then lower
    priority, then the largest use above the request (BestEffort Pods come first because
    any use exceeds a zero request)."""

    def key(p: PodUsage) -> tuple[int, int, int]:
        exceeds = p.memory > p.memory_request
        return (0 if exceeds else 1, p.priority, -(p.memory - p.memory_request))

    return sorted(pods, key=key)


def kibibytes(value: int) -> str:
    """Whole KiB, truncated toward zero (an overcommitted node reports a negative figure)."""
    return f"{int(value / 1024)}Ki"


def format_request(value: int) -> str:
    """A request the way a Quantity prints it in the eviction message."""
    if value == 0:
        return "0"
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def memory_pressure_message(available: int, pod: PodUsage) -> str:
    name, usage, req = pod.biggest
    return (
        "The node was low on resource: memory. "
        f"Threshold quantity: {MEMORY_THRESHOLD_TEXT}, available: {kibibytes(available)}. "
        f"Container {name} was using {kibibytes(usage)}, request is {format_request(req)}, "
        "has larger consumption of memory. "
    )


def container_storage_message(name: str, limit: str) -> str:
    return f'Container {name} exceeded its local ephemeral storage limit "{limit}". '


def empty_dir_message(volume: str, limit: str) -> str:
    return f'Usage of EmptyDir volume "{volume}" exceeds the limit "{limit}". '


__all__ = [
    "EVICTION_INTERVAL",
    "MEMORY_AVAILABLE_THRESHOLD",
    "PodUsage",
    "container_storage_message",
    "effective_requests",
    "empty_dir_message",
    "memory_eviction_order",
    "memory_pressure_message",
    "quantity",
    "request",
    "resource_field_value",
]
