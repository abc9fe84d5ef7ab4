"""Two real Daphne processes sharing Redis and a database: the instructor on one, students
on the other; every student follows, answers count once, and when the students' process is
killed they reconnect to the other and the room goes on."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
import redis

from tests.browser.conftest import start_daphne

from .helpers import CRASHER
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
    redis.Redis.from_url(REDIS_URL).flushdb()
    procs = []
    try:
        for _ in range(2):
            procs.append(start_daphne(tmp_path, extra_env={"REDIS_URL": REDIS_URL}))
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
