"""Limits benchmark (a script, not a test): what the attacks of issue 11 cost for real.

For each hostile container it prints the real seconds one simulated hour takes, the
process's peak resident memory, and what the node answered (state, reason, restarts).
Each case runs in a child process of its own so that its peak memory is its own.

Run: ``.venv/bin/python benchmarks/bench_limits.py [--hours H] [--case NAME]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES: dict[str, tuple[str, str]] = {
    "busy loop": ("while true; do :; done", ""),
    "busy loop, cpu 100m": ("while true; do :; done", "cpu: 100m"),
    "counting loop": ("i=0; while true; do i=$((i+1)); done", ""),
    "yes": ("yes", ""),
    "fork bomb": ("f(){ f & f & wait; }; f", ""),
    "x=$x$x, memory 64Mi": ("x=x; while true; do x=$x$x; done", "memory: 64Mi"),
    "x=$x$x, no limit": ("x=x; while true; do x=$x$x; done", ""),
    'printf "%999999999s"': ('while true; do printf "%999999999s" x; done', ""),
    "yes > file": ("yes > /tmp/y", ""),
    "yes > file, storage 1Gi": ("yes > /tmp/y", "ephemeral-storage: 1Gi"),
    "x=$x$x, memory 1Gi": ("x=x; while true; do x=$x$x; done", "memory: 1Gi"),
}


def manifest(script: str, limits: str) -> str:
    resources = f", resources: {{limits: {{{limits}}}}}" if limits else ""
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: attack\nspec:\n  containers:\n"
        f"  - {{name: c, image: \"busybox:1.36\", command: [sh, -c, {json.dumps(script)}]"
        f"{resources}}}\n"
    )


def run_case(name: str, seconds: float) -> dict[str, object]:
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation

    script, limits = CASES[name]
    result = parse_manifests(manifest(script, limits))
    sim = Simulation(seed=0)
    sim.apply(result.objects)
    began = time.perf_counter()
    sim.run_until(seconds)
    elapsed = time.perf_counter() - began
    pod_status = sim.pods()[0]["status"]
    status = pod_status["containerStatuses"][0]
    state = next(iter(status["state"]))
    reason = status["state"][state].get("reason", "")
    if pod_status.get("reason"):
        reason = f"{reason} (Pod {pod_status['reason']})".strip()
    last = (status.get("lastState") or {}).get("terminated") or {}
    began = time.perf_counter()
    del sim
    freed = time.perf_counter() - began
    return {
        "elapsed": elapsed,
        "freed": freed,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "state": f"{state} {reason}".strip(),
        "last": f"{last.get('reason', '')} {last.get('exitCode', '')}".strip(),
        "restarts": status["restartCount"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    options = parser.parse_args()
    seconds = 3600.0 * options.hours
    if options.case:
        print(json.dumps(run_case(options.case, seconds)))
        return
    print(f"one container per case, {seconds:.0f} s simulated (real seconds per simulated hour)")
    for name in CASES:
        out = subprocess.run(  # noqa: S603 - this script, with a case name of its own table
            [sys.executable, __file__, "--hours", str(options.hours), "--case", name],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        figures = json.loads(out)
        per_hour = figures["elapsed"] / options.hours
        print(
            f"{name:26} {per_hour:6.2f} s/h  peak RSS {figures['rss']:4} MB  "
            f"freed in {figures['freed']:.2f} s  now {figures['state']}, "
            f"restarts {figures['restarts']}, last {figures['last'] or '-'}"
        )


if __name__ == "__main__":
    main()
