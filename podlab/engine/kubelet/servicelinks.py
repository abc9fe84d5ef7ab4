"""Service environment variables, as the kubelet gives them to every container it starts.

Upstream: ``getServiceEnvVarMap`` and ``makeEnvironmentVariables`` in
pkg/kubelet/kubelet_pods.go, and ``FromServices`` in pkg/kubelet/envvars/envvars.go
(Kubernetes 1.34). The kubelet reads the Services it knows *when it creates the container*:
a Service created after the container started is not in its environment (a restarted
container gets it). It takes

* the ``kubernetes`` Service of the ``default`` namespace, always, even with
  ``enableServiceLinks: false``;
* every Service of the Pod's own namespace when ``enableServiceLinks`` is true (the default);

and skips Services without a cluster IP (headless, ``clusterIP: None``, or ExternalName).
For a Service ``my-svc`` with cluster IP ``A`` and ports ``p0`` (first), ``p1``... it sets
``MY_SVC_SERVICE_HOST=A``, ``MY_SVC_SERVICE_PORT=p0``, ``MY_SVC_SERVICE_PORT_<NAME>=p`` for
each named port, and the Docker-link variables ``MY_SVC_PORT=tcp://A:p0`` and, per port,
``MY_SVC_PORT_<p>_<PROTO>=tcp://A:p`` with ``_PROTO``, ``_PORT`` and ``_ADDR``. The
container's own ``env``/``envFrom`` win over these names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: The API server's Service IP (the first of 10.96.0.0/12; controllers/dns.py answers it too).
KUBERNETES_SERVICE_IP = "10.96.0.1"

#: The API server's Service as every cluster has it (ports[0] is named https, 443/TCP).
KUBERNETES_SERVICE: dict[str, Any] = {
    "metadata": {"name": "kubernetes", "namespace": "default"},
    "spec": {
        "clusterIP": KUBERNETES_SERVICE_IP,
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
    },
}


def _variable(name: str) -> str:
    """``makeEnvVariableName``: upper case, dashes to underscores."""
    return name.replace("-", "_").upper()


def _has_cluster_ip(service: dict[str, Any]) -> bool:
    ip = (service.get("spec") or {}).get("clusterIP")
    return bool(ip) and ip != "None"


def _join(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def variables_of(service: dict[str, Any]) -> dict[str, str]:
    """The variables one Service contributes (``FromServices`` for one Service)."""
    spec = service.get("spec") or {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    if not _has_cluster_ip(service) or not ports:
        return {}
    ip = str(spec["clusterIP"])
    prefix = _variable(str((service.get("metadata") or {}).get("name", "")))
    out = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(int(ports[0]["port"]))}
    for port in ports:
        if port.get("name"):
            out[f"{prefix}_SERVICE_PORT_{_variable(str(port['name']))}"] = str(int(port["port"]))
    for index, port in enumerate(ports):
        protocol = str(port.get("protocol") or "TCP")
        number = int(port["port"])
        address = f"{protocol.lower()}://{_join(ip, number)}"
        if index == 0:
            out[f"{prefix}_PORT"] = address
        head = f"{prefix}_PORT_{number}_{protocol.upper()}"
        out[head] = address
        out[f"{head}_PROTO"] = protocol.lower()
        out[f"{head}_PORT"] = str(number)
        out[f"{head}_ADDR"] = ip
    return out


def service_env(
    services: Iterable[dict[str, Any]], *, namespace: str, enable_links: bool
) -> dict[str, str]:
    """Every Service variable a container of a Pod in ``namespace`` starts with."""
    chosen: dict[str, dict[str, Any]] = {"kubernetes": KUBERNETES_SERVICE}
    for service in services:
        meta = service.get("metadata") or {}
        name = str(meta.get("name", ""))
        own = (meta.get("namespace") or "default") == namespace
        if not _has_cluster_ip(service) or not own or not enable_links:
            continue
        if namespace == "default" and name == "kubernetes":
            continue  # the master Service is the one above
        chosen[name] = service
    out: dict[str, str] = {}
    for name in sorted(chosen):
        out.update(variables_of(chosen[name]))
    return out
