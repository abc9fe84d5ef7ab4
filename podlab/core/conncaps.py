"""Caps on websockets per client address, shared by every Daphne process of a deployment.

Without ``REDIS_URL`` each process counts its own sockets. With it, the counts live in Redis,
so a visitor cannot open ``limit`` sockets on each process behind the proxy:

- one hash per address (``<prefix>conn:<cap>:<address>``), one field per process holding
  sockets of that address (the field's value: how many);
- one key per live process (``<prefix>conn-alive:<process>``) that expires after
  ``ALIVE_SECONDS`` unless the process's heartbeat renews it.

An admission runs one Lua script: it sums the fields of live processes, drops the fields of
processes whose key expired (a crashed process's counts fade within ``ALIVE_SECONDS``), and
counts the new socket if the sum is under the cap. Each heartbeat also writes this process's
own counts again, so counts lost when Redis restarts come back by themselves.

Each process also counts locally. When Redis does not answer within ``REDIS_TIMEOUT``
(down, or slow), the local count decides and Redis is left alone for ``RETRY_SECONDS``: a
Redis outage makes the cap per process again, it never refuses everyone.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

#: a process's counts fade this long after its last heartbeat
ALIVE_SECONDS = 30.0
HEARTBEAT_SECONDS = 10.0
#: the longest a connect waits on Redis; after a failure Redis is skipped this long
REDIS_TIMEOUT = 0.5
RETRY_SECONDS = 5.0

# The script reads the alive keys by name (not through KEYS): one Redis server, as the
# deployment's channel layer uses, not Redis Cluster.
# KEYS[1]: the address's hash. ARGV: this process, the cap, the alive-key prefix, the time to
# live, this process's own count for the address. Sums the other live processes' counts (and
# drops those of processes whose alive key expired); under the cap, records this process's
# count plus one. Returns the new sum, or -1 when the cap is reached.
ADMIT = """
redis.call('SET', ARGV[3] .. ARGV[1], '1', 'EX', ARGV[4])
local fields = redis.call('HGETALL', KEYS[1])
local total = tonumber(ARGV[5])
for i = 1, #fields, 2 do
  local proc = fields[i]
  if proc ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[3] .. proc) == 1 then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', KEYS[1], proc)
    end
  end
