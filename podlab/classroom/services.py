"""Rooms, join codes and seats: what the classroom views and consumers call.

Functions take keyword-only arguments; those that depend on the clock take ``now`` so tests
control it.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import CODE_ALPHABET, CODE_LENGTH, INSTRUCTORS_GROUP, JoinAttempt, Room, Seat

SESSION_KEY = "classroom.seats"  # session: {room pk as text: seat id}
# Wrong codes a minute: one browser session may guess a few; one address (an IPv4 address,
# or an IPv6 /64, which one household or school usually gets) carries a whole class behind
# its NAT, so it gets more before it is refused.
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

def address_key(ip: str) -> str:
    """The address a limit counts against: IPv4 as it is, IPv6 by its /64 network (a client
    may pick any address inside its /64), IPv4-mapped IPv6 as the IPv4 address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass(frozen=True)
class JoinKeys:
    """Who is trying: the client's address and session, each limited on its own."""

    ip: str
    session: str

    @property
    def address(self) -> str:
        return address_key(self.ip) if self.ip else ""

    def keys(self, kind: str = "bad") -> list[tuple[str, int]]:
        """(key, limit per minute) of each thing counted for an attempt of ``kind``."""
        out = []
        if kind == "bad":
            if self.address:
                out.append((f"bad:ip:{self.address}"[:120],
                            _limit("CLASSROOM_WRONG_CODES_PER_ADDRESS", 60)))
            if self.session:
                out.append((f"bad:session:{self.session}"[:120], FAILED_JOINS_PER_MINUTE))
        elif self.address:
            out.append((f"seat:ip:{self.address}"[:120],
                        _limit("CLASSROOM_NEW_SEATS_PER_ADDRESS", 200)))
        return out


def _over(who: JoinKeys, kind: str, now: datetime) -> bool:
    since = now - timedelta(minutes=1)
    return any(JoinAttempt.objects.filter(key=key, at__gt=since).count() >= limit
               for key, limit in who.keys(kind))


def joins_blocked(*, who: JoinKeys, now: datetime | None = None) -> bool:
    return _over(who, "bad", _now(now))


def _record(who: JoinKeys, kind: str, now: datetime) -> None:
    JoinAttempt.objects.bulk_create([JoinAttempt(key=k, at=now) for k, _ in who.keys(kind)])
    JoinAttempt.objects.filter(at__lt=now - timedelta(minutes=10)).delete()


def _record_failure(who: JoinKeys, now: datetime) -> None:
    _record(who, "bad", now)


def seat_cap() -> int:
    return _limit("CLASSROOM_SEATS_PER_ROOM", 400)


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

    Wrong codes are counted per session (``FAILED_JOINS_PER_MINUTE``) and per address
    (``CLASSROOM_WRONG_CODES_PER_ADDRESS``): past either in a minute every attempt from that
    session or address is refused, right code or not, until the minute has passed. New seats
    are counted per address (``CLASSROOM_NEW_SEATS_PER_ADDRESS`` a minute) and capped per room
    (``CLASSROOM_SEATS_PER_ROOM``); a session getting its own seat back counts for neither.
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
    if seat is not None:  # the same session comes back: not a new seat, never capped
        if display != seat.name:
            if Seat.objects.filter(room=room, name=display).exclude(pk=seat.pk).exists():
                raise JoinError("name_taken")
            seat.name = display
        seat.lang = lang if lang in LANGS else seat.lang
        seat.save(update_fields=["name", "lang"])
        return seat
    if _over(who, "seat", moment):
        raise JoinError("rate_limited_seats")
    try:
        with transaction.atomic():
            if Seat.objects.filter(room=room).count() >= seat_cap():
                raise JoinError("room_full")
            seat = Seat.objects.create(room=room, name=display,
                                       lang=lang if lang in LANGS else "en")
    except IntegrityError as exc:
        raise JoinError("name_taken") from exc
    _record(who, "seat", moment)
    seats = dict(session.get(SESSION_KEY) or {})
    seats[str(room.pk)] = str(seat.pk)
    session[SESSION_KEY] = seats
    return seat


def join_error_text(*, code: str) -> str:
    from django.utils.translation import gettext

    return {
        "rate_limited": gettext("Too many wrong codes: wait a minute before trying again."),
        "rate_limited_seats": gettext("Too many people joined from this network in the last "
                                      "minute: wait a moment and try again."),
        "room_full": gettext("This room is full. Ask your instructor."),
        "unknown_code": gettext("No room has this code. Check it with your instructor."),
        "closed": gettext("This room is closed."),
        "name_taken": gettext("Someone in this room already uses that name; pick another."),
        "bad_name": gettext("Give a display name of 1 to 40 characters."),
    }.get(code, gettext("You could not join this room."))
