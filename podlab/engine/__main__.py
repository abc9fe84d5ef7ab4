"""``python -m podlab.engine``: the podsim command line without Django (see docs/podsim.md)."""

from podlab.engine.cli import main

raise SystemExit(main())
