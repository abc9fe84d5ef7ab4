"""The course's question banks: every lesson has one, complete in both languages, pointing at
sections and examples that exist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from podlab.course.content import LANGS, course
from podlab.quizzes.bank import MIN_QUESTIONS, banks, reference_problems


def test_every_lesson_has_a_bank_with_enough_questions():
    loaded = banks()
    assert set(loaded) == {lesson.slug for lesson in course().lessons}
    assert len(loaded) == 17
    for slug, bank in loaded.items():
        assert len(bank.questions) >= MIN_QUESTIONS, slug


def test_references_resolve():
    problems = [p for bank in banks().values() for p in reference_problems(bank)]
    assert not problems, problems


def test_every_bank_mixes_question_types():
    total = Counter(q.type for bank in banks().values() for q in bank.questions)
    assert set(total) == {"single", "multiple", "order", "short", "predict"}
    for slug, bank in banks().items():
        kinds = {q.type for q in bank.questions}
        assert len(kinds) >= 3, (slug, kinds)


def test_both_languages_present_and_different():
    for bank in banks().values():
        for q in bank.questions:
            for lang in LANGS:
                assert q.prompt.get(lang) and q.explanation.get(lang)
            assert q.prompt.values["zh-hans"] != q.prompt.values["en"], q.key


def test_checkquizzes_reports_structure_and_references(capsys):
    call_command("checkquizzes", "--skip-engine")
    assert "questions in 17 lessons: all good" in capsys.readouterr().out


ROOT = Path(__file__).resolve().parents[2]


def run_checkquizzes(tmp_path: Path, lessons: Path, *args: str) -> subprocess.CompletedProcess:
    """``manage.py checkquizzes`` in its own process, reading the lessons under ``lessons``."""
    (tmp_path / "checkquizzes_settings.py").write_text(
        f"from tests.settings import *  # noqa: F403\nLESSONS_DIR = {str(lessons)!r}\n",
        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "DJANGO_SETTINGS_MODULE": "checkquizzes_settings"}
    return subprocess.run([sys.executable, "manage.py", "checkquizzes", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def lessons_copy(tmp_path, settings) -> Path:
    lessons = tmp_path / "lessons"
    shutil.copytree(settings.LESSONS_DIR, lessons)
    return lessons


def first_bank(lessons: Path) -> Path:
    return sorted(lessons.glob("*/quiz.yaml"))[0]


def test_checkquizzes_exits_zero_when_all_is_well(tmp_path, lessons_copy):
    done = run_checkquizzes(tmp_path, lessons_copy, "--skip-engine")
    assert done.returncode == 0, done.stderr
    assert "questions in 17 lessons: all good" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("breakage,expected", [
    (lambda text: text.replace("section: ", "section: no-", 1), "is not a heading"),
    (lambda text: text.replace("zh-hans:", "fr:", 1), "unknown language"),
    (lambda text: text.replace("type: ", "type: essay-", 1), "must be one of"),
    (lambda text: text + "\n  - [unclosed\n", "while parsing"),
    (lambda text: None, "no quiz.yaml"),
])
def test_checkquizzes_exits_non_zero_on_any_bank_problem(tmp_path, lessons_copy, breakage,
                                                         expected):
    quiz = first_bank(lessons_copy)
    broken = breakage(quiz.read_text(encoding="utf-8"))
    if broken is None:
        quiz.unlink()
    else:
        quiz.write_text(broken, encoding="utf-8")
    done = run_checkquizzes(tmp_path, lessons_copy, "--skip-engine")
    assert done.returncode != 0
    assert expected in done.stderr
    assert "problem(s) in the question banks" in done.stderr
    assert "all good" not in done.stdout


def _broken_course(settings, lessons: Path):
    from podlab.course import content
    from podlab.quizzes import bank as bank_module

    settings.LESSONS_DIR = lessons
    content.course.cache_clear()
    bank_module.banks.cache_clear()


@pytest.fixture
def clear_caches():
    from podlab.course import content
    from podlab.quizzes import bank as bank_module

    yield
    content.course.cache_clear()
    bank_module.banks.cache_clear()


def test_checkquizzes_fails_on_a_broken_bank(lessons_copy, settings, clear_caches):
    quiz = first_bank(lessons_copy)
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("section: ", "section: no-", 1),
                    encoding="utf-8")
    _broken_course(settings, lessons_copy)
    with pytest.raises(CommandError, match="problem"):
        call_command("checkquizzes", "--skip-engine")


def test_checkquizzes_fails_when_the_engine_disagrees(monkeypatch, capsys):
    from podlab.quizzes.management.commands import checkquizzes

    def disagree(*, question):
        return [f"{question.key}: the engine says 'Nope'"]

    monkeypatch.setattr(checkquizzes, "check_predict_question", disagree)
    with pytest.raises(CommandError, match="problem"):
        call_command("checkquizzes")
    assert "the engine says 'Nope'" in capsys.readouterr().err
    monkeypatch.setattr(checkquizzes, "check_predict_question", lambda *, question: [])
    call_command("checkquizzes")
    assert "all good" in capsys.readouterr().out


def test_an_engine_crash_is_a_reported_problem_not_a_traceback(monkeypatch):
    from podlab.engine import simulation
    from podlab.quizzes import predict

    question = next(q for bank in banks().values() for q in bank.questions if q.is_predict)

    def explode(self, objects):
        raise RuntimeError("boom")

    predict._run.cache_clear()
    monkeypatch.setattr(simulation.Simulation, "apply", explode)
    try:
        problems = predict.check_predict_question(question=question)
    finally:
        predict._run.cache_clear()
    assert len(problems) == 1 and "boom" in problems[0], problems
