"""The room's simulation, rebuilt anywhere from the database and framed once per language.

The instructor's connection drives a ``RoomSim``; every change is saved to the ``Room`` row
(``save_state``) before it is broadcast, so any process can rebuild the same moment with
``snapshot_text``: the engine is deterministic, so (manifest, seed, actions, t) is the
moment. Student connections share one cached simulation per room and process.

Simulations never run on the server's event loop: a ``RoomSim`` (the instructor's) and each
process's copy for snapshots live in the lab's worker processes (``podlab.lab.workers``,
operations in ``podlab.classroom.runner``), with the lab's memory cap and CPU budgets. The
event loop only keeps what the database says, relays frames and caches snapshot texts.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from podlab.lab import workers
from podlab.lab.narration import render_all as render_narration
from podlab.lab.services import LabError, LabSession, lab_start

from .models import Room

LANGS = ("en", "zh-hans")


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str, ensure_ascii=False)


def speed_out(speed: float) -> float | str:
    return "instant" if math.isinf(speed) else speed


def speed_in(stored: float) -> float:
    return math.inf if stored == 0 else stored


@dataclass
class RoomState:
    """What the ``Room`` row holds about the simulation."""

    room_pk: int
    manifest: str
    seed: int
    actions: list[dict[str, Any]]
    t: float
    playing: bool
    speed: float
    seq: int
    epoch: int

    @classmethod
    def of(cls, room: Room) -> RoomState:
        return cls(room_pk=room.pk, manifest=room.manifest, seed=room.seed,
                   actions=list(room.actions or []), t=room.t, playing=room.playing,
                   speed=speed_in(room.speed), seq=room.seq, epoch=room.epoch)

    @property
    def active(self) -> bool:
        return bool(self.manifest)


def load_state(*, room_pk: int) -> RoomState:
    return RoomState.of(Room.objects.get(pk=room_pk))


def save_state(*, state: RoomState) -> None:
    Room.objects.filter(pk=state.room_pk).update(
        manifest=state.manifest, seed=state.seed, actions=state.actions, t=state.t,
        playing=state.playing, speed=0 if math.isinf(state.speed) else state.speed,
        seq=state.seq, epoch=state.epoch)


def build_lab(*, manifest: str, seed: int, actions: list[dict[str, Any]], t: float,
              lang: str = "en") -> LabSession:
    lab, validation = lab_start(manifest_text=manifest, seed=seed, lang=lang)
    if lab is None:
        raise LabError("rejected", "manifest", problems=validation["problems"])
    lab.actions = [dict(a) for a in actions]
    lab.seek(t)
    return lab


# --- every process: snapshots for late joiners and resyncs --------------------------------

def snapshot_message(*, state: RoomState, lab: LabSession, lang: str) -> dict[str, Any]:
    return {"type": "classroom.snapshot", "seq": state.seq, "playing": state.playing,
            "speed": speed_out(state.speed), "manifest": state.manifest,
            **lab.snapshot(lang=lang)}


#: rooms whose snapshot builder (a lab in a worker) this process keeps, and texts it keeps
_ROOMS = 64
_TEXTS_KEPT = 256
_handles: OrderedDict[int, workers.LabHandle] = OrderedDict()
_texts: OrderedDict[tuple[int, int, int, str], str] = OrderedDict()
_building: dict[tuple[int, int, int, str], asyncio.Future[str]] = {}
#: a room whose rebuild outgrew its budget, by epoch: not tried again until the room changes
#: history (the same moment or a later one of the same history costs as much or more)
_failed: dict[int, tuple[int, workers.WorkerError]] = {}


def _room_handle(room_pk: int) -> workers.LabHandle:
    handle = _handles.get(room_pk)
    if handle is None or not handle.alive:
        handle = _handles[room_pk] = workers.pool().open()
    _handles.move_to_end(room_pk)
    while len(_handles) > _ROOMS:
        _handles.popitem(last=False)[1].close()
    return handle


async def room_call(*, room_pk: int, op: str, **kwargs: Any) -> Any:
    """Run ``op`` in the worker that holds this process's copy of the room (the one
    snapshots are built from); a copy lost with its worker is rebuilt once in another."""
    try:
        return await _room_handle(room_pk).call(op, **kwargs)
    except workers.WorkerLost:
        return await _room_handle(room_pk).call(op, **kwargs)


async def _from_copy(state: RoomState, op: str, cache: OrderedDict[Any, str], key: Any,
                     kept: int, **kwargs: Any) -> str:
    """``op`` (``room.snapshot``, ``room.logs``) on this process's copy of the room, asked
    again while the copy moves to the moment in slices; its text is kept in ``cache`` (the
    oldest of more than ``kept`` go). A room whose copy outgrew its budget or memory is
    remembered for its epoch (``_failed``): not tried again until its history changes."""
    try:
        text = await room_call(room_pk=state.room_pk, op=op, state=state, **kwargs)
        while not isinstance(text, str):  # the copy moves to the moment in slices
            text = await room_call(room_pk=state.room_pk, op=op, state=state, first=False,
                                   **kwargs)
    except workers.WorkerError as exc:
        if exc.code in workers.RUNAWAY:
            _failed[state.room_pk] = (state.epoch, exc)
        raise
    cache[key] = text
    while len(cache) > kept:
        cache.popitem(last=False)
    return text


async def _build(state: RoomState, lang: str, key: tuple[int, int, int, str]) -> str:
    return await _from_copy(state, "room.snapshot", _texts, key, _TEXTS_KEPT, lang=lang)


async def snapshot_text(*, state: RoomState, lang: str) -> str:
    """The room's moment as a ``classroom.snapshot`` in ``lang``, built in a worker (under
    the message budget) and kept per process; sockets asking for the same moment at once
    share one build. Raises :class:`WorkerError` when the build fails."""
    if not state.active:
        return dumps({"type": "classroom.snapshot", "seq": state.seq, "empty": True,
                      "playing": False, "speed": speed_out(state.speed)})
    key = (state.room_pk, state.epoch, state.seq, lang)
    text = _texts.get(key)
    if text is not None:
        return text
    failed = _failed.get(state.room_pk)
    if failed is not None and failed[0] == state.epoch:
        raise workers.WorkerError(failed[1].code, failed[1].detail)
    loop = asyncio.get_running_loop()
    building = _building.get(key)
    if building is None or building.get_loop() is not loop:
        building = _building[key] = asyncio.ensure_future(_build(state, lang, key))
        building.add_done_callback(lambda done: _built(key, done))
    return await asyncio.shield(building)


def _built(key: tuple[int, int, int, str], done: asyncio.Future[str]) -> None:
    if _building.get(key) is done:
        del _building[key]
    if not done.cancelled():
        done.exception()  # retrieved: every socket that waited has its own copy


#: log pages kept (``classroom.logs``): students at the same moment ask for the same pages
_PAGES_KEPT = 32
_pages: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_paging: dict[tuple[Any, ...], asyncio.Future[str]] = {}


async def logs_text(*, state: RoomState, container: str, previous: bool, offset: int,
                    limit: int) -> str:
    """A ``classroom.logs`` page of the room's moment that the database holds, from this
    process's copy of the room (in a worker, under the message budget, moved to the moment
    in slices, as snapshots are);
    sockets asking for the same page at once share one request. Raises
    :class:`WorkerError` when the copy cannot be built (``no_simulation`` before any apply)."""
    if not state.active:
        raise workers.WorkerError("no_simulation")
    key = (state.room_pk, state.epoch, state.seq, container, previous, offset, limit)
    text = _pages.get(key)
    if text is not None:
        _pages.move_to_end(key)
        return text
    failed = _failed.get(state.room_pk)
    if failed is not None and failed[0] == state.epoch:
        raise workers.WorkerError(failed[1].code, failed[1].detail)
    loop = asyncio.get_running_loop()
    paging = _paging.get(key)
    if paging is None or paging.get_loop() is not loop:
        paging = _paging[key] = asyncio.ensure_future(_page(state, key, {
            "container": container, "previous": previous, "offset": offset, "limit": limit}))

        def paged(done: asyncio.Future[str]) -> None:
            if _paging.get(key) is done:
                del _paging[key]
            if not done.cancelled():
                done.exception()

        paging.add_done_callback(paged)
    return await asyncio.shield(paging)


async def _page(state: RoomState, key: tuple[Any, ...], request: dict[str, Any]) -> str:
    return await _from_copy(state, "room.logs", _pages, key, _PAGES_KEPT, **request)


def forget(*, room_pk: int) -> None:
    """Drop this process's copy of the room (the next snapshot is rebuilt from the log)."""
    handle = _handles.pop(room_pk, None)
    if handle is not None:
        handle.close()
    _failed.pop(room_pk, None)
    for key in [k for k in _texts if k[0] == room_pk]:
        del _texts[key]
    for page in [k for k in _pages if k[0] == room_pk]:
        del _pages[page]


