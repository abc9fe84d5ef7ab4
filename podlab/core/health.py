"""``/healthz`` and ``/readyz``, answered before Django so they never wait behind it.

``/healthz``: the process is up and its event loop answers (no dependency is touched).
``/readyz``: the process can serve: the database answers ``SELECT 1`` and, when ``REDIS_URL``
is set, Redis answers ``PING``, each within its timeout. 200 when both do, else 503; the body
is JSON naming each dependency's state. A load balancer takes a process out on 503 and back
in when it answers 200 again; nothing else needs to be done when a dependency returns.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from django.conf import settings
from django.db import connections

PATHS = ("/healthz", "/readyz")


def _check_database() -> None:
    # A thread of its own (not the one Django's sync code shares) and its own connection.
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


async def check_database() -> str:
    limit = settings.DATABASE_CONNECT_TIMEOUT + 1
    try:
        await asyncio.wait_for(asyncio.to_thread(_check_database), limit)
    except TimeoutError:
        return f"error: no answer in {limit} s"
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready", reported by name
        return f"error: {type(exc).__name__}"
    return "ok"


async def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not used"
    import redis.asyncio as redis

    limit = settings.CHANNEL_LAYER_TIMEOUT
    client = redis.from_url(settings.REDIS_URL, socket_connect_timeout=limit,
                            socket_timeout=limit)
    try:
        await asyncio.wait_for(client.ping(), limit + 1)
    except TimeoutError:
        return f"error: no answer in {limit} s"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    finally:
        await client.aclose()
    return "ok"


async def _respond(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
        (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class HealthChecks:
    """ASGI middleware answering the two health paths; everything else goes on to Django."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "http" or scope.get("path") not in PATHS:
            return await self.application(scope, receive, send)
        if scope["path"] == "/healthz":
            return await _respond(send, 200, {"status": "ok"})
        started = time.monotonic()
        database, redis_state = await asyncio.gather(check_database(), check_redis())
        ready = database == "ok" and redis_state in {"ok", "not used"}
        return await _respond(send, 200 if ready else 503, {
            "status": "ready" if ready else "unavailable",
            "database": database,
            "redis": redis_state,
            "seconds": round(time.monotonic() - started, 3),
        })
