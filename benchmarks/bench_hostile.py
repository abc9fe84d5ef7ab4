"""Hostile-input benchmark (a script, not a test): prints figures.

One Daphne process (with its lab worker processes) on loopback. For each attack of issue 11
a second lab sends ``lab.sync`` every 0.1 s and times the round trip while the attacker sends
its messages; printed per attack: the time until the attacker got its answer (and which),
the second lab's round trip p50/p99, the peak resident memory of Daphne and of the largest
worker. The suite in tests/hostile/ checks the same cases against bounds (p99 < 200 ms).

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
}
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


async def run_attack(url: str, pid: int, name: str, messages: list) -> dict:
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None,
                                  ping_interval=None) as victim, \
            websockets.connect(url, origin="http://127.0.0.1", max_size=None,
                               ping_interval=None) as attacker:
        for ws in (victim, attacker):
            assert (await recv_json(ws))["type"] == "lab.hello"
        await victim.send(json.dumps({"type": "lab.apply", "manifest": a.SLEEPER}))
        while (await recv_json(victim))["type"] != "lab.snapshot":
            pass
        trips: list[float] = []
        peaks = {"daphne": 0.0, "worker": 0.0}
        done = asyncio.Event()

        async def measure() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await victim.send(json.dumps({"type": "lab.sync"}))
                while (await recv_json(victim, 30))["type"] != "lab.snapshot":
                    pass
                trips.append((time.perf_counter() - started) * 1000)
                peaks["daphne"] = max(peaks["daphne"], rss(pid))
                peaks["worker"] = max([peaks["worker"], *(rss(c) for c in children(pid))])
                await asyncio.sleep(0.1)

        task = asyncio.create_task(measure())
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        answers = []
        for message in messages:
            await attacker.send(message if isinstance(message, str) else json.dumps(message))
        expected = len(messages) + sum(1 for m in messages
                                       if isinstance(m, dict) and m["type"] == "lab.apply")
        try:
            while len(answers) < expected:
                answer = await recv_json(attacker)
                if answer["type"] in ANSWERS:
                    answers.append(answer.get("code") or answer["type"])
                    if answer["type"] == "lab.error":
                        break
        except (TimeoutError, websockets.ConnectionClosed) as exc:
            answers.append(type(exc).__name__)
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)
        done.set()
        await task
    ordered = sorted(trips)
    return {"name": name, "answer": answers[-1] if answers else "-", "seconds": seconds,
            "p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1,
                                                                  int(len(ordered) * 0.99))],
            "trips": len(ordered), "daphne_mb": peaks["daphne"], "worker_mb": peaks["worker"]}


async def main_async(url: str, pid: int, only: str | None) -> None:
    print(f"{'attack':30} {'answer':>16} {'in s':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'trips':>5} {'daphne MB':>9} {'worker MB':>9}")
    for name, messages in ATTACKS.items():
        if only and only not in name:
            continue
        r = await run_attack(url, pid, name, messages)
        print(f"{r['name']:30} {r['answer']:>16} {r['seconds']:6.2f} {r['p50']:7.1f} "
              f"{r['p99']:7.1f} {r['trips']:5d} {r['daphne_mb']:9.0f} {r['worker_mb']:9.0f}",
              flush=True)


async def warm(url: str) -> None:
    async with websockets.connect(url, origin="http://127.0.0.1") as ws:
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
