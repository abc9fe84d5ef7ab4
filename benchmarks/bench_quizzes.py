"""Quiz answering under load (a script, not a test): prints figures, exits 1 if a check fails.

Starts a real Daphne process on PostgreSQL, then runs simulated learners at once (asyncio,
raw HTTP/1.1 over asyncio streams, keep-alive). Each learner opens a quiz page (its own CSRF
cookie and token), answers questions from every lesson's bank (its first answer gives it its
own session cookie), thinks a moment between answers, and resends some answers with the same
submission id: some after the response came back (a retry), some while the first copy is still
in flight (a double submit, on a second connection).

Afterwards the database must hold exactly one ``Attempt`` per submission id sent, each graded
as this process grades it, all of one learner's answers under one ``Learner``; the
``QuestionStat`` counters must have grown by exactly the unique answers; every missed question
must be in its learner's review queue. Latency is measured per answer request.

Run: ``.venv/bin/python benchmarks/bench_quizzes.py [--learners 200] [--answers 10]
[--think 1.0] [--processes 2]``. The server is one Daphne process per core (two by default)
accepting on one socket, as the README's production set-up runs it. ``DATABASE_URL``
defaults to postgres://postgres@127.0.0.1:5432/test. Target:
p99 under 100 ms. ``--think 0`` sends answers back to back, which measures capacity (latency
is then mostly queueing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Sum  # noqa: E402

from podlab.quizzes.bank import Question, banks  # noqa: E402
from podlab.quizzes.grading import grade, normalise_answer  # noqa: E402
from podlab.quizzes.models import Attempt, QuestionStat, ReviewItem  # noqa: E402
from podlab.quizzes.predict import engine_outcome  # noqa: E402

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Servers:
    """One or more Daphne processes accepting on one listening socket (``daphne --fd``)."""

    def __init__(self, procs: list[subprocess.Popen]) -> None:
        self.procs = procs

    def terminate(self) -> None:
        for proc in self.procs:
            proc.terminate()

    def wait(self, timeout: float) -> None:
        for proc in self.procs:
            proc.wait(timeout=timeout)

    def kill(self) -> None:
        for proc in self.procs:
            proc.kill()


def start_daphne(log_dir: Path, processes: int = 1) -> tuple[Servers, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    log = open(log_dir / "daphne.log", "wb")  # noqa: SIM115 - closed with the process
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()),
             "podlab.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
        for _ in range(processes)
    ]
    listener.close()  # the servers hold their own copies
    servers = Servers(procs)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(proc.poll() is not None for proc in procs):
            servers.kill()
            raise SystemExit((log_dir / "daphne.log").read_text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/en/", timeout=2):  # noqa: S310
                return servers, port
        except OSError:
            time.sleep(0.2)
    servers.kill()
    raise SystemExit("Daphne did not start in 30 s")


# --- a small HTTP/1.1 client ----------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def cookies(self) -> dict[str, str]:
        out = {}
        for name, value in self.headers:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                out[key.strip()] = val.strip()
        return out


class Connection:
    """One keep-alive connection; reconnects when the server closed it between requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
            self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> Response:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                return await self._exchange(method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                # A keep-alive connection the server had closed. Resending is safe here: an
                # answer carries its submission id, so the server counts it at most once.
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, path: str, headers: dict[str, str],
                        body: bytes) -> Response:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        response_headers: list[tuple[str, str]] = []
        while True:
            line = (await self.reader.readuntil(b"\r\n")).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            response_headers.append((name.strip().lower(), value.strip()))
        found = dict(response_headers)
        if found.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(chunks)
        else:
            payload = await self.reader.readexactly(int(found.get("content-length", "0")))
        if found.get("connection", "").lower() == "close":
            await self.close()
        return Response(status=status, headers=response_headers, body=payload)


# --- learners -------------------------------------------------------------------------------

@dataclass
class Sent:
    learner: int
    question: str
    correct: bool


@dataclass
class Totals:
    latencies: list[float] = field(default_factory=list)        # first copies, seconds
    resend_latencies: list[float] = field(default_factory=list)  # resends and double submits
    sent: dict[uuid.UUID, Sent] = field(default_factory=dict)
    missed: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)
    duplicates_seen: int = 0
    requests: int = 0


