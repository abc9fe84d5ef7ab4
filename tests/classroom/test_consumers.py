"""The classroom sockets: who may connect, who may drive, and that everyone follows."""

from __future__ import annotations

import re

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.models import User

from podlab.classroom import consumers, presence, sim
from podlab.classroom.broadcast import announce_closed
from podlab.classroom.models import Answer, Room, RoomQuestion

from .helpers import (
    CRASHER,
    SLEEPER,
    db,
    make_room,
    make_seat,
    make_teacher,
    open_socket,
    receive_type,
    seat_session,
    user_session,
)

pytestmark = pytest.mark.django_db(transaction=True)
CJK = re.compile(r"[\u4e00-\u9fff]")


async def teacher_socket(room, lang="en"):
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", room.teacher_key,
                                     lang=lang)
    connected, _ = await communicator.connect()
    assert connected
    hello = await receive_type(communicator, "classroom.hello")
    assert hello["role"] == "instructor" and hello["code"] == room.code
    await receive_type(communicator, "classroom.snapshot")
    await receive_type(communicator, "classroom.question")
    return communicator


async def student_socket(room, name, lang="en", timeout=5):
    seat = await db(make_seat)(room, name, lang)
    key = await db(seat_session)(seat)
    communicator = await open_socket(f"/ws/classroom/{room.code}/", key, lang=lang)
    connected, _ = await communicator.connect()
    assert connected
    hello = await receive_type(communicator, "classroom.hello")
    assert hello["role"] == "student" and hello["name"] == name
    communicator.snapshot = await receive_type(communicator, "classroom.snapshot",
                                               timeout=timeout)
    communicator.question = await receive_type(communicator, "classroom.question")
    communicator.key = key
    communicator.seat = seat
    return communicator


async def apply(teacher, manifest=SLEEPER):
    await teacher.send_json_to({"type": "classroom.apply", "manifest": manifest})
    validation = await receive_type(teacher, "classroom.validation")
    assert validation["ok"], validation
    return await receive_type(teacher, "classroom.snapshot")


# --- who may connect -----------------------------------------------------------------------

async def test_instructor_socket_needs_a_login(room):
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", None)
    connected, code = await communicator.connect()
    assert not connected and code == consumers.CLOSE_FORBIDDEN


async def test_instructor_socket_refuses_users_outside_the_group(room):
    key = await db(lambda: user_session(User.objects.create_user("mallory", password="x")))()
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", key)
    connected, _ = await communicator.connect()
    assert not connected


async def test_instructor_socket_refuses_another_instructors_room(room):
    key = await db(lambda: user_session(make_teacher("other")))()
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", key)
    connected, _ = await communicator.connect()
    assert not connected


async def test_sockets_refuse_a_foreign_origin(room):
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", room.teacher_key,
                                     origin=b"http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected


async def test_instructor_socket_refuses_a_closed_room(room):
    await db(Room.objects.filter(pk=room.pk).update)(is_open=False)
    communicator = await open_socket(f"/ws/classroom/{room.code}/teach/", room.teacher_key)
    connected, _ = await communicator.connect()
    assert not connected


async def test_student_socket_needs_a_seat_in_the_session(room):
    communicator = await open_socket(f"/ws/classroom/{room.code}/", None)
    connected, _ = await communicator.connect()
    assert not connected


async def test_student_socket_refuses_a_seat_of_another_room(room):
    def other_seat():
        other = make_room(User.objects.get(username="teacher"))
        return seat_session(make_seat(other, "eve"))

    key = await db(other_seat)()
    communicator = await open_socket(f"/ws/classroom/{room.code}/", key)
    connected, _ = await communicator.connect()
    assert not connected


async def test_student_socket_of_a_closed_room_is_told_and_closed(room):
    seat = await db(make_seat)(room, "ann")
    key = await db(seat_session)(seat)
    await db(Room.objects.filter(pk=room.pk).update)(is_open=False)
    communicator = await open_socket(f"/ws/classroom/{room.code}/", key)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "classroom.closed"
    assert (await communicator.receive_output())["type"] == "websocket.close"


