"""Helpers for tests and benchmarks against real Daphne processes: an HTTP client with
cookies (log in, open a room, join it) and websocket connections with the `websockets`
library."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[2]


def server_env(tmp_dir: Path, redis_url: str) -> dict[str, str]:
    """The environment ``start_daphne`` gives its processes, for manage.py commands."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", PYTHONPATH=str(ROOT),
               REDIS_URL=redis_url)
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{tmp_dir / 'browser.sqlite3'}"
    return env


def make_instructor(env: dict[str, str], username: str, password: str) -> None:
    subprocess.run([sys.executable, "manage.py", "makeinstructor", username, "--password",
                    password], cwd=ROOT, env=env, check=True, capture_output=True)


class Browser:
    """Cookies and CSRF like a browser, enough for the classroom's forms."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=20) as response:
            return response.geturl(), response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = dict(fields, csrfmiddlewaretoken=token.group(1) if token else "")
        request = urllib.request.Request(  # noqa: S310 - our own http:// test server
            self.base + path, data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base + path})
        with self.opener.open(request, timeout=20) as response:
            return response.geturl(), response.read().decode()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def login(self, username: str, password: str) -> None:
        url, _ = self.post_form("/en/accounts/login/", {"username": username,
                                                        "password": password})
        assert "/accounts/login/" not in url, "login failed"

    def open_room(self, title: str = "bench") -> str:
        url, _ = self.post_form("/en/classroom/", {"title": title})
        match = re.search(r"/classroom/([A-Z0-9]{6})/$", url)
        assert match, url
        return match.group(1)

    def join(self, code: str, name: str, lang: str = "en") -> None:
        url, _ = self.post_form(f"/{lang}/join/", {"code": code, "name": name})
        assert url.endswith(f"/join/{code}/"), url


async def connect(base: str, path: str, cookie: str, lang: str = "en"):
    ws_url = base.replace("http://", "ws://") + f"{path}?lang={lang}"
    return await websockets.connect(
        ws_url, origin=base, additional_headers={"Cookie": cookie}, max_size=None,
        open_timeout=30, ping_interval=None,
        # Unbounded: a socket the caller is not reading for a while (the instructor's while
        # 2,000 students connect) must keep answering the server's pings, or Daphne drops it.
        max_queue=None)


async def receive_type(ws, wanted: str, *, timeout: float = 10, where=None) -> dict:
    import asyncio

    async def loop() -> dict:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == wanted and (where is None or where(message)):
                return message

    return await asyncio.wait_for(loop(), timeout)
