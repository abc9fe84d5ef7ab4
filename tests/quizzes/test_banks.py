"""The course's question banks: every lesson has one, complete in both languages, pointing at
sections and examples that exist."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command

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


def test_checkquizzes_fails_on_a_broken_bank(tmp_path, settings):
    import shutil

    from podlab.course import content
    from podlab.quizzes import bank as bank_module

    lessons = tmp_path / "lessons"
    shutil.copytree(settings.LESSONS_DIR, lessons)
    quiz = next(lessons.glob("01-*/quiz.yaml"))
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("section: ", "section: no-", 1),
                    encoding="utf-8")
    settings.LESSONS_DIR = lessons
    content.course.cache_clear()
    bank_module.banks.cache_clear()
    try:
        with pytest.raises(Exception, match="problem"):
            call_command("checkquizzes", "--skip-engine")
    finally:
        content.course.cache_clear()
        bank_module.banks.cache_clear()
