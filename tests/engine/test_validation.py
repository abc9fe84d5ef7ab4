"""API server validation: exact messages and positions."""

from __future__ import annotations

import pytest

from podlab.engine.apiserver.validation import Problem, kubectl_error, validate
from podlab.engine.apiserver.yamlload import load_documents


def check(text: str) -> list[Problem]:
    (doc,) = load_documents(text)
    return validate(doc.data, document=doc).problems


def pod(containers: str, extra: str = "") -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
        + extra
        + "  containers:\n"
        + containers
    )


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.kubectl_line() for p in problems]
    return problems[0]


def test_valid_pod_has_no_problems() -> None:
    text = pod("  - name: app\n    image: nginx\n    ports:\n    - containerPort: 80\n")
    (doc,) = load_documents(text)
    result = validate(doc.data, document=doc)
    assert result.ok
    assert result.notes == []


def test_unknown_field_with_suggestion() -> None:
    problem = only(check(pod("  - name: app\n    imagee: nginx\n    image: nginx\n")))
    assert problem.code == "UnknownField"
    assert problem.path == "spec.containers[0].imagee"
    assert problem.message == 'unknown field "spec.containers[0].imagee"'
    assert problem.detail["suggestion"] == "image"
    assert (problem.line, problem.column) == (8, 5)


def test_wrong_type() -> None:
    problem = only(
        check(pod('  - name: app\n    image: nginx\n    ports:\n    - containerPort: "80"\n'))
    )
    assert problem.code == "FieldValueTypeInvalid"
    assert problem.path == "spec.containers[0].ports[0].containerPort"
    assert problem.message == (
        "json: cannot unmarshal string into Go struct field "
        "ContainerPort.spec.containers.ports.containerPort of type int32"
    )
    assert (problem.line, problem.column) == (10, 22)


def test_label_value_must_be_string() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    v: 1\n"
        "spec:\n  containers:\n  - name: a\n    image: nginx\n"
    )
    problem = only(check(text))
    assert problem.path == "metadata.labels[v]"
    assert problem.detail["got"] == "number"
    assert problem.line == 6


def test_bad_enum() -> None:
    problem = only(check(pod("  - name: app\n    image: nginx\n", "  restartPolicy: Sometimes\n")))
    assert problem.kubectl_line() == (
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "Never", "OnFailure"'
    )
    assert (problem.line, problem.column) == (6, 18)


def test_image_pull_policy_enum() -> None:
    problem = only(check(pod("  - name: app\n    image: nginx\n    imagePullPolicy: Sometimes\n")))
    assert problem.message == (
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
    )


def test_missing_image_and_name() -> None:
    problems = check(pod("  - name: app\n  - image: nginx\n"))
    lines = [p.kubectl_line() for p in problems]
    assert "spec.containers[0].image: Required value" in lines
    assert "spec.containers[1].name: Required value" in lines
    image = next(p for p in problems if p.path == "spec.containers[0].image")
    assert image.code == "FieldValueRequired"
    assert image.line == 7


def test_missing_containers() -> None:
    problem = only(
        check("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  restartPolicy: Never\n")
    )
    assert problem.kubectl_line() == "spec.containers: Required value"


def test_pod_name_subdomain_and_container_name_label() -> None:
    text = pod("  - name: App.1\n    image: nginx\n").replace("name: web", "name: Web_1")
    problems = check(text)
    paths = {p.path: p for p in problems}
    assert paths["metadata.name"].message.startswith(
        'Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of'
    )
    assert paths["spec.containers[0].name"].message.startswith(
        'Invalid value: "App.1": a lowercase RFC 1123 label must consist of'
    )
    assert paths["spec.containers[0].name"].line == 7


def test_label_key_invalid() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    -bad: x\n"
        "spec:\n  containers:\n  - name: a\n    image: nginx\n"
    )
    problem = only(check(text))
    assert problem.path == "metadata.labels"
    assert problem.message.startswith('Invalid value: "-bad": name part must consist of')


def test_duplicate_container_names() -> None:
    text = pod(
        "  - name: app\n    image: nginx\n",
        "  initContainers:\n  - name: app\n    image: busybox\n",
    )
    problem = only(check(text))
    assert problem.kubectl_line() == 'spec.initContainers[0].name: Duplicate value: "app"'
    assert problem.code == "FieldValueDuplicate"
    assert (problem.line, problem.column) == (7, 11)


