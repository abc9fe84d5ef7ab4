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
