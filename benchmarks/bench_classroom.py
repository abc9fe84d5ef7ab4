"""One classroom, 2,000 simulated students across two Daphne processes sharing Redis.

    .venv/bin/python benchmarks/bench_classroom.py [--students 2000] [--steps 30]
        [--redis redis://127.0.0.1:6379/12] [--database postgres://...] [--timeout 900]
        [--profile DIR]

The instructor and the projector are on process A; students alternate between A and B. For
every step the instructor sends, the time until each student socket receives the frame with
that step's sequence number is one sample (instructor action -> student frame). Then a live predict
question is pushed and every student answers; the instructor's tally must count each answer
once, none lost; the projector must show the same count. Needs Redis on 127.0.0.1:6379 (the
run's channels and cache keys carry a prefix of their own, so nothing is flushed) and
PostgreSQL. The whole run stops after ``--timeout`` seconds. With ``--profile DIR`` (and
py-spy on PATH) both server processes are sampled during the steps; the collapsed stacks
are written to DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import websockets  # noqa: E402

from tests.browser.conftest import start_daphne  # noqa: E402
from tests.classroom.live import Browser, connect, make_instructor, receive_type, server_env  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
SEQ = re.compile(r'"seq":(\d+)')
CRASHER = """\
apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo bye; exit 1"]
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Student:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: dict[int, float] = {}
        self.answered = asyncio.Event()
        self.question: dict | None = None
        self.question_seen = asyncio.Event()

    async def listen(self) -> None:
        async for text in self.ws:
            now = time.perf_counter()
            head = text[:60]
            if '"classroom.frame"' in head or '"classroom.snapshot"' in head:
                match = SEQ.search(head)
                if match:
                    self.frames[int(match.group(1))] = now
            elif '"classroom.question"' in head:
                self.question = json.loads(text)["question"]
                self.question_seen.set()
            elif '"classroom.answered"' in head:
                self.answered.set()


