"""Counts that stay right: presence per socket (two tabs, reconnect races, an instructor taking
over from another console, a process that died), the roster's languages, and the pacing
rules (a countdown that closes voting on the server, a clock locked at a predict question's
target time)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from podlab.classroom import presence
from podlab.classroom import questions as q
from podlab.classroom.models import Connection, RoomQuestion

from .helpers import SLEEPER, db, make_seat, open_socket, receive_type, seat_session
from .test_consumers import apply, student_socket, teacher_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def roster_where(teacher, check):
    return await receive_type(teacher, "classroom.roster", where=check, timeout=8)


async def second_tab(room, student):
    tab = await open_socket(f"/ws/classroom/{room.code}/", student.key)
    assert (await tab.connect())[0]
    await receive_type(tab, "classroom.hello")
    return tab


async def test_roster_counts_languages_per_seat(room):
    def fill():
        for i in range(15):
            make_seat(room, f"en-{i}", "en")
            make_seat(room, f"zh-{i}", "zh-hans")
        return q.roster(room_pk=room.pk)

    roster = await db(fill)()
    assert roster["languages"] == {"en": 15, "zh-hans": 15}
    assert len(roster["seats"]) == 30 and roster["online"] == 0


async def test_a_second_tab_keeps_the_seat_online(room):
    teacher = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    tab = await second_tab(room, ann)
    await roster_where(teacher, lambda m: m["online"] == 1)
    await ann.disconnect()
    assert ann.seat.pk in await db(presence.online_seats)(room_pk=room.pk)
    await asyncio.sleep(0.6)  # the refresher runs; the seat must not be shown offline
    roster = await db(q.roster)(room_pk=room.pk)
    assert roster["online"] == 1 and roster["seats"][0]["online"] is True
    await tab.disconnect()
    await roster_where(teacher, lambda m: m["online"] == 0)
    await teacher.disconnect()


async def test_a_reconnect_that_overtakes_the_old_socket_stays_online(room):
    teacher = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    new = await second_tab(room, ann)  # the new socket arrives first ...
    await ann.disconnect()  # ... then the old one's close
    await roster_where(teacher, lambda m: m["online"] == 1)
    assert ann.seat.pk in await db(presence.online_seats)(room_pk=room.pk)
    await new.disconnect()
    await teacher.disconnect()


async def test_a_takeover_never_shows_the_instructor_absent(room):
    old = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    new = await teacher_socket(room)
    await old.disconnect()
    # Every presence message students get from now on says the instructor is here.
    for _ in range(2):
        assert (await receive_type(ann, "classroom.presence"))["instructor"] is True
    late = await student_socket(room, "bo")
    hello_again = await open_socket(f"/ws/classroom/{room.code}/", late.key)
    assert (await hello_again.connect())[0]
    assert (await receive_type(hello_again, "classroom.hello"))["instructor"] is True
    await new.disconnect()
    assert (await receive_type(ann, "classroom.presence",
                               where=lambda m: not m["instructor"]))["instructor"] is False
    for socket in (ann, late, hello_again):
        await socket.disconnect()


async def test_sockets_of_a_dead_process_expire(room):
    """A process that crashed never closes its sockets: its rows stop being renewed."""
    seat = await db(make_seat)(room, "ann")
    now = timezone.now()

    def dead_process_rows():
        presence.register(channel="dead!student", room_pk=room.pk, role=Connection.STUDENT,
                          seat_pk=seat.pk, now=now, process="dead-process")
        presence.register(channel="dead!teacher", room_pk=room.pk, role=Connection.INSTRUCTOR,
                          now=now, process="dead-process")

    await db(dead_process_rows)()
    assert await db(presence.online_seats)(room_pk=room.pk) == {seat.pk}
    assert await db(presence.instructor_present)(room_pk=room.pk)
    later = now + timedelta(seconds=presence.TTL_SECONDS + 1)
    await db(presence.renew)(now=later)  # the living process renews only its own rows
    assert await db(presence.online_seats)(room_pk=room.pk, now=later) == set()
    assert not await db(presence.instructor_present)(room_pk=room.pk, now=later)
    await db(presence.renew)(now=later + timedelta(seconds=presence.TTL_SECONDS + 1))
    assert not await db(Connection.objects.filter(process="dead-process").exists)()
    # A student joining now is told the instructor is away.
    key = await db(seat_session)(seat)
    ws = await open_socket(f"/ws/classroom/{room.code}/", key)
    assert (await ws.connect())[0]
    assert (await receive_type(ws, "classroom.hello"))["instructor"] is False
    await ws.disconnect()


async def test_a_countdown_closes_voting_by_itself(room, monkeypatch):
    monkeypatch.setattr(q, "COUNTDOWNS", (0, 1))
    teacher = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    await teacher.send_json_to({"type": "classroom.push", "lesson": "probes",
                                "question": "which-probe", "countdown": 1})
    mine = (await receive_type(teacher, "classroom.question"))["question"]
    assert mine["countdown"] == 1 and 0 < mine["closes_in"] <= 1
    shown = (await receive_type(ann, "classroom.question"))["question"]
    assert shown["state"] == "open" and shown["closes_in"] <= 1
    closed = await receive_type(ann, "classroom.question", timeout=5,
                                where=lambda m: m["question"]["state"] == "locked")
    assert "closes_in" not in closed["question"]
    await ann.send_json_to({"type": "classroom.answer", "question": mine["id"], "round": 1,
                            "answer": mine["correct"][0]})
    assert (await receive_type(ann, "classroom.error"))["code"] == "question_closed"
    await teacher.send_json_to({"type": "classroom.push", "lesson": "probes",
                                "question": "which-probe", "countdown": 7})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "bad_field"
    await ann.disconnect()
    await teacher.disconnect()


async def test_answers_after_the_countdown_are_refused_even_before_it_is_closed(room):
    def run():
        seat = make_seat(room, "ann")
        start = timezone.now()
        question = q.push_bank_question(room=room, lesson_slug="probes",
                                        question_id="which-probe", countdown=10, now=start)
        right = q.correct_tokens(question=question)[0]
        q.submit_answer(seat=seat, question_pk=question.pk, round_number=1, raw=right,
                        now=start + timedelta(seconds=9))
        with pytest.raises(q.QuestionError):
            q.submit_answer(seat=seat, question_pk=question.pk, round_number=1, raw=right,
                            now=start + timedelta(seconds=10))
        assert not q.close_if_due(question_pk=question.pk, now=start + timedelta(seconds=9))
        assert q.close_if_due(question_pk=question.pk, now=start + timedelta(seconds=10))
        question.refresh_from_db()
        assert question.state == RoomQuestion.LOCKED
        q.revote(question=question, now=start + timedelta(seconds=30))
        assert question.closes_at == start + timedelta(seconds=40)

    await db(run)()


async def test_a_predict_question_locks_the_clock_until_revealed(room):
    teacher = await teacher_socket(room)
    await apply(teacher, SLEEPER)
    await teacher.send_json_to({"type": "classroom.predict", "seconds": 10})
    mine = (await receive_type(teacher, "classroom.question"))["question"]
    target = mine["target_t"]
    await teacher.send_json_to({"type": "classroom.seek", "t": target + 5})
    error = await receive_type(teacher, "classroom.error")
    assert error["code"] == "clock_locked" and error["detail"]["t"] == target
    await teacher.send_json_to({"type": "classroom.play", "speed": "instant"})
    stopped = await receive_type(teacher, "classroom.frame",
                                 where=lambda m: not m["playing"], timeout=10)
    assert stopped["t"] == pytest.approx(target)
    for _ in range(2):
        await teacher.send_json_to({"type": "classroom.step"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "clock_locked"
    await teacher.send_json_to({"type": "classroom.play"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "clock_locked"
    await teacher.send_json_to({"type": "classroom.reveal"})
    await receive_type(teacher, "classroom.question",
                       where=lambda m: m["question"]["state"] == "revealed")
    await teacher.send_json_to({"type": "classroom.seek", "t": target + 5})
    assert (await receive_type(teacher, "classroom.snapshot"))["t"] == pytest.approx(target + 5)
    await teacher.disconnect()


@pytest.fixture
def db_threads(settings):
    from podlab.core import db as pooled

    settings.DATABASE_THREADS = 4  # the test database may run with one (tests/settings.py)
    pooled.reset_pool()
    yield
    pooled.reset_pool()


async def test_a_socket_whose_query_hangs_does_not_hold_up_the_others(room, monkeypatch,
                                                                      db_threads):
    """One student's database call hangs (a locked row, a database that stopped answering):
    other students still connect and get their hello, and the held one finishes once its
    query does. With every websocket query on one shared thread, nobody else could."""
    import threading

    from podlab.classroom import consumers

    release = threading.Event()
    held = threading.Event()
    real = consumers.seat_in_session

    def seat_in_session(*, session, room):
        seat = real(session=session, room=room)
        if seat is not None and seat.name == "held":
            held.set()
            release.wait(timeout=60)  # the hung query
        return seat

    monkeypatch.setattr(consumers, "seat_in_session", seat_in_session)
    seat = await db(make_seat)(room, "held")
    key = await db(seat_session)(seat)
    slow = await open_socket(f"/ws/classroom/{room.code}/", key)
    pending = asyncio.ensure_future(slow.connect(timeout=60))
    while not held.is_set():
        await asyncio.sleep(0.02)
    try:
        others = [await student_socket(room, f"s{n}") for n in range(3)]
        teacher = await teacher_socket(room)
        assert not pending.done() and not release.is_set()  # still held meanwhile
    finally:
        release.set()
    connected, _ = await pending
    assert connected
    assert (await receive_type(slow, "classroom.hello"))["name"] == "held"
    for ws in [slow, teacher, *others]:
        await ws.disconnect()


async def test_the_roster_mark_changes_exactly_when_the_roster_does(room):
    """The console rebuilds the full roster only when this mark moves."""
    def step(action):
        before = q.roster_mark(room_pk=room.pk), q.roster(room_pk=room.pk)
        action()
        after = q.roster_mark(room_pk=room.pk), q.roster(room_pk=room.pk)
        return before[0] != after[0], before[1] != after[1]

    def run():
        ann = make_seat(room, "ann", "en")
        now = timezone.now()
        results = {
            "nothing": step(lambda: None),
            "seat": step(lambda: make_seat(room, "bo", "zh-hans")),
            "tab": step(lambda: presence.register(channel="c1", room_pk=room.pk,
                                                  role=Connection.STUDENT, seat_pk=ann.pk)),
            "second tab": step(lambda: presence.register(
                channel="c2", room_pk=room.pk, role=Connection.STUDENT, seat_pk=ann.pk)),
            "renewed": step(lambda: presence.renew(process=presence.PROCESS)),
            "one tab closes": step(lambda: presence.unregister(channel="c1")),
            "expired": step(lambda: Connection.objects.filter(channel="c2").update(
                expires_at=now - timedelta(seconds=1))),
        }
        return results

    results = await db(run)()
    assert results["nothing"] == (False, False)
    assert results["seat"] == (True, True)
    assert results["tab"] == (True, True)
    assert results["renewed"] == (False, False)
    assert results["expired"] == (True, True)
    # A second tab or one tab of two closing leaves the roster as it was; the mark may move.
    assert results["second tab"][1] is False and results["one tab closes"][1] is False