def test_duplicate_container_port_is_a_warning_and_host_port_an_error() -> None:
    text = pod(
        "  - name: app\n    image: nginx\n    ports:\n    - containerPort: 80\n"
        "    - containerPort: 80\n      hostPort: 8080\n"
        "    - containerPort: 81\n      hostPort: 8080\n"
    )
    (doc,) = load_documents(text)
    result = validate(doc.data, document=doc)
    assert [n.message for n in result.notes if n.code == "Warning"] == [
        "spec.containers[0].ports[1]: duplicate port definition with spec.containers[0].ports[0]"
    ]
    problem = only(result.problems)
    assert (
        problem.kubectl_line()
        == 'spec.containers[0].ports[2].hostPort: Duplicate value: "8080/TCP"'
    )


def test_port_range() -> None:
    problem = only(
        check(pod("  - name: app\n    image: nginx\n    ports:\n    - containerPort: 70000\n"))
    )
    assert problem.message == "Invalid value: 70000: must be between 1 and 65535, inclusive"


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("{}", "spec.containers[0].livenessProbe: Required value: must specify a handler type"),
        (
            "{exec: {command: [x]}, tcpSocket: {port: 80}}",
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 "
            "handler type",
        ),
        (
            "{exec: {command: [x]}, successThreshold: 2}",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ),
        (
            "{exec: {command: [x]}, periodSeconds: -1}",
            "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater "
            "than or equal to 0",
        ),
        (
            "{httpGet: {port: 80, scheme: FTP}}",
            'spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: "FTP": '
            'supported values: "HTTP", "HTTPS"',
        ),
        ("{httpGet: {path: /}}", "spec.containers[0].livenessProbe.httpGet.port: Required value"),
        ("{exec: {}}", "spec.containers[0].livenessProbe.exec.command: Required value"),
    ],
)
def test_probe_rules(probe: str, expected: str) -> None:
    problem = only(check(pod(f"  - name: app\n    image: nginx\n    livenessProbe: {probe}\n")))
    assert problem.kubectl_line() == expected
    assert problem.line == 9


def test_startup_success_threshold_and_readiness_grace() -> None:
    problems = check(
        pod(
            "  - name: app\n    image: nginx\n"
            "    startupProbe: {exec: {command: [x]}, successThreshold: 3}\n"
            "    readinessProbe:\n      exec: {command: [x]}\n      successThreshold: 3\n"
            "      terminationGracePeriodSeconds: 5\n"
        )
    )
    assert [p.kubectl_line() for p in problems] == [
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: "
        "must not be set for readinessProbes",
        "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1",
    ] or sorted(p.kubectl_line() for p in problems) == sorted(
        [
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: "
            "must not be set for readinessProbes",
            "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1",
        ]
    )
    grace = next(p for p in problems if "terminationGracePeriodSeconds" in p.path)
    assert (grace.line, grace.column) == (13, 38)


def test_init_container_rules() -> None:
    text = pod(
        "  - name: app\n    image: nginx\n",
        "  initContainers:\n"
        "  - name: init\n    image: busybox\n    readinessProbe: {exec: {command: [x]}}\n"
        "    lifecycle: {preStop: {exec: {command: [x]}}}\n"
        "  - name: bad\n    image: busybox\n    restartPolicy: OnFailure\n"
        "  - name: sidecar\n    image: busybox\n    restartPolicy: Always\n"
        "    readinessProbe: {exec: {command: [x]}}\n",
    )
    lines = [p.kubectl_line() for p in check(text)]
    assert sorted(lines) == sorted(
        [
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init "
            "containers without restartPolicy=Always",
            "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers "
            "without restartPolicy=Always",
            'spec.initContainers[1].restartPolicy: Unsupported value: "OnFailure": supported '
            'values: "Always"',
        ]
    )


def test_restart_policy_on_app_container_forbidden() -> None:
    problem = only(check(pod("  - name: app\n    image: nginx\n    restartPolicy: Always\n")))
    assert problem.kubectl_line() == (
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"
    )


def test_quantities_and_requests_above_limits() -> None:
    problems = check(
        pod(
            "  - name: app\n    image: nginx\n    resources:\n"
            "      limits: {cpu: 500m, memory: 12x}\n      requests: {cpu: 600m}\n"
        )
    )
    lines = [p.kubectl_line() for p in problems]
    assert lines == [
        'spec.containers[0].resources.limits[memory]: Invalid value: "12x": quantities must '
        "match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        'spec.containers[0].resources.requests: Invalid value: "600m": must be less than or '
        "equal to cpu limit of 500m",
    ]
    assert problems[0].line == 10
    assert problems[1].line == 11


