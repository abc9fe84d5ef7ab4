"""``ws/lab/``: one simulation per connection, driven by the browser, run by the server."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import random
import sys
import time
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext

from podlab.core import conncaps
from podlab.core.layer import NO_CHANNEL_LAYER
from podlab.core.seektask import SeekTask

from . import runner, services, workers
from .services import LabError

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 96 * 1024
MAX_JSON_DEPTH = 32
RATE_PER_SECOND = float(services.MESSAGES_PER_SECOND)
RATE_BURST = 40.0
TICK_SECONDS = 0.25  # the clock advances four times a second at most
MAX_TICK_SECONDS = 1.0  # under load, down to once a second
#: after a tick with nothing to show, the clock ticks at most this often until a frame goes
#: out again (the ticks of a quiet lab only advance it; what they find waits for the next)
QUIET_TICK_SECONDS = 0.5
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
#: clocks that are due within the same TICK_QUANTUM wake together (one timer for them all),
#: so their ticks reach each worker as one list (workers.WorkerPool._write)
TICK_QUANTUM = 0.02
#: the kubectl views the page can show (``lab.view``); the default is ``watch``
VIEWS = ("watch", "wide", "describe", "events", "logs")

class _Wakeups:
    """``sleep`` for many clocks on one loop: a wake-up time rounded up to the next
    ``TICK_QUANTUM`` and one timer for every clock due then."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[float, list[asyncio.Future[None]]] = {}

    async def sleep(self, seconds: float) -> None:
        loop = self.loop
        at = math.ceil((loop.time() + seconds) / TICK_QUANTUM) * TICK_QUANTUM
        waiting = self.due.get(at)
        if waiting is None:
            waiting = self.due[at] = []
            loop.call_at(at, self._wake, at)
        future = loop.create_future()
        waiting.append(future)
        await future

    def _wake(self, at: float) -> None:
        for future in self.due.pop(at, ()):
            if not future.done():
                future.set_result(None)


_wakeups: dict[asyncio.AbstractEventLoop, _Wakeups] = {}


def clock_sleep(seconds: float) -> Any:
    loop = asyncio.get_running_loop()
    wakeups = _wakeups.get(loop)
    if wakeups is None:
        for old in [other for other in _wakeups if other.is_closed()]:
            del _wakeups[old]
        wakeups = _wakeups[loop] = _Wakeups(loop)
    return wakeups.sleep(seconds)


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
            "too_deep": gettext("The message is nested too deeply."),
            "bad_text": gettext(
                "The text holds a lone surrogate (\\ud800-\\udfff escape), which is not "
                "valid Unicode."),
            "number_too_long": gettext("A number has too many digits."),
            "budget_exceeded": gettext(
                "This lab does more work per simulated second than the lab allows, so it "
                "was suspended. Change the manifest (or a slower speed) and apply again."),
            "out_of_memory": gettext(
                "This lab needed more memory than the server gives a lab, so it was "
                "stopped. Change the manifest and apply again."),
            "worker_lost": gettext(
                "The process that ran this lab stopped; the lab has ended. Reload to "
                "start again."),
            "too_many_connections": gettext(
                "Too many lab connections from your address: close another tab first."),
            "server_full": gettext("The server runs as many labs as it can: try again later."),
            "slow_reader": gettext(
                "The connection did not keep up with the lab's updates and was closed."),
            "frame_too_large": gettext("This view is too large to send."),
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
        #: whether the sender was told it is over the limit since its last accepted message
        self.told = False

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.told = False
            return True
        return False


