"""Cluster DNS as CoreDNS's ``kubernetes`` plugin answers it, and the Pod's stub resolver.

A Pod's ``/etc/resolv.conf`` (written by the kubelet for ``dnsPolicy: ClusterFirst``) reads::

    search <namespace>.svc.cluster.local svc.cluster.local cluster.local
    nameserver 10.96.0.10
    options ndots:5

so the resolver tries a name with fewer than five dots under each search domain first and as
written last; a name ending in ``.`` is tried only as written. The zone knows:

* ``<service>.<namespace>.svc.cluster.local``: the Service's cluster IP; for a headless
  Service (``clusterIP: None``) the addresses of its ready endpoints (none: NXDOMAIN);
* ``<hostname>.<subdomain>.<namespace>.svc.cluster.local`` for a Pod with ``hostname`` and
  ``subdomain`` naming a headless Service that selects it;
* ``<a-b-c-d>.<namespace>.pod.cluster.local``: the Pod address ``a.b.c.d``;
* ``kubernetes.default.svc.cluster.local`` (10.96.0.1) and
  ``kube-dns.kube-system.svc.cluster.local`` (10.96.0.10), which every cluster has.

Names outside ``cluster.local`` do not resolve: the simulated cluster has no Internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

CLUSTER_DOMAIN = "cluster.local"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
DEFAULT_NDOTS = 5

#: Services every cluster has, answered although they are not objects of the simulation.
BUILTIN_SERVICES: dict[tuple[str, str], str] = {
    ("default", "kubernetes"): KUBERNETES_SERVICE_IP,
    ("kube-system", "kube-dns"): DNS_SERVICE_IP,
}

_POD_ADDRESS = re.compile(r"(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})")


class Zone(Protocol):
    """What the DNS server needs to know about the cluster's Services and Pods."""

    def service_addresses(self, namespace: str, name: str) -> list[str] | None:
        """The A records of a Service (None: no such Service)."""
        ...

    def hostname_address(self, namespace: str, subdomain: str, hostname: str) -> str | None:
        """The address of the Pod ``hostname.subdomain`` (None: no such record)."""
        ...


@dataclass(frozen=True)
class ResolverConfig:
    """The parts of ``/etc/resolv.conf`` the stub resolver uses."""

    search: tuple[str, ...]
    ndots: int = DEFAULT_NDOTS

    @classmethod
    def for_namespace(cls, namespace: str) -> ResolverConfig:
        """What the kubelet writes for a ``ClusterFirst`` Pod in ``namespace``."""
        return cls(
            search=(
                f"{namespace}.svc.{CLUSTER_DOMAIN}",
                f"svc.{CLUSTER_DOMAIN}",
                CLUSTER_DOMAIN,
            )
        )

    @classmethod
    def parse(cls, text: str) -> ResolverConfig:
        """Read ``search`` and ``options ndots:N`` lines (the last of each wins, as in glibc)."""
        search: tuple[str, ...] = ()
        ndots = DEFAULT_NDOTS
        for line in text.splitlines():
            words = line.split()
            if not words or words[0].startswith(("#", ";")):
                continue
            if words[0] in ("search", "domain"):
                search = tuple(w.rstrip(".") for w in words[1:])
            elif words[0] == "options":
                for option in words[1:]:
                    if option.startswith("ndots:") and option[6:].isdigit():
                        ndots = min(15, int(option[6:]))
        return cls(search=search, ndots=ndots)


def query_names(name: str, config: ResolverConfig) -> list[str]:
    """The fully qualified names the resolver asks for, in order."""
    name = name.strip()
    if not name:
        return []
    if name.endswith("."):
        return [name.rstrip(".").lower()]
    name = name.lower()
    searched = [f"{name}.{domain}" for domain in config.search if domain]
    if name.count(".") >= config.ndots:
        return [name, *searched]
    return [*searched, name]


def answer(fqdn: str, zone: Zone) -> list[str] | None:
    """The A records CoreDNS gives for ``fqdn`` (None: NXDOMAIN)."""
    suffix = "." + CLUSTER_DOMAIN
    if not fqdn.endswith(suffix):
        return None
    labels = fqdn[: -len(suffix)].split(".")
    if len(labels) == 3 and labels[2] == "svc":
        service, namespace = labels[0], labels[1]
        builtin = BUILTIN_SERVICES.get((namespace, service))
        if builtin is not None:
            return [builtin]
        return zone.service_addresses(namespace, service) or None
    if len(labels) == 4 and labels[3] == "svc":
        hostname, subdomain, namespace = labels[0], labels[1], labels[2]
        address = zone.hostname_address(namespace, subdomain, hostname)
        return [address] if address else None
    if len(labels) == 3 and labels[2] == "pod":
        match = _POD_ADDRESS.fullmatch(labels[0])
        if match and all(0 <= int(part) <= 255 for part in match.groups()):
            return [".".join(str(int(part)) for part in match.groups())]
    return None


def resolve(name: str, config: ResolverConfig, zone: Zone) -> list[str] | None:
    """What ``getaddrinfo`` in the Pod finds for ``name``: the first name that answers."""
    for fqdn in query_names(name, config):
        found = answer(fqdn, zone)
        if found:
            return found
    return None


__all__ = [
    "BUILTIN_SERVICES",
    "CLUSTER_DOMAIN",
    "DNS_SERVICE_IP",
    "KUBERNETES_SERVICE_IP",
    "ResolverConfig",
    "Zone",
    "answer",
    "query_names",
    "resolve",
]
