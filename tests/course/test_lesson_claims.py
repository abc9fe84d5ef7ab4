"""Claims the lessons make in prose, checked against the engine (the transcripts are checked
by test_transcripts.py; these are the statements around them)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from django.conf import settings

from podlab.course.content import load_course
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.simulation import Simulation

COURSE = load_course(Path(settings.LESSONS_DIR))
EPOCH = datetime.fromisoformat("2025-01-01T00:00:00+00:00")


def _seconds(stamp: str) -> float:
    return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - EPOCH).total_seconds()


def _run(example: str, until: float) -> Simulation:
    objects = parse_manifests(COURSE.examples[example].text()).objects
    sim = Simulation(seed=0)
    sim.apply(objects)
    sim.run_until(until)
    return sim


def _restart_waits(sim: Simulation) -> list[tuple[float, float]]:
    """(finishedAt of an instance, startedAt of the next) for the Pod's only container."""
    pairs: dict[float, float] = {}
    for record in sim.records:
        if record.kind != "Pod":
            continue
        (status,) = record.object.get("status", {}).get("containerStatuses") or [{}]
        running = (status.get("state") or {}).get("running")
        last = (status.get("lastState") or {}).get("terminated")
        if running and last:
            pairs[_seconds(last["finishedAt"])] = _seconds(running["startedAt"])
    return sorted(pairs.items())


def test_lesson_7_back_off_windows():
    """Lesson 7 (both languages): first restart immediate, then 10, 20, 40, 80, 160, 300 s,
    measured from finishedAt, the restart coming at the next Pod sync (a few seconds later)."""
    for lang, words in (("en", "10 s, then 20 s, 40 s, 80 s, 160 s"),
                        ("zh-hans", "10 秒")):
        assert words in COURSE.get("restart-policy-and-backoff").markdown(lang)
    sim = _run("restart-policy-and-backoff-crashloop", 1400)
    waits = [start - finished for finished, start in _restart_waits(sim)]
    windows = [0, 10, 20, 40, 80, 160, 300, 300]
    assert len(waits) >= len(windows)
    for wait, window in zip(waits, windows, strict=False):
        # the next sync comes up to a jittered worker back-off (10-15 s) later
        assert window <= wait < window + 16, (waits, windows)


def test_lesson_7_a_long_run_resets_the_back_off():
    """Lesson 7: more than ten minutes between crashes, and every restart is immediate."""
    sim = _run("restart-policy-and-backoff-long-runner", 1500)
    waits = [start - finished for finished, start in _restart_waits(sim)]
    assert len(waits) >= 2 and all(wait <= 1 for wait in waits), waits  # stamps are whole s


TERMINATING = """apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 2
    livenessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 2
    lifecycle:
      preStop:
        sleep: {seconds: 20}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""


def test_lessons_8_and_11_readiness_during_termination():
    """Lesson 11: after the deletion timestamp, the endpoint is ready=false, terminating=true,
    serving from readiness; liveness stops, readiness goes on and Ready follows it (1/1
    Terminating)."""
    for phrase in ("`ready=false` and `terminating=true`", "`1/1 Terminating`"):
        assert phrase in COURSE.get("termination").markdown("en")
    sim = Simulation(seed=0)
    sim.apply(parse_manifests(TERMINATING).objects)
    sim.run_until(20)
    assert sim.delete_pod("web")
    sim.run_until(30)
    pod = sim.pod("web")
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert pod["metadata"]["deletionTimestamp"] and ready["status"] == "True"
    (endpoint,) = [e for s in sim.objects.items("EndpointSlice") for e in s.get("endpoints") or []]
    assert endpoint["conditions"] == {"ready": False, "serving": True, "terminating": True}
    probes = {r["probe"]: r for r in sim.probe_report()}
    assert max(x["t"] for x in probes["readiness"]["results"]) > 21
    assert max(x["t"] for x in probes["liveness"]["results"]) <= 21


def test_lesson_11_terminated_state_block():
    """Lesson 11 prints the shell-form container's final state as YAML; it is the engine's."""
    import yaml

    for lang in ("en", "zh-hans"):
        text = COURSE.get("termination").markdown(lang)
        block = re.search(r"```yaml\n(state:\n  terminated:\n.*?)```", text, re.S)
        assert block, lang
        shown = yaml.safe_load(block.group(1))["state"]["terminated"]
        sim = _run("termination-shell-form", 52)
        assert sim.delete_pod("termination-shell-form")
        sim.run_until(90)
        states = [r.object["status"]["containerStatuses"][0]["state"] for r in sim.records
                  if r.kind == "Pod" and r.object.get("status", {}).get("containerStatuses")]
        final = next(s["terminated"] for s in reversed(states) if "terminated" in s)
        assert {k: final[k] for k in shown} == shown, (lang, final)


def _subset(shown, actual) -> bool:
    """Every key and list item ``shown`` has is in ``actual`` with the same value."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in shown.items())
    if isinstance(shown, list):
        return isinstance(actual, list) and len(shown) == len(actual) and all(
            _subset(s, a) for s, a in zip(shown, actual, strict=True))
    return str(shown) == str(actual)


