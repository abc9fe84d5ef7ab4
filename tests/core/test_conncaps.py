"""Per-address socket caps: per process without Redis, across processes with it (a crashed
process's counts fade), and back to per process, never refusing everyone, when Redis is down.

The Redis cases use the suite's Redis at 127.0.0.1:6379 (each test under a prefix of its own)
and are skipped without it; "Redis down" is a loopback port nothing listens on."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import pytest
import redis

from podlab.core import conncaps

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


needs_redis = pytest.mark.skipif(not redis_up(), reason="needs Redis at 127.0.0.1:6379")


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prefix(settings):
    """A Redis key prefix of this test's own, removed afterwards."""
    settings.PODLAB_CHANNEL_PREFIX = f"test-conncaps-{uuid.uuid4().hex[:10]}."
    settings.TEST_CAP = 3
    yield settings.PODLAB_CHANNEL_PREFIX
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(settings.PODLAB_CHANNEL_PREFIX + "*"):
        client.delete(key)


def cap(process: str) -> conncaps.AddressCap:
    return conncaps.AddressCap("test", "TEST_CAP", 99, process=process)


async def admit_all(caps: conncaps.AddressCap, address: str, n: int) -> list:
    return [await caps.admit(address) for _ in range(n)]


async def test_without_redis_each_process_counts_its_own(settings):
    settings.REDIS_URL = ""
    settings.TEST_CAP = 2
    one, other = cap("one"), cap("two")
    first = await admit_all(one, "10.0.0.1", 2)
    assert all(first)
    assert await one.admit("10.0.0.1") is None
    assert await one.admit("10.0.0.2") is not None  # another address is not affected
    assert await other.admit("10.0.0.1") is not None  # another process counts its own
    await one.release(first[0])
    assert one.count("10.0.0.1") == 1
    assert await one.admit("10.0.0.1") is not None  # a freed place can be taken again


def test_the_cap_comes_from_the_setting(settings):
    settings.TEST_CAP = 7
    assert cap("p").limit() == 7
    del settings.TEST_CAP
    assert cap("p").limit() == 99


@needs_redis
async def test_with_redis_the_processes_share_the_cap(settings, prefix):
    settings.REDIS_URL = REDIS_URL
    one, other = cap("one"), cap("two")
    held = await admit_all(one, "10.0.0.1", 2)
    assert all(held)
    assert await other.admit("10.0.0.1") is not None  # 3 of 3
    assert await other.admit("10.0.0.1") is None
    assert await one.admit("10.0.0.1") is None
    assert await other.admit("10.0.0.9") is not None  # per address
    await one.release(held[0])
    assert await other.admit("10.0.0.1") is not None  # the place one freed
    stored = redis.Redis.from_url(REDIS_URL).hgetall(f"{prefix}conn:test:10.0.0.1")
    assert stored == {b"one": b"1", b"two": b"2"}


@needs_redis
async def test_a_crashed_process_counts_fade(settings, prefix, monkeypatch):
    settings.REDIS_URL = REDIS_URL
    monkeypatch.setattr(conncaps, "ALIVE_SECONDS", 1.0)
    crashed, survivor = cap("crashed"), cap("survivor")
    assert all(await admit_all(crashed, "10.0.0.1", 3))
    assert await survivor.admit("10.0.0.1") is None
    # The process dies without releasing anything: its heartbeat stops with it.
    if crashed._heartbeat is not None:
        crashed._heartbeat.cancel()
    await asyncio.sleep(2.2)
    assert await survivor.admit("10.0.0.1") is not None
    stored = redis.Redis.from_url(REDIS_URL).hgetall(f"{prefix}conn:test:10.0.0.1")
    assert stored == {b"survivor": b"1"}  # the dead process's field is gone


@needs_redis
async def test_the_heartbeat_keeps_a_live_process_and_restores_lost_counts(
        settings, prefix, monkeypatch):
    settings.REDIS_URL = REDIS_URL
    monkeypatch.setattr(conncaps, "ALIVE_SECONDS", 1.0)
    monkeypatch.setattr(conncaps, "HEARTBEAT_SECONDS", 0.3)
    live, other = cap("live"), cap("other")
    held = await admit_all(live, "10.0.0.1", 3)
    assert all(held)
    await asyncio.sleep(2.0)  # past ALIVE_SECONDS: only the heartbeat keeps it counted
    assert await other.admit("10.0.0.1") is None
    # Redis restarted empty: the next heartbeat writes the counts again.
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    assert await live.beat()
    assert await other.admit("10.0.0.1") is None
    for ticket in held:
        await live.release(ticket)
    assert await other.admit("10.0.0.1") is not None
    live._heartbeat.cancel()


async def test_redis_down_counts_per_process_and_refuses_nobody_else(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{dead_port()}/0"
    settings.TEST_CAP = 2
    one = cap("one")
    started = time.monotonic()
    held = await admit_all(one, "10.0.0.1", 2)
    assert all(held)
    assert await one.admit("10.0.0.1") is None  # the local count still caps this process
    assert await one.admit("10.0.0.2") is not None  # and only that address
    assert await cap("two").admit("10.0.0.1") is not None
    assert time.monotonic() - started < 3  # no connect waits long for a Redis that is down
    await one.release(held[0])
    assert await one.admit("10.0.0.1") is not None
    for task in (one._heartbeat,):
        if task is not None:
            task.cancel()


@needs_redis
async def test_counts_made_while_redis_was_down_reach_it_when_it_is_back(settings, prefix):
    settings.REDIS_URL = f"redis://127.0.0.1:{dead_port()}/0"
    one = cap("one")
    held = await admit_all(one, "10.0.0.1", 2)
    assert all(held) and one.dirty == {"10.0.0.1"}
    settings.REDIS_URL = REDIS_URL  # Redis answers again
    one._skip_until = 0.0  # as after RETRY_SECONDS
    assert await one.beat()
    assert not one.dirty
    other = cap("other")
    assert await other.admit("10.0.0.1") is not None  # 3 of 3
    assert await other.admit("10.0.0.1") is None
    if one._heartbeat is not None:
        one._heartbeat.cancel()