def _find_problem(value: Any) -> tuple[str, dict[str, Any]] | None:
    """The first string with a lone surrogate (not UTF-8, so no manifest or name can hold
    it), or nesting deeper than ``MAX_JSON_DEPTH``, with where it is."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "too_deep", {"field": path, "limit": MAX_JSON_DEPTH}
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                index = exc.start
                line = item.count("\n", 0, index) + 1
                column = index - (item.rfind("\n", 0, index) + 1) + 1
                return "bad_text", {"field": path, "line": line, "column": column}
        elif isinstance(item, dict):
            for key, inner in item.items():
                stack.append((key, path, depth + 1))
                stack.append((inner, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                stack.append((inner, f"{path}[{index}]", depth + 1))
    return None


def read_message(
    text_data: str | None, *, bucket: TokenBucket, max_bytes: int, per_second: float
) -> tuple[dict[str, Any] | None, tuple[str, dict[str, Any]] | None]:
    """Check one incoming frame: (message, None), or (None, (error code, detail)), or
    (None, None) for a frame dropped silently: over the rate limit, a sender hears about it
    once, and not again until a message of theirs is accepted (each reply costs the server
    what the flood is meant to save)."""
    if text_data is None:
        return None, ("bad_json", {})
    if len(text_data) > max_bytes:
        return None, ("too_large", {"limit": max_bytes})
    if not bucket.take():
        if bucket.told:
            return None, None
        bucket.told = True
        return None, ("rate_limited", {"per_second": per_second})
    try:
        message = json.loads(text_data)
    except json.JSONDecodeError as exc:
        return None, ("bad_json", {"line": exc.lineno, "column": exc.colno})
    except RecursionError:
        return None, ("too_deep", {"limit": MAX_JSON_DEPTH})
    except ValueError:  # an integer longer than Python converts (4,300 digits)
        return None, ("number_too_long", {"limit": sys.get_int_max_str_digits()})
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None, ("bad_json", {})
    problem = _find_problem(message)
    if problem is not None:
        return None, problem
    return message, None

# --- connection caps and slow readers ------------------------------------------------------

#: lab sockets one client address may hold, and this process in all (settings override)
MAX_CONNECTIONS_PER_ADDRESS = 64
MAX_CONNECTIONS = 2000
#: bytes waiting in the socket's send buffer above which ticks send nothing (the next frame
#: that goes out is a full one: the latest state wins), and above which the socket is closed
BACKLOG_COALESCE_BYTES = 256 * 1024
BACKLOG_CLOSE_BYTES = 4 * 1024 * 1024

#: close codes (4000-4999: the application's own; docs/protocol.md)
CLOSE_INTERNAL = 4500
CLOSE_WORKER_LOST = 4501
CLOSE_TOO_MANY = 4429
CLOSE_SERVER_FULL = 4503
CLOSE_SLOW_READER = 4408

#: lab sockets per client address, counted across the deployment's processes with REDIS_URL
ADDRESS_CAP = conncaps.AddressCap("lab", "LAB_MAX_CONNECTIONS_PER_ADDRESS",
                                  MAX_CONNECTIONS_PER_ADDRESS)
#: lab sockets of this process
_open = 0


def connection_caps() -> tuple[int, int]:
    from django.conf import settings

    return (getattr(settings, "LAB_MAX_CONNECTIONS_PER_ADDRESS", MAX_CONNECTIONS_PER_ADDRESS),
            getattr(settings, "LAB_MAX_CONNECTIONS", MAX_CONNECTIONS))


def client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client") or ("", 0)
    return str(client[0] or "")


def send_backlog(send: Any) -> int:
    """Bytes the socket under ``send`` has not written yet (Daphne on Twisted), or 0 when
    the transport does not say (the test communicator)."""
    for _ in range(8):  # unwrap middleware (the session middleware wraps send)
        inner = getattr(getattr(send, "__self__", None), "real_send", None)
        if inner is None:
            break
        send = inner
    protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return 0
    buffered = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return max(0, buffered) + int(getattr(transport, "_tempDataLen", 0))


def hello() -> dict[str, Any]:
    """``lab.hello``: the protocol, the Kubernetes version and every limit and budget."""
    per_address, total = connection_caps()
    message = dict(services.HELLO)
    message["limits"] = {
        **services.HELLO["limits"],
        "message_bytes": MAX_MESSAGE_BYTES,
        "messages_per_second": RATE_PER_SECOND,
        "messages_burst": RATE_BURST,
        "json_depth": MAX_JSON_DEPTH,
        "connections_per_address": per_address,
        "connections": total,
        "message_cpu_seconds": workers.MESSAGE_BUDGET_SECONDS,
        "tick_cpu_seconds": workers.TICK_BUDGET_SECONDS,
        "slice_cpu_seconds": workers.MESSAGE_BUDGET_SECONDS * workers.SLICE_SHARE,
        "min_sim_seconds_per_cpu_second": workers.MIN_SIM_SECONDS_PER_CPU_SECOND,
        "seek_cpu_seconds": workers.SEEK_CPU_SECONDS,
        "lab_memory_mib": workers.WORKER_MEMORY_MB,
        "frame_bytes": runner.MAX_FRAME_BYTES,
        "log_tail_chars": runner.LOG_TAIL_CHARS,
        "log_page_chars": runner.MAX_LOG_PAGE_CHARS,
        "backlog_bytes": BACKLOG_CLOSE_BYTES,
    }
    return message


def log_request(message: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``lab.logs`` (or ``classroom.logs``) request, checked: ``container``,
    ``previous``, ``offset`` (default: the last page) and ``limit``."""
    container = message.get("container")
    if not isinstance(container, str) or len(container) > 320:
        raise LabError("bad_field", "container", field="container")
    previous = message.get("previous", False)
    if not isinstance(previous, bool):
        raise LabError("bad_field", "previous", field="previous")
    offset, limit = message.get("offset", -runner.MAX_LOG_PAGE_CHARS), message.get(
        "limit", runner.MAX_LOG_PAGE_CHARS)
    for key, value in (("offset", offset), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**40:
            raise LabError("bad_field", key, field=key)
    return {"container": container, "previous": previous, "offset": offset, "limit": limit}


class LabConsumer(conncaps.LetGoWhenDone, SeekTask, AsyncWebsocketConsumer):
    """A thin relay: the lab runs in a worker process (:mod:`podlab.lab.workers`)."""

    # The lab talks to its own socket only: no channel layer (a Redis that is down cannot
    # fail its handshake) and no database (see dispatch).
    channel_layer_alias = NO_CHANNEL_LAYER

    def _let_go(self) -> None:
        """Give back at once what ``disconnect`` has not (``conncaps.LetGoWhenDone``): the
        clock and the seek, the lab in its worker, the count and the address ticket."""
        for name in ("seeking", "clock"):
            task = getattr(self, name, None)
            setattr(self, name, None)
            if task is not None and not task.done():
                task.cancel()
        self.playing = False
        handle = getattr(self, "handle", None)
        self.handle = None
        if handle is not None:
            handle.close()
        if getattr(self, "counted", False):
            self.counted = False
            self._count(-1)
        ticket, self.ticket = getattr(self, "ticket", None), None
        conncaps.release_soon(ADDRESS_CAP, ticket)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, in the one thread
        # all websocket database work shares; the lab uses no database, and must not queue
        # behind a socket waiting for an unreachable one.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.lang = pick_language(self.scope)
        self.handle: workers.LabHandle | None = None
        self.has_lab = False
        self.seq = 0
        self.playing = False
        self.speed = 1.0
        self.clock: asyncio.Task[None] | None = None
        #: the sliced seek under way (``lab.progress`` frames until its snapshot), if any
        self.seeking: asyncio.Task[None] | None = None
        self.bucket = TokenBucket(RATE_PER_SECOND, RATE_BURST)
        self.view = "watch"
        self.stale = False  # ticks skipped for a slow reader: the next frame is full
        self._sent_at = self._views_at = time.monotonic()
        self.address = client_address(self.scope)
        self.counted = False
        self.ticket: conncaps.Ticket | None = None
        await self.accept()
        per_address, total = connection_caps()
        if _open >= total:
            await self._refuse("server_full", CLOSE_SERVER_FULL, limit=total)
            return
        self.ticket = await ADDRESS_CAP.admit(self.address)
        if self.ticket is None:
            await self._refuse("too_many_connections", CLOSE_TOO_MANY, limit=per_address)
            return
        self._count(1)
        self.counted = True
        await self.send_json(hello())

    @staticmethod
    def _count(change: int) -> None:
        global _open  # noqa: PLW0603 - one count per process
        _open += change

    async def _refuse(self, code: str, close_code: int, **detail: Any) -> None:
        await self.send_error(code, **detail)
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        await self._cancel_seek()
        await self._stop_clock()
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if self.counted:
            self.counted = False
            self._count(-1)
        ticket, self.ticket = self.ticket, None
        await ADDRESS_CAP.release(ticket)

    # --- the worker ----------------------------------------------------------------------

    def _handle(self) -> workers.LabHandle:
        if self.handle is None or not self.handle.alive:
            loop = asyncio.get_running_loop()

            def lost() -> None:
                loop.call_soon_threadsafe(self._on_worker_lost)

            self.handle = workers.pool().open(on_lost=lost)
        return self.handle

    def _on_worker_lost(self) -> None:
        if self.has_lab:
            self.has_lab = False
            task = asyncio.ensure_future(self._end(workers.WorkerLost()))
            self._background = task

    async def _end(self, exc: workers.WorkerError) -> None:
        """The worker refused or lost the lab: stop, say why; a lost worker ends the socket."""
        await self._cancel_seek()
        await self._stop_clock()
        self.has_lab = False
        if isinstance(exc, workers.WorkerLost):
            with suppress(Disconnected):
                await self.send_error(exc.code, **exc.detail)
                await self.close(code=CLOSE_WORKER_LOST)
            return
        await self.send_error(exc.code, **exc.detail)

    async def call(self, op: str, **kwargs: Any) -> Any:
        return await self._handle().call(op, **kwargs)

    # --- sending ------------------------------------------------------------------------

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":"), default=str))

    async def send_numbered(self, body: str) -> None:
        """Send a message the worker encoded, with this connection's ``seq``, ``playing``
        and ``speed`` added."""
        self._sent_at = time.monotonic()
        self.seq += 1
        speed = '"instant"' if math.isinf(self.speed) else json.dumps(self.speed)
        playing = "true" if self.playing else "false"
        await self.send(text_data=f'{body[:-1]},"seq":{self.seq},"playing":{playing},'
                                  f'"speed":{speed}}}')
        self.stale = False

    async def send_error(self, code: str, **detail: Any) -> None:
        message: dict[str, Any] = {"type": "lab.error", "code": code,
                                   "message": error_text(code, self.lang)}
        if detail:
            message["detail"] = detail
        await self.send_json(message)

    async def send_snapshot(self, body: str) -> None:
        await self.send_numbered(body)
        self._views_at = time.monotonic()

    async def send_frame(self, *, full: bool = True, views: bool = False) -> None:
        await self.send_numbered(await self.call("frame", lang=self.lang, full=full,
                                                 views=views))
        if full or views:
            self._views_at = time.monotonic()

    def backlog(self) -> int:
        return send_backlog(self.base_send)

    # --- receiving ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.counted:
            return
        message, problem = read_message(text_data, bucket=self.bucket,
                                        max_bytes=MAX_MESSAGE_BYTES, per_second=RATE_PER_SECOND)
        if message is None:
            if problem is not None:
                await self.send_error(problem[0], **problem[1])
            return
        handler = self.handlers.get(message["type"])
        if handler is None:
            await self.send_error("unknown_type", type=message["type"][:64])
            return
        try:
            await handler(self, message)
        except Exception as exc:  # noqa: BLE001 - each kind is answered in _failed
            await self._failed(exc, message["type"])
        if self.backlog() > BACKLOG_CLOSE_BYTES:
            await self._slow_reader()

    async def _failed(self, exc: Exception, what: str) -> None:
        """Answer a message (or a sliced seek) that failed: a refusal is told, a lab its
        worker dropped ends, anything else is a bug (logged; the socket closes)."""
        if isinstance(exc, LabError):
            await self.send_error(exc.code, **exc.detail)
        elif isinstance(exc, workers.WorkerError):
            if exc.code in ("no_simulation", "bad_field", "rejected", "too_large"):
                await self.send_error(exc.code, **exc.detail)
            else:
                await self._end(exc)
        elif isinstance(exc, Disconnected):
            await self._stop_clock()
        else:
            logger.error("lab message %s failed", what, exc_info=exc)
            await self._stop_clock()
            await self.send_error("internal")
            await self.close(code=CLOSE_INTERNAL)

    async def _slow_reader(self) -> None:
        """Close a socket whose reader fell too far behind. The reason and the code wait
        behind what is buffered: a client that reads again finds them; one that never does
        is dropped when the close handshake times out."""
        await self._stop_clock()
        with suppress(Disconnected):
            await self.send_error("slow_reader", limit=BACKLOG_CLOSE_BYTES)
            await self.close(code=CLOSE_SLOW_READER)

    def _need_lab(self) -> None:
        if not self.has_lab:
            raise LabError("no_simulation", "no simulation")

    async def on_validate(self, message: dict[str, Any]) -> None:
        manifest = message.get("manifest")
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        if len(manifest.encode("utf-8")) > services.MAX_MANIFEST_BYTES:
            raise LabError("too_large", "manifest", limit=services.MAX_MANIFEST_BYTES)
        await self.send(text_data=await self.call("validate", manifest=manifest,
                                                  lang=self.lang))

    async def _start(self, message: dict[str, Any], **restore: Any) -> None:
        manifest = message.get("manifest")
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        if len(manifest.encode("utf-8")) > services.MAX_MANIFEST_BYTES:
            raise LabError("too_large", "manifest", limit=services.MAX_MANIFEST_BYTES)
        seed = message.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise LabError("bad_field", "seed", field="seed")
        await self._cancel_seek()
        await self._stop_clock()
        self.has_lab = False
        answer = await self.call("start", manifest=manifest, seed=seed, lang=self.lang,
                                 **restore)
        await self.send(text_data=answer["validation"])
        if answer["snapshot"] is not None:
            self.has_lab = True
            await self.send_snapshot(answer["snapshot"])
            await self._tell_refused(answer)
        elif answer.get("progress") is not None:
            # a restore at a stored moment that takes more than a slice: it goes on as a seek
            self.has_lab = True
            await self.send_json({"type": "lab.progress", **answer["progress"]})
            await self._tell_refused(answer)
            self.seeking = asyncio.create_task(
                self._run_seek(answer["progress"]["target"], first=False))

    async def on_apply(self, message: dict[str, Any]) -> None:
        await self._start(message)

    async def on_restore(self, message: dict[str, Any]) -> None:
        actions = message.get("actions", [])
        t = message.get("t", 0)
        if not isinstance(actions, list) or len(actions) > services.MAX_ACTIONS:
            raise LabError("bad_field", "actions", field="actions")
        if (isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t)
                or not 0 <= t):
            raise LabError("bad_field", "t", field="t")
        cleaned = []
        last = 0.0
        for index, action in enumerate(actions):
            at = action.get("t") if isinstance(action, dict) else None
            if (isinstance(at, bool) or not isinstance(at, int | float)
                    or not math.isfinite(at) or at < last):
                raise LabError("bad_field", "actions", field=(
                    f"actions[{index}].t" if isinstance(action, dict) else f"actions[{index}]"))
            try:
                entry = services.clean_action(action)
            except LabError as exc:
                # which action of the log, and which of its fields
                exc.detail["field"] = f"actions[{index}].{exc.detail.get('field', 'action')}"
                raise
            entry["t"] = float(at)
            last = float(at)
            cleaned.append(entry)
        await self._start(message, actions=cleaned, t=float(t))

    async def on_play(self, message: dict[str, Any]) -> None:
        self._need_lab()
        if "speed" in message:
            self.speed = services.clamp_speed(message["speed"])
        state = await self.call("play")
        if not state["can_play"]:
            # Nothing is scheduled (or the run is over): no time that passes changes anything.
            # The frame says so (``settled``, ``next_t`` null); the page tells the learner.
            self.playing = False
            await self.send_frame()
            return
        self.playing = True
        if self.clock is None or self.clock.done():
            self.clock = asyncio.create_task(self._run_clock())
        await self.send_frame()

    async def on_pause(self, message: dict[str, Any]) -> None:
        self._need_lab()
        interrupted = await self._cancel_seek()
        await self._stop_clock()
        if interrupted:
            await self._send_interrupted()
        else:
            await self.send_frame()

    async def on_step(self, message: dict[str, Any]) -> None:
        self._need_lab()
        if await self._cancel_seek():
            await self._send_interrupted()
        await self._stop_clock()
        await self.send_numbered(await self.call("step", lang=self.lang))
        self._views_at = time.monotonic()

    async def on_seek(self, message: dict[str, Any]) -> None:
        """A seek runs in slices, in a task of its own: between slices the page hears how far
        it got (``lab.progress``) and this socket's other messages are served (a pause, a
        new seek or an apply interrupts it); the snapshot comes at the target."""
        self._need_lab()
        t = message.get("t")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise LabError("bad_field", "t", field="t")
        await self._cancel_seek()
        self.seeking = asyncio.create_task(self._run_seek(float(t), first=True))

    async def _cancel_seek(self) -> bool:
        """Interrupt the seek under way (``SeekTask._stop_seek``); whether there was one."""
        return await self._stop_seek()

    async def _send_interrupted(self) -> None:
        """The page saw only progress of the interrupted seek: the moment it stopped at."""
        await self.send_snapshot(await self.call("snapshot", lang=self.lang))

    async def _run_seek(self, t: float, *, first: bool) -> None:
        try:
            while self.has_lab:
                answer = await self.call("seek", t=t, lang=self.lang, first=first)
                first = False
                if answer["body"] is not None:
                    self._seek_ended()
                    await self.send_snapshot(answer["body"])
                    await self._tell_refused(answer)
                    return
                await self.send_json({"type": "lab.progress", **answer["progress"]})
                await self._tell_refused(answer)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - answered as a message's failure would be
            await self._seek_failed(exc, "lab.seek")

    async def _tell_refused(self, answer: dict[str, Any]) -> None:
        """Recorded actions (of a restored lab) that the engine refused when their time came:
        they left the log (the next snapshot's ``actions``); each is told as ``rejected``."""
        for refused in answer.get("refused") or ():
            await self.send_error("rejected", field="actions", **refused)

    async def on_speed(self, message: dict[str, Any]) -> None:
        self.speed = services.clamp_speed(message.get("speed"))
        if self.has_lab:
            await self.send_frame()

    async def on_action(self, message: dict[str, Any]) -> None:
        self._need_lab()
        action = services.clean_action(message)
        if await self._cancel_seek():
            await self._send_interrupted()
        try:
            body = await self.call("act", action=action, lang=self.lang)
        except workers.WorkerError as exc:
            if exc.code == "rejected":
                await self.send_error("rejected", **exc.detail)
                return
            raise
        await self.send_numbered(body)
        self._views_at = time.monotonic()

    async def on_view(self, message: dict[str, Any]) -> None:
        """The page shows another kubectl view: bring the views up to date now, and from
        then on refresh that one's AGE columns while nothing else changes."""
        view = message.get("view")
        if view not in VIEWS:
            raise LabError("bad_field", "view", field="view", allowed=list(VIEWS))
        self.view = view
        if self.has_lab:
            await self.send_frame(full=False, views=True)

    async def on_sync(self, message: dict[str, Any]) -> None:
        self._need_lab()
        await self.send_snapshot(await self.call("snapshot", lang=self.lang))

    async def on_logs(self, message: dict[str, Any]) -> None:
        """A page of one log (``lab.logs``): frames carry only tails of long logs."""
        self._need_lab()
        await self.send(text_data=await self.call("logs", **log_request(message)))

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
        "lab.logs": on_logs,
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
        """Advance simulated time with real time at ``speed``; a frame when there is news.
        The worker advances the lab and picks the frame; this only paces and relays."""
        last = time.monotonic()
        # Labs started together would tick together; a random phase spreads their work.
        tick = TICK_SECONDS * (0.5 + random.random())  # noqa: S311 - load spreading, not secrets
        try:
            while self.playing and self.has_lab:
                await clock_sleep(tick)
                if self._seeking():
                    # the clock waits for the seek: it goes on from the moment seeked to
                    last = time.monotonic()
                    continue
                now = time.monotonic()
                elapsed, last = now - last, now
                # A busy process wakes us late: tick less often (more done per tick) until it
                # keeps up again. Each lab draws its own factor, so labs that see the same
                # busy process do not slow down and speed up in step.
                late = elapsed - tick
                spread = 0.8 + 0.4 * random.random()  # noqa: S311 - load spreading
                tick = (min(MAX_TICK_SECONDS, tick * 1.5 * spread) if late > LATE_SECONDS
                        else max(TICK_SECONDS, min(MAX_TICK_SECONDS, tick * 0.9 * spread)))
                backlog = self.backlog()
                if backlog > BACKLOG_CLOSE_BYTES:
                    await self._slow_reader()
                    return
                since = now - self._sent_at
                answer = await self.call(
                    "tick", budget=workers.TICK_BUDGET_SECONDS, elapsed=elapsed,
                    speed=self.speed, lang=self.lang, view=self.view,
                    due_views=now - self._views_at >= VIEWS_EVERY_SECONDS,
                    due_heartbeat=since >= HEARTBEAT_SECONDS,
                    due_probes=since >= PROBES_EVERY_SECONDS, at=now)
                last = answer.get("at", last)
                self.playing = self.playing and answer["playing"]
                await self._tell_refused(answer)
                if answer["body"] is None:
                    tick = max(tick, min(MAX_TICK_SECONDS, QUIET_TICK_SECONDS))
                    continue
                if backlog > BACKLOG_COALESCE_BYTES and self.playing:
                    # The reader is behind: this frame would only wait in the buffer. Skip
                    # it; the next one sent is a full frame (the latest state wins).
                    self.stale = True
                    continue
                if self.stale and answer["kind"] != "full":
                    await self.send_frame(full=True)
                    continue
                await self.send_numbered(answer["body"])
                if answer["kind"] in ("full", "aged"):
                    self._views_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Disconnected:
            # The socket closed while this tick was sending; disconnect() stops the clock.
            self.playing = False
        except workers.WorkerError as exc:
            self.playing = False
            self.clock = None
            await self._end(exc)
        except Exception:
            logger.exception("lab clock failed")
            self.playing = False
            await self.send_error("internal")
            await self.close(code=CLOSE_INTERNAL)
