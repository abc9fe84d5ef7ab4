"""Lesson plans: steps checked and stored, the plan pages, and a console running a plan
through its socket (students and the big screen follow)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from podlab.classroom import plans
from podlab.classroom.models import LessonPlan, Room

from .helpers import db, make_room, make_teacher, open_socket, receive_type
from .test_consumers import student_socket, teacher_socket

CJK = re.compile(r"[\u4e00-\u9fff]")
QUESTION = {"kind": "question", "lesson": "probes", "question": "which-probe", "countdown": 30}
PREDICT = {"kind": "predict", "seconds": 10, "countdown": 0}
SCENARIO = {"kind": "scenario", "example": "what-is-a-pod-hello", "seed": 3}


# --- steps --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, code, field", [
    ({"kind": "poll"}, "bad_kind", "kind"),
    ("question", "bad_kind", "kind"),
    ({**QUESTION, "question": "no-such-question"}, "unknown_question", "question"),
    ({**QUESTION, "lesson": 7}, "unknown_question", "question"),
    ({**QUESTION, "countdown": 25}, "bad_countdown", "countdown"),
    ({**QUESTION, "countdown": True}, "bad_countdown", "countdown"),
    ({**PREDICT, "seconds": 15}, "bad_seconds", "seconds"),
    ({**PREDICT, "seconds": "ten"}, "bad_seconds", "seconds"),
    ({**SCENARIO, "example": "../../etc/passwd"}, "unknown_example", "example"),
    ({**SCENARIO, "seed": -1}, "bad_seed", "seed"),
    ({**SCENARIO, "seed": 2**31}, "bad_seed", "seed"),
])
def test_bad_steps_are_refused_with_the_field(raw, code, field):
    with pytest.raises(plans.PlanError) as caught:
        plans.clean_step(raw=raw)
    assert (caught.value.code, caught.value.field) == (code, field)
    english = plans.plan_error_text(code=code, lang="en")
    chinese = plans.plan_error_text(code=code, lang="zh-hans")
    assert english != code and CJK.search(chinese)


def test_steps_from_a_form_are_stored_as_numbers():
    step = plans.clean_step(raw={"kind": "predict", "seconds": "30", "countdown": "20"})
    assert step == {"kind": "predict", "seconds": 30, "countdown": 20}
    assert plans.clean_step(raw={**SCENARIO, "seed": ""})["seed"] == 0
    assert plans.clean_step(raw={**QUESTION, "extra": "dropped"}) == QUESTION


@pytest.mark.django_db
def test_add_move_and_remove_steps():
    plan = plans.create_plan(instructor=make_teacher(), title="  Probes, week 4 ")
    assert plan.title == "Probes, week 4"
    for step in (QUESTION, PREDICT, SCENARIO):
        plans.add_step(plan=plan, raw=step)
    plans.move_step(plan=plan, index=2, delta=-1)
    plans.move_step(plan=plan, index=0, delta=-1)  # already first: nothing moves
    plan.refresh_from_db()
    assert [s["kind"] for s in plan.steps] == ["question", "scenario", "predict"]
    plans.remove_step(plan=plan, index="0")
    plan.refresh_from_db()
    assert [s["kind"] for s in plan.steps] == ["scenario", "predict"]
    for index in (2, -1, "x", None):
        with pytest.raises(plans.PlanError, match="no_step"):
            plans.remove_step(plan=plan, index=index)
    with pytest.raises(plans.PlanError, match="title_required"):
        plans.create_plan(instructor=plan.instructor, title="   ")


@pytest.mark.django_db
def test_a_plan_holds_at_most_a_hundred_steps():
    plan = plans.create_plan(instructor=make_teacher(), title="long")
    plan.steps = [PREDICT] * plans.MAX_STEPS
    plan.save()
    with pytest.raises(plans.PlanError, match="too_many_steps"):
        plans.add_step(plan=plan, raw=PREDICT)


def test_steps_are_described_in_both_languages():
    for step in (QUESTION, PREDICT, SCENARIO):
        en = plans.describe_step(step=step, lang="en")
        zh = plans.describe_step(step=step, lang="zh-hans")
        assert en["kind"] == zh["kind"] == step["kind"]
        assert en["label"] and en["kind_text"] != zh["kind_text"]
        assert CJK.search(zh["kind_text"]) and CJK.search(zh["detail"] + zh["label"])
    assert "Which probe" in plans.describe_step(step=QUESTION, lang="en")["label"]
    assert "30 s" in plans.describe_step(step=QUESTION, lang="en")["detail"]
    # The scenario's "what to watch" line is the example's, translated.
    assert "STATUS" in plans.describe_step(step=SCENARIO, lang="en")["detail"]
    assert "moves from" not in plans.describe_step(step=SCENARIO, lang="zh-hans")["detail"]


@pytest.mark.django_db
def test_a_room_follows_only_its_instructors_plans():
    teacher, other = make_teacher(), make_teacher("other")
    room = make_room(teacher)
    mine = plans.create_plan(instructor=teacher, title="mine")
    theirs = plans.create_plan(instructor=other, title="theirs")
    with pytest.raises(plans.PlanError, match="no_plan"):
        plans.choose_plan(room_pk=room.pk, plan_pk=theirs.pk, user=teacher)
    with pytest.raises(plans.PlanError, match="no_plan"):
        plans.step_to_run(room_pk=room.pk)
    plans.add_step(plan=mine, raw=QUESTION)
    plans.choose_plan(room_pk=room.pk, plan_pk=mine.pk, user=teacher)
    assert plans.step_to_run(room_pk=room.pk) == (0, QUESTION)
    plans.mark_run(room_pk=room.pk, index=0)
    with pytest.raises(plans.PlanError, match="plan_finished"):
        plans.step_to_run(room_pk=room.pk)
    assert plans.step_to_run(room_pk=room.pk, index=0) == (0, QUESTION)  # run again
    message = plans.plan_message(room_pk=room.pk, user=teacher, lang="en")
    assert [p["title"] for p in message["plans"]] == ["mine"]
    assert message["plan"]["id"] == mine.pk and message["position"] == 1
    assert plans.progress_message(room_pk=room.pk) == {
        "type": "classroom.progress", "title": "mine", "position": 1, "total": 1}
    # A deleted plan leaves the room following none.
    mine.delete()
    assert Room.objects.get(pk=room.pk).plan is None


# --- the plan pages -----------------------------------------------------------------------

@pytest.mark.django_db
def test_plan_pages_are_for_instructors_and_their_own_plans(client):
    teacher, other = make_teacher(), make_teacher("other")
    theirs = plans.create_plan(instructor=other, title="theirs")
    assert client.get(reverse("classroom:plans")).status_code == 302  # log in first
    client.force_login(User.objects.create_user("student", password="x"))
    assert client.get(reverse("classroom:plans")).status_code == 403
    client.force_login(teacher)
    assert client.get(reverse("classroom:plan", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("classroom:plan", args=[theirs.pk]),
                       {"op": "delete"}).status_code == 404
    assert LessonPlan.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_an_instructor_builds_a_plan_with_the_forms(client):
    teacher = make_teacher()
    client.force_login(teacher)
    response = client.post(reverse("classroom:plans"), {"title": ""})
    assert response.status_code == 400 and "Give the plan a title." in response.content.decode()
    response = client.post(reverse("classroom:plans"), {"title": "Probes"})
    plan = LessonPlan.objects.get(instructor=teacher)
    assert response.url == reverse("classroom:plan", args=[plan.pk])
    url = response.url
    client.post(url, {"op": "add-question", "bank": "probes/which-probe", "countdown": "20"})
    client.post(url, {"op": "add-predict", "seconds": "60", "countdown": "0"})
    client.post(url, {"op": "add-scenario", "example": "what-is-a-pod-hello", "seed": "5"})
    client.post(url, {"op": "up", "step": "2"})
    plan.refresh_from_db()
    assert plan.steps == [
        {"kind": "question", "lesson": "probes", "question": "which-probe", "countdown": 20},
        {"kind": "scenario", "example": "what-is-a-pod-hello", "seed": 5},
        {"kind": "predict", "seconds": 60, "countdown": 0}]
    # A bad step is refused where it was entered, in the page's language.
    response = client.post(url.replace("/en/", "/zh-hans/"),
                           {"op": "add-question", "bank": "probes/nope", "countdown": "20"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-op="add-question"' in page and 'data-field="question"' in page
    assert plans.plan_error_text(code="unknown_question", lang="zh-hans") in page
    page = client.get(url).content.decode()
    assert "Which probe" in page and "what-is-a-pod-hello" in page
    client.post(url, {"op": "delete"})
    assert not LessonPlan.objects.filter(pk=plan.pk).exists()


# --- a console running a plan -------------------------------------------------------------

pytestmark_consumers = pytest.mark.django_db(transaction=True)


async def _plan_for(room, *steps):
    def build():
        plan = plans.create_plan(instructor=room.instructor, title="Probes, week 4")
        for step in steps:
            plans.add_step(plan=plan, raw=step)
        return plan
    return await db(build)()


@pytestmark_consumers
async def test_a_console_runs_a_plan_and_the_room_follows(room):
    plan = await _plan_for(room, SCENARIO, QUESTION, PREDICT)
    teacher = await teacher_socket(room)
    first = await receive_type(teacher, "classroom.plan")
    assert first["plan"] is None and [p["id"] for p in first["plans"]] == [plan.pk]
    screen = await open_socket(f"/ws/classroom/{room.code}/project/", room.teacher_key,
                               lang="zh-hans")
    assert (await screen.connect())[0]
    assert (await receive_type(screen, "classroom.progress"))["title"] is None
    ann = await student_socket(room, "ann", "zh-hans")

    await teacher.send_json_to({"type": "classroom.plan", "plan": plan.pk})
    chosen = await receive_type(teacher, "classroom.plan", where=lambda m: m["plan"])
    assert [s["kind"] for s in chosen["plan"]["steps"]] == ["scenario", "question", "predict"]
    assert chosen["position"] == 0

    # Step 1, the scenario: the example's Pod in every view.
    await teacher.send_json_to({"type": "classroom.next"})
    snapshot = await receive_type(ann, "classroom.snapshot")
    assert snapshot["pods"][0]["metadata"]["name"]
    assert (await receive_type(teacher, "classroom.plan"))["position"] == 1
    chosen = await receive_type(screen, "classroom.progress")
    assert (chosen["title"], chosen["position"]) == ("Probes, week 4", 0)
    progress = await receive_type(screen, "classroom.progress")
    assert (progress["title"], progress["position"], progress["total"]) == (
        "Probes, week 4", 1, 3)
    state = await db(lambda: Room.objects.get(pk=room.pk))()
    assert state.seed == 3 and "kind: Pod" in state.manifest

    # Step 2, the bank question, with the plan's countdown, in the student's language.
    await teacher.send_json_to({"type": "classroom.next"})
    asked = await receive_type(ann, "classroom.question", where=lambda m: m["question"])
    assert asked["question"]["countdown"] == 30 and CJK.search(asked["question"]["prompt"])
    assert "correct" not in asked["question"]
    # Step 3, a live predict question on the scenario's Pod.
    await teacher.send_json_to({"type": "classroom.next"})
    asked = await receive_type(ann, "classroom.question",
                               where=lambda m: m["question"] and m["question"]["qtype"]
                               == "predict")
    assert asked["question"]["source"] == "live-predict"
    done = await receive_type(teacher, "classroom.plan", where=lambda m: m["position"] == 3)
    assert done["position"] == 3
    await teacher.send_json_to({"type": "classroom.next"})
    error = await receive_type(teacher, "classroom.error")
    assert error["code"] == "plan_finished" and error["message"] == (
        "Every step of the plan has been run.")
    # Jumping back repeats a step; the position follows.
    await teacher.send_json_to({"type": "classroom.next", "step": 1})
    assert (await receive_type(teacher, "classroom.plan"))["position"] == 2
    await teacher.send_json_to({"type": "classroom.next", "step": 9})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "no_step"
    for socket in (teacher, screen, ann):
        await socket.disconnect()


@pytestmark_consumers
async def test_a_predict_step_without_a_simulation_does_not_count(room):
    plan = await _plan_for(room, PREDICT)
    teacher = await teacher_socket(room)
    await teacher.send_json_to({"type": "classroom.plan", "plan": plan.pk})
    await receive_type(teacher, "classroom.plan", where=lambda m: m["plan"])
    await teacher.send_json_to({"type": "classroom.next"})
    assert (await receive_type(teacher, "classroom.error"))["code"] == "no_simulation"
    assert (await db(lambda: Room.objects.get(pk=room.pk).plan_position)()) == 0
    await teacher.disconnect()


@pytestmark_consumers
async def test_a_reconnected_console_carries_on_and_students_cannot_drive(room):
    plan = await _plan_for(room, QUESTION, QUESTION)
    teacher = await teacher_socket(room)
    await teacher.send_json_to({"type": "classroom.plan", "plan": plan.pk})
    await receive_type(teacher, "classroom.plan", where=lambda m: m["plan"])
    await teacher.send_json_to({"type": "classroom.next"})
    await receive_type(teacher, "classroom.plan", where=lambda m: m["position"] == 1)
    await teacher.disconnect()
    again = await teacher_socket(room, lang="zh-hans")
    shown = await receive_type(again, "classroom.plan")
    assert shown["plan"]["id"] == plan.pk and shown["position"] == 1
    assert CJK.search(shown["plan"]["steps"][0]["label"])
    ann = await student_socket(room, "ann")
    for message in ({"type": "classroom.next"}, {"type": "classroom.plan", "plan": None}):
        await ann.send_json_to(message)
        assert (await receive_type(ann, "classroom.error"))["code"] == "forbidden"
    # Someone else's plan cannot be chosen.
    other = await db(lambda: plans.create_plan(instructor=make_teacher("other"), title="x"))()
    await again.send_json_to({"type": "classroom.plan", "plan": other.pk})
    refused = await receive_type(again, "classroom.error")
    assert refused["code"] == "no_plan" and CJK.search(refused["message"])
    for socket in (again, ann):
        await socket.disconnect()
