# ruff: noqa: E501  (manifests in the tests keep one container per line, as written)
"""Conformance: inside the Pod — shared network, volumes, environment, security context,
init containers, native sidecars, resources, QoS, OOM and eviction (§7, §9, §11, §12.3,
§12.5, §13.6–13.11 of the kubelet reference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.kubectl.get import summarize_pod
from podlab.engine.kubelet.resources import PodUsage, effective_requests, memory_eviction_order
from podlab.engine.kubelet.status import qos_class
from podlab.engine.simulation import Simulation
from tests.lab.manifests import MEMORY_HOG

ROOT = Path(__file__).resolve().parents[2]


def start(text: str, until: float, seed: int = 0) -> Simulation:
    result = parse_manifests(text)
    assert result.ok, result.problems
    sim = Simulation(seed=seed)
    sim.apply(result.objects)
    sim.run_until(until)
    return sim


def apply(sim: Simulation, text: str) -> None:
    result = parse_manifests(text)
    assert result.ok, result.problems
    sim.apply(result.objects)


def row(sim: Simulation, name: str) -> tuple[str, str, str]:
    pod = sim.pod(name)
    assert pod is not None
    cells = summarize_pod(pod=pod, now=sim.now)
    return cells.ready, cells.status, cells.restarts


def status(sim: Simulation, name: str) -> dict[str, Any]:
    pod = sim.pod(name)
    assert pod is not None
    return pod["status"]


def events(sim: Simulation, reason: str) -> list[str]:
    return [e["message"] for e in sim.events() if e["reason"] == reason]


def state_changes(sim: Simulation) -> list[tuple[float, str, str, str]]:
    return [(t.t, t.container, t.new, t.rule) for t in sim.transitions if t.field == "state"]


def pod_yaml(name: str, body: str) -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{body}"


# --- the shared network namespace ---------------------------------------------------------


def test_containers_reach_each_other_on_localhost() -> None:
    sim = start(
        pod_yaml(
            "net",
            """  containers:
  - {name: web, image: "nginx:1.27"}
  - name: client
    image: busybox:1.36
    command: [sh, -c, "sleep 3; wget -qO- http://localhost:80/ | grep title; nc -z 127.0.0.1 80 && echo open; sleep 3600"]
""",
        ),
        20,
    )
    assert row(sim, "net") == ("2/2", "Running", "0")
    assert sim.logs("net", "client") == "<title>Welcome to nginx!</title>\nopen\n"


def test_two_containers_binding_the_same_port_conflict() -> None:
    sim = start(
        pod_yaml(
            "clash",
            """  containers:
  - {name: first, image: "nginx:1.27"}
  - {name: second, image: "nginx:1.27"}
""",
        ),
        8,  # nginx tries to bind five times, 500 ms apart, before it exits
    )
    second = status(sim, "clash")["containerStatuses"][1]
    assert second["lastState"]["terminated"]["exitCode"] == 1
    assert "[emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)" in (
        sim.logs("clash", "second")
    )
    assert status(sim, "clash")["containerStatuses"][0]["restartCount"] == 0


def test_probes_of_one_container_see_a_port_bound_by_another() -> None:
    sim = start(
        pod_yaml(
            "probe-shared",
            """  containers:
  - {name: web, image: "nginx:1.27"}
  - name: watcher
    image: busybox:1.36
    command: [sh, -c, "sleep 3600"]
    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 2}
""",
        ),
        10,
    )
    assert row(sim, "probe-shared") == ("2/2", "Running", "0")


# --- volumes ------------------------------------------------------------------------------


def test_empty_dir_is_shared_between_containers() -> None:
    sim = start(
        pod_yaml(
            "share",
            """  containers:
  - name: writer
    image: busybox:1.36
    command: [sh, -c, "echo hello from writer > /data/msg; sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: reader
    image: busybox:1.36
    command: [sh, -c, "sleep 2; cat /shared/msg; sleep 3600"]
    volumeMounts: [{name: data, mountPath: /shared}]
  volumes: [{name: data, emptyDir: {}}]
""",
        ),
        5,
    )
    assert sim.logs("share", "reader") == "hello from writer\n"


def test_volume_content_survives_a_restart_but_the_container_layer_does_not() -> None:
    script = (
        "cat /vol/count 2>/dev/null; cat /tmp/count 2>/dev/null; echo run >> /vol/count; "
        "echo run >> /tmp/count; sleep 1; exit 1"
    )
    sim = start(
        pod_yaml(
            "keep",
            f"""  restartPolicy: OnFailure
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "{script}"]
    volumeMounts: [{{name: vol, mountPath: /vol}}]
  volumes: [{{name: vol, emptyDir: {{}}}}]
