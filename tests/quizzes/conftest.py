"""A small bank built in memory, so grading tests do not depend on the course's content."""

from __future__ import annotations

from pathlib import Path

import pytest

from podlab.quizzes.bank import Bank, parse_bank


def text(en: str, zh: str | None = None) -> dict[str, str]:
    return {"en": en, "zh-hans": zh or f"（中文）{en}"}


SAMPLE = {
    "questions": [
        {"id": "one", "type": "single", "section": "phases", "prompt": text("Pick A"),
         "explanation": text("A it is"),
         "choices": [
             {"id": "a", "correct": True, "text": text("A")},
             {"id": "b", "text": text("B"), "feedback": text("B is the phase, not the status")},
             {"id": "c", "text": text("C")},
         ]},
        {"id": "many", "type": "multiple", "section": "phases", "prompt": text("Pick A and B"),
         "explanation": text("A and B"),
         "choices": [
             {"id": "a", "correct": True, "text": text("A")},
             {"id": "b", "correct": True, "text": text("B")},
             {"id": "c", "text": text("C"), "feedback": text("C is wrong because")},
         ]},
        {"id": "steps", "type": "order", "section": "phases", "prompt": text("Order"),
         "explanation": text("1 2 3"),
         "choices": [{"id": "s1", "text": text("first")}, {"id": "s2", "text": text("second")},
                     {"id": "s3", "text": text("third")}]},
        {"id": "word", "type": "short", "section": "phases", "prompt": text("Type it"),
         "explanation": text("CrashLoopBackOff"), "answers": ["CrashLoopBackOff"],
         "wrong_answers": [{"answer": "Running", "feedback": text("Running is the phase")}]},
        {"id": "guess", "type": "predict", "section": "phases", "prompt": text("Predict"),
         "explanation": text("the engine knows"),
         "predict": {"manifest": "apiVersion: v1\nkind: Pod\n", "at": 10, "ask": "status"},
         "choices": [{"value": "Running"},
                     {"value": "Pending", "feedback": text("too early for Pending")}]},
    ]
}
for n in range(3):
    SAMPLE["questions"].append(
        {"id": f"extra-{n}", "type": "single", "section": "phases", "prompt": text(f"Q{n}"),
         "explanation": text("x"),
         "choices": [{"id": "y", "correct": True, "text": text("yes")},
                     {"id": "n", "text": text("no")}]}
    )


@pytest.fixture
def sample_bank() -> Bank:
    return parse_bank(SAMPLE, lesson_slug="sample", path=Path("sample/quiz.yaml"))
