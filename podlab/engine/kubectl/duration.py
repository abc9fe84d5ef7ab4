"""Durations and timestamps the way kubectl renders them.

``human_duration`` follows apimachinery's ``duration.HumanDuration``: the integer arithmetic
truncates toward zero exactly like Go's ``time.Duration`` division, so the boundaries
(``119s`` → ``2m``, ``9m59s`` → ``10m``, ``2h59m`` → ``3h``) land where kubectl puts them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from podlab.engine.core.version import parse_time

_NS = 1_000_000_000
_MINUTE = 60 * _NS
_HOUR = 60 * _MINUTE


def _tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (Go semantics)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def human_duration(*, seconds: float) -> str:
    """Format an elapsed time like kubectl's AGE column (``45s``, ``2m5s``, ``3d4h``)."""
    d = round(seconds * _NS)
    whole = _tdiv(d, _NS)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = _tdiv(d, _MINUTE)
    if minutes < 10:
        rest = _tdiv(d, _NS) % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = _tdiv(d, _HOUR)
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(*, value: str | None, now: float) -> str:
    """kubectl's ``translateTimestampSince``: ``<unknown>`` for a zero time, else the age."""
    moment = parse_time(value=value)
    if moment is None:
        return "<unknown>"
    return human_duration(seconds=now - moment)


def ago(*, value: str | None, now: float) -> str:
    """The short form used in RESTARTS: ``(45s ago)``."""
    return f"({since(value=value, now=now)} ago)"


def rfc1123z(*, value: str | None) -> str:
    """Go's ``time.RFC1123Z`` layout in UTC: ``Wed, 01 Jan 2025 00:00:05 +0000``.

    kubectl prints in the local zone of the machine it runs on; PodLab's machine is UTC.
    A missing time prints as Go's zero time does.
    """
    if not value:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text).astimezone(UTC)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (
        f"{days[moment.weekday()]}, {moment.day:02d} {months[moment.month - 1]} {moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )
