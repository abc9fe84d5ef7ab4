"""Two real Daphne processes sharing Redis and a database: the instructor on one, students
on the other; every student follows, answers count once, and when the students' process is
killed they reconnect to the other and the room goes on. An instructor's console moves from
one process to the other (a second laptop, then a crash and a reconnect) without students
ever being told the instructor left."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid

import pytest
import redis

from tests.browser.conftest import start_daphne

from .helpers import CRASHER, SLEEPER
from .live import Browser, connect, make_instructor, receive_type, server_env

REDIS_URL = "redis://127.0.0.1:6379/11"
STUDENTS = 6


def redis_up() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False
    return True


pytestmark = pytest.mark.skipif(not redis_up(), reason="needs Redis on 127.0.0.1:6379")


@pytest.fixture
def two_servers(tmp_path):
    # Pub/sub ignores Redis database numbers: a prefix of this run's own keeps its channels
    # apart from every other run on the same Redis (nothing is flushed).
    env = {"REDIS_URL": REDIS_URL,
           "PODLAB_CHANNEL_PREFIX": f"test-two-processes-{uuid.uuid4().hex[:10]}."}
    procs = []
    try:
        for _ in range(2):
            procs.append(start_daphne(tmp_path, extra_env=env))
        yield tmp_path, procs
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_a_room_across_two_processes(two_servers):
    tmp_path, ((proc_a, base_a), (proc_b, base_b)) = two_servers
    env = server_env(tmp_path, REDIS_URL)
    make_instructor(env, "teach", "pw-two-procs")
    teacher = Browser(base_a)
    teacher.login("teach", "pw-two-procs")
    code = teacher.open_room()
    students = []
    for i in range(STUDENTS):
        lang = "zh-hans" if i % 2 else "en"
        browser = Browser(base_b)
        browser.join(code, f"s{i}", lang)
        students.append((browser, lang))
    asyncio.run(_scenario(code, teacher, students, proc_b, base_a, base_b))


async def _scenario(code, teacher, students, proc_b, base_a, base_b):
    t = await connect(base_a, f"/ws/classroom/{code}/teach/", teacher.cookie_header())
    await receive_type(t, "classroom.question")
    socks = []
    for browser, lang in students:
        ws = await connect(base_b, f"/ws/classroom/{code}/", browser.cookie_header(), lang)
        await receive_type(ws, "classroom.question")
        socks.append(ws)
    await t.send('{"type":"classroom.apply","manifest":' + json.dumps(CRASHER)
                 + "}")
    snapshot = await receive_type(t, "classroom.snapshot")
    for ws in socks:
        got = await receive_type(ws, "classroom.snapshot")
        assert got["seq"] == snapshot["seq"] and got["pods"][0]["metadata"]["name"] == "crasher"
    for _ in range(3):
        await t.send('{"type":"classroom.step"}')
        mine = await receive_type(t, "classroom.frame")
        for ws in socks:
            frame = await receive_type(ws, "classroom.frame")
            assert (frame["seq"], frame["t"]) == (mine["seq"], mine["t"])
            assert frame["views"]["get"] == mine["views"]["get"]

    await t.send('{"type":"classroom.predict","seconds":30}')
    question = (await receive_type(t, "classroom.question"))["question"]
    right = question["correct"][0]
    for ws in socks:
        await receive_type(ws, "classroom.question")
        for _ in range(2):  # a resend is still one answer
            await ws.send(json.dumps(
                {"type": "classroom.answer", "question": question["id"], "round": 1,
                 "answer": right}))
            await receive_type(ws, "classroom.answered")
    tally = await receive_type(t, "classroom.tally", where=lambda m: m["answered"] == STUDENTS,
                               timeout=15)
    assert tally["counts"][right] == STUDENTS and sum(tally["counts"].values()) == STUDENTS

    # The students' process dies; they come back through the instructor's.
    proc_b.kill()
    proc_b.wait(timeout=10)
    for ws in socks:
        await ws.close()
    await t.send('{"type":"classroom.step"}')
    moved = await receive_type(t, "classroom.frame")
    again = []
    for browser, lang in students:
        ws = await connect(base_a, f"/ws/classroom/{code}/", browser.cookie_header(), lang)
        hello = await receive_type(ws, "classroom.hello")
        assert hello["name"].startswith("s")
        snap = await receive_type(ws, "classroom.snapshot")
        assert (snap["seq"], snap["t"]) == (moved["seq"], moved["t"])
        q = (await receive_type(ws, "classroom.question"))["question"]
        assert q["your_answer"] == right
        again.append(ws)
    await t.send('{"type":"classroom.step"}')
    mine = await receive_type(t, "classroom.frame")
    for ws in again:
        assert (await receive_type(ws, "classroom.frame"))["seq"] == mine["seq"]
    await t.send('{"type":"classroom.reveal"}')
    for ws in again:
        shown = await receive_type(ws, "classroom.question",
                                   where=lambda m: m["question"]["state"] == "revealed")
        assert shown["question"]["score"] == 1
    for ws in [*again, t]:
        await ws.close()


# --- an instructor's console moving between processes ---------------------------------------

class Listener:
    """Reads a student socket in the background: presence messages and frames."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.presence: list[bool] = []
        self.frames: list[tuple[int, float]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            message = json.loads(text)
            if message["type"] == "classroom.presence":
                self.presence.append(message["instructor"])
            elif message["type"] in ("classroom.frame", "classroom.snapshot"):
                self.frames.append((message["seq"], message.get("t", 0)))

    async def frame_after(self, seq: int, timeout: float = 20) -> tuple[int, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            later = [f for f in self.frames if f[0] > seq]
            if later:
                return later[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no frame after seq {seq}: {self.frames[-3:]}")


async def _quiet(ws, wanted: str, seconds: float) -> list[dict]:
    """Every message of type ``wanted`` that ``ws`` receives within ``seconds``."""
    seen = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if message["type"] == wanted:
            seen.append(message)
    return seen


def test_a_console_moves_between_processes(two_servers):
    tmp_path, ((proc_a, base_a), (proc_b, base_b)) = two_servers
    env = server_env(tmp_path, REDIS_URL)
    make_instructor(env, "teach", "pw-takeover")
    teacher = Browser(base_a)
    teacher.login("teach", "pw-takeover")
    code = teacher.open_room()
    students = []
    for i, lang in enumerate(("en", "zh-hans", "en")):
        browser = Browser(base_a)
        browser.join(code, f"s{i}", lang)
        students.append((browser, lang))
    asyncio.run(_takeover(code, teacher, students, proc_b, base_a, base_b))


async def _takeover(code, teacher, students, proc_b, base_a, base_b):
    cookie = teacher.cookie_header()
    first = await connect(base_a, f"/ws/classroom/{code}/teach/", cookie)
    await receive_type(first, "classroom.question")
    listeners = []
    for browser, lang in students[:2]:
        ws = await connect(base_a, f"/ws/classroom/{code}/", browser.cookie_header(), lang)
        hello = await receive_type(ws, "classroom.hello")
        assert hello["instructor"] is True
        listeners.append(Listener(ws))
    await first.send(json.dumps({"type": "classroom.apply", "manifest": SLEEPER}))
    await receive_type(first, "classroom.snapshot")
    await first.send('{"type":"classroom.play","speed":10}')
    playing = await receive_type(first, "classroom.frame", where=lambda m: m["playing"])

    # A second console on the other process takes the clock over ...
    second = await connect(base_b, f"/ws/classroom/{code}/teach/", cookie)
    snap = await receive_type(second, "classroom.snapshot", timeout=20)
    assert snap["seq"] >= playing["seq"] and snap["playing"] is True
    # ... so the first one's clock stops, across processes: it sends no more frames.
    await asyncio.sleep(1.0)
    assert await _quiet(first, "classroom.frame", 2.0) == []
    taken = await receive_type(second, "classroom.frame", timeout=20)
    for listener in listeners:
        assert (await listener.frame_after(snap["seq"]))[0] >= taken["seq"] - 1
    # The first console closes: nobody is told the instructor left, and a student who
    # joins now (on the first process) is told the instructor is here.
    told_before = [len(listener.presence) for listener in listeners]
    await first.close()
    late_browser, late_lang = students[2]
    late = await connect(base_a, f"/ws/classroom/{code}/", late_browser.cookie_header(),
                         late_lang)
    assert (await receive_type(late, "classroom.hello"))["instructor"] is True
    await asyncio.sleep(2.0)
    for listener, before in zip(listeners, told_before, strict=True):
        assert len(listener.presence) > before  # the close was announced ...
        assert all(listener.presence)  # ... as "still here"
    # The second console drives: a pause reaches every student, from the other process.
    await second.send('{"type":"classroom.pause"}')
    paused = await receive_type(second, "classroom.frame", where=lambda m: not m["playing"])
    for listener in listeners:
        seq, t = await listener.frame_after(paused["seq"] - 1)
        assert (seq, t) == (paused["seq"], paused["t"])

    # The second console's process crashes; the instructor reconnects to the first one.
    proc_b.kill()
    proc_b.wait(timeout=10)
    third = await connect(base_a, f"/ws/classroom/{code}/teach/", cookie)
    resumed = await receive_type(third, "classroom.snapshot", timeout=20)
    assert (resumed["seq"], resumed["t"], resumed["playing"]) == (
        paused["seq"], paused["t"], False)
    await third.send('{"type":"classroom.step"}')
    stepped = await receive_type(third, "classroom.frame")
    assert stepped["seq"] == paused["seq"] + 1 and stepped["t"] > paused["t"]
    for listener in listeners:
        assert (await listener.frame_after(paused["seq"]))[0] == stepped["seq"]
    assert all(all(listener.presence) for listener in listeners)
    for listener in listeners:
        listener.task.cancel()
    for ws in [*(listener.ws for listener in listeners), late, third]:
        await ws.close()
