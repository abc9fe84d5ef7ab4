"""Question banks as content: lessons/NN-slug/quiz.yaml, one per lesson.

A bank is language-neutral structure with text in every course language. Loading is pure and
cached like the course itself; ``parse_bank`` refuses a malformed bank with every problem at
once, and ``reference_problems`` checks what points outside the file (lesson sections,
examples). Whether predict questions are answerable is ``predict.check_predict_question``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from podlab.course.content import LANGS, Lesson, course

QUESTION_TYPES = ("single", "multiple", "order", "short", "predict")
PREDICT_ASKS = ("status", "ready", "restarts", "restart_count", "phase", "container_state",
                "container_reason")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ANCHOR_RE = re.compile(r"^#{2,3}\s.*\{#(?P<anchor>[A-Za-z0-9_-]+)\}\s*$", re.MULTILINE)
MIN_QUESTIONS = 8


class BankError(Exception):
    """A question bank is malformed; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Text:
    """One piece of prose in every course language."""

    values: dict[str, str]

    def get(self, lang: str) -> str:
        return self.values.get(lang) or self.values.get("en", "")


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text | None
    correct: bool
    feedback: Text | None
    value: str = ""  # predict questions: the candidate value, shown as it is


@dataclass(frozen=True)
class Action:
    kind: str
    at: float
    pod: str
    grace_period: int | None = None


@dataclass(frozen=True)
class PredictSpec:
    example: str | None
    manifest: str | None
    actions: tuple[Action, ...]
    at: float
    ask: str
    pod: str | None
    container: str | None


@dataclass(frozen=True)
class WrongAnswer:
    answer: str
    feedback: Text


@dataclass(frozen=True)
class Question:
    lesson_slug: str
    id: str
    type: str
    section: str
    prompt: Text
    explanation: Text
    choices: tuple[Choice, ...] = ()
    answers: tuple[str, ...] = ()
    wrong_answers: tuple[WrongAnswer, ...] = ()
    predict: PredictSpec | None = None
    code: str = ""  # an optional block shown under the prompt (console output, YAML)

    @property
    def key(self) -> str:
        return f"{self.lesson_slug}/{self.id}"

    def token(self, choice_id: str) -> str:
        """The opaque value a form sends for a choice: it says nothing about correctness."""
        digest = hashlib.sha256(f"{self.key}\x00{choice_id}".encode()).hexdigest()
        return digest[:12]

    def choice_for_token(self, token: str) -> Choice | None:
        return next((c for c in self.choices if self.token(c.id) == token), None)

    def shuffled_choices(self) -> list[Choice]:
        """A stable order that does not follow the file (authors tend to write the answer first).

        For ordering questions the shown order is never the correct one.
        """
        ranked = sorted(self.choices, key=lambda c: self.token(c.id))
        if self.type == "order" and [c.id for c in ranked] == [c.id for c in self.choices]:
            ranked = ranked[1:] + ranked[:1]
        return ranked

    @property
    def is_predict(self) -> bool:
        return self.type == "predict"

    def example_id(self) -> str | None:
        return self.predict.example if self.predict else None


