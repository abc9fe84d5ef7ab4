"""The lab's narration of image pull failures names what happened and the registry action."""

from __future__ import annotations

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.core import transitions
from podlab.engine.simulation import Simulation
from podlab.lab import narration
from podlab.lab.services import lab_start


def _rules_for(image: str) -> list[str]:
    text = f"""apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  containers: [{{name: c, image: "{image}", ports: [{{containerPort: 8080}}]}}]
"""
    sim = Simulation(seed=0)
    assert sim.apply(parse_manifests(text).objects) == []
    sim.run_until(5)
    return [t.rule for t in sim.transitions if t.rule.startswith("image.pull")]


@pytest.mark.parametrize(
    ("image", "rule"),
    [
        ("my-app:latest", "image.pull-denied"),
        ("nginx:1.277", "image.pull-failed"),
        ("registry.example.invalid/team/api:3.4.1", "image.pull-unreachable"),
    ],
)
def test_each_pull_failure_has_its_rule(image: str, rule: str) -> None:
    assert rule in _rules_for(image)
    assert rule in transitions.RULES


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_denied_pull_narration_offers_the_registry_action(lang: str) -> None:
    lab, _ = lab_start(manifest_text="""apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: "my-app:latest", ports: [{containerPort: 8080}]}]
""", seed=0, lang=lang)
    lab.advance_to(5)
    out = next(e for e in lab.snapshot(lang=lang)["history"]["narration"]
               if e["code"] == "pull-denied")
    if lang == "en":
        assert "pull access denied" in out["text"].lower()
        assert '"Make it available"' in out["text"]
    else:
        assert "设为可拉取" in out["text"] and "镜像仓库" in out["text"]
    assert "my-app:latest" in out["text"]
    assert out["field"] == "spec.containers[0].image"
    assert out["lesson"].endswith("#errimagepull")


def test_every_image_rule_is_narrated() -> None:
    image_rules = {r for r in transitions.RULES if r.startswith("image.")}
    assert image_rules <= set(narration.IMAGE_CODES) | narration.SILENT_RULES | {
        "image.pull-backoff"}
    assert set(narration.IMAGE_CODES.values()) <= set(narration.TEXT)
