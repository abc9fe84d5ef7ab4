"""The scheduler's and the eviction manager's messages said in the page's language: the
narration reads kubectl's English back into data and never quotes it."""

import re

import pytest
from django.utils import translation

from podlab.course.content import course
from podlab.engine.kubelet import resources
from podlab.engine.scheduler import scheduler as sched
from podlab.lab import narration, services
from tests.lab.manifests import MEMORY_HOG

CJK = re.compile(r"[\u4e00-\u9fff]")
#: words of the English messages that must never show up in a narration entry
ENGLISH = re.compile(r"node\(s\)|nodes are available|Insufficient|Preemption is|"
                     r"low on resource|exceeded its|Usage of EmptyDir|untolerated")


def start(text: str, lang: str = "en") -> services.LabSession:
    lab, validation = services.lab_start(manifest_text=text, seed=0, lang=lang)
    assert lab is not None, validation
    return lab


def told(lab: services.LabSession, lang: str) -> list[dict]:
    return lab.snapshot(lang=lang)["history"]["narration"]


ALL_REASONS = [
    sched.REASON_UNSCHEDULABLE, sched.REASON_AFFINITY, sched.REASON_PORTS,
    sched.REASON_TOO_MANY_PODS, sched.REASON_POD_AFFINITY, sched.REASON_POD_ANTI_AFFINITY,
    sched.REASON_EXISTING_ANTI_AFFINITY, sched.PREEMPTION_NOT_HELPFUL, sched.NO_VICTIMS,
    sched.untolerated_taint_reason({"key": "dedicated", "value": "gpu"}),
    sched.untolerated_taint_reason({"key": "node-role.kubernetes.io/control-plane"}),
    "Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage",
    'persistentvolumeclaim "data" not found',
]


def test_a_fit_error_reads_back_into_its_histogram():
    verdicts = {
        "cp": sched.NodeVerdict([sched.untolerated_taint_reason(
            {"key": "node-role.kubernetes.io/control-plane"})], False),
        "n1": sched.NodeVerdict(["Insufficient cpu", "Insufficient memory"], True),
        "n2": sched.NodeVerdict([sched.REASON_AFFINITY], False),
    }
    post = sched.fit_error(3, {
        "cp": sched.NodeVerdict([sched.PREEMPTION_NOT_HELPFUL], False),
        "n1": sched.NodeVerdict([sched.NO_VICTIMS], False),
        "n2": sched.NodeVerdict([sched.PREEMPTION_NOT_HELPFUL], False)}, "",
        prefix="preemption: ")
    message = sched.fit_error(3, verdicts, post)
    fit = narration.parse_fit_error(message)
    assert fit == {
        "nodes": 3,
        "reasons": [[1, "Insufficient cpu"], [1, "Insufficient memory"],
                    [1, "node(s) didn't match Pod's node affinity/selector"],
                    [1, "node(s) had untolerated taint "
                        "{node-role.kubernetes.io/control-plane: }"]],
        "preemption": [[1, sched.NO_VICTIMS], [2, sched.PREEMPTION_NOT_HELPFUL]],
        "post": "",
    }
    never = narration.parse_fit_error(sched.fit_error(1, {
        "n": sched.NodeVerdict(["Insufficient cpu"], True)}, sched.NOT_ELIGIBLE_NEVER))
    assert never["post"] == "never" and never["reasons"] == [[1, "Insufficient cpu"]]
    waiting = narration.parse_fit_error(sched.fit_error(1, {
        "n": sched.NodeVerdict(["Insufficient cpu"], True)}, sched.NOT_ELIGIBLE_TERMINATING))
    assert waiting["post"] == "terminating"
    assert narration.parse_fit_error("something else entirely") is None


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_scheduler_reason_has_its_own_words(lang):
    with translation.override(lang):
        unknown = narration.fit_reason_text("a reason from a future scheduler")
        for reason in ALL_REASONS:
            said = narration.fit_reason_text(reason)
            assert said != unknown and not ENGLISH.search(said), (reason, said)
            if lang == "zh-hans":
                assert CJK.search(said), (reason, said)
        said = narration.fit_text(narration.parse_fit_error(sched.fit_error(
            len(ALL_REASONS), {str(i): sched.NodeVerdict([r], False)
                               for i, r in enumerate(ALL_REASONS)}, sched.NOT_ELIGIBLE_NEVER)))
        assert not ENGLISH.search(said), said
    if lang == "zh-hans":
        assert "preemptionPolicy: Never" in said and "。集群" in said  # no gap between sentences


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_an_unschedulable_pod_is_told_in_the_page_language(lang):
    lab = start(course().examples["scheduling-unmatched-selector"].text(), lang)
    lab.advance_to(30)
    entry = next(e for e in told(lab, lang) if e["code"] == "unschedulable")
    # the reason that rules out most nodes names the field to change
    assert entry["field"] == "spec.nodeSelector"
    assert not ENGLISH.search(entry["text"]), entry["text"]
    event = next(e for e in lab.sim.events() if e["reason"] == "FailedScheduling")
    assert event["message"].startswith("0/3 nodes are available: ")  # kubectl keeps its text
    if lang == "zh-hans":
        assert "2 个节点" in entry["text"] and "nodeSelector" in entry["text"]
        assert "control-plane" in entry["text"] and "污点" in entry["text"]
    else:
        assert "2 nodes: its labels do not match" in entry["text"]