def test_lesson_1_status_block_is_the_engines():
    """Lesson 1 shows the hello Pod's status, trimmed; every value shown is the engine's."""
    import yaml

    sim = _run("what-is-a-pod-hello", 9)
    status = sim.pod("hello-pod")["status"]
    for lang in ("en", "zh-hans"):
        text = COURSE.get("what-is-a-pod").markdown(lang)
        block = re.search(r"```yaml\n(status:\n.*?)```", text, re.S)
        assert block, lang
        shown = yaml.safe_load(block.group(1))["status"]
        assert _subset(shown, status), (lang, shown, status)


def test_lesson_12_node_bookkeeping_fits_the_lab_node():
    """The hand-written describe node output uses node-1's allocatable CPU and memory, with
    kubectl's truncated percentages."""
    from podlab.engine.cluster import default_nodes
    from podlab.engine.core.quantity import cpu_millicores, memory_bytes

    node = next(n for n in default_nodes() if n["metadata"]["name"] == "node-1")
    allocatable = node["status"]["allocatable"]
    total = {"cpu": cpu_millicores(allocatable["cpu"]),
             "memory": memory_bytes(allocatable["memory"])}
    for lang in ("en", "zh-hans"):
        text = COURSE.get("resources-and-qos").markdown(lang)
        assert "$ kubectl describe node node-1" in text
        for resource, parse in (("cpu", cpu_millicores), ("memory", memory_bytes)):
            row = re.search(rf"^  {resource} +(\S+) \((\d+)%\) +(\S+) \((\d+)%\)$", text, re.M)
            assert row, (lang, resource)
            for amount, percent in ((row[1], row[2]), (row[3], row[4])):
                assert int(parse(amount) / total[resource] * 100) == int(percent), (
                    lang, resource, amount, percent)


def test_lesson_15_mirror_pod_metadata_is_the_engines():
    """Lesson 15 prints the mirror Pod's metadata (annotations, Node owner) as the lab makes it."""
    import yaml

    objects = parse_manifests(COURSE.examples["static-pods-web"].text()).objects
    sim = Simulation(seed=0)
    sim.add_static_pod(objects[0], "node-1")
    sim.run_until(20)
    metadata = sim.pod("static-web-node-1")["metadata"]
    for lang in ("en", "zh-hans"):
        text = COURSE.get("static-pods").markdown(lang)
        block = re.search(r"```yaml\n(metadata:\n  name: static-web-node-1\n.*?)```", text, re.S)
        assert block, lang
        shown = yaml.safe_load(block.group(1))["metadata"]
        assert _subset(shown, metadata), (lang, shown, metadata)


def test_lesson_16_pod_metadata_is_the_engines():
    """Lesson 16 prints a Deployment Pod's name, labels and ownerReference as the lab makes them."""
    import yaml

    sim = _run("pods-and-controllers-deployment", 20)
    for lang in ("en", "zh-hans"):
        text = COURSE.get("pods-and-controllers").markdown(lang)
        block = re.search(r"```yaml\n(metadata:\n  name: web-.*?)```", text, re.S)
        assert block, lang
        shown = yaml.safe_load(block.group(1))["metadata"]
        pod = sim.pod(shown["name"])
        assert pod is not None, shown["name"]
        assert _subset(shown, pod["metadata"]), (lang, shown, pod["metadata"])


def test_lesson_10_stored_object_is_the_engines():
    """Lesson 10 shows what defaulting and admission add to the creation-demo Pod; each field
    shown is what the lab's API server stores."""
    import yaml

    sim = _run("creation-demo", 0)
    first = next(r.object for r in sim.records if r.kind == "Pod")
    for lang in ("en", "zh-hans"):
        text = COURSE.get("how-a-pod-is-created").markdown(lang)
        block = re.search(r"```yaml\n(spec:\n  containers:\n  - name: web\n.*?)```", text, re.S)
        assert block, lang
        shown = yaml.safe_load(block.group(1))
        (container,) = shown["spec"].pop("containers")  # an excerpt of the one container
        assert _subset(container, first["spec"]["containers"][0]), (lang, first["spec"])
        assert _subset(shown["spec"], first["spec"]), (lang, first["spec"])
        assert _subset(shown["status"], first["status"]), (lang, first["status"])