def random_answer(question: Question, rng: random.Random) -> tuple[list[tuple[str, str]], Any]:
    """Form fields for a random (right or wrong) answer, and the raw answer to grade locally."""
    tokens = [question.token(c.id) for c in question.choices]
    if question.type in ("single", "predict"):
        token = rng.choice(tokens)
        return [("choice", token)], token
    if question.type == "multiple":
        picked = rng.sample(tokens, rng.randint(1, len(tokens)))
        return [("choice", t) for t in picked], picked
    if question.type == "order":
        order = tokens[:]
        if rng.random() < 0.5:
            order = [question.token(c.id) for c in question.choices]  # the right order
        else:
            rng.shuffle(order)
        return [(f"pos-{t}", str(order.index(t) + 1)) for t in tokens], order
    pool = list(question.answers) + [w.answer for w in question.wrong_answers] + ["no idea"]
    text = rng.choice(pool)
    return [("text", text)], text


async def learner(index: int, port: int, questions: list[Question], args: argparse.Namespace,
                  totals: Totals, start: asyncio.Event, slots: asyncio.Semaphore) -> None:
    rng = random.Random(args.seed * 100_003 + index)
    plan = rng.sample(questions, args.answers)
    main, spare = Connection(port), Connection(port)
    cookies: dict[str, str] = {}

    def headers(extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        return {**out, **(extra or {})}

    await start.wait()
    # Learners arrive over one think time rather than all in the same millisecond.
    await asyncio.sleep(rng.uniform(0, args.think))
    try:
        async with slots:
            page = await main.request("GET", f"/en/quizzes/{plan[0].lesson_slug}/", headers())
        totals.requests += 1
        cookies.update(page.cookies())
        match = CSRF_RE.search(page.body.decode())
        if page.status != 200 or match is None or "csrftoken" not in cookies:
            totals.errors.append(f"learner {index}: quiz page {page.status} without a token")
            return
        csrf = match.group(1)

        async def post(conn: Connection, question: Question, fields: list[tuple[str, str]],
                       sid: uuid.UUID) -> tuple[Response, float]:
            body = urllib.parse.urlencode(
                [("csrfmiddlewaretoken", csrf), ("submission_id", str(sid)), *fields]).encode()
            began = time.perf_counter()  # waiting for a slot counts as latency
            async with slots:
                response = await conn.request(
                    "POST", f"/en/quizzes/{question.lesson_slug}/{question.id}/answer/",
                    headers({"Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/json"}), body)
            totals.requests += 1
            return response, time.perf_counter() - began

        def verdict(response: Response, question: Question) -> dict[str, Any] | None:
            if response.status != 200:
                totals.errors.append(f"learner {index}: {question.key}: HTTP {response.status}"
                                     f" {response.body[:200]!r}")
                return None
            return json.loads(response.body)

        for number, question in enumerate(plan):
            if args.think > 0:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think)
            fields, raw = random_answer(question, rng)
            expected = grade(question=question,
                             answer=normalise_answer(question=question, raw=raw)).correct
            sid = uuid.uuid4()
            totals.sent[sid] = Sent(learner=index, question=question.key, correct=expected)
            if not expected:
                totals.missed[index].add(question.key)
            roll = rng.random()
            # The first answer makes the learner's session, so it is never sent twice at once.
            if number > 0 and roll < args.double_submit:
                (first, t1), (second, t2) = await asyncio.gather(
                    post(main, question, fields, sid), post(spare, question, fields, sid))
                results = [verdict(first, question), verdict(second, question)]
                totals.latencies.append(t1)
                totals.resend_latencies.append(t2)
                if None in results:
                    continue
                flags = sorted(bool(r["duplicate"]) for r in results)  # type: ignore[index]
                if flags != [False, True]:
                    totals.errors.append(f"learner {index}: double submit counted {flags}")
                totals.duplicates_seen += 1
            else:
                response, took = await post(main, question, fields, sid)
                totals.latencies.append(took)
                cookies.update(response.cookies())
                results = [verdict(response, question)]
                if results[0] is None:
                    continue
                if results[0]["duplicate"]:
                    totals.errors.append(f"learner {index}: a first answer came back duplicate")
                if roll < args.double_submit + args.resend:
                    again, took = await post(main, question, fields, sid)
                    totals.resend_latencies.append(took)
                    repeat = verdict(again, question)
                    if repeat is None:
                        continue
                    if not repeat["duplicate"]:
                        totals.errors.append(f"learner {index}: a resend was counted again")
                    totals.duplicates_seen += 1
                    results.append(repeat)
            for result in results:
                if result is not None and result["correct"] != expected:
                    totals.errors.append(f"learner {index}: {question.key}: server says "
                                         f"{result['correct']}, expected {expected}")
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        totals.errors.append(f"learner {index}: {exc!r}")
    finally:
        await main.close()
        await spare.close()


