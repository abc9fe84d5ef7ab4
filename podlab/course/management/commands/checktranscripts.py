"""Run every ``[[kubectl:...]]`` transcript of the course through the engine and report.

``python manage.py checktranscripts`` exits 1 when a directive cannot be run (unknown example,
unsupported command, engine refusal). It also warms the per-process cache, so a server started
afterwards in the same process renders lessons without running the engine again.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from podlab.course import transcripts
from podlab.course.content import CourseError, course


class Command(BaseCommand):
    help = "Run every engine-generated transcript of the lessons and report failures."

    def handle(self, *args, **options):
        examples = course().examples
        failures, count = [], 0
        started = time.perf_counter()
        for lesson in course().lessons:
            for lang in ("en", "zh-hans"):
                for line in lesson.markdown(lang).splitlines():
                    transcript = transcripts.parse_directive(line)
                    if transcript is None:
                        continue
                    count += 1
                    try:
                        transcripts.engine_output(transcript, examples)
                    except CourseError as error:
                        failures.append(f"{lesson.slug}/{lang}.md: {error}")
        elapsed = time.perf_counter() - started
        for failure in failures:
            self.stderr.write(failure)
        self.stdout.write(f"{count} transcripts, {len(failures)} failed, {elapsed:.1f} s")
        if failures:
            raise CommandError("some transcripts could not be produced by the engine")