# --- only the instructor drives --------------------------------------------------------------

@pytest.mark.parametrize("kind", consumers.INSTRUCTOR_ONLY)
async def test_students_can_never_drive(room, kind):
    teacher = await teacher_socket(room)
    await apply(teacher)
    student = await student_socket(room, "ann")
    before = await db(Room.objects.get)(pk=room.pk)
    await student.send_json_to({"type": kind, "manifest": CRASHER, "t": 99, "speed": 60,
                                "lesson": "probes", "question": "which-probe",
                                "action": "delete", "pod": "sleeper", "show": True})
    error = await receive_type(student, "classroom.error")
    assert error["code"] == "forbidden"
    assert error["message"] == "Only the instructor can do this."
    after = await db(Room.objects.get)(pk=room.pk)
    assert (after.seq, after.manifest, after.actions) == (before.seq, before.manifest,
                                                          before.actions)
    assert await db(RoomQuestion.objects.filter(room=room).count)() == 0
    await student.disconnect()
    await teacher.disconnect()


async def test_student_messages_are_checked(room):
    student = await student_socket(room, "ann")
    await student.send_to(text_data="not json")
    assert (await receive_type(student, "classroom.error"))["code"] == "bad_json"
    await student.send_json_to({"type": "classroom.dance"})
    assert (await receive_type(student, "classroom.error"))["code"] == "unknown_type"
    await student.send_json_to({"type": "classroom.answer", "question": 12345, "round": 1,
                                "answer": "x"})
    assert (await receive_type(student, "classroom.error"))["code"] == "bad_field"
    await student.disconnect()


async def test_student_messages_are_rate_limited(room):
    student = await student_socket(room, "ann")
    for _ in range(30):
        await student.send_json_to({"type": "classroom.sync"})
    codes = []
    while not await student.receive_nothing(timeout=0.5):
        codes.append((await student.receive_json_from()).get("code"))
    assert "rate_limited" in codes
    await student.disconnect()


# --- following ---------------------------------------------------------------------------

async def test_every_student_follows_in_their_language(room):
    teacher = await teacher_socket(room)
    en = await student_socket(room, "ann", "en")
    zh = await student_socket(room, "bo", "zh-hans")
    snapshot = await apply(teacher, CRASHER)
    for student in (en, zh):
        got = await receive_type(student, "classroom.snapshot")
        assert got["seq"] == snapshot["seq"]
        assert got["manifest"] == CRASHER
        assert got["pods"][0]["metadata"]["name"] == "crasher"
    explained = {"en": [], "zh-hans": []}
    for _ in range(6):
        await teacher.send_json_to({"type": "classroom.step"})
        mine = await receive_type(teacher, "classroom.frame")
        for lang, student in (("en", en), ("zh-hans", zh)):
            frame = await receive_type(student, "classroom.frame")
            assert frame["seq"] == mine["seq"] and frame["t"] == mine["t"]
            assert frame["views"]["get"] == mine["views"]["get"]
            assert frame["transitions"] == mine["transitions"]
            # the lab's narration, worded in each student's language
            assert [e["code"] for e in frame["narration"]] == [
                e["code"] for e in mine["narration"]]
            explained[lang] += [e["text"] for e in frame["narration"]]
    assert explained["en"] and not any(CJK.search(text) for text in explained["en"])
    assert explained["zh-hans"] and all(CJK.search(text) for text in explained["zh-hans"])
    for communicator in (en, zh, teacher):
        await communicator.disconnect()


