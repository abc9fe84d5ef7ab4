"""Golden output of ``podsim`` for classic scenarios, on the real simulation.

Each case runs the command line on a manifest from ``tests/engine/golden/`` and compares the
output with ``tests/engine/golden/<case>.txt`` byte for byte. To regenerate after a deliberate
change, run ``PODLAB_UPDATE_GOLDEN=1 pytest tests/engine/test_cli_golden.py`` and review the
diff by eye against the reference before committing (see docs/podsim.md).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from podlab.engine import cli

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PODLAB_UPDATE_GOLDEN") == "1"

# The simulation core and the modules it needs (images, shell) land separately.
for _module in (
    "podlab.engine.simulation",
    "podlab.engine.runtime.images",
    "podlab.engine.runtime.shell",
):
    pytest.importorskip(_module, reason="the simulation core is not complete in this tree yet")

#: case name -> podsim arguments (manifest paths relative to the golden directory)
CASES: dict[str, list[str]] = {
    "exec-liveness-60s-table": ["exec-liveness.yaml", "--until", "60"],
    "exec-liveness-60s-describe": ["exec-liveness.yaml", "--until", "60", "-o", "describe"],
    "exec-liveness-60s-events": ["exec-liveness.yaml", "--until", "60", "-o", "events"],
    "crash-loop-120s-table": ["crash-loop.yaml", "--until", "120"],
    "crash-loop-120s-describe": ["crash-loop.yaml", "--until", "120", "-o", "describe"],
    "crash-loop-120s-events": ["crash-loop.yaml", "--until", "120", "-o", "events"],
    "image-pull-failure-table": ["image-pull-failure.yaml", "--until", "90"],
    "image-pull-failure-describe": ["image-pull-failure.yaml", "--until", "90", "-o", "describe"],
    "image-pull-failure-events": ["image-pull-failure.yaml", "--until", "90", "-o", "events"],
    "completed-never-table": ["completed-never.yaml", "--until", "30"],
    "completed-never-describe": ["completed-never.yaml", "--until", "30", "-o", "describe"],
    "completed-never-logs": ["completed-never.yaml", "--until", "30", "-o", "logs"],
    "termination-during-table": ["termination.yaml", "--delete-at", "10", "--until", "12"],
    "termination-during-describe": ["termination.yaml", "--delete-at", "10", "--until", "12",
                                    "-o", "describe"],
    "termination-watch": ["termination.yaml", "--delete-at", "10", "--until", "60", "-w"],
    "termination-events": ["termination.yaml", "--delete-at", "10", "--until", "60",
                           "-o", "events"],
    "sidecar-batch-10s-table": ["sidecar-batch.yaml", "--until", "10"],
    "sidecar-batch-60s-table": ["sidecar-batch.yaml", "--until", "60"],
    "sidecar-batch-60s-describe": ["sidecar-batch.yaml", "--until", "60", "-o", "describe"],
    "sidecar-batch-60s-logs": ["sidecar-batch.yaml", "--until", "60", "-o", "logs"],
    "init-volumes-watch": ["init-volumes.yaml", "--until", "30", "-w"],
    "init-volumes-30s-describe": ["init-volumes.yaml", "--until", "30", "-o", "describe"],
    "init-volumes-30s-logs": ["init-volumes.yaml", "--until", "30", "-o", "logs"],
}


def _run(args: list[str]) -> tuple[int, str, str]:
    argv = [str(GOLDEN / a) if a.endswith(".yaml") else a for a in args]
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    # File names in messages are made relative so the goldens do not depend on the checkout.
    prefix = str(GOLDEN) + os.sep
    return code, out.getvalue().replace(prefix, ""), err.getvalue().replace(prefix, "")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    code, out, err = _run(CASES[case])
    text = out + (f"--- stderr ---\n{err}" if err else "") + (
        f"--- exit {code} ---\n" if code else "")
    path = GOLDEN / f"{case}.txt"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path.name}: run PODLAB_UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["exec-liveness-60s-describe", "termination-watch"])
def test_two_runs_are_byte_identical(case: str) -> None:
    assert _run(CASES[case]) == _run(CASES[case])


def test_jsonl_is_byte_identical_across_runs() -> None:
    args = ["exec-liveness.yaml", "--until", "120", "-o", "jsonl", "--seed", "3"]
    assert _run(args) == _run(args)
