"""Services: cluster IPs, endpoints, DNS records and the traffic kube-proxy forwards.

``ServiceController`` plays three parts of a real cluster:

* the Service registry of the API server: it allocates the cluster IP (deterministically, from
  the service range 10.96.0.0/12; PodLab uses 10.96.1.0–10.96.255.254 as a kind cluster's
  /16 would) and node ports (30000–32767), and keeps them across updates;
* the EndpointSlice and Endpoints controllers: after every Pod change it lists the Pods the
  selector matches in the Service's namespace and writes one EndpointSlice
  (``<service>-<5 chars>``, ``ready``/``serving``/``terminating`` conditions) and the legacy
  Endpoints object (ready addresses, ``notReadyAddresses``; terminating Pods leave it);
* kube-proxy and CoreDNS: ``ClusterNetwork`` sends a connection to ``clusterIP:port`` (or to
  the node's address at a node port) to a ready endpoint's ``targetPort``, falling back to
  serving terminating endpoints when none is ready, and refuses it when there is no endpoint;
  names resolve through ``dns.py`` with the Pod's own ``/etc/resolv.conf``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import ipaddress
import random
from typing import Any, Protocol

from podlab.engine.apiserver.objects import map_selector_matches, object_key, owner_reference
from podlab.engine.apiserver.store import PodStore
from podlab.engine.controllers.dns import ResolverConfig
from podlab.engine.controllers.dns import resolve as dns_resolve
from podlab.engine.runtime.process import FileSystem, FileSystemError, Request, Response
from podlab.engine.runtime.runtime import Network


class NodeAddress(Protocol):
    host_ip: str


class ServiceHost(PodStore, Protocol):
    """The store, plus the network kube-proxy routes in and the node whose address answers
    at node ports (``simulation.Simulation`` is one)."""

    network: Network
    node: NodeAddress


SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
#: The part of the range PodLab allocates from: 10.96.1.0 – 10.96.255.254.
_FIRST_DYNAMIC = int(ipaddress.ip_address("10.96.1.0"))
_DYNAMIC_SIZE = 255 * 256 - 1
NODE_PORT_RANGE = (30000, 32767)
#: Endpoint and Service bookkeeping runs after the kubelet has written Pod status.
PRIORITY_ENDPOINTS = 110
ENDPOINTSLICE_CONTROLLER = "endpointslice-controller.k8s.io"
RESOLV_CONF = "/etc/resolv.conf"
NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _digest_int(*parts: object) -> int:
    data = "\x00".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def _problem(name: str, path: str, code: str, message: str, **detail: Any) -> dict[str, Any]:
    return {
        "path": path,
        "code": code,
        "message": message,
        "detail": detail,
        "kubectl": f'The Service "{name}" is invalid: {path}: {message}',
    }


def pod_is_ready(pod: dict[str, Any]) -> bool:
    """The Pod's ``Ready`` condition is True."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _pod_ip(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("podIP") or "")


def resolve_target_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    """``targetPort`` as a number for this Pod: a number as is, a name looked up among the
    Pod's container ports (``podutil.FindPort``); None when the name is not found."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == target and (cport.get("protocol") or "TCP") == protocol:
                return int(cport.get("containerPort") or 0) or None
    return None


@dataclasses.dataclass(frozen=True)
class EndpointView:
    """One Pod behind a Service: its address, conditions and target ports by port name."""

    pod: str
    namespace: str
    uid: str
    ip: str
    node: str
    ready: bool
    serving: bool
    terminating: bool
    ports: tuple[tuple[str, int, str], ...]  # (port name, target port, protocol)


class ClusterNetwork(Network):
    """The Pod network plus Service virtual IPs, node ports and DNS."""

    def __init__(self) -> None:
        super().__init__()
        self.services: ServiceController | None = None
        self.namespaces: dict[str, str] = {}  # Pod IP -> namespace

    def connect(self, source_ip: str, host: str, request: Request, now: float) -> Response:
        if self.services is not None:
            route = self.services.route(host, request)
            if route is not None:
                if route == ("", 0):
                    return Response(status=0, refused=True)
                ip, port = route
                return super().connect(source_ip, ip, dataclasses.replace(request, port=port), now)
        return super().connect(source_ip, host, request, now)

    def resolver_config(self, fs: FileSystem | None, source_ip: str) -> ResolverConfig:
        """The Pod's own ``/etc/resolv.conf``; without one, what the kubelet would write."""
        if fs is not None:
            try:
                if fs.exists(RESOLV_CONF) and not fs.is_dir(RESOLV_CONF):
                    return ResolverConfig.parse(fs.read(RESOLV_CONF))
            except FileSystemError:
                pass
        return ResolverConfig.for_namespace(self.namespaces.get(source_ip, "default"))

    def resolve(self, name: str, fs: FileSystem | None = None, source_ip: str = "") -> str | None:
        if self.services is None:
            return None
        found = dns_resolve(name, self.resolver_config(fs, source_ip), self.services)
        return found[0] if found else None


