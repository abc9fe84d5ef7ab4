"""Live questions: pushed by the instructor, answered on the students' devices.

Two sources: the lessons' banks (single, multiple and predict questions) and live predict
questions made from the room's own simulation ("what will STATUS show in 30 s?"), answered
by running a copy of the simulation forward with the engine.

A question goes open -> (locked -> open again for a revote, the peer-instruction flow) ->
revealed -> ended. One answer per seat and round: answering again while the round is open
replaces it, so every seat counts once.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from podlab.engine.kubectl.get import get_pods, summarize_pod
from podlab.lab.services import LabSession
from podlab.quizzes.bank import Question, banks, get_question
from podlab.quizzes.grading import InvalidAnswer, grade, normalise_answer
from podlab.quizzes.predict import NOT_FOUND, EngineUnavailable, engine_outcome

from . import presence
from .models import Answer, Connection, Room, RoomQuestion, Seat
from .sim import build_lab

LIVE_TYPES = ("single", "multiple", "predict", "order", "short")
# Answers that are not one vote per choice: tallied as right or wrong (and, for short answers,
# the texts given most often), never per choice.
GRADED_TYPES = ("order", "short")
PREDICT_HORIZONS = (10, 30, 60, 120)
# Seconds of voting the instructor may choose when pushing a question; 0 is "until I close it".
COUNTDOWNS = (0, 10, 20, 30, 45, 60, 90, 120)
# Values kubectl's STATUS column plausibly shows; distractors are drawn from these after the
# values the room has already seen.
PLAUSIBLE_STATUS = ("Running", "Pending", "ContainerCreating", "CrashLoopBackOff", "Error",
                    "Completed", "Terminating", "ImagePullBackOff", "PodInitializing",
                    "OOMKilled", "Init:0/1", NOT_FOUND)
CHOICES_PER_PREDICT = 4


class QuestionError(Exception):
    """A question request the room refuses; ``code`` is a protocol error code."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class BankEntry:
    lesson_slug: str
    question_id: str
    qtype: str
    prompt: str


def bank_entries(*, lang: str) -> list[BankEntry]:
    """Questions of the lesson banks that can be asked live (every type)."""
    out = []
    for slug, bank in banks().items():
        for q in bank.questions:
            if q.type in LIVE_TYPES:
                out.append(BankEntry(lesson_slug=slug, question_id=q.id, qtype=q.type,
                                     prompt=q.prompt.get(lang)))
    return out


def _token(key: str, value: str) -> str:
    return hashlib.sha256(f"{key}\x00{value}".encode()).hexdigest()[:12]


def _bank_question(question: RoomQuestion) -> Question:
    found = get_question(lesson_slug=question.lesson_slug, question_id=question.question_id)
    if found is None:
        raise QuestionError("unknown_question")
    return found


def current_question(*, room_pk: int) -> RoomQuestion | None:
    return (RoomQuestion.objects.filter(room_id=room_pk).exclude(state=RoomQuestion.ENDED)
            .order_by("-number").first())


def _next_number(room: Room) -> int:
    top = room.questions.aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def _end_current(room: Room) -> None:
    room.questions.exclude(state=RoomQuestion.ENDED).update(state=RoomQuestion.ENDED)


def _create(room: Room, **fields: Any) -> RoomQuestion:
    for _ in range(5):
        try:
            with transaction.atomic():
                _end_current(room)
                return RoomQuestion.objects.create(room=room, number=_next_number(room),
                                                   **fields)
        except IntegrityError:  # two pushes at once: take the next number
            continue
    raise QuestionError("busy")


def clean_countdown(raw: Any) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in COUNTDOWNS:
        raise QuestionError("bad_field", field="countdown", allowed=list(COUNTDOWNS))
    return raw


def _closes(countdown: int, now: datetime | None) -> datetime | None:
    if not countdown:
        return None
    return (now or timezone.now()) + timedelta(seconds=countdown)


