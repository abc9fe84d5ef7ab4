"""``ws/classroom/<code>/teach/`` (the instructor) and ``ws/classroom/<code>/`` (students).

The instructor's connection drives the room's simulation and saves every change to the
database before broadcasting it: one message per language group per tick, pre-serialised,
with the room's sequence number. A student connection forwards those messages as they are,
drops what it already has, and answers a gap with a fresh snapshot rebuilt from the database,
so a slow or reconnecting student never needs the messages it missed.

The simulation itself runs in the lab's worker processes (``podlab.classroom.runner``): the
console holds a handle to its room there, and every build, move, tick and frame is a request
under a CPU budget. A runaway room is dropped and its console told why; the event loop only
relays.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import suppress
from dataclasses import replace
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext

from podlab.core import conncaps
from podlab.core.db import database_sync_to_async
from podlab.core.layer import LayerTolerantMixin
from podlab.core.seektask import SeekTask
from podlab.lab import services as lab_services
from podlab.lab import workers
from podlab.lab.consumers import (
    CLOSE_TOO_MANY,
    TokenBucket,
    client_address,
    error_text,
    log_request,
    pick_language,
    read_message,
)
from podlab.lab.services import LabError

from . import plans, presence
from . import questions as q
from .models import Connection, Room, RoomQuestion, Seat
from .services import is_valid_code, seat_in_session
from .sim import LANGS, RoomState, dumps, load_state, logs_text, room_call, save_state
from .sim import snapshot_text as build_snapshot_text

logger = logging.getLogger(__name__)

PROTOCOL = 1
MAX_MESSAGE_BYTES = 96 * 1024
TICK_SECONDS = 0.1
VIEWS_EVERY_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0
REFRESH_EVERY_SECONDS = 0.25
# The channel layer (Redis between processes) may be down or slow: no call waits longer than
# this (the deployment's CHANNEL_LAYER_TIMEOUT when set), and a lost layer is retried this often.
RECOVER_SECONDS = 2.0


def layer_timeout() -> float:
    from django.conf import settings

    return float(getattr(settings, "CHANNEL_LAYER_TIMEOUT", 3.0))
INSTRUCTOR_ONLY = (
    "classroom.apply", "classroom.validate", "classroom.play", "classroom.pause",
    "classroom.step", "classroom.seek", "classroom.speed", "classroom.action",
    "classroom.push", "classroom.predict", "classroom.lock", "classroom.revote",
    "classroom.reveal", "classroom.end", "classroom.leaderboard", "classroom.plan",
    "classroom.next",
)
# Refusals of the room, with their translated text; lab codes keep the lab's text.
CLOSE_FORBIDDEN = 4403
CLOSE_ROOM_CLOSED = 4404
CLOSE_INTERNAL = 4500  # a bug, logged (1011 is not a code an application may send)


def room_error_text(code: str, lang: str) -> str:
    with translation.override(lang):
        texts = {
            "forbidden": gettext("Only the instructor can do this."),
            "question_closed": gettext("This question is not taking answers now."),
            "unknown_question": gettext("There is no such question in the lesson banks."),
            "no_pod": gettext("The simulation has no such Pod."),
            "engine_unavailable": gettext("The engine cannot answer this question."),
            "busy": gettext("Another question was pushed at the same moment; try again."),
            "layer_down": gettext("The link between the servers is interrupted. The room goes "
                                  "on and catches up when it is back."),
            "layer_back": gettext("The link between the servers is back."),
            "clock_locked": gettext("The clock is locked at the predict question's target "
                                    "time until you reveal its answer."),
            "budget_exceeded": gettext(
                "The room's simulation does more work per simulated second than the server "
                "allows, so it was stopped. Apply a changed manifest to start again."),
            "out_of_memory": gettext(
                "The room's simulation needed more memory than the server gives it, so it was "
                "stopped. Apply a changed manifest to start again."),
            "worker_lost": gettext(
                "The process that ran the room's simulation stopped; the room was rebuilt from "
                "its last saved moment."),
            "too_many_connections": gettext(
                "Too many classroom connections from your address: close another tab first."),
        }
    return texts.get(code) or error_text(code, lang)


def stopped_text(code: str, lang: str) -> str:
    """What students and the big screen are told when the room's simulation outgrew a budget
    or its worker's memory and was stopped (the console gets ``room_error_text``)."""
    with translation.override(lang):
        if code == "out_of_memory":
            return gettext("The room's simulation needed more memory than the server gives it, "
                           "so it was stopped where it was. The instructor can start it again.")
        return gettext("The room's simulation did more work than the server allows, so it was "
                       "stopped where it was. The instructor can start it again.")


def hello_limits() -> dict[str, Any]:
    """``classroom.hello``'s limits: the lab's, and the budgets the room's simulation runs
    under in its worker."""
    return {**lab_services.HELLO["limits"],
            "message_cpu_seconds": workers.MESSAGE_BUDGET_SECONDS,
            "tick_cpu_seconds": workers.TICK_BUDGET_SECONDS,
            "slice_cpu_seconds": workers.MESSAGE_BUDGET_SECONDS * workers.SLICE_SHARE,
            "min_sim_seconds_per_cpu_second": workers.MIN_SIM_SECONDS_PER_CPU_SECOND,
            "seek_cpu_seconds": workers.SEEK_CPU_SECONDS,
            "lab_memory_mib": workers.WORKER_MEMORY_MB}


def group_name(room_pk: int, lang: str) -> str:
    return f"classroom-{room_pk}-{lang}"


def teach_group(room_pk: int) -> str:
    return f"classroom-{room_pk}-teach"


def projector_group(room_pk: int) -> str:
    return f"classroom-{room_pk}-project"


def public_tally(tally: dict[str, Any]) -> dict[str, Any]:
    """What the big screen may show of a tally: counts only, no names, nothing on who is
    right."""
    return {"type": "classroom.tally", "question": tally["question"], "round": tally["round"],
            "counts": tally["counts"], "answered": tally["answered"],
            "seats": tally.get("seats", 0)}


@database_sync_to_async
def _room_by_code(code: str) -> Room | None:
    return Room.objects.filter(code=code).first() if is_valid_code(code=code) else None