def test_an_unschedulable_pod_names_the_request_that_does_not_fit():
    lab = start(course().examples["creation-unschedulable"].text())
    lab.advance_to(5)
    entry = next(e for e in told(lab, "en") if e["code"] == "unschedulable")
    assert entry["field"] == "spec.containers[0].resources.requests.cpu"
    assert "not enough cpu" in entry["text"]


def test_a_missing_claim_is_told():
    lab = start("""apiVersion: v1
kind: Pod
metadata: {name: claims}
spec:
  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"]}
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
""", "zh-hans")
    lab.advance_to(5)
    entry = next(e for e in told(lab, "zh-hans") if e["code"] == "unschedulable")
    assert "PersistentVolumeClaim data 不存在" in entry["text"], entry["text"]
    assert entry["field"] == "spec.volumes[].persistentVolumeClaim.claimName"


def writes(count: int, path: str) -> str:
    """A shell loop that appends a 40-character line ``count`` times to ``path``, then sleeps."""
    line = "0123456789" * 4
    return (f"i=0; while [ $i -lt {count} ]; do echo {line} >> {path}; i=$((i+1)); done; "
            "sleep 3600")


STORAGE = """apiVersion: v1
kind: Pod
metadata: {name: disk}
spec:
  restartPolicy: OnFailure
  containers:
  - name: writer
    image: busybox:1.36
    command: [sh, -c, "SCRIPT"]
    resources: {limits: {ephemeral-storage: 4Ki}}
""".replace("SCRIPT", writes(300, "/tmp/fill"))
STORAGE_PAIR = STORAGE.replace("metadata: {name: disk}", "metadata: {name: pair}") + """\
  - name: idle
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {limits: {ephemeral-storage: 1Mi}}
"""
EMPTY_DIR = """apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, "SCRIPT"]
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes: [{name: cache, emptyDir: {sizeLimit: 1Ki}}]
""".replace("SCRIPT", writes(100, "/cache/f"))
MEMORY = MEMORY_HOG


@pytest.mark.parametrize(("manifest", "code", "field", "words"), [
    # one container: the kubelet checks the Pod's total (its limit, summed) first
    (STORAGE, "evicted-pod-storage", "spec.containers[0].resources.limits.ephemeral-storage",
     ["4Ki", "ephemeral-storage", "emptyDir"]),
    (STORAGE_PAIR, "evicted-storage", "spec.containers[0].resources.limits.ephemeral-storage",
     ["writer", "4Ki", "ephemeral-storage"]),
    (EMPTY_DIR, "evicted-emptydir", "spec.volumes[0].emptyDir.sizeLimit",
     ["cache", "1Ki", "sizeLimit"]),
    (MEMORY, "evicted-memory", "spec.containers[0].resources.requests.memory",
     ["hog", "100Mi", "内存"]),
])
def test_an_eviction_is_told_in_chinese_with_its_figures(manifest, code, field, words):
    lab = start(manifest, "zh-hans")
    lab.advance_to(30)
    # (the node's pressure condition is told too, as its own entry)
    entry = next(e for e in told(lab, "zh-hans") if e["kind"] == "evict" and e.get("pod"))
    assert entry["code"] == code and entry["field"] == field
    assert CJK.search(entry["text"]) and not ENGLISH.search(entry["text"]), entry["text"]
    for word in words:
        assert word in entry["text"], (word, entry["text"])
    assert not re.search(r"\d{5,}Ki", entry["text"])  # big figures are said in MiB


