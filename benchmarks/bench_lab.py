"""Lab benchmarks (a script, not a test): prints figures.

1. Apply to first frame: one client applies a manifest again and again; the time from sending
   ``lab.apply`` to receiving its ``lab.snapshot`` (p50/p99; target p99 < 50 ms).
2. Load: N concurrent labs against one Daphne process, each applying a probe-heavy manifest
   and playing it at 10x; frame lag p50/p99 (how late a frame arrives compared with the moment
   it shows: wall clock minus play start minus t/10) and the server's resident memory, for
   N = 100, 500, 1000 (target: 1,000 labs with p99 lag < 100 ms on one process).

Run: ``.venv/bin/python benchmarks/bench_lab.py [--labs 100,500,1000] [--seconds 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import start_daphne  # noqa: E402

# Probes as production Pods set them: every container has startup, liveness and readiness.
PROBE_HEAVY = """\
apiVersion: v1
kind: Pod
metadata:
  name: probe-heavy
spec:
  containers:
  - name: web
    image: nginx:1.27
    startupProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 2
      failureThreshold: 30
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 5
    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 10
  - name: worker
    image: busybox:1.36
    command: ["sh", "-c", "touch /tmp/ok; sleep 3600"]
    startupProbe:
      exec: {command: ["test", "-f", "/tmp/ok"]}
      periodSeconds: 2
    readinessProbe:
      exec: {command: ["cat", "/tmp/ok"]}
      periodSeconds: 5
    livenessProbe:
      exec: {command: ["test", "-f", "/tmp/ok"]}
      periodSeconds: 10
"""
# Every probe every one or two seconds: four times the probe traffic of the Pod above.
PROBE_STORM = """\
apiVersion: v1
kind: Pod
metadata:
  name: probe-storm
spec:
  containers:
  - name: web
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
  - name: worker
    image: busybox:1.36
    command: ["sh", "-c", "touch /tmp/ok; sleep 3600"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ok"]}
      periodSeconds: 1
    livenessProbe:
      exec: {command: ["test", "-f", "/tmp/ok"]}
      periodSeconds: 2
"""
MANIFESTS = {"probe-heavy": PROBE_HEAVY, "probe-storm": PROBE_STORM}
APPLY_MANIFEST = (ROOT / "lessons/08-probes/examples/probes-exec-liveness.yaml").read_text()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def until_type(ws: websockets.ClientConnection, wanted: str) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == wanted:
            return message
        if message["type"] == "lab.error":
            raise RuntimeError(f"the server refused a message: {message}")


async def apply_latency(url: str, rounds: int) -> list[float]:
    samples = []
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None) as ws:
        await until_type(ws, "lab.hello")
        for _ in range(rounds):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "lab.apply", "manifest": APPLY_MANIFEST}))
            await until_type(ws, "lab.snapshot")
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.06)  # stay under the per-connection message rate limit
    return samples


async def one_lab(url: str, seconds: float, lags: list[float], ready: asyncio.Event,
                  go: asyncio.Event, counts: dict[str, int]) -> None:
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None,
                                  open_timeout=60, ping_interval=None) as ws:
        await until_type(ws, "lab.hello")
        await ws.send(json.dumps({"type": "lab.apply", "manifest": MANIFESTS[counts["manifest"]]}))
        await until_type(ws, "lab.snapshot")
        counts["ready"] += 1
        if counts["ready"] == counts["total"]:
            ready.set()
        await go.wait()
        await ws.send(json.dumps({"type": "lab.play", "speed": 10}))
        first = await until_type(ws, "lab.frame")
        start_wall = time.perf_counter() - 0.0
        start_t = first["t"]
        deadline = start_wall + seconds
        while time.perf_counter() < deadline:
            try:
                left = max(0.1, deadline - time.perf_counter())
                raw = await asyncio.wait_for(ws.recv(), timeout=left)
            except TimeoutError:
                break
            message = json.loads(raw)
            if message["type"] != "lab.frame":
                continue
            counts["frames"] += 1
            expected_wall = start_wall + (message["t"] - start_t) / 10
            lags.append(max(0.0, (time.perf_counter() - expected_wall) * 1000))
        await ws.send(json.dumps({"type": "lab.pause"}))


async def load(url: str, labs: int, seconds: float, pid: int,
               manifest: str) -> dict[str, float]:
    lags: list[float] = []
    ready, go = asyncio.Event(), asyncio.Event()
    counts: dict = {"ready": 0, "total": labs, "frames": 0, "manifest": manifest}
    tasks = []
    for i in range(labs):
        tasks.append(asyncio.create_task(one_lab(url, seconds, lags, ready, go, counts)))
        if i % 50 == 49:
            await asyncio.sleep(0.2)  # open the sockets in waves, as a class arriving would
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait([waiter, *tasks], timeout=600,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        failed = next((t for t in done if t.exception()), None)
        raise RuntimeError(f"labs did not start: {failed.exception() if failed else 'timeout'}")
    memory_idle = rss_mib(pid)
    go.set()
    peak = memory_idle
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mib(pid))
    for task in tasks:
        task.result()
    return {"labs": labs, "frames": counts["frames"], "p50": percentile(lags, 0.50),
            "p99": percentile(lags, 0.99), "max": max(lags) if lags else float("nan"),
            "rss_applied": memory_idle, "rss_peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", default="100,500,1000")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--manifest", choices=sorted(MANIFESTS), default="probe-heavy")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="podlab-bench-lab-")
    print(f"server log: {tmp}/daphne-*.log")
    if True:
        proc, base = start_daphne(Path(tmp))
        url = base.replace("http://", "ws://") + "/ws/lab/?lang=en"
        try:
            samples = asyncio.run(apply_latency(url, args.rounds))
            print(f"apply -> first frame ({args.rounds} rounds): p50 "
                  f"{statistics.median(samples):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms "
                  f"(target p99 < 50 ms)")
            print(f"server memory before the load runs: {rss_mib(proc.pid):.0f} MiB")
            for n in [int(x) for x in args.labs.split(",")]:
                result = asyncio.run(load(url, n, args.seconds, proc.pid, args.manifest))
                print(f"{n:5d} labs ({args.manifest}) at 10x for {args.seconds:.0f} s: "
                      f"{result['frames']} frames, "
                      f"lag p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
                      f"max {result['max']:.0f} ms; server RSS {result['rss_applied']:.0f} MiB "
                      f"applied, {result['rss_peak']:.0f} MiB peak")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
