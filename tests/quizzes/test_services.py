"""Idempotent submissions, scores, the review intervals (with a controlled clock), carry-over."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User

from podlab.quizzes import services
from podlab.quizzes.grading import InvalidAnswer
from podlab.quizzes.models import Attempt, Learner, QuestionStat, ReviewItem
from podlab.quizzes.services import carry_over, review_queue, submit_answer

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def answer(learner, question, choice, *, now=T0, submission_id=None):
    return submit_answer(learner=learner, question=question, answer=question.token(choice),
                         submission_id=submission_id or uuid.uuid4(), now=now)


@pytest.fixture
def bank_lookup(sample_bank):
    with mock.patch.object(services, "get_question",
                           lambda *, lesson_slug, question_id: sample_bank.get(question_id)), \
         mock.patch.object(services, "banks", lambda: {"sample": sample_bank}):
        yield sample_bank


def test_the_same_submission_counts_once(sample_bank):
    learner = Learner.objects.create()
    q = sample_bank.get("one")
    sid = uuid.uuid4()
    first = answer(learner, q, "b", submission_id=sid)
    again = answer(learner, q, "b", submission_id=sid)
    assert not first.duplicate and again.duplicate
    assert again.attempt.pk == first.attempt.pk and not again.grade.correct
    # a resend with a different answer does not change what was counted
    changed = answer(learner, q, "a", submission_id=sid)
    assert changed.duplicate and not changed.grade.correct
    assert Attempt.objects.count() == 1
    stat = QuestionStat.objects.get(lesson_slug="sample", question_id="one")
    assert (stat.attempts, stat.correct) == (1, 0)
    assert ReviewItem.objects.count() == 1


def test_a_submission_id_belongs_to_one_question(sample_bank):
    learner = Learner.objects.create()
    sid = uuid.uuid4()
    answer(learner, sample_bank.get("one"), "a", submission_id=sid)
    with pytest.raises(InvalidAnswer):
        answer(learner, sample_bank.get("extra-0"), "y", submission_id=sid)


def test_submission_ids_are_per_learner(sample_bank):
    q = sample_bank.get("one")
    sid = uuid.uuid4()
    a, b = Learner.objects.create(), Learner.objects.create()
    answer(a, q, "a", submission_id=sid)
    assert not answer(b, q, "b", submission_id=sid).duplicate
    assert Attempt.objects.count() == 2


def test_invalid_answers_store_nothing(sample_bank):
    learner = Learner.objects.create()
    with pytest.raises(InvalidAnswer):
        submit_answer(learner=learner, question=sample_bank.get("one"), answer="forged",
                      submission_id=uuid.uuid4(), now=T0)
    assert not Attempt.objects.exists() and not ReviewItem.objects.exists()


def test_review_intervals_1_3_7_days(bank_lookup):
    learner = Learner.objects.create()
    q = bank_lookup.get("one")
    answer(learner, q, "b", now=T0)
    item = ReviewItem.objects.get()
    assert (item.step, item.due_at) == (0, T0 + timedelta(days=1))
    assert [e.due for e in review_queue(learner=learner, now=T0)] == [False]
    # right, but before it is due: not a review, nothing moves
    early = answer(learner, q, "a", now=T0 + timedelta(hours=2))
    assert not early.attempt.was_review
    assert ReviewItem.objects.get().due_at == T0 + timedelta(days=1)
    day1 = T0 + timedelta(days=1)
    assert [e.due for e in review_queue(learner=learner, now=day1)] == [True]
    assert answer(learner, q, "a", now=day1).attempt.was_review
    assert ReviewItem.objects.get().due_at == day1 + timedelta(days=3)
    day4 = day1 + timedelta(days=3)
    answer(learner, q, "a", now=day4)
    assert ReviewItem.objects.get().due_at == day4 + timedelta(days=7)
    day11 = day4 + timedelta(days=7)
    answer(learner, q, "a", now=day11)
    assert not ReviewItem.objects.exists()


def test_a_miss_during_review_starts_again_at_one_day(bank_lookup):
    learner = Learner.objects.create()
    q = bank_lookup.get("one")
    answer(learner, q, "b", now=T0)
    day1 = T0 + timedelta(days=1)
    answer(learner, q, "a", now=day1)
    day4 = day1 + timedelta(days=3)
    answer(learner, q, "c", now=day4)
    item = ReviewItem.objects.get()
    assert (item.step, item.due_at, item.missed_at) == (0, day4 + timedelta(days=1), day4)


def test_lesson_score_follows_the_latest_answer(bank_lookup):
    learner = Learner.objects.create()
    assert services.lesson_scores(learner=learner)[0].correct == 0
    answer(learner, bank_lookup.get("one"), "b", now=T0)
    answer(learner, bank_lookup.get("extra-0"), "y", now=T0)
    score = services.lesson_scores(learner=learner)[0]
    assert (score.total, score.answered, score.correct) == (8, 2, 1)
    answer(learner, bank_lookup.get("one"), "a", now=T0 + timedelta(minutes=1))
    score = services.lesson_scores(learner=learner)[0]
    assert (score.answered, score.correct, score.percent) == (2, 2, 25)
    assert services.lesson_scores(learner=None)[0].answered == 0


def test_carry_over_to_a_new_user(sample_bank):
    anonymous = Learner.objects.create()
    answer(anonymous, sample_bank.get("one"), "b")
    user = User.objects.create_user("ada", password="pw-long-enough-1")
    kept = carry_over(anonymous=anonymous, user=user)
    assert kept.pk == anonymous.pk and kept.user == user
    assert kept.attempts.count() == 1 and kept.reviews.count() == 1


def test_carry_over_into_an_existing_account_merges(sample_bank):
    user = User.objects.create_user("ada", password="pw-long-enough-1")
    mine = Learner.objects.create(user=user)
    answer(mine, sample_bank.get("one"), "b", now=T0)
    answer(mine, sample_bank.get("extra-1"), "y", now=T0)
    anonymous = Learner.objects.create()
    later = T0 + timedelta(hours=5)
    answer(anonymous, sample_bank.get("one"), "c", now=later)
    answer(anonymous, sample_bank.get("many"), "c", now=later)
    kept = carry_over(anonymous=anonymous, user=user)
    assert kept.pk == mine.pk
    assert not Learner.objects.filter(pk=anonymous.pk).exists()
    assert kept.attempts.count() == 4
    reviews = {r.question_id: r for r in kept.reviews.all()}
    assert set(reviews) == {"one", "many"}
    assert reviews["one"].missed_at == later  # the latest miss decides


def test_question_stats_count_every_answer_once(sample_bank):
    q = sample_bank.get("one")
    a, b = Learner.objects.create(), Learner.objects.create()
    answer(a, q, "a")
    answer(b, q, "b")
    answer(b, q, "a")
    stat = QuestionStat.objects.get(lesson_slug="sample", question_id="one")
    assert (stat.attempts, stat.correct) == (3, 2)


def test_question_stat_created_by_a_concurrent_answer_is_counted_into(sample_bank):
    """Two first answers to a question race to create its statistics row: the one that finds
    the row missing but loses the insert adds to the winner's row instead of failing."""
    from django.db.models import QuerySet

    q = sample_bank.get("one")
    learner = Learner.objects.create()
    # The other answer's row, committed between this answer's update and its insert.
    QuestionStat.objects.create(lesson_slug="sample", question_id="one", attempts=4, correct=1)
    real_update = QuerySet.update
    missed_once = []

    def update(queryset, **fields):
        if queryset.model is QuestionStat and not missed_once:
            missed_once.append(True)
            return 0  # as if the row did not exist yet when this answer looked
        return real_update(queryset, **fields)

    with mock.patch.object(QuerySet, "update", autospec=True, side_effect=update):
        result = answer(learner, q, "a")
    assert missed_once and not result.duplicate and Attempt.objects.count() == 1
    stat = QuestionStat.objects.get(lesson_slug="sample", question_id="one")
    assert (stat.attempts, stat.correct) == (5, 2)
