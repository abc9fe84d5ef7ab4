"""Messages a plain (synchronous) view sends to a room's connections."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

LANGS = ("en", "zh-hans")


def announce_closed(*, room_pk: int) -> None:
    """Tell every connection of the room that it is closed; they close their sockets."""
    layer = get_channel_layer()
    if layer is None:
        return
    for suffix in (*LANGS, "teach"):
        async_to_sync(layer.group_send)(f"classroom-{room_pk}-{suffix}", {"type": "room.closed"})