# --- checks and figures ---------------------------------------------------------------------

def stat_totals() -> dict[str, tuple[int, int]]:
    return {f"{s.lesson_slug}/{s.question_id}": (s.attempts, s.correct)
            for s in QuestionStat.objects.all()}


def check_database(totals: Totals, before: dict[str, tuple[int, int]]) -> list[str]:
    problems: list[str] = []
    rows = list(Attempt.objects.filter(submission_id__in=list(totals.sent))
                .values_list("submission_id", "learner_id", "lesson_slug", "question_id",
                             "correct"))
    per_sid = Counter(row[0] for row in rows)
    lost = [sid for sid in totals.sent if per_sid[sid] == 0]
    twice = [sid for sid, n in per_sid.items() if n > 1]
    if lost:
        problems.append(f"{len(lost)} answers lost")
    if twice:
        problems.append(f"{len(twice)} answers counted more than once")
    learners: dict[int, set[Any]] = defaultdict(set)
    for sid, learner_id, slug, qid, correct in rows:
        sent = totals.sent[sid]
        learners[sent.learner].add(learner_id)
        if f"{slug}/{qid}" != sent.question or correct != sent.correct:
            problems.append(f"{sid}: stored {slug}/{qid} correct={correct}, sent {sent}")
    split = [i for i, ids in learners.items() if len(ids) != 1]
    if split:
        problems.append(f"{len(split)} learners' answers are spread over several Learner rows")
    owners = [next(iter(ids)) for ids in learners.values() if len(ids) == 1]
    if len(set(owners)) != len(owners):
        problems.append("two simulated learners share one Learner row")
    after = stat_totals()
    grown: Counter[str] = Counter()
    grown_right: Counter[str] = Counter()
    for sent in totals.sent.values():
        grown[sent.question] += 1
        grown_right[sent.question] += sent.correct
    for key in set(grown) | set(after):
        was = before.get(key, (0, 0))
        now = after.get(key, (0, 0))
        if (now[0] - was[0], now[1] - was[1]) != (grown[key], grown_right[key]):
            problems.append(f"QuestionStat {key}: grew by {now[0] - was[0]}/{now[1] - was[1]}, "
                            f"expected {grown[key]}/{grown_right[key]} (is anything else "
                            "answering on this database?)")
    for index, ids in learners.items():
        if len(ids) != 1:
            continue
        queued = {f"{s}/{q}" for s, q in ReviewItem.objects.filter(
            learner_id=next(iter(ids))).values_list("lesson_slug", "question_id")}
        if queued != totals.missed[index]:
            problems.append(f"learner {index}: review queue {sorted(queued)}, "
                            f"missed {sorted(totals.missed[index])}")
    return problems


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none"
    ms = [v * 1000 for v in values]
    return (f"{name}: n={len(ms)}  p50 {percentile(ms, 50):.1f} ms  p95 {percentile(ms, 95):.1f} "
            f"ms  p99 {percentile(ms, 99):.1f} ms  max {max(ms):.1f} ms  "
            f"mean {statistics.fmean(ms):.1f} ms")


async def warm_up(port: int, questions: list[Question]) -> None:
    """Answer every question once, unmeasured, so the server's engine cache and imports are
    warm: predict questions run the simulated node the first time they are graded."""
    conn = Connection(port)
    page = await conn.request("GET", f"/en/quizzes/{questions[0].lesson_slug}/", {})
    cookies = page.cookies()
    match = CSRF_RE.search(page.body.decode())
    assert match is not None, page.status
    rng = random.Random(0)
    for question in questions:
        fields, _ = random_answer(question, rng)
        body = urllib.parse.urlencode([("csrfmiddlewaretoken", match.group(1)),
                                       ("submission_id", str(uuid.uuid4())), *fields]).encode()
        response = await conn.request(
            "POST", f"/en/quizzes/{question.lesson_slug}/{question.id}/answer/",
            {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
             "Content-Type": "application/x-www-form-urlencoded",
             "Accept": "application/json"}, body)
        cookies.update(response.cookies())
        if response.status != 200:
            raise SystemExit(f"warm-up: {question.key}: HTTP {response.status} "
                             f"{response.body[:300]!r}")
    await conn.close()


