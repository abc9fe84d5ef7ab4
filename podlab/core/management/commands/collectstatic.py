"""``collectstatic`` that first compiles the translations.

The ``.mo`` files are build products (git ignores them, ``pip install`` does not make them), and
every deployment runs ``collectstatic``: so a deployment that follows the README serves both
languages without a separate step.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.collectstatic import Command as Collect
from django.core.management import call_command


class Command(Collect):
    help = "Compile the translations, then collect the static files into STATIC_ROOT."

    def handle(self, **options: Any) -> Any:
        call_command("compiletranslations", verbosity=options.get("verbosity", 1))
        return super().handle(**options)
