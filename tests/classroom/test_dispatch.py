"""The room's broadcasts reach sockets without channels' per-message database hop (a frame
for 1,000 students of a process used to queue 1,000 hops on the one sync thread); every
other message still gets it."""

from __future__ import annotations

import asyncio
import json

import channels.consumer

from podlab.classroom.consumers import InstructorConsumer, ProjectorConsumer, StudentConsumer


def counting_hops(monkeypatch) -> list[int]:
    calls: list[int] = []

    async def hop() -> None:
        calls.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", hop)
    return calls


def socket_of(cls):
    consumer = cls()
    consumer.lang = "en"
    consumer.seq = 0
    consumer.tasks = []
    sent: list[dict] = []

    async def base_send(message) -> None:
        sent.append(message)

    consumer.base_send = base_send
    return consumer, sent


async def test_students_forward_frames_and_presence_without_the_hop(monkeypatch):
    calls = counting_hops(monkeypatch)
    student, sent = socket_of(StudentConsumer)
    await student.dispatch({"type": "room.sim", "seq": 1, "snapshot": False,
                            "text": '{"type":"classroom.frame","seq":1}'})
    await student.dispatch({"type": "room.presence", "instructor": True})
    assert calls == []
    assert [m["text"] for m in sent] == [
        '{"type":"classroom.frame","seq":1}',
        json.dumps({"type": "classroom.presence", "instructor": True}, separators=(",", ":"))]
    # Anything else still goes through channels' own dispatch, hop included.
    await student.dispatch({"type": "room.closed"})
    assert calls == [1]


async def test_the_projector_and_the_console_skip_it_too(monkeypatch):
    calls = counting_hops(monkeypatch)
    screen, sent = socket_of(ProjectorConsumer)
    tally = {"type": "classroom.tally", "question": 1, "round": 1, "counts": {}, "answered": 0}
    await screen.dispatch({"type": "room.tally", "message": tally})
    await screen.dispatch({"type": "room.progress", "message": {"type": "classroom.progress"}})
    assert len(sent) == 2 and calls == []
    console, _ = socket_of(InstructorConsumer)
    console.dirty = asyncio.Event()
    await console.dispatch({"type": "room.dirty"})
    assert console.dirty.is_set() and calls == []
