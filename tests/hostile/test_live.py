"""Hostile clients against a real Daphne (a subprocess, loopback only): a client that asks
and never reads, and a lab whose views outgrow a websocket frame. Daphne refuses frames over
1 MiB and buffers what a socket has not taken, so only a real server shows these."""

import asyncio
import json
import socket
import time

import pytest
import websockets

from tests.browser.conftest import start_daphne

from . import attacks as a

BUFFER_BOUND_MB = 200  # growth of Daphne's resident memory while the slow reader is at it


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    proc, base = start_daphne(tmp_path_factory.mktemp("hostile"))
    url = base.replace("http://", "ws://") + "/ws/lab/?lang=en"
    try:
        asyncio.run(_warm(url))
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - the test is over either way
            proc.kill()


async def until(ws, *wanted, timeout=10.0):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] in wanted or message["type"] == "lab.error":
            return message


def origin_of(url):
    """The page's own origin (scheme, host and port): the server refuses any other."""
    return "http://" + url.split("//")[1].split("/")[0]


async def started(url, manifest, **options):
    ws = await websockets.connect(url, origin=origin_of(url), max_size=None,
                                  ping_interval=None, **options)
    await until(ws, "lab.hello")
    await ws.send(json.dumps({"type": "lab.apply", "manifest": manifest}))
    assert (await until(ws, "lab.validation"))["ok"]
    assert (await until(ws, "lab.snapshot"))["type"] == "lab.snapshot"
    return ws


async def _warm(url):
    """The first lab waits for the server's worker processes to start."""
    async with websockets.connect(url, origin=origin_of(url)) as ws:
        await until(ws, "lab.hello")
        await ws.send(json.dumps({"type": "lab.validate", "manifest": a.SLEEPER}))
        assert (await until(ws, "lab.validation", timeout=90))["ok"]


def small_socket(url):
    """A socket with a small receive buffer (set before connecting, so the window stays
    small), for a client that stops reading."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def test_large_views_stay_under_the_frame_limit(daphne):
    _, url = daphne
    ws = await started(url, a.CHATTY)
    await ws.send(json.dumps({"type": "lab.seek", "t": 3600}))
    message = {"type": "lab.progress"}
    while message["type"] == "lab.progress":  # the seek runs in slices
        raw = await asyncio.wait_for(ws.recv(), 30)
        message = json.loads(raw)
    assert message["type"] in ("lab.snapshot", "lab.error"), message
    if message["type"] == "lab.snapshot":
        assert len(raw.encode()) < 1024 * 1024
        logs = message["views"]["logs"]
        truncated = message.get("logs_truncated", {})
        key = next(iter(logs))
        # A cut log can be paged from its start.
        await ws.send(json.dumps({"type": "lab.logs", "container": key, "offset": 0,
                                  "limit": 1000}))
        page = await until(ws, "lab.logs")
        assert page["offset"] == 0 and len(page["text"]) <= 1000
        assert page["total"] == truncated.get(f"logs:{key}", len(logs[key]))
    else:
        assert message["code"] in ("budget_exceeded", "out_of_memory", "worker_lost")
    await ws.close()


async def test_a_client_that_never_reads_is_closed_and_costs_bounded_memory(daphne):
    proc, url = daphne
    rss_before = a.rss_mb(proc.pid)
    victim = await started(url, a.SLEEPER)
    baseline_trips = []
    for _ in range(10):
        begun = time.monotonic()
        await victim.send(json.dumps({"type": "lab.sync"}))
        await until(victim, "lab.snapshot")
        baseline_trips.append(time.monotonic() - begun)
        await asyncio.sleep(0.06)
    baseline = a.p99(baseline_trips)
    # The reader's socket buffer is small and it never reads: what the server sends waits in
    # Daphne's buffer until the lab closes the socket.
    hog = await started(url, a.CHATTY, max_queue=1, sock=small_socket(url))
    await hog.send(json.dumps({"type": "lab.seek", "t": 600}))
    trips: list[float] = []
    peak = rss_before
    deadline = time.monotonic() + 25
    closed_at = None
    sent = 0
    while time.monotonic() < deadline:
        if closed_at is None:
            try:
                await hog.send(json.dumps({"type": "lab.sync"}))
                sent += 1
            except websockets.ConnectionClosed:
                closed_at = time.monotonic()
        begun = time.monotonic()
        await victim.send(json.dumps({"type": "lab.sync"}))
        await until(victim, "lab.snapshot")
        trips.append(time.monotonic() - begun)
        peak = max(peak, a.rss_mb(proc.pid))
        await asyncio.sleep(0.06)
        if closed_at is None and hog.protocol.state.name != "OPEN":
            closed_at = time.monotonic()
        if closed_at is not None and time.monotonic() - closed_at > 1:
            break
    # The server dropped the socket soon after its buffer passed the bound: a client that
    # does not read cannot take the close frame either (the in-process suite checks the
    # error and the 4408 code a client sees when it reads again).
    assert closed_at is not None, "the slow reader was never closed"
    figures = {"p99_ms": round(a.p99(trips) * 1000, 1), "syncs_sent": sent,
               "baseline_p99_ms": round(baseline * 1000, 1),
               "daphne_rss_growth_mb": round(peak - rss_before, 1)}
    print("slow_reader", figures)
    assert a.p99(trips) < a.p99_bound(baseline), figures
    assert peak - rss_before < BUFFER_BOUND_MB, figures
    await victim.close()