class _Base(conncaps.LetGoWhenDone, LayerTolerantMixin, AsyncWebsocketConsumer):
    """JSON framing, size and rate limits, errors; subclasses list their handlers.

    A socket that connects while the channel layer is down is accepted all the same (see
    ``LayerTolerantMixin``): it is told the room is unavailable, and the recovery loop gets
    its channel name and joins its groups once the layer answers again.
    """

    rate_per_second = 20.0
    rate_burst = 40.0
    handlers: dict[str, Any] = {}

    def _let_go(self) -> None:
        """Give back at once what ``disconnect`` has not (``conncaps.LetGoWhenDone``): its
        tasks here; subclasses add their worker handle or their address ticket."""
        tasks, self.tasks = getattr(self, "tasks", []), []
        for task in tasks:
            if not task.done():
                task.cancel()

    def setup_base(self) -> None:
        self.lang = pick_language(self.scope)
        self.bucket = TokenBucket(self.rate_per_second, self.rate_burst)
        self.tasks: list[asyncio.Task[None]] = []
        self.room_pk: int | None = None
        self.wanted_groups: set[str] = set()
        self.accepted = False
        self.recovering = False  # layer_down itself may already be set by the handshake

    # --- the channel layer, bounded -------------------------------------------------------

    async def _bounded(self, awaitable: Any, *, report: bool = True) -> bool:
        """One channel-layer call, at most ``layer_timeout()`` seconds; False if it failed.

        Everything a room needs is in the database, so a failed broadcast loses nothing: the
        room goes on, and every socket resynchronises from the database once the layer is back.
        """
        try:
            await asyncio.wait_for(awaitable, layer_timeout())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis errors, timeouts, closed connections
            logger.warning("classroom channel layer call failed: %s: %s", type(exc).__name__, exc)
            if report:
                await self.layer_lost()
            return False
        return True

    async def layer_send(self, group: str, message: dict[str, Any]) -> bool:
        if self.layer_down:  # known down: the recovery loop probes it and resyncs everyone
            return False
        return await self._bounded(self.channel_layer.group_send(group, message))

    async def layer_add(self, group: str) -> bool:
        self.wanted_groups.add(group)
        if self.layer_down:  # joined by the recovery loop
            await self.layer_lost()
            return False
        return await self._bounded(self.channel_layer.group_add(group, self.channel_name))

    async def layer_discard(self, group: str) -> None:
        self.wanted_groups.discard(group)
        await self._bounded(self.channel_layer.group_discard(group, self.channel_name),
                            report=False)

    async def layer_lost(self) -> None:
        """Tell this socket's user, then rejoin the groups every few seconds until it works."""
        if self.recovering:
            return
        self.layer_down = self.recovering = True
        if self.accepted:  # else accept() tells
            await self._tell_degraded()
        self.spawn(self._recover())

    async def _tell_degraded(self) -> None:
        with suppress(Exception):
            await self.send_json({"type": "classroom.service", "state": "degraded",
                                  "message": room_error_text("layer_down", self.lang)})

    async def accept(self, subprotocol: str | None = None,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        if self.layer_down:
            await self._tell_degraded()

    async def channel_acquired(self, provisional: str) -> None:
        await presence.renamed(old=provisional, new=self.channel_name)

    async def _recover(self) -> None:
        while True:
            await asyncio.sleep(RECOVER_SECONDS)
            # A publish proves the layer answers (a subscription may only be recorded locally).
            ok = await presence.layer_answers(layer_timeout())
            # A socket that connected during the outage has no channel name yet.
            ok = ok and await self.acquire_channel(timeout=layer_timeout())
            for group in sorted(self.wanted_groups):
                ok = ok and await self._bounded(
                    self.channel_layer.group_add(group, self.channel_name), report=False)
            if not ok or not await self._round_trip():
                continue
            self.layer_down = self.recovering = False
            await self.send_json({"type": "classroom.service", "state": "ok",
                                  "message": room_error_text("layer_back", self.lang)})
            await self.resync()
            return

    async def _round_trip(self) -> bool:
        """Send a message to our own channel through the layer and wait for it: proof that
        this process receives again (its subscriptions are restored a moment after Redis)."""
        self.echo = asyncio.Event()
        sent = await self._bounded(
            self.channel_layer.send(self.channel_name, {"type": "room.echo"}), report=False)
        if not sent:
            return False
        try:
            await asyncio.wait_for(self.echo.wait(), layer_timeout())
        except TimeoutError:
            return False
        return True

    async def room_echo(self, event: dict[str, Any]) -> None:
        echo = getattr(self, "echo", None)
        if echo is not None:
            echo.set()

    async def resync(self) -> None:
        """Bring this socket (and, for the instructor, the room) up to date after an outage."""
        raise NotImplementedError

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=dumps(message))

    async def send_error(self, code: str, **detail: Any) -> None:
        message: dict[str, Any] = {"type": "classroom.error", "code": code,
                                   "message": room_error_text(code, self.lang)}
        if detail:
            message["detail"] = detail
        await self.send_json(message)

    async def cancel_tasks(self) -> None:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self.tasks.append(task)
        return task

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message, problem = read_message(text_data, bucket=self.bucket,
                                        max_bytes=MAX_MESSAGE_BYTES,
                                        per_second=self.rate_per_second)
        if message is None:
            if problem is not None:  # None: over the rate limit, and already told
                await self.send_error(problem[0], **problem[1])
            return
        handler = self.handlers.get(message["type"])
        if handler is None:
            if message["type"] in INSTRUCTOR_ONLY:
                await self.send_error("forbidden", type=message["type"])
            else:
                await self.send_error("unknown_type", type=message["type"][:64])
            return
        try:
            await handler(self, message)
        except Exception as exc:  # noqa: BLE001 - each kind is answered in _failed
            await self._failed(exc, message["type"])

    async def _failed(self, exc: Exception, what: str) -> None:
        """Answer a message (or a room's seek running in slices) that failed: a refusal is
        told, a simulation its worker lost or dropped in ``sim_failed``, anything else is a
        bug (logged; the socket closes)."""
        if isinstance(exc, LabError | q.QuestionError):
            await self.send_error(exc.code, **exc.detail)
        elif isinstance(exc, workers.WorkerError):
            await self.sim_failed(exc)
        else:
            logger.error("classroom message %s failed", what, exc_info=exc)
            await self.send_error("internal")
            await self.close(code=CLOSE_INTERNAL)

    async def sim_failed(self, exc: workers.WorkerError) -> None:
        """A worker refused a request (``rejected``, ``no_simulation``...) or lost the
        room's simulation (``budget_exceeded``, ``out_of_memory``...): say so."""
        await self.send_error(exc.code, **exc.detail)

    async def room_closed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "classroom.closed"})
        await self.close(code=CLOSE_ROOM_CLOSED)


async def _dispatch_direct(consumer: Any, message: dict[str, Any]) -> bool:
    """Run a handler of ``consumer.direct`` without channels' per-message database hop.

    ``AsyncConsumer.dispatch`` runs ``close_old_connections`` in the one shared sync thread
    before every handler. A frame for the 1,000 students of a process thus queued 1,000
    thread hops behind each other (and behind every real query): most of the 2,000-student
    p99 (``benchmarks/bench_classroom_fanout.py`` measures both ways). The handlers listed in
    ``direct`` do not touch the database, or do it through ``database_sync_to_async``, which
    closes old connections itself.
    """
    if message["type"] not in consumer.direct:
        return False
    handler = getattr(consumer, message["type"].replace(".", "_"), None)
    if handler is None:
        return False
    await handler(message)
    return True