def push_bank_question(*, room: Room, lesson_slug: str, question_id: str,
                       countdown: Any = 0, now: datetime | None = None) -> RoomQuestion:
    seconds = clean_countdown(countdown)
    found = get_question(lesson_slug=lesson_slug, question_id=question_id)
    if found is None or found.type not in LIVE_TYPES:
        raise QuestionError("unknown_question")
    if found.predict is not None:
        try:
            engine_outcome(spec=found.predict)
        except EngineUnavailable as exc:
            raise QuestionError("engine_unavailable", reason=str(exc)) from exc
    return _create(room, source=RoomQuestion.BANK, qtype=found.type, lesson_slug=lesson_slug,
                   question_id=question_id, countdown=seconds, closes_at=_closes(seconds, now))


def _status_of(lab: LabSession, pod: str) -> str:
    found = next((p for p in lab.sim.pods() if p["metadata"]["name"] == pod), None)
    if found is None:
        return NOT_FOUND
    return summarize_pod(pod=found, now=lab.t).status


def _statuses_seen(lab: LabSession, pod: str) -> list[str]:
    seen: list[str] = []
    for record in lab.sim.records:
        if record.kind == "Pod" and record.object["metadata"]["name"] == pod:
            value = summarize_pod(pod=record.object, now=record.t).status
            if value not in seen:
                seen.append(value)
    return seen


def predict_status(*, manifest: str, seed: int, actions: list[dict[str, Any]], t: float,
                   pod: str | None, seconds: float) -> dict[str, Any]:
    """Run a copy of the room's simulation ``seconds`` forward; the answer and its choices.

    Distractors come first from the STATUS values the Pod has shown so far, then from
    plausible ones in a shuffled order fixed by the moment; exactly one choice is right.
    """
    lab = build_lab(manifest=manifest, seed=seed, actions=actions, t=t)
    names = [p["metadata"]["name"] for p in lab.sim.pods()]
    if pod is None:
        if not names:
            raise QuestionError("no_pod")
        pod = names[0]
    elif pod not in names:
        raise QuestionError("no_pod", pod=pod)
    seen = _statuses_seen(lab, pod)
    now_status = _status_of(lab, pod)
    at = min(t + seconds, lab.until)
    lab.advance_to(at)  # recorded actions after t would be replayed; the room has none
    answer = _status_of(lab, pod)
    table = get_pods(pods=lab.sim.pods(), now=lab.t) if lab.sim.pods() else ""
    distractors = [v for v in [now_status, *seen] if v != answer]
    rng = random.Random(f"{seed}:{t}:{pod}")  # noqa: S311 - a fixed order, not a secret
    plausible = [v for v in PLAUSIBLE_STATUS if v != answer]
    rng.shuffle(plausible)
    for value in plausible:
        distractors.append(value)
    values = [answer]
    for value in distractors:
        if value not in values:
            values.append(value)
        if len(values) == CHOICES_PER_PREDICT:
            break
    return {"pod": pod, "from_t": t, "at": at, "seconds": at - t, "values": values,
            "answer": answer, "table": table}


def live_predict_request(*, room: Room, pod: str | None, seconds: Any,
                         countdown: Any = 0) -> dict[str, Any]:
    """Check a live predict question for the room's saved moment: the keyword arguments of
    ``predict_status`` (which runs the simulation, so the console has it done in a worker)."""
    clean_countdown(countdown)
    if not room.manifest:
        raise QuestionError("no_simulation")
    if seconds not in PREDICT_HORIZONS:
        raise QuestionError("bad_field", field="seconds", allowed=list(PREDICT_HORIZONS))
    return {"manifest": room.manifest, "seed": room.seed, "actions": list(room.actions),
            "t": room.t, "pod": pod, "seconds": float(seconds)}


def push_live_predict(*, room: Room, data: dict[str, Any], countdown: Any = 0,
                      now: datetime | None = None) -> RoomQuestion:
    """Open a live predict question with ``data``, what ``predict_status`` answered."""
    voting = clean_countdown(countdown)
    return _create(room, source=RoomQuestion.LIVE_PREDICT, qtype="predict", data=data,
                   countdown=voting, closes_at=_closes(voting, now))