""",
        ),
        15,
    )
    restarts = status(sim, "keep")["containerStatuses"][0]["restartCount"]
    assert restarts >= 1
    # the volume remembers every earlier run; the fresh writable layer has no /tmp/count
    assert sim.logs("keep", "c") == "run\n" * restarts


def test_retry_once_example_restarts_once_and_succeeds() -> None:
    # lessons/07 quiz `retry-once-restarts`: the marker lives in an emptyDir, so the second
    # run sees it and exits 0.
    path = ROOT / "lessons/07-restart-policy-and-backoff/examples"
    sim = start((path / "restart-policy-and-backoff-retry-once.yaml").read_text(), 120)
    assert row(sim, "retry-once")[:2] == ("0/1", "Completed")
    assert status(sim, "retry-once")["containerStatuses"][0]["restartCount"] == 1
    assert status(sim, "retry-once")["phase"] == "Succeeded"


def test_empty_dir_content_is_lost_with_the_pod() -> None:
    manifest = pod_yaml(
        "gone",
        """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "cat /d/x 2>/dev/null || echo empty; echo kept > /d/x; sleep 3600"]
    volumeMounts: [{name: d, mountPath: /d}]
  volumes: [{name: d, emptyDir: {medium: Memory}}]
""",
    )
    sim = start(manifest, 5)
    assert sim.logs("gone", "c") == "empty\n"
    sim.delete_pod("gone", grace_period=0)
    sim.run_for(1)
    apply(sim, manifest)
    sim.run_for(5)
    assert sim.logs("gone", "c") == "empty\n"


def test_config_map_and_secret_volumes_with_items_sub_path_and_read_only() -> None:
    sim = start(
        """apiVersion: v1
kind: ConfigMap
metadata: {name: site}
data: {index.html: "<h1>from a ConfigMap</h1>", mode: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: czNjcjN0}
stringData: {user: admin}
---
"""
        + pod_yaml(
            "cfg",
            """  containers:
  - name: web
    image: nginx:1.27
    volumeMounts:
    - {name: site, mountPath: /usr/share/nginx/html/index.html, subPath: index.html}
  - name: c
    image: busybox:1.36
    command: [sh, -c, "sleep 2; wget -qO- localhost; echo; ls /conf; cat /conf/colour; echo; cat /creds/password /creds/user; echo; echo x > /conf/new; echo x > /data/f; sleep 3600"]
    volumeMounts:
    - {name: mode, mountPath: /conf}
    - {name: creds, mountPath: /creds}
    - {name: data, mountPath: /data, readOnly: true}
  volumes:
  - {name: site, configMap: {name: site}}
  - name: mode
    configMap:
      name: site
      items: [{key: mode, path: colour}]
  - {name: creds, secret: {secretName: creds}}
  - {name: data, emptyDir: {}}
""",
        ),
        8,
    )
    assert sim.logs("cfg", "c") == (
        "<h1>from a ConfigMap</h1>\n"
        "colour\n"
        "blue\n"
        "s3cr3tadmin\n"
        "sh: can't create /conf/new: Read-only file system\n"
        "sh: can't create /data/f: Read-only file system\n"
    )


def test_missing_config_map_volume_keeps_the_pod_in_container_creating() -> None:
    manifest = pod_yaml(
        "waits",
        """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "cat /etc/app/k; sleep 3600"]
    volumeMounts: [{name: cfg, mountPath: /etc/app}]
  volumes: [{name: cfg, configMap: {name: app-config}}]
""",
    )
    sim = start(manifest, 30)
    assert row(sim, "waits") == ("0/1", "ContainerCreating", "0")
    assert events(sim, "FailedMount") == [
        'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found'
    ]
    failed = [e for e in sim.events() if e["reason"] == "FailedMount"][0]
    assert failed["type"] == "Warning" and failed["count"] >= 5
    conditions = {c["type"]: c["status"] for c in status(sim, "waits")["conditions"]}
    assert conditions["PodReadyToStartContainers"] == "False"
    apply(sim, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {k: v}\n")
    sim.run_for(40)
    assert row(sim, "waits")[:2] == ("1/1", "Running")
    assert sim.logs("waits", "c") == "v"


def test_missing_secret_key_in_volume_items() -> None:
    sim = start(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n---\n"
        + pod_yaml(
            "nokey",
            """  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], volumeMounts: [{name: s, mountPath: /s}]}
  volumes:
  - name: s
    secret: {secretName: s, items: [{key: nope, path: x}]}
""",
        ),
        5,
    )
    assert events(sim, "FailedMount") == [
        'MountVolume.SetUp failed for volume "s" : secret references non-existent secret key: nope'
    ]


def test_downward_api_volume() -> None:
    sim = start(
        """apiVersion: v1
