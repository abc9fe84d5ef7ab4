"""Conformance: Services, endpoints and cluster DNS (the docs' init-container example, §13.6)."""

from __future__ import annotations

import io
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from podlab.engine import cli
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.controllers import dns
from podlab.engine.simulation import Simulation

GOLDEN = Path(__file__).parent / "golden"

READY_FILE_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: web
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - name: http
      containerPort: 80
    readinessProbe:
      exec:
        command: ["cat", "/usr/share/nginx/html/ready"]
      periodSeconds: 1
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "sleep {ready_at}; echo ok > /usr/share/nginx/html/ready"]
"""

WEB_SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 8080
    targetPort: http
"""

CLIENT = """
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", {script!r}]
"""


def objects(text: str) -> list[dict[str, Any]]:
    result = parse_manifests(text, filename="test.yaml")
    assert result.problems == []
    return result.objects


def podsim(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = [str(GOLDEN / a) if a.split("@")[0].endswith(".yaml") else a for a in args]
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def endpoint_conditions(sim: Simulation) -> dict[str, dict[str, bool]]:
    slices = sim.list_objects("EndpointSlice")
    assert len(slices) == 1
    return {
        e["targetRef"]["name"]: e["conditions"] for e in slices[0]["endpoints"] or []
    }


# --- the docs' init-container example -------------------------------------------------------


def test_init_containers_wait_until_the_services_exist() -> None:
    code, out, _ = podsim("myapp-pod.yaml", "--until", "300")
    assert code == 0
    assert out.splitlines()[1].split()[:4] == ["myapp-pod", "0/1", "Init:0/2", "0"]
    code, out, _ = podsim("myapp-pod.yaml", "myapp-services.yaml@60", "--until", "90", "-w")
    assert code == 0
    statuses = [line.split()[2] for line in out.splitlines()[1:]]
    assert statuses[-1] == "Running"
    assert "Init:0/2" in statuses and "PodInitializing" in statuses
    code, out, _ = podsim("myapp-pod.yaml", "myapp-services.yaml@60", "--until", "90",
                          "-o", "jsonl")
    first_done = min(
        line["t"]
        for line in map(json.loads, out.splitlines())
        if line["kind"] == "Pod"
        and "terminated" in line["object"]["status"].get("initContainerStatuses", [{}])[0].get(
            "state", {})
    )
    assert 60 < first_done <= 62


def test_init_container_logs_show_the_wait_then_the_answer() -> None:
    code, out, _ = podsim(
        "myapp-pod.yaml", "myapp-services.yaml@60", "--until", "90", "-o", "logs",
        "--container", "init-myservice",
    )
    assert code == 0
    assert out.count("waiting for myservice") >= 25
    assert "nslookup: can't resolve 'myservice.default.svc.cluster.local'" in out
    tail = out.rsplit("waiting for myservice", 1)[1]
    assert "Name:      myservice.default.svc.cluster.local" in tail
    assert "Address 1: 10.96." in tail


def test_only_one_service_moves_the_pod_to_init_1_of_2() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects((GOLDEN / "myapp-pod.yaml").read_text()))
    sim.run_until(20)
    assert sim.create_service("myservice", port=80, target_port=9376) == []
    sim.run_until(30)
    pod = sim.pods()[0]
    init = {s["name"]: s["state"] for s in pod["status"]["initContainerStatuses"]}
    assert init["init-myservice"]["terminated"]["reason"] == "Completed"
    assert "running" in init["init-mydb"]
    assert pod["status"]["phase"] == "Pending"
    assert sim.create_service("mydb", port=80, target_port=9377) == []
    sim.run_until(40)
    assert sim.pods()[0]["status"]["phase"] == "Running"


# --- cluster IPs and defaults ----------------------------------------------------------------


