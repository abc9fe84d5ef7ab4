"""``kubectl get`` tables: pods (+ ``-o wide`` and ``-w``), events, nodes, services,
namespaces, serviceaccounts.

The Pod row is kubectl 1.34's ``printPod``: STATUS starts from the phase (or ``status.reason``),
init containers are walked in order (``Init:N/M``, ``Init:<reason>``, ``Init:Signal:N``,
``Init:ExitCode:N``; started sidecars count as ready), then, unless initialisation is still
under way, app containers are walked from last to first so the first container has the final
say; ``Completed`` with a ready running container becomes ``Running``/``NotReady``; a deletion
timestamp shows ``Terminating`` (``Unknown`` for ``NodeLost``) unless the phase is terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podlab.engine.kubectl.duration import human_duration, parse_time, since
from podlab.engine.kubectl.tabwriter import WatchTable, align, table

POD_COLUMNS = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
POD_WIDE_COLUMNS = ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
EVENT_COLUMNS = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
NODE_COLUMNS = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
SERVICE_COLUMNS = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
DEPLOYMENT_COLUMNS = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
REPLICASET_COLUMNS = ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
JOB_COLUMNS = ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
ENDPOINTS_COLUMNS = ["NAME", "ENDPOINTS", "AGE"]
NAMESPACE_COLUMNS = ["NAME", "STATUS", "AGE"]
SERVICEACCOUNT_COLUMNS = ["NAME", "SECRETS", "AGE"]

NODE_UNREACHABLE_REASON = "NodeLost"


@dataclass(frozen=True)
class PodSummary:
    """The computed cells of one ``get pods`` row."""

    name: str
    ready: str
    status: str
    restarts: str
    age: str


def _is_sidecar(container: dict[str, Any] | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _later(current: float | None, candidate: str | None) -> float | None:
    moment = parse_time(value=candidate)
    if moment is None:
        return current
    if current is None or current < moment:
        return moment
    return current


def _condition_true(status: dict[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or []
    )


def _terminated_reason(terminated: dict[str, Any], prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def summarize_pod(*, pod: dict[str, Any], now: float) -> PodSummary:
    """READY, STATUS, RESTARTS and AGE of a Pod exactly as ``kubectl get pods`` computes them."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase

    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = spec.get("initContainers") or []
    by_name = {c.get("name"): c for c in init_specs}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs if _is_sidecar(c))
    ready = 0
    restarts = 0
    last_restart: float | None = None
    sidecar_restarts = 0
    last_sidecar_restart: float | None = None

    initializing = False
    for index, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        last_terminated = (cs.get("lastState") or {}).get("terminated")
        restarts += int(cs.get("restartCount") or 0)
        if last_terminated:
            last_restart = _later(last_restart, last_terminated.get("finishedAt"))
        sidecar = _is_sidecar(by_name.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if last_terminated:
                finished = last_terminated.get("finishedAt")
                last_sidecar_restart = _later(last_sidecar_restart, finished)
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif (
            waiting is not None
            and waiting.get("reason")
            and waiting.get("reason") != "PodInitializing"
        ):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            restarts += int(cs.get("restartCount") or 0)
            last_terminated = (cs.get("lastState") or {}).get("terminated")
            if last_terminated:
                last_restart = _later(last_restart, last_terminated.get("finishedAt"))
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == NODE_UNREACHABLE_REASON:
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_text = f"{restarts} {_ago_seconds(now - last_restart)}"
    return PodSummary(
        name=meta.get("name") or "",
        ready=f"{ready}/{total}",
        status=reason,
        restarts=restarts_text,
        age=since(value=meta.get("creationTimestamp"), now=now),
    )


def _ago_seconds(elapsed: float) -> str:
    return f"({human_duration(seconds=elapsed)} ago)"


def pod_cells(*, pod: dict[str, Any], now: float, wide: bool = False) -> list[str]:
    """One ``get pods`` row as cells (``wide`` adds IP, NODE, NOMINATED NODE, READINESS GATES)."""
    s = summarize_pod(pod=pod, now=now)
    cells = [s.name, s.ready, s.status, s.restarts, s.age]
    if wide:
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        ips = status.get("podIPs") or []
        ip = (ips[0].get("ip") if ips else "") or "<none>"
        gates = spec.get("readinessGates") or []
        gate_text = "<none>"
        if gates:
            true_count = 0
            for gate in gates:
                for condition in status.get("conditions") or []:
                    if condition.get("type") == gate.get("conditionType"):
                        if condition.get("status") == "True":
                            true_count += 1
                        break
            gate_text = f"{true_count}/{len(gates)}"
        cells += [
            ip,
            spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>",
            gate_text,
        ]
    return cells


def _header(*, wide: bool) -> list[str]:
    return POD_COLUMNS + (POD_WIDE_COLUMNS if wide else [])


def get_pods(*, pods: list[dict[str, Any]], now: float, wide: bool = False) -> str:
    """``kubectl get pods`` (sorted by name, as the API server lists them).

    With no Pods kubectl writes nothing to stdout (its ``No resources found in default
    namespace.`` goes to stderr); this returns ``""`` then.
    """
    if not pods:
        return ""
    ordered = sorted(pods, key=_list_key)
    rows = [pod_cells(pod=p, now=now, wide=wide) for p in ordered]
    return table(header=_header(wide=wide), rows=rows)


def _list_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class PodWatch:
    """``kubectl get pods -w``: the header once, then the current row of a Pod per change.

    Column widths are remembered between lines, as kubectl's watch printer does, so a column
    grows when a wider value arrives and never shrinks.
    """

    def __init__(self, *, wide: bool = False) -> None:
        self.wide = wide
        self._table = WatchTable()
        self._started = False

    def line(self, *, pod: dict[str, Any], now: float) -> str:
        """The text to print for one ADDED/MODIFIED/DELETED Pod (the header comes first once)."""
        cells = pod_cells(pod=pod, now=now, wide=self.wide)
        text = ""
        if not self._started:
            header = _header(wide=self.wide)
            both = "\t".join(header) + "\n" + "\t".join(cells)
            text = align(
                text=both, minwidth=self._table.minwidth, padding=self._table.padding,
                remembered=self._table.remembered,
            )
            self._started = True
            return text + "\n"
        return self._table.line(cells=cells) + "\n"


def event_cells(*, event: dict[str, Any], now: float) -> list[str]:
    """One ``get events`` row: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE."""
    first_seen = since(value=event.get("firstTimestamp"), now=now)
    if not event.get("firstTimestamp"):
        first_seen = since(value=event.get("eventTime"), now=now)
    last_seen = since(value=event.get("lastTimestamp"), now=now)
    if not event.get("lastTimestamp"):
        last_seen = first_seen
    series = event.get("series")
    if series:
        last_seen = since(value=series.get("lastObservedTime"), now=now)
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        (event.get("message") or "").strip(),
    ]