async def run(args: argparse.Namespace, tmp: Path) -> None:
    redis_url = args.redis
    redis.Redis.from_url(redis_url).ping()
    env = server_env(tmp, redis_url)
    # Every student joins from 127.0.0.1: lift the per-room and per-address seat limits, and
    # keep this run's channels apart from anything else on the same Redis.
    extra = {"REDIS_URL": redis_url, "PODLAB_CLASSROOM_SEATS": str(args.students + 10),
             "PODLAB_CLASSROOM_SEATS_PER_ADDRESS": str(args.students + 10),
             "PODLAB_CLASSROOM_CONNECTIONS_PER_ADDRESS": str(args.students + 10),
             "PODLAB_CHANNEL_PREFIX": f"bench-classroom-{tmp.name}"}
    (proc_a, base_a) = start_daphne(tmp, extra_env=extra)
    (proc_b, base_b) = start_daphne(tmp, extra_env=extra)
    try:
        make_instructor(env, "bench", "bench-password-1")
        teacher = Browser(base_a)
        teacher.login("bench", "bench-password-1")
        code = teacher.open_room()
        started = time.perf_counter()

        def join(i: int) -> tuple[Browser, str, str]:
            base = base_a if i % 2 == 0 else base_b
            lang = "zh-hans" if i % 3 == 0 else "en"
            browser = Browser(base)
            browser.join(code, f"student-{i}", lang)
            return browser, base, lang

        with ThreadPoolExecutor(16) as pool:
            joined = list(pool.map(join, range(args.students)))
        print(f"joined {len(joined)} students over HTTP in {time.perf_counter() - started:.1f} s")

        t = await connect(base_a, f"/ws/classroom/{code}/teach/", teacher.cookie_header())
        await receive_type(t, "classroom.question")
        screen = Student(await connect(base_a, f"/ws/classroom/{code}/project/",
                                       teacher.cookie_header()))
        screen_tallies: list[dict] = []
        started = time.perf_counter()
        students: list[Student] = []
        batch = args.connect_batch
        retried = 0

        async def student_socket(browser: Browser, base: str, lang: str):
            # Like the student page, a socket whose handshake was dropped (Daphne gives the
            # application 5 s on a loaded machine) tries again.
            nonlocal retried
            for attempt in range(5):
                try:
                    return await connect(base, f"/ws/classroom/{code}/",
                                         browser.cookie_header(), lang)
                except (OSError, websockets.exceptions.InvalidMessage):
                    if attempt == 4:
                        raise
                    retried += 1
                    await asyncio.sleep(1 + attempt)
            raise AssertionError("unreachable")

        for chunk in range(0, len(joined), batch):
            sockets = await asyncio.gather(*(
                student_socket(browser, base, lang)
                for browser, base, lang in joined[chunk:chunk + batch]))
            students.extend(Student(ws) for ws in sockets)
        listeners = [asyncio.create_task(s.listen()) for s in students]

        async def watch_screen() -> None:
            async for text in screen.ws:
                if '"classroom.tally"' in text[:40]:
                    screen_tallies.append(json.loads(text))
                elif '"classroom.frame"' in text[:60] or '"classroom.snapshot"' in text[:60]:
                    match = SEQ.search(text[:60])
                    if match:
                        screen.frames[int(match.group(1))] = time.perf_counter()

        listeners.append(asyncio.create_task(watch_screen()))
        await asyncio.gather(*(s.question_seen.wait() for s in students))
        print(f"connected {len(students)} sockets in {time.perf_counter() - started:.1f} s "
              f"({retried} handshakes retried)")

        await t.send(json.dumps({"type": "classroom.apply", "manifest": CRASHER}))
        await receive_type(t, "classroom.snapshot")
        await asyncio.sleep(2)
        samplers = start_profilers(args.profile, {"a": proc_a, "b": proc_b})
        samples: list[float] = []
        missing = 0
        for _ in range(args.steps):
            sent = time.perf_counter()
            await t.send('{"type":"classroom.step"}')
            seq = (await receive_type(t, "classroom.frame"))["seq"]
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and not all(
                    any(k >= seq for k in s.frames) for s in students):
                await asyncio.sleep(0.01)
            for s in students:
                got = s.frames.get(seq) or min((v for k, v in s.frames.items() if k > seq),
                                               default=None)
                if got is None:
                    missing += 1
                else:
                    samples.append(got - sent)
            await asyncio.sleep(0.2)
        stop_profilers(samplers)
        print(f"projector received {len(screen.frames)} frames")
        print(f"instructor step -> student frame, {len(samples)} samples "
              f"({args.steps} steps x {len(students)} students), {missing} not received:")
        print(f"  p50 {1000 * statistics.median(samples):.0f} ms   "
              f"p99 {1000 * percentile(samples, 0.99):.0f} ms   "
              f"max {1000 * max(samples):.0f} ms")

        for s in students:
            s.question_seen.clear()
        await t.send('{"type":"classroom.predict","seconds":30}')
        question = (await receive_type(t, "classroom.question"))["question"]
        await asyncio.gather(*(s.question_seen.wait() for s in students))
        started = time.perf_counter()
        for s in students:
            token = question["choices"][hash(id(s)) % len(question["choices"])]["token"]
            await s.ws.send(json.dumps({"type": "classroom.answer", "question": question["id"],
                                        "round": 1, "answer": token}))
        await asyncio.wait_for(asyncio.gather(*(s.answered.wait() for s in students)), 120)
        acked = time.perf_counter() - started
        tally = await receive_type(t, "classroom.tally",
                                   where=lambda m: m["answered"] >= len(students), timeout=60)
        counted = time.perf_counter() - started
        total = sum(tally["counts"].values())
        print(f"answers: {len(students)} sent, all acknowledged in {acked:.1f} s, "
              f"tally shows {tally['answered']} answered / {total} votes after {counted:.1f} s, "
              f"lost {len(students) - tally['answered']}")
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and not any(
                m["answered"] >= len(students) for m in screen_tallies):
            await asyncio.sleep(0.05)
        shown = max((m["answered"] for m in screen_tallies), default=0)
        named = any("names" in m for m in screen_tallies)
        print(f"projector: tally shows {shown} answered, names sent to it: {named}")
        for task in listeners:
            task.cancel()
        await t.close()
        await asyncio.gather(*(s.ws.close() for s in [*students, screen]),
                             return_exceptions=True)
    finally:
        for proc in (proc_a, proc_b):
            proc.terminate()
            proc.wait(timeout=20)


def start_profilers(folder: str | None, procs: dict) -> list:
    """py-spy on each server process while the steps run (collapsed stacks, one file each)."""
    if not folder:
        return []
    import shutil
    import subprocess

    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy on PATH")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([spy, "record", "--nonblocking", "--rate", "200", "--format", "raw",
                              "-o", str(Path(folder) / f"daphne-{name}.txt"),
                              "-p", str(proc.pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, proc in procs.items()]


def stop_profilers(samplers: list) -> None:
    import signal

    for sampler in samplers:
        sampler.send_signal(signal.SIGINT)
    for sampler in samplers:
        sampler.wait(timeout=60)


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's PostgreSQL database (SQLite cannot take 2,000 writers)."""
    import os

    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--redis", default=REDIS_URL, help="a Redis URL; its database is flushed")
    parser.add_argument("--timeout", type=float, default=900, help="stop after this many seconds")
    parser.add_argument("--connect-batch", type=int, default=100,
                        help="student sockets opened at once (a busy machine needs fewer: "
                             "Daphne drops a handshake the application has not answered in 5 s)")
    parser.add_argument("--profile", default=None,
                        help="a folder for py-spy profiles of both servers during the steps")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/podlab_bench",
                        help="a PostgreSQL URL; the database is dropped and created")
    args = parser.parse_args()
    fresh_database(args.database)
    tmp = Path(tempfile.mkdtemp(prefix="podlab-bench-classroom-"))
    print(f"server logs: {tmp}/daphne-*.log")
    asyncio.run(asyncio.wait_for(run(args, tmp), args.timeout))


if __name__ == "__main__":
    main()