async def run(args: argparse.Namespace, port: int, questions: list[Question]) -> tuple[Totals,
                                                                                   float]:
    totals = Totals()
    start = asyncio.Event()
    slots = asyncio.Semaphore(args.max_in_flight)
    tasks = [asyncio.create_task(learner(i, port, questions, args, totals, start, slots))
             for i in range(args.learners)]
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return totals, time.perf_counter() - began


def report(args: argparse.Namespace, totals: Totals, elapsed: float,
           before: dict[str, tuple[int, int]]) -> int:
    answers = len(totals.latencies) + len(totals.resend_latencies)
    print(f"{args.learners} learners x {args.answers} answers, think {args.think:.2f} s "
          f"(x0.5-1.5), {args.resend:.0%} resent, {args.double_submit:.0%} double-submitted, "
          f"at most {args.max_in_flight} requests in flight, "
          f"on {os.environ['DATABASE_URL'].split('@')[-1]}")
    print(describe("answers (first copies)", totals.latencies))
    print(describe("resends and second copies", totals.resend_latencies))
    print(describe("all answer requests", totals.latencies + totals.resend_latencies))
    print(f"throughput: {answers / elapsed:.0f} answer requests/s, {totals.requests / elapsed:.0f}"
          f" requests/s in all ({totals.requests} requests in {elapsed:.1f} s)")
    problems = totals.errors + check_database(totals, before)
    print(f"database: {len(totals.sent)} unique answers sent, {totals.duplicates_seen} sent "
          f"twice, {Attempt.objects.filter(submission_id__in=list(totals.sent)).count()} "
          f"stored; stats total {QuestionStat.objects.aggregate(n=Sum('attempts'))['n']}")
    every = totals.latencies + totals.resend_latencies
    p99 = percentile(every, 99) * 1000 if every else float("inf")
    print(f"target p99 < 100 ms: {'met' if p99 < 100 else 'MISSED'} ({p99:.1f} ms)")
    for problem in problems[:20]:
        print("PROBLEM:", problem)
    if len(problems) > 20:
        print(f"... and {len(problems) - 20} more problems")
    print("checks: " + ("all passed" if not problems else f"{len(problems)} FAILED"))
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--answers", type=int, default=10, help="questions per learner")
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds between a learner's answers (0: back to back)")
    parser.add_argument("--resend", type=float, default=0.15,
                        help="share of answers resent after their response")
    parser.add_argument("--double-submit", type=float, default=0.10,
                        help="share of answers sent twice at once")
    parser.add_argument("--max-in-flight", type=int, default=50,
                        help="requests the learners have in flight at most, together: Daphne "
                        "runs each request in its own thread with its own database connection "
                        "(CONN_MAX_AGE=0, no pool), and PostgreSQL allows 100 connections")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2,
                        help="Daphne processes sharing one listening socket (daphne --fd): "
                             "one per core, as in production")
    args = parser.parse_args()
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        print("note: DATABASE_URL is not PostgreSQL; figures will not be comparable")
    questions = [q for bank in banks().values() for q in bank.questions]
    for question in questions:  # run the engine here once, so grading below is a cache hit
        if question.is_predict:
            engine_outcome(spec=question.predict)
    with tempfile.TemporaryDirectory(prefix="bench-quizzes-") as tmp:
        proc, port = start_daphne(Path(tmp), processes=args.processes)
        try:
            asyncio.run(warm_up(port, questions))
            before = stat_totals()
            totals, elapsed = asyncio.run(run(args, port, questions))
            status = report(args, totals, elapsed, before)
            if status:
                errors = [line for line in (Path(tmp) / "daphne.log").read_text(
                    errors="replace").splitlines() if re.match(r"^\w*(Error|Exception)\b", line)]
                for line, count in Counter(errors).most_common(5):
                    print(f"server log: {count} x {line}")
                if os.environ.get("BENCH_KEEP_LOG"):
                    shutil.copy(Path(tmp) / "daphne.log", os.environ["BENCH_KEEP_LOG"])
            return status
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