kind: Pod
metadata:
  name: info
  labels: {app: shop, tier: web}
  annotations: {build: "42"}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "cat /info/labels; echo; cat /info/name /info/build /info/mem; sleep 3600"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: build, fieldRef: {fieldPath: "metadata.annotations['build']"}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
""",
        5,
    )
    assert sim.logs("info", "c") == 'app="shop"\ntier="web"\ninfo4264'


def test_host_path_is_shared_by_pods_on_the_node() -> None:
    sim = start(
        pod_yaml(
            "host-a",
            """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "echo from-a > /host/note; sleep 3600"]
    volumeMounts: [{name: h, mountPath: /host}]
  volumes: [{name: h, hostPath: {path: /data/shared, type: DirectoryOrCreate}}]
""",
        ),
        3,
    )
    node = sim.pod("host-a")["spec"]["nodeName"]
    apply(
        sim,
        pod_yaml(
            "host-b",
            f"""  nodeName: {node}
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "cat /mnt/note; sleep 3600"]
    volumeMounts: [{{name: h, mountPath: /mnt}}]
  volumes: [{{name: h, hostPath: {{path: /data/shared}}}}]
""",
        ),
    )
    sim.run_for(5)
    assert sim.logs("host-b", "c") == "from-a\n"


def test_host_path_type_check_fails_the_mount() -> None:
    sim = start(
        pod_yaml(
            "strict",
            """  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], volumeMounts: [{name: h, mountPath: /h}]}
  volumes: [{name: h, hostPath: {path: /srv/missing, type: Directory}}]
""",
        ),
        5,
    )
    assert row(sim, "strict")[1] == "ContainerCreating"
    assert events(sim, "FailedMount") == [
        'MountVolume.SetUp failed for volume "h" : hostPath type check failed: '
        "/srv/missing is not a directory"
    ]


PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""


def test_claim_data_outlives_the_pod() -> None:
    manifest = pod_yaml(
        "db",
        """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "cat /var/lib/data/rows 2>/dev/null; echo row >> /var/lib/data/rows; sleep 3600"]
    volumeMounts: [{name: d, mountPath: /var/lib/data, subPath: db}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
""",
    )
    sim = start(PVC + "---\n" + manifest, 5)
    assert sim.logs("db", "c") == ""
    sim.delete_pod("db", grace_period=0)
    sim.run_for(1)
    apply(sim, manifest)
    sim.run_for(5)
    assert sim.logs("db", "c") == "row\n"


def test_missing_claim_leaves_the_pod_unscheduled_until_it_exists() -> None:
    sim = start(
        pod_yaml(
            "needs-claim",
            """  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], volumeMounts: [{name: d, mountPath: /d}]}
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
""",
        ),
        20,
    )
    assert row(sim, "needs-claim") == ("0/1", "Pending", "0")
    n = len(sim.nodes())
    message = (
        f'0/{n} nodes are available: persistentvolumeclaim "data" not found. preemption: 0/{n} '
        f"nodes are available: {n} Preemption is not helpful for scheduling.."
    )
    assert events(sim, "FailedScheduling") == [message]
    scheduled = status(sim, "needs-claim")["conditions"][0]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    assert "nodeName" not in sim.pod("needs-claim")["spec"]
    apply(sim, PVC)
    sim.run_for(5)
    assert row(sim, "needs-claim")[:2] == ("1/1", "Running")


# --- environment --------------------------------------------------------------------------

CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data: {LEVEL: debug, COLOR: red}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
data: {PASSWORD: aHVudGVyMg==}
---
"""