# --- what each side sees ------------------------------------------------------------------

def _choices(question: RoomQuestion, lang: str) -> list[dict[str, str]]:
    if question.source == RoomQuestion.LIVE_PREDICT:
        key = f"room-{question.room_id}/{question.number}"
        items = [{"token": _token(key, v), "text": v} for v in question.data["values"]]
        return sorted(items, key=lambda c: c["token"])
    found = _bank_question(question)
    if found.type == "short":
        return []
    return [{"token": found.token(c.id), "text": c.text.get(lang) if c.text else c.value}
            for c in found.shuffled_choices()]


def correct_tokens(*, question: RoomQuestion) -> list[str]:
    if question.source == RoomQuestion.LIVE_PREDICT:
        key = f"room-{question.room_id}/{question.number}"
        return [_token(key, question.data["answer"])]
    found = _bank_question(question)
    if found.predict is not None:
        value = engine_outcome(spec=found.predict).value
        return [found.token(c.id) for c in found.choices if c.value == value]
    if found.type == "order":
        return [found.token(c.id) for c in found.choices]  # the right order
    if found.type == "short":
        return list(found.answers)  # accepted texts
    return [found.token(c.id) for c in found.choices if c.correct]


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _prompt(question: RoomQuestion, lang: str) -> tuple[str, str]:
    """(prompt, code) in ``lang``."""
    if question.source == RoomQuestion.LIVE_PREDICT:
        d = question.data
        with translation.override(lang):
            return gettext(
                "What will the STATUS column of kubectl get pods show for %(pod)s in "
                "%(seconds)s s (at t = %(at)s s)?") % {
                    "pod": d["pod"], "seconds": _fmt_seconds(d["seconds"]),
                    "at": _fmt_seconds(d["at"])}, ""
    found = _bank_question(question)
    return found.prompt.get(lang), found.code


def _explanation(question: RoomQuestion, lang: str) -> tuple[str, str]:
    """(explanation, table) in ``lang``, shown once revealed."""
    if question.source == RoomQuestion.LIVE_PREDICT:
        d = question.data
        with translation.override(lang):
            text = gettext("The engine ran a copy of this simulation to t = %(at)s s: "
                           "STATUS shows %(answer)s. Play on to watch it happen.") % {
                "at": _fmt_seconds(d["at"]), "answer": d["answer"]}
        return text, d.get("table", "")
    found = _bank_question(question)
    table = ""
    if found.predict is not None:
        table = engine_outcome(spec=found.predict).table
    return found.explanation.get(lang), table


def render_question(*, question: RoomQuestion | None, lang: str,
                    instructor: bool = False) -> dict[str, Any]:
    """``classroom.question`` in ``lang``; the answer only once revealed (or for the teacher)."""
    if question is None or question.state == RoomQuestion.ENDED:
        return {"type": "classroom.question", "question": None}
    prompt, code = _prompt(question, lang)
    body: dict[str, Any] = {
        "id": question.pk, "number": question.number, "round": question.round,
        "state": question.state, "qtype": question.qtype, "prompt": prompt, "code": code,
        "multiple": question.qtype == "multiple", "choices": _choices(question, lang),
        "source": question.source,
    }
    if question.source == RoomQuestion.LIVE_PREDICT:
        body["target_t"] = question.data["at"]
    body["countdown"] = question.countdown
    if question.state == RoomQuestion.OPEN and question.closes_at is not None:
        # Seconds left when this was rendered: clients count down from when they receive it,
        # so their clocks need not agree with the server's.
        body["closes_in"] = max(0.0, round((question.closes_at - timezone.now())
                                           .total_seconds(), 1))
    if instructor or question.state == RoomQuestion.REVEALED:
        body["correct"] = correct_tokens(question=question)
        body["explanation"], body["table"] = _explanation(question, lang)
    if question.state == RoomQuestion.REVEALED:
        counted = tally(question=question)
        body["tally"] = counted["counts"]
        if question.qtype in GRADED_TYPES:
            # What students typed goes to the instructor only, never to the big screen.
            body["graded"] = {"right": counted["right"],
                              "wrong": counted["answered"] - counted["right"],
                              **({"top": counted["top"]} if instructor else {})}
    return {"type": "classroom.question", "question": body}


