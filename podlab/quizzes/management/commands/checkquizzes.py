"""python manage.py checkquizzes: validate every question bank (content is reviewed like code)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from podlab.course.content import course
from podlab.quizzes.bank import BankError, load_bank, reference_problems
from podlab.quizzes.predict import check_predict_question


class Command(BaseCommand):
    help = ("Check every lessons/*/quiz.yaml: structure, both languages, lesson sections and "
            "examples that exist, and predict questions the engine answers with exactly one "
            "candidate.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-engine", action="store_true",
                            help="do not run predict questions through the engine")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        questions = 0
        for lesson in course().lessons:
            try:
                bank = load_bank(lesson)
            except BankError as exc:
                problems.extend(exc.problems)
                continue
            except Exception as exc:  # a YAML syntax error, reported with its file
                problems.append(f"{lesson.folder / 'quiz.yaml'}: {exc}")
                continue
            if bank is None:
                problems.append(f"{lesson.folder}: no quiz.yaml")
                continue
            questions += len(bank.questions)
            problems.extend(reference_problems(bank))
            if not options["skip_engine"]:
                for question in bank.questions:
                    if question.is_predict:
                        problems.extend(check_predict_question(question=question))
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the question banks")
        self.stdout.write(f"{questions} questions in {len(course().lessons)} lessons: all good")
