"""Conformance: Deployments, ReplicaSets and Jobs (kube-controller-manager rules, 1.34)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.controllers.controllers import surge_and_unavailable, template_hash
from podlab.engine.simulation import Simulation

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        resources:
          limits:
            memory: 64Mi
        readinessProbe:
          httpGet:
            path: /
            port: 80
          initialDelaySeconds: 2
          periodSeconds: 1
"""

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{extra}  template:
    spec:
      restartPolicy: {policy}
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", {script!r}]
"""


def objects(text: str) -> list[dict[str, Any]]:
    result = parse_manifests(text, filename="test.yaml")
    assert result.problems == [], [p.kubectl_line() for p in result.problems]
    return result.objects


def start(text: str, until: float) -> Simulation:
    sim = Simulation(seed=0)
    assert sim.apply(objects(text)) == []
    sim.run_until(until)
    return sim


def live_pods(sim: Simulation) -> list[dict[str, Any]]:
    return [p for p in sim.pods() if not p["metadata"].get("deletionTimestamp")]


def messages(sim: Simulation, kind: str) -> list[str]:
    return [e["message"] for e in sim.events() if e["involvedObject"]["kind"] == kind]


# --- Deployment -> ReplicaSet -> Pods --------------------------------------------------------


def test_deployment_creates_a_replicaset_and_its_pods() -> None:
    sim = start(DEPLOYMENT, 20)
    deployment = sim.list_objects("Deployment")[0]
    (rs,) = sim.list_objects("ReplicaSet")
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{6,10}", pod_hash)
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
        "kind": "Deployment", "name": "web", "uid": deployment["metadata"]["uid"],
    }]
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
        "deployment.kubernetes.io/revision": "1",
    }
    pods = sim.pods()
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(rf"web-{pod_hash}-[bcdfghjklmnpqrstvwxz2456789]{{5}}",
                            pod["metadata"]["name"])
        assert pod["metadata"]["generateName"] == f"web-{pod_hash}-"
        assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
        # the Pod gets what admission adds, the template does not
        assert pod["spec"]["serviceAccountName"] == "default"
        assert pod["spec"]["containers"][0]["resources"]["requests"] == {"memory": "64Mi"}
    template_spec = deployment["spec"]["template"]["spec"]
    assert "serviceAccountName" not in template_spec
    assert "requests" not in template_spec["containers"][0]["resources"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["dnsPolicy"] == "ClusterFirst"
    status = deployment["status"]
    assert status["readyReplicas"] == status["availableReplicas"] == status["replicas"] == 3
    assert {c["type"]: c["reason"] for c in status["conditions"]} == {
        "Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable",
    }
    assert messages(sim, "Deployment") == [f"Scaled up replica set web-{pod_hash} from 0 to 3"]
    assert len(messages(sim, "ReplicaSet")) == 3


def test_deployment_defaults() -> None:
    spec = objects(DEPLOYMENT.replace("  replicas: 3\n", ""))[0]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    container = spec["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable"),
    [(1, 1, 0), (3, 1, 0), (4, 1, 1), (10, 3, 2)],
)
def test_rolling_update_fenceposts(replicas: int, surge: int, unavailable: int) -> None:
    deployment = objects(DEPLOYMENT)[0]
    deployment["spec"]["replicas"] = replicas
    assert surge_and_unavailable(deployment) == (surge, unavailable)


def test_a_deleted_pod_is_replaced() -> None:
    sim = start(DEPLOYMENT, 20)
    victim = sorted(p["metadata"]["name"] for p in sim.pods())[0]
    assert sim.delete_pod(victim)
    sim.run_until(20)
    names = {p["metadata"]["name"] for p in live_pods(sim)}
    assert victim not in names
    assert len(names) == 3
    sim.run_until(40)
    assert len(sim.pods()) == 3
    assert sim.list_objects("Deployment")[0]["status"]["availableReplicas"] == 3
    rs_messages = messages(sim, "ReplicaSet")
    assert len(rs_messages) == 4 and all(m.startswith("Created pod: ") for m in rs_messages)


def test_template_change_rolls_pods_one_by_one() -> None:
    sim = start(DEPLOYMENT, 20)
    old_rs = sim.list_objects("ReplicaSet")[0]["metadata"]["name"]
    changed = copy.deepcopy(objects(DEPLOYMENT)[0])
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert sim.apply([changed]) == []
    start_records = len(sim.records)
    pods = {p["metadata"]["name"]: p for p in sim.pods()}
    sim.run_until(120)
    new_rs = next(
        rs["metadata"]["name"] for rs in sim.list_objects("ReplicaSet")
        if rs["metadata"]["name"] != old_rs
    )
    assert messages(sim, "Deployment")[1:] == [
        f"Scaled up replica set {new_rs} from 0 to 1",
        f"Scaled down replica set {old_rs} from 3 to 2",
        f"Scaled up replica set {new_rs} from 1 to 2",
        f"Scaled down replica set {old_rs} from 2 to 1",
        f"Scaled up replica set {new_rs} from 2 to 3",
        f"Scaled down replica set {old_rs} from 1 to 0",
    ]
    # maxSurge 1, maxUnavailable 0: never more than 4 Pods, never fewer than 3 ready ones
    for record in sim.records[start_records:]:
        if record.kind != "Pod":
            continue
        pod = record.object
        if record.type == "DELETED":
            pods.pop(pod["metadata"]["name"], None)
        else:
            pods[pod["metadata"]["name"]] = pod
        live = [p for p in pods.values() if not p["metadata"].get("deletionTimestamp")]
        assert len(live) <= 4
        ready = [
            p for p in live
            if any(c["type"] == "Ready" and c["status"] == "True"
                   for c in p["status"].get("conditions", []))
        ]
        assert len(ready) >= 3
    assert {p["spec"]["containers"][0]["image"] for p in sim.pods()} == {"nginx:1.26"}
    deployment = sim.list_objects("Deployment")[0]
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deployment["metadata"]["generation"] == 2
    assert deployment["status"]["observedGeneration"] == 2
    assert deployment["status"]["updatedReplicas"] == 3
    old = next(rs for rs in sim.list_objects("ReplicaSet") if rs["metadata"]["name"] == old_rs)
    assert old["spec"]["replicas"] == 0  # kept for rollback (revisionHistoryLimit)


def test_recreate_stops_old_pods_first() -> None:
    text = DEPLOYMENT.replace("  replicas: 3\n", "  replicas: 2\n  strategy:\n    type: Recreate\n")
    sim = start(text, 20)
    changed = copy.deepcopy(objects(text)[0])
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    sim.apply([changed])
    sim.run_until(20)
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in sim.pods())
    sim.run_until(60)
    assert sorted(p["spec"]["containers"][0]["image"] for p in sim.pods()) == ["nginx:1.26"] * 2


def test_scale_up_and_down() -> None:
    sim = start(DEPLOYMENT, 20)
    assert sim.scale("deployment/web", 5)
    sim.run_until(40)
    assert len(sim.pods()) == 5
    assert sim.list_objects("Deployment")[0]["status"]["readyReplicas"] == 5
    assert sim.scale("deploy/web", 1)
    sim.run_until(80)
    assert len(sim.pods()) == 1
    assert not sim.scale("deployment/nosuch", 2)
    with pytest.raises(ValueError):
        sim.scale("pod/web", 2)


def test_deployment_validation() -> None:
    text = DEPLOYMENT.replace("        app: web\n    spec:", "        app: other\n    spec:")
    result = parse_manifests(text, filename="d.yaml")
    assert [p.kubectl_line() for p in result.problems] == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: '
        "`selector` does not match template `labels`"
    ]
    text = DEPLOYMENT.replace("    spec:\n      containers:",
                              "    spec:\n      restartPolicy: Never\n      containers:")
    result = parse_manifests(text, filename="d.yaml")
    assert [p.kubectl_line() for p in result.problems] == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
        '"Always"'
    ]
    text = DEPLOYMENT.replace("        image: nginx:1.27\n", "")
    result = parse_manifests(text, filename="d.yaml")
    assert [p.path for p in result.problems] == ["spec.template.spec.containers[0].image"]
    assert result.problems[0].line == 17  # the container with the missing image


PERCENT = ("a valid percent string must be a numeric string followed by an ending '%' "
           "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")


@pytest.mark.parametrize(("rolling", "expected"), [
    # a pasted float or a negative share crashed the Deployment controller (int('1e308'))
    ('{maxSurge: "1e308%", maxUnavailable: "-5%"}', [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "-5%": ' + PERCENT,
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "1e308%": ' + PERCENT]),
    ("{maxSurge: -1}", ["spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be "
                        "greater than or equal to 0"]),
    ('{maxUnavailable: "150%"}', ['spec.strategy.rollingUpdate.maxUnavailable: Invalid '
                                  'value: "150%": must not be greater than 100%']),
    ('{maxSurge: 0, maxUnavailable: "0%"}', [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when '
        "`maxSurge` is 0"]),
    ('{maxSurge: "100%", maxUnavailable: 0}', []),
])
def test_rolling_update_fields_are_validated(rolling: str, expected: list[str]) -> None:
    """``ValidateRollingUpdateDeployment``: a number 0 or more or digits and '%', not both 0,
    maxUnavailable at most 100%."""
    text = DEPLOYMENT.replace("  replicas: 3\n", f"  replicas: 3\n  strategy:\n"
                              f"    rollingUpdate: {rolling}\n")
    result = parse_manifests(text, filename="d.yaml")
    assert [p.kubectl_line() for p in result.problems] == expected
    for problem in result.problems:
        assert problem.line == 9  # the rollingUpdate line


def test_a_percent_too_long_to_read_is_a_huge_share() -> None:
    """Validation lets 5,000 digits and '%' through (Kubernetes' regex does): the controller
    reads it as a huge share instead of failing on a number too long to convert."""
    deployment = objects(DEPLOYMENT.replace(
        "  replicas: 3\n", '  replicas: 3\n  strategy:\n    rollingUpdate: {maxSurge: "'
        + "9" * 5000 + '%"}\n'))[0]
    surge, unavailable = surge_and_unavailable(deployment)
    assert surge >= 10**16 and unavailable == 0
    sim = Simulation(seed=0)
    assert sim.apply([deployment]) == []
    sim.run_until(30)
    assert len(live_pods(sim)) == 3


def test_template_hash_is_stable_and_safe_encoded() -> None:
    template = objects(DEPLOYMENT)[0]["spec"]["template"]
    assert template_hash(template) == template_hash(copy.deepcopy(template))
    assert template_hash(template) != template_hash(template, 1)
    assert set(template_hash(template)) <= set("456789bcdf")


# --- Jobs ------------------------------------------------------------------------------------


def job(name: str, script: str, policy: str = "Never", extra: str = "") -> str:
    return JOB.format(name=name, script=script, policy=policy, extra=extra)


def test_job_runs_a_pod_to_completion() -> None:
    sim = start(job("pi", "sleep 3; echo 3.14"), 30)
    (pod,) = sim.pods()
    assert re.fullmatch(r"pi-[bcdfghjklmnpqrstvwxz2456789]{5}", pod["metadata"]["name"])
    assert pod["status"]["phase"] == "Succeeded"
    (obj,) = sim.list_objects("Job")
    uid = obj["metadata"]["uid"]
    assert pod["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid, "job-name": "pi",
    }
    status = obj["status"]
    assert status["succeeded"] == 1
    assert status["startTime"] == "2025-01-01T00:00:00Z"
    assert status["completionTime"] == "2025-01-01T00:00:03Z"
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert messages(sim, "Job") == [f"Created pod: {pod['metadata']['name']}", "Job completed"]
    assert sim.logs(pod["metadata"]["name"], "main") == "3.14\n"


def test_job_defaults() -> None:
    obj = objects(job("pi", "true"))[0]
    spec = obj["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert spec["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": obj["metadata"]["uid"]}
    }


def test_job_needs_on_failure_or_never() -> None:
    text = job("pi", "true").replace("      restartPolicy: Never\n", "")
    result = parse_manifests(text, filename="job.yaml")
    assert [p.kubectl_line() for p in result.problems] == [
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
        '"OnFailure", "Never"'
    ]
    assert result.kubectl_line().startswith('The Job "pi" is invalid: ')


def test_never_replaces_failed_pods_with_back_off_until_the_limit() -> None:
    sim = start(job("flaky", "sleep 1; exit 1", extra="  backoffLimit: 3\n"), 200)
    created = sorted(p["metadata"]["creationTimestamp"] for p in sim.pods())
    # each Pod fails 1 s after it starts; the next one waits 10 s, 20 s, 40 s
    assert created == [
        "2025-01-01T00:00:00Z", "2025-01-01T00:00:11Z", "2025-01-01T00:00:32Z",
        "2025-01-01T00:01:13Z",
    ]
    assert all(p["status"]["phase"] == "Failed" for p in sim.pods())
    status = sim.list_objects("Job")[0]["status"]
    assert status["failed"] == 4
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded"),
    ]
    assert "completionTime" not in status
    warnings = [e for e in sim.events() if e["reason"] == "BackoffLimitExceeded"]
    assert [e["message"] for e in warnings] == ["Job has reached the specified backoff limit"]
    assert warnings[0]["type"] == "Warning"


def test_on_failure_restarts_in_place_and_counts_restarts() -> None:
    sim = start(job("flaky", "exit 1", policy="OnFailure", extra="  backoffLimit: 2\n"), 200)
    names = {r.object["metadata"]["name"] for r in sim.records if r.kind == "Pod"}
    assert len(names) == 1  # the kubelet restarts the container, no new Pod
    status = sim.list_objects("Job")[0]["status"]
    assert [c["type"] for c in status["conditions"]] == ["FailureTarget", "Failed"]
    assert sim.pods() == []  # the running Pod is deleted when the Job fails
    deleted = [r for r in sim.records if r.kind == "Pod" and r.type == "DELETED"]
    assert len(deleted) == 1


def test_on_failure_restarts_start_from_a_fresh_container_layer() -> None:
    script = "if [ -f /tmp/x ]; then exit 0; fi; touch /tmp/x; exit 1"
    sim = start(job("once", script, policy="OnFailure"), 60)
    (pod,) = sim.pods()
    # the writable layer is new on every restart, so the marker file never survives
    assert pod["status"]["containerStatuses"][0]["restartCount"] >= 2
    status = sim.list_objects("Job")[0]["status"]
    assert status.get("active") == 1


def test_parallel_completions() -> None:
    sim = start(job("batch", "sleep 2", extra="  completions: 4\n  parallelism: 2\n"), 30)
    created = sorted(p["metadata"]["creationTimestamp"] for p in sim.pods())
    assert created == ["2025-01-01T00:00:00Z"] * 2 + ["2025-01-01T00:00:02Z"] * 2
    assert sim.list_objects("Job")[0]["status"]["succeeded"] == 4


def test_job_active_deadline() -> None:
    sim = start(job("slow", "sleep 100", extra="  activeDeadlineSeconds: 5\n"), 20)
    # the Pod (a shell ignoring SIGTERM) is still terminating: only FailureTarget so far
    conditions = sim.list_objects("Job")[0]["status"]["conditions"]
    assert [c["type"] for c in conditions] == ["FailureTarget"]
    sim.run_until(40)
    status = sim.list_objects("Job")[0]["status"]
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded"),
    ]
    assert [c["message"] for c in status["conditions"]][0] == (
        "Job was active longer than specified deadline"
    )


def test_reapplying_the_same_job_is_not_an_update() -> None:
    sim = Simulation(seed=0)
    sim.apply(parse_manifests(job("pi", "true"), filename="a.yaml", seed=0).objects)
    sim.run_until(10)
    again = parse_manifests(job("pi", "true"), filename="a.yaml", seed=1).objects
    assert sim.apply(again) == []
    changed = parse_manifests(job("pi", "false"), filename="a.yaml").objects
    problems = sim.apply(changed)
    assert [p["path"] for p in problems] == ["spec.template"]


def test_bare_pod_updates_stay_forbidden() -> None:
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                 "command": ["sleep", "100"]}]},
    }
    sim = start("", 0)
    sim.apply(objects(json.dumps(pod)))
    changed = objects(json.dumps(pod))[0]
    changed["spec"]["containers"][0]["command"] = ["sleep", "5"]
    problems = sim.apply([changed])
    assert problems and problems[0]["code"] == "FieldValueForbidden"
