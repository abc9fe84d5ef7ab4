"""Fixtures of the classroom tests."""

from __future__ import annotations

import pytest

from .helpers import db, make_room, make_teacher, user_session


@pytest.fixture
async def room():
    def build():
        teacher = make_teacher()
        return make_room(teacher), user_session(teacher)

    built, key = await db(build)()
    built.teacher_key = key
    return built