# --- the driver: the instructor's connection ----------------------------------------------

class RoomSim:
    """The instructor's simulation, with its own cursors so one tick frames every language."""

    def __init__(self, lab: LabSession) -> None:
        self.lab = lab
        #: a load still on its way (in slices) to the room's moment
        self.loading = False
        self.mark()

    def mark(self) -> None:
        self._transitions = len(self.lab.sim.transitions)
        self._records = len(self.lab.sim.records)

    def changed(self) -> bool:
        return len(self.lab.sim.records) != self._records

    def frames(self, *, state: RoomState, full: bool = True) -> dict[str, dict[str, Any]]:
        """One ``classroom.frame`` per language with what happened since the last call;
        ``full=False`` (a tick in which only the clock moved) leaves out pods and views."""
        lab = self.lab
        raw = [t.to_dict() for t in lab.sim.transitions[self._transitions:]]
        events = [r.object for r in lab.sim.records[self._records:] if r.kind == "Event"]
        # The same narration as the lab's, collected once and worded in each language.
        lab.narrator.actions = lab.actions
        told = lab.narrator.collect()
        self.mark()
        common = {"type": "classroom.frame", "seq": state.seq, "t": lab.t,
                  "playing": state.playing, "speed": speed_out(state.speed),
                  "next_t": lab.next_t(), "events": events, "probes": lab.probes(),
                  "actions": list(lab.actions), "transitions": raw}
        if full:
            common["pods"] = lab.sim.pods()
            common["views"] = lab.views()
        return {lang: {**common, "narration": render_narration(told, lang=lang)}
                for lang in LANGS}

    def snapshots(self, *, state: RoomState) -> dict[str, dict[str, Any]]:
        out = {lang: snapshot_message(state=state, lab=self.lab, lang=lang) for lang in LANGS}
        self.mark()
        return out