def get_events(*, events: list[dict[str, Any]], now: float) -> str:
    """``kubectl get events``: in list order, which is the API server's order by name.

    kubectl applies no sort of its own; the kubelet names events ``<object>.<hex nanos>``, so
    name order is creation order per object. Empty list: ``""`` (kubectl's notice is stderr).
    """
    if not events:
        return ""
    ordered = sorted(events, key=_list_key)
    return table(header=EVENT_COLUMNS, rows=[event_cells(event=e, now=now) for e in ordered])


def get_nodes(*, nodes: list[dict[str, Any]], now: float) -> str:
    """``kubectl get nodes``: NAME STATUS ROLES AGE VERSION."""
    if not nodes:
        return ""
    rows = []
    for node in sorted(nodes, key=_list_key):
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        ready = "Unknown"
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Ready":
                ready = "Ready" if condition.get("status") == "True" else "NotReady"
        states = [ready]
        if spec.get("unschedulable"):
            states.append("SchedulingDisabled")
        roles = sorted(
            {
                key.removeprefix("node-role.kubernetes.io/")
                for key in meta.get("labels") or {}
                if key.startswith("node-role.kubernetes.io/")
                and key != "node-role.kubernetes.io/"
            }
            | {
                value
                for key, value in (meta.get("labels") or {}).items()
                if key == "kubernetes.io/role" and value
            }
        )
        rows.append([
            meta.get("name") or "",
            ",".join(states),
            ",".join(roles) or "<none>",
            since(value=meta.get("creationTimestamp"), now=now),
            (status.get("nodeInfo") or {}).get("kubeletVersion") or "",
        ])
    return table(header=NODE_COLUMNS, rows=rows)