end
if total >= tonumber(ARGV[2]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], tonumber(ARGV[5]) + 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return total + 1
"""


@dataclass
class Ticket:
    """One admitted socket: give it back with :meth:`AddressCap.release`."""

    address: str


class AddressCap:
    """At most ``limit()`` sockets per client address, across the deployment's processes.

    ``setting`` names the Django setting that holds the cap; ``name`` keeps the counts of
    different caps apart in Redis. Redis holds, per address, a copy of each process's own
    count (``local``), written at every admission and release and again at every heartbeat.
    """

    def __init__(self, name: str, setting: str, default: int, *,
                 process: str | None = None) -> None:
        self.name = name
        self.setting = setting
        self.default = default
        self.process = process or uuid.uuid4().hex
        self.local: dict[str, int] = {}
        #: addresses whose copy in Redis may be wrong (a write failed): the heartbeat fixes them
        self.dirty: set[str] = set()
        self._client: Any = None
        self._client_key: tuple[Any, str] | None = None
        self._skip_until = 0.0
        self._heartbeat: asyncio.Task[None] | None = None

    def limit(self) -> int:
        return int(getattr(settings, self.setting, self.default))

    def count(self, address: str) -> int:
        """Sockets of ``address`` in this process."""
        return self.local.get(address, 0)

    # --- Redis ------------------------------------------------------------------------------

    def _redis(self) -> Any:
        """A client for this event loop (a client is bound to the loop it was made on), or
        None without ``REDIS_URL``."""
        url = str(getattr(settings, "REDIS_URL", "") or "")
        if not url:
            return None
        key = (asyncio.get_running_loop(), url)
        if self._client_key != key:
            from redis import asyncio as aioredis

            self._client = aioredis.Redis.from_url(
                url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
            self._client_key = key
            self._heartbeat = None
        return self._client

    def _usable(self) -> Any:
        """The client, unless Redis failed less than ``RETRY_SECONDS`` ago."""
        return None if time.monotonic() < self._skip_until else self._redis()

    def _prefix(self) -> str:
        return str(getattr(settings, "PODLAB_CHANNEL_PREFIX", "podlab."))

    def _hash(self, address: str) -> str:
        return f"{self._prefix()}conn:{self.name}:{address}"

    def _alive(self) -> str:
        return f"{self._prefix()}conn-alive:"

    def _ttl(self) -> int:
        return max(1, math.ceil(ALIVE_SECONDS))

    async def _run(self, call: Any) -> Any:
        """One Redis call, bounded in time; on failure Redis is skipped for a while."""
        try:
            return await asyncio.wait_for(call, REDIS_TIMEOUT * 2)
        except Exception as exc:  # noqa: BLE001 - any failure: count locally, loudly
            self._skip_until = time.monotonic() + RETRY_SECONDS
            logger.warning("connection caps: Redis unavailable, counting per process (%s: %s)",
                           type(exc).__name__, exc)
            raise _Unavailable from exc

    async def _write(self, client: Any, addresses: set[str] | None = None) -> None:
        """Say this process is alive and copy its counts (all, or of ``addresses``)."""
        pipe = client.pipeline(transaction=False)
        pipe.set(self._alive() + self.process, "1", ex=self._ttl())
        for address in self.local if addresses is None else addresses:
            count = self.local.get(address, 0)
            if count > 0:
                pipe.hset(self._hash(address), self.process, count)
                pipe.expire(self._hash(address), self._ttl())
            else:
                pipe.hdel(self._hash(address), self.process)
        await pipe.execute()

    async def beat(self) -> bool:
        """One heartbeat: renew this process's alive key, write its counts again (a Redis
        that restarted lost them) and fix those a failed write left wrong. True if done."""
        client = self._usable()
        if client is None:
            return False
        dirty, self.dirty = self.dirty, set()
        try:
            await self._run(self._write(client, set(self.local) | dirty))
        except _Unavailable:
            self.dirty |= dirty
            return False
        return True

    async def _heartbeat_loop(self, client: Any) -> None:
        try:
            while (self.local or self.dirty) and self._client is client:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await self.beat()
        finally:
            if self._client is client:
                self._heartbeat = None

    def _ensure_heartbeat(self) -> None:
        client = self._redis()
        if client is not None and (self._heartbeat is None or self._heartbeat.done()):
            self._heartbeat = asyncio.ensure_future(self._heartbeat_loop(client))

    # --- admitting and releasing ------------------------------------------------------------

    async def admit(self, address: str) -> Ticket | None:
        """A ticket for one more socket from ``address``, or None when it holds the cap."""
        limit = self.limit()
        mine = self.local.get(address, 0)
        client = self._usable()
        if client is not None:
            try:
                total = await self._run(client.eval(
                    ADMIT, 1, self._hash(address), self.process, limit, self._alive(),
                    self._ttl(), mine))
            except _Unavailable:
                self.dirty.add(address)
            else:
                if int(total) < 0:
                    return None
                # Another socket of this address may have been admitted or released while
                # the script ran: the copy is fixed at the next heartbeat.
                if self.local.get(address, 0) != mine:
                    self.dirty.add(address)
                self.local[address] = self.local.get(address, 0) + 1
                self._ensure_heartbeat()
                return Ticket(address)
        elif self._redis() is not None:
            self.dirty.add(address)
        if self.local.get(address, 0) >= limit:
            return None
        self.local[address] = self.local.get(address, 0) + 1
        self._ensure_heartbeat()
        return Ticket(address)

    async def release(self, ticket: Ticket | None) -> None:
        if ticket is None:
            return
        address = ticket.address
        left = self.local.get(address, 1) - 1
        if left > 0:
            self.local[address] = left
        else:
            self.local.pop(address, None)
        client = self._usable()
        if client is None:
            if self._redis() is not None:
                self.dirty.add(address)
            return
        try:
            await self._run(self._write(client, {address}))
        except _Unavailable:
            self.dirty.add(address)


class _Unavailable(Exception):
    pass


#: address tickets of cancelled sockets being given back (a reference keeps each task alive)
_releasing: set[asyncio.Task[None]] = set()


def release_soon(cap: AddressCap, ticket: Ticket | None) -> None:
    """Give ``ticket`` back to ``cap`` without awaiting it (from code that cannot await)."""
    if ticket is None:
        return
    task = asyncio.ensure_future(cap.release(ticket))
    _releasing.add(task)
    task.add_done_callback(_releasing.discard)


class LetGoWhenDone:
    """For a consumer whose socket holds something (a connection count, an address ticket,
    a simulation in a worker): when the application ends, ``_let_go`` gives back what
    ``disconnect`` has not. The server cancels an application that does not end soon after
    its socket closed (Daphne's application_close_timeout), and a test communicator one whose
    disconnect it stopped waiting for: a handler then waiting for a busy worker or a slow
    database never reaches ``disconnect``, and the caps would count the socket for ever."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)  # type: ignore[misc]
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """Give back at once, without awaiting anything, what ``disconnect`` has not."""

