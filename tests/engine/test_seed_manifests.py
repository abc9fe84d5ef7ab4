"""Every manifest in the seed articles runs in the lab as it would on a real cluster.

The manifests are read from the seed articles themselves (``seed_manifests.py``); each one
that the API server would accept is applied and simulated for two minutes, and each
container image must pull, or fail, with the registry's upstream answer (the table below).
Manifests a real ``kubectl apply`` would refuse (text pages that lost their indentation, no
``metadata.name``) must be refused with a located problem; the ones without a name are then
run with a name added, as a learner would fix them.
"""

from __future__ import annotations

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.runtime import images
from podlab.engine.simulation import Simulation
from tests.engine.seed_manifests import (
    SeedManifest,
    all_manifests,
    extracted_manifests,
    stored_manifests,
)

PULLS = "pulls"
DENIED = "pull access denied"  # Docker Hub: no such repository (or a private one)
NOT_FOUND = "not found"  # the repository exists, the tag does not

#: What the registries answer for every image the seeds use (docs/images.md has the rules).
UPSTREAM = {
    "nginx": PULLS,
    "nginx:1.21": PULLS,
    "fluentd": PULLS,
    "fluentd:latest": PULLS,
    "redis:6.2": PULLS,
    "mysql:8.0": PULLS,
    "postgres:14-alpine": PULLS,
    "php:7.4-fpm": PULLS,
    "prom/node-exporter:v1.3.1": PULLS,
    "k8s.gcr.io/kube-apiserver:v1.24.0": PULLS,
    "busybox": PULLS,
    "envoyproxy/envoy:latest": NOT_FOUND,  # no latest tag since 2020 (envoyproxy/envoy#10738)
    "istio/proxyv2:1.15": NOT_FOUND,  # istio publishes full versions (1.15.0) only
    "prometheus-community/prometheus:latest": DENIED,  # a Helm chart repository, not an image
    "my-app:latest": DENIED,
    "my-app:v1": DENIED,
    "myapp": DENIED,
    "my-webapp:latest": DENIED,
    "my-web-app:v1": DENIED,
    "my-web-app:v1.0": DENIED,
    "my-service:v1": DENIED,
    "user-service:v1": DENIED,
    "user-service:v1.2.0": DENIED,
    "data-processor:latest": DENIED,
    "backup-tool:latest": DENIED,
    "test-image:v1": DENIED,
}

#: Problem codes a real kubectl/API server gives for the seed texts it cannot accept.
REFUSALS = {"YAMLSyntax", "FieldValueRequired", "UnknownField"}
#: Admission refusals a real API server gives when a manifest names a namespace or a
#: ServiceAccount the article created elsewhere: the learner creates it first.
ADMISSION = {"NotFound", "Forbidden"}

MANIFESTS = all_manifests()


def test_the_stored_copy_is_current() -> None:
    """Checkouts without the articles run the stored copy; where they are, it must match."""
    stored = stored_manifests()
    assert stored and all(m.text.startswith("apiVersion:") for m in stored)
    found = extracted_manifests()
    if found is not None:
        assert found == stored, "run: python -m tests.engine.seed_manifests"


def _images(objects: list[dict]) -> list[str]:
    found: list[str] = []
    for obj in objects:
        spec = obj.get("spec") or {}
        spec = (spec.get("template") or {}).get("spec") or spec
        for key in ("initContainers", "containers"):
            found.extend(str(c.get("image", "")) for c in spec.get(key) or [])
    return found


def _runnable(manifest: SeedManifest) -> list[dict]:
    result = parse_manifests(manifest.text)
    if result.ok:
        return result.objects
    assert result.problems, manifest.label
    for problem in result.problems:
        assert problem.line >= 1, (manifest.label, problem)
    codes = {p.code for p in result.problems}
    assert codes <= REFUSALS, (manifest.label, codes)
    if {p.message for p in result.problems} == {
        "Required value: name or generateName is required"
    }:
        named = manifest.text.replace(
            "\nspec:", f"\nmetadata:\n  name: seed-{manifest.line}\nspec:", 1
        )
        fixed = parse_manifests(named)
        assert fixed.ok, (manifest.label, fixed.problems)
        return fixed.objects
    return []


def _prerequisites(problems: list[dict]) -> list[dict]:
    """The Namespaces and ServiceAccounts admission found missing."""
    needed: list[dict] = []
    for problem in problems:
        detail = problem["detail"]
        namespace = detail["namespace"]
        if problem["code"] == "NotFound":
            needed.append({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": namespace}})
        else:
            assert "error looking up service account" in problem["message"], problem
            needed.append({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": {"name": detail["serviceAccount"],
                                        "namespace": namespace}})
    return needed


def test_the_seed_articles_hold_manifests() -> None:
    assert len(MANIFESTS) >= 15
    assert sum(1 for m in MANIFESTS if _runnable(m)) >= 10


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m.label for m in MANIFESTS])
def test_seed_manifest_runs_as_on_a_cluster(manifest: SeedManifest) -> None:
    objects = _runnable(manifest)
    if not objects:
        return
    sim = Simulation(seed=0)
    problems = sim.apply(objects)
    if problems:
        assert {p["code"] for p in problems} <= ADMISSION, problems
        assert sim.apply(_prerequisites(problems)) == []
        assert sim.apply(objects) == [], manifest.label
    sim.run_until(120)
    for image in _images(objects):
        assert image in UPSTREAM, f"{manifest.label}: classify {image!r} in UPSTREAM"
        expected = UPSTREAM[image]
        found = images.lookup_image(image)
        if expected == PULLS:
            assert found.error is None, (image, found.message)
        else:
            assert found.error == "NotFound" and expected in found.message, (image, found)
    failures = [e["message"] for e in sim.events() if e["reason"] == "Failed"
                and e["message"].startswith("Failed to pull image")]
    for message in failures:
        image = message.split('"')[1]
        assert UPSTREAM.get(image, PULLS) != PULLS, message
        assert UPSTREAM[image] in message
    for pod in sim.pods():
        status = pod["status"]
        for cs in [*(status.get("initContainerStatuses") or []),
                   *(status.get("containerStatuses") or [])]:
            reason = (cs["state"].get("waiting") or {}).get("reason", "")
            spec_image = next(
                c["image"] for key in ("initContainers", "containers")
                for c in pod["spec"].get(key) or [] if c["name"] == cs["name"]
            )
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                assert UPSTREAM[spec_image] != PULLS, (manifest.label, cs)
            if UPSTREAM[spec_image] == PULLS:
                assert reason not in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")