def test_service_gets_a_stable_cluster_ip_from_the_service_range() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(WEB_SERVICE))
    svc = sim.list_objects("Service")[0]
    ip = svc["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12")
    assert svc["spec"]["clusterIPs"] == [ip]
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["sessionAffinity"] == "None"
    assert svc["spec"]["ports"] == [
        {"port": 8080, "protocol": "TCP", "targetPort": "http"}
    ]
    assert svc["status"] == {"loadBalancer": {}}
    other = Simulation(seed=7)
    other.apply(objects(WEB_SERVICE))
    assert other.list_objects("Service")[0]["spec"]["clusterIP"] == ip
    # kubectl apply again with a label: the address stays
    changed = objects(WEB_SERVICE.replace("name: web\n", "name: web\n  labels:\n    x: y\n", 1))
    assert sim.apply(changed) == []
    again = sim.list_objects("Service")[0]
    assert again["spec"]["clusterIP"] == ip
    assert again["metadata"]["labels"] == {"x": "y"}


def test_target_port_defaults_to_port() -> None:
    text = WEB_SERVICE.replace("    targetPort: http\n", "")
    port = objects(text)[0]["spec"]["ports"][0]
    assert port == {"port": 8080, "protocol": "TCP", "targetPort": 8080}


def test_requested_cluster_ip_outside_the_range_is_refused() -> None:
    sim = Simulation(seed=0)
    text = WEB_SERVICE.replace("spec:\n", "spec:\n  clusterIP: 10.0.0.5\n", 1)
    problems = sim.apply(objects(text))
    assert len(problems) == 1
    assert problems[0]["kubectl"] == (
        'The Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: '
        "failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. "
        "The range of valid IPs is 10.96.0.0/12"
    )
    assert sim.list_objects("Service") == []


def test_service_is_simulated_not_noted() -> None:
    result = parse_manifests(WEB_SERVICE, filename="svc.yaml")
    assert result.notes == []


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ("  ports: []\n", "spec.ports: Required value"),
        ("  ports:\n  - port: 70000\n",
         "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        ("  ports:\n  - port: 80\n  - port: 81\n", "spec.ports[0].name: Required value"),
        ("  type: Magic\n  ports:\n  - port: 80\n",
         'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", '
         '"ExternalName", "LoadBalancer", "NodePort"'),
        ("  ports:\n  - port: 80\n    nodePort: 30080\n",
         "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
    ],
)
def test_service_validation(spec: str, line: str) -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n" + spec
    result = parse_manifests(text, filename="s.yaml")
    assert line in [p.kubectl_line() for p in result.problems]


# --- endpoints follow readiness --------------------------------------------------------------


def test_endpoints_follow_readiness_and_termination() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(READY_FILE_POD.format(name="web-a", ready_at=5)))
    sim.apply(objects(READY_FILE_POD.format(name="web-b", ready_at=20)))
    sim.apply(objects(WEB_SERVICE))
    sim.run_until(12)
    conditions = endpoint_conditions(sim)
    assert conditions["web-a"] == {"ready": True, "serving": True, "terminating": False}
    assert conditions["web-b"] == {"ready": False, "serving": False, "terminating": False}
    endpoints = sim.list_objects("Endpoints")[0]
    subset = endpoints["subsets"][0]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["web-a"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["web-b"]
    assert subset["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]
    sim.run_until(30)
    assert endpoint_conditions(sim)["web-b"]["ready"] is True
    # a terminating Pod leaves the Endpoints; the slice marks it terminating
    sim.delete_pod("web-a", grace_period=30)
    sim.run_until(30)  # the same instant: nginx is still shutting down
    conditions = endpoint_conditions(sim)
    assert conditions["web-a"]["terminating"] is True
    assert conditions["web-a"]["ready"] is False
    addresses = sim.list_objects("Endpoints")[0]["subsets"][0]["addresses"]
    assert [a["targetRef"]["name"] for a in addresses] == ["web-b"]
    assert "notReadyAddresses" not in sim.list_objects("Endpoints")[0]["subsets"][0]
    sim.run_until(40)
    assert list(endpoint_conditions(sim)) == ["web-b"]


def test_readiness_loss_removes_the_pod_from_traffic() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(READY_FILE_POD.format(name="web-a", ready_at=2)))
    sim.apply(objects(WEB_SERVICE))
    sim.run_until(10)
    assert endpoint_conditions(sim)["web-a"]["ready"] is True
    assert sim.services.route(
        sim.list_objects("Service")[0]["spec"]["clusterIP"],
        _request(8080),
    ) == (sim.pods()[0]["status"]["podIP"], 80)
    sim.kill_container("web-a", "web", signal=9)
    sim.run_until(10.5)
    assert endpoint_conditions(sim)["web-a"]["ready"] is False
    assert sim.services.route(
        sim.list_objects("Service")[0]["spec"]["clusterIP"], _request(8080)
    ) == ("", 0)


def _request(port: int) -> Any:
    from podlab.engine.runtime.process import Request

    return Request("http", port)


# --- traffic and names from inside a Pod -----------------------------------------------------


def test_wget_by_service_name_reaches_a_ready_endpoint() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(READY_FILE_POD.format(name="web-a", ready_at=1)))
    sim.apply(objects(WEB_SERVICE))
    script = (
        "sleep 10; wget -qO- http://web:8080/ | head -n 4 | tail -n 1; "
        "wget -qO- http://web.default.svc.cluster.local:8080/ >/dev/null && echo fqdn ok; "
        "nslookup web.default; nc -z web 80 || echo port 80 closed; "
        "wget -qO- http://nosuch/ || echo no such"
    )
    sim.apply(objects(CLIENT.format(script=script)))
    sim.run_until(20)
    log = sim.logs("client", "c")
    assert "<title>Welcome to nginx!</title>" in log
    assert "fqdn ok" in log
    ip = sim.list_objects("Service")[0]["spec"]["clusterIP"]
    assert f"Address: {ip}" in log
    assert "port 80 closed" in log
    assert "wget: bad address 'nosuch'" in log
    assert "no such" in log


