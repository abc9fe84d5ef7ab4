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

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from podlab.engine.apiserver.kubeletconfig import (
    SIGNAL_IMAGEFS,
    SIGNAL_IMAGEFS_INODES,
    SIGNAL_MEMORY,
    SIGNAL_NODEFS,
    SIGNAL_NODEFS_INODES,
    SIGNAL_PID,
    Threshold,
    ThresholdError,
    binary_quantity,
    float32,
    parse_eviction_hard,
)
from podlab.engine.core.quantity import (
    Quantity,
    QuantityError,
    cpu_millicores,
    memory_bytes,
    parse_quantity,
)

#: ``--eviction-hard`` defaults of the kubelet for memory.
MEMORY_AVAILABLE_THRESHOLD = 100 * 1024 * 1024
MEMORY_THRESHOLD_TEXT = "100Mi"
#: ``--eviction-hard`` default for the node file system: ``nodefs.available<10%``.
NODEFS_AVAILABLE_PERCENT = 10
#: ``--eviction-hard`` default for the image file system: ``imagefs.available<15%``. On a
#: node with one disk the image store is on the node's file system, so both signals
#: observe the same disk and this one is crossed first.
IMAGEFS_AVAILABLE_PERCENT = 15
#: ``--eviction-hard`` defaults for inodes (pkg/kubelet/eviction/defaults_linux.go):
#: ``nodefs.inodesFree<5%`` and ``imagefs.inodesFree<5%``. Upstream has no default for
#: ``pid.available`` on Linux: the signal is observed, and acts only when configured.
NODEFS_INODES_FREE_PERCENT = 5
IMAGEFS_INODES_FREE_PERCENT = 5
#: The kubelet's default ``evictionHard`` (``DefaultEvictionHard``), as statements. Setting
#: ``evictionHard`` replaces the whole map: signals left out have no threshold.
DEFAULT_EVICTION_HARD = (
    "memory.available<100Mi",
    "nodefs.available<10%",
    "nodefs.inodesFree<5%",
    "imagefs.available<15%",
    "imagefs.inodesFree<5%",
)
#: The eviction manager's ``--housekeeping-interval`` / monitoring period.
EVICTION_INTERVAL = 10.0
#: ``evictionPressureTransitionPeriod``: a pressure condition stays True this long after its
#: threshold was last seen crossed.
PRESSURE_TRANSITION_PERIOD = 300.0
#: The image garbage collector never deletes an image detected less than this long ago
#: (``imageMinimumGCAge``).
IMAGE_MINIMUM_GC_AGE = 120.0
#: The image garbage collector looks every 5 minutes; at or past 85 % disk usage it frees
#: unused images down to 80 % (``imageGCHighThresholdPercent``/``LowThresholdPercent``).
IMAGE_GC_PERIOD = 300.0
IMAGE_GC_HIGH_PERCENT = 85
IMAGE_GC_LOW_PERCENT = 80
#: The node condition each signal reports and the resource the kubelet reclaims.
MEMORY_PRESSURE = "MemoryPressure"
DISK_PRESSURE = "DiskPressure"
PID_PRESSURE = "PIDPressure"
#: The node conditions in the order the node status lists them.
PRESSURE_CONDITIONS = (MEMORY_PRESSURE, DISK_PRESSURE, PID_PRESSURE)
SIGNAL_CONDITION = {
    SIGNAL_MEMORY: MEMORY_PRESSURE,
    SIGNAL_NODEFS: DISK_PRESSURE,
    SIGNAL_IMAGEFS: DISK_PRESSURE,
    SIGNAL_NODEFS_INODES: DISK_PRESSURE,
    SIGNAL_IMAGEFS_INODES: DISK_PRESSURE,
    SIGNAL_PID: PID_PRESSURE,
}
#: ``signalToResource``: what the ``EvictionThresholdMet`` event and the eviction message
#: name (``resourceInodes`` is "inodes", ``resourcePids`` "pids").
SIGNAL_RESOURCE = {
    SIGNAL_MEMORY: "memory",
    SIGNAL_NODEFS: "ephemeral-storage",
    SIGNAL_IMAGEFS: "ephemeral-storage",
    SIGNAL_NODEFS_INODES: "inodes",
    SIGNAL_IMAGEFS_INODES: "inodes",
    SIGNAL_PID: "pids",
}
#: The order the eviction manager looks at crossed thresholds in. ``byEvictionPriority``
#: only puts memory first; the rest follow the configuration map, whose order Go does not
#: fix: PodLab uses this one.
SIGNAL_ORDER = (
    SIGNAL_MEMORY,
    SIGNAL_IMAGEFS,
    SIGNAL_NODEFS,
    SIGNAL_NODEFS_INODES,
    SIGNAL_IMAGEFS_INODES,
    SIGNAL_PID,
)
DISK_SIGNALS = frozenset({SIGNAL_NODEFS, SIGNAL_IMAGEFS})
INODE_SIGNALS = frozenset({SIGNAL_NODEFS_INODES, SIGNAL_IMAGEFS_INODES})
#: ext4's default ``inode_ratio`` (mke2fs.conf, file systems of 512 MiB and more): one inode
#: per 16 KiB of disk, so the node file system's inode count follows from its size.
BYTES_PER_INODE = 16384
#: ``kernel.pid_max`` on a 64-bit node whose systemd raised it (the kernel's PID_MAX_LIMIT).
PID_MAX = 4194304
#: ``kernel.threads-max`` is what the kernel sets at boot: total RAM / (8 * THREAD_SIZE),
#: THREAD_SIZE being 16 KiB on x86-64. The kubelet's MaxPID is the smaller of the two
#: (pkg/kubelet/stats/pidlimit/pidlimit_linux.go).
THREAD_MEMORY_BYTES = 8 * 16 * 1024
#: The node's operating system on its root file system, which is the kubelet's nodefs
#: (Ubuntu 24.04 server with containerd and the kubelet, its journal and package caches):
#: PodLab's figures for a freshly provisioned node, not an upstream constant.
OS_DISK_BYTES = 2560 * 1024 * 1024
OS_INODES = 70000
#: Tasks (processes and threads, ``/proc/loadavg``'s count) the node runs besides the Pods:
#: kernel threads, systemd and its services, containerd, the kubelet (PodLab's figure).
OS_TASKS = 300
#: Pods at or above this priority (``system-cluster-critical``) are critical: admitted
#: under pressure and never evicted.
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000


