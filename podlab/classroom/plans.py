"""Lesson plans: an instructor's prepared sequence of steps, reused in any of their rooms.

A step is one of
  ``{"kind": "question", "lesson": SLUG, "question": ID, "countdown": S}`` (a bank question),
  ``{"kind": "predict", "seconds": N, "countdown": S}`` (a live predict question on the
  room's first Pod), or ``{"kind": "scenario", "example": ID, "seed": N}`` (an example manifest
  applied to the room).
A room follows at most one plan; ``Room.plan_position`` counts the steps run, so a console
that reconnects (to any process) carries on where the room is.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import translation
from django.utils.translation import gettext

from podlab.course.content import course
from podlab.quizzes.bank import get_question

from . import questions as q
from .models import LessonPlan, Room

QUESTION, PREDICT, SCENARIO = "question", "predict", "scenario"
KINDS = (QUESTION, PREDICT, SCENARIO)
MAX_STEPS = 100
MAX_TITLE = 120
MAX_SEED = 2**31


class PlanError(Exception):
    """A plan edit or step the classroom refuses; ``code`` names it, ``field`` locates it."""

    def __init__(self, code: str, *, field: str = "", step: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.step = step


def plan_error_text(*, code: str, lang: str) -> str:
    with translation.override(lang):
        texts = {
            "title_required": gettext("Give the plan a title."),
            "unknown_question": gettext("There is no such question in the lesson banks."),
            "unknown_example": gettext("There is no such example."),
            "bad_countdown": gettext("Choose a voting time from the list."),
            "bad_seconds": gettext("Choose how far ahead the question looks from the list."),
            "bad_seed": gettext("The seed is a whole number from 0 to 2147483647."),
            "bad_kind": gettext("There is no such kind of step."),
            "too_many_steps": gettext("A plan holds at most 100 steps."),
            "no_step": gettext("There is no such step in the plan."),
            "no_plan": gettext("Choose a lesson plan for this room first."),
            "plan_finished": gettext("Every step of the plan has been run."),
        }
    return texts.get(code, code)


# --- plans --------------------------------------------------------------------------------

def _title(raw: Any) -> str:
    title = raw.strip() if isinstance(raw, str) else ""
    if not title:
        raise PlanError("title_required", field="title")
    return title[:MAX_TITLE]


def create_plan(*, instructor: AbstractBaseUser, title: Any) -> LessonPlan:
    return LessonPlan.objects.create(instructor=instructor, title=_title(title))


def rename_plan(*, plan: LessonPlan, title: Any) -> LessonPlan:
    plan.title = _title(title)
    plan.save(update_fields=["title", "updated_at"])
    return plan


def plans_of(*, instructor: AbstractBaseUser) -> list[LessonPlan]:
    return list(LessonPlan.objects.filter(instructor=instructor))


def plan_for_instructor(*, pk: Any, user: AbstractBaseUser | None) -> LessonPlan | None:
    if user is None or not user.is_authenticated or isinstance(pk, bool):
        return None
    try:
        number = int(pk)
    except (TypeError, ValueError):
        return None
    return LessonPlan.objects.filter(pk=number, instructor=user).first()


# --- steps --------------------------------------------------------------------------------

def _int(raw: Any) -> int | None:
    """A whole number from a socket (int) or a form (text); None if it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _countdown(raw: Any) -> int:
    seconds = 0 if raw in (None, "") else _int(raw)
    if seconds is None or seconds not in q.COUNTDOWNS:
        raise PlanError("bad_countdown", field="countdown")
    return seconds


def clean_step(*, raw: Any) -> dict[str, Any]:
    """A step as stored, or PlanError naming the field that is wrong."""
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise PlanError("bad_kind", field="kind")
    kind = raw["kind"]
    if kind == QUESTION:
        lesson, qid = raw.get("lesson"), raw.get("question")
        found = (get_question(lesson_slug=lesson, question_id=qid)
                 if isinstance(lesson, str) and isinstance(qid, str) else None)
        if found is None or found.type not in q.LIVE_TYPES:
            raise PlanError("unknown_question", field="question")
        return {"kind": kind, "lesson": lesson, "question": qid,
                "countdown": _countdown(raw.get("countdown"))}
    if kind == PREDICT:
        seconds = _int(raw.get("seconds"))
        if seconds not in q.PREDICT_HORIZONS:
            raise PlanError("bad_seconds", field="seconds")
        return {"kind": kind, "seconds": seconds, "countdown": _countdown(raw.get("countdown"))}
    example = raw.get("example")
    if not isinstance(example, str) or example not in course().examples:
        raise PlanError("unknown_example", field="example")
    seed = 0 if raw.get("seed") in (None, "") else _int(raw.get("seed"))
    if seed is None or not 0 <= seed < MAX_SEED:
        raise PlanError("bad_seed", field="seed")
    return {"kind": kind, "example": example, "seed": seed}


def add_step(*, plan: LessonPlan, raw: Any) -> LessonPlan:
    step = clean_step(raw=raw)
    if len(plan.steps) >= MAX_STEPS:
        raise PlanError("too_many_steps")
    plan.steps = [*plan.steps, step]
    plan.save(update_fields=["steps", "updated_at"])
    return plan


