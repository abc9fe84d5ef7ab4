"""``kubectl logs`` and ``kubectl logs --previous``.

Which instance's log is readable follows the kubelet's ``validateContainerLogStatus``; the
refusals are the API server's ``BadRequest`` messages that kubectl prints after
``Error from server (BadRequest): ``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``fetch(pod_name, container_name, previous)`` returns that instance's log text.
LogFetcher = Callable[[str, str, bool], str]


class LogsError(Exception):
    """kubectl would refuse; ``str()`` is the whole line kubectl prints to stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Error from server (BadRequest): {message}")
        self.message = message


def _find_status(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return cs
    return None


def container_names(*, pod: dict[str, Any]) -> list[str]:
    """Init containers then app containers, in spec order (``--all-containers`` order)."""
    spec = pod.get("spec") or {}
    return [c.get("name", "") for c in (spec.get("initContainers") or [])] + [
        c.get("name", "") for c in (spec.get("containers") or [])
    ]


def check_readable(*, pod: dict[str, Any], container: str, previous: bool) -> None:
    """Raise :class:`LogsError` when the kubelet would refuse this log request."""
    pod_name = (pod.get("metadata") or {}).get("name", "")
    if container not in container_names(pod=pod):
        raise LogsError(f"container {container} is not valid for pod {pod_name}")
    cs = _find_status(pod, container)
    if cs is None:
        default = "PodInitializing" if (pod.get("spec") or {}).get("initContainers") else (
            "ContainerCreating"
        )
        raise LogsError(
            f'container "{container}" in pod "{pod_name}" is waiting to start: {default}'
        )
    subject = f'container "{container}" in pod "{pod_name}"'
    state = cs.get("state") or {}
    last = (cs.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise LogsError(
                f'previous terminated container "{container}" in pod "{pod_name}" not found'
            )
        return
    if state.get("running") is not None:
        return
    terminated = state.get("terminated")
    if terminated is not None:
        if terminated.get("containerID") or (last and last.get("containerID")):
            return
        raise LogsError(f'container "{container}" in pod "{pod_name}" is terminated')
    if last is not None:
        if last.get("containerID"):
            return
        raise LogsError(f'container "{container}" in pod "{pod_name}" is terminated')
    waiting = state.get("waiting")
    if waiting is not None:
        reason = waiting.get("reason") or ""
        if reason == "ErrImagePull":
            detail = "image can't be pulled"
        elif reason == "ImagePullBackOff":
            detail = "trying and failing to pull image"
        else:
            detail = reason
        raise LogsError(f'{subject} is waiting to start: {detail}')
    raise LogsError(f'{subject} is waiting to start - no logs yet')


def logs(
    *, pod: dict[str, Any], container: str | None, previous: bool, fetch: LogFetcher
) -> str:
    """``kubectl logs POD [-c CONTAINER] [--previous]``.

    Without a container name kubectl picks the only container, or the one named by the
    ``kubectl.kubernetes.io/default-container`` annotation, else the first one (printing a
    ``Defaulted container ...`` notice on stderr, which this text does not include).
    """
    name = container or default_container(pod=pod)
    check_readable(pod=pod, container=name, previous=previous)
    return fetch((pod.get("metadata") or {}).get("name", ""), name, previous)


def default_container(*, pod: dict[str, Any]) -> str:
    """The container kubectl reads when none is named."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    chosen = annotations.get("kubectl.kubernetes.io/default-container")
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    if chosen and chosen in container_names(pod=pod):
        return chosen
    return names[0] if names else ""


def prefixed(*, pod_name: str, container: str, text: str) -> str:
    """``kubectl logs --prefix`` lines: ``[pod/NAME/CONTAINER] line``."""
    if not text:
        return ""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f"[pod/{pod_name}/{container}] {line}\n" for line in lines)