@dataclass(frozen=True)
class Bank:
    lesson_slug: str
    path: Path
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def get(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class _Reader:
    """Collects problems while turning the YAML mapping into dataclasses."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.where}: {path}: {message}")

    def text(self, value: Any, path: str, *, required: bool = True) -> Text | None:
        if value is None:
            if required:
                self.fail(path, "missing")
            return None
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of language to text")
            return None
        out: dict[str, str] = {}
        for lang in LANGS:
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{path}.{lang}", "missing text in this language")
            else:
                out[lang] = item.strip()
        for extra in set(value) - set(LANGS):
            self.fail(f"{path}.{extra}", "unknown language")
        return Text(out)

    def predict(self, data: dict[str, Any], path: str) -> PredictSpec | None:
        example = data.get("example")
        manifest = data.get("manifest")
        if (example is None) == (manifest is None):
            self.fail(path, "a predict question has exactly one of example or manifest")
        if example is not None and not isinstance(example, str):
            self.fail(f"{path}.example", "must be an example id")
        if manifest is not None and not isinstance(manifest, str):
            self.fail(f"{path}.manifest", "must be YAML text")
        at = data.get("at")
        if not isinstance(at, int | float) or isinstance(at, bool) or at < 0:
            self.fail(f"{path}.at", "must be a number of seconds >= 0")
            at = 0
        ask = data.get("ask")
        if ask not in PREDICT_ASKS:
            self.fail(f"{path}.ask", f"must be one of {', '.join(PREDICT_ASKS)}")
        container = data.get("container")
        if ask in ("container_state", "container_reason") and not isinstance(container, str):
            self.fail(f"{path}.container", f"ask: {ask} needs the container's name")
        actions: list[Action] = []
        for i, raw in enumerate(data.get("actions") or []):
            apath = f"{path}.actions[{i}]"
            if not isinstance(raw, dict) or "delete" not in raw:
                self.fail(apath, "an action is {delete: POD, at: SECONDS, grace_period: N}")
                continue
            when = raw.get("at")
            if not isinstance(when, int | float) or isinstance(when, bool) or not 0 <= when <= at:
                self.fail(f"{apath}.at", "must be a time between 0 and the question's at")
                when = 0
            grace = raw.get("grace_period")
            if grace is not None and (not isinstance(grace, int) or grace < 0):
                self.fail(f"{apath}.grace_period", "must be an integer >= 0")
                grace = None
            actions.append(Action(kind="delete", at=float(when), pod=str(raw["delete"]),
                                  grace_period=grace))
        return PredictSpec(
            example=example if isinstance(example, str) else None,
            manifest=manifest if isinstance(manifest, str) else None,
            actions=tuple(sorted(actions, key=lambda a: a.at)),
            at=float(at),
            ask=str(ask),
            pod=str(data["pod"]) if data.get("pod") is not None else None,
            container=container if isinstance(container, str) else None,
        )

    def question(self, raw: Any, index: int, lesson_slug: str) -> Question | None:
        path = f"questions[{index}]"
        if not isinstance(raw, dict):
            self.fail(path, "must be a mapping")
            return None
        qid = raw.get("id")
        if not isinstance(qid, str) or not ID_RE.match(qid):
            self.fail(f"{path}.id", "must be a lowercase slug")
            qid = f"invalid-{index}"
        path = f"{path} ({qid})"
        qtype = raw.get("type")
        if qtype not in QUESTION_TYPES:
            self.fail(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
            return None
        section = raw.get("section")
        if not isinstance(section, str) or not section:
            self.fail(f"{path}.section", "must name a heading anchor of the lesson")
            section = ""
        prompt = self.text(raw.get("prompt"), f"{path}.prompt")
        explanation = self.text(raw.get("explanation"), f"{path}.explanation")
        code = raw.get("code") or ""
        if not isinstance(code, str):
            self.fail(f"{path}.code", "must be text")
            code = ""
        choices: list[Choice] = []
        answers: tuple[str, ...] = ()
        wrong: list[WrongAnswer] = []
        predict: PredictSpec | None = None
        if qtype in ("single", "multiple", "order"):
            for i, item in enumerate(raw.get("choices") or []):
                cpath = f"{path}.choices[{i}]"
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    self.fail(cpath, "a choice has an id and text")
                    continue
                choices.append(Choice(
                    id=item["id"],
                    text=self.text(item.get("text"), f"{cpath}.text"),
                    correct=bool(item.get("correct", False)),
                    feedback=self.text(item.get("feedback"), f"{cpath}.feedback", required=False),
                ))
            correct = sum(1 for c in choices if c.correct)
            if qtype == "single" and correct != 1:
                self.fail(f"{path}.choices", "a single-choice question has exactly one correct")
            if qtype == "multiple" and not 1 <= correct < len(choices):
                self.fail(f"{path}.choices", "mark at least one choice correct, not all")
            if qtype == "order" and correct:
                self.fail(f"{path}.choices", "ordering items are listed in the correct order; "
                          "they carry no 'correct' flag")
            if qtype == "order" and len(choices) < 3:
                self.fail(f"{path}.choices", "an ordering question has at least 3 items")
            if qtype in ("single", "multiple") and len(choices) < 2:
                self.fail(f"{path}.choices", "at least 2 choices")
        elif qtype == "short":
            raw_answers = raw.get("answers")
            if not isinstance(raw_answers, list) or not raw_answers or not all(
                isinstance(a, str | int) and str(a).strip() for a in raw_answers
            ):
                self.fail(f"{path}.answers", "list the accepted answers, matched exactly")
            else:
                answers = tuple(str(a).strip() for a in raw_answers)
            for i, item in enumerate(raw.get("wrong_answers") or []):
                wpath = f"{path}.wrong_answers[{i}]"
                if not isinstance(item, dict) or "answer" not in item:
                    self.fail(wpath, "a wrong answer has answer and feedback")
                    continue
                feedback = self.text(item.get("feedback"), f"{wpath}.feedback")
                if feedback:
                    wrong.append(WrongAnswer(answer=str(item["answer"]).strip(),
                                             feedback=feedback))
                if str(item["answer"]).strip() in answers:
                    self.fail(wpath, "is also an accepted answer")
        else:
            if not isinstance(raw.get("predict"), dict):
                self.fail(f"{path}.predict", "a predict question needs a predict mapping")
            else:
                predict = self.predict(raw["predict"], f"{path}.predict")
            values: set[str] = set()
            for i, item in enumerate(raw.get("choices") or []):
                cpath = f"{path}.choices[{i}]"
                if not isinstance(item, dict) or not isinstance(item.get("value"), str | int):
                    self.fail(cpath, "a predict choice is {value: CANDIDATE, feedback: ...}")
                    continue
                value = str(item["value"])
                if value in values:
                    self.fail(cpath, f"candidate {value!r} listed twice")
                values.add(value)
                if "correct" in item:
                    self.fail(cpath, "predict answers come from the engine, not from the file")
                choices.append(Choice(
                    id=f"v{i}", text=None, correct=False, value=value,
                    feedback=self.text(item.get("feedback"), f"{cpath}.feedback", required=False),
                ))
            if len(choices) < 2:
                self.fail(f"{path}.choices", "at least 2 candidate values")
        if prompt is None or explanation is None:
            return None
        return Question(
            lesson_slug=lesson_slug, id=qid, type=str(qtype), section=section, prompt=prompt,
            explanation=explanation, choices=tuple(choices), answers=answers,
            wrong_answers=tuple(wrong), predict=predict, code=code.rstrip("\n"),
        )


def parse_bank(data: Any, *, lesson_slug: str, path: Path) -> Bank:
    reader = _Reader(str(path))
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise BankError([f"{path}: the file is a mapping with a 'questions' list"])
    questions: list[Question] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["questions"]):
        question = reader.question(raw, index, lesson_slug)
        if question is None:
            continue
        if question.id in seen:
            reader.fail(f"questions[{index}]", f"duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if len(data["questions"]) < MIN_QUESTIONS:
        reader.fail("questions", f"a lesson has at least {MIN_QUESTIONS} questions")
    if reader.problems:
        raise BankError(reader.problems)
    return Bank(lesson_slug=lesson_slug, path=path, questions=tuple(questions))


def load_bank(lesson: Lesson) -> Bank | None:
    path = lesson.folder / "quiz.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_bank(data, lesson_slug=lesson.slug, path=path)


@cache
def banks() -> dict[str, Bank]:
    """Every lesson's bank, keyed by lesson slug, in course order."""
    out: dict[str, Bank] = {}
    for lesson in course().lessons:
        bank = load_bank(lesson)
        if bank is not None:
            out[lesson.slug] = bank
    return out


def get_question(*, lesson_slug: str, question_id: str) -> Question | None:
    bank = banks().get(lesson_slug)
    return bank.get(question_id) if bank else None


def lesson_anchors(lesson: Lesson, lang: str) -> set[str]:
    return set(ANCHOR_RE.findall(lesson.markdown(lang)))


def reference_problems(bank: Bank) -> list[str]:
    """Sections that are not headings of the lesson (in either language), unknown examples."""
    lesson = course().get(bank.lesson_slug)
    if lesson is None:
        return [f"{bank.path}: no lesson {bank.lesson_slug!r}"]
    anchors = {lang: lesson_anchors(lesson, lang) for lang in LANGS}
    examples = course().examples
    problems = []
    for q in bank.questions:
        for lang in LANGS:
            if q.section not in anchors[lang]:
                problems.append(f"{bank.path}: {q.id}: section #{q.section} is not a heading "
                                f"of {lesson.slug}/{lang}.md")
        if q.predict and q.predict.example and q.predict.example not in examples:
            problems.append(f"{bank.path}: {q.id}: unknown example {q.predict.example!r}")
    return problems
