"""``kubectl describe pod`` laid out exactly as kubectl 1.34 prints it.

The text is built as kubectl builds it: lines prefixed with two spaces per level, cells
separated by tabs, then aligned by the tabwriter with minwidth 0 and padding 2. Times use
Go's RFC 1123 layout with a numeric zone (``Wed, 01 Jan 2025 00:00:05 +0000``).
"""

from __future__ import annotations

import math
from typing import Any

from podlab.engine.core.quantity import QuantityError, canonical, parse_quantity
from podlab.engine.kubectl.duration import parse_time, rfc1123z, since
from podlab.engine.kubectl.tabwriter import DESCRIBE_MINWIDTH, DESCRIBE_PADDING, align

#: Annotations kubectl leaves out of ``describe``.
SKIPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
MAX_ANNOTATION_LEN = 140


class _Writer:
    """kubectl's PrefixWriter feeding a tabwriter that can be flushed part-way."""

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._done: list[str] = []

    def write(self, level: int, text: str) -> None:
        self._pending.append("  " * level + text)

    def flush(self) -> None:
        text = "".join(self._pending)
        self._pending = []
        if text:
            self._done.append(
                align(text=text, minwidth=DESCRIBE_MINWIDTH, padding=DESCRIBE_PADDING)
            )

    def result(self) -> str:
        self.flush()
        return "".join(self._done)


def _quantity(value: Any) -> str:
    try:
        return canonical(value)
    except (QuantityError, ValueError, TypeError):
        return str(value)