def test_env_sources_and_var_expansion() -> None:
    sim = start(
        CONFIG
        + """apiVersion: v1
kind: Pod
metadata:
  name: env
  labels: {app: shop}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c]
    args: ["echo $(GREETING) $APP_LEVEL $APP_COLOR $PASS $POD_IP $NODE $NS $LABEL $CPU $MEM $MISSING-; sleep 3600"]
    resources: {requests: {cpu: 250m}, limits: {memory: 128Mi}}
    envFrom:
    - {configMapRef: {name: app}, prefix: APP_}
    - {secretRef: {name: absent, optional: true}}
    env:
    - {name: NAME, value: world}
    - {name: GREETING, value: "hello-$(NAME)"}
    - {name: PASS, valueFrom: {secretKeyRef: {name: db, key: PASSWORD}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: LABEL, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: CPU, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: MISSING, valueFrom: {configMapKeyRef: {name: app, key: nope, optional: true}}}
""",
        5,
    )
    assert sim.logs("env", "c") == (
        "hello-world debug red hunter2 10.244.1.2 node-1 default shop 250 128 -\n"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            "[{name: A, valueFrom: {configMapKeyRef: {name: nothere, key: k}}}]",
            'configmap "nothere" not found',
        ),
        (
            "[{name: A, valueFrom: {configMapKeyRef: {name: app, key: k}}}]",
            "couldn't find key k in ConfigMap default/app",
        ),
        (
            "[{name: A, valueFrom: {secretKeyRef: {name: db, key: USER}}}]",
            "couldn't find key USER in Secret default/db",
        ),
        (
            "[{name: A, valueFrom: {secretKeyRef: {name: nosecret, key: k}}}]",
            'secret "nosecret" not found',
        ),
    ],
)
def test_missing_config_gives_create_container_config_error(env: str, message: str) -> None:
    sim = start(
        CONFIG
        + pod_yaml(
            "bad-env",
            f"""  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    env: {env}
""",
        ),
        30,
    )
    assert row(sim, "bad-env") == ("0/1", "CreateContainerConfigError", "0")
    waiting = status(sim, "bad-env")["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "CreateContainerConfigError", "message": message}
    assert f"Error: {message}" in events(sim, "Failed")
    # the sync is retried: the error repeats while the object is missing
    failed = [e for e in sim.events() if e["reason"] == "Failed"][0]
    assert failed["count"] >= 2


def test_env_from_missing_config_map_is_an_error_unless_optional() -> None:
    sim = start(
        pod_yaml(
            "from",
            """  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"], envFrom: [{configMapRef: {name: x}}]}
""",
        ),
        5,
    )
    waiting = status(sim, "from")["containerStatuses"][0]["state"]["waiting"]
    assert waiting["message"] == 'configmap "x" not found'
    apply(sim, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: b}\n")
    sim.run_for(20)
    assert row(sim, "from")[:2] == ("1/1", "Running")


# --- security context ---------------------------------------------------------------------


def test_run_as_non_root_with_a_root_image() -> None:
    sim = start(
        pod_yaml(
            "nonroot",
            """  containers:
  - name: web
    image: nginx:1.27
    securityContext: {runAsNonRoot: true}
""",
        ),
        10,
    )
    worker_uid = sim.pod("nonroot")["metadata"]["uid"]
    waiting = status(sim, "nonroot")["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": "container has runAsNonRoot and image will run as root "
        f'(pod: "nonroot_default({worker_uid})", container: web)',
    }


def test_run_as_user_is_what_id_prints_and_satisfies_non_root() -> None:
    sim = start(
        pod_yaml(
            "uid",
            """  securityContext: {runAsUser: 1000, runAsNonRoot: true}
  containers:
  - {name: c, image: "busybox:1.36", command: [sh, -c, "id; sleep 3600"]}
  - name: root
    image: busybox:1.36
    command: [sh, -c, "id -u; sleep 3600"]
    securityContext: {runAsUser: 0, runAsNonRoot: false}
""",
        ),
        5,
    )
    # no runAsGroup: the primary group is root's (kubernetes.io "Configure a Security Context")
    assert sim.logs("uid", "c") == "uid=1000 gid=0(root) groups=0(root)\n"
    assert sim.logs("uid", "root") == "0\n"


def test_read_only_root_filesystem_allows_writes_to_volumes_only() -> None:
    sim = start(
        pod_yaml(
            "ro",
            """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "echo a > /x; echo b > /tmp/y; echo c > /scratch/z && cat /scratch/z; sleep 3600"]
    securityContext: {readOnlyRootFilesystem: true}
    volumeMounts: [{name: s, mountPath: /scratch}]
  volumes: [{name: s, emptyDir: {}}]
""",
        ),
        5,
    )
    assert sim.logs("ro", "c") == (
        "sh: can't create /x: Read-only file system\n"
        "sh: can't create /tmp/y: Read-only file system\n"
        "c\n"
    )


# --- init containers (§7.1, §12.3) --------------------------------------------------------


def init_pod(name: str, inits: list[tuple[str, str]], policy: str, app: str) -> str:
    body = f"  restartPolicy: {policy}\n  initContainers:\n"
    for init_name, script in inits:
        body += f'  - {{name: {init_name}, image: "busybox:1.36", command: [sh, -c, "{script}"]}}\n'
    body += f'  containers:\n  - {{name: run1, image: "busybox:1.36", command: [sh, -c, "{app}"]}}\n'
    return pod_yaml(name, body)


def test_i1_init_containers_on_a_never_pod() -> None:
    sim = start(init_pod("i1", [("init1", "true"), ("init2", "true")], "Never", "true"), 10)
    st = status(sim, "i1")
    assert st["phase"] == "Succeeded"
    assert {c["type"]: c["status"] for c in st["conditions"]}["Initialized"] == "True"
    for init in st["initContainerStatuses"]:
        assert init["state"]["terminated"]["exitCode"] == 0 and init["ready"] is True


def test_i3_failing_init_on_an_always_pod_blocks_the_app() -> None:
    sim = start(init_pod("i3", [("init1", "false"), ("init2", "true")], "Always", "sleep 3600"), 120)
    st = status(sim, "i3")
    assert st["phase"] == "Pending"
    assert st["initContainerStatuses"][0]["restartCount"] >= 3
    initialized = {c["type"]: c for c in st["conditions"]}["Initialized"]
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [init1 init2]"
    assert st["initContainerStatuses"][1]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert st["containerStatuses"][0]["lastState"] == {}
    assert row(sim, "i3")[1] in ("Init:CrashLoopBackOff", "Init:Error")


def test_i4_failing_init_on_a_never_pod_fails_it() -> None:
    sim = start(init_pod("i4", [("init1", "true"), ("init2", "false")], "Never", "true"), 10)
    st = status(sim, "i4")
    assert st["phase"] == "Failed"
    initialized = {c["type"]: c for c in st["conditions"]}["Initialized"]
    assert initialized["message"] == "containers with incomplete status: [init2]"
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert row(sim, "i4") == ("0/1", "Init:Error", "0")


@pytest.mark.parametrize(
    ("t", "expected"),
    [(1, "Init:0/2"), (6, "Init:1/2"), (8.5, "Init:Error"), (15, "Init:CrashLoopBackOff")],
)
def test_init_status_column_over_time(t: float, expected: str) -> None:
    sim = start(
        init_pod("cols", [("a", "sleep 5"), ("b", "sleep 2; exit 1")], "Always", "sleep 3600"), t
    )
    assert row(sim, "cols")[1] == expected


def test_init_status_shows_oom_and_pod_initializing() -> None:
    sim = start(
        pod_yaml(
            "init-oom",
            """  restartPolicy: Never
  initContainers:
  - name: hog
    image: polinux/stress
    command: [stress, --vm, "1", --vm-bytes, 200M, --vm-hang, "1"]
    resources: {limits: {memory: 64Mi}}
  containers:
  - {name: app, image: "busybox:1.36", command: [sleep, "3600"]}
""",
        ),
        10,
    )
    assert row(sim, "init-oom") == ("0/1", "Init:OOMKilled", "0")
    assert status(sim, "init-oom")["phase"] == "Failed"


def test_c7_init_containers_are_not_rerun_when_the_app_restarts() -> None:
    sim = start(
        init_pod("c7", [("a", "true"), ("b", "true"), ("c", "true")], "Always", "sleep 3; exit 1"),
        120,
    )
    st = status(sim, "c7")
    assert st["containerStatuses"][0]["restartCount"] >= 3
    starts = [c for _t, c, new, rule in state_changes(sim) if new == "Running"]
    assert starts.count("a") == starts.count("b") == starts.count("c") == 1


def test_docs_myapp_pod_waits_for_its_services() -> None:
    path = ROOT / "lessons/05-init-and-sidecar-containers/examples"
    text = (path / "init-and-sidecar-containers-wait-for-services.yaml").read_text()
    sim = start(text, 60)
    ready, shown, _ = row(sim, sim.pods()[0]["metadata"]["name"])
    assert (ready, shown) == ("0/1", "Init:0/2")


# --- native sidecars (§7.2, §12.5) --------------------------------------------------------


def sidecar_pod(name: str, policy: str, app: str, pre_stop: str = "", probe: str = "") -> str:
    body = f"  restartPolicy: {policy}\n  initContainers:\n"
    for i in (1, 2, 3):
        body += (
            f"  - name: sidecar-{i}\n    image: busybox:1.36\n    restartPolicy: Always\n"
            '    command: [sh, -c, \'trap "sleep 5; exit 0" TERM; sleep 600 & wait\']\n'
        )
        if pre_stop:
            body += f"    lifecycle: {{preStop: {{exec: {{command: [sh, -c, '{pre_stop}']}}}}}}\n"
        if probe:
            body += f"    {probe}\n"
    body += f"  containers:\n  - {{name: regular, image: \"busybox:1.36\", command: [sh, -c, '{app}']}}\n"
    return pod_yaml(name, body)


def test_sidecars_count_in_ready_and_start_before_the_regular_container() -> None:
    sim = start(sidecar_pod("sc", "Always", "sleep 3600"), 5)
    assert row(sim, "sc") == ("4/4", "Running", "0")
    starts = [(t, c) for t, c, new, _rule in state_changes(sim) if new == "Running"]
    assert [c for _t, c in starts] == ["sidecar-1", "sidecar-2", "sidecar-3", "regular"]


def test_c19_sidecars_stop_in_reverse_order_after_the_regular_container() -> None:
    sim = start(sidecar_pod("c19", "Never", "sleep 5"), 60)
    stops = [(t, c) for t, c, new, _r in state_changes(sim) if new.startswith("Terminated")]
    assert [c for _t, c in stops] == ["regular", "sidecar-3", "sidecar-2", "sidecar-1"]
    times = [t for t, _c in stops]
    assert times == sorted(times) and times[2] - times[1] >= 5 and times[3] - times[2] >= 5
    st = status(sim, "c19")
    assert st["phase"] == "Succeeded"
    assert row(sim, "c19")[1] == "Completed"


def test_c20_sidecars_with_endless_pre_stop_are_stopped_together() -> None:
    sim = start(sidecar_pod("c20", "Never", "sleep 1", pre_stop="while true; do sleep 1; done"), 80)
    regular_end = next(
        t for t, c, new, _r in state_changes(sim) if c == "regular" and new.startswith("Term")
    )
    stops = [t for t, c, new, _r in state_changes(sim) if c.startswith("sidecar") and "Term" in new]
    assert len(stops) == 3 and max(stops) - min(stops) <= 0.5
    # hooks start at the next sync after the regular container ended: 30 s grace + 2 s
    assert 31.5 <= min(stops) - regular_end <= 33.5
    assert status(sim, "c20")["phase"] == "Succeeded"


def test_c21_sidecar_pre_stop_hooks_run_concurrently() -> None:
    sim = start(
        sidecar_pod("c21", "Never", "sleep 1", pre_stop="echo hook > /dev/termination-log; sleep 1"),
        40,
    )
    killing = [e for e in sim.events() if e["reason"] == "Killing"]
    assert {e["involvedObject"]["fieldPath"] for e in killing} == {
        "spec.initContainers{sidecar-1}",
        "spec.initContainers{sidecar-2}",
        "spec.initContainers{sidecar-3}",
    }
    assert len({e["firstTimestamp"] for e in killing}) == 1


def test_c12_batch_with_sidecar_completes() -> None:
    path = ROOT / "lessons/05-init-and-sidecar-containers/examples"
    sim = start((path / "init-and-sidecar-containers-batch.yaml").read_text(), 120)
    assert row(sim, "batch-with-sidecar") == ("0/2", "Completed", "0")
    assert status(sim, "batch-with-sidecar")["phase"] == "Succeeded"
    assert sim.logs("batch-with-sidecar", "log-shipper") == "building report\nreport done\n"
    sidecar = status(sim, "batch-with-sidecar")["initContainerStatuses"][0]
    assert sidecar["restartCount"] == 0


def test_c13_sidecar_is_restarted_even_after_exit_zero() -> None:
    sim = start(
        pod_yaml(
            "c13",
            """  restartPolicy: Never
  initContainers:
  - {name: side, image: "busybox:1.36", restartPolicy: Always, command: [sh, -c, "sleep 5"]}
  containers:
  - {name: main, image: "busybox:1.36", command: [sh, -c, "sleep 60"]}
""",
        ),
        90,
    )
    st = status(sim, "c13")
    assert st["initContainerStatuses"][0]["restartCount"] >= 2
    assert st["phase"] == "Succeeded"


def test_c14_c15_init_failure_around_a_sidecar_on_a_never_pod() -> None:
    before = start(
        pod_yaml(
            "c14",
            """  restartPolicy: Never
  initContainers:
  - {name: init, image: "busybox:1.36", command: [sh, -c, "exit 1"]}
  - {name: side, image: "busybox:1.36", restartPolicy: Always, command: [sleep, "600"]}
  containers:
  - {name: main, image: "busybox:1.36", command: [sleep, "60"]}
""",
        ),
        20,
    )
    assert status(before, "c14")["phase"] == "Failed"
    assert "side" not in [c for _t, c, new, _r in state_changes(before) if new == "Running"]
    after = start(
        pod_yaml(
            "c15",
            """  restartPolicy: Never
  initContainers:
  - {name: side, image: "busybox:1.36", restartPolicy: Always, command: [sleep, "600"]}
  - {name: init, image: "busybox:1.36", command: [sh, -c, "sleep 1; exit 1"]}
  containers:
  - {name: main, image: "busybox:1.36", command: [sleep, "60"]}
""",
        ),
        60,
    )
    assert status(after, "c15")["phase"] == "Failed"
    running = [c for _t, c, new, _r in state_changes(after) if new == "Running"]
    assert running == ["side", "init"]


def test_c16_mixed_sidecars_and_init_containers() -> None:
    sim = start(
        pod_yaml(
            "c16",
            """  initContainers:
  - {name: init1, image: "busybox:1.36", command: [sh, -c, "sleep 1"]}
  - {name: sidecar1, image: "busybox:1.36", restartPolicy: Always, command: [sleep, "600"]}
  - {name: init2, image: "busybox:1.36", command: [sh, -c, "sleep 1"]}
  - {name: sidecar2, image: "busybox:1.36", restartPolicy: Always, command: [sleep, "600"]}
  - {name: init3, image: "busybox:1.36", command: [sh, -c, "sleep 1"]}
  containers:
  - {name: regular, image: "busybox:1.36", command: [sleep, "600"]}
""",
        ),
        20,
    )
    running = [c for _t, c, new, _r in state_changes(sim) if new == "Running"]
    assert running == ["init1", "sidecar1", "init2", "sidecar2", "init3", "regular"]
    assert row(sim, "c16") == ("3/3", "Running", "0")


def test_c17_sidecar_failing_startup_probe_keeps_the_pod_pending() -> None:
    sim = start(
        pod_yaml(
            "c17",
            """  initContainers:
  - name: side
    image: busybox:1.36
    restartPolicy: Always
    command: [sleep, "600"]
    startupProbe: {exec: {command: [sh, -c, "exit 1"]}, initialDelaySeconds: 5, failureThreshold: 1}
    lifecycle: {preStop: {exec: {command: [sh, -c, "echo stopping"]}}}
  containers:
  - {name: regular, image: "busybox:1.36", command: [sleep, "600"]}
""",
        ),
        120,
    )
    st = status(sim, "c17")
    assert st["phase"] == "Pending"
    assert st["initContainerStatuses"][0]["restartCount"] >= 2
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert any("failed startup probe" in m for m in events(sim, "Killing"))


# --- resources, QoS, OOM, eviction (§9, §13.9–13.11) --------------------------------------


def qos_of(containers: str) -> str:
    result = parse_manifests(pod_yaml("q", containers))
    assert result.ok, result.problems
    return str(qos_class(result.objects[0]["spec"]))


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        (
            "  containers:\n  - {name: qos-demo-ctr, image: nginx, resources: {limits: "
            "{memory: 200Mi, cpu: 700m}, requests: {memory: 200Mi, cpu: 700m}}}\n",
            "Guaranteed",
        ),
        (
            "  containers:\n  - {name: c, image: nginx, resources: {limits: {memory: 200Mi, "
            "cpu: 700m}}}\n",
            "Guaranteed",
        ),
        (
            "  containers:\n  - {name: qos-demo-2-ctr, image: nginx, resources: {limits: "
            "{memory: 200Mi}, requests: {memory: 100Mi}}}\n",
            "Burstable",
        ),
        ("  containers:\n  - {name: qos-demo-3-ctr, image: nginx}\n", "BestEffort"),
        (
            "  containers:\n  - {name: a, image: nginx, resources: {requests: {memory: 200Mi}}}\n"
            "  - {name: b, image: redis}\n",
            "Burstable",
        ),
        (
            "  initContainers:\n  - {name: i, image: busybox, resources: {requests: {cpu: 10m}}}\n"
            "  containers:\n  - {name: c, image: nginx, resources: {limits: {memory: 1Gi, cpu: 1}}}\n",
            "Burstable",
        ),
        (
            "  containers:\n  - {name: c, image: nginx, resources: {limits: "
            "{ephemeral-storage: 1Gi}}}\n",
            "BestEffort",
        ),
    ],
)
def test_qos_classes_of_the_docs(containers: str, expected: str) -> None:
    assert qos_of(containers) == expected


