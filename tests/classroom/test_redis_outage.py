"""The room survives losing Redis (the channel layer between processes): no call hangs, the
instructor gets no internal error, students are told, and when Redis is back every socket
catches up from the database by itself, with nothing to press.

Runs against a Redis server of its own on a free loopback port, killed and restarted."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from channels.layers import channel_layers

from podlab.classroom import consumers, presence
from podlab.classroom.models import Connection

from .helpers import SLEEPER, db, make_seat, open_socket, receive_type, seat_session
from .test_consumers import apply, student_socket, teacher_socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    def __init__(self, tmp_path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_layer(tmp_path, settings, monkeypatch):
    server = OwnRedis(tmp_path)
    server.start()
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [f"redis://127.0.0.1:{server.port}/0"]}}}
    settings.CHANNEL_LAYER_TIMEOUT = 1.0
    monkeypatch.setattr(presence, "CHECK_SECONDS", 0.5)
    monkeypatch.setattr(consumers, "RECOVER_SECONDS", 0.5)
    channel_layers.backends.clear()
    try:
        yield server
    finally:
        server.kill()
        channel_layers.backends.clear()


async def receive_types(ws, wanted: set[str], timeout: float = 10) -> dict[str, dict]:
    """The first message of each type in ``wanted``, in whatever order they come."""
    found: dict[str, dict] = {}
    while set(found) != wanted:
        message = await ws.receive_json_from(timeout=timeout)
        if message["type"] in wanted and message["type"] not in found:
            found[message["type"]] = message
    return found


async def test_the_room_goes_on_without_redis_and_catches_up(room, redis_layer):
    teacher = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    await apply(teacher, SLEEPER)
    await receive_type(ann, "classroom.snapshot")
    redis_layer.kill()
    started = time.monotonic()
    await teacher.send_json_to({"type": "classroom.step"})
    got = await receive_types(teacher, {"classroom.frame", "classroom.service"})
    assert got["classroom.service"]["state"] == "degraded"
    assert got["classroom.service"]["message"]
    told = await receive_type(ann, "classroom.service", timeout=10)
    assert told["state"] == "degraded"
    assert time.monotonic() - started < 8  # bounded: no call waited for a TCP timeout
    # The instructor keeps driving; nothing is lost, it is all in the database.
    await teacher.send_json_to({"type": "classroom.step"})
    mine = await receive_type(teacher, "classroom.frame", timeout=10)
    redis_layer.start()
    back = await receive_types(teacher, {"classroom.service", "classroom.snapshot"}, timeout=20)
    assert back["classroom.service"]["state"] == "ok"
    assert back["classroom.snapshot"]["t"] == mine["t"]
    assert (await receive_type(ann, "classroom.service", timeout=20))["state"] == "ok"
    caught_up = await receive_type(ann, "classroom.snapshot", timeout=10,
                                   where=lambda m: m["seq"] >= mine["seq"])
    assert caught_up["t"] == mine["t"]
    # And the live path works again: the next step reaches the student as a frame.
    await teacher.send_json_to({"type": "classroom.step"})
    after = await receive_type(teacher, "classroom.frame", timeout=10)
    got = await receive_type(ann, "classroom.frame", timeout=10,
                             where=lambda m: m["seq"] == after["seq"])
    assert got["t"] == after["t"]
    await ann.disconnect()
    await teacher.disconnect()


async def connect_during_outage(path: str, key: str, lang: str) -> tuple:
    ws = await open_socket(path, key, lang=lang)
    connected, _ = await ws.connect(timeout=10)
    assert connected  # not a failed handshake (HTTP 500) as with Channels' own __call__
    got = await receive_types(ws, {"classroom.service", "classroom.hello",
                                   "classroom.snapshot"})
    return ws, got


async def test_sockets_that_connect_while_redis_is_down_are_told_and_recover(
        room, redis_layer):
    """All three classroom sockets are accepted while Redis is already down, say so in their
    language, and get their channel once Redis is back: the live path then reaches them."""
    redis_layer.kill()
    seat = await db(make_seat)(room, "ann", "zh-hans")
    key = await db(seat_session)(seat)
    started = time.monotonic()
    teacher, t_got = await connect_during_outage(f"/ws/classroom/{room.code}/teach/",
                                                 room.teacher_key, "en")
    ann, a_got = await connect_during_outage(f"/ws/classroom/{room.code}/", key, "zh-hans")
    screen, p_got = await connect_during_outage(f"/ws/classroom/{room.code}/project/",
                                                room.teacher_key, "en")
    assert time.monotonic() - started < 8  # bounded, whatever the OS's TCP timeouts
    for got, role in ((t_got, "instructor"), (a_got, "student"), (p_got, "projector")):
        assert got["classroom.hello"]["role"] == role
        assert got["classroom.service"]["state"] == "degraded"
    assert t_got["classroom.service"]["message"] == consumers.room_error_text("layer_down", "en")
    assert a_got["classroom.service"]["message"] == consumers.room_error_text(
        "layer_down", "zh-hans")
    assert a_got["classroom.service"]["message"] != t_got["classroom.service"]["message"]
    # Presence works from the database meanwhile: three connections, keyed by provisional names.
    rows = await db(lambda: sorted(Connection.objects.values_list("role", "channel")))()
    assert [r for r, _ in rows] == ["instructor", "projector", "student"]
    assert all(c.startswith("provisional.") for _, c in rows)
    # The instructor works on without Redis; nothing is lost.
    mine = await apply(teacher, SLEEPER)
    redis_layer.start()
    for ws in (teacher, ann, screen):
        back = await receive_types(ws, {"classroom.service", "classroom.snapshot"}, timeout=20)
        assert back["classroom.service"]["state"] == "ok"
        # Caught up from the database: the Pod applied during the outage is there.
        assert back["classroom.snapshot"]["seq"] >= mine["seq"]
        assert back["classroom.snapshot"]["manifest"] == mine["manifest"]
    rows = await db(lambda: list(Connection.objects.values_list("channel", flat=True)))()
    assert len(rows) == 3 and not any(c.startswith("provisional.") for c in rows)
    # The live path reaches the sockets that connected during the outage.
    await teacher.send_json_to({"type": "classroom.step"})
    after = await receive_type(teacher, "classroom.frame", timeout=10)
    for ws in (ann, screen):
        got = await receive_type(ws, "classroom.frame", timeout=10,
                                 where=lambda m: m["seq"] == after["seq"])
        assert got["t"] == after["t"]
    for ws in (screen, ann, teacher):
        await ws.disconnect()
    assert await db(lambda: Connection.objects.count())() == 0