def _labels(w: _Writer, title: str, labels: dict[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    if not labels:
        w.write(0, "<none>\n")
        return
    for i, key in enumerate(sorted(labels)):
        if i:
            w.write(0, "\t")
        w.write(0, f"{key}={labels[key]}\n")


def _annotations(w: _Writer, title: str, annotations: dict[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(k for k in (annotations or {}) if k not in SKIPPED_ANNOTATIONS)
    if not keys:
        w.write(0, "<none>\n")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = (annotations or {})[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                limit = MAX_ANNOTATION_LEN - 2
                shown = part[:limit] + "..." if len(part) > limit else part
                w.write(0, f"\t  {shown}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def _tolerations(w: _Writer, title: str, tolerations: list[dict[str, Any]] | None) -> None:
    w.write(0, f"{title}:\t")
    if not tolerations:
        w.write(0, "<none>\n")
        return
    ordered = sorted(tolerations, key=lambda t: t.get("key") or "")
    for i, tol in enumerate(ordered):
        if i:
            w.write(0, "\t")
        key = tol.get("key") or ""
        value = tol.get("value") or ""
        effect = tol.get("effect") or ""
        text = key
        if value:
            text += f"={value}"
        if effect:
            text += f":{effect}"
        if tol.get("operator") == "Exists" and not value:
            text += " op=Exists" if (key or effect) else "op=Exists"
        if tol.get("tolerationSeconds") is not None:
            text += f" for {tol['tolerationSeconds']}s"
        w.write(0, text + "\n")


def _probe(probe: dict[str, Any]) -> str:
    attrs = (
        f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
        f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
        f"#failure={probe.get('failureThreshold', 3)}"
    )
    if probe.get("exec") is not None:
        command = " ".join(str(c) for c in probe["exec"].get("command") or [])
        return f"exec [{command}] {attrs}"
    if probe.get("httpGet") is not None:
        http = probe["httpGet"]
        scheme = str(http.get("scheme") or "HTTP").lower()
        host = http.get("host") or ""
        port = str(http.get("port", ""))
        if port:
            hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        else:
            hostport = host
        path = http.get("path") or ""
        if path and not path.startswith("/") and hostport:
            path = "/" + path
        return f"http-get {scheme}://{hostport}{path} {attrs}"
    if probe.get("tcpSocket") is not None:
        tcp = probe["tcpSocket"]
        return f"tcp-socket {tcp.get('host') or ''}:{tcp.get('port', '')} {attrs}"
    if probe.get("grpc") is not None:
        grpc = probe["grpc"]
        return f"grpc <pod>:{grpc.get('port')} {grpc.get('service') or ''} {attrs}"
    return f"unknown {attrs}"


def _state(w: _Writer, name: str, state: dict[str, Any] | None) -> None:
    state = state or {}
    if state.get("running") is not None:
        w.write(2, f"{name}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(value=state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{name}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        term = state["terminated"]
        w.write(2, f"{name}:\tTerminated\n")
        if term.get("reason"):
            w.write(3, f"Reason:\t{term['reason']}\n")
        if term.get("message"):
            w.write(3, f"Message:\t{term['message']}\n")
        w.write(3, f"Exit Code:\t{term.get('exitCode', 0)}\n")
        if (term.get("signal") or 0) > 0:
            w.write(3, f"Signal:\t{term['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(value=term.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(value=term.get('finishedAt'))}\n")
    else:
        w.write(2, f"{name}:\tWaiting\n")


def _resources(w: _Writer, resources: dict[str, Any] | None, level: int) -> None:
    resources = resources or {}
    for title in ("limits", "requests"):
        values = resources.get(title) or {}
        if values:
            w.write(level, f"{title.capitalize()}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{_quantity(values[name])}\n")


def _field_value(pod: dict[str, Any], path: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    for prefix, mapping in (("metadata.labels", meta.get("labels")),
                            ("metadata.annotations", meta.get("annotations"))):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return (mapping or {}).get(path[len(prefix) + 2:-2], "")
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
        "status.podIPs": ",".join(i.get("ip", "") for i in status.get("podIPs") or []),
        "status.hostIPs": ",".join(i.get("ip", "") for i in status.get("hostIPs") or []),
    }
    if path == "metadata.labels":
        return "\n".join(f'{k}="{v}"' for k, v in sorted((meta.get("labels") or {}).items()))
    if path == "metadata.annotations":
        return "\n".join(
            f'{k}="{v}"' for k, v in sorted((meta.get("annotations") or {}).items())
        )
    return simple.get(path) or ""


def _resource_field(container: dict[str, Any], ref: dict[str, Any]) -> str:
    resource = ref.get("resource") or ""
    kind, _, name = resource.partition(".")
    raw = ((container.get("resources") or {}).get(kind) or {}).get(name)
    try:
        divisor = parse_quantity(ref.get("divisor") or "1")
        amount = parse_quantity(raw if raw is not None else 0)
    except QuantityError:
        return ""
    if divisor.value == 0:
        return ""
    if name == "cpu":
        value = math.ceil(amount.millicores() / divisor.millicores())
    else:
        value = math.ceil(amount.as_int() / divisor.as_int())
    return str(value)


def _env(w: _Writer, pod: dict[str, Any], container: dict[str, Any]) -> None:
    env_from = container.get("envFrom") or []
    if env_from:
        w.write(2, "Environment Variables from:\n")
        for source in env_from:
            if source.get("configMapRef") is not None:
                kind, ref = "ConfigMap", source["configMapRef"]
            else:
                kind, ref = "Secret", source.get("secretRef") or {}
            optional = "true" if ref.get("optional") else "false"
            if source.get("prefix"):
                w.write(3, f"{ref.get('name', '')}\t{kind} with prefix '{source['prefix']}'"
                           f"\tOptional: {optional}\n")
            else:
                w.write(3, f"{ref.get('name', '')}\t{kind}\tOptional: {optional}\n")
    env = container.get("env") or []
    w.write(2, "Environment:" + ("" if env else "\t<none>") + "\n")
    for var in env:
        name = var.get("name", "")
        source = var.get("valueFrom")
        if source is None:
            for i, part in enumerate(str(var.get("value", "")).split("\n")):
                w.write(3, f"{name}:\t{part}\n" if i == 0 else f"\t{part}\n")
            continue
        if source.get("fieldRef") is not None:
            ref = source["fieldRef"]
            value = _field_value(pod, ref.get("fieldPath") or "")
            w.write(3, f"{name}:\t{value} ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath')})\n")
        elif source.get("resourceFieldRef") is not None:
            ref = source["resourceFieldRef"]
            value = _resource_field(container, ref)
            if value == "0" and ref.get("resource") in ("limits.cpu", "limits.memory"):
                value = "node allocatable"
            w.write(3, f"{name}:\t{value} ({ref.get('resource')})\n")
        elif source.get("secretKeyRef") is not None:
            ref = source["secretKeyRef"]
            optional = "true" if ref.get("optional") else "false"
            w.write(3, f"{name}:\t<set to the key '{ref.get('key')}' in secret "
                       f"'{ref.get('name')}'>\tOptional: {optional}\n")
        elif source.get("configMapKeyRef") is not None:
            ref = source["configMapKeyRef"]
            optional = "true" if ref.get("optional") else "false"
            w.write(3, f"{name}:\t<set to the key '{ref.get('key')}' of config map "
                       f"'{ref.get('name')}'>\tOptional: {optional}\n")


def _mounts(w: _Writer, container: dict[str, Any]) -> None:
    mounts = container.get("volumeMounts") or []
    w.write(2, "Mounts:" + ("" if mounts else "\t<none>") + "\n")
    for mount in sorted(mounts, key=lambda m: m.get("mountPath") or ""):
        flags = ["ro" if mount.get("readOnly") else "rw"]
        if mount.get("subPath"):
            flags.append(f'path="{mount["subPath"]}"')
        w.write(3, f"{mount.get('mountPath')} from {mount.get('name')} ({','.join(flags)})\n")


def _ports(ports: list[dict[str, Any]], key: str) -> str:
    return ", ".join(f"{p.get(key, 0)}/{p.get('protocol') or 'TCP'}" for p in ports)


def _containers(
    w: _Writer, pod: dict[str, Any], label: str, containers: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
) -> None:
    by_name = {s.get("name"): s for s in statuses}
    w.write(0, f"{label}:" + ("" if containers else " <none>") + "\n")
    for container in containers:
        status = by_name.get(container.get("name"))
        w.write(1, f"{container.get('name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID') or ''}\n")
        w.write(2, f"Image:\t{container.get('image') or ''}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID') or ''}\n")
        ports = container.get("ports") or []
        port_text = _ports(ports, "containerPort")
        if "," in port_text:
            w.write(2, f"Ports:\t{port_text}\n")
        else:
            w.write(2, f"Port:\t{port_text or '<none>'}\n")
        host_text = _ports(ports, "hostPort")
        if "," in host_text:
            w.write(2, f"Host Ports:\t{host_text}\n")
        else:
            w.write(2, f"Host Port:\t{host_text or '<none>'}\n")
        seccomp = (container.get("securityContext") or {}).get("seccompProfile")
        if seccomp:
            w.write(2, f"SeccompProfile:\t{seccomp.get('type')}\n")
            if seccomp.get("type") == "Localhost":
                w.write(3, f"LocalhostProfile:\t{seccomp.get('localhostProfile')}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            values = container.get(key) or []
            if values:
                w.write(2, f"{title}:\n")
                for value in values:
                    for part in str(value).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            _state(w, "State", status.get("state"))
            if (status.get("lastState") or {}).get("terminated") is not None:
                _state(w, "Last State", status.get("lastState"))
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        _resources(w, container.get("resources"), 2)
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"),
                           ("Startup", "startupProbe")):
            if container.get(key) is not None:
                w.write(2, f"{title}:\t{_probe(container[key])}\n")
        _env(w, pod, container)
        _mounts(w, container)


def _volumes(w: _Writer, volumes: list[dict[str, Any]]) -> None:
    if not volumes:
        w.write(0, "Volumes:\t<none>\n")
        return
    w.write(0, "Volumes:\n")
    for volume in volumes:
        w.write(1, f"{volume.get('name')}:\n")
        if volume.get("emptyDir") is not None:
            empty = volume["emptyDir"]
            limit = empty.get("sizeLimit")
            size = _quantity(limit) if limit not in (None, "0", 0) else "<unset>"
            w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                       f"    Medium:\t{empty.get('medium') or ''}\n    SizeLimit:\t{size}\n")
        elif volume.get("hostPath") is not None:
            host = volume["hostPath"]
            w.write(2, "Type:\tHostPath (bare host directory volume)\n"
                       f"    Path:\t{host.get('path')}\n"
                       f"    HostPathType:\t{host.get('type') or '<none>'}\n")
        elif volume.get("configMap") is not None:
            cm = volume["configMap"]
            w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                       f"    Name:\t{cm.get('name')}\n"
                       f"    Optional:\t{'true' if cm.get('optional') else 'false'}\n")
        elif volume.get("secret") is not None:
            secret = volume["secret"]
            w.write(2, "Type:\tSecret (a volume populated by a Secret)\n"
                       f"    SecretName:\t{secret.get('secretName')}\n"
                       f"    Optional:\t{'true' if secret.get('optional') else 'false'}\n")
        elif volume.get("persistentVolumeClaim") is not None:
            claim = volume["persistentVolumeClaim"]
            w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim "
                       "in the same namespace)\n"
                       f"    ClaimName:\t{claim.get('claimName')}\n"
                       f"    ReadOnly:\t{'true' if claim.get('readOnly') else 'false'}\n")
        elif volume.get("downwardAPI") is not None:
            w.write(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n"
                       "    Items:\n")
            for item in volume["downwardAPI"].get("items") or []:
                if item.get("fieldRef"):
                    w.write(3, f"{item['fieldRef'].get('fieldPath')} -> {item.get('path')}\n")
                if item.get("resourceFieldRef"):
                    w.write(3, f"{item['resourceFieldRef'].get('resource')} -> "
                               f"{item.get('path')}\n")
        elif volume.get("projected") is not None:
            w.write(2, "Type:\tProjected (a volume that contains injected data from multiple "
                       "sources)\n")
            for source in volume["projected"].get("sources") or []:
                if source.get("secret") is not None:
                    ref = source["secret"]
                    w.write(2, f"SecretName:\t{ref.get('name')}\n"
                               f"    Optional:\t{'true' if ref.get('optional') else 'false'}\n")
                elif source.get("downwardAPI") is not None:
                    w.write(2, "DownwardAPI:\ttrue\n")
                elif source.get("configMap") is not None:
                    ref = source["configMap"]
                    w.write(2, f"ConfigMapName:\t{ref.get('name')}\n"
                               f"    Optional:\t{'true' if ref.get('optional') else 'false'}\n")
                elif source.get("serviceAccountToken") is not None:
                    seconds = source["serviceAccountToken"].get("expirationSeconds", 3600)
                    w.write(2, f"TokenExpirationSeconds:\t{seconds}\n")
        else:
            w.write(1, "<unknown>\n")


def _qos(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    if status.get("qosClass"):
        return status["qosClass"]
    spec = pod.get("spec") or {}
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = {k: v for k, v in (resources.get("requests") or {}).items()
                    if k in ("cpu", "memory")}
        limits = {k: v for k, v in (resources.get("limits") or {}).items()
                  if k in ("cpu", "memory")}
        if requests or limits:
            any_set = True
        if set(limits) != {"cpu", "memory"}:
            guaranteed = False
            continue
        for name, limit in limits.items():
            request = requests.get(name, limit)
            try:
                if parse_quantity(request).value != parse_quantity(limit).value:
                    guaranteed = False
            except QuantityError:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _events(w: _Writer, events: list[dict[str, Any]], now: float) -> None:
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()

    def sort_key(event: dict[str, Any]) -> float:
        series = event.get("series") or {}
        for value in (series.get("lastObservedTime"), event.get("lastTimestamp"),
                      event.get("eventTime")):
            moment = parse_time(value=value)
            if moment is not None:
                return moment
        return -math.inf

    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=sort_key):
        first = since(value=event.get("eventTime"), now=now)
        if not event.get("eventTime"):
            first = since(value=event.get("firstTimestamp"), now=now)
        series = event.get("series")
        count = int(event.get("count") or 0)
        if series:
            last = since(value=series.get("lastObservedTime"), now=now)
            interval = f"{last} (x{series.get('count')} over {first})"
        elif count > 1:
            last = since(value=event.get("lastTimestamp"), now=now)
            interval = f"{last} (x{count} over {first})"
        else:
            interval = first
        source = (event.get("source") or {}).get("component") or event.get(
            "reportingComponent") or ""
        message = (event.get("message") or "").strip()
        w.write(1, f"{event.get('type') or ''}\t{event.get('reason') or ''}\t{interval}"
                   f"\t{source}\t{message}\n")


def events_for_pod(*, pod: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events ``describe`` lists for a Pod: same name and namespace (and UID when known)."""
    meta = pod.get("metadata") or {}
    chosen = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("name") != meta.get("name"):
            continue
        if (involved.get("namespace") or "default") != (meta.get("namespace") or "default"):
            continue
        if involved.get("kind") not in (None, "", "Pod"):
            continue
        if meta.get("uid") and involved.get("uid") and involved["uid"] != meta["uid"]:
            continue
        chosen.append(event)
    return chosen


def describe_pod(
    *, pod: dict[str, Any], events: list[dict[str, Any]] | None, now: float
) -> str:
    """``kubectl describe pod`` text; ``events`` are filtered to this Pod (``None``: no section)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    w = _Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace') or 'default'}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        w.write(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP') or ''}\n")
    else:
        w.write(0, "Node:\t<none>\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(value=status['startTime'])}\n")
    _labels(w, "Labels", meta.get("labels"))
    _annotations(w, "Annotations", meta.get("annotations"))
    phase = status.get("phase") or ""
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        lasts = since(value=meta["deletionTimestamp"], now=now)
        w.write(0, f"Status:\tTerminating (lasts {lasts})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    seccomp = (spec.get("securityContext") or {}).get("seccompProfile")
    if seccomp:
        w.write(0, f"SeccompProfile:\t{seccomp.get('type')}\n")
        if seccomp.get("type") == "Localhost":
            w.write(0, f"LocalhostProfile:\t{seccomp.get('localhostProfile')}\n")
    w.write(0, f"IP:\t{status.get('podIP') or ''}\n")
    ips = status.get("podIPs") or []
    if not ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for ip in ips:
            w.write(1, f"IP:\t{ip.get('ip')}\n")
    for owner in meta.get("ownerReferences") or []:
        if owner.get("controller"):
            w.write(0, f"Controlled By:\t{owner.get('kind')}/{owner.get('name')}\n")
            break
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("resources"):
        w.write(0, "Resources:\n")
        _resources(w, spec["resources"], 1)
    if spec.get("initContainers"):
        _containers(w, pod, "Init Containers", spec["initContainers"],
                    status.get("initContainerStatuses") or [])
    _containers(w, pod, "Containers", spec.get("containers") or [],
                status.get("containerStatuses") or [])
    gates = spec.get("readinessGates") or []
    if gates:
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in gates:
            value = "<none>"
            for condition in status.get("conditions") or []:
                if condition.get("type") == gate.get("conditionType"):
                    value = condition.get("status")
                    break
            w.write(1, f"{gate.get('conditionType')} \t{value} \n")
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in conditions:
            w.write(1, f"{condition.get('type')} \t{condition.get('status')} \n")
    _volumes(w, spec.get("volumes") or [])
    w.write(0, f"QoS Class:\t{_qos(pod)}\n")
    _labels(w, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, "Tolerations", spec.get("tolerations"))
    spread = sorted(spec.get("topologySpreadConstraints") or [],
                    key=lambda c: c.get("topologyKey") or "")
    if spread:
        w.write(0, "Topology Spread Constraints:\t")
        for i, tsc in enumerate(spread):
            if i:
                w.write(0, "\t")
            text = (f"{tsc.get('topologyKey')}:{tsc.get('whenUnsatisfiable')} when max skew "
                    f"{tsc.get('maxSkew')} is exceeded")
            selector = (tsc.get("labelSelector") or {}).get("matchLabels")
            if selector:
                text += " for selector " + ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            w.write(0, text + "\n")
    if events is not None:
        _events(w, events_for_pod(pod=pod, events=events), now)
    return w.result()


def describe_pods(
    *, pods: list[dict[str, Any]], events: list[dict[str, Any]], now: float
) -> str:
    """``kubectl describe pods``: each Pod's text, separated by a blank line, sorted by name."""
    ordered = sorted(pods, key=lambda p: ((p.get("metadata") or {}).get("namespace") or "",
                                          (p.get("metadata") or {}).get("name") or ""))
    return "\n\n".join(describe_pod(pod=p, events=events, now=now) for p in ordered)


def describe_nodes(
    *, nodes: list[dict[str, Any]], pods: list[dict[str, Any]], events: list[dict[str, Any]],
    now: float, renewed: dict[str, float | None] | None = None,
) -> str:
    """``kubectl describe nodes``: each node's text, as ``describe pods`` joins them."""
    ordered = sorted(nodes, key=lambda n: (n.get("metadata") or {}).get("name") or "")
    return "\n\n".join(
        describe_node(node=n, pods=pods, events=events, now=now,
                      lease_renewed=(renewed or {}).get(n["metadata"]["name"]))
        for n in ordered
    )


# --- kubectl describe node ---------------------------------------------------------------


def _taints(w: _Writer, taints: list[dict[str, Any]] | None) -> None:
    """``printNodeTaintsMultiline``: sorted by effect, then key; ``key=value:effect``."""
    w.write(0, "Taints:\t")
    if not taints:
        w.write(0, "<none>\n")
        return
    ordered = sorted(taints, key=lambda t: f"{t.get('effect') or ''},{t.get('key') or ''}")
    for i, taint in enumerate(ordered):
        if i:
            w.write(0, "\t")
        text = taint.get("key") or ""
        if taint.get("value"):
            text += f"={taint['value']}"
        if taint.get("effect"):
            text += f":{taint['effect']}"
        w.write(0, text + "\n")


def _node_roles(labels: dict[str, str]) -> list[str]:
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)


def _sum(quantities: list[Any]) -> Any:
    """Quantities added up as ``Quantity.Add`` does: the first one's format."""
    parsed = []
    for value in quantities:
        try:
            parsed.append(parse_quantity(value))
        except (QuantityError, ValueError, TypeError):
            continue
    if not parsed:
        return None
    return type(parsed[0])(sum((q.value for q in parsed), start=parsed[0].value * 0),
                           parsed[0].format)


def _pod_resource(spec: dict[str, Any], kind: str, name: str) -> Any:
    """``resourcehelper.PodRequests``/``PodLimits`` for one resource: the app containers and
    sidecars added up, or the largest init container (with the sidecars started before it)
    when that is more; ``None`` when no container sets it."""

    def of(container: dict[str, Any]) -> Any:
        return ((container.get("resources") or {}).get(kind) or {}).get(name)

    app = [v for c in spec.get("containers") or [] if (v := of(c)) is not None]
    sidecars: list[Any] = []
    biggest = None
    for init in spec.get("initContainers") or []:
        value = of(init)
        if init.get("restartPolicy") == "Always":
            if value is not None:
                sidecars.append(value)
            continue
        if value is None:
            continue
        candidate = _sum([value, *sidecars])
        if biggest is None or candidate.value > biggest.value:
            biggest = candidate
    total = _sum(app + sidecars)
    if biggest is not None and (total is None or biggest.value > total.value):
        total = biggest
    return total


def _quantity_text(quantity: Any) -> str:
    return "0" if quantity is None else quantity.canonical()


def _value(quantity: Any, *, milli: bool = False) -> int:
    if quantity is None:
        return 0
    return quantity.millicores() if milli else quantity.as_int()


def _percent(used: int, total: int) -> int:
    return int(used / total * 100) if total else 0


def describe_node(
    *,
    node: dict[str, Any],
    pods: list[dict[str, Any]],
    events: list[dict[str, Any]] | None,
    now: float,
    lease_renewed: float | None = None,
) -> str:
    """``kubectl describe node`` text as kubectl 1.34 prints it; ``pods`` are all Pods (the
    node's non-terminated ones are listed), ``events`` all events (the node's are kept)."""
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    name = meta.get("name") or ""
    w = _Writer()
    w.write(0, f"Name:\t{name}\n")
    roles = _node_roles(meta.get("labels") or {})
    w.write(0, f"Roles:\t{','.join(roles) if roles else '<none>'}\n")
    _labels(w, "Labels", meta.get("labels"))
    _annotations(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(value=meta.get('creationTimestamp'))}\n")
    _taints(w, spec.get("taints"))
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    w.write(0, "Lease:\n")
    w.write(1, f"HolderIdentity:\t{name}\n")
    w.write(1, "AcquireTime:\t<unset>\n")
    if lease_renewed is None:
        w.write(1, "RenewTime:\t<unset>\n")
    else:
        from podlab.engine.core.version import timestamp

        w.write(1, f"RenewTime:\t{rfc1123z(value=timestamp(lease_renewed))}\n")
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason"
                   "\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')} "
                       f"\t{rfc1123z(value=c.get('lastHeartbeatTime'))} "
                       f"\t{rfc1123z(value=c.get('lastTransitionTime'))} "
                       f"\t{c.get('reason')} \t{c.get('message')}\n")
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type')}:\t{address.get('address')}\n")
    for title, resources in (("Capacity", status.get("capacity")),
                             ("Allocatable", status.get("allocatable"))):
        if resources:
            w.write(0, f"{title}:\n")
            for key in sorted(resources):
                w.write(0, f"  {key}:\t{_quantity(resources[key])}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"),
                       ("Boot ID", "bootID"), ("Kernel Version", "kernelVersion"),
                       ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
                       ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion")):
        w.write(0, f"  {label}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    _node_resources(w, node, pods, now)
    if events is not None:
        mine = [e for e in events
                if (e.get("involvedObject") or {}).get("kind") == "Node"
                and (e.get("involvedObject") or {}).get("name") == name]
        _events(w, mine, now)
    return w.result()


def _node_resources(w: _Writer, node: dict[str, Any], pods: list[dict[str, Any]],
                    now: float) -> None:
    """``describeNodeResource``: the node's non-terminated Pods, then what they request."""
    name = (node.get("metadata") or {}).get("name")
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}

    def alloc(key: str, *, milli: bool = False) -> int:
        try:
            q = parse_quantity(allocatable.get(key, "0"))
        except (QuantityError, ValueError, TypeError):
            return 0
        return q.millicores() if milli else q.as_int()

    mine = [p for p in pods
            if (p.get("spec") or {}).get("nodeName") == name
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    w.write(0, f"Non-terminated Pods:\t({len(mine)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits"
               "\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------"
               "\t---\n")
    cpu_total, memory_total = alloc("cpu", milli=True), alloc("memory")
    for pod in mine:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        cells = []
        for kind in ("requests", "limits"):
            q = _pod_resource(spec, kind, "cpu")
            cells.append((kind, "cpu", f"{_quantity_text(q)} "
                          f"({_percent(_value(q, milli=True), cpu_total)}%)"))
        for kind in ("requests", "limits"):
            q = _pod_resource(spec, kind, "memory")
            cells.append((kind, "memory",
                          f"{_quantity_text(q)} ({_percent(_value(q), memory_total)}%)"))
        w.write(1, f"{meta.get('namespace') or 'default'}\t{meta.get('name')}\t"
                   + "".join(f"\t{text}" for _k, _r, text in cells)
                   + f"\t{since(value=meta.get('creationTimestamp'), now=now)}\n")
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., "
               "overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    resources = ["cpu", "memory", "ephemeral-storage"] + sorted(
        k for k in allocatable if k.startswith("hugepages-"))
    for resource in resources:
        milli = resource == "cpu"
        total = alloc(resource, milli=milli)
        texts = []
        for kind in ("requests", "limits"):
            pieces = [_pod_resource(p.get("spec") or {}, kind, resource) for p in mine]
            quantity = _sum([q.canonical() for q in pieces if q is not None])
            texts.append(f"{_quantity_text(quantity)} "
                         f"({_percent(_value(quantity, milli=milli), total)}%)")
        w.write(1, f"{resource}\t{texts[0]}\t{texts[1]}\n")


__all__ = ["describe_node", "describe_nodes", "describe_pod", "describe_pods", "events_for_pod"]
