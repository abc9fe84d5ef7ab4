"""Validation problems as the learner reads them: every reason of the validator in plain
words in the page's language, on its line, kubectl's text kept as the secondary detail."""

from __future__ import annotations

import ast
import inspect
import re

import pytest
from django.utils import translation

from podlab.engine.apiserver import validation, workloads
from podlab.engine.core import quantity
from podlab.lab.problems import detail_text
from podlab.lab.services import validate_manifest

CJK = re.compile(r"[\u4e00-\u9fff]")


def _validator_reasons() -> set[str]:
    """Every reason the validator can give: the literal text passed to invalid/forbidden/
    required and the messages of the name checks (formatted ones with sample values)."""
    reasons: set[str] = set()
    consts = {n: getattr(module, n) for module in (validation, workloads) for n in dir(module)
              if n.endswith("_MSG")}
    nodes = [node for module in (validation, workloads)
             for node in ast.walk(ast.parse(inspect.getsource(module)))]
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            index = {"invalid": 2, "forbidden": 1, "required": 1}.get(node.func.attr)
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    reasons.add(arg.value)
                elif isinstance(arg, ast.Name) and arg.id in consts:
                    reasons.add(consts[arg.id])
            if node.func.attr == "append" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    reasons.add(arg.value)
    for sample in ("UPPER--", "-x-", "a" * 70, "x/y/z", "/y", "bad prefix!/n", "p/" + "a" * 70):
        reasons.update(validation.qualified_name_errors(sample))
        reasons.update(validation.port_name_errors(sample))
        reasons.update(validation.label_value_errors(sample))
    reasons.update({quantity.ERR_FORMAT, quantity.ERR_NUMERIC, quantity.ERR_SUFFIX,
                    "must be less than or equal to cpu limit of 500m"})
    return reasons


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_reason_of_the_validator_has_plain_words(lang):
    reasons = _validator_reasons()
    assert len(reasons) > 30
    with translation.override(lang):
        for reason in sorted(reasons):
            said = detail_text(reason)
            assert said, reason
            if lang == "zh-hans":
                assert CJK.search(said), (reason, said)


CASES = [
    # (broken line, the field, words the Chinese message must hold)
    ("  name: web", "  name: Web_Server", "metadata.name", "小写字母"),
    ("      periodSeconds: 5", "      periodSeconds: -5", "periodSeconds", "必须大于"),
    ("    - containerPort: 80", "    - containerPort: 70000", "containerPort", "1 到 65535"),
    ("      periodSeconds: 5", "      periodSeconds: 5\n      successThreshold: 2",
     "successThreshold", "必须为 1"),
]

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.27
    ports:
    - containerPort: 80
    livenessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 5
"""


@pytest.mark.parametrize(("old", "new", "field", "words"), CASES)
def test_chinese_messages_have_no_english_reason_and_keep_kubectl_text(old, new, field, words):
    assert old in POD
    text = POD.replace(old, new)
    _result, out = validate_manifest(manifest_text=text, lang="zh-hans")
    problem = next(p for p in out["problems"] if field in p["path"])
    assert words in problem["message"], problem
    # no English sentence left in the learner's text, only names and values
    english = re.findall(r"\b(?:must|be|the|and|or|with|characters?)\b",
                         problem["message"].split("：", 1)[-1])
    assert not english, problem["message"]
    assert problem["line"] == text.splitlines().index(new.splitlines()[-1]) + 1
    assert problem["kubectl"] and problem["kubectl"] != problem["message"]
    _result, en = validate_manifest(manifest_text=text, lang="en")
    assert next(p for p in en["problems"] if field in p["path"])["message"]


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  strategy:
    rollingUpdate: {maxSurge: "1e308%", maxUnavailable: "150%"}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: "nginx:1.27"}
"""


def test_rolling_update_problems_are_said_in_both_languages():
    """A pasted float as maxSurge (it crashed the Deployment controller) and a share over
    100%: located on their line, said in the page's language."""
    for lang, words in (("en", ("whole number followed by '%'", "at most 100%")),
                        ("zh-hans", ("整数后跟 '%'", "不能大于 100%"))):
        _result, out = validate_manifest(manifest_text=DEPLOYMENT, lang=lang)
        assert not out["ok"]
        said = {p["path"]: p for p in out["problems"]}
        surge = said["spec.strategy.rollingUpdate.maxSurge"]
        unavailable = said["spec.strategy.rollingUpdate.maxUnavailable"]
        assert words[0] in surge["message"] and words[1] in unavailable["message"], said
        assert surge["line"] == unavailable["line"] == 8
        assert "a valid percent string" in surge["kubectl"]


@pytest.mark.parametrize(("old", "new", "words"), [
    # an unknown kind names the kind written, not an empty value
    ("kind: Pod", "kind: Pods", "kind Pods"),
    # a list of allowed values is a Chinese list
    ("    image: nginx:1.27", "    image: nginx:1.27\n    imagePullPolicy: Sometimes",
     "Always、IfNotPresent、Never"),
    # a schema type of its own (Quantity) in plain words
    ("    image: nginx:1.27", "    image: nginx:1.27\n    resources: {requests: {cpu: [1]}}",
     "数量（一个数字"),
    # a mount of a volume the Pod does not have
    ("    image: nginx:1.27",
     "    image: nginx:1.27\n    volumeMounts: [{name: nope, mountPath: /x}]",
     "spec.volumes 中没有名为 nope 的卷"),
])
def test_more_problems_are_said_in_chinese(old, new, words):
    assert old in POD
    _result, out = validate_manifest(manifest_text=POD.replace(old, new), lang="zh-hans")
    message = out["problems"][0]["message"]
    assert words in message, message
    assert not re.search(r"\b(?:Quantity|Not found|cannot)\b|\"\"", message), message
