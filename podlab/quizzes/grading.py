"""Checking one answer against one question. Pure: no database, no request.

Answers arrive as the opaque choice tokens the page was given (``Question.token``) or, for
short-answer questions, as text. ``normalise_answer`` refuses anything malformed before it is
graded or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bank import Question, Text
from .predict import PredictOutcome, engine_outcome

MAX_SHORT_ANSWER = 200


class InvalidAnswer(ValueError):
    """The submitted answer does not fit the question (unknown token, wrong shape)."""


@dataclass(frozen=True)
class Grade:
    correct: bool
    feedback: tuple[Text, ...] = ()
    # What the right answer is, shown after submitting: choice ids, ordered ids or text.
    expected: tuple[str, ...] = ()
    outcome: PredictOutcome | None = None
    details: dict[str, Any] = field(default_factory=dict)


def normalise_answer(*, question: Question, raw: Any) -> str | list[str]:
    """The answer in its stored shape, or InvalidAnswer."""
    if question.type == "short":
        if not isinstance(raw, str):
            raise InvalidAnswer("a short answer is text")
        text = raw.strip()
        if not text or len(text) > MAX_SHORT_ANSWER:
            raise InvalidAnswer("the answer is empty or too long")
        return text
    tokens = [raw] if isinstance(raw, str) else raw
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise InvalidAnswer("choose from the listed options")
    known = {question.token(c.id) for c in question.choices}
    if any(t not in known for t in tokens):
        raise InvalidAnswer("unknown option")
    if question.type in ("single", "predict"):
        if len(tokens) != 1:
            raise InvalidAnswer("choose exactly one option")
        return tokens[0]
    if len(set(tokens)) != len(tokens):
        raise InvalidAnswer("an option is listed twice")
    if question.type == "multiple":
        if not tokens:
            raise InvalidAnswer("choose at least one option")
        return sorted(tokens)
    if sorted(tokens) != sorted(known):
        raise InvalidAnswer("put every item in order")
    return tokens


def grade(*, question: Question, answer: str | list[str]) -> Grade:
    """Grade an answer already passed through ``normalise_answer``."""
    if question.type == "short":
        assert isinstance(answer, str)  # noqa: S101 - normalised above
        correct = answer in question.answers
        feedback = tuple(w.feedback for w in question.wrong_answers if w.answer == answer)
        return Grade(correct=correct, feedback=() if correct else feedback,
                     expected=question.answers[:1])
    if question.type == "predict":
        assert question.predict is not None  # noqa: S101 - the bank guarantees it
        outcome = engine_outcome(spec=question.predict)
        chosen = question.choice_for_token(str(answer))
        assert chosen is not None  # noqa: S101 - normalised above
        correct = chosen.value == outcome.value
        feedback = () if correct or chosen.feedback is None else (chosen.feedback,)
        return Grade(correct=correct, feedback=feedback, expected=(outcome.value,),
                     outcome=outcome)
    tokens = [answer] if isinstance(answer, str) else list(answer)
    chosen_ids = [question.choice_for_token(t).id for t in tokens]  # type: ignore[union-attr]
    if question.type == "order":
        expected = tuple(c.id for c in question.choices)
        correct = tuple(chosen_ids) == expected
        misplaced = [i for i, cid in enumerate(chosen_ids) if cid != expected[i]]
        return Grade(correct=correct, expected=expected, details={"misplaced": misplaced})
    expected = tuple(c.id for c in question.choices if c.correct)
    correct = set(chosen_ids) == set(expected)
    by_id = {c.id: c for c in question.choices}
    feedback = tuple(
        by_id[cid].feedback  # type: ignore[misc]
        for cid in chosen_ids
        if not by_id[cid].correct and by_id[cid].feedback is not None
    )
    missed = [cid for cid in expected if cid not in chosen_ids]
    return Grade(correct=correct, feedback=feedback, expected=expected,
                 details={"missed": missed})
