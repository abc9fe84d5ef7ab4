"""What a worker process does for a classroom room (:mod:`podlab.lab.workers` runs these,
beside the lab's own operations in :mod:`podlab.lab.runner`).

A handle holds one of two things in its worker: the instructor console's ``RoomSim`` (it
drives the room: apply, moves, ticks, frames for every language) or a process's copy of the
room that snapshots for students are built from (``room.snapshot``). Each operation takes
the worker's labs, the handle's id and plain keyword arguments (a ``RoomState`` is a plain
dataclass) and returns plain data: the room's clock (``room``: t, until, next_t, actions),
and messages already encoded as JSON text, one per language, each under the transport's
frame limit as the lab's are (``podlab.lab.runner.fit``: long logs become tails, then the
watch lines and history are cut, at last the views left out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from podlab.lab import services as lab_services
from podlab.lab import workers
from podlab.lab.runner import encode_log_page, fit, log_page, operation, run_slice
from podlab.lab.services import LabSession
from podlab.lab.workers import WorkerError

from . import questions
from .sim import LANGS, RoomSim, RoomState, build_lab, snapshot_message


@dataclass
class _Copy:
    """A process's copy of a room, moved forward as the room goes and rebuilt when its
    history changes."""

    epoch: int
    lab: LabSession


def _sim(labs: dict[int, Any], lab_id: int) -> RoomSim:
    sim = labs.get(lab_id)
    if not isinstance(sim, RoomSim):
        raise WorkerError("no_simulation")
    return sim


def _clock(lab: LabSession) -> dict[str, Any]:
    """What the console keeps of the room's simulation to decide its moves."""
    return {"t": lab.t, "until": lab.until, "next_t": lab.next_t(),
            "actions": [dict(a) for a in lab.actions]}


