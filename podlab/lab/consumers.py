"""``ws/lab/``: one simulation per connection, driven by the browser, run by the server."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext

from . import services
from .services import LabError, LabSession

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 96 * 1024
RATE_PER_SECOND = float(services.MESSAGES_PER_SECOND)
RATE_BURST = 40.0
TICK_SECONDS = 0.25  # the clock advances four times a second at most
MAX_TICK_SECONDS = 1.0  # under load, down to once a second
LATE_SECONDS = 0.05
# A tick sends a frame only when it has something to show. A transition, an event or a Pod
# change goes out at once; probe meters and logs at most every PROBES_EVERY_SECONDS; the view
# the page shows (lab.view) again every VIEWS_EVERY_SECONDS if it has AGE columns, which move
# on even when nothing happens; and, so the page's clock stays in step, a frame at least
# every HEARTBEAT_SECONDS.
PROBES_EVERY_SECONDS = 1.0
VIEWS_EVERY_SECONDS = 10.0
HEARTBEAT_SECONDS = 2.0
LANGS = ("en", "zh-hans")
#: the kubectl views the page can show (``lab.view``); the default is ``watch``
VIEWS = ("watch", "wide", "describe", "events", "logs")

def error_text(code: str, lang: str) -> str:
    with translation.override(lang):
        return {
            "bad_json": gettext("Messages must be JSON objects with a string \"type\"."),
            "unknown_type": gettext("Unknown message type."),
            "bad_field": gettext("A field is missing or not valid."),
            "too_large": gettext("The message is too large."),
            "rate_limited": gettext("Too many messages: slow down."),
            "no_simulation": gettext("Apply a valid manifest first."),
            "rejected": gettext("The cluster refused this."),
            "internal": gettext("The simulation failed unexpectedly; the error was logged."),
        }.get(code, gettext("The cluster refused this."))


def pick_language(scope: dict[str, Any]) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    lang = (query.get("lang") or [""])[0]
    if lang in LANGS:
        return lang
    headers = dict(scope.get("headers") or [])
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "django_language" and value in LANGS:
            return value
    accept = headers.get(b"accept-language", b"").decode("latin-1").lower()
    return "zh-hans" if accept.startswith("zh") else "en"


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def read_message(
    text_data: str | None, *, bucket: TokenBucket, max_bytes: int, per_second: float
) -> tuple[dict[str, Any] | None, tuple[str, dict[str, Any]] | None]:
    """Check one incoming frame: (message, None), or (None, (error code, detail))."""
    if text_data is None:
        return None, ("bad_json", {})
    if len(text_data) > max_bytes:
        return None, ("too_large", {"limit": max_bytes})
    if not bucket.take():
        return None, ("rate_limited", {"per_second": per_second})
    try:
        message = json.loads(text_data)
    except ValueError:
        return None, ("bad_json", {})
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None, ("bad_json", {})
    return message, None


class LabConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.lang = pick_language(self.scope)
        self.lab: LabSession | None = None
        self.seq = 0
        self.playing = False
        self.speed = 1.0
        self.clock: asyncio.Task[None] | None = None
        self.bucket = TokenBucket(RATE_PER_SECOND, RATE_BURST)
        self.view = "watch"
        self._sent_at = self._views_at = time.monotonic()
        await self.accept()
        await self.send_json(dict(services.HELLO))

    async def disconnect(self, code: int) -> None:
        await self._stop_clock()

    # --- sending ------------------------------------------------------------------------

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":"), default=str))

    async def send_numbered(self, message: dict[str, Any]) -> None:
        self._sent_at = time.monotonic()
        self.seq += 1
        message["seq"] = self.seq
        message["playing"] = self.playing
        message["speed"] = "instant" if math.isinf(self.speed) else self.speed
        await self.send_json(message)

    async def send_error(self, code: str, **detail: Any) -> None:
        message: dict[str, Any] = {"type": "lab.error", "code": code,
                                   "message": error_text(code, self.lang)}
        if detail:
            message["detail"] = detail
        await self.send_json(message)

    async def send_snapshot(self) -> None:
        assert self.lab is not None  # noqa: S101 - guarded by the callers
        await self.send_numbered({"type": "lab.snapshot", **self.lab.snapshot(lang=self.lang)})
        self._views_at = time.monotonic()

    async def send_frame(self, *, full: bool = True, views: bool = False,
                         aged: str | None = None) -> None:
        assert self.lab is not None  # noqa: S101 - guarded by the callers
        await self.send_numbered({"type": "lab.frame", **self.lab.frame(
            lang=self.lang, full=full, views=views, aged=aged)})
        if full or views or aged:
            self._views_at = time.monotonic()

    # --- receiving ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message, problem = read_message(text_data, bucket=self.bucket,
                                        max_bytes=MAX_MESSAGE_BYTES, per_second=RATE_PER_SECOND)
        if message is None:
            code, detail = problem or ("bad_json", {})
            await self.send_error(code, **detail)
            return
        handler = self.handlers.get(message["type"])
        if handler is None:
            await self.send_error("unknown_type", type=message["type"][:64])
            return
        try:
            await handler(self, message)
        except LabError as exc:
            await self.send_error(exc.code, **exc.detail)
        except Exception:
            logger.exception("lab message %s failed", message["type"])
            await self._stop_clock()
            await self.send_error("internal")
            await self.close(code=1011)

    def _need_lab(self) -> LabSession:
        if self.lab is None:
            raise LabError("no_simulation", "no simulation")
        return self.lab

    async def on_validate(self, message: dict[str, Any]) -> None:
        manifest = message.get("manifest")
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        _, validation = services.validate_manifest(manifest_text=manifest, lang=self.lang)
        await self.send_json(validation)

    async def _start(self, message: dict[str, Any]) -> bool:
        manifest = message.get("manifest")
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        seed = message.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise LabError("bad_field", "seed", field="seed")
        await self._stop_clock()
        lab, validation = services.lab_start(manifest_text=manifest, seed=seed, lang=self.lang)
        await self.send_json(validation)
        if lab is None:
            return False
        self.lab = lab
        return True

    async def on_apply(self, message: dict[str, Any]) -> None:
        if await self._start(message):
            await self.send_snapshot()

    async def on_restore(self, message: dict[str, Any]) -> None:
        actions = message.get("actions", [])
        t = message.get("t", 0)
        if not isinstance(actions, list) or len(actions) > services.MAX_ACTIONS:
            raise LabError("bad_field", "actions", field="actions")
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t:
            raise LabError("bad_field", "t", field="t")
        cleaned = []
        last = 0.0
        for action in actions:
            at = action.get("t") if isinstance(action, dict) else None
            if isinstance(at, bool) or not isinstance(at, int | float) or at < last:
                raise LabError("bad_field", "actions", field="actions")
            entry = services.clean_action(action)
            entry["t"] = float(at)
            last = float(at)
            cleaned.append(entry)
        if not await self._start(message):
            return
        lab = self._need_lab()
        lab.actions = cleaned
        lab.seek(float(t))
        await self.send_snapshot()

    async def on_play(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        if "speed" in message:
            self.speed = services.clamp_speed(message["speed"])
        if lab.next_t() is None and lab.t >= lab.until:
            await self.send_frame()
            return
        self.playing = True
        if self.clock is None or self.clock.done():
            self.clock = asyncio.create_task(self._run_clock())
        await self.send_frame()

    async def on_pause(self, message: dict[str, Any]) -> None:
        self._need_lab()
        await self._stop_clock()
        await self.send_frame()

    async def on_step(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        await self._stop_clock()
        lab.step()
        await self.send_frame()

    async def on_seek(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        t = message.get("t")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise LabError("bad_field", "t", field="t")
        lab.seek(float(t))
        await self.send_snapshot()

    async def on_speed(self, message: dict[str, Any]) -> None:
        self.speed = services.clamp_speed(message.get("speed"))
        if self.lab is not None:
            await self.send_frame()

    async def on_action(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        try:
            recorded = lab.act(message)
        except LabError as exc:
            if exc.code == "rejected":
                await self.send_error("rejected", **exc.detail)
                return
            raise
        self.seq += 1
        frame = {"type": "lab.frame", **lab.frame(lang=self.lang), "action": recorded,
                 "actions": list(lab.actions), "seq": self.seq, "playing": self.playing,
                 "speed": "instant" if math.isinf(self.speed) else self.speed}
        await self.send_json(frame)
        self._views_at = time.monotonic()

    async def on_view(self, message: dict[str, Any]) -> None:
        """The page shows another kubectl view: bring the views up to date now, and from
        then on refresh that one's AGE columns while nothing else changes."""
        view = message.get("view")
        if view not in VIEWS:
            raise LabError("bad_field", "view", field="view", allowed=list(VIEWS))
        self.view = view
        if self.lab is not None:
            await self.send_frame(full=False, views=True)

    async def on_sync(self, message: dict[str, Any]) -> None:
        self._need_lab()
        await self.send_snapshot()

    handlers = {
        "lab.validate": on_validate,
        "lab.apply": on_apply,
        "lab.restore": on_restore,
        "lab.play": on_play,
        "lab.pause": on_pause,
        "lab.step": on_step,
        "lab.seek": on_seek,
        "lab.speed": on_speed,
        "lab.action": on_action,
        "lab.sync": on_sync,
        "lab.view": on_view,
    }

    # --- the clock ----------------------------------------------------------------------

    async def _stop_clock(self) -> None:
        self.playing = False
        task, self.clock = self.clock, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run_clock(self) -> None:
        """Advance simulated time with real time at ``speed``; a frame when there is news."""
        last = time.monotonic()
        # Labs started together would tick together; a random phase spreads their work.
        tick = TICK_SECONDS * (0.5 + random.random())  # noqa: S311 - load spreading, not secrets
        try:
            while self.playing and self.lab is not None:
                await asyncio.sleep(tick)
                lab = self.lab
                now = time.monotonic()
                elapsed, last = now - last, now
                # A busy process wakes us late: tick less often (more done per tick) until it
                # keeps up again, so a thousand labs share one process without falling behind.
                # Each lab draws its own factor: labs that all see the same busy process must not
                # slow down and speed up in step, or their ticks would bunch together again.
                late = elapsed - tick
                spread = 0.8 + 0.4 * random.random()  # noqa: S311 - load spreading
                tick = (min(MAX_TICK_SECONDS, tick * 1.5 * spread) if late > LATE_SECONDS
                        else max(TICK_SECONDS, min(MAX_TICK_SECONDS, tick * 0.9 * spread)))
                if math.isinf(self.speed):
                    more = lab.step() and not lab.settled()
                else:
                    lab.advance_to(lab.t + elapsed * self.speed)
                    more = lab.t < lab.until and not lab.settled()
                if not more or lab.t >= lab.until:
                    self.playing = False
                since = now - self._sent_at
                if lab.has_news() or not self.playing:
                    await self.send_frame(full=True)
                elif (now - self._views_at >= VIEWS_EVERY_SECONDS
                      and self.view in services.AGED_VIEWS):
                    await self.send_frame(full=False, aged=self.view)
                elif since >= HEARTBEAT_SECONDS or (
                        since >= PROBES_EVERY_SECONDS
                        and (lab.probes_changed() or lab.logs_pending())):
                    await self.send_frame(full=False)
        except asyncio.CancelledError:
            raise
        except Disconnected:
            # The socket closed while this tick was sending; disconnect() stops the clock.
            self.playing = False
        except Exception:
            logger.exception("lab clock failed")
            self.playing = False
            await self.send_error("internal")
            await self.close(code=1011)
