"""After the lesson: the room's answers per question and per student (CSV), and a summary
of what the room got wrong, each bank question linked to the lesson section it comes from.

Only the last round of a question counts (a revote replaces the first vote), as for scores.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from podlab.quizzes.bank import get_question
from podlab.quizzes.presenters import section_link

from . import questions as q
from .models import Answer, Room, RoomQuestion, Seat

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass
class QuestionSummary:
    question: RoomQuestion
    prompt: str
    answered: int
    right: int
    counts: list[tuple[str, int, bool]]  # (choice text, votes, is right)
    link: dict[str, str] | None
    wrong_share: float = field(init=False)

    def __post_init__(self) -> None:
        self.wrong_share = (self.answered - self.right) / self.answered if self.answered else 0.0

    @property
    def right_percent(self) -> int:
        return round(100 * self.right / self.answered) if self.answered else 0


def _texts(question: RoomQuestion, lang: str) -> dict[str, str]:
    try:
        return {c["token"]: c["text"] for c in q._choices(question, lang)}  # noqa: SLF001
    except q.QuestionError:
        return {}


def _answer_text(raw: Any, texts: dict[str, str]) -> str:
    tokens = raw if isinstance(raw, list) else [raw]
    return "; ".join(texts.get(str(t), str(t)) for t in tokens)


def _final(question: RoomQuestion) -> list[Answer]:
    return list(Answer.objects.filter(question=question, round=question.round)
                .select_related("seat"))


def summaries(*, room: Room, lang: str) -> list[QuestionSummary]:
    out = []
    for question in room.questions.order_by("number"):
        try:
            prompt, _ = q._prompt(question, lang)  # noqa: SLF001
            correct = set(q.correct_tokens(question=question))
        except q.QuestionError:
            continue  # a bank question removed from the lessons since
        texts = _texts(question, lang)
        rows = _final(question)
        votes: Counter[str] = Counter()
        for row in rows:
            for token in (row.answer if isinstance(row.answer, list) else [row.answer]):
                votes[str(token)] += 1
        link = None
        if question.source == RoomQuestion.BANK:
            found = get_question(lesson_slug=question.lesson_slug,
                                   question_id=question.question_id)
            if found is not None:
                link = section_link(question=found, lang=lang)
        if question.qtype == "order":
            counts = []  # every answer holds every item: votes per item say nothing
        elif question.qtype == "short":
            counts = [(text, n, text in correct) for text, n in votes.most_common(10)]
        else:
            counts = [(text, votes.get(token, 0), token in correct)
                      for token, text in texts.items()]
        out.append(QuestionSummary(
            question=question, prompt=prompt, answered=len(rows),
            right=sum(1 for r in rows if r.correct), counts=counts, link=link))
    return out


def questions_csv(*, room: Room, lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    with translation.override(lang):
        writer.writerow([gettext("number"), gettext("type"), gettext("lesson"),
                         gettext("question"), gettext("prompt"), gettext("rounds"),
                         gettext("answered"), gettext("right"), gettext("right (%)"),
                         gettext("votes per choice")])
    for s in summaries(room=room, lang=lang):
        question = s.question
        writer.writerow([question.number, question.qtype, question.lesson_slug,
                         question.question_id, cell(s.prompt), question.round, s.answered,
                         s.right, s.right_percent,
                         cell(" | ".join(f"{'*' if ok else ''}{text}: {n}"
                                         for text, n, ok in s.counts))])
    return out.getvalue()


def students_csv(*, room: Room, lang: str) -> str:
    """One row per seat: right answers, then each question's answer and whether it was right."""
    questions = list(room.questions.order_by("number"))
    texts = {question.pk: _texts(question, lang) for question in questions}
    last_round = {question.pk: question.round for question in questions}
    answers: dict[tuple[Any, int], Answer] = {}
    for row in Answer.objects.filter(question__room=room):
        if row.round == last_round.get(row.question_id):
            answers[(row.seat_id, row.question_id)] = row
    out = io.StringIO()
    writer = csv.writer(out)
    with translation.override(lang):
        head = [gettext("name"), gettext("language"), gettext("answered"), gettext("right")]
        for question in questions:
            head += [f"#{question.number}", f"#{question.number} {gettext('right')}"]
        writer.writerow(head)
        for seat in Seat.objects.filter(room=room).order_by("name"):
            mine = [answers.get((seat.pk, question.pk)) for question in questions]
            row = [cell(seat.name), seat.lang, sum(1 for a in mine if a is not None),
                   sum(1 for a in mine if a is not None and a.correct)]
            for question, answer in zip(questions, mine, strict=True):
                if answer is None:
                    row += ["", ""]
                else:
                    row += [cell(_answer_text(answer.answer, texts[question.pk])),
                            gettext("yes") if answer.correct else gettext("no")]
            writer.writerow(row)
    return out.getvalue()
