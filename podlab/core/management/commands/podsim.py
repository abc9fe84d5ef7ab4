"""``python manage.py podsim``: the engine's command line (see ``docs/podsim.md``).

The options belong to ``podlab.engine.cli``; Django's own option parsing is bypassed so that
``-o``, ``-w``, ``--help`` and ``-`` mean what the podsim contract says. From the command
line it runs with the garbage-collector settings of the lab's workers (``core/gctune.py``).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from podlab.core import gctune
from podlab.engine import cli


class Command(BaseCommand):
    help = "Simulate Kubernetes manifests and print what kubectl would show (see --help)."

    def run_from_argv(self, argv: list[str]) -> None:
        # A process that runs one simulation: the garbage collector's settings of the lab's
        # workers (the engine makes no reference cycles while it runs, so the full
        # collections CPython would make every few seconds of a long run find nothing)
        gctune.tune_for_server()
        code = cli.main(argv[2:], sys.stdout, sys.stderr)
        sys.stdout.flush()
        if code:
            sys.exit(code)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("podsim_args", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [str(a) for a in (*args, *options.get("podsim_args", []))]
        stdout = getattr(self.stdout, "_out", sys.stdout)
        stderr = getattr(self.stderr, "_out", sys.stderr)
        code = cli.main(argv, stdout, stderr)
        if code:
            sys.exit(code)
