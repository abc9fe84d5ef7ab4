"""Channel-layer calls that cannot hang a socket: bounded in time, one clear exception.

With ``REDIS_URL`` set the channel layer is Redis; when Redis is down or slow, a bare
``group_send`` or ``new_channel`` raises a Redis-specific error or waits for the OS's TCP
timeout. Consumers call the layer through :func:`layer_call`, which waits at most
``settings.CHANNEL_LAYER_TIMEOUT`` seconds and turns every failure into
:class:`LayerUnavailable`, so they can tell their users and retry later.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

logger = logging.getLogger(__name__)

#: ``channel_layer_alias`` of a consumer that never uses the layer: it gets none, so a Redis
#: that is down cannot fail its handshake (no layer is configured under this name).
NO_CHANNEL_LAYER = "podlab.no-channel-layer"

try:  # channels_redis brings redis-py; the in-memory layer does not need it
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency of channels_redis
    class RedisError(Exception):  # type: ignore[no-redef]
        pass


class LayerUnavailable(Exception):
    """The channel layer did not answer in time, or failed."""


async def layer_call[T](awaitable: Awaitable[T], *, timeout: float | None = None) -> T:
    """Await one channel-layer call, at most ``timeout`` seconds (the setting by default)."""
    limit = settings.CHANNEL_LAYER_TIMEOUT if timeout is None else timeout
    try:
        return await asyncio.wait_for(awaitable, limit)
    except (TimeoutError, OSError, RedisError) as exc:
        raise LayerUnavailable(f"{type(exc).__name__}: {exc}") from exc


class LayerTolerantMixin:
    """For an ``AsyncConsumer`` that uses the layer but must not fail its handshake without it.

    Channels asks the layer for a channel name before the consumer sees its first message;
    with Redis down, ``RedisPubSubChannelLayer.new_channel()`` raises at once (or hangs on a
    silent server), and the socket fails with HTTP 500. Here, if the layer cannot give a name
    in time, the consumer starts anyway: ``self.layer_down`` and ``self.channel_pending`` are
    True and ``self.channel_name`` is a provisional name the layer has never seen (unique, so
    it can still key per-socket records). The consumer tells its user, and later calls
    :meth:`acquire_channel`, which asks the layer again and, once it answers, starts
    receiving on the new name; :meth:`channel_acquired` is then told the provisional name.
    """

    layer_down = False
    channel_pending = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self._channel_ready = asyncio.Event()
        sources = [receive]
        if self.channel_layer is not None:
            try:
                self.channel_name = await layer_call(self.channel_layer.new_channel())
            except LayerUnavailable as exc:
                logger.warning("channel layer unavailable at connect: %s", exc)
                self.channel_name = f"provisional.{uuid.uuid4().hex}"
                self.layer_down = self.channel_pending = True
            else:
                self._channel_ready.set()
            # Waits until there is a real channel name, then receives on it: the dispatch
            # loop below calls it again after each message.
            self.channel_receive = self._receive_from_layer
            sources.append(self.channel_receive)
        try:
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass

    async def _receive_from_layer(self) -> Any:
        await self._channel_ready.wait()
        return await self.channel_layer.receive(self.channel_name)

    async def acquire_channel(self, *, timeout: float | None = None) -> bool:
        """Get a real channel name if the handshake could not; True once there is one."""
        if not self.channel_pending:
            return True
        try:
            name = await layer_call(self.channel_layer.new_channel(), timeout=timeout)
        except LayerUnavailable as exc:
            logger.info("channel layer still unavailable: %s", exc)
            return False
        provisional, self.channel_name = self.channel_name, name
        self.channel_pending = False
        self._channel_ready.set()
        await self.channel_acquired(provisional)
        return True

    async def channel_acquired(self, provisional: str) -> None:
        """Hook: the socket now has a real channel name instead of ``provisional``."""
