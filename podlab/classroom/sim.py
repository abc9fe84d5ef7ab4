"""The room's simulation, rebuilt anywhere from the database and framed once per language.

The instructor's connection drives a ``RoomSim``; every change is saved to the ``Room`` row
(``save_state``) before it is broadcast, so any process can rebuild the same moment with
``snapshot_text``: the engine is deterministic, so (manifest, seed, actions, t) is the
moment. Student connections share one cached simulation per room and process.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from podlab.lab.narration import render_all as render_narration
from podlab.lab.services import LabError, LabSession, lab_start

from .models import Room

LANGS = ("en", "zh-hans")
CPU_BUDGET_SECONDS = 1.0


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
    # The room's simulation runs in the server process: each move has a CPU budget, so a
    # runaway manifest is stopped ("budget_exceeded") instead of freezing every socket.
    lab.cpu_budget = CPU_BUDGET_SECONDS
    lab.seek(t)
    return lab


# --- every process: snapshots for late joiners and resyncs --------------------------------

@dataclass
class _Cached:
    epoch: int
    lab: LabSession
    texts: OrderedDict[tuple[int, str], str] = field(default_factory=OrderedDict)


_CACHE: dict[int, _Cached] = {}
_CACHE_ROOMS = 64


def snapshot_message(*, state: RoomState, lab: LabSession, lang: str) -> dict[str, Any]:
    return {"type": "classroom.snapshot", "seq": state.seq, "playing": state.playing,
            "speed": speed_out(state.speed), "manifest": state.manifest,
            **lab.snapshot(lang=lang)}


def snapshot_text(*, state: RoomState, lang: str) -> str:
    """The room's moment as a ``classroom.snapshot`` in ``lang``, cached per process."""
    if not state.active:
        return dumps({"type": "classroom.snapshot", "seq": state.seq, "empty": True,
                      "playing": False, "speed": speed_out(state.speed)})
    cached = _CACHE.get(state.room_pk)
    if (cached is None or cached.epoch != state.epoch or cached.lab.t > state.t
            or len(cached.lab.actions) > len(state.actions)):
        cached = _Cached(epoch=state.epoch, lab=build_lab(
            manifest=state.manifest, seed=state.seed, actions=state.actions, t=state.t))
        _CACHE[state.room_pk] = cached
        while len(_CACHE) > _CACHE_ROOMS:
            _CACHE.pop(next(iter(_CACHE)))
    key = (state.seq, lang)
    text = cached.texts.get(key)
    if text is None:
        cached.lab.actions = [dict(a) for a in state.actions]
        cached.lab.advance_to(state.t)
        text = dumps(snapshot_message(state=state, lab=cached.lab, lang=lang))
        cached.texts[key] = text
        while len(cached.texts) > 8:
            cached.texts.popitem(last=False)
    return text


def forget(*, room_pk: int) -> None:
    _CACHE.pop(room_pk, None)


# --- the driver: the instructor's connection ----------------------------------------------

class RoomSim:
    """The instructor's simulation, with its own cursors so one tick frames every language."""

    def __init__(self, lab: LabSession) -> None:
        self.lab = lab
        lab.cpu_budget = CPU_BUDGET_SECONDS
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