async def test_play_pause_seek_and_actions_reach_students(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    await apply(teacher)
    await receive_type(student, "classroom.snapshot")
    await teacher.send_json_to({"type": "classroom.play", "speed": 60})
    assert (await receive_type(student, "classroom.frame"))["playing"] is True
    await receive_type(student, "classroom.frame", where=lambda m: m["t"] > 5)
    await teacher.send_json_to({"type": "classroom.pause"})
    paused = await receive_type(student, "classroom.frame", where=lambda m: not m["playing"])
    stored = await db(Room.objects.get)(pk=room.pk)
    assert stored.t == paused["t"] and stored.playing is False and stored.seq == paused["seq"]
    await teacher.send_json_to({"type": "classroom.action", "action": "delete",
                                "pod": "sleeper"})
    frame = await receive_type(student, "classroom.frame")
    assert frame["actions"][0]["action"] == "delete"
    await teacher.send_json_to({"type": "classroom.seek", "t": 1})
    back = await receive_type(student, "classroom.snapshot")
    assert back["t"] == 1
    # Acting in the past starts a new history: the later delete is dropped.
    await teacher.send_json_to({"type": "classroom.action", "action": "kill", "pod": "sleeper",
                                "container": "main", "signal": "KILL"})
    rewritten = await receive_type(student, "classroom.snapshot")
    assert [a["action"] for a in rewritten["actions"]] == ["kill"]
    assert (await db(Room.objects.get)(pk=room.pk)).epoch == 3  # apply, seek back, new history
    await teacher.send_json_to({"type": "classroom.action", "action": "delete", "pod": "nope"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "rejected"
    await student.disconnect()
    await teacher.disconnect()


async def test_late_joiner_lands_at_the_current_moment_with_the_open_question(room):
    teacher = await teacher_socket(room)
    await apply(teacher, CRASHER)
    for _ in range(4):
        await teacher.send_json_to({"type": "classroom.step"})
        current = await receive_type(teacher, "classroom.frame")
    await teacher.send_json_to({"type": "classroom.predict", "seconds": 30})
    await receive_type(teacher, "classroom.question")
    sim.forget(room_pk=room.pk)  # this process has never built the room: rebuilt from the log
    late = await student_socket(room, "late", "zh-hans")
    assert late.snapshot["t"] == current["t"] and late.snapshot["seq"] == current["seq"]
    assert late.snapshot["views"]["get"] == current["views"]["get"]
    question = late.question["question"]
    assert question["state"] == "open" and "correct" not in question
    assert "crasher" in question["prompt"]
    await late.disconnect()
    await teacher.disconnect()


async def test_a_missed_frame_is_answered_with_a_snapshot(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    snapshot = await apply(teacher)
    await receive_type(student, "classroom.snapshot")
    layer = get_channel_layer()
    await layer.group_send(consumers.group_name(room.pk, "en"),
                           {"type": "room.sim", "seq": snapshot["seq"] + 5, "snapshot": False,
                            "text": '{"type":"classroom.frame"}'})
    resync = await receive_type(student, "classroom.snapshot")
    assert resync["seq"] == snapshot["seq"]
    # Stale frames (already in the snapshot) are dropped, not forwarded.
    await layer.group_send(consumers.group_name(room.pk, "en"),
                           {"type": "room.sim", "seq": snapshot["seq"], "snapshot": False,
                            "text": '{"type":"classroom.frame"}'})
    assert await student.receive_nothing(timeout=0.3)
    await student.disconnect()
    await teacher.disconnect()


async def test_the_room_survives_the_instructor_process(room):
    teacher = await teacher_socket(room)
    await apply(teacher, CRASHER)
    for _ in range(3):
        await teacher.send_json_to({"type": "classroom.step"})
        before = await receive_type(teacher, "classroom.frame")
    await teacher.disconnect()
    sim.forget(room_pk=room.pk)
    again = await open_socket(f"/ws/classroom/{room.code}/teach/", room.teacher_key)
    assert (await again.connect())[0]
    await receive_type(again, "classroom.hello")
    snapshot = await receive_type(again, "classroom.snapshot")
    assert snapshot["t"] == before["t"] and snapshot["views"] == before["views"]
    await again.send_json_to({"type": "classroom.step"})
    assert (await receive_type(again, "classroom.frame"))["seq"] == before["seq"] + 1
    await again.disconnect()


async def test_students_see_the_instructor_come_and_go(room):
    student = await student_socket(room, "ann")
    teacher = await teacher_socket(room)
    assert (await receive_type(student, "classroom.presence"))["instructor"] is True
    await teacher.disconnect()
    assert (await receive_type(student, "classroom.presence"))["instructor"] is False
    await student.disconnect()


async def test_closing_the_room_closes_the_sockets(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    await db(announce_closed)(room_pk=room.pk)
    assert (await receive_type(student, "classroom.closed"))["type"] == "classroom.closed"
    assert (await receive_type(teacher, "classroom.closed"))["type"] == "classroom.closed"


# --- questions ----------------------------------------------------------------------------

async def push(teacher, lesson="probes", question="which-probe"):
    await teacher.send_json_to({"type": "classroom.push", "lesson": lesson,
                                "question": question})
    return (await receive_type(teacher, "classroom.question"))["question"]


async def test_a_bank_question_round(room):
    teacher = await teacher_socket(room)
    en = await student_socket(room, "ann", "en")
    zh = await student_socket(room, "bo", "zh-hans")
    mine = await push(teacher)
    assert mine["correct"] and mine["state"] == "open"
    got_en = (await receive_type(en, "classroom.question"))["question"]
    got_zh = (await receive_type(zh, "classroom.question"))["question"]
    assert "correct" not in got_en and "explanation" not in got_en
    assert got_en["prompt"].startswith("Which probe")
    assert CJK.search(got_zh["prompt"])
    assert [c["token"] for c in got_en["choices"]] == [c["token"] for c in got_zh["choices"]]
    right = mine["correct"][0]
    wrong = next(c["token"] for c in got_en["choices"] if c["token"] != right)
    await en.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": wrong})
    assert (await receive_type(en, "classroom.answered"))["answer"] == wrong
    # Changing one's mind replaces the answer: still one vote.
    await en.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": right})
    await receive_type(en, "classroom.answered")
    await zh.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": wrong})
    await receive_type(zh, "classroom.answered")
    tally = await receive_type(teacher, "classroom.tally", where=lambda m: m["answered"] == 2)
    assert tally["counts"][right] == 1 and tally["counts"][wrong] == 1
    assert sorted(tally["names"]) == ["ann", "bo"] and tally["seats"] == 2
    assert await db(Answer.objects.count)() == 2
    await teacher.send_json_to({"type": "classroom.reveal"})
    shown = (await receive_type(en, "classroom.question",
                                where=lambda m: m["question"]["state"] == "revealed"))
    assert shown["question"]["correct"] == [right] and shown["question"]["score"] == 1
    assert shown["question"]["your_answer"] == right
    assert shown["question"]["tally"][right] == 1 and shown["question"]["explanation"]
    shown_zh = (await receive_type(zh, "classroom.question",
                                   where=lambda m: m["question"]["state"] == "revealed"))
    assert shown_zh["question"]["score"] == 0 and CJK.search(shown_zh["question"]["explanation"])
    await zh.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": right})
    assert (await receive_type(zh, "classroom.error"))["code"] == "question_closed"
    for communicator in (en, zh, teacher):
        await communicator.disconnect()


async def test_peer_instruction_revote(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    mine = await push(teacher)
    right = mine["correct"][0]
    wrong = next(c["token"] for c in mine["choices"] if c["token"] != right)
    await student.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                                "answer": wrong})
    await receive_type(student, "classroom.answered")
    await teacher.send_json_to({"type": "classroom.lock"})
    locked = await receive_type(student, "classroom.question",
                                where=lambda m: m["question"]["state"] == "locked")
    assert "correct" not in locked["question"]
    await student.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                                "answer": right})
    assert (await receive_type(student, "classroom.error"))["code"] == "question_closed"
    await teacher.send_json_to({"type": "classroom.revote"})
    again = await receive_type(student, "classroom.question",
                               where=lambda m: m["question"]["round"] == 2)
    assert again["question"]["state"] == "open" and again["question"]["your_previous"] == wrong
    await student.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 2,
                                "answer": right})
    await receive_type(student, "classroom.answered")
    tally = await receive_type(teacher, "classroom.tally",
                               where=lambda m: m["round"] == 2 and m["answered"] == 1)
    assert tally["previous"] == {wrong: 1} and tally["counts"][right] == 1
    await teacher.send_json_to({"type": "classroom.revote"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "question_closed"
    await teacher.send_json_to({"type": "classroom.leaderboard", "show": True})
    board = await receive_type(student, "classroom.leaderboard")
    assert board["shown"] and board["rows"] == []
    await teacher.send_json_to({"type": "classroom.reveal"})
    board = await receive_type(student, "classroom.leaderboard")
    assert board["rows"] == [{"name": "ann", "score": 1}]
    await student.disconnect()
    await teacher.disconnect()


async def test_a_live_predict_question_is_answered_by_the_engine(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    await apply(teacher, CRASHER)
    for _ in range(3):
        await teacher.send_json_to({"type": "classroom.step"})
        now = await receive_type(teacher, "classroom.frame")
    await teacher.send_json_to({"type": "classroom.predict", "seconds": 30})
    mine = (await receive_type(teacher, "classroom.question"))["question"]
    values = [c["text"] for c in mine["choices"]]
    assert len(values) == len(set(values)) == 4 and len(mine["correct"]) == 1
    assert mine["target_t"] == pytest.approx(now["t"] + 30)
    answer = next(c["text"] for c in mine["choices"] if c["token"] == mine["correct"][0])
    await teacher.send_json_to({"type": "classroom.seek", "t": mine["target_t"]})
    later = await receive_type(teacher, "classroom.snapshot")
    status_line = later["views"]["get"].splitlines()[1].split()
    assert status_line[2] == answer
    await student.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                                "answer": mine["correct"][0]})
    assert (await receive_type(student, "classroom.answered"))["answer"] == mine["correct"][0]
    await teacher.send_json_to({"type": "classroom.predict", "seconds": 7})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "bad_field"
    await teacher.send_json_to({"type": "classroom.predict", "pod": "ghost"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "no_pod"
    await student.disconnect()
    await teacher.disconnect()


async def test_pushing_an_unknown_question_is_refused(room):
    teacher = await teacher_socket(room)
    await teacher.send_json_to({"type": "classroom.push", "lesson": "probes",
                                "question": "no-such-question"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "unknown_question"
    await teacher.send_json_to({"type": "classroom.predict"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "no_simulation"
    await teacher.disconnect()


async def test_a_reconnecting_student_gets_seat_answers_and_score_back(room):
    teacher = await teacher_socket(room)
    student = await student_socket(room, "ann")
    # Each step below is one the console sees: online, offline, online again.
    await receive_type(teacher, "classroom.roster", where=lambda m: m["online"] == 1)
    mine = await push(teacher)
    right = mine["correct"][0]
    await student.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                                "answer": right})
    await receive_type(student, "classroom.answered")
    await teacher.send_json_to({"type": "classroom.reveal"})
    await receive_type(student, "classroom.question",
                       where=lambda m: m["question"]["state"] == "revealed")
    await student.disconnect()
    assert student.seat.pk not in await db(presence.online_seats)(room_pk=room.pk)
    await receive_type(teacher, "classroom.roster", where=lambda m: m["online"] == 0)
    again = await open_socket(f"/ws/classroom/{room.code}/", student.key)
    assert (await again.connect())[0]
    hello = await receive_type(again, "classroom.hello")
    assert hello["name"] == "ann" and hello["score"] == 1
    question = (await receive_type(again, "classroom.question"))["question"]
    assert question["your_answer"] == right and question["score"] == 1
    roster = await receive_type(teacher, "classroom.roster",
                                where=lambda m: m["online"] == 1)
    assert roster["seats"] == [{"name": "ann", "online": True, "lang": "en"}]
    await again.disconnect()
    await teacher.disconnect()


# --- the per-address cap on student sockets -------------------------------------------------

@pytest.fixture
def fresh_student_cap(monkeypatch, settings):
    """A count of its own: sockets other tests left open must not fill the cap."""
    from podlab.core import conncaps

    settings.REDIS_URL = ""
    monkeypatch.setattr(consumers, "STUDENT_CAP", conncaps.AddressCap(
        "student", "CLASSROOM_STUDENT_CONNECTIONS_PER_ADDRESS", 2500))


async def test_a_student_socket_cancelled_in_a_handler_gives_its_ticket_back(
        room, fresh_student_cap, monkeypatch):
    """A handler still waiting (a slow database) when the server gives up on the socket's
    disconnect: the address ticket is given back all the same."""
    import asyncio

    async def slow_sync(self, message):
        await asyncio.sleep(30)

    monkeypatch.setitem(consumers.StudentConsumer.handlers, "classroom.sync", slow_sync)
    student = await student_socket(room, "Ada")
    assert consumers.STUDENT_CAP.local
    await student.send_json_to({"type": "classroom.sync"})
    await asyncio.sleep(0.2)
    await student.disconnect(timeout=0.2)
    for _ in range(50):
        if not consumers.STUDENT_CAP.local:
            break
        await asyncio.sleep(0.05)
    assert not consumers.STUDENT_CAP.local


async def test_a_console_cancelled_in_a_handler_lets_its_room_go_from_its_worker(
        room, monkeypatch):
    import asyncio

    from podlab.lab import workers

    def held() -> int:
        return sum(len(slot.labs) for slot in workers.pool()._slots)

    async def slow_sync(self, message):
        await asyncio.sleep(30)

    monkeypatch.setitem(consumers.InstructorConsumer.handlers, "classroom.sync", slow_sync)
    teacher = await teacher_socket(room)
    await apply(teacher)
    before = held()
    await teacher.send_json_to({"type": "classroom.sync"})
    await asyncio.sleep(0.2)
    await teacher.disconnect(timeout=0.2)
    for _ in range(50):
        if held() < before:
            break
        await asyncio.sleep(0.05)
    assert held() == before - 1


async def test_student_sockets_per_address_are_capped_and_announced(room, settings,
                                                                    fresh_student_cap):
    settings.CLASSROOM_STUDENT_CONNECTIONS_PER_ADDRESS = 2
    first = await student_socket(room, "Ada")
    second = await student_socket(room, "Grace", lang="zh-hans")
    seat = await db(make_seat)(room, "Linus")
    refused = await open_socket(f"/ws/classroom/{room.code}/", await db(seat_session)(seat))
    assert (await refused.connect())[0]
    error = await refused.receive_json_from()
    assert error["type"] == "classroom.error" and error["code"] == "too_many_connections"
    assert error["detail"] == {"limit": 2} and "classroom" in error["message"]
    assert (await refused.receive_output())["code"] == 4429
    await first.disconnect()
    again = await open_socket(f"/ws/classroom/{room.code}/", await db(seat_session)(seat))
    assert (await again.connect())[0]
    hello = await receive_type(again, "classroom.hello")
    assert hello["limits"] == {"connections_per_address": 2}
    await again.disconnect()
    await second.disconnect()


async def test_the_student_cap_does_not_count_the_instructor_or_projector(room, settings,
                                                                         fresh_student_cap):
    settings.CLASSROOM_STUDENT_CONNECTIONS_PER_ADDRESS = 1
    student = await student_socket(room, "Ada")
    teacher = await teacher_socket(room)
    projector = await open_socket(f"/ws/classroom/{room.code}/project/", room.teacher_key)
    assert (await projector.connect())[0]
    assert (await receive_type(projector, "classroom.hello"))["role"] == "projector"
    for ws in (projector, teacher, student):
        await ws.disconnect()