def percent_threshold(capacity: int, percent: int) -> int:
    """``GetThresholdQuantity`` for a percentage: the kubelet parses ``10%`` into a float32
    fraction and multiplies the capacity by it in float64, so 10 % of 1Gi is 107374184
    bytes, not 107374182."""
    fraction = float32(float32(float(percent)) / float32(100.0))
    return int(float(capacity) * fraction)


@functools.lru_cache(maxsize=64)
def disk_thresholds(capacity: int) -> tuple[tuple[str, int], ...]:
    """The hard disk thresholds in bytes for a node file system of ``capacity`` bytes,
    ``imagefs.available`` first (the higher one: crossed first on a single disk)."""
    return (
        (SIGNAL_IMAGEFS, percent_threshold(capacity, IMAGEFS_AVAILABLE_PERCENT)),
        (SIGNAL_NODEFS, percent_threshold(capacity, NODEFS_AVAILABLE_PERCENT)),
    )


def max_pid(memory_capacity: int) -> int:
    """``rlimit.MaxPID``: the smaller of ``kernel.pid_max`` and ``kernel.threads-max``."""
    threads = max(20, memory_capacity // THREAD_MEMORY_BYTES) if memory_capacity > 0 else PID_MAX
    return min(PID_MAX, threads)


DEFAULT_THRESHOLDS = parse_eviction_hard(DEFAULT_EVICTION_HARD)


def decimal_quantity(value: int) -> str:
    """``resource.NewQuantity(value, DecimalSI).String()`` (``5000`` is ``5k``)."""
    return Quantity(Fraction(value), "DecimalSI").canonical()


def node_low_message(resource: str, threshold: str, available: str) -> str:
    """``evictionMessage`` for a resource whose containers are not named (inodes, pids):
    only memory and ephemeral-storage list the containers over their requests."""
    return (
        f"The node was low on resource: {resource}. "
        f"Threshold quantity: {threshold}, available: {available}. "
    )


def free_disk_space_failed_message(amount: int, freed: int) -> str:
    """The image garbage collector's error (``FreeDiskSpaceFailed``, ``ImageGCFailed``)."""
    return (
        f"Failed to garbage collect required amount of images. Attempted to free {amount} "
        f"bytes, but only found {freed} bytes eligible to free."
    )


def admit_message(conditions: Sequence[str]) -> str:
    """``nodeConditionMessageFmt``: the eviction manager refuses a Pod under pressure."""
    return f"The node had condition: [{' '.join(conditions)}]. "


def quantity(container: dict[str, Any], kind: str, name: str) -> int | None:
    """``resources.<kind>.<name>`` in millicores (cpu) or bytes, None when unset or bad."""
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        return None
    try:
        return cpu_millicores(value) if name == "cpu" else memory_bytes(value)
    except (QuantityError, ValueError, TypeError):
        return None


def limit_quantity(container: dict[str, Any], name: str) -> Quantity | None:
    """``resources.limits.<name>`` as a Quantity (it prints the way the kubelet's does)."""
    value = ((container.get("resources") or {}).get("limits") or {}).get(name)
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except (QuantityError, ValueError, TypeError):
        return None


def pod_limit(spec: dict[str, Any], name: str) -> Quantity | None:
    """``resourcehelper.PodLimits`` for one resource: the sum of the app containers' (and
    sidecars') limits, at least any regular init container's (with the sidecars started
    before it); None when no container sets it. The sum keeps the first one's format, as
    ``Quantity.Add`` does."""
    containers = (*(spec.get("initContainers") or ()), *(spec.get("containers") or ()))
    if all(((c.get("resources") or {}).get("limits") or {}).get(name) is None
           for c in containers):
        return None  # no container sets it (the eviction manager asks every 10 s)
    found: list[Quantity] = []
    sidecars = Fraction(0)
    init_peak = Fraction(0)
    for container in spec.get("initContainers") or []:
        q = limit_quantity(container, name)
        if q is not None:
            found.append(q)
        value = q.value if q is not None else Fraction(0)
        if container.get("restartPolicy") == "Always":
            sidecars += value
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + value)
    apps = sidecars
    first: Quantity | None = None
    for container in spec.get("containers") or []:
        q = limit_quantity(container, name)
        if q is not None:
            first = first or q
            found.append(q)
            apps += q.value
    if not found:
        return None
    fmt = (first or found[0]).format
    return Quantity(max(apps, init_peak), fmt)


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