def test_qos_class_is_in_the_status() -> None:
    sim = start(
        pod_yaml(
            "g",
            "  containers:\n  - {name: c, image: nginx, resources: {limits: {memory: 100Mi, "
            "cpu: 100m}}}\n",
        ),
        2,
    )
    assert status(sim, "g")["qosClass"] == "Guaranteed"


def test_effective_requests_with_init_containers_and_sidecars() -> None:
    spec = {
        "initContainers": [
            {"name": "big", "resources": {"requests": {"cpu": "2"}}},
            {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
            {"name": "after", "resources": {"requests": {"cpu": "1"}}},
        ],
        "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "500m"}}},
            {"name": "b", "resources": {"limits": {"cpu": "300m"}}},
        ],
    }
    assert effective_requests(spec, "cpu") == 2000
    spec["initContainers"][0]["resources"]["requests"]["cpu"] = "100m"
    assert effective_requests(spec, "cpu") == 1200  # the sidecar runs next to "after"
    spec["initContainers"][2]["resources"]["requests"]["cpu"] = "100m"
    assert effective_requests(spec, "cpu") == 1000  # 500m + 300m + the 200m sidecar


MEMORY_DEMO_2 = """apiVersion: v1
kind: Pod
metadata: {name: memory-demo-2}
spec:
  containers:
  - name: memory-demo-2-ctr
    image: polinux/stress
    resources: {requests: {memory: 50Mi}, limits: {memory: 100Mi}}
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]
"""


