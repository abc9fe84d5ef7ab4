"""Hostile-input benchmark (a script, not a test): prints figures.

One Daphne process (with its lab worker processes) on loopback. For each attack of issue 11
a second lab sends ``lab.sync`` every 0.1 s and times the round trip while the attacker sends
its messages; printed per attack: the time until the attacker got its answer (and which),
the second lab's round trip p50/p99, the peak resident memory of Daphne and of the largest
worker, and how many ``lab.progress`` frames the attacker got (a long seek runs in slices);
an attack that must end in a given answer (``EXPECTED``) says whether it did. The suite in
tests/hostile/ checks the same cases against bounds (p99 < 200 ms).

Run: ``.venv/bin/python benchmarks/bench_hostile.py [--only NAME]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import start_daphne  # noqa: E402
from tests.hostile import attacks as a  # noqa: E402

ATTACKS: dict[str, list[dict]] = {
    "busy loop, seek 3600": [{"type": "lab.apply", "manifest": a.BUSY_LOOP},
                             {"type": "lab.seek", "t": 3600}],
    "yes, seek 300": [{"type": "lab.apply", "manifest": a.LOG_FLOOD},
                      {"type": "lab.seek", "t": 300}],
    "x=$x$x, seek 60": [{"type": "lab.apply", "manifest": a.STRING_DOUBLING},
                        {"type": "lab.seek", "t": 60}],
    "fork bomb, seek 60": [{"type": "lab.apply", "manifest": a.FORK_BOMB},
                           {"type": "lab.seek", "t": 60}],
    "10 date loggers, seek 3600": [{"type": "lab.apply", "manifest": a.CHATTY},
                                   {"type": "lab.seek", "t": 3600}],
    "10 x validate 64 KB list": [{"type": "lab.validate", "manifest": a.BIG_LIST}] * 10,
    "Deployment of 1000": [{"type": "lab.apply", "manifest": a.SLEEPER},
                           {"type": "lab.action", "action": "apply",
                            "manifest": a.THOUSAND_REPLICAS}],
    "deep JSON": ['{"type":"lab.validate","manifest":' + "[" * 5000 + "]" * 5000 + "}"],
    "5000-digit integer in YAML": [{"type": "lab.validate", "manifest": a.LONG_INT_YAML}],
    "60000-char image, seek 3600": [{"type": "lab.apply", "manifest": a.LONG_IMAGE},
                                    {"type": "lab.seek", "t": 3600}],
    "probe fails each s, seek 3600": [{"type": "lab.apply", "manifest": a.PROBE_EVERY_SECOND},
                                      {"type": "lab.seek", "t": 3600}],
}
#: what an attack must end with where it is not a runaway (an honest lab long to simulate:
#: its seek runs in slices, ``lab.progress`` frames, then the snapshot)
EXPECTED = {"10 date loggers, seek 3600": "lab.snapshot",
            "60000-char image, seek 3600": "lab.snapshot",
            "probe fails each s, seek 3600": "lab.snapshot"}
#: the answers that end each attack (one per message sent)
ANSWERS = ("lab.snapshot", "lab.validation", "lab.frame", "lab.error")


def rss(pid: int) -> float:
    try:
        return a.rss_mb(pid)
    except OSError:
        return 0.0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


async def recv_json(ws, timeout: float = 60.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def origin_of(url: str) -> str:
    """The page's origin for a websocket URL of the server (the origin check wants its port)."""
    return url.split("/ws/", 1)[0].replace("ws://", "http://", 1)


