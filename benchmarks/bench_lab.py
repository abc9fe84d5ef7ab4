"""Lab benchmarks (a script, not a test): prints figures.

1. Apply to first frame: one client applies a manifest again and again; the time from sending
   ``lab.apply`` to receiving its ``lab.snapshot`` (p50/p99; target p99 < 50 ms), on a quiet
   server (the very first apply, which may wait for the workers to start, is printed apart)
   and again while the N labs of each load run play.
2. Load: N concurrent labs against one Daphne process, each applying a probe-heavy manifest
   and playing it at 10x; frame lag p50/p99 (how late a frame arrives compared with the moment
   it shows: wall clock minus play start minus t/10), the server's resident memory and the CPU
   of server and client, for N = 100, 500, 1000 (target: 1,000 labs with p99 lag < 100 ms on
   one process). Labs open at ``--arrival`` per second and play as soon as they are applied;
   the lag is given over every frame and over the frames received once all N labs are playing
   (the target's case). ``--herd`` instead applies them all and then presses play in every
   lab at the same moment, the worst case: starting a Pod costs far more than running it.
   The simulations run in the server's worker processes (podlab/lab/workers.py): "server" is
   the Daphne process (relaying frames), "workers" its worker processes; ``--worker-cost``
   also prints the workers' CPU per lab.
3. The garbage collector under that load: every collection the server and its workers made
   during each run (``gc.callbacks``, podlab/core/gcstats.py), by generation, with the total
   and the longest pause.

Run: ``.venv/bin/python benchmarks/bench_lab.py [--labs 100,500,1000] [--seconds 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

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
SETTLE_SECONDS = 2.0
MANIFESTS = {"probe-heavy": PROBE_HEAVY, "probe-storm": PROBE_STORM}
APPLY_MANIFEST = (ROOT / "lessons/08-probes/examples/probes-exec-liveness.yaml").read_text()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The processes ``pid`` started: the lab worker pool (podlab/lab/workers.py) runs every
    simulation in them, so the server's own CPU is only the relaying."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def workers_cpu(pid: int) -> float:
    """CPU seconds of the server's workers so far (a worker replaced meanwhile is not
    counted: its labs ended with it)."""
    total = 0.0
    for child in worker_pids(pid):
        try:
            total += cpu_seconds(child)
        except OSError:
            continue
    return total


def workers_rss_mib(pid: int) -> float:
    total = 0.0
    for child in worker_pids(pid):
        try:
            total += rss_mib(child)
        except OSError:
            continue
    return total


def origin_of(url: str) -> str:
    """The Origin a page of the server would send (scheme, host and port: core/origin.py)."""
    parts = urlsplit(url)
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


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


async def apply_latency(url: str, rounds: int, *, until: float | None = None,
                        warm: list[float] | None = None) -> list[float]:
    """``rounds`` applies one after another (or, with ``until``, as many as fit before that
    ``perf_counter`` moment); with ``warm``, a first apply whose time goes there instead (the
    first lab after the server started waits for its worker processes to be ready)."""
    samples = []
    async with websockets.connect(url, origin=origin_of(url), max_size=None,
                                  open_timeout=60, ping_interval=None) as ws:
        await until_type(ws, "lab.hello")
        if warm is not None:
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "lab.apply", "manifest": APPLY_MANIFEST}))
            await until_type(ws, "lab.snapshot")
            warm.append((time.perf_counter() - started) * 1000)
        for _ in range(rounds if until is None else 10**9):
            if until is not None and time.perf_counter() >= until:
                break
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "lab.apply", "manifest": APPLY_MANIFEST}))
            await until_type(ws, "lab.snapshot")
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.06)  # stay under the per-connection message rate limit
    return samples


async def one_lab(url: str, seconds: float, lags: list[tuple[float, float]],
                  ready: asyncio.Event, go: asyncio.Event | None, counts: dict) -> None:
    """Apply, play at 10x and note (arrival, lag) for every frame, until ``seconds`` after the
    last of the labs has started playing (and settled).

    With ``go`` (the herd), wait until every lab has applied and play together; without it,
    play as soon as the manifest is applied, as a learner would."""
    async with websockets.connect(url, origin=origin_of(url), max_size=None,
                                  open_timeout=60, ping_interval=None) as ws:
        await until_type(ws, "lab.hello")
        await ws.send(json.dumps({"type": "lab.apply", "manifest": MANIFESTS[counts["manifest"]]}))
        await until_type(ws, "lab.snapshot")
        counts["ready"] += 1
        if counts["ready"] == counts["total"]:
            ready.set()
        if go is not None:
            await go.wait()
        await ws.send(json.dumps({"type": "lab.play", "speed": 10}))
        first = await until_type(ws, "lab.frame")
        start_wall = time.perf_counter()
        counts["playing"] += 1
        if counts["playing"] == counts["total"]:
            # Everyone plays on until ``seconds`` after the last lab has settled.
            counts["all_playing_at"] = start_wall
            counts["stop_at"] = start_wall + SETTLE_SECONDS + seconds
        start_t = first["t"]
        while time.perf_counter() < counts["stop_at"]:
            try:
                left = max(0.1, counts["stop_at"] - time.perf_counter())
                raw = await asyncio.wait_for(ws.recv(), timeout=min(left, 1.0))
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message["type"] != "lab.frame":
                continue
            counts["frames"] += 1
            now = time.perf_counter()
            expected_wall = start_wall + (message["t"] - start_t) / 10
            lags.append((now, max(0.0, (now - expected_wall) * 1000)))
        await ws.send(json.dumps({"type": "lab.pause"}))


async def load(url: str, labs: int, seconds: float, pid: int, manifest: str, *,
               herd: bool, arrival: float) -> dict[str, float]:
    lags: list[tuple[float, float]] = []
    ready = asyncio.Event()
    go = asyncio.Event() if herd else None
    counts: dict = {"ready": 0, "playing": 0, "total": labs, "frames": 0, "manifest": manifest,
                    "all_playing_at": None, "stop_at": float("inf")}
    cpu_start, client_start, wall_start = cpu_seconds(pid), time.process_time(), time.perf_counter()
    workers_start = workers_cpu(pid)
    tasks = []
    for i in range(labs):
        tasks.append(asyncio.create_task(one_lab(url, seconds, lags, ready, go, counts)))
        if i % 10 == 9:
            await asyncio.sleep(10 / arrival)  # learners arrive in small groups
    started = time.perf_counter()
    while not ready.is_set():
        failed = next((t for t in tasks if t.done() and t.exception()), None)
        if failed is not None or time.perf_counter() - started > 600:
            raise RuntimeError(f"labs did not start: {failed.exception() if failed else 'timeout'}")
        await asyncio.sleep(0.2)
    memory_idle = rss_mib(pid)
    if go is not None:
        cpu_start, client_start, wall_start = (
            cpu_seconds(pid), time.process_time(), time.perf_counter())
        workers_start = workers_cpu(pid)
        go.set()
    peak = memory_idle
    # (wall, server, client, workers) once settled
    steady_cpu: list[tuple[float, float, float, float]] = []
    workers_peak = workers_rss_mib(pid)
    # Meanwhile one more learner applies the lesson's example again and again: how long an
    # apply takes while the N labs play (their ticks share the workers with it).
    under_load: list[float] = []
    applier: asyncio.Task | None = None
    while not all(t.done() for t in tasks):
        if applier is None and counts["all_playing_at"] is not None:
            applier = asyncio.create_task(apply_latency(
                url, 0, until=counts["stop_at"] - 0.5, warm=None))
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mib(pid))
        workers_peak = max(workers_peak, workers_rss_mib(pid))
        settled_at = (counts["all_playing_at"] or float("inf")) + SETTLE_SECONDS
        if time.perf_counter() >= settled_at and not all(t.done() for t in tasks):
            steady_cpu.append((time.perf_counter(), cpu_seconds(pid), time.process_time(),
                               workers_cpu(pid)))
    wall = time.perf_counter() - wall_start
    server_cpu = (cpu_seconds(pid) - cpu_start) / wall
    worker_cpu = (workers_cpu(pid) - workers_start) / wall
    client_cpu = (time.process_time() - client_start) / wall
    for task in tasks:
        task.result()
    if applier is not None:
        under_load = await applier
    every = [lag for _, lag in lags]
    # Steady state: every lab is playing and the last one to start is past its first seconds.
    settled = (counts["all_playing_at"] or float("inf")) + SETTLE_SECONDS
    steady = [lag for at, lag in lags if at >= settled]
    return {"labs": labs, "frames": counts["frames"], "p50": percentile(every, 0.50),
            "p99": percentile(every, 0.99), "max": max(every) if every else float("nan"),
            "steady_frames": len(steady), "steady_p50": percentile(steady, 0.50),
            "steady_p99": percentile(steady, 0.99),
            "rss_applied": memory_idle, "rss_peak": peak,
            "server_cpu": server_cpu, "client_cpu": client_cpu, "workers_cpu": worker_cpu,
            "workers_rss_peak": workers_peak,
            "steady_server_cpu": _rate(steady_cpu, 1), "steady_client_cpu": _rate(steady_cpu, 2),
            "steady_workers_cpu": _rate(steady_cpu, 3),
            "apply_count": len(under_load), "apply_p50": percentile(under_load, 0.50),
            "apply_p99": percentile(under_load, 0.99)}


def _rate(samples: list[tuple[float, float, float, float]], column: int) -> float:
    """CPU seconds per second between the first and last sample of ``column``."""
    if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
        return float("nan")
    return (samples[-1][column] - samples[0][column]) / (samples[-1][0] - samples[0][0])


def gc_summary(directory: str, since: float, until: float) -> str:
    """The collections each kind of process (server, workers) made between ``since`` and
    ``until`` (wall clock), from the reports podlab/core/gcstats.py writes."""
    parts = []
    for role in ("server", "worker"):
        pauses = []
        for path in Path(directory).glob(f"gc-{role}-*.jsonl"):
            try:
                lines = path.read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    pause = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                if since <= pause[1] <= until:
                    pauses.append(pause)
        by_gen = [sum(1 for p in pauses if p[0] == gen) for gen in range(3)]
        total = sum(p[2] for p in pauses) * 1000
        longest = max((p[2] for p in pauses), default=0.0) * 1000
        parts.append(f"{role}s {by_gen[0]}/{by_gen[1]}/{by_gen[2]} collections (gen 0/1/2), "
                     f"{total:.0f} ms in all, longest {longest:.1f} ms")
    return "GC during the run: " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", default="100,500,1000")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--manifest", choices=sorted(MANIFESTS), default="probe-heavy")
    parser.add_argument("--arrival", type=float, default=50.0,
                        help="labs opened per second (default 50: 1,000 labs in 20 s)")
    parser.add_argument("--herd", action="store_true",
                        help="apply every lab first, then press play in all of them at once")
    parser.add_argument("--worker-cost", action="store_true",
                        help="also print the simulations' cost in the worker processes: CPU "
                        "ms per lab per second of play at 10x, and the labs one core of "
                        "workers holds at that cost")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="podlab-bench-lab-")
    print(f"server log: {tmp}/daphne-*.log")
    if True:
        proc, base = start_daphne(Path(tmp), extra_env={
            # every simulated learner connects from 127.0.0.1
            "PODLAB_LAB_CONNECTIONS_PER_ADDRESS": "100000", "PODLAB_LAB_CONNECTIONS": "100000",
            "PODLAB_GC_REPORT": tmp})
        url = base.replace("http://", "ws://") + "/ws/lab/?lang=en"
        try:
            warm: list[float] = []
            samples = asyncio.run(apply_latency(url, args.rounds, warm=warm))
            print(f"first apply after the server started (its workers may still be starting): "
                  f"{warm[0]:.0f} ms")
            print(f"apply -> first frame ({args.rounds} rounds): p50 "
                  f"{statistics.median(samples):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms "
                  f"(target p99 < 50 ms)")
            print(f"server memory before the load runs: {rss_mib(proc.pid):.0f} MiB")
            for n in [int(x) for x in args.labs.split(",")]:
                began = time.time()
                result = asyncio.run(load(url, n, args.seconds, proc.pid, args.manifest,
                                          herd=args.herd, arrival=args.arrival))
                ended = time.time()
                start = "all at once" if args.herd else "each as it is applied"
                print(f"{n:5d} labs ({args.manifest}, play {start}) at 10x for "
                      f"{args.seconds:.0f} s: {result['frames']} frames, "
                      f"lag p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
                      f"max {result['max']:.0f} ms; with all {n} playing: "
                      f"{result['steady_frames']} frames, lag p50 {result['steady_p50']:.0f} ms, "
                      f"p99 {result['steady_p99']:.0f} ms, CPU server "
                      f"{result['steady_server_cpu']:.0%} workers "
                      f"{result['steady_workers_cpu']:.0%} client "
                      f"{result['steady_client_cpu']:.0%};"
                      f" server RSS "
                      f"{result['rss_applied']:.0f} MiB "
                      f"applied, {result['rss_peak']:.0f} MiB peak (workers "
                      f"{result['workers_rss_peak']:.0f} MiB peak); CPU over the whole run: "
                      f"server {result['server_cpu']:.0%}, workers {result['workers_cpu']:.0%}, "
                      f"client {result['client_cpu']:.0%} of a core")
                time.sleep(1.5)  # the processes write their GC reports once a second
                print(f"      {gc_summary(tmp, began, ended)}")
                print(f"      apply -> first frame with all {n} playing "
                      f"({result['apply_count']} applies): p50 {result['apply_p50']:.1f} ms, "
                      f"p99 {result['apply_p99']:.1f} ms (target p99 < 50 ms)")
                if args.worker_cost:
                    steady = result["steady_workers_cpu"]
                    per_lab = steady / n * 1000 if steady == steady else float("nan")
                    print(f"      workers with all {n} playing: {per_lab:.2f} CPU ms per lab per "
                          f"second at 10x; one core holds {1000 / per_lab:.0f} such labs"
                          if per_lab > 0 else "      workers: no steady-state samples")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
