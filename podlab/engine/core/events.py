"""v1 Events as the kubelet and the scheduler record them, with client-side aggregation.

Reasons and message templates follow ``pkg/kubelet/events/event.go`` and the call sites listed
in the reference (§10), in their Kubernetes 1.33–1.34 wording. An event repeated with the same
key (involved object, field path, reason, message, source, type) is not recorded twice: its
``count`` grows and ``lastTimestamp`` moves, as the client-go event correlator does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podlab.engine.core.version import EPOCH, timestamp

EPOCH_UNIX = int(EPOCH.timestamp())

NORMAL = "Normal"
WARNING = "Warning"
KUBELET = "kubelet"
SCHEDULER = "default-scheduler"

# Reasons (pkg/kubelet/events/event.go and the scheduler).
SCHEDULED = "Scheduled"
PULLING = "Pulling"
PULLED = "Pulled"
FAILED = "Failed"
BACK_OFF = "BackOff"
ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"
INSPECT_FAILED = "InspectFailed"
CREATED = "Created"
STARTED = "Started"
KILLING = "Killing"
UNHEALTHY = "Unhealthy"
PROBE_WARNING = "ProbeWarning"
FAILED_POST_START_HOOK = "FailedPostStartHook"
FAILED_PRE_STOP_HOOK = "FailedPreStopHook"
DEADLINE_EXCEEDED = "DeadlineExceeded"
FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET = "FailedToRetrieveImagePullSecret"  # noqa: S105 - a reason


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` for a duration truncated to milliseconds."""
    ms = int(round(seconds * 1000))
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    hours, rem = divmod(ms, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    secs, millis = divmod(rem, 1000)
    sec_text = f"{secs}.{millis:03d}".rstrip("0").rstrip(".") if millis else str(secs)
    text = f"{sec_text}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return f"{sign}{text}"


# --- message templates ------------------------------------------------------------------


def scheduled_message(namespace: str, name: str, node: str) -> str:
    return f"Successfully assigned {namespace}/{name} to {node}"


def pulling_message(image: str) -> str:
    return f'Pulling image "{image}"'


def pulled_message(image: str, pull: float, total: float, size: int) -> str:
    return (
        f'Successfully pulled image "{image}" in {go_duration(pull)} '
        f"({go_duration(total)} including waiting). Image size: {size} bytes."
    )


def present_message(image: str) -> str:
    # 1.34 wording; 1.35 appends " and can be accessed by the pod" (KubeletEnsureSecretPulledImages)
    return f'Container image "{image}" already present on machine'


def pull_secrets_message(names: list[str]) -> str:
    return (
        f"Unable to retrieve some image pull secrets ({', '.join(names)}); attempting to pull "
        "the image may not succeed."
    )


def pull_failed_message(image: str, error: str) -> str:
    return f'Failed to pull image "{image}": {error}'


def pull_backoff_message(image: str) -> str:
    return f'Back-off pulling image "{image}"'


def never_pull_message(image: str) -> str:
    return f'Container image "{image}" is not present with pull policy of Never'


def invalid_image_message(image: str, error: str) -> str:
    return f'Failed to apply default image tag "{image}": {error}'


def created_message(name: str) -> str:
    return f"Created container: {name}"


def started_message(name: str) -> str:
    return f"Started container {name}"


def stopping_message(name: str) -> str:
    return f"Stopping container {name}"


def probe_kill_message(name: str, probe: str, restart: bool, sidecar: bool = False) -> str:
    if sidecar:
        return f"Init container {name} failed {probe} probe"
    suffix = ", will be restarted" if restart else ""
    return f"Container {name} failed {probe} probe{suffix}"


def backoff_restart_message(name: str, pod: str, namespace: str, uid: str) -> str:
    return f"Back-off restarting failed container {name} in pod {pod}_{namespace}({uid})"


def crash_loop_waiting_message(delay: float, name: str, pod: str, namespace: str, uid: str) -> str:
    return (
        f"back-off {go_duration(delay)} restarting failed container={name} "
        f"pod={pod}_{namespace}({uid})"
    )


def deadline_message() -> str:
    return "Pod was active on the node longer than the specified deadline"


@dataclass(slots=True)
class EventEntry:
    """One aggregated v1 Event."""

    name: str
    namespace: str
    pod: str
    pod_uid: str
    field_path: str
    reason: str
    message: str
    type: str
    component: str
    host: str
    first: float
    last: float
    count: int = 1
    resource_version: int = 0
    kind: str = "Pod"
    api_version: str = "v1"

    def to_dict(self) -> dict[str, Any]:
        involved: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.pod,
            "namespace": self.namespace,
            "uid": self.pod_uid,
        }
        if self.kind == "Node":
            involved.pop("apiVersion")  # the kubelet's nodeRef: kind, name, uid = name
            involved.pop("namespace")
        if self.field_path:
            involved["fieldPath"] = self.field_path
        source: dict[str, str] = {"component": self.component}
        if self.host:
            source["host"] = self.host
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": str(self.resource_version),
                "creationTimestamp": timestamp(self.first),
            },
            "involvedObject": involved,
            "reason": self.reason,
            "message": self.message,
            "source": source,
            "firstTimestamp": timestamp(self.first),
            "lastTimestamp": timestamp(self.last),
            "count": self.count,
            "type": self.type,
            "eventTime": None,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }


class EventRecorder:
    """Keeps the aggregated events and reports each add/update to ``on_change``."""

    def __init__(
        self,
        clock: Callable[[], float],
        next_version: Callable[[], int],
        on_change: Callable[[str, EventEntry], None],
    ) -> None:
        self._clock = clock
        self._next_version = next_version
        self._on_change = on_change
        self._by_key: dict[tuple[str, str, str, str, str, str], EventEntry] = {}
        self.entries: list[EventEntry] = []

    def record(
        self,
        *,
        pod: str,
        namespace: str,
        uid: str,
        reason: str,
        message: str,
        type: str = NORMAL,
        field_path: str = "",
        component: str = KUBELET,
        host: str = "",
        kind: str = "Pod",
        api_version: str = "v1",
    ) -> EventEntry:
        now = self._clock()
        key = (uid, field_path, reason, message, component, type)
        entry = self._by_key.get(key)
        if entry is not None:
            entry.count += 1
            entry.last = now
            entry.resource_version = self._next_version()
            self._on_change("MODIFIED", entry)
            return entry
        # The kubelet names an event "<object>.<UnixNano in hex>", so listing events by name
        # (the API server's order) lists them in creation order. The simulated clock has whole
        # nanoseconds to spare: the entry count keeps events of the same instant in order.
        nanos = (EPOCH_UNIX + int(now)) * 1_000_000_000 + int((now % 1) * 1e6) * 1000
        suffix = format(nanos + len(self.entries), "x")
        entry = EventEntry(
            name=f"{pod}.{suffix}",
            namespace=namespace,
            pod=pod,
            pod_uid=uid,
            field_path=field_path,
            reason=reason,
            message=message,
            type=type,
            component=component,
            host=host,
            first=now,
            last=now,
            resource_version=self._next_version(),
            kind=kind,
            api_version=api_version,
        )
        self._by_key[key] = entry
        self.entries.append(entry)
        self._on_change("ADDED", entry)
        return entry

    def for_pod(self, uid: str) -> list[EventEntry]:
        return [entry for entry in self.entries if entry.pod_uid == uid]
