"""Grading each question type, and refusing malformed answers before grading."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from podlab.quizzes import grading
from podlab.quizzes.bank import BankError, parse_bank
from podlab.quizzes.grading import InvalidAnswer, grade, normalise_answer
from podlab.quizzes.predict import PredictOutcome

from .conftest import SAMPLE


def tok(question, choice_id):
    return question.token(choice_id)


def check(question, raw):
    return grade(question=question, answer=normalise_answer(question=question, raw=raw))


def test_single_choice(sample_bank):
    q = sample_bank.get("one")
    assert check(q, tok(q, "a")).correct
    wrong = check(q, tok(q, "b"))
    assert not wrong.correct
    assert [f.get("en") for f in wrong.feedback] == ["B is the phase, not the status"]
    assert wrong.expected == ("a",)
    assert check(q, tok(q, "c")).feedback == ()


def test_multiple_choice_needs_exactly_the_right_set(sample_bank):
    q = sample_bank.get("many")
    assert check(q, [tok(q, "b"), tok(q, "a")]).correct
    partial = check(q, [tok(q, "a")])
    assert not partial.correct and partial.details["missed"] == ["b"]
    extra = check(q, [tok(q, "a"), tok(q, "b"), tok(q, "c")])
    assert not extra.correct
    assert [f.get("zh-hans") for f in extra.feedback] == ["（中文）C is wrong because"]


def test_ordering(sample_bank):
    q = sample_bank.get("steps")
    assert check(q, [tok(q, "s1"), tok(q, "s2"), tok(q, "s3")]).correct
    result = check(q, [tok(q, "s2"), tok(q, "s1"), tok(q, "s3")])
    assert not result.correct
    assert result.details["misplaced"] == [0, 1]
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw=[tok(q, "s1"), tok(q, "s2")])
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw=[tok(q, "s1"), tok(q, "s1"), tok(q, "s2")])


def test_short_answer_is_matched_exactly(sample_bank):
    q = sample_bank.get("word")
    assert check(q, "  CrashLoopBackOff ").correct
    assert not check(q, "crashloopbackoff").correct
    running = check(q, "Running")
    assert not running.correct
    assert running.feedback[0].get("en") == "Running is the phase"
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw="")
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw="x" * 500)
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw=["CrashLoopBackOff"])


def test_predict_is_graded_against_the_engine_value(sample_bank, monkeypatch):
    q = sample_bank.get("guess")
    running = next(c for c in q.choices if c.value == "Running")
    pending = next(c for c in q.choices if c.value == "Pending")
    for engine_says, right, wrong in (("Running", running, pending), ("Pending", pending, running)):
        monkeypatch.setattr(grading, "engine_outcome",
                            lambda spec, v=engine_says: PredictOutcome(value=v, pod="p", table=""))
        assert check(q, q.token(right.id)).correct
        result = check(q, q.token(wrong.id))
        assert not result.correct
        assert result.expected == (engine_says,)


def test_unknown_tokens_and_shapes_are_refused(sample_bank):
    q = sample_bank.get("one")
    for raw in ("nope", ["a"], [tok(q, "a"), tok(q, "b")], 3, None, {"a": 1}):
        with pytest.raises(InvalidAnswer):
            normalise_answer(question=q, raw=raw)
    # a token of another question is unknown here
    other = sample_bank.get("many")
    with pytest.raises(InvalidAnswer):
        normalise_answer(question=q, raw=tok(other, "a"))


def test_tokens_and_shuffle_hide_the_answer(sample_bank):
    for q in sample_bank.questions:
        tokens = [q.token(c.id) for c in q.choices]
        assert len(set(tokens)) == len(tokens)
        assert all(c.id not in t for c in q.choices for t in tokens if len(c.id) > 2)
    steps = sample_bank.get("steps")
    assert [c.id for c in steps.shuffled_choices()] != ["s1", "s2", "s3"]


@pytest.mark.parametrize("mutate,fragment", [
    (lambda d: d["questions"][0]["prompt"].pop("zh-hans"), "prompt.zh-hans"),
    (lambda d: d["questions"][0]["choices"][1].update(correct=True), "exactly one correct"),
    (lambda d: d["questions"][1]["choices"][2].update(correct=True), "not all"),
    (lambda d: d["questions"][2]["choices"][0].update(correct=True), "correct order"),
    (lambda d: d["questions"][3].update(answers=[]), "accepted answers"),
    (lambda d: d["questions"][4]["choices"][0].update(correct=True), "from the engine"),
    (lambda d: d["questions"][4]["choices"].append({"value": "Running"}), "listed twice"),
    (lambda d: d["questions"][4]["predict"].update(example="x"), "exactly one of"),
    (lambda d: d["questions"][4]["predict"].update(ask="colour"), "ask"),
    (lambda d: d["questions"][4]["predict"].update(
        actions=[{"delete": "p", "at": 99}]), "between 0 and"),
    (lambda d: d["questions"][5].update(id="one"), "duplicate id"),
    (lambda d: d["questions"][5].update(type="essay"), "type"),
    (lambda d: d["questions"].pop(), "at least 8"),
])
def test_malformed_banks_are_refused(mutate, fragment):
    data = copy.deepcopy(SAMPLE)
    mutate(data)
    with pytest.raises(BankError) as info:
        parse_bank(data, lesson_slug="sample", path=Path("sample/quiz.yaml"))
    assert any(fragment in p for p in info.value.problems), info.value.problems
