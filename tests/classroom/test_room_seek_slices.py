"""An instructor seeks a room of an ordinary but long-to-simulate Pod an hour ahead: the
seek runs in slices (``classroom.seeking`` to the console), the room and its students land
at the moment, and a reconnecting console and a late student rebuild it in slices too."""

from __future__ import annotations

import pytest

from podlab.classroom import sim
from tests.lab.manifests import COUNTING_LOOP, DATE_LOGGERS

from .helpers import receive_type
from .test_consumers import apply, student_socket, teacher_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def until(communicator, wanted, *, timeout=60):
    """The ``classroom.seeking`` frames, then the first ``wanted`` message."""
    progress = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "classroom.seeking":
            progress.append(message)
        elif message["type"] in (wanted, "classroom.error"):
            return progress, message


async def test_a_room_of_ten_date_loggers_seeks_an_hour_in_slices(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ana", "zh-hans")
    await apply(teacher, DATE_LOGGERS)
    await teacher.send_json_to({"type": "classroom.seek", "t": 3600})
    progress, snapshot = await until(teacher, "classroom.snapshot")
    assert snapshot["type"] == "classroom.snapshot" and snapshot["t"] == 3600, snapshot
    assert progress and all(0 < p["t"] < 3600 and p["target"] == 3600 for p in progress)
    assert len(snapshot["views"]["logs"]) == 10
    seen = await receive_type(student, "classroom.snapshot", timeout=30)
    while seen["t"] != 3600:
        seen = await receive_type(student, "classroom.snapshot", timeout=30)
    assert "UTC" in seen["views"]["logs"]["chatty/c0"].splitlines()[-1]
    # A student joining now: this process's copy of the room is rebuilt, in slices.
    sim.forget(room_pk=room.pk)
    late = await student_socket(room, "li", "en", timeout=30)
    assert late.snapshot["t"] == 3600 and late.snapshot["seq"] == snapshot["seq"]
    # The room is alive: back to half an hour (in slices again: replayed from the start).
    await teacher.send_json_to({"type": "classroom.seek", "t": 1800})
    _, back = await until(teacher, "classroom.snapshot")
    assert back["t"] == 1800
    for socket in (late, student, teacher):
        await socket.disconnect()


async def test_a_reconnecting_console_rebuilds_a_late_room_in_slices(room):
    teacher = await teacher_socket(room)
    await apply(teacher, DATE_LOGGERS)
    await teacher.send_json_to({"type": "classroom.seek", "t": 3600})
    _, snapshot = await until(teacher, "classroom.snapshot")
    assert snapshot["t"] == 3600
    await teacher.disconnect()
    again = await teacher_socket(room)  # the room is loaded from the database: at 3600
    await again.send_json_to({"type": "classroom.sync"})
    synced = await receive_type(again, "classroom.snapshot", timeout=30)
    assert synced["t"] == 3600
    await again.disconnect()


async def test_a_runaway_room_is_still_stopped(room):
    teacher = await teacher_socket(room)
    await apply(teacher, COUNTING_LOOP)
    await teacher.send_json_to({"type": "classroom.seek", "t": 3600})
    _, error = await until(teacher, "classroom.snapshot")
    assert error["type"] == "classroom.error" and error["code"] == "budget_exceeded", error
    assert error["detail"]["sliced"] is True
    await teacher.disconnect()


async def seeking(teacher, t):
    """Start a seek of the room to ``t``: its first ``classroom.seeking``."""
    await teacher.send_json_to({"type": "classroom.seek", "t": t})
    first = await receive_type(teacher, "classroom.seeking", timeout=30)
    assert first["target"] == t and first["t"] < t
    return first


async def quiet_until_seeking_ends(teacher):
    """Nothing more of an interrupted seek: no progress, no snapshot at its target."""
    while not await teacher.receive_nothing(timeout=1.5):
        message = await teacher.receive_json_from()
        assert message["type"] not in ("classroom.seeking", "classroom.snapshot",
                                       "classroom.frame", "classroom.error"), message


async def test_a_room_seek_serves_the_consoles_messages_and_a_pause_interrupts_it(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ana", "zh-hans")
    await apply(teacher, DATE_LOGGERS)
    first = await seeking(teacher, 3600)
    # Served between slices: the answer comes while the seek goes on (before its snapshot).
    await teacher.send_json_to({"type": "classroom.leaderboard", "show": True})
    while (board := await teacher.receive_json_from(timeout=30))["type"] != (
            "classroom.leaderboard"):
        assert board["type"] not in ("classroom.snapshot", "classroom.error"), board
    assert board["shown"] is True
    await teacher.send_json_to({"type": "classroom.pause"})
    _, paused = await until(teacher, "classroom.snapshot", timeout=30)
    # The moment the seek stopped at, between two moments of the simulation; students see it.
    assert paused["type"] == "classroom.snapshot", paused
    assert first["t"] <= paused["t"] < 3600 and paused["playing"] is False
    await quiet_until_seeking_ends(teacher)
    seen = await receive_type(student, "classroom.snapshot", timeout=30,
                              where=lambda m: m["seq"] == paused["seq"])
    assert seen["t"] == paused["t"]
    await teacher.send_json_to({"type": "classroom.sync"})
    again = await receive_type(teacher, "classroom.snapshot", timeout=30)
    assert again["t"] == paused["t"]
    for socket in (student, teacher):
        await socket.disconnect()


async def test_a_new_seek_a_step_or_an_action_interrupts_a_room_seek(room):
    teacher = await teacher_socket(room)
    await apply(teacher, DATE_LOGGERS)
    await seeking(teacher, 3600)
    await teacher.send_json_to({"type": "classroom.seek", "t": 100})
    progress, snapshot = await until(teacher, "classroom.snapshot", timeout=30)
    assert snapshot["type"] == "classroom.snapshot" and snapshot["t"] == 100, snapshot
    assert all(p["target"] in (3600, 100) for p in progress)
    await quiet_until_seeking_ends(teacher)
    # A step goes on from the moment the seek reached (students get that as a snapshot).
    first = await seeking(teacher, 3600)
    await teacher.send_json_to({"type": "classroom.step"})
    _, stepped = await until(teacher, "classroom.snapshot", timeout=30)
    assert stepped["type"] == "classroom.snapshot", stepped
    assert first["t"] < stepped["t"] < 3600
    await quiet_until_seeking_ends(teacher)
    await teacher.send_json_to({"type": "classroom.seek", "t": 100})  # far from 3600 again
    _, snapshot = await until(teacher, "classroom.snapshot", timeout=30)
    assert snapshot["t"] == 100
    # An action is recorded at the moment the seek reached.
    first = await seeking(teacher, 3600)
    await teacher.send_json_to({"type": "classroom.action", "action": "kill", "pod": "chatty",
                                "container": "c3", "signal": "KILL"})
    _, acted = await until(teacher, "classroom.snapshot", timeout=30)
    assert acted["type"] == "classroom.snapshot", acted
    assert first["t"] <= acted["t"] < 3600
    assert [(a["action"], a["t"]) for a in acted["actions"]] == [("kill", acted["t"])]
    await quiet_until_seeking_ends(teacher)
    await teacher.disconnect()


async def test_an_action_after_seeking_back_in_a_late_room_needs_no_replay(room):
    """Acting after a seek backwards drops the later actions; at t = 3000 of ten loggers,
    rebuilding the room for it in one request outgrew the budget. The room is what a
    replay of the kept actions makes: a student joining later rebuilds the same moment."""
    teacher = await teacher_socket(room)
    await apply(teacher, DATE_LOGGERS)
    await teacher.send_json_to({"type": "classroom.seek", "t": 3600})
    _, late = await until(teacher, "classroom.snapshot")
    assert late["t"] == 3600
    await teacher.send_json_to({"type": "classroom.action", "action": "kill", "pod": "chatty",
                                "container": "c3", "signal": "KILL"})
    frame = await receive_type(teacher, "classroom.frame", timeout=30)
    assert [a["t"] for a in frame["actions"]] == [3600]
    await teacher.send_json_to({"type": "classroom.seek", "t": 3000})
    _, back = await until(teacher, "classroom.snapshot")
    assert back["t"] == 3000 and len(back["actions"]) == 1
    await teacher.send_json_to({"type": "classroom.action", "action": "kill", "pod": "chatty",
                                "container": "c5", "signal": "KILL"})
    _, rewritten = await until(teacher, "classroom.snapshot", timeout=30)
    assert rewritten["type"] == "classroom.snapshot", rewritten
    assert rewritten["t"] == 3000
    assert [(a["container"], a["t"]) for a in rewritten["actions"]] == [("c5", 3000)]
    sim.forget(room_pk=room.pk)
    student = await student_socket(room, "li", "en", timeout=60)
    assert student.snapshot["seq"] == rewritten["seq"]
    for key in ("t", "actions", "pods", "history"):
        assert student.snapshot[key] == rewritten[key], key
    assert student.snapshot["views"]["logs"] == rewritten["views"]["logs"]
    for socket in (student, teacher):
        await socket.disconnect()
