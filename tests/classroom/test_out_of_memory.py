"""A room whose worker runs out of memory (issue 11): the worker's memory cap really is hit
(a test pool whose rooms named ``ballast`` hold more memory at each tick, see
tests/classroom/room_ops.py), and the room is stopped, saved paused at its last moment and
reported with ``out_of_memory`` to its console and to students in both languages, while
another room in the same worker keeps playing."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from podlab.classroom import sim
from podlab.classroom.consumers import room_error_text, stopped_text
from podlab.classroom.models import Room
from podlab.lab import workers

from . import helpers as h
from .helpers import SLEEPER, db, receive_type
from .test_consumers import apply, student_socket, teacher_socket

pytestmark = pytest.mark.django_db(transaction=True)
CJK = re.compile(r"[\u4e00-\u9fff]")
BALLAST = SLEEPER.replace("name: sleeper", "name: ballast")


@contextmanager
def ballast_pool():
    """One worker (both rooms share it) with the real operations, its real memory cap, and
    rooms named ``ballast`` that grow at each tick."""
    own = workers.WorkerPool(size=1, ops_module="tests.classroom.room_ops")
    assert own.start(wait=90)
    shared, workers._pool = workers._pool, own
    try:
        yield own
    finally:
        workers._pool = shared
        own.close()


@pytest.fixture
def pool():
    with ballast_pool() as own:
        yield own
    for room_pk in list(getattr(sim, "_handles", ())):
        sim.forget(room_pk=room_pk)


async def other_room():
    def build():
        teacher = h.make_teacher("other")
        built = h.make_room(teacher)
        built.teacher_key = h.user_session(teacher)
        return built

    return await db(build)()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
async def test_a_room_over_its_workers_memory_cap_is_stopped_saved_and_reported(room, pool,
                                                                               lang):
    quiet_room = await other_room()
    quiet = await teacher_socket(quiet_room)
    await apply(quiet, SLEEPER)
    console = await teacher_socket(room, lang=lang)
    await apply(console, BALLAST)
    students = {code: await student_socket(room, f"s-{code}", lang=code)
                for code in ("en", "zh-hans")}
    # Both consoles' rooms and the copy students' snapshots come from, in the one worker.
    assert pool.stats()["labs"] == [3]
    pids = pool.stats()["pids"]

    await console.send_json_to({"type": "classroom.seek", "t": 10})  # its container runs
    await receive_type(console, "classroom.snapshot", where=lambda m: m["t"] == 10)
    await console.send_json_to({"type": "classroom.play", "speed": 1})
    last = None
    while True:  # frames until the worker's cap stops the room
        message = await console.receive_json_from(timeout=30)
        if message["type"] == "classroom.frame":
            last = message
        elif message["type"] == "classroom.error":
            error = message
            break
    assert error["code"] == "out_of_memory"
    assert error["detail"]["mib"] == workers.WORKER_MEMORY_MB
    assert error["message"] == room_error_text("out_of_memory", lang)
    assert bool(CJK.search(error["message"])) == (lang == "zh-hans")

    # Saved paused at the last moment it sent; the next move finds no simulation.
    assert last is not None and last["t"] >= 10
    stored = await db(Room.objects.get)(pk=room.pk)
    assert stored.playing is False
    assert stored.t == last["t"] and stored.seq == last["seq"]
    assert stored.manifest == BALLAST
    await console.send_json_to({"type": "classroom.step"})
    assert (await receive_type(console, "classroom.error"))["code"] == "no_simulation"

    # Each student is told in their language, with where the room stopped.
    for code, student in students.items():
        told = await receive_type(student, "classroom.error", timeout=10)
        assert told["code"] == "out_of_memory"
        assert told["message"] == stopped_text("out_of_memory", code)
        assert bool(CJK.search(told["message"])) == (code == "zh-hans")
        assert told["detail"]["stopped"] is True
        assert told["detail"]["t"] == last["t"] and told["detail"]["seq"] == last["seq"]
    assert stopped_text("out_of_memory", "en") != stopped_text("out_of_memory", "zh-hans")

    # The worker lives on and the other room in it keeps playing.
    assert pool.stats()["pids"] == pids and pool.replaced == 0
    await quiet.send_json_to({"type": "classroom.play", "speed": 10})
    frame = await receive_type(quiet, "classroom.frame", where=lambda m: m["t"] > 2,
                               timeout=30)
    assert frame["playing"] is True
    await quiet.send_json_to({"type": "classroom.pause"})

    # Its logs can still be read: without a room to drive, the console's page comes from the
    # copy of the saved moment students' snapshots are built from.
    for ws in (console, students["zh-hans"]):
        await ws.send_json_to({"type": "classroom.logs", "container": "ballast/main"})
        page = await receive_type(ws, "classroom.logs")
        assert page["text"] == "hello\n" and page["seq"] == last["seq"]

    # Applying again starts afresh in the same worker.
    assert (await apply(console, SLEEPER))["t"] == 0
    fresh = await receive_type(students["en"], "classroom.snapshot",
                               where=lambda m: m.get("manifest") == SLEEPER)
    assert fresh["playing"] is False
    for communicator in (quiet, console, *students.values()):
        await communicator.disconnect()
