"""``kubectl describe pod`` layout on hand-made Pods, and ``kubectl logs`` refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podlab.engine.core.version import timestamp
from podlab.engine.kubectl.describe import describe_pod, describe_pods
from podlab.engine.kubectl.logs import LogsError, logs, prefixed

GOLDEN = Path(__file__).parent / "golden"


def liveness_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "liveness-exec", "namespace": "default", "uid": "u-1",
            "labels": {"test": "liveness"}, "creationTimestamp": timestamp(0),
        },
        "spec": {
            "nodeName": "node01",
            "priority": 0,
            "serviceAccountName": "default",
            "containers": [{
                "name": "liveness",
                "image": "registry.k8s.io/busybox:1.27.2",
                "args": ["/bin/sh", "-c",
                         "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
                "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]},
                                  "initialDelaySeconds": 5, "periodSeconds": 5,
                                  "timeoutSeconds": 1, "successThreshold": 1,
                                  "failureThreshold": 3},
                "resources": {},
                "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
            }],
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": []}},
            ]}}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": "192.168.49.2",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "startTime": timestamp(0),
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True"},
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [{
                "name": "liveness", "ready": True, "restartCount": 1, "started": True,
                "image": "registry.k8s.io/busybox:1.27.2",
                "imageID": "registry.k8s.io/busybox@sha256:abc",
                "containerID": "containerd://c2",
                "state": {"running": {"startedAt": timestamp(76)}},
                "lastState": {"terminated": {
                    "exitCode": 137, "reason": "Error", "containerID": "containerd://c1",
                    "startedAt": timestamp(2), "finishedAt": timestamp(75)}},
            }],
        },
    }


def ev(reason: str, message: str, *, first: float, last: float | None = None, count: int = 1,
       etype: str = "Normal", component: str = "kubelet") -> dict[str, Any]:
    return {
        "metadata": {"name": f"liveness-exec.{int(first):016x}", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "liveness-exec", "namespace": "default",
                           "uid": "u-1"},
        "type": etype, "reason": reason, "message": message, "count": count,
        "firstTimestamp": timestamp(first), "lastTimestamp": timestamp(first if last is None
                                                                       else last),
        "source": {"component": component},
    }


EVENTS = [
    ev("Scheduled", "Successfully assigned default/liveness-exec to node01", first=0,
       component="default-scheduler"),
    ev("Pulled", 'Container image "registry.k8s.io/busybox:1.27.2" already present on machine',
       first=1, last=76, count=2),
    ev("Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or "
       "directory", first=35, last=45, count=3, etype="Warning"),
]

EXPECTED = (GOLDEN / "describe_handmade_liveness.txt").read_text(encoding="utf-8")


def test_describe_layout_matches_kubectl() -> None:
    text = describe_pod(pod=liveness_pod(), events=EVENTS, now=90)
    assert text == EXPECTED


def test_describe_without_events_and_waiting_state() -> None:
    pod = liveness_pod()
    pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    pod["spec"]["tolerations"] = []
    text = describe_pod(pod=pod, events=[], now=90)
    assert "    State:          Waiting\n      Reason:       CrashLoopBackOff\n" in text
    assert text.endswith("Node-Selectors:              <none>\n"
                         "Tolerations:                 <none>\n"
                         "Events:                      <none>\n")


def test_describe_terminating_and_probe_forms() -> None:
    pod = liveness_pod()
    pod["metadata"]["deletionTimestamp"] = timestamp(120)
    pod["metadata"]["deletionGracePeriodSeconds"] = 30
    container = pod["spec"]["containers"][0]
    container["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080,
                                               "scheme": "HTTP"},
                                   "initialDelaySeconds": 3, "periodSeconds": 3,
                                   "timeoutSeconds": 1, "successThreshold": 1,
                                   "failureThreshold": 3}
    container["startupProbe"] = {"tcpSocket": {"port": 8080}, "periodSeconds": 10,
                                 "timeoutSeconds": 1, "successThreshold": 1,
                                 "failureThreshold": 30}
    container["ports"] = [{"containerPort": 80, "protocol": "TCP"},
                          {"containerPort": 443, "protocol": "TCP"}]
    container["env"] = [{"name": "MODE", "value": "demo"},
                        {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                   "fieldPath": "metadata.name"}}}]
    container["resources"] = {"limits": {"memory": "128Mi", "cpu": "0.5"},
                              "requests": {"memory": "64Mi"}}
    text = describe_pod(pod=pod, events=None, now=100)
    assert "Status:                    Terminating (lasts <invalid>)\n" in text
    assert "Termination Grace Period:  30s\n" in text
    assert "    Ports:         80/TCP, 443/TCP\n" in text
    assert "    Host Ports:    0/TCP, 0/TCP\n" in text
    assert ("    Readiness:  http-get http://:8080/healthz delay=3s timeout=1s period=3s "
            "#success=1 #failure=3\n") in text
    assert "    Startup:    tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 " \
           "#failure=30\n" in text
    assert "    Limits:\n      cpu:     500m\n      memory:  128Mi\n" in text
    assert "    Requests:\n      memory:   64Mi\n" in text
    assert "      MODE:  demo\n      POD:   liveness-exec (v1:metadata.name)\n" in text
    assert "Events" not in text


def test_describe_pods_are_separated_by_blank_lines() -> None:
    a = liveness_pod()
    b = liveness_pod()
    b["metadata"]["name"] = "aaa"
    text = describe_pods(pods=[a, b], events=[], now=90)
    assert text.startswith("Name:             aaa\n")
    assert "Events:                      <none>\n\n\nName:             liveness-exec\n" in text


def fetch(pod: str, container: str, previous: bool) -> str:
    return f"{pod}/{container}/{'prev' if previous else 'cur'}\n"


def test_logs_current_and_previous() -> None:
    pod = liveness_pod()
    assert logs(pod=pod, container=None, previous=False, fetch=fetch) == \
        "liveness-exec/liveness/cur\n"
    assert logs(pod=pod, container="liveness", previous=True, fetch=fetch) == \
        "liveness-exec/liveness/prev\n"


def test_logs_previous_not_found() -> None:
    pod = liveness_pod()
    pod["status"]["containerStatuses"][0]["lastState"] = {}
    with pytest.raises(LogsError) as err:
        logs(pod=pod, container=None, previous=True, fetch=fetch)
    assert str(err.value) == ('Error from server (BadRequest): previous terminated container '
                              '"liveness" in pod "liveness-exec" not found')


@pytest.mark.parametrize(
    ("reason", "detail"),
    [("ContainerCreating", "ContainerCreating"),
     ("ErrImagePull", "image can't be pulled"),
     ("ImagePullBackOff", "trying and failing to pull image")],
)
def test_logs_waiting_container(reason: str, detail: str) -> None:
    pod = liveness_pod()
    status = pod["status"]["containerStatuses"][0]
    status["state"] = {"waiting": {"reason": reason}}
    status["lastState"] = {}
    with pytest.raises(LogsError) as err:
        logs(pod=pod, container=None, previous=False, fetch=fetch)
    assert err.value.message == (
        f'container "liveness" in pod "liveness-exec" is waiting to start: {detail}'
    )


def test_logs_unknown_container_and_prefix() -> None:
    with pytest.raises(LogsError, match="container nope is not valid for pod liveness-exec"):
        logs(pod=liveness_pod(), container="nope", previous=False, fetch=fetch)
    assert prefixed(pod_name="p", container="c", text="a\nb\n") == "[pod/p/c] a\n[pod/p/c] b\n"
    assert prefixed(pod_name="p", container="c", text="") == ""