def test_connection_without_ready_endpoints_is_refused() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(READY_FILE_POD.format(name="web-a", ready_at=100)))
    sim.apply(objects(WEB_SERVICE))
    sim.apply(objects(CLIENT.format(script="sleep 5; wget -qO- http://web:8080/")))
    sim.run_until(10)
    ip = sim.list_objects("Service")[0]["spec"]["clusterIP"]
    assert sim.logs("client", "c") == (
        f"wget: can't connect to remote host ({ip}): Connection refused\n"
    )


def test_headless_service_answers_with_ready_pod_addresses() -> None:
    sim = Simulation(seed=0)
    sim.apply(objects(READY_FILE_POD.format(name="web-a", ready_at=1)))
    sim.apply(objects(WEB_SERVICE.replace("spec:\n", "spec:\n  clusterIP: None\n", 1)))
    sim.run_until(5)
    pod_ip = sim.pods()[0]["status"]["podIP"]
    config = dns.ResolverConfig.for_namespace("default")
    assert dns.resolve("web", config, sim.services) == [pod_ip]
    assert sim.list_objects("Service")[0]["spec"]["clusterIPs"] == ["None"]


# --- the resolver ---------------------------------------------------------------------------


def test_search_path_and_ndots() -> None:
    config = dns.ResolverConfig.parse(
        "search team.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:5\n"
    )
    assert dns.query_names("db", config) == [
        "db.team.svc.cluster.local",
        "db.svc.cluster.local",
        "db.cluster.local",
        "db",
    ]
    assert dns.query_names("db.other.svc.cluster.local.", config) == [
        "db.other.svc.cluster.local"
    ]
    assert dns.query_names("a.b.c.d.e.f", config)[0] == "a.b.c.d.e.f"


class _EmptyZone:
    def service_addresses(self, namespace: str, name: str) -> list[str] | None:
        return ["10.96.3.4"] if (namespace, name) == ("team", "db") else None

    def hostname_address(self, namespace: str, subdomain: str, hostname: str) -> str | None:
        return None


def test_zone_records() -> None:
    zone = _EmptyZone()
    team = dns.ResolverConfig.for_namespace("team")
    default = dns.ResolverConfig.for_namespace("default")
    assert dns.resolve("db", team, zone) == ["10.96.3.4"]
    assert dns.resolve("db", default, zone) is None
    assert dns.resolve("db.team", default, zone) == ["10.96.3.4"]
    assert dns.resolve("kubernetes.default", team, zone) == ["10.96.0.1"]
    assert dns.resolve("kube-dns.kube-system.svc.cluster.local", team, zone) == ["10.96.0.10"]
    assert dns.resolve("10-244-1-7.team.pod.cluster.local", team, zone) == ["10.244.1.7"]
    assert dns.resolve("example.com", team, zone) is None
