"""Golden ``podsim`` output for Services, Deployments and Jobs, on the real simulation.

Same rules as ``test_cli_golden.py``: regenerate with ``PODLAB_UPDATE_GOLDEN=1`` and review
the diff against kubectl 1.34's printers before committing.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from podlab.engine import cli

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PODLAB_UPDATE_GOLDEN") == "1"

CASES: dict[str, list[str]] = {
    "web-deployment-all": ["web-deployment.yaml", "--scale", "deployment/web=4@30",
                           "--until", "60", "-o", "all"],
    "web-deployment-deployments": ["web-deployment.yaml", "--until", "60", "-o", "deployments"],
    "web-deployment-replicasets": ["web-deployment.yaml", "--until", "60", "-o", "replicasets"],
    "web-deployment-endpoints": ["web-deployment.yaml", "--until", "60", "-o", "endpoints"],
    "web-deployment-events": ["web-deployment.yaml", "--until", "60", "-o", "events"],
    "jobs-30s": ["jobs.yaml", "--until", "30", "-o", "jobs"],
    "jobs-90s": ["jobs.yaml", "--until", "90", "-o", "jobs"],
    "jobs-90s-table": ["jobs.yaml", "--until", "90"],
    "myapp-services": ["myapp-pod.yaml", "myapp-services.yaml@60", "--until", "90",
                       "-o", "services"],
    "myapp-table": ["myapp-pod.yaml", "myapp-services.yaml@60", "--until", "90"],
}


def _run(args: list[str]) -> tuple[int, str, str]:
    argv = [str(GOLDEN / a) if a.split("@")[0].endswith(".yaml") else a for a in args]
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    prefix = str(GOLDEN) + os.sep
    return code, out.getvalue().replace(prefix, ""), err.getvalue().replace(prefix, "")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    code, out, err = _run(CASES[case])
    assert code == 0, err
    path = GOLDEN / f"{case}.txt"
    if UPDATE:
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_json_lists_pods_then_services_and_workloads() -> None:
    code, out, _ = _run(["web-deployment.yaml", "--until", "30", "-o", "json"])
    assert code == 0
    items = json.loads(out)["items"]
    assert [i["kind"] for i in items] == ["Pod"] * 3 + ["Service", "Deployment", "ReplicaSet"]
    assert [i["metadata"]["name"] for i in items[:3]] == sorted(
        i["metadata"]["name"] for i in items[:3]
    )


def test_pod_only_json_is_unchanged_by_the_new_kinds() -> None:
    code, out, _ = _run(["completed-never.yaml", "--until", "30", "-o", "json"])
    assert code == 0
    assert [i["kind"] for i in json.loads(out)["items"]] == ["Pod"]


def test_jsonl_has_lines_for_the_new_kinds() -> None:
    code, out, _ = _run(["web-deployment.yaml", "--until", "10", "-o", "jsonl"])
    kinds = {json.loads(line)["kind"] for line in out.splitlines()}
    assert kinds == {"Pod", "Event", "Service", "Deployment", "ReplicaSet", "EndpointSlice",
                     "Endpoints"}


def test_scale_usage_errors() -> None:
    code, _, err = _run(["web-deployment.yaml", "--scale", "pod/web=3@5"])
    assert code == 2
    assert "expected deployment/NAME=N@SECONDS" in err
    code, _, err = _run(["web-deployment.yaml", "--scale", "deployment/web=3@500"])
    assert code == 2
    code, _, err = _run(["web-deployment.yaml", "--scale", "deployment/nosuch=3@5",
                         "--until", "10"])
    assert code == 0
    assert "Error from server (NotFound): deployment/nosuch not found" in err


def test_no_resources_for_an_empty_view() -> None:
    code, out, err = _run(["completed-never.yaml", "--until", "5", "-o", "services"])
    assert (code, out) == (0, "")
    assert err == "No resources found in default namespace.\n"


def test_help_names_the_new_outputs() -> None:
    code, out, _ = _run(["--help"])
    assert code == 0
    for word in ("services", "deployments", "replicasets", "jobs", "endpoints", "--scale"):
        assert word in out
