"""Conformance with Kubernetes 1.34 for the fixes of the image/example pass: native sidecar
start-up release, group ids, image pull secrets, ``logs -p``, ``kind: List``, nginx's bind
retries, the InvalidImageName message and the 1.34 event wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.simulation import Simulation

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


def start(text: str, until: float, seed: int = 0) -> Simulation:
    result = parse_manifests(text)
    assert result.ok, result.problems
    sim = Simulation(seed=seed)
    assert sim.apply(result.objects) == []
    sim.run_until(until)
    return sim


def status(sim: Simulation, name: str) -> dict:
    pod = sim.pod(name)
    assert pod is not None
    return pod["status"]


@pytest.mark.parametrize(
    ("example", "pod"),
    [
        ("04-multi-container-patterns/examples/multi-container-patterns-ambassador.yaml",
         "ambassador-demo"),
        ("05-init-and-sidecar-containers/examples/init-and-sidecar-containers-proxy-startup.yaml",
         "app-behind-proxy"),
    ],
)
def test_a_started_sidecar_releases_the_app_containers(example: str, pod: str) -> None:
    # D-SIDE / E2E-CL: the next container starts once the sidecar's startupProbe succeeded
    sim = start((LESSONS / example).read_text(), 60)
    st = status(sim, pod)
    assert st["phase"] == "Running"
    assert st["initContainerStatuses"][0]["started"] is True
    assert all("running" in c["state"] for c in st["containerStatuses"])
    started = [t.t for t in sim.transitions if t.pod == pod and t.field == "started"
               and t.new is True]
    app = [t.t for t in sim.transitions if t.pod == pod and t.container != ""
           and t.rule == "container.started"
           and t.container in {c["name"] for c in st["containerStatuses"]}]
    assert started and app and app[0] >= started[0]
    assert app[0] - started[0] < 2  # a probe result is a pod sync, not a wait for a resync


SECURITY = """apiVersion: v1
kind: Pod
metadata:
  name: security-context-demo
spec:
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
{extra}  containers:
  - name: sec-ctx-demo
    image: busybox:1.28
    command: ["sh", "-c", "id; id -g; id -G; sleep 1h"]
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # the output kubernetes.io's "Configure a Security Context" shows
        ("", "uid=1000 gid=3000 groups=2000,3000\n3000\n2000 3000\n"),
        ("    supplementalGroups: [4000]\n",
         "uid=1000 gid=3000 groups=2000,3000,4000\n3000\n2000 3000 4000\n"),
    ],
)
def test_group_ids_from_the_security_context(extra: str, expected: str) -> None:
    sim = start(SECURITY.format(extra=extra), 10)
    assert sim.logs("security-context-demo") == expected


def test_run_as_user_without_a_group_runs_with_gid_0() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: u}
spec:
  securityContext: {runAsUser: 1000}
  containers:
  - {name: c, image: "busybox:1.36", command: ["sh", "-c", "id; sleep 1h"]}
"""
    sim = start(text, 10)
    assert sim.logs("u") == "uid=1000 gid=0(root) groups=0(root)\n"


def test_a_missing_image_pull_secret_is_a_warning_and_the_pull_goes_ahead() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  imagePullSecrets: [{name: regcred}, {name: other}]
  containers:
  - {name: c, image: "nginx:1.21"}
"""
    sim = start(text, 30)
    warnings = [e for e in sim.events() if e["reason"] == "FailedToRetrieveImagePullSecret"]
    assert warnings
    assert warnings[0]["type"] == "Warning"
    assert warnings[0]["message"] == (
        "Unable to retrieve some image pull secrets (regcred, other); attempting to pull the "
        "image may not succeed."
    )
    assert warnings[0]["involvedObject"].get("fieldPath", "") == ""
    assert status(sim, "private")["phase"] == "Running"  # nginx is public


def test_logs_previous_of_a_crash_looping_container_is_its_last_state() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo run at $(date +%s); exit 1"]
"""
    sim = start(text, 60)
    cs = status(sim, "crasher")["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    worker = sim._find("crasher", "default")
    newest = worker.slots[0].instances[-1]
    assert cs["lastState"]["terminated"]["containerID"] == newest.container_id
    # validateContainerLogStatus: both read lastState.terminated's instance while waiting
    assert sim.logs("crasher", previous=True) == newest.log_text()
    assert sim.logs("crasher") == newest.log_text()
    assert newest.log_text() != worker.slots[0].instances[-2].log_text()


def test_logs_of_a_container_that_cannot_pull() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: nopull}
spec:
  containers:
  - {name: c, image: "my-app:latest"}
"""
    sim = start(text, 5)
    with pytest.raises(LookupError, match="is waiting to start: image can't be pulled"):
        sim.logs("nopull")


