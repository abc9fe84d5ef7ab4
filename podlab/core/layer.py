"""Channel-layer calls that cannot hang a socket: bounded in time, one clear exception.

With ``REDIS_URL`` set the channel layer is Redis; when Redis is down or slow, a bare
``group_send`` or ``new_channel`` raises a Redis-specific error or waits for the OS's TCP
timeout. Consumers call the layer through :func:`layer_call`, which waits at most
``settings.CHANNEL_LAYER_TIMEOUT`` seconds and turns every failure into
:class:`LayerUnavailable`, so they can tell their users and retry later.
"""

from __future__ import annotations

import asyncio
import functools
import logging
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
    """For an ``AsyncConsumer`` that uses the layer but must not fail its handshake without
    it: if the layer cannot give a channel name in time the consumer runs without a layer
    (``self.channel_layer`` is None, ``self.layer_down`` is True) and can say so to its user.
    """

    layer_down = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            try:
                self.channel_name = await layer_call(self.channel_layer.new_channel())
            except LayerUnavailable as exc:
                logger.warning("channel layer unavailable at connect: %s", exc)
                self.channel_layer = None
                self.layer_down = True
            else:
                self.channel_receive = functools.partial(
                    self.channel_layer.receive, self.channel_name)
                sources.append(self.channel_receive)
        try:
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
