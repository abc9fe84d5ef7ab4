"""The projector socket (the instructor's login, read only, no names and no right answer
before Reveal) and the instructor's exports after the lesson."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from podlab.classroom import questions as q
from podlab.classroom.models import Seat

from .helpers import db, make_seat, make_teacher, open_socket, receive_type, user_session
from .test_consumers import push, student_socket, teacher_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def projector_socket(room, lang="en"):
    ws = await open_socket(f"/ws/classroom/{room.code}/project/", room.teacher_key, lang=lang)
    assert (await ws.connect())[0]
    hello = await receive_type(ws, "classroom.hello")
    assert hello["role"] == "projector"
    await receive_type(ws, "classroom.snapshot")
    await receive_type(ws, "classroom.question")
    await receive_type(ws, "classroom.count")
    return ws


async def test_only_the_rooms_instructor_opens_the_projector(room):
    for key in (None, await db(lambda: user_session(make_teacher("other")))()):
        ws = await open_socket(f"/ws/classroom/{room.code}/project/", key)
        connected, code = await ws.connect()
        assert not connected or code == 4403
        await ws.disconnect()


async def test_the_projector_never_shows_names_or_the_answer_before_reveal(room):
    teacher = await teacher_socket(room)
    screen = await projector_socket(room, "zh-hans")
    ann = await student_socket(room, "ann")
    count = await receive_type(screen, "classroom.count", where=lambda m: m["online"] == 1)
    assert count["seats"] == 1
    mine = await push(teacher)
    shown = (await receive_type(screen, "classroom.question"))["question"]
    assert "correct" not in shown and "explanation" not in shown
    await ann.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                            "answer": mine["correct"][0]})
    tally = await receive_type(screen, "classroom.tally", where=lambda m: m["answered"] == 1)
    assert set(tally) == {"type", "question", "round", "counts", "answered", "seats"}
    assert "ann" not in str(tally) and tally["counts"][mine["correct"][0]] == 1
    await screen.send_json_to({"type": "classroom.reveal"})
    assert (await receive_type(screen, "classroom.error"))["code"] == "forbidden"
    await teacher.send_json_to({"type": "classroom.reveal"})
    revealed = (await receive_type(screen, "classroom.question"))["question"]
    assert revealed["state"] == "revealed" and revealed["correct"] == mine["correct"]
    assert revealed["explanation"] and any("\u4e00" <= ch <= "\u9fff"
                                           for ch in revealed["explanation"])
    for ws in (ann, screen, teacher):
        await ws.disconnect()


def _answered_room(room):
    seats = [make_seat(room, name, lang) for name, lang in
             (("ann", "en"), ("bo", "zh-hans"), ("=cmd()", "en"))]
    question = q.push_bank_question(room=room, lesson_slug="probes", question_id="which-probe")
    right = q.correct_tokens(question=question)[0]
    wrong = next(c["token"] for c in q._choices(question, "en") if c["token"] != right)  # noqa: SLF001
    q.submit_answer(seat=seats[0], question_pk=question.pk, round_number=1, raw=right)
    q.submit_answer(seat=seats[1], question_pk=question.pk, round_number=1, raw=wrong)
    q.set_state(question=question, state="revealed")
    return question


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_exports_and_summary(room, lang):
    _answered_room(room)
    client = Client()
    client.force_login(room.instructor)
    per_question = client.get(f"/{lang}/classroom/{room.code}/questions.csv")
    assert per_question.status_code == 200
    assert per_question["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(per_question.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == "1" and rows[1][6:9] == ["2", "1", "50"]
    per_student = client.get(f"/{lang}/classroom/{room.code}/students.csv")
    rows = list(csv.reader(io.StringIO(per_student.content.decode("utf-8-sig"))))
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"ann", "bo", "'=cmd()"}  # no formula for a spreadsheet to run
    assert by_name["ann"][2:4] == ["1", "1"] and by_name["bo"][2:4] == ["1", "0"]
    assert by_name["'=cmd()"][2:4] == ["0", "0"]
    page = client.get(f"/{lang}/classroom/{room.code}/summary/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/{lang}/lessons/probes/#" in html and "50%" in html
    if lang == "zh-hans":
        assert "每个问题" in html or "重读" in html


def test_exports_are_the_instructors_only(room):
    client = Client()
    for url in (f"/en/classroom/{room.code}/questions.csv", f"/en/classroom/{room.code}/summary/",
                f"/en/classroom/{room.code}/projector/"):
        assert client.get(url).status_code == 302  # to the login
    client.force_login(make_teacher("other"))
    assert client.get(f"/en/classroom/{room.code}/students.csv").status_code == 404
    assert Seat.objects.count() == 0


async def test_ordering_and_short_answer_questions_live(room):
    teacher = await teacher_socket(room)
    screen = await projector_socket(room)
    ann = await student_socket(room, "ann")
    bo = await student_socket(room, "bo")
    await teacher.send_json_to({"type": "classroom.push", "lesson": "restart-policy-and-backoff",
                                "question": "backoff-order"})
    mine = (await receive_type(teacher, "classroom.question"))["question"]
    assert mine["qtype"] == "order" and len(mine["correct"]) == len(mine["choices"]) > 2
    shown = (await receive_type(ann, "classroom.question"))["question"]
    assert "correct" not in shown and [c["token"] for c in shown["choices"]] != mine["correct"]
    await ann.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                            "answer": mine["correct"]})
    await receive_type(ann, "classroom.answered")
    await bo.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": list(reversed(mine["correct"]))})
    await receive_type(bo, "classroom.answered")
    await bo.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                           "answer": mine["correct"][:1]})  # not every item: refused
    assert (await receive_type(bo, "classroom.error"))["code"] == "bad_field"
    tally = await receive_type(teacher, "classroom.tally", where=lambda m: m["answered"] == 2)
    assert tally["right"] == 1 and tally["counts"] == {}
    await teacher.send_json_to({"type": "classroom.reveal"})
    revealed = (await receive_type(screen, "classroom.question",
                                   where=lambda m: m["question"]["state"] == "revealed"))
    assert revealed["question"]["graded"] == {"right": 1, "wrong": 1}

    await teacher.send_json_to({"type": "classroom.push", "lesson": "probes",
                                "question": "liveness-success-threshold"})
    mine = (await receive_type(teacher, "classroom.question",
                               where=lambda m: m["question"]["qtype"] == "short"))["question"]
    assert mine["choices"] == [] and mine["correct"] == ["1"]
    for ws, text in ((ann, " 1 "), (bo, "three")):
        await ws.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                               "answer": text})
        await receive_type(ws, "classroom.answered")
    tally = await receive_type(teacher, "classroom.tally",
                               where=lambda m: m["question"] == mine["id"] and m["answered"] == 2)
    assert tally["right"] == 1 and sorted(tally["top"]) == [["1", 1], ["three", 1]]
    public = await receive_type(screen, "classroom.tally",
                                where=lambda m: m["question"] == mine["id"] and m["answered"] == 2)
    assert "top" not in public
    await teacher.send_json_to({"type": "classroom.reveal"})
    on_screen = (await receive_type(screen, "classroom.question",
                                    where=lambda m: m["question"]["state"] == "revealed"))
    assert on_screen["question"]["graded"] == {"right": 1, "wrong": 1}
    assert "three" not in str(on_screen)  # what students typed stays off the big screen
    for ws in (ann, bo, screen, teacher):
        await ws.disconnect()