def test_docs_memory_demo_2_is_oom_killed_and_crash_loops() -> None:
    sim = start(MEMORY_DEMO_2, 3)
    ready, shown, restarts = row(sim, "memory-demo-2")
    assert (ready, shown) in (("0/1", "OOMKilled"), ("0/1", "CrashLoopBackOff"))
    sim.run_until(60)
    st = status(sim, "memory-demo-2")["containerStatuses"][0]
    assert st["lastState"]["terminated"]["exitCode"] == 137
    assert st["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert st["restartCount"] >= 2
    assert row(sim, "memory-demo-2")[1] == "CrashLoopBackOff"
    assert any(m.startswith("Back-off restarting failed container") for m in events(sim, "BackOff"))


def test_docs_memory_demo_within_its_limit_keeps_running() -> None:
    sim = start(
        """apiVersion: v1
kind: Pod
metadata: {name: memory-demo}
spec:
  containers:
  - name: memory-demo-ctr
    image: polinux/stress
    resources: {requests: {memory: 100Mi}, limits: {memory: 200Mi}}
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"]
""",
        60,
    )
    assert row(sim, "memory-demo") == ("1/1", "Running", "0")


def test_cpu_limit_throttles_but_never_kills() -> None:
    script = "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo done"
    body = (
        "  restartPolicy: Never\n  containers:\n"
        f'  - {{name: c, image: "busybox:1.36", command: [sh, -c, "{script}"]{{extra}}}}\n'
    )
    fast = start(pod_yaml("fast", body.replace("{extra}", "")), 300)
    slow = start(
        pod_yaml("slow", body.replace("{extra}", ", resources: {limits: {cpu: 100m}}")), 300
    )

    def took(sim: Simulation, name: str) -> float:
        ended = next(t for t, _c, new, _r in state_changes(sim) if new.startswith("Terminated"))
        began = next(t for t, _c, new, _r in state_changes(sim) if new == "Running")
        assert status(sim, name)["phase"] == "Succeeded"
        return ended - began

    assert took(slow, "slow") >= 8 * took(fast, "fast")


HOG = MEMORY_HOG + """---
apiVersion: v1
kind: Pod
metadata: {name: steady}
spec:
  containers:
  - name: web
    image: nginx:1.27
    resources: {requests: {memory: 100Mi, cpu: 100m}, limits: {memory: 100Mi, cpu: 100m}}
"""


def test_memory_pressure_evicts_the_best_effort_pod() -> None:
    sim = start(HOG, 40)
    hog = status(sim, "hog")
    assert (hog["phase"], hog["reason"]) == ("Failed", "Evicted")
    assert hog["message"].startswith(
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
    )
    assert "Container hog was using " in hog["message"]
    assert hog["message"].endswith(", request is 0, has larger consumption of memory. ")
    target = {c["type"]: c for c in hog["conditions"]}["DisruptionTarget"]
    assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
    assert status(sim, "steady")["phase"] == "Running"
    assert hog["message"] in events(sim, "Evicted")


def test_eviction_ranking_follows_qos() -> None:
    best_effort = PodUsage("be", 10 << 20, 0, 0, ("a", 10 << 20, 0))
    burstable_over = PodUsage("bu", 300 << 20, 100 << 20, 0, ("b", 300 << 20, 100 << 20))
    guaranteed = PodUsage("g", 90 << 20, 100 << 20, 0, ("c", 90 << 20, 100 << 20))
    order = memory_eviction_order([guaranteed, burstable_over, best_effort])
    assert [p.key for p in order] == ["bu", "be", "g"]  # both exceed requests: larger first
    assert memory_eviction_order([guaranteed, best_effort])[0].key == "be"


def test_x12_ephemeral_storage_limit_evicts() -> None:
    sim = start(
        pod_yaml(
            "disk",
            """  restartPolicy: OnFailure
  containers:
  - name: writer
    image: busybox:1.36
    command: [sh, -c, "i=0; while [ $i -lt 300 ]; do echo 0123456789012345678901234567890123456789 >> /tmp/fill; i=$((i+1)); done; sleep 3600"]
    resources: {limits: {ephemeral-storage: 4Ki}}
""",
        ),
        30,
    )
    st = status(sim, "disk")
    assert (st["phase"], st["reason"]) == ("Failed", "Evicted")
    # one container: the Pod's total (its limit, summed) is checked before the container's
    assert st["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 4Ki. "


def test_empty_dir_size_limit_evicts() -> None:
    sim = start(
        pod_yaml(
            "scratch",
            """  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "i=0; while [ $i -lt 100 ]; do echo 0123456789012345678901234567890123456789 >> /cache/f; i=$((i+1)); done; sleep 3600"]
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes: [{name: cache, emptyDir: {sizeLimit: 1Ki}}]
""",
        ),
        30,
    )
    st = status(sim, "scratch")
    assert st["reason"] == "Evicted"
    assert st["message"] == 'Usage of EmptyDir volume "cache" exceeds the limit "1Ki". '
