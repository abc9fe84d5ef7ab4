"""Rooms, join codes and seats: what the classroom views and consumers call.

Functions take keyword-only arguments; those that depend on the clock take ``now`` so tests
control it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import CODE_ALPHABET, CODE_LENGTH, INSTRUCTORS_GROUP, JoinAttempt, Room, Seat

SESSION_KEY = "classroom.seats"  # session: {room pk as text: seat id}
FAILED_JOINS_PER_MINUTE = 10
MAX_NAME = 40
LANGS = ("en", "zh-hans")


class JoinError(Exception):
    """A join the classroom refuses; ``code`` says why (see ``join_error_text``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


# --- instructors --------------------------------------------------------------------------

def is_instructor(*, user: AbstractBaseUser | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=INSTRUCTORS_GROUP).exists()  # type: ignore[attr-defined]


def make_instructor(*, user: AbstractBaseUser) -> None:
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    user.groups.add(group)  # type: ignore[attr-defined]


# --- rooms --------------------------------------------------------------------------------

def normalise_code(*, raw: Any) -> str:
    """Upper case without spaces or dashes; people type codes as they read them."""
    if not isinstance(raw, str):
        return ""
    return "".join(ch for ch in raw.upper() if ch not in " -\t")[: CODE_LENGTH + 4]


def is_valid_code(*, code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_room(*, instructor: AbstractBaseUser, title: str = "") -> Room:
    """A new open room with a fresh join code (retried on the rare collision)."""
    for _ in range(20):
        try:
            with transaction.atomic():
                return Room.objects.create(code=new_code(), instructor=instructor,
                                           title=title.strip()[:120])
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free join code")


def set_room_open(*, room: Room, is_open: bool) -> Room:
    room.is_open = is_open
    room.save(update_fields=["is_open"])
    return room


def rooms_of(*, instructor: AbstractBaseUser) -> list[Room]:
    return list(Room.objects.filter(instructor=instructor))


def room_by_code(*, code: str) -> Room | None:
    return Room.objects.filter(code=code).first() if is_valid_code(code=code) else None


def room_for_instructor(*, code: str, user: AbstractBaseUser | None) -> Room | None:
    """The room with ``code`` if ``user`` is an instructor and its owner."""
    if not is_instructor(user=user):
        return None
    return Room.objects.filter(code=code, instructor=user).first()


# --- joining ------------------------------------------------------------------------------

@dataclass(frozen=True)
class JoinKeys:
    """Who is trying: the client's address and session, each limited on its own."""

    ip: str
    session: str

    def keys(self) -> list[str]:
        out = []
        if self.ip:
            out.append(f"ip:{self.ip}"[:120])
        if self.session:
            out.append(f"session:{self.session}"[:120])
        return out


def joins_blocked(*, who: JoinKeys, now: datetime | None = None) -> bool:
    since = _now(now) - timedelta(minutes=1)
    for key in who.keys():
        if JoinAttempt.objects.filter(key=key, at__gt=since).count() >= FAILED_JOINS_PER_MINUTE:
            return True
    return False


def _record_failure(who: JoinKeys, now: datetime) -> None:
    JoinAttempt.objects.bulk_create([JoinAttempt(key=k, at=now) for k in who.keys()])
    JoinAttempt.objects.filter(at__lt=now - timedelta(minutes=10)).delete()


def clean_name(*, raw: Any) -> str:
    if not isinstance(raw, str):
        raise JoinError("bad_name")
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise JoinError("bad_name")
    return name


def seat_in_session(*, session: Any, room: Room) -> Seat | None:
    seats = session.get(SESSION_KEY) or {}
    raw = seats.get(str(room.pk)) if isinstance(seats, dict) else None
    if not raw:
        return None
    try:
        seat_id = uuid.UUID(str(raw))
    except ValueError:
        return None
    return Seat.objects.filter(pk=seat_id, room=room).first()


def join_room(*, code: Any, name: Any, lang: str, who: JoinKeys, session: Any,
              now: datetime | None = None) -> Seat:
    """Seat the session in the room with ``code``; the same session gets its seat back.

    Wrong codes are counted per address and per session: past ``FAILED_JOINS_PER_MINUTE`` in
    a minute every attempt is refused, right code or not, until the minute has passed.
    """
    moment = _now(now)
    if joins_blocked(who=who, now=moment):
        raise JoinError("rate_limited")
    wanted = normalise_code(raw=code)
    room = Room.objects.filter(code=wanted).first() if is_valid_code(code=wanted) else None
    if room is None:
        _record_failure(who, moment)
        raise JoinError("unknown_code")
    if not room.is_open:
        raise JoinError("closed")
    seat = seat_in_session(session=session, room=room)
    display = clean_name(raw=name) if seat is None or name else seat.name
    if seat is not None:
        if display != seat.name:
            if Seat.objects.filter(room=room, name=display).exclude(pk=seat.pk).exists():
                raise JoinError("name_taken")
            seat.name = display
        seat.lang = lang if lang in LANGS else seat.lang
        seat.save(update_fields=["name", "lang"])
        return seat
    try:
        with transaction.atomic():
            seat = Seat.objects.create(room=room, name=display,
                                       lang=lang if lang in LANGS else "en")
    except IntegrityError as exc:
        raise JoinError("name_taken") from exc
    seats = dict(session.get(SESSION_KEY) or {})
    seats[str(room.pk)] = str(seat.pk)
    session[SESSION_KEY] = seats
    return seat


def join_error_text(*, code: str) -> str:
    from django.utils.translation import gettext

    return {
        "rate_limited": gettext("Too many wrong codes: wait a minute before trying again."),
        "unknown_code": gettext("No room has this code. Check it with your instructor."),
        "closed": gettext("This room is closed."),
        "name_taken": gettext("Someone in this room already uses that name; pick another."),
        "bad_name": gettext("Give a display name of 1 to 40 characters."),
    }.get(code, gettext("You could not join this room."))