def get_services(*, services: list[dict[str, Any]], now: float, prefix: str = "") -> str:
    """``kubectl get services``: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE."""
    if not services:
        return ""
    rows = []
    for svc in sorted(services, key=_list_key):
        meta = svc.get("metadata") or {}
        spec = svc.get("spec") or {}
        kind = spec.get("type") or "ClusterIP"
        external = spec.get("externalIPs") or []
        if kind == "ExternalName":
            external_text = spec.get("externalName") or ""
        elif kind == "LoadBalancer":
            external_text = ",".join(external) or "<pending>"
        else:
            external_text = ",".join(external) or "<none>"
        ports = []
        for port in spec.get("ports") or []:
            piece = f"{port.get('port')}/{port.get('protocol') or 'TCP'}"
            if port.get("nodePort"):
                piece = f"{port.get('port')}:{port['nodePort']}/{port.get('protocol') or 'TCP'}"
            ports.append(piece)
        rows.append([
            _prefixed(meta.get("name") or "", prefix),
            kind,
            spec.get("clusterIP") or "<none>",
            external_text,
            ",".join(ports) or "<none>",
            since(value=meta.get("creationTimestamp"), now=now),
        ])
    return table(header=SERVICE_COLUMNS, rows=rows)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _prefixed(name: str, prefix: str) -> str:
    return f"{prefix}{name}" if prefix else name


def get_deployments(*, deployments: list[dict[str, Any]], now: float, prefix: str = "") -> str:
    """``kubectl get deployments``: READY is readyReplicas/spec.replicas."""
    if not deployments:
        return ""
    rows = []
    for obj in sorted(deployments, key=_list_key):
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        rows.append([
            _prefixed(meta.get("name") or "", prefix),
            f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
            str(_int(status.get("updatedReplicas"))),
            str(_int(status.get("availableReplicas"))),
            since(value=meta.get("creationTimestamp"), now=now),
        ])
    return table(header=DEPLOYMENT_COLUMNS, rows=rows)


def get_replicasets(*, replicasets: list[dict[str, Any]], now: float, prefix: str = "") -> str:
    """``kubectl get replicasets``: DESIRED (spec), CURRENT and READY (status)."""
    if not replicasets:
        return ""
    rows = []
    for obj in sorted(replicasets, key=_list_key):
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        rows.append([
            _prefixed(meta.get("name") or "", prefix),
            str(_int(spec.get("replicas"))),
            str(_int(status.get("replicas"))),
            str(_int(status.get("readyReplicas"))),
            since(value=meta.get("creationTimestamp"), now=now),
        ])
    return table(header=REPLICASET_COLUMNS, rows=rows)