def test_eviction_messages_of_the_engine_read_back():
    usage = resources.PodUsage("p", 300 << 20, 100 << 20, 0, ("app", 300 << 20, 100 << 20))
    message = resources.memory_pressure_message(50 << 20, usage)
    code, values = narration.parse_eviction(message)
    assert code == "evicted-memory"
    assert values == {"threshold": "100Mi", "available": "51200Ki", "container": "app",
                      "usage": "307200Ki", "request": "100Mi"}
    assert narration.parse_eviction(resources.container_storage_message("c", "1Gi")) == (
        "evicted-storage", {"container": "c", "limit": "1Gi"})
    assert narration.parse_eviction(resources.pod_storage_message("2Gi")) == (
        "evicted-pod-storage", {"limit": "2Gi"})
    disk = resources.disk_pressure_message(10 << 30, 5 << 30, [("a", 80 << 30, 0), ("b", 5, 0)])
    assert narration.parse_eviction(disk) == ("evicted-disk", {
        "threshold": "10Gi", "available": "5Gi", "container": "a", "usage": "80Gi",
        "request": "0"})
    assert narration.parse_eviction(resources.empty_dir_message("v", "1Ki")) == (
        "evicted-emptydir", {"volume": "v", "limit": "1Ki"})
    assert narration.parse_eviction("a message of another shape") == ("evicted", {})


def test_a_root_image_under_run_as_non_root_names_the_rule_not_env():
    lab = start(course().examples["security-context-nonroot-root-image"].text(), "zh-hans")
    lab.advance_to(30)
    entry = next(e for e in told(lab, "zh-hans") if e["code"].startswith("config-"))
    assert entry["code"] == "config-root-image"
    assert entry["field"].endswith("securityContext.runAsNonRoot") and entry["value"] is True
    assert "runAsUser" in entry["text"] and CJK.search(entry["text"])
    assert "image will run as root" not in entry["text"] + entry.get("cause", "")


@pytest.mark.parametrize(("env", "code", "field", "words"), [
    ("    envFrom: [{configMapRef: {name: settings}}]", "config-missing",
     "spec.containers[0].envFrom[0].configMapRef", "ConfigMap settings"),
    ("    env: [{name: A, valueFrom: {secretKeyRef: {name: creds, key: token}}}]",
     "config-missing", "spec.containers[0].env[0].valueFrom.secretKeyRef", "Secret creds"),
])
def test_a_missing_env_source_is_named(env, code, field, words):
    lab = start(f"""apiVersion: v1
kind: Pod
metadata: {{name: env}}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, "3600"]
{env}
""", "zh-hans")
    lab.advance_to(10)
    entry = next(e for e in told(lab, "zh-hans") if e["code"].startswith("config-"))
    assert (entry["code"], entry["field"]) == (code, field)
    assert words in entry["text"] and "不存在" in entry["text"], entry["text"]
    assert "not found" not in entry["text"] + entry.get("cause", "")


def test_a_missing_key_is_named():
    lab = start("""apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Pod
metadata: {name: env}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, "3600"]
    env: [{name: LEVEL, valueFrom: {configMapKeyRef: {name: settings, key: level}}}]
""")
    lab.advance_to(10)
    entry = next(e for e in told(lab, "en") if e["code"].startswith("config-"))
    assert entry["code"] == "config-key"
    assert "the ConfigMap settings has no key level" in entry["text"]
    assert entry["field"] == "spec.containers[0].env[0].valueFrom.configMapKeyRef"


def test_the_scheduler_s_retries_are_told_once():
    lab = start(course().examples["scheduling-unmatched-selector"].text())
    lab.advance_to(700)  # the scheduler tried again at least twice
    retries = [e for e in lab.sim.events() if e["reason"] == "FailedScheduling"]
    assert sum(e.get("count", 1) for e in retries) >= 2
    assert len([e for e in told(lab, "en") if e["code"] == "unschedulable"]) == 1


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_volume_that_cannot_be_mounted_is_told_once(lang):
    lab = start(course().examples["volumes-missing-configmap"].text(), lang)
    lab.advance_to(300)
    mounts = [e for e in lab.sim.events() if e["reason"] == "FailedMount"]
    assert sum(e.get("count", 1) for e in mounts) >= 2  # the kubelet retries
    entries = [e for e in told(lab, lang) if e["code"].startswith("mount-")]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["code"] == "mount-missing"
    assert (entry["field"], entry["value"]) == ("spec.volumes[0].configMap.name", "app-config")
    assert "ConfigMap app-config" in entry["text"] and "ContainerCreating" in entry["text"]
    assert "MountVolume" not in entry["text"] and "not found" not in entry["text"]
    if lang == "zh-hans":
        assert "不存在" in entry["text"]


