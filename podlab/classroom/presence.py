"""Who is connected to a room, counted per socket and shared by every process.

Each open classroom socket has a ``Connection`` row. A process renews the rows of all its own
sockets in one query every ``RENEW_SECONDS``; a row not renewed for ``TTL_SECONDS`` no longer
counts, so the sockets of a process that crashed drop out by themselves. A seat is online while
any of its sockets is (two tabs, a reconnect whose new socket arrives before the old one's
close); the instructor is present while any of their consoles is (a takeover from another
laptop or process never shows students an absent instructor).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
import weakref
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from channels.layers import get_channel_layer
from django.utils import timezone

from podlab.core.db import database_sync_to_async

from .models import Connection

TTL_SECONDS = 30.0
RENEW_SECONDS = 10.0
# How often a process with classroom sockets checks that the channel layer answers, so that
# sockets which only listen learn of an outage too.
CHECK_SECONDS = 2.5
PROCESS = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
logger = logging.getLogger(__name__)

_local: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_renewer: asyncio.Task[None] | None = None


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def register(*, channel: str, room_pk: int, role: str, seat_pk: object = None,
             now: datetime | None = None, process: str = PROCESS) -> None:
    Connection.objects.update_or_create(channel=channel, defaults={
        "room_id": room_pk, "seat_id": seat_pk, "role": role, "process": process,
        "expires_at": _now(now) + timedelta(seconds=TTL_SECONDS)})


def unregister(*, channel: str) -> None:
    Connection.objects.filter(channel=channel).delete()


def renew(*, process: str = PROCESS, now: datetime | None = None) -> int:
    """Extend the rows of this process; forget rows that expired a while ago."""
    moment = _now(now)
    count = Connection.objects.filter(process=process).update(
        expires_at=moment + timedelta(seconds=TTL_SECONDS))
    Connection.objects.filter(expires_at__lt=moment - timedelta(seconds=TTL_SECONDS)).delete()
    return count


def live(*, room_pk: int, now: datetime | None = None):
    return Connection.objects.filter(room_id=room_pk, expires_at__gt=_now(now))


def online_seats(*, room_pk: int, now: datetime | None = None) -> set[object]:
    return set(live(room_pk=room_pk, now=now).filter(role=Connection.STUDENT)
               .values_list("seat_id", flat=True))


def instructor_present(*, room_pk: int, now: datetime | None = None) -> bool:
    return live(room_pk=room_pk, now=now).filter(role=Connection.INSTRUCTOR).exists()


# --- the socket side ----------------------------------------------------------------------

async def layer_answers(timeout: float) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return True
    try:
        await asyncio.wait_for(layer.group_send("classroom-health", {"type": "health.ping"}),
                               timeout)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - whatever the layer raises, it did not answer
        return False
    return True


async def _renew_forever() -> None:
    from .consumers import layer_timeout

    renewed = asyncio.get_running_loop().time()
    while _local:
        await asyncio.sleep(CHECK_SECONDS)
        if not await layer_answers(layer_timeout()):
            for consumer in list(_local.values()):
                with suppress(Exception):
                    await consumer.layer_lost()
        if asyncio.get_running_loop().time() - renewed >= RENEW_SECONDS:
            renewed = asyncio.get_running_loop().time()
            try:
                await database_sync_to_async(renew)()
            except Exception:  # noqa: BLE001 - a database hiccup: the next round renews
                logger.warning("classroom presence could not be renewed", exc_info=True)


async def joined(*, consumer: Any, channel: str, room_pk: int, role: str,
                 seat_pk: object = None) -> None:
    global _renewer
    await database_sync_to_async(register)(channel=channel, room_pk=room_pk, role=role,
                                           seat_pk=seat_pk)
    _local[channel] = consumer
    loop = asyncio.get_running_loop()
    if _renewer is None or _renewer.done() or _renewer.get_loop() is not loop:
        _renewer = loop.create_task(_renew_forever())


def rename(*, old: str, new: str) -> int:
    return Connection.objects.filter(channel=old).update(channel=new)


async def renamed(*, old: str, new: str) -> None:
    """A socket that connected while the channel layer was down got its real channel name."""
    consumer = _local.pop(old, None)
    if consumer is not None:
        _local[new] = consumer
    await database_sync_to_async(rename)(old=old, new=new)


async def left(*, channel: str) -> None:
    _local.pop(channel, None)
    await database_sync_to_async(unregister)(channel=channel)
