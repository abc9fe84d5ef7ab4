"""Pod status as the kubelet computes it: pure functions of the containers' state.

- ``container_status``: ``convertToAPIContainerStatuses`` for one container (§3.1).
- ``pod_phase``: ``getPhase`` with its counting pass and decision order (§1).
- ``pod_conditions``: the five kubelet conditions with reasons, messages and transition
  times kept from the previous status while unchanged (§2).
- ``qos_class``: ``ComputePodQOS`` (§9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podlab.engine.core.quantity import QuantityError, cpu_millicores, memory_bytes
from podlab.engine.core.version import timestamp

PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED})


@dataclass(slots=True)
class InstanceView:
    """What status needs from one container instance."""

    container_id: str
    started_at: float | None
    finished_at: float | None
    exit_code: int | None
    reason: str
    message: str


@dataclass(slots=True)
class ContainerView:
    """What status needs from one container definition and its newest two instances."""

    name: str
    image: str  # the image as the status reports it (spec image until created)
    image_id: str
    sidecar: bool
    current: InstanceView | None
    previous: InstanceView | None
    waiting: tuple[str, str] | None  # reason cache: shown instead of a dead instance
    starting: bool  # created, postStart still running: not reported Running yet
    ready: bool
    started: bool
    restart_count: int


def _terminated(inst: InstanceView) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": inst.exit_code if inst.exit_code is not None else 0}
    if inst.reason:
        state["reason"] = inst.reason
    if inst.message:
        state["message"] = inst.message
    state["startedAt"] = timestamp(inst.started_at) if inst.started_at is not None else None
    state["finishedAt"] = timestamp(inst.finished_at) if inst.finished_at is not None else None
    state["containerID"] = inst.container_id
    return state


def container_status(view: ContainerView, default_reason: str) -> dict[str, Any]:
    """One entry of ``containerStatuses``/``initContainerStatuses``."""
    current = view.current
    last: dict[str, Any] = {}
    if current is None:
        reason, message = view.waiting or (default_reason, "")
        waiting: dict[str, Any] = {"reason": reason}
        if message:
            waiting["message"] = message
        state: dict[str, Any] = {"waiting": waiting}
    elif current.finished_at is not None:
        if view.waiting is not None:
            reason, message = view.waiting
            waiting = {"reason": reason}
            if message:
                waiting["message"] = message
            state = {"waiting": waiting}
            last = {"terminated": _terminated(current)}
        else:
            state = {"terminated": _terminated(current)}
            if view.previous is not None and view.previous.finished_at is not None:
                last = {"terminated": _terminated(view.previous)}
    elif view.starting or current.started_at is None:
        state = {"waiting": {"reason": default_reason}}
        if view.previous is not None and view.previous.finished_at is not None:
            last = {"terminated": _terminated(view.previous)}
    else:
        state = {"running": {"startedAt": timestamp(current.started_at)}}
        if view.previous is not None and view.previous.finished_at is not None:
            last = {"terminated": _terminated(view.previous)}
    status: dict[str, Any] = {
        "name": view.name,
        "state": state,
        "lastState": last,
        "ready": view.ready,
        "restartCount": view.restart_count,
        "image": view.image,
        "imageID": view.image_id,
    }
    if current is not None:
        status["containerID"] = current.container_id
    status["started"] = view.started
    return status


def _waiting_after_termination(status: dict[str, Any]) -> bool:
    return "waiting" in status["state"] and "terminated" in status["lastState"]


def pod_phase(
    spec: dict[str, Any],
    init_statuses: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    *,
    finalising: bool = False,
) -> str:
    """``getPhase``: the counting pass then the first matching decision (§1.1–1.2)."""
    policy = spec.get("restartPolicy", "Always")
    init_specs = spec.get("initContainers") or []
    by_name = {s["name"]: s for s in init_statuses}
    pending_init = 0
    failed_init = 0
    running = waiting = stopped = succeeded = unknown = 0
    for container in init_specs:
        status = by_name.get(container["name"])
        sidecar = container.get("restartPolicy") == "Always"
        if sidecar:
            if status is None:
                unknown += 1
                continue
            state = status["state"]
            if "running" in state:
                running += 1
                if not status.get("started"):
                    pending_init += 1
            elif "terminated" in state or _waiting_after_termination(status):
                pass
            elif "waiting" in state:
                pending_init += 1
                waiting += 1
            continue
        if status is None:
            pending_init += 1
            continue
        state = status["state"]
        if "running" in state:
            pending_init += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode", 0) != 0:
                failed_init += 1
        elif "waiting" in state:
            last = status["lastState"].get("terminated")
            if last is not None and last.get("exitCode", 0) != 0:
                failed_init += 1
            elif last is None:
                pending_init += 1
    for status in statuses:
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
        elif _waiting_after_termination(status):
            stopped += 1
        elif "waiting" in state:
            waiting += 1
        else:
            unknown += 1
    unknown += max(0, len(spec.get("containers") or []) - len(statuses))
    regular_started = any(_has_started(s) for s in statuses)
    if failed_init and policy == "Never":
        return FAILED
    if pending_init and not regular_started:
        return PENDING
    if waiting and any(
        "waiting" in s["state"] and not _waiting_after_termination(s) for s in statuses
    ):
        return PENDING
    if running and not unknown:
        return RUNNING
    if not running and stopped and not unknown:
        if finalising:
            return SUCCEEDED if stopped == succeeded else FAILED
        if policy == "Always":
            return RUNNING
        if stopped == succeeded:
            return SUCCEEDED
        if policy == "Never":
            return FAILED
        return RUNNING
    return PENDING


def _has_started(status: dict[str, Any]) -> bool:
    state = status["state"]
    return "running" in state or "terminated" in state or "terminated" in status["lastState"]


def _condition(ctype: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    cond: dict[str, Any] = {"type": ctype, "status": "True" if ok else "False"}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _names(items: list[str]) -> str:
    return "[" + " ".join(items) + "]"


def containers_ready_condition(
    spec: dict[str, Any],
    init_statuses: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    phase: str,
) -> dict[str, Any]:
    if not statuses and not init_statuses:
        return _condition("ContainersReady", False, "UnknownContainerStatuses")
    known = {s["name"]: s for s in statuses}
    known.update({s["name"]: s for s in init_statuses})
    unknown: list[str] = []
    unready: list[str] = []
    checked = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    checked += list(spec.get("containers") or [])
    for container in checked:
        status = known.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif not status.get("ready"):
            unready.append(container["name"])
    if phase == SUCCEEDED and not unknown:
        return _condition("ContainersReady", False, "PodCompleted")
    if phase == FAILED:
        return _condition("ContainersReady", False, "PodFailed")
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_names(unready)}")
    if messages:
        return _condition("ContainersReady", False, "ContainersNotReady", ", ".join(messages))
    return _condition("ContainersReady", True)


def initialized_condition(
    spec: dict[str, Any],
    init_statuses: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    phase: str,
) -> dict[str, Any]:
    init_specs = spec.get("initContainers") or []
    if init_specs and not init_statuses:
        return _condition("Initialized", False, "UnknownContainerStatuses")
    known = {s["name"]: s for s in init_statuses}
    unknown: list[str] = []
    incomplete: list[str] = []
    for container in init_specs:
        status = known.get(container["name"])
        if status is None:
            unknown.append(container["name"])
            continue
        if container.get("restartPolicy") == "Always":
            if not status.get("started"):
                incomplete.append(container["name"])
            continue
        if not status.get("ready"):
            incomplete.append(container["name"])
    if phase == SUCCEEDED and not unknown:
        return _condition("Initialized", True, "PodCompleted")
    if any(_has_started(s) for s in statuses):
        return _condition("Initialized", True)
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_names(incomplete)}")
    if messages:
        return _condition("Initialized", False, "ContainersNotInitialized", ", ".join(messages))
    return _condition("Initialized", True)


def ready_condition(
    spec: dict[str, Any], containers_ready: dict[str, Any], conditions: list[dict[str, Any]]
) -> dict[str, Any]:
    if containers_ready["status"] != "True":
        cond = dict(containers_ready)
        cond["type"] = "Ready"
        return cond
    by_type = {c["type"]: c for c in conditions}
    unready: list[str] = []
    for gate in spec.get("readinessGates") or []:
        ctype = gate.get("conditionType", "")
        cond = by_type.get(ctype)
        if cond is None:
            unready.append(
                f'corresponding condition of pod readiness gate "{ctype}" does not exist.'
            )
        elif cond.get("status") != "True":
            unready.append(
                f'the status of pod readiness gate "{ctype}" is not "True", '
                f"but {cond.get('status')}"
            )
    if unready:
        return _condition("Ready", False, "ReadinessGatesNotReady", ", ".join(unready))
    return _condition("Ready", True)


KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def pod_conditions(
    spec: dict[str, Any],
    init_statuses: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    phase: str,
    *,
    sandbox_ready: bool,
    scheduled_at: float,
    now: float,
    previous: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The conditions in the kubelet's order; others (readiness gates) are carried over."""
    extra = [c for c in previous if c["type"] not in KUBELET_CONDITIONS + ("PodScheduled",)]
    containers_ready = containers_ready_condition(spec, init_statuses, statuses, phase)
    ready = ready_condition(spec, containers_ready, extra)
    fresh = [
        _condition("PodReadyToStartContainers", sandbox_ready),
        initialized_condition(spec, init_statuses, statuses, phase),
        ready,
        containers_ready,
        _condition("PodScheduled", True),
    ]
    old = {c["type"]: c for c in previous}
    out: list[dict[str, Any]] = []
    for cond in fresh:
        before = old.get(cond["type"])
        if cond["type"] == "PodScheduled":
            when = scheduled_at
            stamp = timestamp(when)
        elif before is not None and before["status"] == cond["status"]:
            # updateLastTransitionTime (pkg/kubelet/status/status_manager.go): the time moves
            # only when the status does. A liveness kill and its restart happen in one pod
            # sync, so Ready never turns False and keeps the time of the first start.
            stamp = before["lastTransitionTime"]
        else:
            stamp = timestamp(now)
        full: dict[str, Any] = {"type": cond["type"], "status": cond["status"]}
        full["lastProbeTime"] = None
        full["lastTransitionTime"] = stamp
        if "reason" in cond:
            full["reason"] = cond["reason"]
        if "message" in cond:
            full["message"] = cond["message"]
        out.append(full)
    return out + extra


def _resource(container: dict[str, Any], kind: str, name: str) -> int | None:
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        return None
    try:
        return cpu_millicores(value) if name == "cpu" else memory_bytes(value)
    except (QuantityError, ValueError, TypeError):
        return None


def qos_class(spec: dict[str, Any]) -> str:
    """``ComputePodQOS`` over init and app containers, cpu and memory only."""
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    any_set = False
    guaranteed = True
    for container in containers:
        for name in ("cpu", "memory"):
            limit = _resource(container, "limits", name)
            request = _resource(container, "requests", name)
            if request is None:
                request = limit
            if limit is not None or request is not None:
                any_set = True
            if limit is None or request != limit or limit == 0:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
