"""The container and Pod state machine as a table, and the record of each change.

Every change the kubelet makes to a container (state, ready, started, restartCount) or to the
Pod phase is recorded as a ``Transition`` naming a rule of ``RULES`` and the manifest field
(and its value) that caused it, so a lesson can print the table and explain every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    field: str  # state | ready | started | restartCount | phase
    source: str  # the state(s) it leaves
    target: str  # the state it enters
    trigger: str  # what makes it happen (stable English, translated by the site)


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("image.pulling", "state", "Waiting", "Waiting", "the image is being pulled"),
        Rule(
            "image.pull-failed",
            "state",
            "Waiting",
            "Waiting:ErrImagePull",
            "the repository has no such tag",
        ),
        Rule(
            "image.pull-denied",
            "state",
            "Waiting",
            "Waiting:ErrImagePull",
            "the registry has no public repository of this name (pull access denied)",
        ),
        Rule(
            "image.pull-unreachable",
            "state",
            "Waiting",
            "Waiting:ErrImagePull",
            "the registry host name does not resolve",
        ),
        Rule(
            "image.pull-backoff",
            "state",
            "Waiting:ErrImagePull",
            "Waiting:ImagePullBackOff",
            "the kubelet waits before pulling the failed image again (10 s doubling to 300 s)",
        ),
        Rule(
            "image.never-pull",
            "state",
            "Waiting",
            "Waiting:ErrImageNeverPull",
            "imagePullPolicy is Never and the image is not on the node",
        ),
        Rule(
            "image.invalid",
            "state",
            "Waiting",
            "Waiting:InvalidImageName",
            "the image reference cannot be parsed",
        ),
        Rule(
            "container.started",
            "state",
            "Waiting",
            "Running",
            "the container was created and its process started",
        ),
        Rule(
            "container.completed",
            "state",
            "Running",
            "Terminated:Completed",
            "the main process exited with code 0",
        ),
        Rule(
            "container.failed",
            "state",
            "Running",
            "Terminated:Error",
            "the main process exited with a non-zero code",
        ),
        Rule(
            "container.oom-killed",
            "state",
            "Running",
            "Terminated:OOMKilled",
            "memory use went over the container's memory limit",
        ),
        Rule(
            "container.start-error",
            "state",
            "Waiting",
            "Terminated:StartError",
            "the runtime could not start the process",
        ),
        Rule(
            "liveness.kill",
            "state",
            "Running",
            "Terminated",
            "the liveness probe failed failureThreshold times in a row",
        ),
        Rule(
            "startup.kill",
            "state",
            "Running",
            "Terminated",
            "the startup probe failed failureThreshold times in a row",
        ),
        Rule("poststart.kill", "state", "Running", "Terminated", "the postStart hook failed"),
        Rule(
            "poststart.error",
            "state",
            "Terminated",
            "Waiting:PostStartHookError",
            "the postStart hook failed, the start is reported as an error",
        ),
        Rule(
            "delete.kill",
            "state",
            "Running",
            "Terminated",
            "the Pod was deleted: preStop, SIGTERM, then SIGKILL after the grace period",
        ),
        Rule("deadline.kill", "state", "Running", "Terminated", "activeDeadlineSeconds passed"),
        Rule(
            "manual.kill",
            "state",
            "Running",
            "Terminated",
            "a signal was sent to the container's main process",
        ),
        Rule(
            "restart.backoff",
            "state",
            "Terminated",
            "Waiting:CrashLoopBackOff",
            "restartPolicy asks for a restart but the back-off window is still open",
        ),
        Rule(
            "restart.start",
            "state",
            "Terminated|Waiting",
            "Running",
            "restartPolicy restarted the container",
        ),
        Rule(
            "restart.count",
            "restartCount",
            "n",
            "n+1",
            "a new instance of the container was created",
        ),
        Rule(
            "startup.succeeded",
            "started",
            "false",
            "true",
            "the startup probe succeeded (or there is none) and the container runs",
        ),
        Rule("startup.reset", "started", "true", "false", "the container stopped running"),
        Rule(
            "readiness.ready",
            "ready",
            "false",
            "true",
            "the readiness probe succeeded successThreshold times (or there is none)",
        ),
        Rule(
            "readiness.unready",
            "ready",
            "true",
            "false",
            "the readiness probe failed failureThreshold times, or the container stopped",
        ),
        Rule(
            "init.waiting",
            "state",
            "Waiting",
            "Waiting:PodInitializing",
            "init containers have not all completed",
        ),
        Rule(
            "pod.phase",
            "phase",
            "Pending|Running",
            "Running|Succeeded|Failed",
            "the kubelet recomputed the phase from the container states",
        ),
        Rule(
            "container.config-error",
            "state",
            "Waiting",
            "Waiting:CreateContainerConfigError",
            "the container's configuration could not be built (ConfigMap, Secret, key or "
            "runAsNonRoot)",
        ),
        Rule(
            "volume.mount-failed",
            "state",
            "Waiting",
            "Waiting:ContainerCreating",
            "a volume could not be mounted; the kubelet retries",
        ),
        Rule(
            "sidecar.stop",
            "state",
            "Running",
            "Terminated",
            "every regular container finished, so the kubelet stops the sidecars",
        ),
        Rule("evicted.kill", "state", "Running", "Terminated", "the kubelet evicted the Pod"),
        Rule(
            "pod.evicted",
            "phase",
            "Pending|Running",
            "Failed",
            "the kubelet evicted the Pod (reason Evicted): node pressure or a storage limit",
        ),
        Rule(
            "pod.deadline",
            "phase",
            "Pending|Running",
            "Failed",
            "activeDeadlineSeconds passed (reason DeadlineExceeded)",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One change: ``cause`` names the manifest field and value that made it happen."""

    t: float
    pod: str
    container: str  # "" for Pod-level changes
    field: str
    old: Any
    new: Any
    rule: str
    cause: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "pod": self.pod,
            "container": self.container,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "rule": self.rule,
            "cause": dict(self.cause),
        }


def cause(path: str, value: Any) -> dict[str, Any]:
    return {"field": path, "value": value}


def table() -> list[dict[str, str]]:
    """The rules in a printable form (id, field, from, to, trigger)."""
    return [
        {"id": r.id, "field": r.field, "from": r.source, "to": r.target, "trigger": r.trigger}
        for r in RULES.values()
    ]
