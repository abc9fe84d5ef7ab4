"""Bounded YAML loading with positions."""

from __future__ import annotations

import time

import pytest

from podlab.engine.apiserver.yamlload import YAMLLoadError, load_documents
from podlab.engine.core.version import EPOCH, KUBERNETES_VERSION, timestamp

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
"""


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def test_version_and_timestamps() -> None:
    assert KUBERNETES_VERSION == "1.34"
    assert EPOCH.isoformat() == "2025-01-01T00:00:00+00:00"
    assert timestamp(0) == "2025-01-01T00:00:00Z"
    assert timestamp(65.9) == "2025-01-01T00:01:05Z"
    assert timestamp(86400 + 3600) == "2025-01-02T01:00:00Z"
    with pytest.raises(ValueError):
        timestamp(float("nan"))


def test_positions_of_keys_and_values() -> None:
    (doc,) = load_documents(POD)
    assert doc.data["spec"]["containers"][0]["image"] == "nginx"
    assert doc.keys[("spec", "containers", 0, "name")] == (7, 5)
    assert doc.values[("spec", "containers", 0, "name")] == (7, 11)
    assert doc.values[("spec", "containers", 0, "image")] == (8, 12)
    assert doc.key_position(("spec", "containers", 0, "ports")) == (7, 5)
    assert doc.value_position(("kind",)) == (2, 7)


def test_billion_laughs_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(YAMLLoadError) as caught:
        load_documents(billion_laughs())
    assert time.perf_counter() - started < 1.0
    assert caught.value.code == "LimitExceeded"
    assert caught.value.detail["limit"] == "nodes"


def test_too_many_alias_uses() -> None:
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * 101) + "]\n"
    with pytest.raises(YAMLLoadError) as caught:
        load_documents(text)
    assert caught.value.detail == {"limit": "aliases", "max": 100}
    assert load_documents("a: &x 1\nb: [" + ", ".join(["*x"] * 100) + "]\n")[0].data["b"][0] == 1


def test_huge_input_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser must not run")

    monkeypatch.setattr("podlab.engine.apiserver.yamlload._BoundedLoader.__init__", never)
    text = "a: " + "x" * (50 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(YAMLLoadError) as caught:
        load_documents(text)
    assert time.perf_counter() - started < 1.0
    assert caught.value.code == "LimitExceeded"
    assert caught.value.detail["limit"] == "bytes"


def test_limits_overridable_by_keyword() -> None:
    with pytest.raises(YAMLLoadError):
        load_documents(POD, max_bytes=10)
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("a: " + "x" * 50, max_scalar=20)
    assert caught.value.detail["limit"] == "scalar"


def test_deep_nesting_refused() -> None:
    for text in (
        "[" * 40 + "]" * 40,
        "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "x",
    ):
        with pytest.raises(YAMLLoadError) as caught:
            load_documents(text)
        assert caught.value.code == "LimitExceeded"
        assert caught.value.detail["limit"] == "depth"
    assert load_documents("[" * 30 + "]" * 30)


def test_recursive_alias_refused() -> None:
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("a: &x [*x]\n")
    assert caught.value.code == "LimitExceeded"


def test_document_count_limit_and_empty_documents() -> None:
    docs = load_documents("a: 1\n---\n---\n# only a comment\n---\nb: 2\n")
    assert [d.data for d in docs] == [{"a": 1}, None, None, {"b": 2}]
    assert [d.index for d in docs] == [0, 1, 2, 3]
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("---\na: 1\n" * 21)
    assert caught.value.detail == {"limit": "documents", "max": 20}
    assert caught.value.line == 41


def test_syntax_error_located() -> None:
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n   labels: x: y\n")
    error = caught.value
    assert error.code == "YAMLSyntax"
    assert error.line == 5
    assert error.column >= 1
    assert "mapping values are not allowed here" in error.message


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("metadata:\n  name: a\n  name: b\n")
    assert caught.value.code == "YAMLSyntax"
    assert caught.value.message == 'mapping key "name" already defined at line 2'
    assert (caught.value.line, caught.value.column) == (3, 3)


def test_unsafe_tags_refused() -> None:
    with pytest.raises(YAMLLoadError) as caught:
        load_documents("a: !!python/object/apply:os.system ['true']\n")
    assert caught.value.code == "YAMLSyntax"


def test_scalars_become_json_like_values() -> None:
    (doc,) = load_documents("when: 2025-01-01\n1: one\non: yes\nnothing: ~\n")
    assert doc.data == {"when": "2025-01-01", "1": "one", "on": True, "nothing": None}


def test_bytes_input() -> None:
    assert load_documents(b"a: 1\n")[0].data == {"a": 1}
    with pytest.raises(YAMLLoadError):
        load_documents(b"a: \xff\n")