def test_volume_mount_must_name_a_volume() -> None:
    text = pod(
        "  - name: app\n    image: nginx\n"
        "    volumeMounts:\n    - name: data\n      mountPath: /d\n"
        "    - name: cache\n      mountPath: /c\n",
        "  volumes:\n  - name: cache\n    emptyDir: {}\n",
    )
    problem = only(check(text))
    assert problem.kubectl_line() == 'spec.containers[0].volumeMounts[0].name: Not found: "data"'
    assert (problem.line, problem.column) == (13, 13)


def test_api_version_and_kind() -> None:
    problem = only(check("apiVersion: v1\nkind: Podd\nmetadata: {name: x}\n"))
    assert problem.message == 'no matches for kind "Podd" in version "v1"'
    problems = check("metadata: {name: x}\n")
    assert [p.path for p in problems] == ["apiVersion", "kind"]


def test_every_problem_reported_at_once() -> None:
    text = pod(
        "  - name: App\n    imagee: nginx\n    ports:\n    - containerPort: 0\n"
        "    livenessProbe: {successThreshold: 2}\n",
        "  restartPolicy: Sometimes\n  dnsPolicy: Nope\n",
    )
    codes = sorted(p.code for p in check(text))
    assert codes == sorted(
        [
            "UnknownField",
            "FieldValueInvalid",  # container name
            "FieldValueRequired",  # image
            "FieldValueRequired",  # containerPort 0
            "FieldValueRequired",  # handler
            "FieldValueInvalid",  # successThreshold
            "FieldValueNotSupported",
            "FieldValueNotSupported",
        ]
    )
    assert all(p.line >= 1 and p.column >= 1 and p.path for p in check(text))


def test_tolerations() -> None:
    problems = check(
        pod(
            "  - name: app\n    image: nginx\n",
            "  tolerations:\n  - key: a\n    operator: Maybe\n"
            "  - key: b\n    operator: Exists\n    effect: NoSchedule\n    tolerationSeconds: 5\n",
        )
    )
    lines = [p.kubectl_line() for p in problems]
    assert (
        'spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: '
        '"Equal", "Exists"' in lines
    )
    assert (
        "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' "
        "when `tolerationSeconds` is set" in lines
    )


def test_not_simulated_notes() -> None:
    text = pod(
        "  - name: app\n    image: nginx\n    tty: true\n    securityContext: {privileged: true}\n",
        "  dnsConfig: {nameservers: [1.1.1.1]}\n",
    )
    (doc,) = load_documents(text)
    result = validate(doc.data, document=doc)
    assert result.ok
    assert {(n.path, n.code) for n in result.notes} == {
        ("spec.dnsConfig", "NotSimulated"),
        ("spec.containers[0].tty", "NotSimulated"),
        ("spec.containers[0].securityContext.privileged", "NotSimulated"),
    }
    note = next(n for n in result.notes if n.path == "spec.dnsConfig")
    assert (note.line, note.column) == (6, 3)


def test_kubectl_error_invalid() -> None:
    problems = check(pod("  - name: app\n"))
    assert kubectl_error(problems, kind="Pod", name="web", filename="pod.yaml") == (
        'The Pod "web" is invalid: spec.containers[0].image: Required value'
    )
    problems = check(pod("  - name: app\n  - name: app\n    image: x\n"))
    assert kubectl_error(problems, kind="Pod", name="web", filename="pod.yaml") == (
        'The Pod "web" is invalid: \n* spec.containers[0].image: Required value\n'
        '* spec.containers[1].name: Duplicate value: "app"'
    )


def test_kubectl_error_strict_decoding() -> None:
    problems = check(pod("  - name: app\n    imagee: nginx\n    image: nginx\n"))
    assert kubectl_error(problems, kind="Pod", name="web", filename="pod.yaml") == (
        'Error from server (BadRequest): error when creating "pod.yaml": Pod in version "v1" '
        "cannot be handled as a Pod: strict decoding error: unknown field "
        '"spec.containers[0].imagee"'
    )


def test_not_a_mapping() -> None:
    problem = only(validate(["a"]).problems)
    assert problem.code == "FieldValueTypeInvalid"
    assert problem.line == 1
