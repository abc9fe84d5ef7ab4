"""A database that hangs for some requests: how long everyone else waits (a script, prints
figures; not a test).

Needs PostgreSQL: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<your database>``. One
Daphne process serves a classroom of students. The benchmark holds locks of its own in that
database, so some queries wait exactly as they would on a database that hangs:

* **websockets**: one seat row is locked (``SELECT … FOR UPDATE``), so the socket of that
  seat waits in its handshake (it saves the seat's language); then other students of the room
  connect one after another, and the time from connect to ``classroom.hello`` is measured.
* **pages**: the quiz learners' table is locked (``LOCK TABLE``), so four progress pages wait;
  meanwhile other visitors load the glossary page, and their latency is measured.

Each case runs without the hang and with it, with ``DATABASE_THREADS=1`` (every websocket
query on one thread, as Channels' ``database_sync_to_async`` does) and with the default pool.

Run: ``DATABASE_URL=postgres://… .venv/bin/python benchmarks/bench_db_hang.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

from tests.browser.conftest import start_daphne  # noqa: E402

OTHERS = 12
PAGES = 12


def dsn() -> str:
    db = settings.DATABASES["default"]
    return (f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
            f"dbname={db['NAME']} user={db['USER']}")


class Held:
    """A lock held by a connection of the benchmark's own, until ``release()``."""

    def __init__(self, sql: str, params: tuple = ()) -> None:
        self.conn = psycopg.connect(dsn(), autocommit=False)
        self.conn.execute(sql, params)

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def fixtures() -> tuple[str, list[str], object]:
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from podlab.classroom import services
    from podlab.classroom.models import Seat

    teacher = User.objects.create_user(f"bench-{time.time_ns()}")
    services.make_instructor(user=teacher)
    room = services.create_room(instructor=teacher, title="bench")
    keys, seats = [], []
    for n in range(OTHERS + 1):
        seat = Seat.objects.create(room=room, name=f"s{n}", lang="en")
        store = SessionStore()
        store[services.SESSION_KEY] = {str(room.pk): str(seat.pk)}
        store.create()
        keys.append(store.session_key)
        seats.append(seat.pk)
    return room.code, keys, seats[0]


async def hello_time(base: str, code: str, key: str) -> float | None:
    """Milliseconds from connect to ``classroom.hello``; None if the socket failed (Daphne
    drops a handshake the application has not accepted within 5 s)."""
    ws_url = base.replace("http://", "ws://") + f"/ws/classroom/{code}/?lang=en"
    started = time.monotonic()
    try:
        async with websockets.connect(ws_url, origin=base, open_timeout=60,
                                      additional_headers={"Cookie": f"sessionid={key}"}) as ws:
            while True:
                message = await asyncio.wait_for(ws.recv(), 60)
                if '"classroom.hello"' in message:
                    return (time.monotonic() - started) * 1000
    except (OSError, EOFError, websockets.exceptions.WebSocketException):
        return None


def quiz_pass() -> str:
    """A signed quiz pass, as the quiz pages give: its page looks the learner up."""
    from django.core.signing import get_cookie_signer

    from podlab.quizzes.views import PASS_COOKIE, PASS_SALT

    value = get_cookie_signer(salt=PASS_COOKIE + PASS_SALT).sign(uuid.uuid4().hex)
    return f"{PASS_COOKIE}={value}"


def page_time(url: str, cookie: str = "") -> float:
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        response.read()
    return (time.monotonic() - started) * 1000


async def sockets_case(base: str, code: str, keys: list[str], seat_id: object,
                       hang: bool) -> list[float | None]:
    held = None
    waiting = None
    if hang:
        held = Held("SELECT id FROM classroom_seat WHERE id = %s FOR UPDATE", (seat_id,))
        waiting = asyncio.ensure_future(hello_time(base, code, keys[0]))
        await asyncio.sleep(0.5)
    try:
        times = [await hello_time(base, code, key) for key in keys[1:]]
    finally:
        if held is not None:
            held.release()
    if waiting is not None:
        await waiting
    return times


def pages_case(base: str, hang: bool) -> list[float]:
    held = None
    waiters: list[threading.Thread] = []
    if hang:
        held = Held("LOCK TABLE quizzes_learner IN ACCESS EXCLUSIVE MODE")
        for _ in range(4):
            def wait() -> None:
                try:
                    page_time(base + "/en/quizzes/progress/", cookie=quiz_pass())
                except OSError:
                    pass
            thread = threading.Thread(target=wait)
            thread.start()
            waiters.append(thread)
        time.sleep(0.5)
    try:
        times = [page_time(base + "/en/glossary/") for _ in range(PAGES)]
    finally:
        if held is not None:
            held.release()
    for thread in waiters:
        thread.join()
    return times


def line(label: str, times: list[float | None]) -> str:
    ok = [t for t in times if t is not None]
    if not ok:
        return f"  {label:<38} all {len(times)} failed"
    return (f"  {label:<38} p50 {statistics.median(ok):7.0f} ms   "
            f"max {max(ok):7.0f} ms   failed {len(times) - len(ok)}/{len(times)}")


def main() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database of your own")
    for threads in ("1", "16"):
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_daphne(Path(tmp), extra_env={
                "DATABASE_THREADS": threads, "DATABASE_STATEMENT_TIMEOUT_MS": "60000"})
            try:
                code, keys, seat_id = fixtures()
                print(f"DATABASE_THREADS={threads}")
                for hang in (False, True):
                    label = "one seat row locked" if hang else "no hang"
                    times = asyncio.run(sockets_case(base, code, keys, seat_id, hang))
                    print(line(f"student hello, {label}", times))
                for hang in (False, True):
                    label = "learner table locked" if hang else "no hang"
                    print(line(f"glossary page, {label}", pages_case(base, hang)))
            finally:
                proc.terminate()
                proc.wait(timeout=20)


if __name__ == "__main__":
    main()
