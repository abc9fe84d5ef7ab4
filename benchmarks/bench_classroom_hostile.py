"""Hostile rooms benchmark (a script, not a test): prints figures.

One Daphne process (with its worker processes) on loopback, one instructor with two rooms.
The quiet room's console sends ``classroom.sync`` every 0.1 s and times the round trip (a
worker builds its snapshot) while the other room's console applies a runaway manifest and
moves it (seek, or play); printed per attack: the time until that console got its answer
(and which), the quiet console's round trip p50/p99, the peak resident memory of Daphne and
of the largest worker. tests/classroom/test_isolation.py checks the same against bounds.

Run: ``.venv/bin/python benchmarks/bench_classroom_hostile.py [--only NAME]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hostile import Probe, recv_json, report  # noqa: E402

from tests.browser.conftest import start_daphne  # noqa: E402
from tests.classroom.live import Browser, connect, make_instructor, server_env  # noqa: E402
from tests.hostile import attacks as a  # noqa: E402

#: the manifest each attack applies, then the move it makes
ATTACKS: dict[str, tuple[str, dict]] = {
    "busy loop, seek 3600": (a.BUSY_LOOP, {"type": "classroom.seek", "t": 3600}),
    "counting loop, seek 3600": (a.COUNTING_LOOP, {"type": "classroom.seek", "t": 3600}),
    "yes, seek 300": (a.LOG_FLOOD, {"type": "classroom.seek", "t": 300}),
    "x=$x$x, seek 60": (a.STRING_DOUBLING, {"type": "classroom.seek", "t": 60}),
    "fork bomb, seek 60": (a.FORK_BOMB, {"type": "classroom.seek", "t": 60}),
    "counting loop, play 60x": (a.COUNTING_LOOP, {"type": "classroom.play", "speed": 60}),
    "10 date loggers, seek 3600": (a.CHATTY, {"type": "classroom.seek", "t": 3600}),
}
#: how long a playing attack is watched for its error
PLAY_SECONDS = 15.0


async def until(ws, *types: str, timeout: float = 60.0, where=None) -> dict:
    while True:
        message = await recv_json(ws, timeout)
        if message["type"] in types and (where is None or where(message)):
            return message


async def console(base: str, code: str, cookie: str):
    ws = await connect(base, f"/ws/classroom/{code}/teach/", cookie)
    await until(ws, "classroom.question")
    return ws


async def apply(ws, manifest: str) -> None:
    await ws.send(json.dumps({"type": "classroom.apply", "manifest": manifest}))
    await until(ws, "classroom.snapshot", "classroom.error")


async def answer_of(ws, move: dict) -> str:
    if move["type"] == "classroom.play":
        try:
            last = await until(ws, "classroom.error", "classroom.frame", timeout=PLAY_SECONDS,
                               where=lambda m: m["type"] == "classroom.error"
                               or not m["playing"])
        except TimeoutError:
            return "still playing"
    else:
        last = await until(ws, "classroom.snapshot", "classroom.error")
    return last.get("code") or last["type"]


async def run_attack(base: str, codes: tuple[str, str], cookie: str, pid: int, name: str,
                     manifest: str, move: dict) -> dict:
    quiet, hostile = [await console(base, code, cookie) for code in codes]
    try:
        await apply(quiet, a.SLEEPER)
        await apply(hostile, manifest)
        probe = Probe(quiet, pid, {"type": "classroom.sync"}, "classroom.snapshot")
        probe.start()
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        await hostile.send(json.dumps(move))
        answer = await answer_of(hostile, move)
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)
        figures = await probe.stop()
    finally:
        await quiet.close()
        await hostile.close()
    return {"name": name, "answer": answer, "seconds": seconds, **figures}


async def main_async(base: str, codes: tuple[str, str], cookie: str, pid: int,
                     only: str | None) -> None:
    report()
    for name, (manifest, move) in ATTACKS.items():
        if only and only not in name:
            continue
        report(await run_attack(base, codes, cookie, pid, name, manifest, move))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the attacks whose name contains this")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="podlab-bench-classroom-hostile-"))
    print(f"server log: {tmp}/daphne-*.log")
    proc, base = start_daphne(tmp)
    try:
        make_instructor(server_env(tmp, ""), "bench", "bench-password-1")
        teacher = Browser(base)
        teacher.login("bench", "bench-password-1")
        codes = (teacher.open_room("quiet"), teacher.open_room("hostile"))
        asyncio.run(main_async(base, codes, teacher.cookie_header(), proc.pid, args.only))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