class Probe:
    """A second socket timing its round trips (``request`` -> a ``reply``) every 0.1 s, and
    the peak memory of Daphne (``pid``) and of its largest worker, until stopped."""

    def __init__(self, ws, pid: int, request: dict, reply: str) -> None:
        self.ws, self.pid, self.request, self.reply = ws, pid, request, reply
        self.trips: list[float] = []
        self.peaks = {"daphne": 0.0, "worker": 0.0}
        self.done = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.done.is_set():
            started = time.perf_counter()
            await self.ws.send(json.dumps(self.request))
            while (await recv_json(self.ws, 30))["type"] != self.reply:
                pass
            self.trips.append((time.perf_counter() - started) * 1000)
            self.peaks["daphne"] = max(self.peaks["daphne"], rss(self.pid))
            self.peaks["worker"] = max([self.peaks["worker"],
                                        *(rss(c) for c in children(self.pid))])
            await asyncio.sleep(0.1)

    async def stop(self) -> dict:
        """The figures: round trip p50 and p99 (ms), how many, peak memory (MB)."""
        self.done.set()
        assert self.task is not None
        await self.task
        ordered = sorted(self.trips)
        return {"p50": statistics.median(ordered),
                "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
                "trips": len(ordered), "daphne_mb": self.peaks["daphne"],
                "worker_mb": self.peaks["worker"]}


async def run_attack(url: str, pid: int, name: str, messages: list) -> dict:
    async with websockets.connect(url, origin=origin_of(url), max_size=None,
                                  ping_interval=None) as victim, \
            websockets.connect(url, origin=origin_of(url), max_size=None,
                               ping_interval=None) as attacker:
        for ws in (victim, attacker):
            assert (await recv_json(ws))["type"] == "lab.hello"
        await victim.send(json.dumps({"type": "lab.apply", "manifest": a.SLEEPER}))
        while (await recv_json(victim))["type"] != "lab.snapshot":
            pass
        probe = Probe(victim, pid, {"type": "lab.sync"}, "lab.snapshot")
        probe.start()
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        answers = []
        progress = 0
        for message in messages:
            await attacker.send(message if isinstance(message, str) else json.dumps(message))
        expected = len(messages) + sum(1 for m in messages
                                       if isinstance(m, dict) and m["type"] == "lab.apply")
        try:
            while len(answers) < expected:
                answer = await recv_json(attacker)
                progress += answer["type"] == "lab.progress"
                if answer["type"] in ANSWERS:
                    answers.append(answer.get("code") or answer["type"])
                    if answer["type"] == "lab.error":
                        break
        except (TimeoutError, websockets.ConnectionClosed) as exc:
            answers.append(type(exc).__name__)
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)
        figures = await probe.stop()
    return {"name": name, "answer": answers[-1] if answers else "-", "seconds": seconds,
            "progress": progress, **figures}


def report(r: dict | None = None) -> None:
    """Print the table's header (no ``r``) or one attack's row."""
    if r is None:
        print(f"{'attack':30} {'answer':>16} {'in s':>6} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'trips':>5} {'daphne MB':>9} {'worker MB':>9} {'progress':>8}")
        return
    expected = EXPECTED.get(r["name"])
    verdict = "" if expected is None else (
        "  (as expected)" if r["answer"] == expected else f"  (EXPECTED {expected})")
    print(f"{r['name']:30} {r['answer']:>16} {r['seconds']:6.2f} {r['p50']:7.1f} "
          f"{r['p99']:7.1f} {r['trips']:5d} {r['daphne_mb']:9.0f} {r['worker_mb']:9.0f} "
          f"{r['progress']:8d}{verdict}", flush=True)


async def main_async(url: str, pid: int, only: str | None) -> None:
    report()
    for name, messages in ATTACKS.items():
        if only and only not in name:
            continue
        report(await run_attack(url, pid, name, messages))


async def warm(url: str) -> None:
    async with websockets.connect(url, origin=origin_of(url)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "lab.validate", "manifest": a.SLEEPER}))
        await recv_json(ws, 120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the attacks whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_daphne(Path(tmp))
        url = base.replace("http://", "ws://") + "/ws/lab/?lang=en"
        try:
            asyncio.run(warm(url))
            asyncio.run(main_async(url, proc.pid, args.only))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