# --- answering ----------------------------------------------------------------------------

def _grade(question: RoomQuestion, raw: Any) -> tuple[Any, bool]:
    if question.source == RoomQuestion.LIVE_PREDICT:
        choices = {c["token"] for c in _choices(question, "en")}
        if not isinstance(raw, str) or raw not in choices:
            raise QuestionError("bad_field", field="answer")
        return raw, raw in correct_tokens(question=question)
    found = _bank_question(question)
    try:
        normalised = normalise_answer(question=found, raw=raw)
    except InvalidAnswer as exc:
        raise QuestionError("bad_field", field="answer") from exc
    return normalised, grade(question=found, answer=normalised).correct


def submit_answer(*, seat: Seat, question_pk: Any, round_number: Any, raw: Any,
                  now: datetime | None = None) -> Answer:
    """Record the seat's answer for the open round; replaces an earlier one in that round.

    Past the countdown the round takes no answers, whether or not it was closed yet.
    """
    if isinstance(question_pk, bool) or not isinstance(question_pk, int):
        raise QuestionError("bad_field", field="question")
    question = RoomQuestion.objects.filter(pk=question_pk, room_id=seat.room_id).first()
    if question is None:
        raise QuestionError("bad_field", field="question")
    if question.state != RoomQuestion.OPEN or round_number != question.round:
        raise QuestionError("question_closed")
    if question.closes_at is not None and (now or timezone.now()) >= question.closes_at:
        raise QuestionError("question_closed")
    answer, correct = _grade(question, raw)
    row, _ = Answer.objects.update_or_create(
        question=question, seat=seat, round=question.round,
        defaults={"answer": answer, "correct": correct})
    return row


def answers_of(*, seat: Seat) -> dict[str, Any]:
    """The seat's answers as ``{"<question>:<round>": answer}`` for its reconnecting page."""
    return {f"{a.question_id}:{a.round}": a.answer
            for a in Answer.objects.filter(seat=seat)}


def tally(*, question: RoomQuestion) -> dict[str, Any]:
    """Counts per choice token in the current round, and who answered."""
    rows = list(Answer.objects.filter(question=question, round=question.round)
                .select_related("seat").order_by("answered_at", "pk"))
    graded = question.qtype in GRADED_TYPES
    counts: dict[str, int] = {} if graded else {c["token"]: 0 for c in _choices(question, "en")}
    top: list[list[Any]] = []
    if question.qtype == "short":
        given: dict[str, int] = {}
        for row in rows:
            given[str(row.answer)] = given.get(str(row.answer), 0) + 1
        top = [[text, n] for text, n in sorted(given.items(), key=lambda i: (-i[1], i[0]))[:5]]
    for row in rows if not graded else []:
        for token in ([row.answer] if isinstance(row.answer, str) else row.answer):
            if token in counts:
                counts[token] += 1
    previous: dict[str, int] = {}
    if question.round > 1 and not graded:
        for row in Answer.objects.filter(question=question, round=question.round - 1):
            for token in ([row.answer] if isinstance(row.answer, str) else row.answer):
                previous[token] = previous.get(token, 0) + 1
    return {"question": question.pk, "round": question.round, "counts": counts,
            "previous": previous, "answered": len(rows),
            "names": [row.seat.name for row in rows],
            "right": sum(1 for row in rows if row.correct), "top": top}


def set_state(*, question: RoomQuestion, state: str) -> RoomQuestion:
    allowed = {
        RoomQuestion.LOCKED: {RoomQuestion.OPEN},
        RoomQuestion.REVEALED: {RoomQuestion.OPEN, RoomQuestion.LOCKED},
        RoomQuestion.ENDED: {RoomQuestion.OPEN, RoomQuestion.LOCKED, RoomQuestion.REVEALED},
    }
    if question.state not in allowed[state]:
        raise QuestionError("question_closed")
    question.state = state
    question.revealed = question.revealed or state == RoomQuestion.REVEALED
    question.save(update_fields=["state", "revealed"])
    return question


