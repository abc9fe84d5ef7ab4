"""Namespaces and ServiceAccounts: the API server's NamespaceLifecycle and ServiceAccount
admission, the service account controller's ``default`` account and the namespace
controller's deletion of a namespace's content, with Kubernetes 1.34's texts."""

from __future__ import annotations

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.simulation import Simulation


def objects(text: str) -> list[dict]:
    result = parse_manifests(text)
    assert result.ok, result.problems
    return result.objects


def pod(name: str, namespace: str = "default", account: str | None = None,
        grace: int = 30) -> str:
    extra = f"  serviceAccountName: {account}\n" if account else ""
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
            f"spec:\n{extra}  terminationGracePeriodSeconds: {grace}\n  containers:\n"
            "  - name: web\n    image: nginx:1.27\n")


NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n"


def test_a_new_cluster_has_its_namespaces_each_with_a_default_account() -> None:
    sim = Simulation()
    names = [n["metadata"]["name"] for n in sim.list_objects("Namespace")]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    accounts = {(a["metadata"]["namespace"], a["metadata"]["name"])
                for a in sim.list_objects("ServiceAccount")}
    assert accounts == {(n, "default") for n in names}


def test_a_pod_in_a_missing_namespace_is_not_found() -> None:
    sim = Simulation()
    problems = sim.apply(objects(pod("web", "dev")))
    assert [(p["code"], p["message"]) for p in problems] == [
        ("NotFound", 'namespaces "dev" not found')]
    assert problems[0]["kubectl"] == (
        'Error from server (NotFound): error when creating "lab.yaml": namespaces "dev" not found')
    assert sim.pods() == []


def test_creating_the_namespace_first_lets_the_pod_run_there() -> None:
    sim = Simulation()
    assert sim.apply(objects(NAMESPACE + "---\n" + pod("web", "dev"))) == []
    created = sim.list_objects("Namespace")[1]
    assert created["metadata"]["name"] == "dev"
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dev"}
    assert created["status"] == {"phase": "Active"}
    sim.run_until(20)
    running = sim.pod("web", "dev")
    assert running is not None and running["status"]["phase"] == "Running"


def test_a_pod_naming_a_missing_service_account_is_forbidden() -> None:
    sim = Simulation()
    problems = sim.apply(objects(pod("web", account="robot")))
    assert [(p["code"], p["message"]) for p in problems] == [(
        "Forbidden", 'pods "web" is forbidden: error looking up service account default/robot: '
        'serviceaccount "robot" not found')]
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n"
    assert sim.apply(objects(account + "---\n" + pod("web", account="robot"))) == []
    assert sim.has_pod("web")


def test_a_deployment_without_its_account_reports_failed_create_until_it_exists() -> None:
    deployment = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api-reader
      containers: [{name: api, image: nginx:1.27}]
"""
    sim = Simulation()
    assert sim.apply(objects(deployment)) == []
    sim.run_until(5)
    assert sim.pods() == []
    failed = [e for e in sim.events() if e["reason"] == "FailedCreate"]
    assert failed and failed[0]["type"] == "Warning"
    assert failed[0]["message"].startswith('Error creating: pods "api-')
    assert failed[0]["message"].endswith(
        'is forbidden: error looking up service account default/api-reader: '
        'serviceaccount "api-reader" not found')
    assert sim.apply(objects(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api-reader\n")) == []
    sim.run_until(sim.now + 1)
    assert len(sim.pods()) == 2


def test_deleting_a_namespace_terminates_its_pods_and_then_removes_it() -> None:
    sim = Simulation()
    assert sim.apply(objects(NAMESPACE + "---\n" + pod("web", "dev", grace=5))) == []
    sim.run_until(20)
    assert sim.delete_object("namespace/dev")
    terminating = [n for n in sim.list_objects("Namespace") if n["metadata"]["name"] == "dev"]
    assert terminating[0]["status"]["phase"] == "Terminating"
    assert "deletionTimestamp" in terminating[0]["metadata"]
    web = sim.pod("web", "dev")
    assert web is not None and "deletionTimestamp" in web["metadata"]
    refused = sim.apply(objects(pod("late", "dev")))
    assert [(p["code"], p["message"]) for p in refused] == [(
        "Forbidden", 'pods "late" is forbidden: unable to create new content in namespace dev '
        "because it is being terminated")]
    sim.run_until(sim.now + 10)
    assert any(e["reason"] == "Killing" and e["involvedObject"]["name"] == "web"
               for e in sim.events())
    assert not sim.has_pod("web", "dev")
    assert "dev" not in [n["metadata"]["name"] for n in sim.list_objects("Namespace")]
    assert ("dev", "default") not in {(a["metadata"]["namespace"], a["metadata"]["name"])
                                      for a in sim.list_objects("ServiceAccount")}
    assert sim.apply(objects(pod("again", "dev")))[0]["code"] == "NotFound"


def test_the_system_namespaces_may_not_be_deleted() -> None:
    sim = Simulation()
    refused = sim.namespaces.delete("kube-system")
    assert refused is not None and refused["kubectl"] == (
        'Error from server (Forbidden): namespaces "kube-system" is forbidden: '
        "this namespace may not be deleted")
    assert not sim.delete_object("namespace/default")
    missing = sim.namespaces.delete("nope")
    assert missing is not None and missing["kubectl"] == (
        'Error from server (NotFound): namespaces "nope" not found')
    assert sim.delete_object("namespace/kube-node-lease")


def test_a_namespace_name_is_a_dns_label() -> None:
    result = parse_manifests("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my.team\n")
    assert not result.ok
    assert "RFC 1123 label" in result.problems[0].message
