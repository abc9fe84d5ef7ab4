"""The Kubernetes release the engine mirrors, the simulated clock's epoch and timestamps on it."""

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


#: the seconds a timestamp can say, from 0001-01-01 to 9999-12-31T23:59:59 (metav1.Time's
#: years): a deadline further away (a grace period of 2**63 - 1 seconds) says the last
_FIRST_SECOND = -((EPOCH - datetime.min.replace(tzinfo=UTC)) // timedelta(seconds=1))
_LAST_SECOND = (datetime.max.replace(tzinfo=UTC) - EPOCH) // timedelta(seconds=1)


@functools.lru_cache(maxsize=1024)
def _second(second: int) -> str:
    # statuses, events and records stamp the same few seconds over and over
    moment = EPOCH + timedelta(seconds=min(max(second, _FIRST_SECOND), _LAST_SECOND))
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%SZ")


def parse_time(*, value: str | None) -> float | None:
    """Seconds since the engine epoch of an RFC 3339 timestamp; ``None`` for a missing one.

    Fractional seconds (``MicroTime`` such as ``eventTime``) are kept.
    """
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH).total_seconds()
