"""Service environment variables (pkg/kubelet/envvars FromServices, getServiceEnvVarMap)."""

import io
from pathlib import Path

from podlab.engine import cli
from podlab.engine.kubelet.servicelinks import service_env, variables_of


def svc(name: str, ip: str | None, *ports: dict, namespace: str = "default") -> dict:
    spec: dict = {"ports": list(ports)}
    if ip is not None:
        spec["clusterIP"] = ip
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def test_variables_of_one_service_follow_from_services() -> None:
    got = variables_of(svc("my-db", "10.96.7.7", {"name": "sql", "port": 5432},
                           {"name": "metrics", "port": 9187, "protocol": "UDP"}))
    assert got == {
        "MY_DB_SERVICE_HOST": "10.96.7.7",
        "MY_DB_SERVICE_PORT": "5432",
        "MY_DB_SERVICE_PORT_SQL": "5432",
        "MY_DB_SERVICE_PORT_METRICS": "9187",
        "MY_DB_PORT": "tcp://10.96.7.7:5432",
        "MY_DB_PORT_5432_TCP": "tcp://10.96.7.7:5432",
        "MY_DB_PORT_5432_TCP_PROTO": "tcp",
        "MY_DB_PORT_5432_TCP_PORT": "5432",
        "MY_DB_PORT_5432_TCP_ADDR": "10.96.7.7",
        "MY_DB_PORT_9187_UDP": "udp://10.96.7.7:9187",
        "MY_DB_PORT_9187_UDP_PROTO": "udp",
        "MY_DB_PORT_9187_UDP_PORT": "9187",
        "MY_DB_PORT_9187_UDP_ADDR": "10.96.7.7",
    }


def test_which_services_a_pod_sees() -> None:
    services = [svc("web", "10.96.1.1", {"port": 80}),
                svc("headless", "None", {"port": 80}),
                svc("external", None),
                svc("other", "10.96.2.2", {"port": 80}, namespace="team-b")]
    env = service_env(services, namespace="default", enable_links=True)
    assert env["WEB_SERVICE_HOST"] == "10.96.1.1" and "WEB_SERVICE_PORT_HTTP" not in env
    assert not any(k.startswith(("HEADLESS_", "EXTERNAL_", "OTHER_")) for k in env)
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    # enableServiceLinks: false keeps only the API server's Service.
    off = service_env(services, namespace="default", enable_links=False)
    assert {k.split("_")[0] for k in off} == {"KUBERNETES"}
    # A Pod in another namespace sees its own Services and the default/kubernetes one.
    team = service_env(services, namespace="team-b", enable_links=True)
    assert "OTHER_SERVICE_HOST" in team and "WEB_SERVICE_HOST" not in team
    assert "KUBERNETES_PORT_443_TCP_ADDR" in team


POD = """apiVersion: v1
kind: Pod
metadata:
  name: links
spec:
  enableServiceLinks: {links}
  containers:
  - name: app
    image: busybox:1.36
    env:
    - name: FIRST_SERVICE_PORT
      value: "overridden"
    - name: URL
      value: "http://$(FIRST_SERVICE_HOST):$(FIRST_SERVICE_PORT)"
    command:
    - sh
    - -c
    - echo run; env | grep -E '^(FIRST|LATE)_SERVICE|^URL' | sort; sleep 20; exit 1
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: x}}
  ports:
  - port: 8080
"""


def logs(tmp_path: Path, links: str, *, previous: bool = False) -> str:
    (tmp_path / "first.yaml").write_text(SERVICE.format(name="first"))
    (tmp_path / "pod.yaml").write_text(POD.format(links=links))
    (tmp_path / "late.yaml").write_text(SERVICE.format(name="late"))
    out, err = io.StringIO(), io.StringIO()
    argv = [str(tmp_path / "first.yaml"), str(tmp_path / "pod.yaml"),
            f"{tmp_path / 'late.yaml'}@10", "--until", "30", "-o", "logs",
            *(["-p"] if previous else [])]
    assert cli.main(argv, out, err, stdin=io.StringIO("")) == 0, err.getvalue()
    return out.getvalue()


def test_services_are_read_when_each_container_starts(tmp_path: Path) -> None:
    first = logs(tmp_path, "true", previous=True).replace("[pod/links/app] ", "")
    second = logs(tmp_path, "true").replace("[pod/links/app] ", "")
    assert "FIRST_SERVICE_HOST=10.96." in first
    assert "LATE_SERVICE_HOST" not in first  # created after this container started
    assert "LATE_SERVICE_HOST=10.96." in second  # the restarted container reads it
    # The container's own env wins, and $(VAR) may refer to Service variables.
    assert "FIRST_SERVICE_PORT=overridden" in first
    host = next(line.split("=", 1)[1] for line in first.splitlines()
                if line.startswith("FIRST_SERVICE_HOST="))
    assert f"URL=http://{host}:overridden" in first


def test_enable_service_links_false(tmp_path: Path) -> None:
    text = logs(tmp_path, "false")
    assert "FIRST_SERVICE_HOST=" not in text and "LATE_SERVICE_HOST=" not in text
    # An unknown $(VAR) stays as written (expansion.Expand).
    assert "URL=http://$(FIRST_SERVICE_HOST):overridden" in text
    assert "FIRST_SERVICE_PORT=overridden" in text
