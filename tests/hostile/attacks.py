"""Hostile inputs (issue 11) and the yardstick each is measured with: while an attack runs,
a second lab's round trip, the server's memory and the time until the attacker is answered."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from podlab.lab import workers
from podlab.lab.workers import pool

#: what the suite holds the server to while an attack runs
P99_BOUND_SECONDS = 0.2
#: wall clock: a budget is CPU time, and the machine the suite runs on is shared
ANSWER_BOUND_SECONDS = 10.0
#: growth of the server process's resident memory during one attack
SERVER_GROWTH_BOUND_MB = 150


def pod(name: str, script: str, *, containers: int = 1, memory: str | None = None) -> str:
    resources = (f"\n    resources:\n      limits:\n        memory: {memory}" if memory else "")
    body = "".join(
        f"""
  - name: c{i}
    image: busybox:1.36
    command: ["sh", "-c", {json.dumps(script)}]{resources}"""
        for i in range(containers))
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:{body}
"""


BUSY_LOOP = pod("busy", "while true; do :; done")
#: a loop whose every turn changes a variable its condition tests: the shell has to run each
#: turn (``while true; do i=$((i+1)); done`` alone is a counting loop, run in bulk)
COUNTING_LOOP = pod("counter", "i=0; while [ $i -ge 0 ]; do i=$((i+1)); done")
LOG_FLOOD = pod("flood", "yes")
STRING_DOUBLING = pod("doubling", "x=a; while true; do x=$x$x; done")
FORK_BOMB = pod("bomb", "f(){ f & f & wait; }; f")
CHATTY = pod("chatty", "while true; do date; sleep 1; done", containers=10)
BIG_LIST = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n"
            "  - name: c\n    image: busybox:1.36\n    args:\n"
            + "    - a\n" * 10_600)[:64 * 1024 - 1]
LONG_INT_YAML = pod("longint", "sleep 1").replace("kind: Pod", "kind: Pod\nx: " + "7" * 5000)
LONG_QUANTITY = pod("quantity", "sleep 1", memory="1" + "0" * 5000 + "Mi")
THOUSAND_REPLICAS = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1000
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""
SLEEPER = pod("sleeper", "echo hello; sleep 3600")
#: an hour of events that quote a 60,000-character image name (the kubelet cannot pull it)
LONG_IMAGE = SLEEPER.replace("busybox:1.36", "a" * 60_000)
#: a liveness probe that times out every second for an hour: 3,600 narration entries
PROBE_EVERY_SECOND = SLEEPER.replace(
    '"echo hello; sleep 3600"]', '"echo hello; sleep 3600"]\n    livenessProbe:\n'
    "      exec: {command: [sleep, '1e308']}\n      periodSeconds: 1\n"
    "      timeoutSeconds: 1\n      failureThreshold: 2147483647\n")


def p99_bound(baseline: float) -> float:
    """The second lab's p99 under attack: under 200 ms. On a machine so busy with other work
    (the suite shares it) that the p99 without any attack is already over 50 ms, or that more
    than two processes wait for each core, under four times that, and at least 500 ms:
    a blocked event loop costs whole seconds, so the check still tells."""
    busy = os.getloadavg()[0] > 2 * (os.cpu_count() or 1)
    if baseline < 0.05 and not busy:
        return P99_BOUND_SECONDS
    return max(0.5, 4 * baseline)


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def worker_rss_mb() -> list[float]:
    out = []
    for pid in pool().stats()["pids"]:
        try:
            out.append(rss_mb(pid))
        except OSError:
            out.append(0.0)
    return out


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


@contextmanager
def own_pool(size: int = 2) -> Iterator[workers.WorkerPool]:
    """A pool of ``size`` workers of its own instead of the process's, so a second lab and
    an attacker can hold one each (the suite's shared pool has labs of other tests in it)."""
    own = workers.WorkerPool(size=size)
    assert own.start(wait=90)
    shared, workers._pool = workers._pool, own
    try:
        yield own
    finally:
        workers._pool = shared
        own.close()


@dataclass
class Yardstick:
    """A second lab measuring its own round trips (``lab.sync`` -> ``lab.snapshot``, or
    another ``request`` and ``reply``) every 0.1 s, and the server's memory, until stopped."""

    send: Any  # async (dict) -> None
    receive: Any  # async () -> dict
    request: dict[str, Any] = field(default_factory=lambda: {"type": "lab.sync"})
    reply: str = "lab.snapshot"
    trips: list[float] = field(default_factory=list)
    rss_peak: float = 0.0
    worker_peak: float = 0.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            await self.send(self.request)
            while (await self.receive())["type"] != self.reply:
                pass
            self.trips.append(time.monotonic() - started)
            self.rss_peak = max(self.rss_peak, rss_mb())
            self.worker_peak = max([self.worker_peak, *worker_rss_mb()])
            await asyncio.sleep(0.1)

    async def stop(self) -> dict[str, float]:
        self._stop.set()
        assert self._task is not None
        await asyncio.wait_for(self._task, 10)
        return {"p99": p99(self.trips), "trips": len(self.trips), "rss_peak": self.rss_peak,
                "worker_peak": self.worker_peak}
