"""PostgreSQL and Redis go away and come back while one Daphne process keeps running: the
process reports it (bounded 503s, /readyz), keeps its lab sockets working, and serves again
when they return, with nothing restarted. Real servers on loopback behind a relay the test
switches off and on (tests/deadends.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from websockets.sync.client import connect as ws_connect

from tests.browser.conftest import _free_port
from tests.deadends import Switch

ROOT = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432/postgres"


def services_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=2):
            pass
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False
    return True


pytestmark = pytest.mark.skipif(not services_up(),
                                reason="needs PostgreSQL and Redis on 127.0.0.1 (.ci/run)")


def get(url: str, **headers: str) -> tuple[int, str, float]:
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, time.monotonic() - started


def until(url: str, status: int, *, within: float, **headers: str) -> float:
    """Poll ``url`` until it answers ``status``; the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            got: int | str = get(url, **headers)[0]
        except OSError as error:  # not listening yet
            got = str(error)
        if got == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{url}: still {got} after {within} s"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    name = f"podlab_recovery_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    pg, rd = Switch("127.0.0.1", 5432), Switch("127.0.0.1", 6379)
    tmp = tmp_path_factory.mktemp("recovery")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg.port}/{name}",
           "REDIS_URL": f"redis://127.0.0.1:{rd.port}/0",
           "PODLAB_CHANNEL_PREFIX": f"test-recovery-{name}.",
           "DATABASE_CONNECT_TIMEOUT": "2", "CHANNEL_LAYER_TIMEOUT": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    port = _free_port()
    log = open(tmp / "daphne.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "podlab.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        until(base + "/healthz", 200, within=30)
        yield base, pg, rd
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        pg.close()
        rd.close()
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SESSION = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}


def lab_answers(base: str) -> None:
    with ws_connect(base.replace("http", "ws", 1) + "/ws/lab/", origin=base,
                    open_timeout=5) as lab:
        assert json.loads(lab.recv(timeout=5))["type"] == "lab.hello"
        lab.send(json.dumps({"type": "lab.validate", "manifest": "kind: Pod"}))
        assert json.loads(lab.recv(timeout=5))["type"] == "lab.validation"


def test_postgresql_goes_away_and_comes_back(relayed):
    base, pg, _ = relayed
    page = base + "/en/quizzes/"
    assert get(page, **SESSION)[0] == 200
    assert get(base + "/readyz")[0] == 200
    pg.off()
    try:
        status, body, took = get(page, **SESSION)
        assert status == 503 and took < 8, (status, took)
        assert "cannot reach its database" in body
        status, body, _ = get(base + "/readyz")
        assert status == 503 and json.loads(body)["database"].startswith("error")
        lab_answers(base)
    finally:
        pg.on()
    took = until(page, 200, within=15, **SESSION)
    print(f"\nPostgreSQL back: pages serve again after {took:.2f} s")
    assert until(base + "/readyz", 200, within=10) < 10


def test_redis_goes_away_and_comes_back(relayed):
    base, _, rd = relayed
    assert get(base + "/readyz")[0] == 200
    rd.off()
    try:
        status, body, took = get(base + "/readyz")
        assert status == 503 and took < 4
        assert json.loads(body)["redis"].startswith("error")
        assert json.loads(body)["database"] == "ok"
        lab_answers(base)
        assert get(base + "/en/", **SESSION)[0] == 200  # pages need no Redis
    finally:
        rd.on()
    took = until(base + "/readyz", 200, within=10)
    print(f"\nRedis back: ready again after {took:.2f} s")