def _job_condition(status: dict[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def job_status(job: dict[str, Any]) -> str:
    """The STATUS column of ``printJob`` (kubectl 1.32+)."""
    status = job.get("status") or {}
    if _job_condition(status, "Complete"):
        return "Complete"
    if _job_condition(status, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if _job_condition(status, "Suspended"):
        return "Suspended"
    if _job_condition(status, "FailureTarget"):
        return "FailureTarget"
    if _job_condition(status, "SuccessCriteriaMet"):
        return "SuccessCriteriaMet"
    return "Running"


def get_jobs(*, jobs: list[dict[str, Any]], now: float, prefix: str = "") -> str:
    """``kubectl get jobs``: NAME STATUS COMPLETIONS DURATION AGE."""
    if not jobs:
        return ""
    rows = []
    for obj in sorted(jobs, key=_list_key):
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        succeeded = _int(status.get("succeeded"))
        if spec.get("completions") is not None:
            completions = f"{succeeded}/{_int(spec.get('completions'))}"
        elif _int(spec.get("parallelism")) > 1:
            completions = f"{succeeded}/1 of {_int(spec.get('parallelism'))}"
        else:
            completions = f"{succeeded}/1"
        start = parse_time(value=status.get("startTime"))
        end = parse_time(value=status.get("completionTime"))
        duration = ""
        if start is not None:
            duration = human_duration(seconds=(end if end is not None else now) - start)
        rows.append([
            _prefixed(meta.get("name") or "", prefix),
            job_status(obj),
            completions,
            duration,
            since(value=meta.get("creationTimestamp"), now=now),
        ])
    return table(header=JOB_COLUMNS, rows=rows)


def endpoints_text(endpoints: dict[str, Any], limit: int = 3) -> str:
    """``formatEndpoints``: ready ``ip:port`` pairs, at most ``limit`` then ``+ N more...``."""
    pairs: list[str] = []
    count = 0
    for subset in endpoints.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for address in subset.get("addresses") or []:
            for port in ports:
                count += 1
                if len(pairs) < limit:
                    ip = address.get("ip") or ""
                    pairs.append(f"{ip}:{port['port']}" if port.get("port") else ip)
    if not pairs:
        return "<none>"
    text = ",".join(pairs)
    if count > limit:
        text += f" + {count - limit} more..."
    return text


def get_endpoints(*, endpoints: list[dict[str, Any]], now: float) -> str:
    """``kubectl get endpoints``: NAME ENDPOINTS AGE."""
    if not endpoints:
        return ""
    rows = [
        [
            (obj.get("metadata") or {}).get("name") or "",
            endpoints_text(obj),
            since(value=(obj.get("metadata") or {}).get("creationTimestamp"), now=now),
        ]
        for obj in sorted(endpoints, key=_list_key)
    ]
    return table(header=ENDPOINTS_COLUMNS, rows=rows)


def get_namespaces(*, namespaces: list[dict[str, Any]], now: float) -> str:
    """``kubectl get namespaces``: NAME, STATUS (``status.phase``: Active or Terminating)
    and AGE, as kubectl's ``printNamespace`` fills them; by name."""
    if not namespaces:
        return ""
    rows = [
        [
            (obj.get("metadata") or {}).get("name") or "",
            (obj.get("status") or {}).get("phase") or "",
            since(value=(obj.get("metadata") or {}).get("creationTimestamp"), now=now),
        ]
        for obj in sorted(namespaces, key=_list_key)
    ]
    return table(header=NAMESPACE_COLUMNS, rows=rows)


def get_serviceaccounts(*, accounts: list[dict[str, Any]], now: float) -> str:
    """``kubectl get serviceaccounts``: NAME, SECRETS (how many ``secrets`` the account
    lists: 0 since token Secrets are no longer made for it) and AGE (``printServiceAccount``);
    by name."""
    if not accounts:
        return ""
    rows = [
        [
            (obj.get("metadata") or {}).get("name") or "",
            str(len(obj.get("secrets") or [])),
            since(value=(obj.get("metadata") or {}).get("creationTimestamp"), now=now),
        ]
        for obj in sorted(accounts, key=_list_key)
    ]
    return table(header=SERVICEACCOUNT_COLUMNS, rows=rows)


__all__ = [
    "NAMESPACE_COLUMNS",
    "SERVICEACCOUNT_COLUMNS",
    "get_namespaces",
    "get_serviceaccounts",
    "DEPLOYMENT_COLUMNS",
    "ENDPOINTS_COLUMNS",
    "EVENT_COLUMNS",
    "JOB_COLUMNS",
    "REPLICASET_COLUMNS",
    "endpoints_text",
    "get_deployments",
    "get_endpoints",
    "get_jobs",
    "get_replicasets",
    "job_status",
    "POD_COLUMNS",
    "POD_WIDE_COLUMNS",
    "PodSummary",
    "PodWatch",
    "event_cells",
    "get_events",
    "get_nodes",
    "get_pods",
    "get_services",
    "pod_cells",
    "summarize_pod",
]
