"""PostgreSQL that hangs: pages answer a translated 503 within the connect timeout, health
checks say so, and lab sockets keep working while other sockets wait for the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from tests.browser.conftest import _free_port
from tests.deadends import silent_port

ROOT = Path(__file__).resolve().parents[2]


def get(url: str, **headers: str) -> tuple[int, str, float]:
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, time.monotonic() - started


@pytest.fixture(scope="module")
def hung_database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbdown")
    with silent_port() as port:
        http = _free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT),
               "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/podlab",
               "DATABASE_CONNECT_TIMEOUT": "2"}
        env.pop("REDIS_URL", None)
        log = open(tmp / "daphne.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(http),
             "podlab.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{http}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if get(base + "/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError((tmp / "daphne.log").read_text())
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_health_answers_at_once_and_readiness_names_the_database(hung_database):
    status, body, took = get(hung_database + "/healthz")
    assert status == 200 and took < 1
    status, body, took = get(hung_database + "/readyz")
    assert status == 503 and took < 5
    assert json.loads(body)["database"].startswith("error")


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "PodLab cannot reach its database right now"),
    ("zh-hans", "PodLab 暂时连不上数据库"),
])
def test_a_page_that_needs_the_database_is_a_translated_503_in_bounded_time(
        hung_database, lang, text):
    status, body, took = get(f"{hung_database}/{lang}/quizzes/",
                             Cookie="sessionid=abcdefghijklmnopqrstuvwxyz012345")
    assert status == 503, body[:300]
    assert text in body
    assert took < 8


def test_a_quiz_answer_gets_a_json_503_the_page_can_show(hung_database):
    status, body, took = get(f"{hung_database}/en/quizzes/",
                             Cookie="sessionid=abcdefghijklmnopqrstuvwxyz012345",
                             Accept="application/json")
    assert status == 503 and took < 8
    assert "database" in json.loads(body)["error"]


def test_lab_sockets_do_not_wait_behind_a_socket_waiting_for_the_database(hung_database):
    ws = hung_database.replace("http://", "ws://")
    origin = hung_database
    # A classroom socket with a session: its handshake looks the session up, and waits.
    import threading

    def waiting_socket() -> None:
        try:
            with ws_connect(ws + "/ws/classroom/ABCDEF/", origin=origin, open_timeout=10,
                            additional_headers={"Cookie": "sessionid=abcdefghijklmnopqrst01"}):
                pass
        except Exception:  # noqa: BLE001, S110 - refused once the database times out: fine
            pass

    waiter = threading.Thread(target=waiting_socket)
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    with ws_connect(ws + "/ws/lab/?lang=en", origin=origin, open_timeout=5,
                    additional_headers={"Cookie": "sessionid=abcdefghijklmnopqrst02"}) as lab:
        assert json.loads(lab.recv(timeout=5))["type"] == "lab.hello"
        lab.send(json.dumps({"type": "lab.validate", "manifest": "kind: Pod"}))
        assert json.loads(lab.recv(timeout=5))["type"] == "lab.validation"
    assert time.monotonic() - started < 1.5
    waiter.join(timeout=15)