# --- the instructor -------------------------------------------------------------------------

class InstructorConsumer(SeekTask, _Base):
    # Every answer of 2,000 students wakes the refresher through room.dirty.
    direct = frozenset({"room.dirty", "room.driver", "room.echo"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        if not await _dispatch_direct(self, message):
            await super().dispatch(message)

    async def connect(self) -> None:
        self.setup_base()
        # The room's simulation lives in a worker (``handle``); ``sim`` is what the console
        # keeps of it to decide its moves (t, until, next_t, actions), None when there is none.
        self.handle: workers.LabHandle | None = None
        self.sim: dict[str, Any] | None = None
        self.state: RoomState | None = None
        self.clock: asyncio.Task[None] | None = None
        #: the room's seek under way, in slices (``classroom.seeking`` until its snapshot)
        self.seeking: asyncio.Task[None] | None = None
        #: the room moved without students seeing it (a seek, maybe interrupted): the next
        #: publish is a snapshot
        self.moved = False
        self.publish_lock = asyncio.Lock()
        self.dirty = asyncio.Event()
        self.last_tally: dict[str, Any] | None = None
        self.last_roster: dict[str, Any] | None = None
        self.roster_mark: tuple[Any, ...] | None = None
        self.views_at = 0.0
        self.lock_at: float | None = None  # see questions.clock_limit
        self.closer: asyncio.Task[None] | None = None
        self.takeovers = 0  # other consoles that took the room over (room.driver)
        code = self.scope["url_route"]["kwargs"]["code"]
        room = await self._own_room(code)
        if room is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.room_pk = room.pk
        await self.layer_add(teach_group(room.pk))
        await self.accept()
        # Counted as present before anything is sent: once a console has its hello, an older
        # console closing can never make the room look abandoned.
        await presence.joined(consumer=self, channel=self.channel_name, room_pk=room.pk,
                              role=Connection.INSTRUCTOR)
        await self.layer_send(teach_group(room.pk),
                              {"type": "room.driver", "channel": self.channel_name})
        failed = None
        try:
            await self._load()
        except workers.WorkerError as exc:  # the saved room cannot be rebuilt within budget
            failed = exc
        await self.send_json({"type": "classroom.hello", "protocol": PROTOCOL,
                              "role": "instructor", "code": room.code,
                              "limits": hello_limits(),
                              "kubernetes": lab_services.HELLO["kubernetes"]})
        if failed is None:
            await self._send_own_snapshot()
        else:
            await self.sim_failed(failed)
        await self._send_question()
        await self._send_plan()
        await self._presence()
        self.spawn(self._heartbeat())
        self.spawn(self._refresher())
        self.dirty.set()
        if self.state is not None and self.state.playing and self.sim is not None:
            self._start_clock()

    @database_sync_to_async
    def _own_room(self, code: str) -> Room | None:
        from .services import room_for_instructor

        if not is_valid_code(code=code):
            return None
        room = room_for_instructor(code=code, user=self.scope.get("user"))
        return room if room is not None and room.is_open else None

    def _let_go(self) -> None:
        super()._let_go()
        for name in ("clock", "seeking", "closer"):
            task = getattr(self, name, None)
            setattr(self, name, None)
            if task is not None and not task.done():
                task.cancel()
        handle, self.handle = getattr(self, "handle", None), None
        if handle is not None:
            handle.close()  # its worker drops the room's simulation

    async def disconnect(self, code: int) -> None:
        await self._interrupt(refresh=False)
        await self._stop_clock()
        if self.closer is not None:
            self.closer.cancel()
        await self.cancel_tasks()
        handle, self.handle = getattr(self, "handle", None), None
        if handle is not None:
            handle.close()
        if self.room_pk is not None:
            await self.layer_discard(teach_group(self.room_pk))
            await presence.left(channel=self.channel_name)
            await self._presence()

    # --- the room's simulation, in a worker ----------------------------------------------

    async def call(self, op: str, *, budget: float = workers.MESSAGE_BUDGET_SECONDS,
                   **kwargs: Any) -> Any:
        """Run ``op`` on this console's room in its worker (see podlab.classroom.runner)."""
        if self.handle is None or not self.handle.alive:
            loop = asyncio.get_running_loop()
            opened: list[workers.LabHandle] = []

            def lost() -> None:
                loop.call_soon_threadsafe(self._worker_lost, opened[0])

            opened.append(workers.pool().open(on_lost=lost))
            self.handle = opened[0]
        return await self.handle.call(op, budget=budget, **kwargs)

    def _worker_lost(self, handle: workers.LabHandle) -> None:
        """The worker that held the room died with another lab's runaway request: the room
        is rebuilt from the database in a live worker, and goes on if it was playing."""
        if handle is not self.handle or self.sim is None:
            return
        self.sim = None
        self.spawn(self._rebuild())

    async def _rebuild(self) -> None:
        playing = self.state is not None and self.state.playing
        await self._interrupt(refresh=False)
        await self._stop_clock()
        await self.send_error("worker_lost")
        try:
            await self._load()
        except workers.WorkerError as exc:
            await self.sim_failed(exc)
            return
        if self.state is not None and self.sim is not None and playing:
            self.state.playing = True
            self._start_clock()
            await self._publish(snapshot=True)

    async def sim_failed(self, exc: workers.WorkerError) -> None:
        if isinstance(exc, workers.WorkerLost):
            # Another lab's runaway took the worker (this room's own would say so).
            if self.handle is not None:
                self._worker_lost(self.handle)
            return
        running = self.sim is not None
        if exc.code in workers.DROPPED:
            await self._drop_sim()
        await self.send_error(exc.code, **exc.detail)
        if running and exc.code in workers.RUNAWAY and self.state is not None:
            # Students and the big screen saw it play: they learn that it stopped, and why.
            for lang in LANGS:
                await self.layer_send(group_name(self.state.room_pk, lang), {
                    "type": "room.stopped", "code": exc.code, "detail": exc.detail,
                    "t": self.state.t, "seq": self.state.seq})

    # --- state ----------------------------------------------------------------------------

    async def _load(self) -> None:
        """Rebuild the room's simulation from the database (after a restart, or a takeover)."""
        assert self.room_pk is not None  # noqa: S101 - set in connect
        state = await database_sync_to_async(load_state)(room_pk=self.room_pk)
        self.state = state
        self.sim = None
        if state.active:
            try:
                sim = await self.call("room.load", state=replace(state), lang=self.lang)
            except workers.WorkerLost:  # its worker died meanwhile: once more, in a live one
                sim = await self.call("room.load", state=replace(state), lang=self.lang)
            self.sim = await self._slices(sim, state.t)

    async def _slices(self, sim: dict[str, Any], t: float) -> dict[str, Any]:
        """Go on with a move that runs in slices (a seek, a load at a late moment) until the
        room is at ``t``; the console hears how far it got (``classroom.seeking``) between
        slices, in which the event loop serves everyone else."""
        while (progress := sim.pop("progress", None)) is not None:
            await self.send_json({"type": "classroom.seeking", **progress})
            sim = await self.call("room.seek", t=t, first=False)
        return sim

    async def _ensure_current(self) -> RoomState:
        """Another connection of this instructor may have driven the room meanwhile."""
        assert self.room_pk is not None  # noqa: S101
        stored = await database_sync_to_async(load_state)(room_pk=self.room_pk)
        if self.state is None or stored.seq != self.state.seq or stored.epoch != self.state.epoch:
            await self._interrupt(refresh=False)
            await self._stop_clock()
            self.moved = False
            await self._load()
        assert self.state is not None  # noqa: S101
        return self.state

    async def _drop_sim(self) -> None:
        """A move outgrew its CPU budget (or memory) and its worker dropped the simulation:
        stop, and keep the room stopped (the saved moment is intact; applying again starts
        afresh, and a reconnecting console does not start the runaway again)."""
        self.clock = None if self.clock is asyncio.current_task() else self.clock
        await self._stop_clock()
        self.sim = None
        if self.state is not None:
            try:
                await database_sync_to_async(save_state)(state=self.state)
            except Exception:  # noqa: BLE001 - the database is down: the room stays stopped here
                logger.warning("could not save a stopped room", exc_info=True)

    def _need_sim(self) -> dict[str, Any]:
        if self.sim is None:
            raise LabError("no_simulation", "no simulation")
        return self.sim

    async def _publish(self, *, snapshot: bool, full: bool = True) -> None:
        """Save the moment, then send it: one message per language group, and to ourselves."""
        async with self.publish_lock:
            state = self.state
            assert state is not None and self.sim is not None  # noqa: S101
            snapshot = snapshot or self.moved  # students never saw the seek's moments
            answer = await self.call("room.publish", state=replace(state, seq=state.seq + 1),
                                     snapshot=snapshot, full=full)
            await self._commit(answer, snapshot=snapshot)

    async def _commit(self, answer: dict[str, Any], *, snapshot: bool) -> None:
        """Save and broadcast the messages a worker built for the next ``seq`` (the caller
        holds ``publish_lock``)."""
        state = self.state
        assert state is not None  # noqa: S101
        self.sim = answer["room"]
        state.seq += 1
        state.t = self.sim["t"]
        state.actions = self.sim["actions"]
        await database_sync_to_async(save_state)(state=state)
        if snapshot:
            self.moved = False
        texts = answer["texts"]
        for lang in LANGS:
            await self.layer_send(group_name(state.room_pk, lang),
                {"type": "room.sim", "seq": state.seq, "snapshot": snapshot,
                 "text": texts[lang]})
        await self.send(text_data=texts.get(self.lang) or texts["en"])
        self.views_at = time.monotonic()

    async def _send_own_snapshot(self) -> None:
        assert self.state is not None  # noqa: S101
        if self.sim is None:
            await self.send(text_data=await build_snapshot_text(state=self.state,
                                                                lang=self.lang))
            return
        await self.send(text_data=await self.call("room.own_snapshot", state=replace(self.state),
                                                  lang=self.lang))

    async def _presence(self) -> None:
        """Tell students whether any console of the instructor is connected (any process)."""
        assert self.room_pk is not None  # noqa: S101
        online = await database_sync_to_async(presence.instructor_present)(room_pk=self.room_pk)
        for lang in LANGS:
            await self.layer_send(group_name(self.room_pk, lang),
                                  {"type": "room.presence", "instructor": online})

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self._presence()

    async def resync(self) -> None:
        """Everyone catches up: a snapshot of this moment to every group, the question, the
        instructor's presence, a fresh tally and roster (a seek under way sends its own)."""
        if self.sim is not None and self.state is not None and not self._seeking():
            await self._publish(snapshot=True)
        await self._send_question()
        await self._presence()
        self.last_tally = self.last_roster = None
        self.dirty.set()

    # --- the clock ------------------------------------------------------------------------

    def _start_clock(self) -> None:
        if self.clock is None or self.clock.done():
            self.clock = asyncio.create_task(self._run_clock())

    async def _stop_clock(self) -> None:
        if self.state is not None:
            self.state.playing = False
        task, self.clock = self.clock, None
        if task is not None and task is not asyncio.current_task():
            # Between ticks, never inside one: a tick's frames go out whole.
            async with self.publish_lock:
                task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run_clock(self) -> None:
        """Advance with real time at the room's speed; at most one broadcast per tick. The
        worker advances the room and builds the frames; this paces, saves and relays."""
        last = time.monotonic()
        try:
            while self.state is not None and self.state.playing and self.sim is not None:
                await asyncio.sleep(TICK_SECONDS)
                if self._seeking() or self.moved:
                    # the clock waits for the seek: it goes on from the moment seeked to
                    last = time.monotonic()
                    continue
                async with self.publish_lock:
                    state = self.state
                    if state is None or not state.playing or self.sim is None:
                        break
                    now = time.monotonic()
                    elapsed, last = now - last, now
                    takeovers = self.takeovers
                    answer = await self.call(
                        "room.tick", budget=workers.TICK_BUDGET_SECONDS,
                        state=replace(state, seq=state.seq + 1), elapsed=elapsed,
                        limit=self.lock_at,
                        due_views=now - self.views_at >= VIEWS_EVERY_SECONDS)
                    self.sim = answer["room"]
                    if self.takeovers != takeovers:
                        break
                    state.playing = state.playing and answer["playing"]
                    if answer["texts"] is not None:
                        await self._commit(answer, snapshot=False)
        except asyncio.CancelledError:
            raise
        except workers.WorkerError as exc:  # the room outgrew its budget, or lost its worker
            if self.clock is asyncio.current_task():
                self.clock = None
            await self.sim_failed(exc)
        except Exception:
            logger.exception("classroom clock failed")
            await self.send_error("internal")
            await self.close(code=CLOSE_INTERNAL)

    # --- simulation commands --------------------------------------------------------------

    async def on_validate(self, message: dict[str, Any]) -> None:
        manifest = message.get("manifest")
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        assert self.room_pk is not None  # noqa: S101 - set in connect
        try:
            # Not in the console's own worker request: a validation over its budget would
            # take the room down with it.
            validation = await room_call(room_pk=self.room_pk, op="room.validate",
                                         manifest=manifest, lang=self.lang)
        except workers.WorkerError as exc:
            await self.send_error(exc.code, **exc.detail)
            return
        await self.send_json({**validation, "type": "classroom.validation"})

    async def on_apply(self, message: dict[str, Any]) -> None:
        manifest = message.get("manifest")
        seed = message.get("seed", 0)
        if not isinstance(manifest, str):
            raise LabError("bad_field", "manifest", field="manifest")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise LabError("bad_field", "seed", field="seed")
        state = await self._ensure_current()
        await self._interrupt(refresh=False)
        await self._stop_clock()
        answer = await self.call("room.apply", manifest=manifest, seed=seed, lang=self.lang)
        await self.send_json({**answer["validation"], "type": "classroom.validation"})
        if answer["room"] is None:
            return
        state.manifest, state.seed, state.actions = manifest, seed, []
        state.epoch += 1
        self.sim = answer["room"]
        await self._publish(snapshot=True)

    async def on_play(self, message: dict[str, Any]) -> None:
        state = await self._ensure_current()
        sim = self._need_sim()
        if "speed" in message:
            state.speed = lab_services.clamp_speed(message["speed"])
        if self._seeking():
            # The clock starts once the seek is there; its snapshot says the room plays.
            self._check_lock(sim["t"])
            state.playing = True
            self._start_clock()
            return
        if sim["next_t"] is None and sim["t"] >= sim["until"]:
            await self._publish(snapshot=False)
            return
        self._check_lock(sim["t"])
        state.playing = True
        self._start_clock()
        await self._publish(snapshot=False)

    async def on_pause(self, message: dict[str, Any]) -> None:
        await self._ensure_current()
        self._need_sim()
        await self._interrupt()
        await self._stop_clock()
        await self._publish(snapshot=False)

    async def on_step(self, message: dict[str, Any]) -> None:
        await self._ensure_current()
        self._need_sim()
        await self._interrupt()
        await self._stop_clock()
        sim = self._need_sim()
        upcoming = sim["next_t"]
        if self.lock_at is not None and upcoming is not None and upcoming > self.lock_at:
            self._check_lock(sim["t"])
            # up to the target time, not past it
            self.sim = await self.call("room.advance", t=self.lock_at)
        else:
            self.sim = await self.call("room.step")
        await self._publish(snapshot=False)

    async def on_seek(self, message: dict[str, Any]) -> None:
        state = await self._ensure_current()
        sim = self._need_sim()
        t = message.get("t")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise LabError("bad_field", "t", field="t")
        if self.lock_at is not None and float(t) > self.lock_at:
            self._check_lock(float(t))
        if await self._interrupt():
            sim = self._need_sim()
        if float(t) < sim["t"]:
            state.epoch += 1
        self.moved = True
        self.seeking = asyncio.create_task(self._run_seek(float(t)))

    async def _run_seek(self, t: float) -> None:
        """A seek runs in slices, in a task of its own: between slices the console hears how
        far it got (``classroom.seeking``) and its other messages are served (a pause, a
        step, an action, a new seek or an apply interrupts it); students get the snapshot at
        the target."""
        try:
            self.sim = await self._slices(await self.call("room.seek", t=t), t)
            self._seek_ended()
            await self._publish(snapshot=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - answered as a message's failure would be
            await self._seek_failed(exc, "classroom.seek")

    async def _interrupt(self, *, refresh: bool = True) -> bool:
        """Interrupt the seek under way, if any: it stops after its current slice, between
        two moments of the simulation, and the room stays at the moment it reached (the next
        publish is its snapshot: ``moved``). Whether there was one; ``refresh``: read the
        room's clock there."""
        if not await self._stop_seek():
            return False
        if refresh and self.sim is not None:
            self.sim = await self.call("room.clock")
        return True

    def _check_lock(self, t: float) -> None:
        if self.lock_at is not None and t >= self.lock_at:
            raise q.QuestionError("clock_locked", t=self.lock_at)

    async def on_speed(self, message: dict[str, Any]) -> None:
        state = await self._ensure_current()
        state.speed = lab_services.clamp_speed(message.get("speed"))
        if self.sim is not None and not self._seeking():  # else the seek's snapshot says it
            await self._publish(snapshot=False)

    async def on_action(self, message: dict[str, Any]) -> None:
        state = await self._ensure_current()
        self._need_sim()
        await self._interrupt()  # the action is recorded at the moment the seek reached
        # Acting after a seek backwards starts a new history from this moment (rewritten).
        answer = await self.call("room.act", action=message, state=replace(state),
                                 lang=self.lang)
        self.sim = answer["room"]
        if answer["rewritten"]:
            state.epoch += 1
        await self._publish(snapshot=answer["rewritten"])

    async def on_sync(self, message: dict[str, Any]) -> None:
        await self._send_own_snapshot()

    async def on_logs(self, message: dict[str, Any]) -> None:
        """A page of one log (``classroom.logs``): frames carry only tails of long logs. From
        the room the console drives, in its worker; without one (stopped after a runaway),
        from the process's copy of the saved moment, as students get theirs."""
        request = log_request(message)
        state = self.state
        if state is None or not state.active:
            raise LabError("no_simulation", "no simulation")
        if self.sim is not None:
            text = await self.call("room.logs", state=replace(state), **request)
        else:
            text = await logs_text(state=replace(state), **request)
        await self.send(text_data=text)

    # --- questions ------------------------------------------------------------------------

    async def _send_question(self) -> None:
        """The current question to every language group, and the teacher's view to us."""
        assert self.room_pk is not None  # noqa: S101
        room_pk = self.room_pk

        def render() -> tuple[dict[str, Any], dict[str, Any], float | None]:
            question = q.current_question(room_pk=room_pk)
            if question is not None and q.close_if_due(question_pk=question.pk):
                question.refresh_from_db()
            per_lang = {lang: q.render_question(question=question, lang=lang)
                        for lang in LANGS}
            mine = q.render_question(question=question, lang=self.lang, instructor=True)
            return per_lang, mine, q.clock_limit(question=question)

        per_lang, mine, self.lock_at = await database_sync_to_async(render)()
        self._schedule_close(mine.get("question"))
        for lang in LANGS:
            await self.layer_send(group_name(room_pk, lang),
                                                {"type": "room.question",
                                                 "message": per_lang[lang]})
        await self.send_json(mine)
        self.last_tally = None
        self.dirty.set()

    def _schedule_close(self, body: dict[str, Any] | None) -> None:
        """Close voting on the server when the countdown reaches zero."""
        if self.closer is not None and self.closer is not asyncio.current_task():
            self.closer.cancel()
        self.closer = None
        if body is None or body.get("closes_in") is None:
            return
        self.closer = asyncio.create_task(self._close_later(body["id"], body["closes_in"]))

    async def _close_later(self, question_pk: int, delay: float) -> None:
        await asyncio.sleep(delay)
        for _ in range(20):  # the database clock may lag this one by a moment
            if await database_sync_to_async(q.close_if_due)(question_pk=question_pk):
                await self._send_question()
                return
            current = await database_sync_to_async(q.current_question)(room_pk=self.room_pk)
            if current is None or current.pk != question_pk or current.state != RoomQuestion.OPEN:
                return  # closed, revealed or replaced meanwhile
            await asyncio.sleep(0.1)

    async def _question(self) -> RoomQuestion:
        assert self.room_pk is not None  # noqa: S101
        question = await database_sync_to_async(q.current_question)(room_pk=self.room_pk)
        if question is None:
            raise q.QuestionError("question_closed")
        return question

    async def on_push(self, message: dict[str, Any]) -> None:
        lesson, question_id = message.get("lesson"), message.get("question")
        if not isinstance(lesson, str) or not isinstance(question_id, str):
            raise LabError("bad_field", "question", field="question")
        room = await database_sync_to_async(Room.objects.get)(pk=self.room_pk)
        await database_sync_to_async(q.push_bank_question)(
            room=room, lesson_slug=lesson, question_id=question_id,
            countdown=message.get("countdown", 0))
        await self._send_question()

    async def on_predict(self, message: dict[str, Any]) -> None:
        await self._ensure_current()
        await self._interrupt()
        if self.moved and self.sim is not None:
            await self._publish(snapshot=True)  # the moment the interrupted seek reached
        if self.sim is not None and self.state is not None:
            # The room row must hold this very moment: the copy starts from it.
            self.state.t = self.sim["t"]
            self.state.actions = self.sim["actions"]
            await database_sync_to_async(save_state)(state=self.state)
        pod = message.get("pod")
        if pod is not None and not isinstance(pod, str):
            raise LabError("bad_field", "pod", field="pod")
        seconds = message.get("seconds", 30)
        countdown = message.get("countdown", 0)
        room = await database_sync_to_async(Room.objects.get)(pk=self.room_pk)
        request = q.live_predict_request(room=room, pod=pod, seconds=seconds,
                                         countdown=countdown)
        try:
            # A copy of the room runs forward in a worker; the console's own room is not
            # touched, whatever the copy costs.
            data = await room_call(room_pk=room.pk, op="room.predict", **request)
        except workers.WorkerError as exc:
            raise q.QuestionError(exc.code, **exc.detail) from None
        await database_sync_to_async(q.push_live_predict)(room=room, data=data,
                                                          countdown=countdown)
        await self._send_question()

    async def on_lock(self, message: dict[str, Any]) -> None:
        question = await self._question()
        await database_sync_to_async(q.set_state)(question=question, state=RoomQuestion.LOCKED)
        await self._send_question()

    async def on_revote(self, message: dict[str, Any]) -> None:
        question = await self._question()
        await database_sync_to_async(q.revote)(question=question)
        await self._send_question()

    async def on_reveal(self, message: dict[str, Any]) -> None:
        question = await self._question()
        await database_sync_to_async(q.set_state)(question=question,
                                                  state=RoomQuestion.REVEALED)
        await self._send_question()
        await self._send_leaderboard()

    async def on_end(self, message: dict[str, Any]) -> None:
        question = await self._question()
        await database_sync_to_async(q.set_state)(question=question, state=RoomQuestion.ENDED)
        await self._send_question()

    async def on_leaderboard(self, message: dict[str, Any]) -> None:
        show = message.get("show")
        if not isinstance(show, bool):
            raise LabError("bad_field", "show", field="show")
        await database_sync_to_async(Room.objects.filter(pk=self.room_pk).update)(
            show_leaderboard=show)
        await self._send_leaderboard()

    async def _send_leaderboard(self) -> None:
        assert self.room_pk is not None  # noqa: S101
        room_pk = self.room_pk

        def build() -> dict[str, Any]:
            shown = Room.objects.filter(pk=room_pk).values_list("show_leaderboard",
                                                                flat=True).first()
            return {"type": "classroom.leaderboard", "shown": bool(shown),
                    "rows": q.leaderboard(room_pk=room_pk) if shown else []}

        message = await database_sync_to_async(build)()
        for lang in LANGS:
            await self.layer_send(group_name(room_pk, lang),
                                                {"type": "room.leaderboard", "message": message})
        await self.send_json(message)

    # --- the lesson plan ------------------------------------------------------------------

    async def _send_plan(self) -> None:
        assert self.room_pk is not None  # noqa: S101
        message = await database_sync_to_async(plans.plan_message)(
            room_pk=self.room_pk, user=self.scope.get("user"), lang=self.lang)
        await self.send_json(message)

    async def _plan_changed(self) -> None:
        """Every console of the room (any process) and the big screen learn where it is."""
        assert self.room_pk is not None  # noqa: S101
        progress = await database_sync_to_async(plans.progress_message)(room_pk=self.room_pk)
        await self.layer_send(teach_group(self.room_pk), {"type": "room.plan"})
        await self.layer_send(projector_group(self.room_pk),
                              {"type": "room.progress", "message": progress})

    async def room_plan(self, event: dict[str, Any]) -> None:
        await self._send_plan()

    async def _plan_error(self, exc: plans.PlanError) -> None:
        detail = {"field": exc.field} if exc.field else {}
        await self.send_json({"type": "classroom.error", "code": exc.code,
                              "message": plans.plan_error_text(code=exc.code, lang=self.lang),
                              **({"detail": detail} if detail else {})})

    async def on_plan(self, message: dict[str, Any]) -> None:
        """Follow one of the instructor's lesson plans (``plan``: its id, or null for none)."""
        try:
            await database_sync_to_async(plans.choose_plan)(
                room_pk=self.room_pk, plan_pk=message.get("plan"), user=self.scope.get("user"))
        except plans.PlanError as exc:
            await self._plan_error(exc)
            return
        await self._plan_changed()

    async def on_next(self, message: dict[str, Any]) -> None:
        """Run the plan's next step, or the one at ``step`` (0-based) to jump or repeat."""
        assert self.room_pk is not None  # noqa: S101
        try:
            index, step = await database_sync_to_async(plans.step_to_run)(
                room_pk=self.room_pk, index=message.get("step"))
        except plans.PlanError as exc:
            await self._plan_error(exc)
            return
        if step["kind"] == plans.QUESTION:
            await self.on_push({"lesson": step["lesson"], "question": step["question"],
                                "countdown": step["countdown"]})
        elif step["kind"] == plans.PREDICT:
            await self.on_predict({"seconds": step["seconds"], "countdown": step["countdown"]})
        else:
            from podlab.course.content import course

            text = course().examples[step["example"]].text()
            await self.on_apply({"manifest": text, "seed": step["seed"]})
        # Only a step that ran counts (a predict step without a simulation raises above).
        await database_sync_to_async(plans.mark_run)(room_pk=self.room_pk, index=index)
        await self._plan_changed()

    # --- the live tally and the roster ----------------------------------------------------

    async def room_dirty(self, event: dict[str, Any]) -> None:
        self.dirty.set()

    async def room_driver(self, event: dict[str, Any]) -> None:
        """Another connection of this room's instructor took over: stop our clock (a tick
        under way is not sent: the room is the other console's now)."""
        if event.get("channel") != self.channel_name:
            self.takeovers += 1
            await self._interrupt(refresh=False)
            await self._stop_clock()

    async def _refresher(self) -> None:
        """At most four tally/roster updates a second, and one every two seconds anyway."""
        assert self.room_pk is not None  # noqa: S101
        room_pk = self.room_pk

        def build(known: tuple[Any, ...] | None) -> tuple[dict[str, Any] | None,
                                                           tuple[Any, ...],
                                                           dict[str, Any] | None]:
            question = q.current_question(room_pk=room_pk)
            counted = None
            if question is not None:
                counted = {"type": "classroom.tally", **q.tally(question=question),
                           "seats": Seat.objects.filter(room_id=room_pk).count()}
            mark = q.roster_mark(room_pk=room_pk)
            # The whole roster (one row per seat) only when a seat or a socket changed.
            return counted, mark, (q.roster(room_pk=room_pk) if mark != known else None)

        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), timeout=2.0)
            self.dirty.clear()
            known = self.roster_mark if self.last_roster is not None else None
            tally, self.roster_mark, roster = await database_sync_to_async(build)(known)
            if tally is not None and tally != self.last_tally:
                await self.send_json(tally)
                await self.layer_send(projector_group(room_pk), {"type": "room.tally",
                                               "message": public_tally(tally)})
            self.last_tally = tally
            if roster is not None and roster != self.last_roster:
                await self.send_json(roster)
                await self.layer_send(projector_group(room_pk),
                    {"type": "room.count", "message": {
                        "type": "classroom.count", "online": roster["online"],
                        "seats": len(roster["seats"]), "languages": roster["languages"]}})
            if roster is not None:
                self.last_roster = roster
            await asyncio.sleep(REFRESH_EVERY_SECONDS)

    # The students' broadcasts reach the teacher's group only through room.dirty.
    handlers = {
        "classroom.validate": on_validate,
        "classroom.apply": on_apply,
        "classroom.play": on_play,
        "classroom.pause": on_pause,
        "classroom.step": on_step,
        "classroom.seek": on_seek,
        "classroom.speed": on_speed,
        "classroom.action": on_action,
        "classroom.sync": on_sync,
        "classroom.logs": on_logs,
        "classroom.push": on_push,
        "classroom.predict": on_predict,
        "classroom.lock": on_lock,
        "classroom.revote": on_revote,
        "classroom.reveal": on_reveal,
        "classroom.end": on_end,
        "classroom.leaderboard": on_leaderboard,
        "classroom.plan": on_plan,
        "classroom.next": on_next,
    }


# --- students -----------------------------------------------------------------------------

#: student sockets per client address (a classroom behind one NAT), across processes with Redis
STUDENT_CAP = conncaps.AddressCap("student", "CLASSROOM_STUDENT_CONNECTIONS_PER_ADDRESS", 2500)


class StudentConsumer(_Base):
    rate_per_second = 5.0
    rate_burst = 10.0
    # The instructor's broadcasts, only forwarded (see ``_dispatch_direct``).
    direct = frozenset({"room.sim", "room.question", "room.presence", "room.leaderboard",
                        "room.tally", "room.count", "room.progress", "room.echo",
                        "room.stopped"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        if not await _dispatch_direct(self, message):
            await super().dispatch(message)

    async def connect(self) -> None:
        self.setup_base()
        self.seq = -1
        self.seat: Seat | None = None
        self.ticket = await STUDENT_CAP.admit(client_address(self.scope))
        if self.ticket is None:
            await self.accept()
            await self.send_error("too_many_connections", limit=STUDENT_CAP.limit())
            await self.close(code=CLOSE_TOO_MANY)
            return
        code = self.scope["url_route"]["kwargs"]["code"]
        room = await _room_by_code(code)
        session = self.scope.get("session")
        seat = None
        if room is not None and session is not None:
            seat = await database_sync_to_async(seat_in_session)(session=session, room=room)
        if room is None or seat is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not room.is_open:
            await self.accept()
            await self.room_closed({})
            return
        self.seat = seat
        self.room_pk = room.pk
        await self.layer_add(group_name(room.pk, self.lang))
        await self.accept()
        seat.lang = self.lang
        await database_sync_to_async(seat.save)(update_fields=["lang"])
        await presence.joined(consumer=self, channel=self.channel_name, room_pk=room.pk,
                              role=Connection.STUDENT, seat_pk=seat.pk)
        info = await database_sync_to_async(self._initial)(room.pk)
        self.answers: dict[str, Any] = info["answers"]
        self.right: dict[str, bool] = info["right"]
        self.scored: set[int] = info["scored"]
        self.score: int = info["score"]
        await self.send_json({"type": "classroom.hello", "protocol": PROTOCOL, "role": "student",
                              "code": room.code, "name": seat.name, "score": self.score,
                              "instructor": info["instructor"],
                              "limits": {"connections_per_address": STUDENT_CAP.limit()}})
        await self._send_snapshot()
        await self._forward_question(info["question"])
        if info["leaderboard"] is not None:
            await self.send_json(info["leaderboard"])
        await self.layer_send(teach_group(room.pk), {"type": "room.dirty"})

    def _initial(self, room_pk: int) -> dict[str, Any]:
        assert self.seat is not None  # noqa: S101
        room = Room.objects.get(pk=room_pk)
        rows = list(self.seat.answers.select_related("question"))
        board = None
        if room.show_leaderboard:
            board = {"type": "classroom.leaderboard", "shown": True,
                     "rows": q.leaderboard(room_pk=room_pk)}
        return {
            "answers": {f"{a.question_id}:{a.round}": a.answer for a in rows},
            "right": {f"{a.question_id}:{a.round}": a.correct for a in rows},
            "scored": {a.question_id for a in rows if a.question.revealed},
            "score": q.score_of(seat=self.seat),
            "instructor": presence.instructor_present(room_pk=room_pk),
            "question": q.render_question(question=q.current_question(room_pk=room_pk),
                                          lang=self.lang),
            "leaderboard": board,
        }

    def _let_go(self) -> None:
        super()._let_go()
        ticket, self.ticket = getattr(self, "ticket", None), None
        conncaps.release_soon(STUDENT_CAP, ticket)

    async def disconnect(self, code: int) -> None:
        await self.cancel_tasks()
        ticket, self.ticket = getattr(self, "ticket", None), None
        await STUDENT_CAP.release(ticket)
        if self.seat is None or self.room_pk is None:
            return
        await self.layer_discard(group_name(self.room_pk, self.lang))
        await presence.left(channel=self.channel_name)
        await self.layer_send(teach_group(self.room_pk), {"type": "room.dirty"})

    async def resync(self) -> None:
        assert self.room_pk is not None  # noqa: S101
        room_pk, lang = self.room_pk, self.lang

        def current() -> tuple[dict[str, Any], bool]:
            return (q.render_question(question=q.current_question(room_pk=room_pk), lang=lang),
                    presence.instructor_present(room_pk=room_pk))

        message, here = await database_sync_to_async(current)()
        await self._send_snapshot()
        await self.room_question({"message": message})
        await self.room_presence({"instructor": here})

    async def _send_snapshot(self) -> None:
        assert self.room_pk is not None  # noqa: S101
        state = await database_sync_to_async(load_state)(room_pk=self.room_pk)
        # Frames after this moment are forwarded whatever happens: a snapshot that cannot
        # be built is not asked for again with every frame.
        self.seq = state.seq
        try:
            text = await build_snapshot_text(state=state, lang=self.lang)
        except workers.WorkerError as exc:
            await self.send_error(exc.code, **exc.detail)
            return
        await self.send(text_data=text)

    # --- from the instructor, through the groups ------------------------------------------

    async def room_sim(self, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if seq <= self.seq:
            return  # already in the snapshot this connection was sent
        if not event["snapshot"] and seq != self.seq + 1:
            await self._send_snapshot()  # missed a frame: catch up from the database
            return
        self.seq = seq
        await self.send(text_data=event["text"])

    async def _forward_question(self, message: dict[str, Any]) -> None:
        body = message.get("question")
        if body is None:
            await self.send_json(message)
            return
        body = dict(body)
        qid, rnd = body["id"], body["round"]
        body["your_answer"] = self.answers.get(f"{qid}:{rnd}")
        if rnd > 1:
            body["your_previous"] = self.answers.get(f"{qid}:{rnd - 1}")
        if body["state"] == RoomQuestion.REVEALED and qid not in self.scored:
            self.scored.add(qid)
            if self.right.get(f"{qid}:{rnd}"):
                self.score += 1
        body["score"] = self.score
        await self.send_json({"type": "classroom.question", "question": body})

    async def room_question(self, event: dict[str, Any]) -> None:
        await self._forward_question(event["message"])

    async def room_presence(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "classroom.presence", "instructor": event["instructor"]})

    async def room_stopped(self, event: dict[str, Any]) -> None:
        """The room's simulation outgrew a budget or its worker's memory: it stopped at the
        moment saved (``t``, ``seq``), paused."""
        await self.send_json({"type": "classroom.error", "code": event["code"],
                              "message": stopped_text(event["code"], self.lang),
                              "detail": {**event["detail"], "stopped": True, "t": event["t"],
                                         "seq": event["seq"]}})

    async def room_leaderboard(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    # --- from the student -----------------------------------------------------------------

    async def on_answer(self, message: dict[str, Any]) -> None:
        assert self.seat is not None and self.room_pk is not None  # noqa: S101
        row = await database_sync_to_async(q.submit_answer)(
            seat=self.seat, question_pk=message.get("question"),
            round_number=message.get("round"), raw=message.get("answer"))
        key = f"{row.question_id}:{row.round}"
        self.answers[key] = row.answer
        self.right[key] = row.correct
        await self.send_json({"type": "classroom.answered", "question": row.question_id,
                              "round": row.round, "answer": row.answer})
        await self.layer_send(teach_group(self.room_pk), {"type": "room.dirty"})

    async def on_sync(self, message: dict[str, Any]) -> None:
        await self._send_snapshot()

    async def on_logs(self, message: dict[str, Any]) -> None:
        """A page of one log (``classroom.logs``) of the moment the database holds."""
        assert self.room_pk is not None  # noqa: S101
        request = log_request(message)
        state = await database_sync_to_async(load_state)(room_pk=self.room_pk)
        try:
            text = await logs_text(state=state, **request)
        except workers.WorkerError as exc:
            await self.send_error(exc.code, **exc.detail)
            return
        await self.send(text_data=text)

    handlers = {
        "classroom.answer": on_answer,
        "classroom.sync": on_sync,
        "classroom.logs": on_logs,
    }


# --- the projector --------------------------------------------------------------------------

class ProjectorConsumer(StudentConsumer):
    """The big screen: the instructor's login, the students' view of the room (no right answer
    before Reveal), tallies as counts without names, and how many have joined. Read only."""

    async def connect(self) -> None:
        self.setup_base()
        self.seq = -1
        self.seat = None
        code = self.scope["url_route"]["kwargs"]["code"]
        room = await database_sync_to_async(self._own_room)(code)
        if room is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.room_pk = room.pk
        for group in (group_name(room.pk, self.lang), projector_group(room.pk)):
            await self.layer_add(group)
        await self.accept()
        await presence.joined(consumer=self, channel=self.channel_name, room_pk=room.pk,
                              role=Connection.PROJECTOR)
        info = await database_sync_to_async(self._projector_initial)(room.pk)
        await self.send_json({"type": "classroom.hello", "protocol": PROTOCOL,
                              "role": "projector", "code": room.code,
                              "instructor": info["instructor"]})
        await self._send_snapshot()
        await self.send_json(info["question"])
        await self.send_json(info["count"])
        if info["tally"] is not None:
            await self.send_json(info["tally"])
        if info["leaderboard"] is not None:
            await self.send_json(info["leaderboard"])
        await self.send_json(info["progress"])

    def _own_room(self, code: str) -> Room | None:
        from .services import room_for_instructor

        if not is_valid_code(code=code):
            return None
        room = room_for_instructor(code=code, user=self.scope.get("user"))
        return room if room is not None and room.is_open else None

    def _projector_initial(self, room_pk: int) -> dict[str, Any]:
        room = Room.objects.get(pk=room_pk)
        question = q.current_question(room_pk=room_pk)
        roster = q.roster(room_pk=room_pk)
        tally = None
        if question is not None:
            tally = public_tally({**q.tally(question=question), "seats": len(roster["seats"])})
        board = None
        if room.show_leaderboard:
            board = {"type": "classroom.leaderboard", "shown": True,
                     "rows": q.leaderboard(room_pk=room_pk)}
        return {
            "instructor": presence.instructor_present(room_pk=room_pk),
            "question": q.render_question(question=question, lang=self.lang),
            "count": {"type": "classroom.count", "online": roster["online"],
                      "seats": len(roster["seats"]), "languages": roster["languages"]},
            "tally": tally, "leaderboard": board,
            "progress": plans.progress_message(room_pk=room_pk),
        }

    async def disconnect(self, code: int) -> None:
        await self.cancel_tasks()
        if self.room_pk is None:
            return
        for group in (group_name(self.room_pk, self.lang), projector_group(self.room_pk)):
            await self.layer_discard(group)
        await presence.left(channel=self.channel_name)

    async def room_question(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    async def resync(self) -> None:
        assert self.room_pk is not None  # noqa: S101
        info = await database_sync_to_async(self._projector_initial)(self.room_pk)
        await self._send_snapshot()
        for key in ("question", "count", "tally", "leaderboard", "progress"):
            if info[key] is not None:
                await self.send_json(info[key])

    async def room_tally(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    async def room_count(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    async def room_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    handlers = {"classroom.sync": StudentConsumer.on_sync,
                "classroom.logs": StudentConsumer.on_logs}