def test_a_host_path_of_the_wrong_type_is_told():
    lab = start("""apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"],
     volumeMounts: [{name: logs, mountPath: /logs}]}
  volumes: [{name: logs, hostPath: {path: /etc/hostname, type: Directory}}]
""", "zh-hans")
    lab.advance_to(10)
    entry = next(e for e in told(lab, "zh-hans") if e["code"].startswith("mount-"))
    assert entry["code"] == "mount-hostpath" and entry["field"] == "spec.volumes[0].hostPath"
    assert "/etc/hostname" in entry["text"] and "不是目录" in entry["text"], entry["text"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_lost_node_and_the_taint_eviction_are_told(lang):
    lab = start(course().examples["what-is-a-pod-hello"].text(), lang)
    lab.advance_to(10)
    lab.act({"action": "node", "node": "node-1", "reachable": False})
    lab.advance_to(420)
    entries = [e for e in told(lab, lang) if e["kind"] == "evict"]
    assert [e["code"] for e in entries] == ["node-not-ready", "taint-evict"]
    lost, evicted = entries
    assert lost["params"]["node"] == "node-1" and 55 <= lost["t"] <= 75
    assert evicted["t"] == pytest.approx(lost["t"] + 300)
    assert evicted["field"].endswith("tolerationSeconds") and evicted["value"] == 300
    if lang == "zh-hans":
        assert "node-1" in lost["text"] and "300 秒" in evicted["text"], evicted["text"]
    else:
        assert "nothing creates it again" in evicted["text"]


def test_a_controller_s_pod_evicted_from_a_lost_node_is_replaced():
    lab = start(course().examples["pods-and-controllers-deployment"].text())
    lab.advance_to(20)
    node = next(p["spec"]["nodeName"] for p in lab.sim.pods())
    lab.act({"action": "node", "node": node, "reachable": False})
    lab.advance_to(450)
    codes = {e["code"] for e in told(lab, "en") if e["kind"] == "evict"}
    assert codes == {"node-not-ready", "taint-evict-owned"}, codes


def test_a_sidecar_stop_is_told_when_it_starts_and_how_it_ended():
    """The Killing event of a sidecar is its stop (not an unexplained kill), and its exit says
    whether SIGTERM or SIGKILL ended it."""
    lab = start(course().examples["init-and-sidecar-containers-batch"].text())
    lab.advance_to(120)
    entries = [e for e in told(lab, "en") if e.get("container") == "log-shipper"]
    codes = [e["code"] for e in entries]
    assert "other-kill" not in codes
    kill = next(e for e in entries if e["code"] == "sidecar-kill")
    end = next(e for e in entries if e["kind"] == "exit")
    assert kill["t"] < end["t"] and kill["field"].endswith(".restartPolicy")
    assert end["code"] in ("sigkill-shell", "sigkill", "sigterm-exit")
    assert f"SIGKILL after {kill['params']['grace']} s" in kill["text"]


def test_a_missing_image_pull_secret_is_told_once():
    lab = start(course().examples["images-pull-secret"].text(), "zh-hans")
    lab.advance_to(120)
    warned = [e for e in lab.sim.events() if e["reason"] == "FailedToRetrieveImagePullSecret"]
    assert warned
    entries = [e for e in told(lab, "zh-hans") if e["code"] == "pull-secret-missing"]
    assert len(entries) == 1 and entries[0]["field"] == "spec.imagePullSecrets"
    assert "regcred" in entries[0]["text"] and "不存在" in entries[0]["text"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_node_pressure_and_its_end_are_told(lang):
    lab = start(MEMORY_HOG, lang)
    lab.advance_to(400)
    entries = [e for e in told(lab, lang) if e["code"].startswith("node-")]
    assert [(e["code"], e.get("pod", ""), e["params"]["condition"]) for e in entries] == [
        ("node-memory-pressure", "", "MemoryPressure"),
        ("node-pressure-over", "", "MemoryPressure"),
    ]
    pressure, over = entries
    assert over["t"] == pytest.approx(pressure["t"] + resources.PRESSURE_TRANSITION_PERIOD)
    assert "node.kubernetes.io/memory-pressure" in pressure["text"]
    for entry in entries:
        assert not ENGLISH.search(entry["text"])
        if lang == "zh-hans":
            assert CJK.search(entry["text"]), entry["text"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_pressure_taints_and_the_kubelet_s_refusal_are_said_in_words(lang):
    with translation.override(lang):
        disk = narration.fit_reason_text(
            sched.untolerated_taint_reason({"key": "node.kubernetes.io/disk-pressure"}))
        assert "DiskPressure" in disk and not ENGLISH.search(disk)
        assert narration.fit_reason_field(
            sched.untolerated_taint_reason({"key": "node.kubernetes.io/disk-pressure"})
        ) == "spec.tolerations"
        if lang == "zh-hans":
            assert CJK.search(disk)
    message = resources.admit_message(("MemoryPressure", "DiskPressure"))
    assert narration.parse_eviction(message) == (
        "evicted-node-condition", {"conditions": "MemoryPressure DiskPressure"})


def test_inode_and_pid_eviction_messages_read_back():
    inodes = resources.node_low_message("inodes", "13107", "5k")
    assert narration.parse_eviction(inodes) == (
        "evicted-inodes", {"threshold": "13107", "available": "5k"})
    pids = resources.node_low_message("pids", "6553", "6390")
    assert narration.parse_eviction(pids) == (
        "evicted-pids", {"threshold": "6553", "available": "6390"})
    assert narration.parse_eviction(resources.admit_message(("PIDPressure",))) == (
        "evicted-node-condition", {"conditions": "PIDPressure"})


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_pid_pressure_and_its_evictions_are_told(lang):
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation
    from tests.engine.test_conformance_node_pressure import forks, pid_node

    sim = Simulation(seed=0, nodes=pid_node())
    objects = parse_manifests(forks("forker", 1000) + "---\n" + forks("small", 500)).objects
    sim.apply(objects)
    specs = {o["metadata"]["name"]: o["spec"] for o in objects}
    narrator = narration.Narrator(sim=sim, specs=specs)
    sim.run_until(60)
    entries = narration.render_all(narrator.collect(), lang=lang)
    evicted = next(e for e in entries if e["code"] == "evicted-pids")
    assert evicted["pod"] == "forker"
    assert evicted["params"]["threshold"] == "6553"
    pressure = next(e for e in entries if e["code"] == "node-pid-pressure")
    assert pressure["params"] == {"node": "node-1", "condition": "PIDPressure",
                                  "taint": "node.kubernetes.io/pid-pressure"}
    for entry in (evicted, pressure):
        assert not ENGLISH.search(entry["text"]), entry["text"]
        if lang == "zh-hans":
            assert CJK.search(entry["text"]) and "PID" in entry["text"], entry["text"]
    assert "node.kubernetes.io/pid-pressure" in pressure["text"]
    with translation.override(lang):
        taint = narration.fit_reason_text(
            sched.untolerated_taint_reason({"key": "node.kubernetes.io/pid-pressure"}))
    assert "PIDPressure" in taint and not ENGLISH.search(taint)
    if lang == "zh-hans":
        assert CJK.search(taint)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_an_inode_eviction_is_told(lang):
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation
    from tests.engine.test_conformance_node_pressure import DIRS, one_small_node, pod

    sim = Simulation(seed=0, nodes=one_small_node())
    objects = parse_manifests(pod("dirs", DIRS)).objects
    sim.apply(objects)
    specs = {o["metadata"]["name"]: o["spec"] for o in objects}
    narrator = narration.Narrator(sim=sim, specs=specs)
    sim.run_until(120)
    entries = narration.render_all(narrator.collect(), lang=lang)
    evicted = next(e for e in entries if e["code"] == "evicted-inodes")
    assert evicted["pod"] == "dirs" and "13107" in evicted["text"]
    disk = next(e for e in entries if e["code"] == "node-disk-pressure")
    for entry in (evicted, disk):
        assert not ENGLISH.search(entry["text"]), entry["text"]
        if lang == "zh-hans":
            assert CJK.search(entry["text"]) and "inode" in entry["text"], entry["text"]
