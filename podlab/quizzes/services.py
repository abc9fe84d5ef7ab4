"""What the quiz views do, as small functions with keyword-only arguments.

Every function that depends on time takes ``now`` so tests control the clock; views pass
nothing and get ``timezone.now()``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .bank import Question, banks, get_question
from .grading import Grade, InvalidAnswer, grade, normalise_answer
from .models import REVIEW_INTERVALS, Attempt, Learner, QuestionStat, ReviewItem

SESSION_KEY = "quizzes.learner"
#: Attempts kept per learner and question: the newest ones. Progress reads only the latest,
#: and the review queue keeps its own rows, so older attempts add nothing a learner sees;
#: without a bound, one quiz pass (or one account) posting fresh submission ids in a loop
#: could store any number of rows. The question's running totals still count every answer.
ATTEMPTS_KEPT = 5


@dataclass(frozen=True)
class SubmitResult:
    attempt: Attempt | None  # None: graded but not stored (an anonymous answer without a pass)
    grade: Grade
    duplicate: bool  # the same submission was already counted; nothing changed


@dataclass(frozen=True)
class LessonScore:
    lesson_slug: str
    total: int
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


@dataclass(frozen=True)
class ReviewEntry:
    item: ReviewItem
    question: Question
    due: bool


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def parse_submission_id(*, raw: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError) as exc:
        raise InvalidAnswer("missing or malformed submission id") from exc


# --- learners -----------------------------------------------------------------------------

def current_learner(*, session: SessionBase, user: AbstractBaseUser | None,
                    create: bool, pass_key: uuid.UUID | None = None) -> Learner | None:
    """The learner of a request: the user's, or the anonymous one of the session (older
    sessions) or of the quiz pass (``pass_key``, see ``views``); made on first need.

    An anonymous learner is made only from a pass, and its row's key is the pass's: the same
    pass never makes a second row, and a request without a pass makes none (its answer is
    graded, not stored). Passes come from the quiz pages, so a client posting answers in a
    loop cannot fill the learner table.
    """
    if user is not None and user.is_authenticated:
        learner = Learner.objects.filter(user=user).first()
        if learner is None and create:
            learner, _ = Learner.objects.get_or_create(user=user)
        return learner
    raw = session.get(SESSION_KEY)
    if raw:
        learner = Learner.objects.filter(pk=raw, user__isnull=True).first()
        if learner is not None:
            return learner
    if pass_key is None:
        return None
    learner = Learner.objects.filter(pk=pass_key).first()
    if learner is not None:
        # A pass whose learner moved into an account (sign-up, log-in) is used up.
        return learner if learner.user_id is None else None
    if not create:
        return None
    try:
        with transaction.atomic():
            return Learner.objects.create(pk=pass_key)
    except IntegrityError:  # the same pass, twice at once
        return Learner.objects.filter(pk=pass_key, user__isnull=True).first()


def pass_usable(*, pass_key: uuid.UUID | None) -> bool:
    """Whether a quiz pass can still name an anonymous learner (not used up by a sign-in)."""
    return pass_key is not None and not Learner.objects.filter(
        pk=pass_key, user__isnull=False).exists()


def grade_only(*, question: Question, answer: Any) -> SubmitResult:
    """Grade an answer without storing anything (InvalidAnswer, EngineUnavailable as
    ``submit_answer``)."""
    normalised = normalise_answer(question=question, raw=answer)
    return SubmitResult(attempt=None, grade=grade(question=question, answer=normalised),
                        duplicate=False)


def carry_over(*, anonymous: Learner, user: AbstractBaseUser) -> Learner:
    """Give ``user`` the anonymous learner's history; return the user's learner."""
    if anonymous.user_id is not None:
        return anonymous
    with transaction.atomic():
        existing = Learner.objects.select_for_update().filter(user=user).first()
        if existing is None:
            anonymous.user = user
            anonymous.save(update_fields=["user"])
            return anonymous
        taken = set(existing.attempts.values_list("submission_id", flat=True))
        moved = anonymous.attempts.exclude(submission_id__in=taken)
        questions = set(moved.values_list("lesson_slug", "question_id"))
        moved.update(learner=existing)
        for lesson_slug, question_id in sorted(questions):
            _prune(learner=existing, lesson_slug=lesson_slug, question_id=question_id)
        theirs = {(r.lesson_slug, r.question_id): r for r in existing.reviews.all()}
        for item in anonymous.reviews.all():
            other = theirs.get((item.lesson_slug, item.question_id))
            if other is None:
                item.learner = existing
                item.save(update_fields=["learner"])
            elif item.missed_at > other.missed_at:
                # The most recent miss decides where the question stands.
                other.step, other.due_at, other.missed_at = item.step, item.due_at, item.missed_at
                other.save(update_fields=["step", "due_at", "missed_at"])
        anonymous.delete()
        return existing


# --- answering ----------------------------------------------------------------------------

def _replay(attempt: Attempt, question: Question) -> SubmitResult:
    return SubmitResult(attempt=attempt, grade=grade(question=question, answer=attempt.answer),
                        duplicate=True)


def _schedule_review(*, learner: Learner, question: Question, correct: bool,
                     now: datetime) -> bool:
    """Update the review queue; True when this answer was a due review."""
    item = ReviewItem.objects.filter(learner=learner, lesson_slug=question.lesson_slug,
                                     question_id=question.id).first()
    was_due = item is not None and item.due_at <= now
    if not correct:
        if item is None:
            ReviewItem.objects.create(learner=learner, lesson_slug=question.lesson_slug,
                                      question_id=question.id, step=0,
                                      due_at=now + REVIEW_INTERVALS[0], missed_at=now)
        else:
            item.step, item.due_at, item.missed_at = 0, now + REVIEW_INTERVALS[0], now
            item.save(update_fields=["step", "due_at", "missed_at"])
        return was_due
    if item is not None and was_due:
        item.step += 1
        if item.step >= len(REVIEW_INTERVALS):
            item.delete()
        else:
            item.due_at = now + REVIEW_INTERVALS[item.step]
            item.save(update_fields=["step", "due_at"])
    return was_due


def submit_answer(*, learner: Learner, question: Question, answer: Any,
                  submission_id: uuid.UUID, now: datetime | None = None) -> SubmitResult:
    """Grade and record one answer, at most once per submission id.

    Raises InvalidAnswer for a malformed answer and predict.EngineUnavailable when the engine
    cannot answer a predict question; nothing is stored then.
    """
    moment = _now(now)
    normalised = normalise_answer(question=question, raw=answer)
    previous = Attempt.objects.filter(learner=learner, submission_id=submission_id).first()
    if previous is not None:
        return _replay_checked(previous, question)
    result = grade(question=question, answer=normalised)
    try:
        with transaction.atomic():
            # One answer at a time per learner: the lock makes the check above race-free.
            Learner.objects.select_for_update().filter(pk=learner.pk).exists()
            previous = Attempt.objects.filter(learner=learner,
                                              submission_id=submission_id).first()
            if previous is not None:
                return _replay_checked(previous, question)
            was_review = _schedule_review(learner=learner, question=question,
                                          correct=result.correct, now=moment)
            attempt = Attempt.objects.create(
                learner=learner, submission_id=submission_id, lesson_slug=question.lesson_slug,
                question_id=question.id, question_type=question.type, answer=normalised,
                correct=result.correct, was_review=was_review, created_at=moment,
            )
            _prune(learner=learner, lesson_slug=question.lesson_slug, question_id=question.id)
            _count(question=question, correct=result.correct)
    except IntegrityError:
        previous = Attempt.objects.get(learner=learner, submission_id=submission_id)
        return _replay_checked(previous, question)
    return SubmitResult(attempt=attempt, grade=result, duplicate=False)


def _prune(*, learner: Learner, lesson_slug: str, question_id: str) -> int:
    """Keep only the newest ``ATTEMPTS_KEPT`` attempts of one question; the number deleted."""
    rows = Attempt.objects.filter(learner=learner, lesson_slug=lesson_slug,
                                  question_id=question_id)
    keep = list(rows.order_by("-created_at", "-pk").values_list("pk", flat=True)[:ATTEMPTS_KEPT])
    deleted, _ = rows.exclude(pk__in=keep).delete()
    return deleted


def _count(*, question: Question, correct: bool) -> None:
    """Add one answer to the question's running totals, in the caller's transaction."""
    rows = QuestionStat.objects.filter(lesson_slug=question.lesson_slug, question_id=question.id)
    if rows.update(attempts=F("attempts") + 1, correct=F("correct") + int(correct)):
        return
    try:
        with transaction.atomic():  # a savepoint: another answer may create the row first
            QuestionStat.objects.create(lesson_slug=question.lesson_slug,
                                        question_id=question.id, attempts=1,
                                        correct=int(correct))
    except IntegrityError:
        rows.update(attempts=F("attempts") + 1, correct=F("correct") + int(correct))


def _replay_checked(attempt: Attempt, question: Question) -> SubmitResult:
    if attempt.question_key != question.key:
        raise InvalidAnswer("this submission id was already used for another question")
    return _replay(attempt, question)


# --- progress -----------------------------------------------------------------------------

def latest_results(*, learner: Learner | None, lesson_slug: str) -> dict[str, bool]:
    """Question id -> whether the learner's most recent answer to it was right."""
    if learner is None:
        return {}
    out: dict[str, bool] = {}
    rows = (Attempt.objects.filter(learner=learner, lesson_slug=lesson_slug)
            .order_by("created_at", "pk").values_list("question_id", "correct"))
    for question_id, correct in rows:
        out[question_id] = correct
    return out


def lesson_scores(*, learner: Learner | None) -> list[LessonScore]:
    """One score per lesson with a bank: questions whose latest answer is right, of all."""
    latest: dict[tuple[str, str], bool] = {}
    if learner is not None:
        rows = (Attempt.objects.filter(learner=learner).order_by("created_at", "pk")
                .values_list("lesson_slug", "question_id", "correct"))
        for slug, question_id, correct in rows:
            latest[(slug, question_id)] = correct
    scores = []
    for slug, bank in banks().items():
        ids = {q.id for q in bank.questions}
        mine = {qid: ok for (s, qid), ok in latest.items() if s == slug and qid in ids}
        scores.append(LessonScore(lesson_slug=slug, total=len(ids), answered=len(mine),
                                  correct=sum(mine.values())))
    return scores


def review_queue(*, learner: Learner | None, now: datetime | None = None) -> list[ReviewEntry]:
    if learner is None:
        return []
    moment = _now(now)
    entries = []
    for item in learner.reviews.order_by("due_at", "pk"):
        question = get_question(lesson_slug=item.lesson_slug, question_id=item.question_id)
        if question is not None:  # a question removed from its bank drops out of the queue
            entries.append(ReviewEntry(item=item, question=question, due=item.due_at <= moment))
    return entries