def _texts(messages: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {lang: fit(messages[lang]) for lang in LANGS}


@operation
def validate(labs: dict[int, Any], lab_id: int, *, manifest: str, lang: str) -> dict[str, Any]:
    _, validation = lab_services.validate_manifest(manifest_text=manifest, lang=lang)
    return validation


@operation
def apply(labs: dict[int, Any], lab_id: int, *, manifest: str, seed: int,
          lang: str) -> dict[str, Any]:
    """``classroom.apply``: the validation and, if valid, the new room (the old one stays
    when the manifest is refused)."""
    lab, validation = lab_services.lab_start(manifest_text=manifest, seed=seed, lang=lang)
    if lab is None:
        return {"validation": validation, "room": None}
    labs[lab_id] = RoomSim(lab)
    return {"validation": validation, "room": _clock(lab)}


@operation
def load(labs: dict[int, Any], lab_id: int, *, state: RoomState, lang: str) -> dict[str, Any]:
    """The room rebuilt from what the database holds (a console connecting or taking over):
    the first slice of the way to its moment; ``progress`` says how far it got when more
    slices are needed (``room.seek`` with ``first=False`` goes on)."""
    labs.pop(lab_id, None)
    lab = build_lab(manifest=state.manifest, seed=state.seed, actions=state.actions, t=0.0,
                    lang=lang)
    sim = labs[lab_id] = RoomSim(lab)
    lab.seek_from, lab.seek_cpu = 0.0, 0.0
    progress = run_slice(labs, lab_id, lab, lab.seek_target(state.t),
                         budget=workers.MESSAGE_BUDGET_SECONDS)
    sim.mark()
    sim.loading = progress is not None
    return {**_clock(lab), "progress": progress}


@operation
def clock(labs: dict[int, Any], lab_id: int) -> dict[str, Any]:
    """The room's clock as it stands (after an interrupted seek: the moment it reached)."""
    return _clock(_sim(labs, lab_id).lab)


@operation
def step(labs: dict[int, Any], lab_id: int) -> dict[str, Any]:
    lab = _sim(labs, lab_id).lab
    lab.step()
    return _clock(lab)


@operation
def advance(labs: dict[int, Any], lab_id: int, *, t: float) -> dict[str, Any]:
    lab = _sim(labs, lab_id).lab
    lab.advance_to(t)
    return _clock(lab)


@operation
def seek(labs: dict[int, Any], lab_id: int, *, t: float, first: bool = True) -> dict[str, Any]:
    """One slice of a seek (``first``: it begins; else it goes on): the room's clock, and
    ``progress`` (how far it got) until it is at ``t``."""
    sim = _sim(labs, lab_id)
    lab = sim.lab
    target = lab.seek_target(t)
    if first:
        lab.seek_from, lab.seek_cpu = lab.t, 0.0
    progress = run_slice(labs, lab_id, lab, target, budget=workers.MESSAGE_BUDGET_SECONDS)
    if progress is None and sim.loading:
        sim.loading = False
        sim.mark()  # a load that took slices: its frames start at the moment it reached
    return {**_clock(lab), "progress": progress}


@operation
def act(labs: dict[int, Any], lab_id: int, *, action: dict[str, Any], state: RoomState,
        lang: str) -> dict[str, Any]:
    """``classroom.action``; acting after a seek backwards starts a new history from this
    moment (``rewritten``): the later actions are dropped. Nothing is replayed for it: the
    room's simulation at this moment is already what the kept actions make (the later ones
    have not happened in it), whatever the moment. A refused action leaves the room as it
    was (the later actions too)."""
    sim = _sim(labs, lab_id)
    lab = sim.lab
    kept = [a for a in lab.actions if a["t"] <= lab.t]
    rewritten = len(kept) < len(lab.actions)
    dropped = lab.actions[len(kept):]
    if rewritten:
        lab.actions = kept
        lab.advance_to(lab.t)  # a kept action of this very moment not yet performed: now
    try:
        lab.act(action)
    except lab_services.LabError:
        if rewritten:
            lab.actions = [*kept, *dropped]
        raise
    return {"room": _clock(lab), "rewritten": rewritten}


@operation
def publish(labs: dict[int, Any], lab_id: int, *, state: RoomState, snapshot: bool,
            full: bool = True) -> dict[str, Any]:
    """The room's messages for every language at ``state.seq``: snapshots, or frames of
    what happened since the last ones (``full=False``: without pods and views)."""
    sim = _sim(labs, lab_id)
    state.t = sim.lab.t
    state.actions = [dict(a) for a in sim.lab.actions]
    messages = sim.snapshots(state=state) if snapshot else sim.frames(state=state, full=full)
    return {"room": _clock(sim.lab), "texts": _texts(messages)}


@operation
def tick(labs: dict[int, Any], lab_id: int, *, state: RoomState, elapsed: float,
         limit: float | None, due_views: bool) -> dict[str, Any]:
    """One tick of the room's clock at ``state.speed`` (up to ``limit``, a predict
    question's target time), then its frames (``texts``) when there is something to show:
    a change, the clock stopping, or views due for their AGE columns."""
    sim = _sim(labs, lab_id)
    lab = sim.lab
    stop = math.inf if limit is None else limit
    if math.isinf(state.speed):
        upcoming = lab.next_t()
        if upcoming is not None and upcoming > stop:
            lab.advance_to(stop)
            more = False
        else:
            more = lab.step()
    else:
        lab.advance_to(min(lab.t + elapsed * state.speed, stop))
        more = lab.t < lab.until
    playing = state.playing and more and lab.t < lab.until and lab.t < stop
    changed = sim.changed()
    texts = None
    if changed or not playing or due_views:
        state.playing = playing
        texts = publish(labs, lab_id, state=state, snapshot=False,
                        full=changed or not playing)["texts"]
    return {"room": _clock(lab), "playing": playing, "texts": texts}


@operation
def own_snapshot(labs: dict[int, Any], lab_id: int, *, state: RoomState, lang: str) -> str:
    """The console's own ``classroom.snapshot`` (a resync); later frames start after it."""
    sim = _sim(labs, lab_id)
    text = fit(snapshot_message(state=state, lab=sim.lab, lang=lang))
    sim.mark()
    return text


def _copy_slice(labs: dict[int, Any], lab_id: int, state: RoomState,
                first: bool) -> tuple[LabSession, dict[str, Any] | None]:
    """This handle's copy of the room, moved one slice toward the moment ``state`` holds
    (``first``: the move begins): the copy, and how far it got (None once there)."""
    copy = _copy(labs, lab_id, state)
    if first:
        copy.lab.seek_from, copy.lab.seek_cpu = copy.lab.t, 0.0
    progress = run_slice(labs, lab_id, copy.lab, state.t, budget=workers.MESSAGE_BUDGET_SECONDS)
    return copy.lab, progress


@operation
def snapshot(labs: dict[int, Any], lab_id: int, *, state: RoomState, lang: str,
             first: bool = True) -> str | dict[str, Any]:
    """A student's (or a late console's) ``classroom.snapshot`` of the moment the database
    holds, from this handle's copy of the room: moved forward when the room went on,
    rebuilt from the log when its history changed. Moving it forward runs in slices: until
    it is at the moment, the answer is how far it got (``progress``) and the caller asks
    again (``first=False``)."""
    lab, progress = _copy_slice(labs, lab_id, state, first)
    if progress is not None:
        return {"progress": progress}
    return fit(snapshot_message(state=state, lab=lab, lang=lang))


def _copy(labs: dict[int, Any], lab_id: int, state: RoomState) -> _Copy:
    """This handle's copy of the room for the moment ``state`` holds, rebuilt from the log
    when its history changed (see ``snapshot``); not yet moved forward."""
    copy = labs.get(lab_id)
    if (not isinstance(copy, _Copy) or copy.epoch != state.epoch or copy.lab.t > state.t
            or len(copy.lab.actions) > len(state.actions)):
        labs.pop(lab_id, None)
        copy = _Copy(epoch=state.epoch, lab=build_lab(
            manifest=state.manifest, seed=state.seed, actions=state.actions, t=0.0))
        labs[lab_id] = copy
    copy.lab.actions = [dict(a) for a in state.actions]
    return copy


@operation
def logs(labs: dict[int, Any], lab_id: int, *, state: RoomState | None, container: str,
         previous: bool, offset: int, limit: int, first: bool = True) -> str | dict[str, Any]:
    """``classroom.logs``: a page of one container's log, as the lab's ``lab.logs`` (at most
    ``MAX_LOG_PAGE_CHARS``), answered as ``classroom.logs`` with the room's ``seq``. From the
    console's own room when this handle drives it; else (``state``: the moment the database
    holds) from this handle's copy of the room, the one students' snapshots come from, moved
    to that moment in slices as for ``snapshot``: until it is there, the answer is how far it
    got (``progress``) and the caller asks again (``first=False``)."""
    held = labs.get(lab_id)
    if isinstance(held, RoomSim):
        lab = held.lab
    elif state is None or not state.active:
        raise WorkerError("no_simulation")
    else:
        lab, progress = _copy_slice(labs, lab_id, state, first)
        if progress is not None:
            return {"progress": progress}
    page = log_page(lab, container=container, previous=previous, offset=offset, limit=limit)
    return encode_log_page({"type": "classroom.logs", **page,
                   **({"seq": state.seq} if state is not None else {})})


@operation
def predict(labs: dict[int, Any], lab_id: int, **request: Any) -> dict[str, Any]:
    """A live predict question's answer and choices (``questions.predict_status``)."""
    try:
        return questions.predict_status(**request)
    except questions.QuestionError as exc:
        raise WorkerError(exc.code, exc.detail) from None


OPS = {f"room.{fn.__name__}": fn for fn in (
    validate, apply, load, clock, step, advance, seek, act, publish, tick, own_snapshot,
    snapshot, logs, predict)}
