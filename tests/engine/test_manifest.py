"""parse_manifests: loading, validation and defaulting together; robustness."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podlab.engine.apiserver.manifest import parse_manifests

EXEC_LIVENESS = """\
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox:1.27.2
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      initialDelaySeconds: 5
      periodSeconds: 5
"""


def test_exec_liveness_parses_and_defaults() -> None:
    result = parse_manifests(EXEC_LIVENESS, filename="exec-liveness.yaml")
    assert result.ok
    assert result.notes == []
    (pod,) = result.objects
    assert pod["metadata"]["name"] == "liveness-exec"
    assert pod["spec"]["containers"][0]["livenessProbe"]["failureThreshold"] == 3
    assert pod["spec"]["restartPolicy"] == "Always"
    assert result.kubectl_line() == ""


def test_several_documents_and_empty_ones() -> None:
    other = EXEC_LIVENESS.replace("liveness-exec", "second")
    result = parse_manifests("---\n" + EXEC_LIVENESS + "---\n---\n" + other)
    assert result.ok
    assert [o["metadata"]["name"] for o in result.objects] == ["liveness-exec", "second"]
    assert result.objects[0]["metadata"]["uid"] != result.objects[1]["metadata"]["uid"]


def test_document_that_is_not_a_mapping() -> None:
    result = parse_manifests(EXEC_LIVENESS + "---\n- a\n- b\n")
    assert not result.ok
    (problem,) = result.problems
    assert problem.document == 1
    assert problem.line == 23
    assert len(result.objects) == 1


def test_problems_carry_the_document_index_and_kubectl_line() -> None:
    bad = EXEC_LIVENESS.replace("    image: registry.k8s.io/busybox:1.27.2\n", "")
    result = parse_manifests(EXEC_LIVENESS + "---\n" + bad, filename="pod.yaml")
    assert [p.document for p in result.problems] == [1]
    assert result.problems[0].line == 9 + 22
    assert result.kubectl_line() == (
        'The Pod "liveness-exec" is invalid: spec.containers[0].image: Required value'
    )
    assert len(result.objects) == 1


def test_yaml_error_is_a_single_located_problem() -> None:
    result = parse_manifests("apiVersion: v1\nkind: Pod\n  bad: [\n", filename="pod.yaml")
    (problem,) = result.problems
    assert problem.code == "YAMLSyntax"
    assert problem.line >= 1
    assert result.kubectl_line().startswith(
        "error: error parsing pod.yaml: error converting YAML to JSON: yaml: line "
    )
    assert result.objects == []


def test_limit_error() -> None:
    result = parse_manifests("a: " + "x" * (300 * 1024))
    assert [p.code for p in result.problems] == ["LimitExceeded"]


def test_unknown_field_rendered_like_kubectl() -> None:
    text = EXEC_LIVENESS.replace("    args:", "    argz:")
    result = parse_manifests(text, filename="pod.yaml")
    (problem,) = result.problems
    assert problem.detail["suggestion"] == "args"
    assert (problem.line, problem.column) == (11, 5)
    assert result.kubectl_line().endswith(
        'strict decoding error: unknown field "spec.containers[0].argz"'
    )


# -- robustness ------------------------------------------------------------------------

BASE: dict[str, Any] = yaml.safe_load(EXEC_LIVENESS)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _containers(obj: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) slot in a nested structure."""
    slots: list[tuple[Any, Any]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            slots.append((obj, key))
            slots.extend(_containers(value))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            slots.append((obj, index))
            slots.extend(_containers(value))
    return slots


@st.composite
def mutated_pods(draw: st.DrawFn) -> str:
    pod = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        slots = _containers(pod)
        parent, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "replace":
            parent[key] = draw(VALUES)
        elif isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
    return yaml.safe_dump(pod, allow_unicode=True)


def _check(result: Any) -> None:
    if result.ok:
        assert all(isinstance(o, dict) and o.get("metadata") for o in result.objects)
        return
    for problem in result.problems:
        assert problem.line >= 1
        assert problem.column >= 1
        assert problem.code
        assert problem.message
        if problem.code not in ("YAMLSyntax", "LimitExceeded"):
            assert problem.path or problem.code == "FieldValueTypeInvalid"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pods())
def test_mutated_pods_never_raise(text: str) -> None:
    _check(parse_manifests(text))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check(parse_manifests(data))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(EXEC_LIVENESS)), st.binary(min_size=1, max_size=8))
def test_spliced_bytes_never_raise(offset: int, junk: bytes) -> None:
    raw = EXEC_LIVENESS.encode()
    _check(parse_manifests(raw[:offset] + junk + raw[offset:]))
