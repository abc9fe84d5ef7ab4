"""``manage.py makeinstructor USERNAME [--password ...]``: create or update an instructor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from podlab.classroom.services import make_instructor


class Command(BaseCommand):
    help = "Create a user (or update an existing one) and put them in the instructors group."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="set this password (otherwise left as it is; "
                            "a new user without one cannot log in until it is set)")

    def handle(self, *args: Any, username: str, password: str | None, **options: Any) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.is_active = True
        user.save()
        make_instructor(user=user)
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} instructor {username}")
