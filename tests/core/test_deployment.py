"""Deployment settings and the pieces around Django: channel prefix, origin checks, health
checks, headers, the proxy header, sign-in throttling, translations built by collectstatic."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from podlab.asgi import application
from podlab.core.layer import LayerTolerantMixin, LayerUnavailable, layer_call
from podlab.core.origin import origin_allowed
from tests.deadends import closed_port, silent_port

ROOT = Path(__file__).resolve().parents[2]


def settings_value(expr: str, **env: str) -> str:
    """Evaluate ``expr`` in podlab.settings loaded in a fresh process with ``env``."""
    full = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "PODLAB_CHANNEL_PREFIX"}}
    full.update({"SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "podlab.settings", **env})
    code = f"import podlab.settings as s; print({expr})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, check=True,
                          capture_output=True, text=True).stdout.strip()


# --- the channel prefix ----------------------------------------------------------------------

def test_channel_prefix_differs_per_deployment_and_can_be_set():
    staging = settings_value("s.CHANNEL_LAYERS['default']['CONFIG']['prefix']",
                             DATABASE_URL="postgres://db/staging", REDIS_URL="redis://r:6379/0")
    production = settings_value("s.CHANNEL_LAYERS['default']['CONFIG']['prefix']",
                                DATABASE_URL="postgres://db/prod", REDIS_URL="redis://r:6379/0")
    again = settings_value("s.CHANNEL_LAYERS['default']['CONFIG']['prefix']",
                           DATABASE_URL="postgres://db/prod", REDIS_URL="redis://r:6379/7")
    chosen = settings_value("s.CHANNEL_LAYERS['default']['CONFIG']['prefix']",
                            DATABASE_URL="postgres://db/prod", REDIS_URL="redis://r:6379/0",
                            PODLAB_CHANNEL_PREFIX="ci-run-42.")
    assert staging != production and production == again
    assert chosen == "ci-run-42."


async def test_two_prefixes_on_one_redis_do_not_see_each_other():
    from channels_redis.pubsub import RedisPubSubChannelLayer

    url = os.environ.get("REDIS_URL")
    if not url:
        # Embedded run: the prefix reaches the layer's names (checked against Redis in the
        # PostgreSQL + Redis run, where REDIS_URL is set).
        layer = RedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1"], prefix="a.")
        assert layer._get_group_channel_name("room") == "a.__group__room"
        return
    a = RedisPubSubChannelLayer(hosts=[url], prefix="test-prefix-a.")
    b = RedisPubSubChannelLayer(hosts=[url], prefix="test-prefix-b.")
    try:
        ca, cb = await a.new_channel(), await b.new_channel()
        await a.group_add("room", ca)
        await b.group_add("room", cb)
        await a.group_send("room", {"type": "x", "n": 1})
        assert (await asyncio.wait_for(a.receive(ca), 3))["n"] == 1
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b.receive(cb), 0.5)
    finally:
        await a.flush()
        await b.flush()


# --- channel layer failures ------------------------------------------------------------------

async def test_layer_call_is_bounded_on_a_silent_and_a_closed_redis():
    from channels_redis.pubsub import RedisPubSubChannelLayer

    for hosts in ([f"redis://127.0.0.1:{closed_port()}"],):
        layer = RedisPubSubChannelLayer(hosts=hosts)
        started = time.monotonic()
        with pytest.raises(LayerUnavailable):
            await layer_call(layer.new_channel(), timeout=1)
        assert time.monotonic() - started < 2
    with silent_port() as port:
        layer = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{port}"])
        started = time.monotonic()
        with pytest.raises(LayerUnavailable):
            await layer_call(layer.group_send("g", {"type": "x"}), timeout=1)
        assert time.monotonic() - started < 2


def dead_redis_layers(port: int) -> dict:
    return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                        "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}"]}}}


@pytest.mark.django_db(transaction=True)
async def test_lab_socket_works_while_redis_is_down():
    from channels.layers import channel_layers

    with silent_port() as port, override_settings(CHANNEL_LAYERS=dead_redis_layers(port)):
        channel_layers.backends.clear()
        try:
            communicator = WebsocketCommunicator(
                application, "/ws/lab/?lang=zh-hans", headers=[(b"origin", b"http://localhost")])
            started = time.monotonic()
            connected, _ = await communicator.connect(timeout=5)
            assert connected
            assert (await communicator.receive_json_from())["type"] == "lab.hello"
            await communicator.send_json_to({"type": "lab.validate", "manifest": "kind: Pod"})
            reply = await communicator.receive_json_from()
            assert reply["type"] == "lab.validation"
            assert time.monotonic() - started < 2
            await communicator.disconnect()
        finally:
            channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
async def test_a_tolerant_consumer_starts_without_its_layer_in_bounded_time():
    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from channels.layers import channel_layers

    class Probe(LayerTolerantMixin, AsyncJsonWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.send_json({"layer_down": self.layer_down})

    with silent_port() as port, override_settings(CHANNEL_LAYERS=dead_redis_layers(port),
                                                  CHANNEL_LAYER_TIMEOUT=1):
        channel_layers.backends.clear()
        try:
            communicator = WebsocketCommunicator(Probe.as_asgi(), "/")
            started = time.monotonic()
            connected, _ = await communicator.connect(timeout=5)
            assert connected
            assert (await communicator.receive_json_from()) == {"layer_down": True}
            assert time.monotonic() - started < 3
            await communicator.disconnect()
        finally:
            channel_layers.backends.clear()


class FlakyLayer:
    """An in-memory layer whose ``new_channel`` fails while ``down`` (Redis refusing)."""

    down = True

    def __new__(cls, **config):
        from channels.layers import InMemoryChannelLayer

        class Layer(InMemoryChannelLayer):
            async def new_channel(self, prefix="specific."):
                if FlakyLayer.down:
                    raise ConnectionRefusedError(111, "Connect call failed")
                return await super().new_channel(prefix)

        return Layer(**config)


@pytest.mark.django_db(transaction=True)
async def test_a_tolerant_consumer_gets_its_channel_when_the_layer_returns():
    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from channels.layers import channel_layers, get_channel_layer

    class Probe(LayerTolerantMixin, AsyncJsonWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.send_json({"pending": self.channel_pending, "name": self.channel_name})

        async def receive_json(self, content):
            ok = await self.acquire_channel(timeout=1)
            if ok:
                await self.channel_layer.group_add("g", self.channel_name)
            await self.send_json({"ok": ok, "name": self.channel_name})

        async def channel_acquired(self, provisional):
            await self.send_json({"was": provisional})

        async def hello(self, event):
            await self.send_json({"hello": event["n"]})

    layers = {"default": {"BACKEND": "tests.core.test_deployment.FlakyLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        FlakyLayer.down = True
        try:
            communicator = WebsocketCommunicator(Probe.as_asgi(), "/")
            assert (await communicator.connect(timeout=5))[0]
            first = await communicator.receive_json_from()
            assert first["pending"] and first["name"].startswith("provisional.")
            await communicator.send_json_to({})
            assert await communicator.receive_json_from() == {"ok": False, "name": first["name"]}
            FlakyLayer.down = False
            await communicator.send_json_to({})
            assert await communicator.receive_json_from() == {"was": first["name"]}
            now = await communicator.receive_json_from()
            assert now["ok"] and now["name"] != first["name"]
            # The dispatch loop receives on the new name: a group message reaches the socket.
            await get_channel_layer().group_send("g", {"type": "hello", "n": 7})
            assert await communicator.receive_json_from() == {"hello": 7}
            await communicator.disconnect()
        finally:
            FlakyLayer.down = True
            channel_layers.backends.clear()


# --- websocket origin ------------------------------------------------------------------------

def scope(origin: str, host: str | None = "localhost:8000", **headers: str) -> dict:
    raw = [(b"origin", origin.encode())]
    if host:
        raw.append((b"host", host.encode()))
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "headers": raw}


def test_origin_must_match_scheme_host_and_port():
    assert origin_allowed(scope("http://localhost:8000"))
    assert not origin_allowed(scope("http://localhost:9999"))  # another port
    assert not origin_allowed(scope("https://localhost:8000"))  # another scheme
    assert not origin_allowed(scope("http://127.0.0.1:8000"))  # another host
    assert not origin_allowed(scope("http://localhost"))  # port 80 is not 8000
    assert origin_allowed(scope("http://localhost", host="localhost"))
    assert not origin_allowed(scope("http://evil.example:8000", host="evil.example:8000"))
    assert not origin_allowed(scope("null"))
    assert not origin_allowed({"type": "websocket", "headers": []})


def test_behind_a_proxy_the_forwarded_scheme_counts_only_when_trusted():
    https = scope("https://localhost:8000", x_forwarded_proto="https")
    assert not origin_allowed(https)
    with override_settings(TRUST_PROXY_HEADERS=True):
        assert origin_allowed(https)
        assert not origin_allowed(scope("http://localhost:8000", x_forwarded_proto="https"))
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://podlab.example"]):
        assert origin_allowed(scope("https://podlab.example", host="localhost:8000"))


@pytest.mark.django_db(transaction=True)
async def test_a_page_on_another_port_cannot_open_a_socket():
    for origin, ok in ((b"http://localhost:9999", False), (b"http://localhost:8000", True)):
        communicator = WebsocketCommunicator(
            application, "/ws/lab/", headers=[(b"origin", origin), (b"host", b"localhost:8000")])
        connected, _ = await communicator.connect()
        assert connected is ok
        await communicator.disconnect()


# --- health checks ---------------------------------------------------------------------------

async def http_get(path: str) -> tuple[int, dict]:
    from channels.testing import HttpCommunicator

    response = await HttpCommunicator(application, "GET", path).get_response(timeout=15)
    return response["status"], json.loads(response["body"])


@pytest.mark.django_db(transaction=True)
async def test_healthz_and_readyz():
    assert await http_get("/healthz") == (200, {"status": "ok"})
    status, body = await http_get("/readyz")
    assert status == 200, body
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if os.environ.get("REDIS_URL") else "not used")


@pytest.mark.django_db(transaction=True)
async def test_readyz_says_which_dependency_is_down_in_bounded_time():
    with silent_port() as port, override_settings(
            REDIS_URL=f"redis://127.0.0.1:{port}/0", CHANNEL_LAYER_TIMEOUT=1):
        started = time.monotonic()
        status, body = await http_get("/readyz")
        assert time.monotonic() - started < 4
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error")
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        status, body = await http_get("/readyz")
    assert status == 503 and body["redis"].startswith("error")


# --- headers, HSTS, the proxy header ---------------------------------------------------------

@pytest.mark.django_db
def test_permissions_policy_and_hsts_on_https(client):
    response = client.get("/en/", secure=True)
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/en/")


def test_proxy_https_header_is_trusted_only_when_configured():
    assert settings_value("getattr(s, 'SECURE_PROXY_SSL_HEADER', None)") == "None"
    assert settings_value("s.SECURE_PROXY_SSL_HEADER", TRUST_PROXY_HEADERS="1") == \
        "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.django_db
def test_forwarded_proto_does_not_make_a_direct_request_secure(client):
    response = client.get("/en/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response


# --- sign-in throttling ----------------------------------------------------------------------

@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/en/accounts/login/", "/admin/login/"])
def test_sign_in_is_throttled_per_user_and_address(client, django_user_model, fresh_cache, path):
    django_user_model.objects.create_user("ada", password="right-password-123", is_staff=True)
    for _ in range(5):
        response = client.post(path, {"username": "ada", "password": "wrong"})
        assert response.status_code == 200  # the form, with its error
    refused = client.post(path, {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Another address signs in as the same user: one address cannot lock a user out.
    other = client.post(path, {"username": "ada", "password": "right-password-123"},
                        REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


@pytest.mark.django_db
def test_throttle_reply_is_translated(client, fresh_cache):
    for _ in range(5):
        client.post("/zh-hans/accounts/login/", {"username": "bo", "password": "x"})
    refused = client.post("/zh-hans/accounts/login/", {"username": "bo", "password": "x"})
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.content.decode()


@pytest.mark.django_db
@override_settings(SIGN_IN_THROTTLE_STORE="cache")
def test_sign_in_keeps_working_when_the_cache_is_down(client, django_user_model):
    from django.core.cache.backends.redis import RedisCache

    from podlab.core import throttle

    django_user_model.objects.create_user("ada", password="right-password-123")
    dead = RedisCache(f"redis://127.0.0.1:{closed_port()}",
                      {"OPTIONS": {"socket_connect_timeout": 1}})
    original, throttle.cache = throttle.cache, dead
    try:
        started = time.monotonic()
        wrong = client.post("/en/accounts/login/", {"username": "ada", "password": "wrong"})
        right = client.post("/en/accounts/login/",
                            {"username": "ada", "password": "right-password-123"})
        took = time.monotonic() - started
    finally:
        throttle.cache = original
    assert wrong.status_code == 200 and right.status_code == 302
    assert took < 5


def test_the_throttle_counts_where_every_process_sees_them():
    assert settings_value("s.SIGN_IN_THROTTLE_STORE") == "database"
    assert settings_value("s.SIGN_IN_THROTTLE_STORE", REDIS_URL="redis://r:6379/0") == "cache"
    assert settings_value("s.SIGN_IN_THROTTLE_STORE", REDIS_URL="redis://r:6379/0",
                          SIGN_IN_THROTTLE_STORE="database") == "database"


@pytest.mark.django_db(transaction=True)
@override_settings(SIGN_IN_THROTTLE_STORE="database")
def test_without_redis_the_throttle_counts_in_the_database(client, django_user_model,
                                                           fresh_cache):
    """Counts written by another thread (its own database connection, as another process
    would have) throttle here, and no per-process memory holds them."""
    import threading

    from django.db import connection

    from podlab.core import throttle
    from podlab.core.models import SignInFailure

    def fail_elsewhere() -> None:
        try:
            for _ in range(throttle.LIMITS["pair"]):
                throttle.count_failure(None, {"username": "ada"})
        finally:
            connection.close()

    worker = threading.Thread(target=fail_elsewhere)
    worker.start()
    worker.join()
    cache.clear()
    assert SignInFailure.objects.get(key=throttle._keys("ada", "unknown")["pair"]).count == 5
    assert throttle.throttled("ada", "unknown")
    assert not throttle.throttled("ada", "10.0.0.9")
    # Through the sign-in page: five failures from this address, then a 429.
    django_user_model.objects.create_user("ada", password="right-password-123")
    for _ in range(5):
        assert client.post("/en/accounts/login/",
                           {"username": "ada", "password": "wrong"}).status_code == 200
    refused = client.post("/en/accounts/login/",
                          {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    # A count expires with its window; an expired row is replaced, not added to.
    SignInFailure.objects.update(expires_at=timezone.now())
    assert not throttle.throttled("ada", "127.0.0.1")
    throttle.count_failure(None, {"username": "bo"})
    assert SignInFailure.objects.filter(expires_at__lte=timezone.now()).count() == 0
    assert SignInFailure.objects.get(key=throttle._keys("bo", "unknown")["user"]).count == 1


@override_settings(SIGN_IN_THROTTLE_STORE="cache")
def test_with_redis_the_throttle_counts_in_redis_across_processes():
    assert settings_value("s.CACHES['default']['BACKEND']", REDIS_URL="redis://r:6379/0") == \
        "django.core.cache.backends.redis.RedisCache"
    url = os.environ.get("REDIS_URL")
    if not url:
        return  # the PostgreSQL + Redis run counts against a real Redis below
    from django.core.cache.backends.redis import RedisCache

    from podlab.core import throttle

    shared = RedisCache(url, {"KEY_PREFIX": f"test-throttle-{os.getpid()}-{time.time_ns()}"})
    name = f"user-{time.time_ns()}"
    try:
        original, throttle.cache = throttle.cache, shared
        try:
            # count_failure without a request counts under the address "unknown"
            for _ in range(throttle.LIMITS["pair"]):
                assert not throttle.throttled(name, "unknown")
                throttle.count_failure(None, {"username": name})
            # Another process (another cache client on the same Redis) sees the count.
            throttle.cache = RedisCache(url, {"KEY_PREFIX": shared.key_prefix})
            assert throttle.throttled(name, "unknown")
        finally:
            throttle.cache = original
    finally:
        shared.delete_many(list(throttle._keys(name, "unknown").values()))


# --- routes and translations -----------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_lessons_index_address(client, lang):
    response = client.get(f"/{lang}/lessons/")
    assert response.status_code == 302 and response["Location"] == f"/{lang}/"


def test_collectstatic_compiles_the_translations(tmp_path):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "locale", locale,
                    ignore=shutil.ignore_patterns("*.mo"))
    assert not list(locale.glob("*/LC_MESSAGES/*.mo"))
    with override_settings(LOCALE_PATHS=[locale], STATIC_ROOT=tmp_path / "static"):
        call_command("collectstatic", "--no-input", verbosity=0)
    assert (locale / "zh_Hans/LC_MESSAGES/django.mo").stat().st_size > 1000
    assert (tmp_path / "static/js/quiz.js").exists()
