"""Database calls from async code (websocket consumers) on a bounded pool of threads.

Channels' ``database_sync_to_async`` is thread-sensitive: outside an HTTP request every call
of a process runs on asgiref's one shared thread. Django gives each HTTP request a thread of
its own (``ThreadSensitiveContext`` in its ASGI handler), but websockets get no such context,
so one socket whose query waits (a locked row, a database that hangs until its timeout) held
up every other socket's session lookup and queries in that process. Here the calls run on a
pool of ``DATABASE_THREADS`` threads instead (the size of the connection pool by default):
a waiting query holds one thread, not all of them.

Sharing one thread is not needed for correctness: each call is a whole unit of work (its own
transaction, its connection closed or returned to the pool around it, as Channels does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.db import DatabaseSyncToAsync
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's pool, made on first use with ``settings.DATABASE_THREADS`` threads."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.DATABASE_THREADS,
                                       thread_name_prefix="podlab-db")
        return _pool


def reset_pool() -> None:
    """Forget the pool (its running calls finish); the next call makes one anew."""
    global _pool
    with _lock:
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


class _CurrentPool(Executor):
    """What the wrappers hold: they are made at import, the pool on first use."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return pool().submit(fn, *args, **kwargs)


_current = _CurrentPool()


class _Pooled(DatabaseSyncToAsync):
    def __init__(self, func: Callable[..., Any]) -> None:
        super().__init__(func, thread_sensitive=False, executor=_current)  # type: ignore[arg-type]


def database_sync_to_async(func: Callable[..., Any]) -> Any:
    """Like ``channels.db.database_sync_to_async`` (a decorator or a wrapper), on the pool."""
    return _Pooled(func)


class PooledAuthMiddleware(AuthMiddleware):
    """Channels' ``AuthMiddleware``, looking the session's user up on the pool."""

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        scope["user"]._wrapped = await database_sync_to_async(get_user.func)(scope)


def auth_middleware_stack(inner: Any) -> Any:
    """``channels.auth.AuthMiddlewareStack`` with the user looked up on the pool."""
    return CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(inner)))
