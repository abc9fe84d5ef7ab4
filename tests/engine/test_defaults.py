"""API server defaulting."""

from __future__ import annotations

from typing import Any

import pytest

from podlab.engine.apiserver.defaults import apply_defaults, image_pull_policy

EXEC_LIVENESS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"test": "liveness"}, "name": "liveness-exec"},
    "spec": {
        "containers": [
            {
                "name": "liveness",
                "image": "registry.k8s.io/busybox:1.27.2",
                "args": [
                    "/bin/sh",
                    "-c",
                    "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600",
                ],
                "livenessProbe": {
                    "exec": {"command": ["cat", "/tmp/healthy"]},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 5,
                },
            }
        ]
    },
}


def test_exec_liveness_defaults() -> None:
    pod = apply_defaults(EXEC_LIVENESS, seed=1)
    assert list(pod) == ["kind", "apiVersion", "metadata", "spec"]
    assert pod["metadata"]["namespace"] == "default"
    assert list(pod["metadata"]) == ["name", "namespace", "uid", "labels"]
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["tolerations"] == [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    (container,) = spec["containers"]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}
    assert container["livenessProbe"] == {
        "exec": {"command": ["cat", "/tmp/healthy"]},
        "initialDelaySeconds": 5,
        "timeoutSeconds": 1,
        "periodSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    (volume,) = spec["volumes"]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == 21
    assert volume["projected"]["defaultMode"] == 420
    assert container["volumeMounts"] == [
        {
            "name": volume["name"],
            "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        }
    ]
    # the input is untouched
    assert "namespace" not in EXEC_LIVENESS["metadata"]


def test_deterministic_uid_and_volume_name() -> None:
    first = apply_defaults(EXEC_LIVENESS, seed=7)
    again = apply_defaults(EXEC_LIVENESS, seed=7)
    other = apply_defaults(EXEC_LIVENESS, seed=8)
    assert first == again
    assert first["metadata"]["uid"] != other["metadata"]["uid"]
    assert first["spec"]["volumes"][0]["name"] != other["spec"]["volumes"][0]["name"]
    assert apply_defaults(EXEC_LIVENESS, uid="abc")["metadata"]["uid"] == "abc"


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:v1", "IfNotPresent"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
        ("busybox:latest@sha256:" + "a" * 64, "Always"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_container_details() -> None:
    pod = apply_defaults(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "lab"},
            "spec": {
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": -5,
                "priorityClassName": "system-node-critical",
                "tolerations": [{"operator": "Exists"}],
                "initContainers": [
                    {"name": "i", "image": "busybox", "resources": {"limits": {"cpu": "1"}}}
                ],
                "containers": [
                    {
                        "name": "c",
                        "image": "nginx:1",
                        "ports": [{"containerPort": 80}],
                        "resources": {
                            "limits": {"cpu": "500m", "memory": "128Mi"},
                            "requests": {"cpu": "100m"},
                        },
                        "readinessProbe": {"httpGet": {"port": 80}, "periodSeconds": 0},
                        "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
                    }
                ],
                "volumes": [
                    {"name": "a"},
                    {"name": "b", "configMap": {"name": "cm"}},
                    {"name": "c", "secret": {"secretName": "s"}},
                    {"name": "d", "hostPath": {"path": "/tmp"}},
                ],
            },
        }
    )
    spec = pod["spec"]
    assert pod["metadata"]["namespace"] == "lab"
    assert spec["terminationGracePeriodSeconds"] == 1
    assert spec["priority"] == 2000001000
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert "volumeMounts" not in spec["containers"][0]
    container = spec["containers"][0]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert spec["initContainers"][0]["resources"]["requests"] == {"cpu": "1"}
    probe = container["readinessProbe"]
    assert probe["httpGet"] == {"path": "/", "port": 80, "scheme": "HTTP"}
    assert probe["periodSeconds"] == 10
    assert container["lifecycle"]["preStop"]["httpGet"] == {
        "path": "/stop",
        "port": 80,
        "scheme": "HTTP",
    }
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["a"] == {"name": "a", "emptyDir": {}}
    assert volumes["b"]["configMap"] == {"name": "cm", "defaultMode": 420}
    assert volumes["c"]["secret"] == {"secretName": "s", "defaultMode": 420}
    assert volumes["d"]["hostPath"] == {"path": "/tmp", "type": ""}


def test_generate_name() -> None:
    pod = apply_defaults(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"generateName": "web-"},
            "spec": {"containers": []},
        }
    )
    assert pod["metadata"]["name"].startswith("web-") and len(pod["metadata"]["name"]) == 9
