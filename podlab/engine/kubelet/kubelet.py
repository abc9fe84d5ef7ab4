"""The simulated kubelet: pod workers that pull images, start, probe, restart and stop.

A ``PodWorker`` owns one Pod on the node. Its *sync* (``computePodActions`` + ``SyncPod``)
runs as a coroutine on the event loop: it kills containers whose liveness/startup probe
failed, runs init containers one at a time, then starts app containers in spec order, each
start blocked by its image pull and its postStart hook. Restart decisions use the container
back-off of ``doBackOff`` (§4.2) with the newest exited instance seen when the sync began.
Termination (deletion, ``activeDeadlineSeconds``) kills every container concurrently with
``killContainer``'s rules: ``Killing`` event, preStop within the grace, the two-second
minimum, SIGTERM, SIGKILL when the grace runs out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Generator
from typing import Any, Protocol

from podlab.engine.core import events as ev
from podlab.engine.core.loop import PRIORITY_KUBELET, EventLoop, Timer
from podlab.engine.core.quantity import (
    QuantityError,
    cpu_millicores,
    memory_bytes,
    parse_quantity,
)
from podlab.engine.core.transitions import Transition, cause
from podlab.engine.kubelet import resources as res
from podlab.engine.kubelet import status as st
from podlab.engine.kubelet.env import (
    ConfigError,
    check_non_root,
    container_env,
    effective_groups,
    effective_user,
    read_only_root,
)
from podlab.engine.kubelet.probes import (
    FAILURE,
    LIVENESS,
    PROBE_FIELDS,
    READINESS,
    STARTUP,
    SUCCESS,
    ProbeWorker,
    http_probe,
)
from podlab.engine.kubelet.servicelinks import service_env
from podlab.engine.kubelet.volumes import ObjectStore, PodVolumes
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import SIGKILL, SIGTERM, FileSystem, ImageInfo, Request, Response
from podlab.engine.runtime.runtime import (
    POD_PIDS_LIMIT,
    Catalogue,
    CgroupFiles,
    ContainerInstance,
    ExecResult,
    Network,
    PidsCgroup,
    container_id,
)


class PodHost(Protocol):
    """What a Pod worker needs from the cluster it runs in (``simulation.Simulation`` is one):
    the clock, its node, network and registry, and the API server it reports status and
    events to (the kubelet's status manager and event recorder)."""

    seed: int
    loop: EventLoop
    node: Node
    network: Network
    catalogue: Catalogue
    transitions: list[Transition]
    probe_results: int

    def record_event(
        self, worker: PodWorker, field_path: str, reason: str, message: str, type: str
    ) -> None: ...

    def pod_status_changed(self, worker: PodWorker, status: dict[str, Any]) -> None: ...

    def remove_pod(self, worker: PodWorker) -> None: ...


INITIAL_CRASH_BACKOFF = 10.0
MAX_CRASH_BACKOFF = 300.0
INITIAL_IMAGE_BACKOFF = 10.0
MAX_IMAGE_BACKOFF = 300.0
BACKOFF_EXPIRY = 600.0
SYNC_RETRY = 10.0  # backOffPeriod: a failed sync is retried after 10 s (+ up to 50 % jitter)
MINIMUM_GRACE = 2.0
PULL_FAILURE_SECONDS = 0.8  # a registry answering "not found"
PRIORITY_STATUS = 100  # status is written after everything else due at the same instant
#: Volume operations are retried with exponential back-off (nestedpendingoperations).
FAILED_MOUNT = "FailedMount"
EVICTED = "Evicted"
MOUNT_RETRY_INITIAL = 0.5
MOUNT_RETRY_MAX = 122.0
GiB = 1024**3
#: What a node without a disk size has free (bytes or inodes): more than anything writes.
UNBOUNDED = 1 << 62


class Backoff:
    """``k8s.io/client-go/util/flowcontrol.Backoff`` with the kubelet's 600 s expiry."""

    def __init__(self, initial: float, maximum: float, expiry: float = BACKOFF_EXPIRY) -> None:
        self.initial = initial
        self.maximum = maximum
        self.expiry = expiry
        self._entries: dict[object, list[float]] = {}  # key -> [backoff, lastUpdate]

    def get(self, key: object) -> float:
        entry = self._entries.get(key)
        return entry[0] if entry else 0.0

    def _expired(self, event_time: float, entry: list[float]) -> bool:
        return event_time - entry[1] > self.expiry

    def next(self, key: object, event_time: float, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = [self.initial, now]
        else:
            entry[0] = min(entry[0] * 2, self.maximum)
            entry[1] = now

    def in_backoff_since(self, key: object, event_time: float, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return now - event_time < entry[0]

    def in_backoff_since_update(self, key: object, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry):
            return False
        return now - entry[1] < entry[0]

    def forget(self, key: object) -> None:
        self._entries.pop(key, None)


# --- a tiny coroutine runner --------------------------------------------------------------


class Waiter:
    """A one-shot future a coroutine can wait on."""

    __slots__ = ("_callbacks", "done", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: object = None
        self._callbacks: list[Callable[[object], None]] = []

    def resolve(self, value: object = None) -> None:
        if self.done:
            return
        self.done = True
        self.value = value
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(value)

    def add(self, callback: Callable[[object], None]) -> None:
        if self.done:
            callback(self.value)
        else:
            self._callbacks.append(callback)


Coroutine = Generator[object, object, Any]


class Task:
    """Drives a coroutine yielding a delay in seconds or a ``Waiter``."""

    def __init__(self, loop: EventLoop, coroutine: Coroutine) -> None:
        self.loop = loop
        self._coroutine = coroutine
        self.finished = Waiter()
        self.cancelled = False
        self._timer: Timer | None = None
        self._token = 0
        self.loop.call_later(0, lambda: self._step(None, 0), PRIORITY_KUBELET)

    def _step(self, value: object, token: int) -> None:
        if self.cancelled or token != self._token:
            return
        self._timer = None
        try:
            request = self._coroutine.send(value)
        except StopIteration as stop:
            self.finished.resolve(stop.value)
            return
        self._token += 1
        token = self._token
        if isinstance(request, Waiter):
            request.add(
                lambda result: self.loop.call_later(
                    0, lambda: self._step(result, token), PRIORITY_KUBELET
                )
            )
        else:
            delay = float(request)  # type: ignore[arg-type]
            self._timer = self.loop.call_later(
                delay, lambda: self._step(None, token), PRIORITY_KUBELET
            )

    def cancel(self) -> None:
        if self.cancelled or self.finished.done:
            return
        self.cancelled = True
        if self._timer is not None:
            self._timer.cancel()
        self._coroutine.close()
        self.finished.resolve(None)


def wait_any(loop: EventLoop, waiter: Waiter, timeout: float) -> Waiter:
    """Resolves with True when ``waiter`` does, with False after ``timeout``."""
    out = Waiter()
    timer = loop.call_later(max(0.0, timeout), lambda: out.resolve(False), PRIORITY_KUBELET)

    def done(_value: object) -> None:
        timer.cancel()
        out.resolve(True)

    waiter.add(done)
    return out


# --- node and pod state -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Met:
    """A hard threshold crossed: its signal, its value, what was available when observed,
    and the threshold as the eviction message prints it."""

    signal: str
    threshold: int
    available: int
    text: str


class Node:
    """The single node: its images, its serialised image puller and its pull back-off."""

    def __init__(self, name: str, host_ip: str) -> None:
        self.name = name
        self.host_ip = host_ip
        self.images: set[str] = set()
        #: What the node's image store knows of each pulled image, by the normalised
        #: reference it was pulled as: kept when the registry later loses the image.
        self.image_infos: dict[str, ImageInfo] = {}
        self.pull_free_at = 0.0
        self.image_backoff = Backoff(INITIAL_IMAGE_BACKOFF, MAX_IMAGE_BACKOFF)
        self.crash_backoff = Backoff(INITIAL_CRASH_BACKOFF, MAX_CRASH_BACKOFF)
        #: Allocatable resources (cpu in millicores, memory in bytes): what an unset limit
        #: reads as through resourceFieldRef. The cluster's node (cluster.ClusterNode) sets
        #: them, and ``memory_capacity``, from its v1 Node; these are a lone kubelet's.
        self.allocatable: dict[str, int] = {"cpu": 2000, "memory": 4 * GiB}
        #: Memory capacity in bytes: ``memory.available`` is capacity minus what Pods use.
        self.memory_capacity = 4 * GiB
        #: The node file system's capacity in bytes (nodefs: logs, writable layers,
        #: emptyDirs): ``nodefs.available`` is capacity minus what Pods use on it.
        self.storage_capacity = 100 * GiB
        #: The operating system's share of the node file system and its tasks
        #: (``resources.OS_*``), and the kubelet's hard eviction thresholds (``evictionHard``;
        #: the cluster's node sets them from its configuration).
        self.os_disk_bytes = res.OS_DISK_BYTES
        self.os_inodes = res.OS_INODES
        self.os_tasks = res.OS_TASKS
        self.thresholds: tuple[res.Threshold, ...] = res.DEFAULT_THRESHOLDS
        #: The node's own files, shared by every hostPath volume on the node.
        self.host_fs = MemoryFileSystem(dirs=["/tmp", "/var/log", "/data", "/mnt"])  # noqa: S108
        self.workers: list[PodWorker] = []
        self.eviction_timer: Timer | None = None
        #: When each pulled image was first detected and last used by a container (the
        #: image garbage collector's record, by normalised reference).
        self.image_detected: dict[str, float] = {}
        self.image_last_used: dict[str, float] = {}
        #: The eviction manager's node conditions: when each pressure condition was last
        #: observed (a threshold crossed), and the conditions it reports now (observed
        #: within ``evictionPressureTransitionPeriod``), in the node status's order.
        self.pressure_observed: dict[str, float] = {}
        self.pressure: tuple[str, ...] = ()
        #: Whoever publishes this kubelet's node status and node events (the control plane
        #: for a cluster node); a lone kubelet has none.
        self.reporter: NodeReporter | None = None
        self.image_gc_timer: Timer | None = None
        self.image_gc_failed = False  # the last image garbage collection failed
        #: the free room on the node's disk as ``reserve`` last measured it, less what
        #: writes have taken since, and the circumstances it was measured in
        self._room: list[int] | None = None
        self._room_key_seen: tuple[Any, ...] | None = None
        #: moved by ``disk_changed``
        self.disk_generation = 0

    def admitted(self, worker: PodWorker) -> None:
        """A Pod worker started on this node: the eviction manager watches it."""
        self.workers = [w for w in self.workers if not w.removed]
        self.workers.append(worker)
        self._arm_eviction(worker.loop)
        self._arm_image_gc(worker.loop)

    def _arm_eviction(self, loop: EventLoop) -> None:
        if self.eviction_timer is not None and self.eviction_timer.active:
            return
        self.eviction_timer = loop.call_later(
            res.EVICTION_INTERVAL, lambda: self.check_eviction(loop), PRIORITY_KUBELET
        )

    def memory_available(self) -> int:
        used = sum(w.memory_usage() for w in self.workers if not w.removed)
        return self.memory_capacity - used

    def _live(self) -> list[PodWorker]:
        return [w for w in self.workers if not w.removed and not w.phase_terminal]

    # --- the node's disk --------------------------------------------------------------------

    def image_bytes(self) -> int:
        """Bytes the node's image store holds (imagefs: the same disk as nodefs here)."""
        total = 0
        for reference in self.images:
            info = self.image_infos.get(reference)
            if info is not None:
                total += info.size_bytes
        return total

    def image_inodes(self) -> int:
        """Inodes of the unpacked images: PodLab counts one per ``BYTES_PER_INODE`` of an
        image (the catalogue keeps sizes, not file lists)."""
        total = 0
        for reference in self.images:
            info = self.image_infos.get(reference)
            if info is not None:
                total += math.ceil(info.size_bytes / res.BYTES_PER_INODE)
        return total

    def disk_available(self, live: list[PodWorker] | None = None) -> int:
        """``nodefs.available`` (= ``imagefs.available`` on one disk): the capacity less the
        operating system's files, the images and what running Pods use (an evicted or
        finished Pod's containers are removed by the kubelet and its container garbage
        collection)."""
        if live is None:
            live = self._live()
        used = self.os_disk_bytes + sum(w.storage_usage() for w in live) + self.image_bytes()
        return self.storage_capacity - used

    def disk_room(self) -> tuple[int, int]:
        """What a write to the node's file system finds free: bytes and inodes, never
        below zero (a node without a disk size is unbounded)."""
        if self.storage_capacity <= 0:
            return UNBOUNDED, UNBOUNDED
        return max(self.disk_available(), 0), max(self.inodes_free(), 0)

    def disk_changed(self) -> None:
        """Something changed the node's disk usage other than a write that reserved its room
        (a Pod finished or removed, a log rotated, an emptyDir set up, an image pulled or
        deleted): ``reserve`` measures the room again. Whatever only gives room back may
        go untold (a write that finds too little room measures again); whatever takes room
        must tell, or reserve it (a new container does)."""
        self.disk_generation += 1

    def _room_key(self) -> tuple[Any, ...]:
        """The circumstances the free room was measured in: the disk and the OS's share and
        every change ``disk_changed`` was told of (a counter, so the look costs nothing)."""
        return (
            self.storage_capacity,
            self.os_disk_bytes,
            self.os_inodes,
            len(self.images),
            self.disk_generation,
        )

    def reserve(self, nbytes: int, ninodes: int, *, whole: bool = False) -> tuple[int, int]:
        """A write takes room on the node's disk: up to ``nbytes`` bytes and ``ninodes``
        inodes are granted (all or nothing when ``whole``) and counted as used. The free
        room is measured exactly when it was last measured under other circumstances
        (``_room_key``) or when it looks too small (something may have been freed since),
        so a write is never refused on a stale figure and never takes more than is free.
        A negative ``nbytes`` gives bytes back."""
        if self.storage_capacity <= 0:
            return nbytes, ninodes
        key = self._room_key()
        room = self._room if self._room_key_seen == key else None
        if room is None or nbytes > room[0] or ninodes > room[1]:
            room = list(self.disk_room())
            self._room, self._room_key_seen = room, key
        bytes_ok, inodes_ok = min(nbytes, room[0]), min(ninodes, room[1])
        if whole and (bytes_ok < nbytes or inodes_ok < ninodes):
            return 0, 0
        room[0] -= bytes_ok
        room[1] -= inodes_ok
        return bytes_ok, inodes_ok

    def reserve_log(self, nbytes: int) -> bool:
        """The runtime's log writer: a line is written whole or not at all."""
        return self.reserve(nbytes, 0, whole=True)[0] == nbytes

    def inode_capacity(self) -> int:
        """The node file system's inodes (ext4's default ratio over its size)."""
        return self.storage_capacity // res.BYTES_PER_INODE

    def inodes_free(self, live: list[PodWorker] | None = None) -> int:
        """``nodefs.inodesFree`` (= ``imagefs.inodesFree`` on one disk)."""
        if live is None:
            live = self._live()
        used = self.os_inodes + self.image_inodes() + sum(w.inode_usage() for w in live)
        return self.inode_capacity() - used

    def max_pid(self) -> int:
        """``rlimit.MaxPID``: ``min(kernel.pid_max, kernel.threads-max)``."""
        return res.max_pid(self.memory_capacity)

    def running_tasks(self) -> int:
        """``rlimit.NumOfRunningProcesses``: the node's own tasks and every process of the
        Pods (each Pod's ``pids.current``, the forks included)."""
        return self.os_tasks + sum(w.process_count() for w in self.workers if not w.removed)

    def pid_available(self) -> int:
        """``pid.available``: MaxPID less the tasks running."""
        return self.max_pid() - self.running_tasks()

    def images_in_use(self) -> set[str]:
        """Images a container that still exists on the node was created from."""
        used: set[str] = set()
        for worker in self.workers:
            if worker.removed or worker.phase_terminal:
                continue
            for slot in worker.slots:
                if slot.instances and slot.image_info is not None:
                    used.add(slot.image_info.reference)
        return used

    def pulled(self, reference: str, now: float) -> None:
        self.image_detected.setdefault(reference, now)
        self.image_last_used[reference] = now

    def free_images(self, now: float, wanted: int | None = None) -> int:
        """``freeSpace``: delete images no container uses, least recently used first, except
        those detected less than ``imageMinimumGCAge`` ago, until ``wanted`` bytes are free
        (all of them when None). Returns the bytes freed."""
        in_use = self.images_in_use()
        for reference in in_use:
            self.image_last_used[reference] = now
        candidates = [
            r
            for r in self.images
            if r not in in_use
            and now - self.image_detected.get(r, now) >= res.IMAGE_MINIMUM_GC_AGE
        ]
        candidates.sort(key=lambda r: (self.image_last_used.get(r, 0.0), r))
        freed = 0
        for reference in candidates:
            info = self.image_infos.get(reference)
            self.images.discard(reference)
            self.disk_changed()
            self.image_detected.pop(reference, None)
            self.image_last_used.pop(reference, None)
            freed += info.size_bytes if info is not None else 0
            if wanted is not None and freed >= wanted:
                break
        return freed

    def delete_unused_images(self, now: float) -> int:
        """``imageGC.DeleteUnusedImages``, the eviction manager's reclaim step."""
        return self.free_images(now)

    def _arm_image_gc(self, loop: EventLoop) -> None:
        if self.image_gc_timer is not None and self.image_gc_timer.active:
            return
        period = res.IMAGE_GC_PERIOD
        due = (math.floor(loop.now / period) + 1) * period
        self.image_gc_timer = loop.call_at(due, lambda: self.image_gc(loop), PRIORITY_KUBELET)

    def image_gc(self, loop: EventLoop) -> None:
        """The image garbage collector's look (every 5 minutes): at or past 85 % disk usage,
        free unused images down to 80 %; a ``FreeDiskSpaceFailed`` warning when it cannot
        (and ``ImageGCFailed`` when it failed the time before too)."""
        self.image_gc_timer = None
        capacity = self.storage_capacity
        if capacity > 0:
            available = self.disk_available()
            usage = 100 - int(available * 100 / capacity)
            failed = False
            if usage >= res.IMAGE_GC_HIGH_PERCENT:
                amount = capacity * (100 - res.IMAGE_GC_LOW_PERCENT) // 100 - available
                freed = self.free_images(loop.now, amount)
                if freed < amount:
                    failed = True
                    message = res.free_disk_space_failed_message(amount, freed)
                    if self.reporter is not None:
                        self.reporter.node_event(self, ev.WARNING, "FreeDiskSpaceFailed", message)
                        if self.image_gc_failed:
                            self.reporter.node_event(self, ev.WARNING, "ImageGCFailed", message)
            self.image_gc_failed = failed
        if self.pressure or any(w.has_running() for w in self.workers if not w.removed):
            self._arm_image_gc(loop)

    # --- the eviction manager ---------------------------------------------------------------

    def observations(self, live: list[PodWorker]) -> dict[str, tuple[int, int]]:
        """``makeSignalObservations``: (available, capacity) for each signal. The figures of
        ``memory_available``, ``disk_available``, ``inodes_free`` and ``pid_available``,
        added up in one pass over the Pods (asked every 10 s)."""
        memory = 0
        tasks = self.os_tasks
        for worker in self.workers:
            if not worker.removed:
                memory += worker.memory_usage()
                tasks += worker.pids.current
        out = {res.SIGNAL_MEMORY: (self.memory_capacity - memory, self.memory_capacity)}
        if self.storage_capacity > 0:
            used_bytes = self.os_disk_bytes + self.image_bytes()
            used_inodes = self.os_inodes + self.image_inodes()
            for worker in live:
                nbytes, ninodes = worker.disk_usage()
                used_bytes += nbytes
                used_inodes += ninodes
            disk = (self.storage_capacity - used_bytes, self.storage_capacity)
            inodes = (self.inode_capacity() - used_inodes, self.inode_capacity())
            out[res.SIGNAL_NODEFS] = out[res.SIGNAL_IMAGEFS] = disk
            out[res.SIGNAL_NODEFS_INODES] = out[res.SIGNAL_IMAGEFS_INODES] = inodes
        max_pid = self.max_pid()
        out[res.SIGNAL_PID] = (max_pid - tasks, max_pid)
        return out

    def thresholds_met(self, live: list[PodWorker]) -> list[Met]:
        """The hard thresholds crossed now, memory first (``byEvictionPriority``), then in
        ``resources.SIGNAL_ORDER``."""
        observed = self.observations(live)
        met: list[Met] = []
        configured = {t.signal: t for t in self.thresholds}
        for signal in res.SIGNAL_ORDER:
            threshold = configured.get(signal)
            if threshold is None or signal not in observed:
                continue
            available, capacity = observed[signal]
            value = threshold.value(capacity)
            if available < value:
                met.append(Met(signal, value, available, threshold.quantity_text(capacity)))
        return met

    def _update_conditions(self, met: list[Met], now: float) -> None:
        """``nodeConditionsLastObservedAt`` and ``nodeConditionsObservedSince``: a condition
        holds while its threshold was seen crossed within the transition period."""
        for m in met:
            self.pressure_observed[res.SIGNAL_CONDITION[m.signal]] = now
        current = tuple(
            c
            for c in res.PRESSURE_CONDITIONS
            if c in self.pressure_observed
            and now - self.pressure_observed[c] < res.PRESSURE_TRANSITION_PERIOD
        )
        if current != self.pressure:
            self.pressure = current
            if self.reporter is not None:
                self.reporter.pressure_changed(self)

    def admit_refusal(self, pod: dict[str, Any]) -> str | None:
        """The eviction manager's ``Admit``: under pressure it refuses every Pod but critical
        ones; under memory pressure alone only BestEffort Pods that do not tolerate the
        ``memory-pressure`` taint. None when the Pod is admitted."""
        if not self.pressure:
            return None
        spec = pod.get("spec") or {}
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if int(spec.get("priority") or 0) >= res.SYSTEM_CRITICAL_PRIORITY:
            return None
        if annotations.get("kubernetes.io/config.source", "api") != "api":
            return None  # a static Pod is critical
        if self.pressure == (res.MEMORY_PRESSURE,):
            if st.qos_class(spec) != "BestEffort":
                return None
            taint = {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}
            if any(_tolerates(t, taint) for t in spec.get("tolerations") or []):
                return None
        return res.admit_message(self.pressure)

    def check_eviction(self, loop: EventLoop) -> None:
        """The eviction manager's synchronize: observe the signals and update the node
        conditions; then local storage limits (a pass that evicted that way ends there);
        then, for the first threshold crossed (memory before disk), an
        ``EvictionThresholdMet`` event, the node-level reclaim for disk (unused images) and,
        if still needed, one Pod evicted in ``rankMemoryPressure`` / ``rankDiskPressureFunc``
        order."""
        self.eviction_timer = None
        now = loop.now
        live = [w for w in self.workers if not w.removed and not w.phase_terminal]
        met = self.thresholds_met(live)
        self._update_conditions(met, now)
        evicted = False
        for worker in live:
            message = worker.storage_violation()
            if message is not None:
                worker.evict(message, storage=True)
                evicted = True
        live = [w for w in live if not w.phase_terminal and w.force_failed is None]
        if not evicted and met:
            first = met[0]
            resource = res.SIGNAL_RESOURCE[first.signal]
            if self.reporter is not None:
                self.reporter.node_event(
                    self, ev.WARNING, "EvictionThresholdMet", f"Attempting to reclaim {resource}"
                )
            if first.signal == res.SIGNAL_MEMORY:
                if live:
                    usages = [w.usage() for w in live]
                    victim = res.memory_eviction_order(usages)[0]
                    worker = next(w for w in live if w is victim.key)
                    message = res.memory_pressure_message(first.available, victim, first.text)
                    worker.evict(message, storage=False)
            elif first.signal == res.SIGNAL_PID:
                if live:  # no node-level reclaim for pids
                    self._evict_for_pids(live, first)
            elif self.delete_unused_images(now) and not self.thresholds_met(live):
                pass  # the reclaimed images were enough: no Pod is evicted
            elif live:
                if first.signal in res.INODE_SIGNALS:
                    self._evict_for_inodes(live, first)
                else:
                    self._evict_for_disk(live, met)
        if self.pressure or any(w.has_running() for w in self.workers if not w.removed):
            self._arm_eviction(loop)
        elif self.image_gc_timer is not None:
            # nothing runs on the node any more: no disk to watch until a Pod comes
            self.image_gc_timer.cancel()
            self.image_gc_timer = None

    def _evict_for_disk(self, live: list[PodWorker], met: list[Met]) -> None:
        """Evict the Pod ``rankDiskPressureFunc`` puts first (over its requests, lower
        priority, larger use above its request); the message names the first disk
        threshold crossed and what was available when it was observed."""
        usage = {id(w): w.storage_usage() for w in live}
        first = next(m for m in met if m.signal in res.DISK_SIGNALS)

        def rank(w: PodWorker) -> tuple[int, int, int]:
            request = res.effective_requests(w.spec, "ephemeral-storage")
            used = usage.get(id(w), 0)
            return (0 if used > request else 1, int(w.spec.get("priority") or 0), request - used)

        victim = min(live, key=rank)
        containers = [
            (slot.name, victim.container_storage(slot), res.request(slot.spec, "ephemeral-storage"))
            for slot in victim.slots
            if slot.current is not None
        ]
        message = res.disk_pressure_message(first.text, first.available, containers)
        victim.evict(message, storage=True)

    def _evict_for_inodes(self, live: list[PodWorker], first: Met) -> None:
        """``rankDiskPressureFunc`` over inodes: no Pod requests inodes, so any Pod using
        some exceeds its request; then lower priority, then more inodes."""
        usage = {id(w): w.inode_usage() for w in live}

        def rank(w: PodWorker) -> tuple[int, int, int]:
            used = usage.get(id(w), 0)
            return (0 if used > 0 else 1, int(w.spec.get("priority") or 0), -used)

        victim = min(live, key=rank)
        available = res.decimal_quantity(first.available)
        victim.evict(
            res.node_low_message("inodes", first.text, available),
            storage=True,
            resource="inodes",
        )

    def _evict_for_pids(self, live: list[PodWorker], first: Met) -> None:
        """``rankPIDPressure``: lower priority first, then the Pod with more processes."""

        def rank(w: PodWorker) -> tuple[int, int]:
            return (int(w.spec.get("priority") or 0), -w.process_count())

        victim = min(live, key=rank)
        available = res.decimal_quantity(first.available)
        victim.evict(
            res.node_low_message("pids", first.text, available), storage=False, resource="pids"
        )


class NodeReporter(Protocol):
    """Publishes what a kubelet says about its node: the node status (its pressure
    conditions) and events about the node."""

    def pressure_changed(self, node: Node) -> None: ...

    def node_event(self, node: Node, type: str, reason: str, message: str) -> None: ...


def _tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    if toleration.get("operator") == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


#: Files the kubelet bind-mounts into a container (the engine writes them into its tree):
#: not the container's writable layer.
KUBELET_MOUNTED_FILES = (
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/dev/termination-log",
    "/var/run/secrets/",
)
#: What a container's writable layer does not hold: the kubelet's files and the kernel's
#: file systems the runtime mounts (proc, sysfs with the cgroup tree, the /dev tmpfs).
NOT_IN_LAYER = (*KUBELET_MOUNTED_FILES, "/proc/", "/sys/", "/dev/")


class Slot:
    """One container definition of the Pod and the instances the runtime ran for it."""

    def __init__(self, spec: dict[str, Any], index: int, init: bool) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.index = index
        self.init = init
        self.sidecar = init and spec.get("restartPolicy") == "Always"
        group = "initContainers" if init else "containers"
        self.path = f"spec.{group}[{index}]"
        self.event_path = f"spec.{group}{{{self.name}}}"
        self.instances: list[ContainerInstance] = []
        self.restart_count = 0
        self.attempts = 0
        self.waiting: tuple[str, str] | None = None
        self.started = False
        self.ready = False
        self.starting = False
        self.image_info: ImageInfo | None = None
        self.probes: dict[str, ProbeWorker] = {}
        self.kill_request: tuple[str, str, float, str, dict[str, Any]] | None = None
        self.exit_rule: tuple[str, dict[str, Any]] | None = None
        self.exit_waiter = Waiter()
        self.spec_hash = spec_hash(spec)

    @property
    def current(self) -> ContainerInstance | None:
        return self.instances[-1] if self.instances else None

    @property
    def previous(self) -> ContainerInstance | None:
        return self.instances[-2] if len(self.instances) > 1 else None

    def newest_exited(self) -> ContainerInstance | None:
        for inst in reversed(self.instances):
            if inst.exited:
                return inst
        return None


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _grace(value: Any, default: float = 30.0) -> float:
    if value is None:
        return default
    return max(0.0, float(value))


def default_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


class PodWorker:
    """Everything the kubelet does for one Pod."""

    def __init__(self, sim: PodHost, pod: dict[str, Any], pod_ip: str) -> None:
        self.sim = sim
        self.loop: EventLoop = sim.loop
        self.node: Node = sim.node
        self.network: Network = sim.network
        self.catalogue: Catalogue = sim.catalogue
        self.pod = pod
        meta = pod["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace") or "default"
        self.uid: str = meta["uid"]
        self.spec: dict[str, Any] = pod["spec"]
        self.pod_ip = pod_ip
        self.listeners = self.network.namespace(pod_ip)
        #: the Pod's pids cgroup (``podPidsLimit``), shared by its containers
        self.pids = PidsCgroup(POD_PIDS_LIMIT)
        self.init_slots = [
            Slot(c, i, True) for i, c in enumerate(self.spec.get("initContainers") or [])
        ]
        self.app_slots = [
            Slot(c, i, False) for i, c in enumerate(self.spec.get("containers") or [])
        ]
        self.slots = self.init_slots + self.app_slots
        self.start_time: float | None = None
        self.scheduled_at = self.loop.now
        self.sandbox_ready = False
        self.initialized = not self.init_slots
        self.deleting = False
        self.force_failed: tuple[str, str] | None = None  # (reason, message)
        self.phase = st.PENDING
        self.phase_terminal = False
        self.finished = False  # all containers stopped after termination
        self.removed = False
        self.sync_task: Task | None = None
        self.sync_pending = False
        self.sidecars_stopping = False
        self.retry_timer: Timer | None = None
        self.deadline_timer: Timer | None = None
        self.terminate_task: Task | None = None
        self._kill_tasks: list[Task] = []  # the running killPod's container kills
        self.dirty_timer: Timer | None = None
        self.conditions: list[dict[str, Any]] = []
        self.last_status: dict[str, Any] | None = None
        self.reason = ""
        self.message = ""
        store = getattr(sim, "store", None)
        self.store: ObjectStore = store if isinstance(store, ObjectStore) else ObjectStore()
        self.volumes = PodVolumes(
            pod,
            self.store,
            self.node.host_fs,
            self.field_value,
            self.pod_resource_value,
            disk=self.node.reserve,
        )
        self.mount_delay = MOUNT_RETRY_INITIAL
        self.mount_timer: Timer | None = None

    # --- small helpers ---------------------------------------------------------------------

    @property
    def restart_policy(self) -> str:
        return self.spec.get("restartPolicy") or "Always"

    @property
    def now(self) -> float:
        return self.loop.now

    def pod_event(self, reason: str, message: str, type: str = ev.NORMAL) -> None:
        self.sim.record_event(self, "", reason, message, type)

    def container_event(self, slot: Slot, reason: str, message: str, type: str = ev.NORMAL) -> None:
        self.sim.record_event(self, slot.event_path, reason, message, type)

    def transition(
        self, slot: Slot | None, field: str, old: Any, new: Any, rule: str, why: dict[str, Any]
    ) -> None:
        self.sim.transitions.append(
            Transition(self.now, self.name, slot.name if slot else "", field, old, new, rule, why)
        )

    def mark_dirty(self) -> None:
        if self.dirty_timer is None and not self.removed:
            self.dirty_timer = self.loop.call_later(0, self.flush_status, PRIORITY_STATUS)

    def connect_from_node(self, host: str, request: Request) -> Response:
        return self.network.connect(self.node.host_ip, host, request, self.now)

    def log_name(self) -> str:
        return f"{self.name}_{self.namespace}({self.uid})"

    # --- lifecycle entry points ----------------------------------------------------------

    def admit(self) -> None:
        """The kubelet sees the Pod for the first time: volumes, sandbox, probe workers and
        the first sync. The sandbox only starts once every volume is mounted."""
        self.start_time = self.now
        self.node.admitted(self)
        self.sandbox_ready = self.mount_volumes()
        for slot in self.slots:
            if slot.init and not slot.sidecar:
                continue
            for kind, field_name in PROBE_FIELDS.items():
                probe = slot.spec.get(field_name)
                if probe:
                    worker = ProbeWorker(self, slot, kind, probe)
                    slot.probes[kind] = worker
                    worker.start()
        self.arm_deadline()
        self.mark_dirty()
        self.request_sync()

    def mount_volumes(self) -> bool:
        """``WaitForAttachAndMount``: True when every volume is mounted; otherwise one
        ``FailedMount`` event per failing volume and a retry with back-off."""
        failures = self.volumes.setup()
        if self.volumes.empty_dirs:
            self.node.disk_changed()  # a disk-backed emptyDir set up takes room
        if not failures:
            return True
        for _name, message in failures:
            self.pod_event(FAILED_MOUNT, message, ev.WARNING)
        if self.mount_timer is None or not self.mount_timer.active:
            self.mount_timer = self.loop.call_later(
                self.mount_delay, self._mount_retry, PRIORITY_KUBELET
            )
            self.mount_delay = min(self.mount_delay * 2, MOUNT_RETRY_MAX)
        return False

    def _mount_retry(self) -> None:
        self.mount_timer = None
        if self.removed or self.deleting or self.phase_terminal or self.volumes.ready:
            return
        if self.mount_volumes():
            self.sandbox_ready = True
            self.mark_dirty()
            self.request_sync()

    def arm_deadline(self) -> None:
        if self.deadline_timer is not None:
            self.deadline_timer.cancel()
            self.deadline_timer = None
        seconds = self.spec.get("activeDeadlineSeconds")
        if seconds is None or self.start_time is None or self.phase_terminal:
            return
        self.deadline_timer = self.loop.call_at(
            self.start_time + float(seconds), self.deadline_exceeded, PRIORITY_KUBELET
        )

    def deadline_exceeded(self) -> None:
        if self.phase_terminal or self.deleting:
            return
        self.force_failed = ("DeadlineExceeded", ev.deadline_message())
        self.pod_event(ev.DEADLINE_EXCEEDED, ev.deadline_message())
        why = cause("spec.activeDeadlineSeconds", self.spec.get("activeDeadlineSeconds"))
        self.start_termination("deadline.kill", why, None)

    def request_sync(self, delay: float = 0.0) -> None:
        if self.finished or self.removed or self.terminate_task is not None:
            return
        if delay > 0:
            if self.retry_timer is not None and self.retry_timer.active:
                return
            self.retry_timer = self.loop.call_later(delay, self._retry, PRIORITY_KUBELET)
            return
        if self.sync_task is not None:
            self.sync_pending = True
            return
        self.sync_task = Task(self.loop, self._sync())
        self.sync_task.finished.add(self._sync_done)

    def _retry(self) -> None:
        self.retry_timer = None
        self.request_sync()

    def _sync_done(self, _value: object) -> None:
        self.sync_task = None
        if self.sync_pending:
            self.sync_pending = False
            self.request_sync()

    def delete(self, grace: float) -> None:
        """The API server set deletionTimestamp: stop everything within ``grace``."""
        self.deleting = True
        for slot in self.slots:
            for kind in (LIVENESS, STARTUP):
                worker = slot.probes.get(kind)
                if worker is not None:
                    worker.trigger()
        why = cause("metadata.deletionGracePeriodSeconds", int(grace))
        self.start_termination("delete.kill", why, grace)

    def shorten_grace(self, grace: float) -> None:
        """A shorter ``deletionGracePeriodSeconds`` reached the kubelet while the Pod is being
        killed (``podWorkers.UpdatePod``): the running ``killPod`` is cancelled and runs again
        with the new period, so each running container gets its Killing event, preStop hook
        and stop signal again and SIGKILL when the shorter period runs out."""
        task = self.terminate_task
        if task is None or task.finished.done or self.finished:
            return
        task.cancel()
        for kill in self._kill_tasks:
            kill.cancel()
        self.terminate_task = None
        why = cause("metadata.deletionGracePeriodSeconds", int(grace))
        self.start_termination("delete.kill", why, grace)

    def start_termination(self, rule: str, why: dict[str, Any], grace: float | None) -> None:
        if self.terminate_task is not None:
            return
        if self.sync_task is not None:
            self.sync_task.cancel()
            self.sync_task = None
        if self.retry_timer is not None:
            self.retry_timer.cancel()
        self.terminate_task = Task(self.loop, self._terminate(rule, why, grace))
        self.mark_dirty()

    def update_spec(self, new_spec: dict[str, Any]) -> None:
        """An allowed update (images, activeDeadlineSeconds, ...) reached the kubelet."""
        self.spec = new_spec
        self.pod["spec"] = new_spec
        for slot, spec in zip(
            self.init_slots + self.app_slots,
            list(new_spec.get("initContainers") or []) + list(new_spec.get("containers") or []),
            strict=False,
        ):
            new_hash = spec_hash(spec)
            if new_hash == slot.spec_hash:
                slot.spec = spec
                continue
            slot.spec = spec
            slot.spec_hash = new_hash
            inst = slot.current
            if inst is not None and inst.running:
                message = (
                    f"Init container {slot.name} definition changed"
                    if slot.sidecar
                    else f"Container {slot.name} definition changed, will be restarted"
                )
                grace = _grace(self.spec.get("terminationGracePeriodSeconds"))
                slot.kill_request = (
                    message,
                    "restart",
                    grace,
                    "manual.kill",
                    cause(f"{slot.path}.image", spec.get("image")),
                )
        self.arm_deadline()
        self.mark_dirty()
        self.request_sync()

    # --- probe results ---------------------------------------------------------------------

    def probe_result_changed(self, slot: Slot, kind: str, result: str) -> None:
        if kind == STARTUP:
            self.refresh_flags(slot)
            if slot.sidecar and slot.started and not self.initialized:
                # The kubelet syncs a Pod when a startup probe result changes; a sidecar that
                # has started lets the next init container (or the app containers) start.
                self.request_sync()
            if result == FAILURE and slot.current is not None and slot.current.running:
                worker = slot.probes[kind]
                self.request_probe_kill(slot, STARTUP, worker)
        elif kind == READINESS:
            self.refresh_flags(slot)
        elif kind == LIVENESS and result == FAILURE:
            if slot.current is not None and slot.current.running:
                self.request_probe_kill(slot, LIVENESS, slot.probes[kind])

    def request_probe_kill(self, slot: Slot, kind: str, worker: ProbeWorker) -> None:
        if self.deleting or self.terminate_task is not None:
            return
        restart = slot.sidecar or self.restart_policy != "Never"
        message = ev.probe_kill_message(slot.name, kind, restart, slot.sidecar)
        probe_grace = worker.spec.get("terminationGracePeriodSeconds")
        grace = _grace(
            probe_grace
            if probe_grace is not None
            else self.spec.get("terminationGracePeriodSeconds")
        )
        rule = "liveness.kill" if kind == LIVENESS else "startup.kill"
        why = cause(f"{worker.field}.failureThreshold", worker.failure_threshold)
        slot.kill_request = (message, "restart" if restart else "stop", grace, rule, why)
        self.request_sync()

    def refresh_flags(self, slot: Slot) -> None:
        """``started``/``ready`` as the probe manager's UpdatePodStatus computes them."""
        inst = slot.current
        running = inst is not None and inst.running and not slot.starting
        if slot.init and not slot.sidecar:
            started = False
            ready = inst is not None and inst.exited and inst.exit_code == 0
        else:
            startup = slot.probes.get(STARTUP)
            started = running and (startup is None or startup.result == SUCCESS)
            ready = False
            if started:
                readiness = slot.probes.get(READINESS)
                if readiness is None:
                    ready = True
                elif readiness.result == SUCCESS and readiness.container_id == (
                    inst.container_id if inst else ""
                ):
                    ready = True
                elif readiness.container_id != (inst.container_id if inst else ""):
                    readiness.trigger()
        if self.deleting and not slot.init:
            pass
        if started != slot.started:
            rule = "startup.succeeded" if started else "startup.reset"
            probe = slot.probes.get(STARTUP)
            why = (
                cause(f"{slot.path}.startupProbe", "succeeded")
                if probe is not None and started
                else cause(f"{slot.path}.startupProbe", None)
            )
            self.transition(slot, "started", slot.started, started, rule, why)
            slot.started = started
            if started and slot.sidecar and not self.initialized:
                # a probe result is a pod update for the kubelet's sync loop: the next init
                # container (or the app containers) may start now
                self.request_sync()
            if started and READINESS in slot.probes:
                readiness = slot.probes[READINESS]
                if readiness.result != SUCCESS:
                    readiness.trigger()
        if ready != slot.ready:
            rule = "readiness.ready" if ready else "readiness.unready"
            probe = slot.probes.get(READINESS)
            field = f"{slot.path}.readinessProbe"
            why = (
                cause(
                    f"{field}.successThreshold" if ready else f"{field}.failureThreshold",
                    (probe.success_threshold if ready else probe.failure_threshold),
                )
                if probe is not None
                else cause(field, None)
            )
            self.transition(slot, "ready", slot.ready, ready, rule, why)
            slot.ready = ready
        self.mark_dirty()

    # --- the sync --------------------------------------------------------------------------

    def _check_pull_secrets(self) -> None:
        """``getPullSecretsForPod`` runs on every pod sync: names in ``imagePullSecrets``
        without a Secret in the namespace give a Warning on the Pod (the pull goes ahead)."""
        missing = [
            str(ref.get("name"))
            for ref in self.spec.get("imagePullSecrets") or []
            if ref.get("name") and self.store.secret(self.namespace, str(ref["name"])) is None
        ]
        if missing:
            message = ev.pull_secrets_message(missing)
            self.pod_event(ev.FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET, message, ev.WARNING)

    def _should_restart(self, slot: Slot, inst: ContainerInstance) -> bool:
        if slot.sidecar:
            return True
        policy = self.restart_policy
        if slot.init:
            return inst.exit_code != 0 and policy != "Never"
        if policy == "Always":
            return True
        if policy == "OnFailure":
            return inst.exit_code != 0
        return False

    def _sync(self) -> Coroutine:
        if self.phase_terminal or self.deleting or not self.volumes.ready:
            return
        self._check_pull_secrets()
        snapshot = {slot: slot.newest_exited() for slot in self.slots}
        failed = False
        # 1. kills requested by probes or a changed definition
        for slot in self.slots:
            request = slot.kill_request
            if request is None:
                continue
            slot.kill_request = None
            inst = slot.current
            if inst is None or not inst.running:
                continue
            message, _what, grace, rule, why = request
            yield from self._kill_container(slot, message, grace, rule, why)
            if self.deleting:
                return
        # 2. init containers, one at a time
        if not self.initialized:
            for slot in self.init_slots:
                inst = slot.current
                if inst is not None and not inst.exited:
                    if slot.sidecar and slot.started:
                        continue
                    break
                if inst is not None and inst.exit_code == 0 and not slot.sidecar:
                    continue
                if inst is not None and not self._should_restart(slot, inst):
                    break  # restartPolicy Never: the Pod fails
                ok = yield from self._start_container(slot, snapshot.get(slot))
                if self.deleting:
                    return
                failed = failed or not ok
                if not (slot.sidecar and slot.started):
                    break
            else:
                self.initialized = True
                self.mark_dirty()
        # 3. app containers in spec order
        if self.initialized:
            for slot in self.app_slots:
                inst = slot.current
                if inst is not None and (not inst.exited):
                    continue
                if inst is not None and not self._should_restart(slot, inst):
                    continue
                ok = yield from self._start_container(slot, snapshot.get(slot))
                if self.deleting:
                    return
                failed = failed or not ok
            self._stop_sidecars_if_done()
        # sidecars that died after initialisation are restarted too, until the regular
        # containers of a Never/OnFailure Pod are all done
        for slot in self.init_slots:
            if not slot.sidecar or not self.initialized or self._regular_done():
                continue
            inst = slot.current
            if inst is not None and inst.exited:
                ok = yield from self._start_container(slot, snapshot.get(slot))
                failed = failed or not ok
        if failed:
            self.request_sync(SYNC_RETRY * (1 + 0.5 * self.loop.rng.random()))

    def _regular_done(self) -> bool:
        """Every regular container exited and will not be restarted (Never/OnFailure)."""
        if self.restart_policy == "Always":
            return False
        for slot in self.app_slots:
            inst = slot.current
            if inst is None or not inst.exited or self._should_restart(slot, inst):
                return False
        return True

    def _stop_sidecars_if_done(self) -> None:
        if self.sidecars_stopping or not any(s.sidecar for s in self.init_slots):
            return
        if not self._regular_done():
            return
        self.sidecars_stopping = True
        grace = _grace(self.spec.get("terminationGracePeriodSeconds"))
        self._kill_in_order(
            [s for s in self.init_slots if s.sidecar],
            [],
            lambda slot: ev.stopping_message(slot.name),
            grace,
            "sidecar.stop",
            cause("spec.restartPolicy", self.restart_policy),
        )

    def _kill_in_order(
        self,
        sidecars: list[Slot],
        regular: list[Slot],
        message: Callable[[Slot], str],
        grace: float,
        rule: str,
        why: dict[str, Any],
    ) -> list[Task]:
        """``killContainersWithSyncResult`` with sidecar ordering: regular containers stop at
        once; each sidecar runs its preStop hook at once but gets SIGTERM only after every
        regular container and every later sidecar exited, or when the grace runs out."""
        deadline = self.now + grace
        tasks: list[Task] = []
        regular_done: list[Waiter] = []
        for slot in regular:
            inst = slot.current
            if inst is not None and not inst.exited:
                task = Task(self.loop, self._kill_container(slot, message(slot), grace, rule, why))
                tasks.append(task)
                regular_done.append(task.finished)
        after: list[Waiter] = list(regular_done)
        for slot in reversed(sidecars):
            inst = slot.current
            if inst is None or inst.exited:
                continue
            task = Task(
                self.loop,
                self._kill_container(
                    slot, message(slot), grace, rule, why, wait_for=list(after), deadline=deadline
                ),
            )
            tasks.append(task)
            after.append(task.finished)
        return tasks

    def _start_container(
        self, slot: Slot, newest_exited: ContainerInstance | None
    ) -> Generator[object, object, bool]:
        """``startContainer`` with ``doBackOff`` first: False when the start failed."""
        node = self.node
        key = (self.uid, slot.name, slot.spec_hash)
        if newest_exited is not None and newest_exited.finished_at is not None:
            finished = newest_exited.finished_at
            if node.crash_backoff.in_backoff_since(key, finished, self.now):
                delay = node.crash_backoff.get(key)
                self.container_event(
                    slot,
                    ev.BACK_OFF,
                    ev.backoff_restart_message(slot.name, self.name, self.namespace, self.uid),
                    ev.WARNING,
                )
                message = ev.crash_loop_waiting_message(
                    delay, slot.name, self.name, self.namespace, self.uid
                )
                self._set_waiting(
                    slot,
                    "CrashLoopBackOff",
                    message,
                    "restart.backoff",
                    {**cause("spec.restartPolicy", self.restart_policy), "delay": delay},
                )
                return False
            node.crash_backoff.next(key, finished, self.now)
        info = yield from self._ensure_image(slot)
        if info is None or self.deleting:
            return False
        return (yield from self._run_container(slot, info))

    def _set_waiting(
        self, slot: Slot, reason: str, message: str, rule: str, why: dict[str, Any]
    ) -> None:
        old = slot.waiting[0] if slot.waiting else None
        slot.waiting = (reason, message)
        if old != reason:
            self.transition(
                slot, "state", old or self._state_name(slot), f"Waiting:{reason}", rule, why
            )
        self.mark_dirty()

    def _state_name(self, slot: Slot) -> str:
        inst = slot.current
        if inst is None:
            return "Waiting"
        if inst.exited:
            return f"Terminated:{inst.reason}"
        return "Running"

    def _ensure_image(self, slot: Slot) -> Generator[object, object, ImageInfo | None]:
        """``EnsureImageExists``: pull per policy, with events and the image back-off."""
        image = str(slot.spec.get("image") or "")
        policy = slot.spec.get("imagePullPolicy") or default_pull_policy(image)
        image_field = cause(f"{slot.path}.image", image)
        lookup = self.catalogue.lookup_image(image)
        if lookup.error == "InvalidImageName":
            message = ev.invalid_image_message(image, lookup.message)
            self.container_event(slot, ev.INSPECT_FAILED, message, ev.WARNING)
            self._image_failed(slot, "InvalidImageName", message, "image.invalid", image_field)
            return None
        remote = lookup.info
        info = remote
        if remote is None and lookup.error == "NotFound":
            # gone from the registry, perhaps still in this node's image store
            from podlab.engine.runtime.registry import normalise

            info = self.node.image_infos.get(normalise(image) or "")
        present = info is not None and info.reference in self.node.images
        if policy == "Never" and not present:
            message = ev.never_pull_message(image)
            self.container_event(slot, ev.ERR_IMAGE_NEVER_PULL, message, ev.WARNING)
            self._image_failed(
                slot,
                "ErrImageNeverPull",
                message,
                "image.never-pull",
                cause(f"{slot.path}.imagePullPolicy", policy),
            )
            return None
        if present and policy != "Always":
            self.container_event(slot, ev.PULLED, ev.present_message(image))
            slot.image_info = info
            return info
        key = (self.uid, image)
        backoff = self.node.image_backoff
        if backoff.in_backoff_since_update(key, self.now):
            message = ev.pull_backoff_message(image)
            self.container_event(slot, ev.BACK_OFF, message)
            self._image_failed(slot, "ImagePullBackOff", message, "image.pull-backoff", image_field)
            return None
        self.container_event(slot, ev.PULLING, ev.pulling_message(image))
        requested = self.now
        start = max(self.now, self.node.pull_free_at)
        if remote is None:
            seconds = PULL_FAILURE_SECONDS
        else:
            seconds = round(remote.pull_seconds * self.loop.rng.uniform(0.9, 1.1), 3)
        self.node.pull_free_at = start + seconds
        yield start + seconds - self.now
        if self.deleting:
            return None
        if remote is None:
            message = ev.pull_failed_message(image, lookup.message)
            self.container_event(slot, ev.FAILED, message, ev.WARNING)
            backoff.next(key, self.now, self.now)
            rule = {
                "repository-denied": "image.pull-denied",
                "host-unknown": "image.pull-unreachable",
            }.get(str(getattr(lookup, "detail", "")), "image.pull-failed")
            self._image_failed(slot, "ErrImagePull", lookup.message, rule, image_field)
            return None
        backoff.forget(key)
        self.node.images.add(remote.reference)
        self.node.disk_changed()
        self.node.image_infos[remote.reference] = remote
        self.node.pulled(remote.reference, self.now)
        pulled_as = str(getattr(lookup, "reference", "") or "")
        if pulled_as and pulled_as != remote.reference:
            self.node.image_infos[pulled_as] = remote
        total = self.now - requested
        self.container_event(
            slot, ev.PULLED, ev.pulled_message(image, seconds, total, remote.size_bytes)
        )
        slot.image_info = remote
        return remote

    def _image_failed(
        self, slot: Slot, reason: str, message: str, rule: str, why: dict[str, Any]
    ) -> None:
        self._set_waiting(slot, reason, message, rule, why)
        self.container_event(slot, ev.FAILED, f"Error: {reason}", ev.WARNING)

    def _container_env(self, slot: Slot, info: ImageInfo) -> dict[str, str]:
        """The process environment (raises ConfigError for a missing ConfigMap, Secret or key)."""
        base: dict[str, str] = dict(info.env)
        base.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        base["HOSTNAME"] = self.name
        # Service links (servicelinks.py): the Services that exist as this container is created.
        objects = getattr(self.sim, "objects", None)
        services = objects.items("Service") if objects is not None else []
        links = self.spec.get("enableServiceLinks")
        base.update(service_env(services, namespace=self.namespace,
                                enable_links=links is None or bool(links)))
        return container_env(
            slot.spec,
            base=base,
            store=self.store,
            namespace=self.namespace,
            field_value=self.field_value,
            resource_value=self.pod_resource_value,
        )

    def field_value(self, path: str) -> str:
        """A ``fieldRef`` of the downward API."""
        meta = self.pod.get("metadata") or {}
        for field_name in ("labels", "annotations"):
            items = meta.get(field_name) or {}
            if path == f"metadata.{field_name}":
                return "\n".join(f'{k}="{items[k]}"' for k in sorted(items))
            prefix = f"metadata.{field_name}['"
            if path.startswith(prefix) and path.endswith("']"):
                return str(items.get(path[len(prefix) : -2], ""))
        values = {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "metadata.uid": self.uid,
            "spec.nodeName": self.node.name,
            "spec.serviceAccountName": self.spec.get("serviceAccountName") or "default",
            "status.podIP": self.pod_ip,
            "status.podIPs": self.pod_ip,
            "status.hostIP": self.node.host_ip,
            "status.hostIPs": self.node.host_ip,
        }
        return values.get(path, "")

    def pod_resource_value(self, ref: dict[str, Any], container: str) -> str:
        containers = list(self.spec.get("initContainers") or []) + list(
            self.spec.get("containers") or []
        )
        return res.resource_field_value(ref, containers, container, self.node.allocatable)

    def _container_fs(self, slot: Slot, info: ImageInfo) -> FileSystem:
        """A fresh root file system with the Pod's volumes mounted as ``volumeMounts`` say."""
        maker = getattr(self.catalogue, "pod_filesystem", None)
        if callable(maker):
            fs = maker(info, self.name, self.pod_ip, self.namespace)
        else:
            fs = self.catalogue.new_filesystem(info)
        if isinstance(fs, MemoryFileSystem):
            self.volumes.mount_into(fs, slot.spec)
            fs.read_only_root = read_only_root(slot.spec)
            fs.disk = self.node.reserve  # the writable layer is on the node's disk
            fs.mark_base()
        return fs

    # --- resources and eviction ---------------------------------------------------------------

    def has_running(self) -> bool:
        return any(s.current is not None and s.current.running for s in self.slots)

    def memory_usage(self) -> int:
        """Bytes the Pod's running containers use, plus its memory-backed emptyDirs."""
        used = 0
        for slot in self.slots:  # loops, not generators: the eviction manager asks every 10 s
            instances = slot.instances
            if instances:
                inst = instances[-1]
                if inst.started_at is not None and inst.finished_at is None:
                    used += inst.memory
        if self.volumes.empty_dirs:
            for volume, size in self.volumes.empty_dir_usage():
                if (volume.spec.get("emptyDir") or {}).get("medium") == "Memory":
                    used += size
        return used

    def usage(self) -> res.PodUsage:
        biggest = ("", 0, 0)
        for slot in self.slots:
            inst = slot.current
            if inst is None or not inst.running:
                continue
            if inst.memory > biggest[1] or not biggest[0]:
                biggest = (slot.name, inst.memory, res.request(slot.spec, "memory"))
        return res.PodUsage(
            key=self,
            memory=self.memory_usage(),
            memory_request=res.effective_requests(self.spec, "memory"),
            priority=int(self.spec.get("priority") or 0),
            biggest=biggest,
        )

    def container_storage(self, slot: Slot) -> int:
        """Bytes a container uses on the node's disk: its logs (the current file and the
        rotated ones) and its writable layer (what differs from the image)."""
        inst = slot.current
        if inst is None:
            return 0
        used = inst.log_disk_bytes
        for _, size in inst.rotated_logs:
            used += size
        layer_bytes = getattr(inst.fs, "layer_bytes", None)
        if callable(layer_bytes):
            used += layer_bytes(inst.image.files, KUBELET_MOUNTED_FILES)
        return used

    def container_inodes(self, slot: Slot) -> int:
        """Inodes a container uses on the node's disk: its log files (the current one and
        the rotated ones) and its writable layer's files and directories."""
        inst = slot.current
        if inst is None:
            return 0
        used = 1 + len(inst.rotated_logs)
        layer_inodes = getattr(inst.fs, "layer_inodes", None)
        if callable(layer_inodes):
            used += layer_inodes(inst.image.files, NOT_IN_LAYER)
        return used

    def inode_usage(self) -> int:
        """``podDiskUsage``'s inodes: containers' writable layers and logs, disk-backed
        emptyDirs."""
        used = 0
        for slot in self.slots:
            used += self.container_inodes(slot)
        return used + self.volumes.empty_dir_inodes() if self.volumes.empty_dirs else used

    def disk_usage(self) -> tuple[int, int]:
        """(``storage_usage``, ``inode_usage``) in one pass over the containers."""
        used_bytes = used_inodes = 0
        for slot in self.slots:
            instances = slot.instances
            if not instances:
                continue
            inst = instances[-1]
            fs = inst.fs
            if type(fs) is not MemoryFileSystem:
                used_bytes += self.container_storage(slot)
                used_inodes += self.container_inodes(slot)
                continue
            used_bytes += inst.log_disk_bytes + fs.layer_bytes(
                inst.image.files, KUBELET_MOUNTED_FILES)
            for _, size in inst.rotated_logs:
                used_bytes += size
            used_inodes += 1 + len(inst.rotated_logs) + fs.layer_inodes(
                inst.image.files, NOT_IN_LAYER)
        if self.volumes.empty_dirs:
            for volume, size in self.volumes.empty_dir_usage():
                if (volume.spec.get("emptyDir") or {}).get("medium") != "Memory":
                    used_bytes += size
            used_inodes += self.volumes.empty_dir_inodes()
        return used_bytes, used_inodes

    def process_count(self) -> int:
        """The Pod's processes (its ``pids`` cgroup's ``pids.current``)."""
        return self.pids.current

    def storage_usage(self) -> int:
        """The Pod's ephemeral-storage usage as the summary API adds it up: its containers'
        logs and writable layers plus its disk-backed emptyDir volumes."""
        used = 0
        for slot in self.slots:
            used += self.container_storage(slot)
        if self.volumes.empty_dirs:
            for volume, size in self.volumes.empty_dir_usage():
                if (volume.spec.get("emptyDir") or {}).get("medium") != "Memory":
                    used += size
        return used

    def _has_storage_limits(self) -> bool:
        """Whether any emptyDir has a ``sizeLimit`` or any container an ``ephemeral-storage``
        limit (a Pod's spec cannot change them: worked out once)."""
        known: bool | None = getattr(self, "_storage_limited", None)
        if known is None:
            known = any(
                (v.spec.get("emptyDir") or {}).get("sizeLimit") is not None
                for v in self.volumes.volumes.values()
            ) or any(
                ((s.spec.get("resources") or {}).get("limits") or {}).get("ephemeral-storage")
                is not None
                for s in self.slots
            )
            self._storage_limited = known
        return known

    def storage_violation(self) -> str | None:
        """The eviction manager's ``localStorageEviction`` for this Pod, in its order: an
        emptyDir past its ``sizeLimit``, the Pod past the sum of its containers'
        ``ephemeral-storage`` limits, a container past its own limit."""
        if not self._has_storage_limits():
            return None  # the usual Pod: nothing to measure (asked every 10 s)
        for volume, size in self.volumes.empty_dir_usage():
            limit_text = (volume.spec.get("emptyDir") or {}).get("sizeLimit")
            if limit_text is None:
                continue
            try:
                limit_q = parse_quantity(limit_text)
            except (QuantityError, ValueError, TypeError):
                continue
            if limit_q.value > 0 and size > limit_q.value:
                return res.empty_dir_message(volume.name, limit_q.canonical())
        pod_limit = res.pod_limit(self.spec, "ephemeral-storage")
        if pod_limit is not None and self.storage_usage() > pod_limit.value:
            return res.pod_storage_message(pod_limit.canonical())
        for slot in self.slots:
            if slot.init:
                continue  # upstream walks pod.Spec.Containers only
            limit_q = res.limit_quantity(slot.spec, "ephemeral-storage")
            if limit_q is None or limit_q.value == 0:
                continue
            if self.container_storage(slot) > limit_q.value:
                return res.container_storage_message(slot.name, limit_q.canonical())
        return None

    def evict(self, message: str, *, storage: bool, resource: str | None = None) -> None:
        """The eviction manager kills the Pod: phase Failed, reason Evicted, a
        ``DisruptionTarget`` condition, and the containers stopped with no grace."""
        if self.phase_terminal or self.deleting or self.force_failed is not None:
            return
        self.force_failed = (EVICTED, message)
        self.pod_event(EVICTED, message, ev.WARNING)
        from podlab.engine.core.version import timestamp

        self.conditions = [c for c in self.conditions if c["type"] != "DisruptionTarget"] + [
            {
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": timestamp(self.now),
                "reason": "TerminationByKubelet",
                "message": message,
            }
        ]
        field = resource or ("ephemeral-storage" if storage else "memory")
        self.start_termination("evicted.kill", cause(f"resources.{field}", message), 0.0)

    def _limits(self, slot: Slot) -> tuple[int | None, float | None]:
        limits = (slot.spec.get("resources") or {}).get("limits") or {}
        memory = cpu = None
        try:
            if "memory" in limits:
                memory = memory_bytes(limits["memory"])
            if "cpu" in limits:
                cpu = cpu_millicores(limits["cpu"]) / 1000.0
        except (QuantityError, ValueError, TypeError):
            pass
        return memory, cpu

    def _run_container(self, slot: Slot, info: ImageInfo) -> Generator[object, object, bool]:
        """Create and start the container, then run postStart (which blocks the sync)."""
        try:
            env = self._container_env(slot, info)
            check_non_root(self.spec, slot.spec, info.user, self.log_name())
        except ConfigError as err:
            self.container_event(slot, ev.FAILED, f"Error: {err}", ev.WARNING)
            self._set_waiting(
                slot,
                "CreateContainerConfigError",
                str(err),
                "container.config-error",
                cause(f"{slot.path}.env", str(err)),
            )
            return False
        uid = effective_user(self.spec, slot.spec, info.user)
        gid, groups = effective_groups(self.spec, slot.spec, uid, info.user)
        if uid != info.user or gid != info.group or groups != info.groups:
            info = dataclasses.replace(info, user=uid, group=gid, groups=groups)
        attempt = slot.attempts
        slot.attempts += 1
        memory, cpu = self._limits(slot)
        inst = ContainerInstance(
            loop=self.loop,
            network=self.network,
            catalogue=self.catalogue,
            image=info,
            spec=slot.spec,
            container_id=container_id(self.sim.seed, self.uid, slot.name, attempt),
            attempt=attempt,
            env=env,
            fs=self._container_fs(slot, info),
            hostname=self.name,
            pod_ip=self.pod_ip,
            listeners=self.listeners,
            memory_limit=memory,
            cpu_limit=cpu,
            node_memory=self.node.memory_capacity,
            pids=self.pids,
            disk_reserve=self.node.reserve_log,
            disk_changed=self.node.disk_changed,
            created_at=self.now,
        )
        if isinstance(inst.fs, MemoryFileSystem):
            inst.fs.mount("/sys/fs/cgroup", CgroupFiles(inst), read_only=True)
        inst.on_exit = lambda instance: self._container_exited(slot, instance)
        old_state = self._state_name(slot)
        restarted = bool(slot.instances)
        slot.instances.append(inst)
        if len(slot.instances) > 2:
            del slot.instances[0]
        # The new container takes its room (its log file, a layer as made so far); what the
        # one before it used is given back, which a later write finds by measuring again.
        # (Telling disk_changed instead would measure every Pod of the node per start.)
        self.node.reserve(self.container_storage(slot), self.container_inodes(slot))
        if restarted:
            self.transition(
                slot,
                "restartCount",
                slot.restart_count,
                slot.restart_count + 1,
                "restart.count",
                cause("spec.restartPolicy", self.restart_policy),
            )
            slot.restart_count += 1
        slot.waiting = None
        slot.exit_rule = None
        slot.exit_waiter = Waiter()
        post_start = ((slot.spec.get("lifecycle") or {}).get("postStart")) or None
        slot.starting = post_start is not None
        self.container_event(slot, ev.CREATED, ev.created_message(slot.name))
        self.container_event(slot, ev.STARTED, ev.started_message(slot.name))
        rule = "restart.start" if restarted else "container.started"
        why = (
            cause("spec.restartPolicy", self.restart_policy)
            if restarted
            else cause(f"{slot.path}.image", slot.spec.get("image"))
        )
        self.transition(slot, "state", old_state, "Running", rule, why)
        inst.start()
        self.mark_dirty()
        if not inst.exited:
            self.refresh_flags(slot)
        if post_start is None:
            return True
        ok, message = yield from self._run_hook(slot, inst, post_start, None)
        slot.starting = False
        if ok or inst.exited:
            self.refresh_flags(slot)
            self.mark_dirty()
            return True
        self.container_event(slot, ev.FAILED_POST_START_HOOK, "PostStartHook failed", ev.WARNING)
        grace = _grace(self.spec.get("terminationGracePeriodSeconds"))
        yield from self._kill_container(
            slot,
            "FailedPostStartHook",
            grace,
            "poststart.kill",
            cause(f"{slot.path}.lifecycle.postStart", post_start),
        )
        self._set_waiting(
            slot,
            "PostStartHookError",
            message,
            "poststart.error",
            cause(f"{slot.path}.lifecycle.postStart", post_start),
        )
        return False

    def _hook_command(self, handler: dict[str, Any]) -> list[str]:
        return [str(part) for part in ((handler.get("exec") or {}).get("command") or [])]

    def _run_hook(
        self,
        slot: Slot,
        inst: ContainerInstance,
        handler: dict[str, Any],
        timeout: float | None,
    ) -> Generator[object, object, tuple[bool, str]]:
        """Run a lifecycle handler; returns (ok, handler message for failures)."""
        who = f'for Container "{slot.name}" in Pod "{self.log_name()}"'
        if "exec" in handler:
            command = self._hook_command(handler)
            done = Waiter()
            inst.exec(command, timeout, done.resolve)
            if timeout is not None:
                finished = yield wait_any(self.loop, done, timeout + 0.001)
                if not finished:
                    return False, "timeout"
            else:
                yield done
            result = done.value
            if not isinstance(result, ExecResult):
                return False, "no result"
            if result.error:
                text = f"Exec lifecycle hook ({_go_list(command)}) {who} failed - error: "
                return False, text + result.error
            if result.timed_out:
                return False, "timeout"
            if result.exit_code != 0:
                message = (
                    f"Exec lifecycle hook ({_go_list(command)}) {who} failed - error: "
                    f"command '{' '.join(command)}' exited with {result.exit_code}: "
                    f'{result.output}, message: "{result.output}"'
                )
                return False, message
            return True, ""
        if "httpGet" in handler:
            get = handler["httpGet"]
            from podlab.engine.kubelet.probes import resolve_port

            port = resolve_port(get.get("port"), slot.spec) or 80
            host = get.get("host") or self.pod_ip
            outcome, elapsed = http_probe(
                self.connect_from_node,
                host,
                port,
                get.get("path") or "/",
                get.get("scheme") or "HTTP",
                list(get.get("httpHeaders") or []),
                timeout if timeout is not None else 3600.0,
            )
            if elapsed > 0:
                yield elapsed
            if outcome.result == SUCCESS or outcome.output.startswith("HTTP probe failed"):
                return True, ""  # lifecycle HTTP hooks only fail on transport errors
            path = get.get("path") or "/"
            return False, f"HTTP lifecycle hook ({path}) {who} failed - error: {outcome.output}"
        if "sleep" in handler:
            seconds = float((handler.get("sleep") or {}).get("seconds") or 0)
            exit_wait = wait_any(self.loop, slot.exit_waiter, seconds)
            if timeout is not None and timeout < seconds:
                exit_wait = wait_any(self.loop, slot.exit_waiter, timeout)
            yield exit_wait
            return True, ""
        if "tcpSocket" in handler:
            return True, ""
        return True, ""

    def _container_exited(self, slot: Slot, inst: ContainerInstance) -> None:
        if inst is not slot.current:
            return
        rule, why = slot.exit_rule or self._natural_exit(slot, inst)
        self.transition(slot, "state", "Running", f"Terminated:{inst.reason}", rule, why)
        slot.starting = False
        waiter = slot.exit_waiter
        self.refresh_flags(slot)
        self.mark_dirty()
        waiter.resolve(inst.exit_code)
        if not self.deleting and self.terminate_task is None:
            # PLEG notices the exit at its next relist (every second).
            delay = math.floor(self.now) + 1.0 - self.now
            self.request_sync(delay)

    def _natural_exit(self, slot: Slot, inst: ContainerInstance) -> tuple[str, dict[str, Any]]:
        if inst.reason == "OOMKilled":
            limit = ((slot.spec.get("resources") or {}).get("limits") or {}).get("memory")
            return "container.oom-killed", cause(f"{slot.path}.resources.limits.memory", limit)
        field = f"{slot.path}.command" if slot.spec.get("command") else f"{slot.path}.args"
        value = slot.spec.get("command") or slot.spec.get("args")
        if inst.exit_code == 0:
            return "container.completed", cause(field, value)
        return "container.failed", cause(field, value)

    def _kill_container(
        self,
        slot: Slot,
        message: str,
        grace: float,
        rule: str,
        why: dict[str, Any],
        wait_for: list[Waiter] | None = None,
        deadline: float | None = None,
    ) -> Coroutine:
        """``killContainer``: event, preStop within the grace, TERM, KILL at the deadline.

        ``wait_for`` (sidecars during termination): after the preStop hook, SIGTERM waits
        until these containers stopped, but not past ``deadline``."""
        inst = slot.current
        if inst is None or inst.exited:
            return
        if slot.exit_rule is None:
            slot.exit_rule = (rule, why)
        self.container_event(slot, ev.KILLING, message)
        waiter = slot.exit_waiter
        pre_stop = (slot.spec.get("lifecycle") or {}).get("preStop")
        if pre_stop and grace > 0 and inst.running:
            began = self.now
            hook = Task(self.loop, self._run_hook(slot, inst, pre_stop, grace))
            finished = yield wait_any(self.loop, hook.finished, grace)
            if not finished:
                hook.cancel()
            elif isinstance(hook.finished.value, tuple) and not hook.finished.value[0]:
                self.container_event(
                    slot, ev.FAILED_PRE_STOP_HOOK, "PreStopHook failed", ev.WARNING
                )
            grace -= math.floor(self.now - began)
        for other in wait_for or []:
            if other.done or inst.exited:
                continue
            left = (deadline if deadline is not None else self.now) - self.now
            if left <= 0:
                break
            yield wait_any(self.loop, other, left)
        if deadline is not None and wait_for:
            grace = deadline - self.now
        grace = max(grace, MINIMUM_GRACE)
        if inst.exited:
            return
        # the runtime stops a container with its image's STOPSIGNAL (php-fpm: SIGQUIT)
        info = slot.image_info
        inst.signal(info.stop_signal if info is not None else SIGTERM)
        if not inst.exited:
            stopped = yield wait_any(self.loop, waiter, grace)
            if not stopped and not inst.exited:
                inst.signal(SIGKILL)
        if not inst.exited:
            yield waiter

    def _terminate(self, rule: str, why: dict[str, Any], grace: float | None) -> Coroutine:
        """``killPod``: stop every running container concurrently, then finish the Pod."""
        pod_grace = _grace(self.spec.get("terminationGracePeriodSeconds"))
        use = pod_grace if grace is None else grace
        regular = [s for s in self.slots if not s.sidecar]
        sidecars = [s for s in self.init_slots if s.sidecar]
        tasks = self._kill_in_order(
            sidecars, regular, lambda slot: ev.stopping_message(slot.name), use, rule, why
        )
        self._kill_tasks = tasks
        for task in tasks:
            if not task.finished.done:
                yield task.finished
        for slot in self.slots:
            for worker in slot.probes.values():
                if worker.kind != READINESS:
                    worker.stop()
        self.finished = True
        self.mark_dirty()
        if self.deleting:
            self.flush_status()
            self.sim.remove_pod(self)

    # --- status ------------------------------------------------------------------------------

    def _view(self, slot: Slot) -> st.ContainerView:
        inst = slot.current
        prev = slot.previous

        def iv(i: ContainerInstance | None) -> st.InstanceView | None:
            if i is None:
                return None
            return st.InstanceView(
                i.container_id, i.started_at, i.finished_at, i.exit_code, i.reason, i.message
            )

        info = slot.image_info
        if inst is not None:
            image = inst.image.reference
            image_id = _image_id(inst.image)
        else:
            image = str(slot.spec.get("image") or "")
            image_id = ""
        waiting = slot.waiting
        if inst is not None and inst.exited and waiting is None:
            waiting = None
        if info is None and inst is None:
            image = str(slot.spec.get("image") or "")
        return st.ContainerView(
            name=slot.name,
            image=image,
            image_id=image_id,
            sidecar=slot.sidecar,
            current=iv(inst),
            previous=iv(prev),
            waiting=waiting,
            starting=slot.starting,
            ready=slot.ready,
            started=slot.started,
            restart_count=slot.restart_count,
        )

    def build_status(self) -> dict[str, Any]:
        default = "PodInitializing" if self.init_slots else "ContainerCreating"
        init_statuses = [st.container_status(self._view(s), default) for s in self.init_slots]
        statuses = [st.container_status(self._view(s), default) for s in self.app_slots]
        if self.force_failed is not None:
            phase = st.FAILED
        else:
            phase = st.pod_phase(self.spec, init_statuses, statuses, finalising=self.finished)
        if self.phase in st.TERMINAL_PHASES:
            phase = self.phase
        if phase != self.phase:
            rule = "pod.deadline" if self.force_failed else "pod.phase"
            why = (
                cause("spec.activeDeadlineSeconds", self.spec.get("activeDeadlineSeconds"))
                if self.force_failed
                else cause("spec.restartPolicy", self.restart_policy)
            )
            self.transition(None, "phase", self.phase, phase, rule, why)
            self.phase = phase
        if phase in st.TERMINAL_PHASES and not self.phase_terminal:
            self.phase_terminal = True
            self.node.disk_changed()  # a finished Pod's containers are removed
            if self.deadline_timer is not None:
                self.deadline_timer.cancel()
        if self.force_failed is not None:
            self.reason, self.message = self.force_failed
        all_stopped = all(s.current is None or s.current.exited for s in self.slots)
        if self.phase_terminal and all_stopped:
            self.sandbox_ready = False
            for slot in self.slots:
                for worker in slot.probes.values():
                    worker.stop()
        self.conditions = st.pod_conditions(
            self.spec,
            init_statuses,
            statuses,
            phase,
            sandbox_ready=self.sandbox_ready,
            scheduled_at=self.scheduled_at,
            now=self.now,
            previous=self.conditions,
        )
        status: dict[str, Any] = {"phase": phase, "conditions": self.conditions}
        if self.reason:
            status["message"] = self.message
            status["reason"] = self.reason
        status["hostIP"] = self.node.host_ip
        status["hostIPs"] = [{"ip": self.node.host_ip}]
        if self.sandbox_ready or self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        if self.start_time is not None:
            from podlab.engine.core.version import timestamp

            status["startTime"] = timestamp(self.start_time)
        if self.init_slots:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        status["qosClass"] = st.qos_class(self.spec)
        return status

    def flush_status(self) -> None:
        self.dirty_timer = None
        if self.removed:
            return
        status = self.build_status()
        if status != self.last_status:
            self.last_status = status
            self.sim.pod_status_changed(self, status)
        if self.phase_terminal and not self.finished and not self.deleting:
            if all(s.current is None or s.current.exited for s in self.slots):
                self.finished = True
            elif self.force_failed is None and self.terminate_task is None:
                self.start_termination(
                    "delete.kill", cause("spec.restartPolicy", self.restart_policy), None
                )


def _go_list(items: list[str]) -> str:
    return "[" + " ".join(items) + "]"


def _image_id(info: ImageInfo) -> str:
    name = (
        info.reference.rsplit(":", 1)[0]
        if "@" not in info.reference
        else info.reference.split("@")[0]
    )
    last = info.reference.rsplit("/", 1)[-1]
    if ":" not in last:
        name = info.reference
    return f"{name}@{info.digest}"