def revote(*, question: RoomQuestion, now: datetime | None = None) -> RoomQuestion:
    """Peer instruction: after a locked round and a discussion, everyone votes again (with
    the same countdown as the first round)."""
    if question.state != RoomQuestion.LOCKED or question.round >= 2:
        raise QuestionError("question_closed")
    question.round += 1
    question.state = RoomQuestion.OPEN
    question.closes_at = _closes(question.countdown, now)
    question.save(update_fields=["round", "state", "closes_at"])
    return question


def close_if_due(*, question_pk: int, now: datetime | None = None) -> bool:
    """Close voting when the countdown reached zero; True if this call closed it."""
    return bool(RoomQuestion.objects.filter(
        pk=question_pk, state=RoomQuestion.OPEN,
        closes_at__lte=now or timezone.now()).update(state=RoomQuestion.LOCKED))


def clock_limit(*, question: RoomQuestion | None) -> float | None:
    """The simulated time the room may not play past: a live predict question's target,
    until its answer is revealed (or it ends), so the kubectl pane cannot give it away."""
    if (question is None or question.source != RoomQuestion.LIVE_PREDICT
            or question.revealed or question.state == RoomQuestion.ENDED):
        return None
    return float(question.data["at"])


# --- scores -------------------------------------------------------------------------------

def _final_answers(room_pk: int):
    """Answers in the last round of each revealed question."""
    rows = Answer.objects.filter(question__room_id=room_pk, question__revealed=True)
    return [a for a in rows.select_related("question") if a.round == a.question.round]


def score_of(*, seat: Seat) -> int:
    """Right answers in the last round of each question that was revealed."""
    rows = Answer.objects.filter(
        seat=seat, correct=True, question__revealed=True).values_list("round", "question__round")
    return sum(1 for mine, last in rows if mine == last)


def leaderboard(*, room_pk: int, limit: int = 10) -> list[dict[str, Any]]:
    """The best scores of the room, highest first, then by name."""
    scores: dict[Any, int] = {}
    for a in _final_answers(room_pk):
        if a.correct:
            scores[a.seat_id] = scores.get(a.seat_id, 0) + 1
    names = dict(Seat.objects.filter(room_id=room_pk).values_list("pk", "name"))
    rows = sorted(((n, names.get(seat_id, "")) for seat_id, n in scores.items()),
                  key=lambda r: (-r[0], r[1]))
    return [{"name": name, "score": n} for n, name in rows[:limit]]


def roster_mark(*, room_pk: int) -> tuple[Any, ...]:
    """Changes whenever ``roster`` would: seats joined, and the room's live student sockets
    (a new socket has a new, higher id; a closed or expired one lowers the count). Two small
    aggregate queries, so a room of 2,000 seats is not listed every two seconds for nothing."""
    seats = Seat.objects.filter(room_id=room_pk).order_by().aggregate(
        n=Count("pk"), last=Max("joined_at"))
    sockets = (presence.live(room_pk=room_pk).filter(role=Connection.STUDENT).order_by()
               .aggregate(n=Count("pk"), top=Max("pk")))
    return seats["n"], seats["last"], sockets["n"], sockets["top"]


def roster(*, room_pk: int) -> dict[str, Any]:
    """Every seat with its language and whether any of its sockets is connected.

    ``languages`` counts seats per language: the grouping query must not carry the list's
    ordering, or the database would group per seat.
    """
    seats = list(Seat.objects.filter(room_id=room_pk).order_by("joined_at")
                 .values_list("pk", "name", "lang"))
    langs = dict(Seat.objects.filter(room_id=room_pk).order_by().values_list("lang")
                 .annotate(n=Count("pk")))
    online = presence.online_seats(room_pk=room_pk)
    return {"type": "classroom.roster",
            "seats": [{"name": name, "online": pk in online, "lang": lang}
                      for pk, name, lang in seats],
            "online": sum(1 for pk, _, _ in seats if pk in online), "languages": langs}
