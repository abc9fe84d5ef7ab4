"""Predict questions run through the engine: every one has exactly one right candidate."""

from __future__ import annotations

import pytest

from podlab.quizzes import predict
from podlab.quizzes.bank import banks
from podlab.quizzes.predict import (
    EngineUnavailable,
    PredictOutcome,
    check_predict_question,
    engine_outcome,
)


def predict_questions():
    return [q for bank in banks().values() for q in bank.questions if q.is_predict]


def engine_runs() -> bool:
    try:
        engine_outcome(spec=predict_questions()[0].predict)
    except EngineUnavailable:
        return False
    return True


def test_every_lesson_has_predict_questions():
    per_lesson = {bank.lesson_slug: sum(q.is_predict for q in bank.questions)
                  for bank in banks().values()}
    assert sum(per_lesson.values()) >= 17
    assert all(q.predict.example or q.predict.manifest for q in predict_questions())


def test_check_flags_questions_without_a_matching_candidate(monkeypatch):
    q = predict_questions()[0]
    values = [c.value for c in q.choices]
    monkeypatch.setattr(predict, "engine_outcome",
                        lambda spec: PredictOutcome(value=values[-1], pod="p", table=""))
    assert check_predict_question(question=q) == []
    monkeypatch.setattr(predict, "engine_outcome",
                        lambda spec: PredictOutcome(value="NoSuchValue", pod="p", table=""))
    assert "none of the candidates" in check_predict_question(question=q)[0]


def test_an_invalid_manifest_is_reported():
    q = predict_questions()[0]
    spec = q.predict.__class__(example=None, manifest="kind: Pod\nspec: {}\n", actions=(),
                               at=5, ask="status", pod=None, container=None)
    with pytest.raises(EngineUnavailable):
        engine_outcome(spec=spec)


@pytest.mark.parametrize("question", predict_questions(), ids=lambda q: q.key)
def test_engine_answers_each_predict_question_with_one_candidate(question):
    if not engine_runs():
        pytest.skip("the simulation core cannot run in this tree yet")
    assert check_predict_question(question=question) == []
