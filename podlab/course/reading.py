"""Where a learner is in the course: lessons read and the last one opened, kept in the session
(no account needed; the session follows the learner who signs in)."""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase

READ_KEY = "course_lessons_read"
LAST_KEY = "course_last_lesson"


def mark_read(session: SessionBase, slug: str) -> None:
    read = list(session.get(READ_KEY) or [])
    if slug not in read:
        read.append(slug)
        session[READ_KEY] = read
    if session.get(LAST_KEY) != slug:
        session[LAST_KEY] = slug


def lessons_read(session: SessionBase) -> list[str]:
    return [str(slug) for slug in session.get(READ_KEY) or []]


def last_lesson(session: SessionBase) -> str | None:
    slug = session.get(LAST_KEY)
    return str(slug) if slug else None
