"""Questions and results as the templates show them, in one language.

Nothing here reveals an answer before it is graded: choices carry opaque tokens and come in a
shuffled order; the expected answer only appears in ``result_context``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import QueryDict
from django.urls import reverse
from django.utils import translation

from podlab.course.content import course
from podlab.course.render import render_lesson

from .bank import Question
from .grading import Grade, InvalidAnswer


def lesson_title(*, lesson_slug: str, lang: str) -> str:
    lesson = course().get(lesson_slug)
    return lesson.title_in(lang) if lesson else lesson_slug


def section_link(*, question: Question, lang: str) -> dict[str, str]:
    with translation.override(lang):
        url = reverse("course:lesson", args=[question.lesson_slug]) + f"#{question.section}"
    title = next((e.title for e in render_lesson(question.lesson_slug, lang).toc
                  if e.id == question.section), question.section)
    return {"url": url, "title": title,
            "lesson": lesson_title(lesson_slug=question.lesson_slug, lang=lang)}


def lab_url(*, question: Question, lang: str) -> str:
    """'Watch it in the lab' for predict questions built on a lesson example."""
    example = question.example_id()
    if not example:
        return ""
    with translation.override(lang):
        return reverse("lab:index") + f"?example={example}"


def question_context(*, question: Question, lang: str, last: bool | None = None) -> dict[str, Any]:
    choices = []
    for choice in question.shuffled_choices():
        label = choice.value if question.is_predict else choice.text.get(lang)  # type: ignore[union-attr]
        choices.append({"token": question.token(choice.id), "label": label})
    predict = question.predict
    manifest = ""
    if predict is not None and predict.manifest:
        manifest = predict.manifest
    elif predict is not None and predict.example:
        example = course().examples.get(predict.example)
        manifest = example.text() if example else ""
    return {
        "key": question.key,
        "id": question.id,
        "lesson_slug": question.lesson_slug,
        "type": question.type,
        "prompt": question.prompt.get(lang),
        "code": question.code,
        "choices": choices,
        "positions": list(range(1, len(choices) + 1)),
        "manifest": manifest,
        "predict": predict,
        "submission_id": str(uuid.uuid4()),
        "last": last,
    }


def answer_from_post(*, question: Question, data: QueryDict) -> Any:
    """The raw answer in the shape ``grading.normalise_answer`` expects."""
    if question.type == "short":
        return data.get("text", "")
    if question.type in ("single", "predict"):
        return data.get("choice", "")
    if question.type == "multiple":
        return data.getlist("choice")
    positions: dict[int, str] = {}
    for choice in question.choices:
        token = question.token(choice.id)
        try:
            place = int(data.get(f"pos-{token}", ""))
        except ValueError as exc:
            raise InvalidAnswer("give every item a position") from exc
        if place in positions or not 1 <= place <= len(question.choices):
            raise InvalidAnswer("each position is used once")
        positions[place] = token
    return [positions[i] for i in sorted(positions)]


def result_context(*, question: Question, result: Grade, lang: str,
                   duplicate: bool) -> dict[str, Any]:
    by_id = {c.id: c for c in question.choices}
    if question.type in ("single", "multiple", "order"):
        expected = [by_id[cid].text.get(lang) for cid in result.expected]  # type: ignore[union-attr]
    else:
        expected = list(result.expected)
    return {
        "question": question,
        "prompt": question.prompt.get(lang),
        "correct": result.correct,
        "duplicate": duplicate,
        "feedback": [f.get(lang) for f in result.feedback],
        "expected": expected,
        "ordered": question.type == "order",
        "explanation": question.explanation.get(lang),
        "section": section_link(question=question, lang=lang),
        "lab_url": lab_url(question=question, lang=lang) if question.is_predict else "",
        "table": result.outcome.table if result.outcome else "",
        "predict": question.is_predict,
    }