class ServiceController:
    """Services of the simulation, their endpoints, and the routing of their traffic."""

    def __init__(self, sim: ServiceHost) -> None:
        self.sim = sim
        self.store = sim.objects
        self._rng = random.Random(f"services/{sim.seed}")  # noqa: S311 - reproducible names
        self._proxy_rng = random.Random(f"kube-proxy/{sim.seed}")  # noqa: S311
        self._dirty = False
        self._endpoints: dict[tuple[str, str], list[EndpointView]] = {}
        #: each Service's endpoints by Pod (namespace, name), kept up to date Pod by Pod
        self._members: dict[tuple[str, str], dict[tuple[str, str], EndpointView]] = {}
        #: Pods changed since the last sync (re-read then), and whether every Service must
        #: be worked out again from every Pod (a Service was created or changed)
        self._stale_pods: dict[tuple[str, str], None] = {}
        self._full = True
        #: how many Pods the endpoints were worked out from (tests check a Pod change
        #: re-reads that Pod, not every Pod)
        self.pods_read = 0
        self._by_ip: dict[str, tuple[str, str]] = {}
        self._node_ports: dict[tuple[int, str], tuple[str, str]] = {}
        network = sim.network
        if isinstance(network, ClusterNetwork):
            network.services = self

    # --- the registry ----------------------------------------------------------------------

    def _allocate_ip(self, namespace: str, name: str) -> str:
        start = _digest_int("cluster-ip", namespace, name) % _DYNAMIC_SIZE
        for step in range(_DYNAMIC_SIZE):
            candidate = str(ipaddress.ip_address(_FIRST_DYNAMIC + (start + step) % _DYNAMIC_SIZE))
            if candidate not in self._by_ip:
                return candidate
        raise RuntimeError("the service IP range is full")

    def _allocate_node_port(self, namespace: str, name: str, index: int) -> int:
        low, high = NODE_PORT_RANGE
        size = high - low + 1
        start = _digest_int("node-port", namespace, name, index) % size
        for step in range(size):
            candidate = low + (start + step) % size
            if not any(port == candidate for port, _ in self._node_ports):
                return candidate
        raise RuntimeError("the node port range is full")

    def apply(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """Create or update a Service (``kubectl apply``); returns refusals (kubectl's)."""
        obj = copy.deepcopy(obj)
        namespace, name = object_key(obj)
        current = self.store.get("Service", namespace, name)
        spec = dict(obj.get("spec") or {})
        problems: list[dict[str, Any]] = []
        wanted_ip = spec.get("clusterIP")
        if current is not None:
            old = current["spec"]
            if wanted_ip not in (None, "", old.get("clusterIP")):
                problems.append(_problem(
                    name, "spec.clusterIPs[0]", "FieldValueInvalid",
                    f'Invalid value: "{wanted_ip}": may not change once set', value=wanted_ip,
                ))
        elif wanted_ip not in (None, "", "None"):
            problems.extend(self._check_requested_ip(name, str(wanted_ip)))
        if problems:
            return problems
        if current is None:
            self._create(obj, spec)
        else:
            self._update(current, obj, spec)
        self._full = True
        self.request_sync()
        return []

    def _check_requested_ip(self, name: str, wanted: str) -> list[dict[str, Any]]:
        try:
            address = ipaddress.ip_address(wanted)
        except ValueError:
            return [_problem(
                name, "spec.clusterIPs[0]", "FieldValueInvalid",
                f'Invalid value: "{wanted}": must be a valid IP address, (e.g. 10.9.8.7 or '
                "2001:db8::ffff)", value=wanted,
            )]
        if address not in SERVICE_CIDR or address in (
            SERVICE_CIDR.network_address, SERVICE_CIDR.broadcast_address
        ):
            return [_problem(
                name, "spec.clusterIPs", "FieldValueInvalid",
                f'Invalid value: []string{{"{wanted}"}}: failed to allocate IP {wanted}: the '
                f"provided IP ({wanted}) is not in the valid range. The range of valid IPs is "
                f"{SERVICE_CIDR}", value=wanted,
            )]
        if wanted in self._by_ip or wanted in ("10.96.0.1", "10.96.0.10"):
            return [_problem(
                name, "spec.clusterIPs", "FieldValueInvalid",
                f'Invalid value: []string{{"{wanted}"}}: failed to allocate IP {wanted}: '
                "provided IP is already allocated", value=wanted,
            )]
        return []

    def _allocated_spec(
        self, namespace: str, name: str, spec: dict[str, Any], old: dict[str, Any] | None
    ) -> dict[str, Any]:
        spec = dict(spec)
        headless = spec.get("clusterIP") == "None"
        kind = spec.get("type") or "ClusterIP"
        if kind == "ExternalName":
            spec.pop("clusterIP", None)
            return spec
        if headless:
            ip = "None"
        elif old is not None and old.get("clusterIP") not in (None, "None"):
            ip = old["clusterIP"]
        else:
            ip = spec.get("clusterIP") or self._allocate_ip(namespace, name)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        old_ports = {
            (p.get("port"), p.get("protocol")): p.get("nodePort")
            for p in (old or {}).get("ports") or []
        }
        if kind in ("NodePort", "LoadBalancer"):
            ports = []
            for index, port in enumerate(spec.get("ports") or []):
                port = dict(port)
                if not port.get("nodePort"):
                    previous = old_ports.get((port.get("port"), port.get("protocol")))
                    port["nodePort"] = previous or self._allocate_node_port(namespace, name, index)
                ports.append(port)
            spec["ports"] = ports
        return spec

    def _index(self, svc: dict[str, Any]) -> None:
        key = object_key(svc)
        for ip, owner in list(self._by_ip.items()):
            if owner == key:
                del self._by_ip[ip]
        for port, owner in list(self._node_ports.items()):
            if owner == key:
                del self._node_ports[port]
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            self._by_ip[ip] = key
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                self._node_ports[(int(port["nodePort"]), port.get("protocol") or "TCP")] = key

    def _create(self, obj: dict[str, Any], spec: dict[str, Any]) -> None:
        namespace, name = object_key(obj)
        obj["spec"] = self._allocated_spec(namespace, name, spec, None)
        obj["status"] = {"loadBalancer": {}}
        meta = dict(obj.get("metadata") or {})
        meta.pop("resourceVersion", None)
        obj["metadata"] = meta
        self.store.add(obj)
        self._index(obj)

    def _update(self, current: dict[str, Any], obj: dict[str, Any], spec: dict[str, Any]) -> None:
        namespace, name = object_key(current)
        new_spec = self._allocated_spec(namespace, name, spec, current["spec"])
        meta = dict(current["metadata"])
        new_meta = obj.get("metadata") or {}
        for field in ("labels", "annotations"):
            if field in new_meta:
                meta[field] = copy.deepcopy(new_meta[field])
            else:
                meta.pop(field, None)
        if new_spec == current["spec"] and meta == current["metadata"]:
            return
        current["spec"] = new_spec
        current["metadata"] = meta
        self.store.update(current)
        self._index(current)

    def delete(self, name: str, namespace: str = "default") -> bool:
        """``kubectl delete service``: the Service, its EndpointSlice and Endpoints go."""
        svc = self.store.delete("Service", namespace, name)
        if svc is None:
            return False
        for ip, owner in list(self._by_ip.items()):
            if owner == (namespace, name):
                del self._by_ip[ip]
        for port, owner in list(self._node_ports.items()):
            if owner == (namespace, name):
                del self._node_ports[port]
        self._endpoints.pop((namespace, name), None)
        self._members.pop((namespace, name), None)
        for slice_ in self.store.items("EndpointSlice"):
            labels = (slice_.get("metadata") or {}).get("labels") or {}
            if object_key(slice_)[0] == namespace and labels.get(
                "kubernetes.io/service-name"
            ) == name:
                self.store.delete("EndpointSlice", namespace, slice_["metadata"]["name"])
        self.store.delete("Endpoints", namespace, name)
        return True

    # --- endpoints -------------------------------------------------------------------------

    def pod_changed(self, _type: str, pod: dict[str, Any]) -> None:
        """A Pod changed (the simulation's watch): remember its namespace, and re-read it
        at the next sync for the Services of its namespace (the endpoints controller's
        per-Pod work queue, upstream pkg/controller/endpointslice)."""
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        ip = _pod_ip(pod)
        if ip:
            network = self.sim.network
            if isinstance(network, ClusterNetwork):
                network.namespaces[ip] = namespace
        if self.store.items("Service"):
            self._stale_pods[(namespace, meta.get("name") or "")] = None
            self.request_sync()

    def request_sync(self) -> None:
        if not self._dirty:
            self._dirty = True
            self.sim.loop.call_later(0, self.sync, PRIORITY_ENDPOINTS)

    def sync(self) -> None:
        """Bring the endpoints up to date and write the objects that changed: every Service
        from every Pod after a Service changed, else only the Pods that changed, for the
        Services of their namespace."""
        self._dirty = False
        services = []
        for svc in self.store.items("Service"):
            spec = svc.get("spec") or {}
            if spec.get("selector") and spec.get("type") != "ExternalName":
                services.append(svc)
        changed: set[tuple[str, str]] = set()
        if self._full:
            self._full = False
            self._stale_pods = {}
            pods = list(self.sim.pod_views())
            self.pods_read += len(pods)
            self._members = {}
            for svc in services:
                key = object_key(svc)
                members: dict[tuple[str, str], EndpointView] = {}
                for pod in pods:
                    view = self._endpoint(svc, pod)
                    if view is not None:
                        members[(view.namespace, view.pod)] = view
                self._members[key] = members
                changed.add(key)
        elif self._stale_pods:
            stale, self._stale_pods = self._stale_pods, {}
            by_namespace: dict[str, list[dict[str, Any]]] = {}
            for svc in services:
                by_namespace.setdefault(object_key(svc)[0], []).append(svc)
            for pod_key in stale:
                selecting = by_namespace.get(pod_key[0])
                if not selecting:
                    continue
                pod = self.sim.pod_view(pod_key[1], pod_key[0])
                self.pods_read += 1
                for svc in selecting:
                    key = object_key(svc)
                    members = self._members.setdefault(key, {})
                    view = self._endpoint(svc, pod) if pod is not None else None
                    if view is None:
                        if members.pop(pod_key, None) is not None:
                            changed.add(key)
                    elif members.get(pod_key) != view:
                        members[pod_key] = view
                        changed.add(key)
        for svc in services:
            namespace, name = key = object_key(svc)
            if key not in changed and self.store.get("Endpoints", namespace, name):
                continue
            views = sorted(self._members.get(key, {}).values(), key=lambda v: (v.pod, v.ip))
            if self._endpoints.get(key) == views and self.store.get(
                "Endpoints", namespace, name
            ):
                continue
            self._endpoints[key] = views
            self._write_slice(svc, views)
            self._write_endpoints(svc, views)

    def _endpoint(self, svc: dict[str, Any], pod: dict[str, Any]) -> EndpointView | None:
        meta = pod.get("metadata") or {}
        namespace, _ = object_key(svc)
        spec = svc.get("spec") or {}
        if (meta.get("namespace") or "default") != namespace:
            return None
        if not map_selector_matches(spec.get("selector"), meta.get("labels")):
            return None
        status = pod.get("status") or {}
        ip = _pod_ip(pod)
        if not ip or status.get("phase") in ("Succeeded", "Failed"):
            return None
        ports = []
        for port in spec.get("ports") or []:
            target = resolve_target_port(port, pod)
            if target is None:
                return None
            ports.append((port.get("name") or "", target, port.get("protocol") or "TCP"))
        terminating = bool(meta.get("deletionTimestamp"))
        serving = pod_is_ready(pod) or bool(spec.get("publishNotReadyAddresses"))
        return EndpointView(
            pod=meta.get("name") or "",
            namespace=namespace,
            uid=meta.get("uid") or "",
            ip=ip,
            node=(pod.get("spec") or {}).get("nodeName") or "",
            ready=serving and not terminating,
            serving=serving,
            terminating=terminating,
            ports=tuple(ports),
        )

    def _slice_ports(self, svc: dict[str, Any], views: list[EndpointView]) -> list[dict[str, Any]]:
        if not views:
            return []
        return [
            {"name": name, "port": target, "protocol": protocol}
            for name, target, protocol in views[0].ports
        ]

    def _write_slice(self, svc: dict[str, Any], views: list[EndpointView]) -> None:
        namespace, name = object_key(svc)
        existing = None
        for slice_ in self.store.items("EndpointSlice"):
            labels = (slice_.get("metadata") or {}).get("labels") or {}
            if object_key(slice_)[0] == namespace and labels.get(
                "kubernetes.io/service-name"
            ) == name:
                existing = slice_
                break
        endpoints = [
            {
                "addresses": [v.ip],
                "conditions": {
                    "ready": v.ready,
                    "serving": v.serving,
                    "terminating": v.terminating,
                },
                "nodeName": v.node,
                "targetRef": {"kind": "Pod", "name": v.pod, "namespace": v.namespace,
                              "uid": v.uid},
            }
            for v in views
        ]
        body: dict[str, Any] = {
            "addressType": "IPv4",
            "endpoints": endpoints or None,
            "ports": self._slice_ports(svc, views),
        }
        if existing is not None:
            if all(existing.get(k) == v for k, v in body.items()):
                return
            existing.update(body)
            self.store.update(existing)
            return
        suffix = "".join(self._rng.choice(_SUFFIX_ALPHABET) for _ in range(5))
        labels = dict((svc.get("metadata") or {}).get("labels") or {})
        labels["endpointslice.kubernetes.io/managed-by"] = ENDPOINTSLICE_CONTROLLER
        labels["kubernetes.io/service-name"] = name
        obj: dict[str, Any] = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{name}-",
                "labels": labels,
                "name": f"{name}-{suffix}",
                "namespace": namespace,
                "ownerReferences": [owner_reference(svc)],
                "uid": self.store.new_uid(namespace, f"{name}-{suffix}"),
            },
            **body,
        }
        self.store.add(obj)

    def _write_endpoints(self, svc: dict[str, Any], views: list[EndpointView]) -> None:
        namespace, name = object_key(svc)

        def address(v: EndpointView) -> dict[str, Any]:
            return {
                "ip": v.ip,
                "nodeName": v.node,
                "targetRef": {"kind": "Pod", "name": v.pod, "namespace": v.namespace,
                              "uid": v.uid},
            }

        # RepackSubsets orders addresses by IP, then uid.
        by_ip = sorted(views, key=lambda v: (v.ip, v.uid))
        ready = [address(v) for v in by_ip if v.ready]
        not_ready = [address(v) for v in by_ip if not v.ready and not v.terminating]
        subsets: list[dict[str, Any]] = []
        if ready or not_ready:
            subset: dict[str, Any] = {}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            subset["ports"] = self._slice_ports(svc, views)
            subsets.append(subset)
        existing = self.store.get("Endpoints", namespace, name)
        if existing is not None:
            if (existing.get("subsets") or []) == subsets:
                return
            if subsets:
                existing["subsets"] = subsets
            else:
                existing.pop("subsets", None)
            self.store.update(existing)
            return
        obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "labels": dict((svc.get("metadata") or {}).get("labels") or {}),
                "name": name,
                "namespace": namespace,
                "uid": self.store.new_uid(namespace, name),
            },
        }
        if not obj["metadata"]["labels"]:
            del obj["metadata"]["labels"]
        if subsets:
            obj["subsets"] = subsets
        self.store.add(obj)

    def endpoints_of(self, name: str, namespace: str = "default") -> list[EndpointView]:
        """The endpoints last computed for a Service (empty when none or unknown)."""
        return list(self._endpoints.get((namespace, name), []))

    # --- kube-proxy ------------------------------------------------------------------------

    def route(self, host: str, request: Request) -> tuple[str, int] | None:
        """Where a connection to ``host:request.port`` goes: ``(pod IP, port)``, ``("", 0)``
        for a refused one, None when ``host`` is no Service address."""
        protocol = "UDP" if request.kind == "udp" else "TCP"
        key = self._by_ip.get(host)
        port_entry: dict[str, Any] | None = None
        if key is not None:
            svc = self.store.get("Service", *key)
            for port in (svc or {}).get("spec", {}).get("ports") or []:
                if int(port.get("port") or 0) == request.port and (
                    port.get("protocol") or "TCP"
                ) == protocol:
                    port_entry = port
                    break
        elif host == self.sim.node.host_ip and (request.port, protocol) in self._node_ports:
            key = self._node_ports[(request.port, protocol)]
            svc = self.store.get("Service", *key)
            for port in (svc or {}).get("spec", {}).get("ports") or []:
                if port.get("nodePort") == request.port:
                    port_entry = port
                    break
        else:
            return None
        if port_entry is None:
            return ("", 0)
        views = self._endpoints.get(key, [])
        usable = [v for v in views if v.ready] or [v for v in views if v.serving]
        if not usable:
            return ("", 0)
        chosen = usable[self._proxy_rng.randrange(len(usable))] if len(usable) > 1 else usable[0]
        name = port_entry.get("name") or ""
        for port_name, target, proto in chosen.ports:
            if port_name == name and proto == protocol:
                return (chosen.ip, target)
        return ("", 0)

    # --- DNS zone --------------------------------------------------------------------------

    def service_addresses(self, namespace: str, name: str) -> list[str] | None:
        svc = self.store.get("Service", namespace, name)
        if svc is None:
            return None
        spec = svc.get("spec") or {}
        if spec.get("clusterIP") == "None":
            return [v.ip for v in self._endpoints.get((namespace, name), []) if v.ready] or None
        ip = spec.get("clusterIP")
        return [ip] if ip else None

    def hostname_address(self, namespace: str, subdomain: str, hostname: str) -> str | None:
        svc = self.store.get("Service", namespace, subdomain)
        if svc is None or (svc.get("spec") or {}).get("clusterIP") != "None":
            return None
        for pod in self.sim.pod_views():
            meta = pod.get("metadata") or {}
            spec = pod.get("spec") or {}
            if (
                (meta.get("namespace") or "default") == namespace
                and spec.get("hostname") == hostname
                and spec.get("subdomain") == subdomain
                and _pod_ip(pod)
            ):
                return _pod_ip(pod)
        return None


__all__ = [
    "NODE_PORT_RANGE",
    "SERVICE_CIDR",
    "ClusterNetwork",
    "EndpointView",
    "ServiceController",
    "pod_is_ready",
    "resolve_target_port",
]