def _index(plan: LessonPlan, raw: Any) -> int:
    index = _int(raw)
    if index is None or not 0 <= index < len(plan.steps):
        raise PlanError("no_step", field="step")
    return index


def remove_step(*, plan: LessonPlan, index: Any) -> LessonPlan:
    at = _index(plan, index)
    plan.steps = [s for i, s in enumerate(plan.steps) if i != at]
    plan.save(update_fields=["steps", "updated_at"])
    return plan


def move_step(*, plan: LessonPlan, index: Any, delta: int) -> LessonPlan:
    """Swap a step with its neighbour (``delta`` -1 up, +1 down); at an end, nothing moves."""
    at = _index(plan, index)
    other = at + delta
    if 0 <= other < len(plan.steps):
        steps = list(plan.steps)
        steps[at], steps[other] = steps[other], steps[at]
        plan.steps = steps
        plan.save(update_fields=["steps", "updated_at"])
    return plan


def _voting(countdown: int) -> str:
    return (gettext("{seconds} s to vote").format(seconds=countdown) if countdown
            else gettext("voting until you close it"))


def describe_step(*, step: dict[str, Any], lang: str) -> dict[str, str]:
    """What the console and the plan page show of a step, in ``lang``."""
    with translation.override(lang):
        kind = step.get("kind")
        if kind == QUESTION:
            found = get_question(lesson_slug=step["lesson"], question_id=step["question"])
            lesson = course().get(step["lesson"])
            where = lesson.title_in(lang) if lesson is not None else step["lesson"]
            label = found.prompt.get(lang) if found is not None else step["question"]
            return {"kind": kind, "kind_text": gettext("Question"), "label": label,
                    "detail": f"{where} · {_voting(step['countdown'])}"}
        if kind == PREDICT:
            return {"kind": kind, "kind_text": gettext("Predict"),
                    "label": gettext("What will kubectl get pods show for the first Pod in "
                                     "{seconds} s?").format(seconds=step["seconds"]),
                    "detail": _voting(step["countdown"])}
        from podlab.lab.views import watch_hint  # each example's "# Watch:" line, translated

        example = course().examples.get(step.get("example", ""))
        hint = watch_hint(example, lang)[0] if example is not None else ""
        return {"kind": kind, "kind_text": gettext("Scenario"), "label": step.get("example", ""),
                "detail": " · ".join(v for v in (hint, gettext("seed {seed}").format(
                    seed=step.get("seed", 0))) if v)}


# --- a room following a plan --------------------------------------------------------------

def choose_plan(*, room_pk: int, plan_pk: Any, user: AbstractBaseUser | None) -> None:
    """Follow one of the instructor's plans from its first step (None: follow none)."""
    plan = None
    if plan_pk is not None:
        plan = plan_for_instructor(pk=plan_pk, user=user)
        if plan is None:
            raise PlanError("no_plan", field="plan")
    Room.objects.filter(pk=room_pk).update(plan=plan, plan_position=0)


def step_to_run(*, room_pk: int, index: Any = None) -> tuple[int, dict[str, Any]]:
    """The step the console runs: the next one, or the one at ``index`` (jumping)."""
    room = Room.objects.select_related("plan").get(pk=room_pk)
    if room.plan is None:
        raise PlanError("no_plan", field="plan")
    steps = room.plan.steps
    if index is None:
        if room.plan_position >= len(steps):
            raise PlanError("plan_finished")
        at = room.plan_position
    else:
        at = _int(index) if not isinstance(index, str) else None
        if at is None or not 0 <= at < len(steps):
            raise PlanError("no_step", field="step")
    # Checked again: a lesson's bank may have changed since the plan was saved.
    return at, clean_step(raw=steps[at])


def mark_run(*, room_pk: int, index: int) -> None:
    """Record that the step at ``index`` ran: the next one is the one after it."""
    Room.objects.filter(pk=room_pk).update(plan_position=index + 1)


def plan_message(*, room_pk: int, user: AbstractBaseUser | None, lang: str) -> dict[str, Any]:
    """``classroom.plan`` for the console: the instructor's plans, the one followed, its
    steps in ``lang`` and how many have been run."""
    room = Room.objects.select_related("plan").get(pk=room_pk)
    plans = plans_of(instructor=user) if user is not None and user.is_authenticated else []
    chosen = None
    if room.plan is not None:
        chosen = {"id": room.plan.pk, "title": room.plan.title,
                  "steps": [describe_step(step=s, lang=lang) for s in room.plan.steps]}
    return {"type": "classroom.plan", "plans": [{"id": p.pk, "title": p.title} for p in plans],
            "plan": chosen, "position": room.plan_position}


def progress_message(*, room_pk: int) -> dict[str, Any]:
    """``classroom.progress`` for the big screen: the plan's title and where the room is."""
    room = Room.objects.select_related("plan").get(pk=room_pk)
    if room.plan is None:
        return {"type": "classroom.progress", "title": None, "position": 0, "total": 0}
    return {"type": "classroom.progress", "title": room.plan.title,
            "position": min(room.plan_position, len(room.plan.steps)),
            "total": len(room.plan.steps)}