def test_kind_list_is_read_as_its_items() -> None:
    text = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
  spec:
    containers: [{name: c, image: "busybox:1.36", command: ["sleep", "3600"]}]
- apiVersion: v1
  kind: Pod
  metadata: {name: two}
  spec:
    containers: [{name: c, image: "busybox:1.36", command: ["sleep", "3600"]}]
"""
    sim = start(text, 10)
    assert sorted(p["metadata"]["name"] for p in sim.pods()) == ["one", "two"]
    bad = parse_manifests(text.replace("    containers: [{name: c, image: \"busybox:1.36\", "
                                       "command: [\"sleep\", \"3600\"]}]\n", "    x: 1\n", 1))
    assert not bad.ok
    assert bad.problems[0].line == 8  # located where the item was written


def test_nginx_retries_a_taken_port_five_times_then_gives_up() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: clash}
spec:
  containers:
  - {name: first, image: "nginx:1.27"}
  - {name: second, image: "nginx:1.27"}
"""
    sim = start(text, 1)
    while "terminated" not in status(sim, "clash")["containerStatuses"][1]["lastState"]:
        assert sim.now < 30
        sim.run_until(sim.now + 0.5)
    log = sim.logs("clash", "second", previous=True)
    assert log.count("[emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)") \
        == 5
    assert log.count("nginx: [emerg] bind() to [::]:80 failed (98: Address already in use)") == 5
    assert log.count("[notice] 1#1: try again to bind() after 500ms") == 5
    assert log.rstrip().endswith("nginx: [emerg] still could not bind()")
    assert "start worker processes" not in log  # nginx binds before it forks workers
    terminated = status(sim, "clash")["containerStatuses"][1]["lastState"]["terminated"]
    assert terminated["exitCode"] == 1
    assert 2.4 <= _seconds(terminated["finishedAt"]) - _seconds(terminated["startedAt"]) <= 3


def _seconds(stamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def test_invalid_image_name_has_one_prefix() -> None:
    sim = start("""apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers: [{name: c, image: "Nginx:1.27"}]
""", 5)
    cs = status(sim, "bad")["containerStatuses"][0]
    expected = ('Failed to apply default image tag "Nginx:1.27": couldn\'t parse image reference '
                '"Nginx:1.27": invalid reference format: repository name (library/Nginx) must be '
                "lowercase")
    assert cs["state"]["waiting"] == {"reason": "InvalidImageName", "message": expected}
    inspect = [e["message"] for e in sim.events() if e["reason"] == "InspectFailed"]
    assert inspect and inspect[0] == expected


def test_events_use_the_1_34_wording() -> None:
    sim = start("""apiVersion: v1
kind: Pod
metadata: {name: again}
spec:
  containers:
  - {name: c, image: "busybox:1.36", command: ["sh", "-c", "sleep 1; exit 1"]}
""", 40)
    present = [e["message"] for e in sim.events() if e["reason"] == "Pulled"
               and "already present" in e["message"]]
    assert present == ['Container image "busybox:1.36" already present on machine']
    created = [e["message"] for e in sim.events() if e["reason"] == "Created"]
    assert created[0] == "Created container: c"


def test_an_image_nobody_publishes_gives_the_1_34_event_sequence() -> None:
    sim = start("""apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers: [{name: c, image: "my-app:latest"}]
""", 60)
    seen = [(e["type"], e["reason"], e["message"]) for e in sim.events()
            if e["involvedObject"].get("fieldPath") == "spec.containers{c}"]
    ref = "docker.io/library/my-app:latest"
    denied = (f'Failed to pull image "my-app:latest": rpc error: code = Unknown desc = failed to '
              f'pull and unpack image "{ref}": failed to resolve reference "{ref}": pull access '
              "denied, repository does not exist or may require authorization: server message: "
              "insufficient_scope: authorization failed")
    assert seen[:5] == [
        ("Normal", "Pulling", 'Pulling image "my-app:latest"'),
        ("Warning", "Failed", denied),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", 'Back-off pulling image "my-app:latest"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    cs = status(sim, "app")["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert status(sim, "app")["phase"] == "Pending"
