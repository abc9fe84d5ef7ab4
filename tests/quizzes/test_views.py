"""Quiz pages over HTTP: no answer in the page source, JSON and form answers, idempotent
resends, and an anonymous history that follows the learner into a new account."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from podlab.quizzes.bank import banks
from podlab.quizzes.models import Attempt, Learner, ReviewItem

pytestmark = pytest.mark.django_db


def url(name, lang="en", *args):
    with translation.override(lang):
        return reverse(name, args=args or None)


def first_single():
    for bank in banks().values():
        for q in bank.questions:
            if q.type == "single":
                return q
    raise AssertionError("no single-choice question")


def tokens(q):
    right = next(q.token(c.id) for c in q.choices if c.correct)
    wrong = next(q.token(c.id) for c in q.choices if not c.correct)
    return right, wrong


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_quiz_pages_render_without_revealing_answers(client, lang):
    for slug, bank in banks().items():
        body = client.get(url("quizzes:lesson", lang, slug)).content.decode()
        for q in bank.questions:
            assert q.prompt.get(lang) in body.replace("&#x27;", "'").replace("&quot;", '"') or \
                f'id="q-{q.id}"' in body
            assert q.explanation.get(lang) not in body
            for c in q.choices:
                if c.feedback is not None:
                    assert c.feedback.get(lang) not in body
        assert 'name="correct"' not in body and "data-correct" not in body
        assert not re.search(r"<script(?![^>]*nonce=)", body)
        assert ' style="' not in body


def test_index_progress_review_pages(client):
    for name in ("quizzes:index", "quizzes:progress", "quizzes:review"):
        assert client.get(url(name)).status_code == 200
    assert client.get(url("quizzes:lesson", "en", "no-such-lesson")).status_code == 404
    assert not Learner.objects.exists()  # looking around creates nothing


def open_quiz(client, q, lang="en"):
    """Open the question's quiz page, as a browser does before answering (the quiz pass)."""
    assert client.get(url("quizzes:lesson", lang, q.lesson_slug)).status_code == 200


def test_answer_json_is_idempotent_and_shows_feedback(client):
    q = first_single()
    right, wrong = tokens(q)
    open_quiz(client, q)
    sid = str(uuid.uuid4())
    target = url("quizzes:answer", "en", q.lesson_slug, q.id)
    data = {"submission_id": sid, "choice": wrong}
    first = client.post(target, data, HTTP_ACCEPT="application/json").json()
    again = client.post(target, data, HTTP_ACCEPT="application/json").json()
    assert first["correct"] is False and first["duplicate"] is False
    assert again["duplicate"] is True
    assert q.explanation.get("en") in first["html"].replace("&#x27;", "'")
    assert f"/en/lessons/{q.lesson_slug}/#{q.section}" in first["html"]
    assert first["next_submission_id"] != sid
    assert Attempt.objects.count() == 1 and ReviewItem.objects.count() == 1
    ok = client.post(target, {"submission_id": first["next_submission_id"], "choice": right},
                     HTTP_ACCEPT="application/json").json()
    assert ok["correct"] is True
    progress = client.get(url("quizzes:progress")).content.decode()
    assert f'data-question="{q.key}"' in progress


def test_answer_without_javascript_renders_a_result_page(client):
    q = first_single()
    right, _ = tokens(q)
    open_quiz(client, q, "zh-hans")
    response = client.post(url("quizzes:answer", "zh-hans", q.lesson_slug, q.id),
                           {"submission_id": str(uuid.uuid4()), "choice": right})
    assert response.status_code == 200
    assert q.explanation.get("zh-hans") in response.content.decode()


