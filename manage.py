#!/usr/bin/env python
"""Django's command-line utility for PodLab."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["podsim"]:
        # The simulator is pure Python: it needs no settings, no SECRET_KEY and no database.
        from podlab.engine.cli import main as podsim

        sys.exit(podsim(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podlab.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
