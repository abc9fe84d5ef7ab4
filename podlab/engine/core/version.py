"""The Kubernetes release the engine mirrors and the simulated clock's epoch."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta

KUBERNETES_VERSION = "1.34"

#: Simulated time ``t = 0`` (seconds) is this instant.
EPOCH = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)


def timestamp(t: float) -> str:
    """RFC 3339 with second precision, as the API server writes ``metav1.Time``.

    Fractions of a second are dropped (floor), so ``timestamp(65.9)`` is
    ``"2025-01-01T00:01:05Z"``.
    """
    if not math.isfinite(t):
        raise ValueError(f"simulated time must be finite, got {t!r}")
    return _second(math.floor(t))


@functools.lru_cache(maxsize=1024)
def _second(second: int) -> str:
    # statuses, events and records stamp the same few seconds over and over
    moment = EPOCH + timedelta(seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
