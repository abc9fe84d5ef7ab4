"""The lab's narration of image pull failures names what happened and the registry action."""

from __future__ import annotations

import pytest

from podlab.engine.apiserver.manifest import parse_manifests
from podlab.engine.core import transitions
from podlab.engine.simulation import Simulation
from podlab.lab.explain import RULE_TEXT, explain_transition


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
    out = explain_transition({"rule": "image.pull-denied", "field": "state",
                              "cause": {"field": "spec.containers[0].image",
                                        "value": "my-app:latest"}}, lang=lang)
    if lang == "en":
        assert "pull access denied" in out["explain"].lower()
        assert '"Make it available"' in out["explain"]
    else:
        assert "设为可拉取" in out["explain"] and "镜像仓库" in out["explain"]
    assert out["lesson"].endswith("#errimagepull")


def test_every_image_rule_is_explained() -> None:
    assert set(transitions.RULES) <= set(RULE_TEXT) | {
        r for r in transitions.RULES if not r.startswith("image.")
    }