@pytest.mark.parametrize("data", [
    {"choice": "x"},
    {"submission_id": "not-a-uuid"},
    {"submission_id": str(uuid.uuid4()), "choice": "forged"},
])
def test_invalid_submissions_are_refused(client, data):
    q = first_single()
    response = client.post(url("quizzes:answer", "en", q.lesson_slug, q.id), data,
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "error" in response.json()
    assert not Attempt.objects.exists()


def test_get_is_not_allowed_on_answer(client):
    q = first_single()
    assert client.get(url("quizzes:answer", "en", q.lesson_slug, q.id)).status_code == 405


def test_sign_up_keeps_the_anonymous_history(client):
    q = first_single()
    _, wrong = tokens(q)
    open_quiz(client, q)
    client.post(url("quizzes:answer", "en", q.lesson_slug, q.id),
                {"submission_id": str(uuid.uuid4()), "choice": wrong},
                HTTP_ACCEPT="application/json")
    anonymous = Learner.objects.get()
    response = client.post(url("quizzes:signup"), {
        "username": "grace", "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42"})
    assert response.status_code == 302
    learner = Learner.objects.get()
    assert learner.pk == anonymous.pk and learner.user.username == "grace"
    body = client.get(url("quizzes:progress")).content.decode()
    assert f'data-question="{q.key}"' in body and "grace" in body
    # log out, answer anonymously, log in again: both histories end up in the account
    client.post(url("quizzes:logout"))
    open_quiz(client, q)  # the old pass was used up by the sign-up: the page gives a new one
    client.post(url("quizzes:answer", "en", q.lesson_slug, q.id),
                {"submission_id": str(uuid.uuid4()), "choice": wrong},
                HTTP_ACCEPT="application/json")
    assert Learner.objects.count() == 2
    client.post(url("quizzes:login"), {"username": "grace",
                                       "password": "a-long-pass-phrase-42"})
    assert Learner.objects.count() == 1
    assert Learner.objects.get().attempts.count() == 2


def test_anonymous_answers_without_a_pass_create_no_rows(client):
    from django.contrib.sessions.models import Session

    q = first_single()
    right, _ = tokens(q)
    target = url("quizzes:answer", "en", q.lesson_slug, q.id)
    for _ in range(5):
        response = client.post(target, {"submission_id": str(uuid.uuid4()), "choice": right},
                               HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        body = response.json()
        assert body["correct"] is True and body["saved"] is False
        assert "not saved" in body["html"]
    client.cookies["podlab_quiz"] = "forged-value"
    response = client.post(target, {"submission_id": str(uuid.uuid4()), "choice": right},
                           HTTP_ACCEPT="application/json")
    assert response.json()["saved"] is False
    assert not Learner.objects.exists() and not Attempt.objects.exists()
    assert not Session.objects.exists()


def test_one_pass_makes_one_learner_however_often_it_posts(client):
    from django.contrib.sessions.models import Session

    q = first_single()
    right, _ = tokens(q)
    open_quiz(client, q)
    quiz_pass = client.cookies["podlab_quiz"].value
    target = url("quizzes:answer", "en", q.lesson_slug, q.id)
    for _ in range(5):
        client.cookies.clear()  # a client that keeps only the pass
        client.cookies["podlab_quiz"] = quiz_pass
        response = client.post(target, {"submission_id": str(uuid.uuid4()), "choice": right},
                               HTTP_ACCEPT="application/json")
        assert response.json()["saved"] is True
    assert Learner.objects.count() == 1
    assert Attempt.objects.count() == 5
    assert not Session.objects.exists()
    # Its progress shows with the pass alone; the quiz page does not replace a working pass.
    page = client.get(url("quizzes:lesson", "en", q.lesson_slug))
    assert "podlab_quiz" not in page.cookies
    assert "answered right last time" in page.content.decode()


def test_one_pass_cannot_multiply_attempt_rows(client):
    """A client replaying its pass with fresh submission ids stores at most ATTEMPTS_KEPT rows
    per question; the latest answer still decides the progress shown."""
    from podlab.quizzes.models import QuestionStat
    from podlab.quizzes.services import ATTEMPTS_KEPT

    q = first_single()
    right, wrong = tokens(q)
    open_quiz(client, q)
    target = url("quizzes:answer", "en", q.lesson_slug, q.id)
    posts = ATTEMPTS_KEPT * 6
    for n in range(posts):
        choice = right if n == posts - 1 else wrong
        response = client.post(target, {"submission_id": str(uuid.uuid4()), "choice": choice},
                               HTTP_ACCEPT="application/json")
        assert response.json()["saved"] is True
    assert Learner.objects.count() == 1
    assert Attempt.objects.count() == ATTEMPTS_KEPT
    kept = list(Attempt.objects.order_by("created_at", "pk").values_list("correct", flat=True))
    assert kept == [False] * (ATTEMPTS_KEPT - 1) + [True]  # the newest ones
    stat = QuestionStat.objects.get(lesson_slug=q.lesson_slug, question_id=q.id)
    assert stat.attempts == posts  # the totals still count every answer
    page = client.get(url("quizzes:lesson", "en", q.lesson_slug))
    assert "answered right last time" in page.content.decode()
