"""The course content is consistent: both languages, same structure, valid manifests."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from podlab.course import diagrams
from podlab.course.content import DIRECTIVE_RE, LANGS, load_course

LESSONS_DIR = Path(settings.LESSONS_DIR)
COURSE = load_course(LESSONS_DIR)
LESSON_IDS = [lesson.slug for lesson in COURSE.lessons]
HEADING_RE = re.compile(r"^(#{2,3})\s+(.+?)\s*\{#([A-Za-z0-9_-]+)\}\s*$")
FENCE_RE = re.compile(r"^```")

REQUIRED_TOPICS = {
    "pause": "pause container",
    "emptyDir": "volumes",
    "sidecar": "sidecars",
    "initContainers": "init containers",
    "CrashLoopBackOff": "back-off",
    "livenessProbe": "probes",
    "imagePullPolicy": "image pull policy",
    "preStop": "termination",
    "Guaranteed": "QoS",
    "tolerations": "taints and tolerations",
    "runAsNonRoot": "security context",
    "staticPodPath": "static Pods",
    "ReplicaSet": "controllers",
    "etcd": "how a Pod is created",
    "kubectl describe": "troubleshooting",
    # Seed topics the course covers since issue 13, and Kubernetes 1.33-1.34 additions.
    "kubectl run": "kubectl run",
    "--dry-run=client -o yaml": "dry-run manifests",
    "kubectl explain": "kubectl explain",
    "kubectl expose": "kubectl expose",
    "configMapKeyRef": "environment variables from ConfigMaps",
    "secretKeyRef": "environment variables from Secrets",
    "resourceFieldRef": "downward API environment variables",
    "NodePort": "Service types",
    "_SERVICE_HOST": "environment-variable service discovery",
    "NetworkPolicy": "network troubleshooting: policies",
    "resolv.conf": "network troubleshooting: DNS",
    "FailedCreatePodSandBox": "network troubleshooting: CNI",
    "kubectl debug": "ephemeral containers",
    "postStart": "postStart hooks",
    "observedGeneration": "Pod generation",
    "no new finalizers": "finalizers on a deleted Pod",
    "PHP-FPM": "worked case nginx + PHP-FPM",
    "Redis": "worked case app + Redis",
    "PodResizePending": "in-place resize conditions",
    "spec.resources": "Pod-level resources",
    "restartPolicyRules": "container restart rules",
    "DisruptionTarget": "DisruptionTarget condition",
    "terminated-pod-gc-threshold": "Pod garbage collection",
    "hostUsers": "user namespaces",
    "appArmorProfile": "AppArmor field",
    "seLinuxChangePolicy": "seLinuxChangePolicy",
    "supplementalGroupsPolicy": "supplementalGroupsPolicy",
}


def structure(text: str) -> dict[str, list]:
    headings, blocks, directives = [], [], []
    lines = text.splitlines()
    in_fence = False
    current: list[str] = []
    for line in lines:
        if FENCE_RE.match(line.strip()):
            if in_fence:
                blocks.append("\n".join(current))
                current = []
            else:
                current = [line.strip()]
            in_fence = not in_fence
            continue
        if in_fence:
            current.append(line)
            continue
        if line.startswith("##"):
            match = HEADING_RE.match(line)
            assert match, f"heading without an explicit anchor: {line!r}"
            headings.append((len(match.group(1)), match.group(3)))
        directive = DIRECTIVE_RE.match(line.strip())
        if directive:
            directives.append((directive["kind"], directive["arg"]))
    assert not in_fence, "unclosed code fence"
    return {"headings": headings, "blocks": blocks, "directives": directives}


def test_course_has_at_least_15_lessons_in_order():
    assert len(COURSE.lessons) >= 15
    numbers = [lesson.number for lesson in COURSE.lessons]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("lang", LANGS)
def test_course_covers_every_seed_topic(lang):
    text = "\n".join(lesson.markdown(lang) for lesson in COURSE.lessons)
    missing = [topic for needle, topic in REQUIRED_TOPICS.items() if needle not in text]
    assert not missing, f"topics not taught ({lang}): {missing}"


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_lesson_has_both_languages_with_same_structure(slug):
    lesson = COURSE.get(slug)
    for lang in LANGS:
        assert (lesson.folder / f"{lang}.md").exists(), f"{slug}: {lang}.md missing"
        assert lesson.title.get(lang), f"{slug}: title.{lang} missing in meta.yaml"
        assert lesson.summary.get(lang), f"{slug}: summary.{lang} missing in meta.yaml"
    en = structure(lesson.markdown("en"))
    zh = structure(lesson.markdown("zh-hans"))
    assert en["headings"], f"{slug}: no sections"
    assert en["headings"] == zh["headings"], f"{slug}: sections/anchors differ"
    assert en["blocks"] == zh["blocks"], f"{slug}: code blocks differ between languages"
    assert en["directives"] == zh["directives"], f"{slug}: directives differ"
    assert ("2", "summary") in {(str(level), anchor) for level, anchor in en["headings"]}
    assert lesson.markdown("en").startswith("# ")
    assert lesson.markdown("zh-hans").startswith("# ")


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_lesson_is_really_translated(slug):
    lesson = COURSE.get(slug)
    zh = lesson.markdown("zh-hans")
    prose = re.sub(r"```.*?```", "", zh, flags=re.DOTALL)
    han = len(re.findall(r"[\u4e00-\u9fff]", prose))
    assert han > 800, f"{slug}: the Chinese lesson has only {han} Chinese characters"
    en_words = len(re.sub(r"```.*?```", "", lesson.markdown("en"), flags=re.DOTALL).split())
    assert en_words > 900, f"{slug}: the English lesson has only {en_words} words"


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_lesson_directives_resolve(slug):
    lesson = COURSE.get(slug)
    kinds = structure(lesson.markdown("en"))["directives"]
    examples = [arg for kind, arg in kinds if kind == "example"]
    assert examples, f"{slug}: no example manifest"
    for kind, arg in kinds:
        if kind == "example":
            assert arg in lesson.examples, f"{slug}: [[example:{arg}]] has no examples/{arg}.yaml"
        else:
            assert arg in diagrams.DIAGRAMS, f"{slug}: unknown diagram {arg}"


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_lesson_names_its_sources(slug):
    lesson = COURSE.get(slug)
    assert lesson.sources, f"{slug}: meta.yaml lists no sources"
    assert any("seed" in s for s in lesson.sources), f"{slug}: no seed article named"
    for source in lesson.sources:
        if "seed" in source:
            assert re.fullmatch(r"00[0-4]_[0-9a-f]{16}\.txt", source["seed"]), source


EXAMPLES = sorted(COURSE.examples.values(), key=lambda e: e.id)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_manifest_parses(example):
    text = example.text()
    assert text.startswith("# Watch:"), f"{example.id}: first line must say what to watch"
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert docs, f"{example.id}: empty"
    for doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), f"{example.id}: not a k8s object"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_manifest_is_valid_for_the_api_server(example):
    from podlab.engine.apiserver.manifest import parse_manifests

    result = parse_manifests(example.text(), filename=example.filename)
    assert result.ok, [p.kubectl_line() for p in result.problems]
    assert result.objects


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_manifest_simulates(example):
    """Every example runs on the simulated cluster for two minutes; every Pod it makes has been
    considered by the scheduler (bound, unschedulable or gated)."""
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation

    result = parse_manifests(example.text(), filename=example.filename)
    sim = Simulation(seed=0)
    assert not sim.apply(result.objects)
    sim.run_until(120)
    if any(o["kind"] in {"Pod", "Deployment", "Job", "ReplicaSet"} for o in result.objects):
        pods = sim.pods()
        assert pods or sim.events(), f"{example.id}: nothing happened in two minutes"
        for pod in pods:
            types = {c["type"] for c in pod["status"].get("conditions") or []}
            assert "PodScheduled" in types, f"{example.id}: {pod['metadata']['name']}"