def memory_pressure_message(
    available: int, pod: PodUsage, threshold: str = MEMORY_THRESHOLD_TEXT
) -> str:
    name, usage, req = pod.biggest
    return (
        "The node was low on resource: memory. "
        f"Threshold quantity: {threshold}, available: {kibibytes(available)}. "
        f"Container {name} was using {kibibytes(usage)}, request is {format_request(req)}, "
        "has larger consumption of memory. "
    )


def container_storage_message(name: str, limit: str) -> str:
    return f'Container {name} exceeded its local ephemeral storage limit "{limit}". '


def pod_storage_message(limit: str) -> str:
    return f"Pod ephemeral local storage usage exceeds the total limit of containers {limit}. "


def disk_pressure_message(
    threshold: int | str, available: int, containers: list[tuple[str, int, int]]
) -> str:
    """``evictionMessage`` for ``nodefs.available``: the threshold and what is available,
    then every container of the Pod that uses more than it requested."""
    shown = threshold if isinstance(threshold, str) else binary_quantity(threshold)
    text = (
        "The node was low on resource: ephemeral-storage. "
        f"Threshold quantity: {shown}, "
        f"available: {binary_quantity(available)}. "
    )
    for name, usage, req in containers:
        if usage > req:
            text += (
                f"Container {name} was using {binary_quantity(usage)}, request is "
                f"{binary_quantity(req)}, has larger consumption of "
                "ephemeral-storage. "
            )
    return text


def empty_dir_message(volume: str, limit: str) -> str:
    return f'Usage of EmptyDir volume "{volume}" exceeds the limit "{limit}". '


__all__ = [
    "BYTES_PER_INODE",
    "DEFAULT_EVICTION_HARD",
    "DEFAULT_THRESHOLDS",
    "DISK_SIGNALS",
    "INODE_SIGNALS",
    "OS_DISK_BYTES",
    "OS_INODES",
    "OS_TASKS",
    "PID_MAX",
    "PID_PRESSURE",
    "PRESSURE_CONDITIONS",
    "SIGNAL_IMAGEFS_INODES",
    "SIGNAL_NODEFS_INODES",
    "SIGNAL_ORDER",
    "SIGNAL_PID",
    "Threshold",
    "ThresholdError",
    "decimal_quantity",
    "max_pid",
    "node_low_message",
    "parse_eviction_hard",
    "DISK_PRESSURE",
    "EVICTION_INTERVAL",
    "IMAGEFS_AVAILABLE_PERCENT",
    "IMAGE_GC_HIGH_PERCENT",
    "IMAGE_GC_LOW_PERCENT",
    "IMAGE_GC_PERIOD",
    "IMAGE_MINIMUM_GC_AGE",
    "MEMORY_PRESSURE",
    "PRESSURE_TRANSITION_PERIOD",
    "SIGNAL_CONDITION",
    "SIGNAL_IMAGEFS",
    "SIGNAL_MEMORY",
    "SIGNAL_NODEFS",
    "SIGNAL_RESOURCE",
    "SYSTEM_CRITICAL_PRIORITY",
    "admit_message",
    "disk_thresholds",
    "free_disk_space_failed_message",
    "percent_threshold",
    "MEMORY_AVAILABLE_THRESHOLD",
    "NODEFS_AVAILABLE_PERCENT",
    "PodUsage",
    "binary_quantity",
    "container_storage_message",
    "disk_pressure_message",
    "effective_requests",
    "empty_dir_message",
    "memory_eviction_order",
    "memory_pressure_message",
    "limit_quantity",
    "pod_limit",
    "pod_storage_message",
    "quantity",
    "request",
    "resource_field_value",
]
