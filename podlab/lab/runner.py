"""What a worker process does for a lab (:mod:`podlab.lab.workers` runs these).

Each operation takes the worker's labs (``{lab id: LabSession}``), the lab's id and plain
keyword arguments, and returns plain data: messages come back already encoded as JSON text
without ``seq``, ``playing`` and ``speed`` (the consumer adds those), and never larger than
``MAX_FRAME_BYTES`` (logs become tails the page can page through with ``lab.logs``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from . import services, workers
from .dismantle import dismantle
from .services import LabError, LabSession
from .workers import WorkerError

#: Daphne (autobahn) refuses frames over 1 MiB, in both directions; the consumer adds a few
#: bytes (seq, playing, speed) to what comes from here.
MAX_FRAME_BYTES = 1024 * 1024 - 4096
#: what a frame that would be too large keeps of each log (the rest: ``lab.logs``)
LOG_TAIL_CHARS = 32 * 1024
#: ``lab.logs`` pages
MAX_LOG_PAGE_CHARS = 256 * 1024
WATCH_TAIL_LINES = 400
HISTORY_TAIL = 300
#: the lists a cut history keeps the tails of
HISTORY_KEYS = ("transitions", "events", "narration")
#: at most this much of the time a tick waited for its worker is played with it (seconds)
MAX_WAIT_PLAYED = 1.0

Labs = dict[int, LabSession]


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def _log_chars(message: dict[str, Any]) -> int:
    views = message.get("views") or {}
    texts = [*(views.get("logs") or {}).values(), *(views.get("logs_previous") or {}).values(),
             *(message.get("logs_append") or {}).values()]
    return sum(len(text) for text in texts)


def _cut_logs(message: dict[str, Any]) -> None:
    """Logs to their tails (``logs_truncated``: each cut log's full length); appended text
    that does not fit becomes the tails of those logs in ``views``."""
    views = dict(message.get("views") or {})
    appended = message.pop("logs_append", None)
    if appended:
        views.setdefault("logs", {}).update(appended)
    truncated: dict[str, int] = {}
    for part in ("logs", "logs_previous"):
        if part not in views:
            continue
        logs = dict(views[part])
        for key, value in logs.items():
            if len(value) > LOG_TAIL_CHARS:
                truncated[f"{part}:{key}"] = len(value)
                logs[key] = value[-LOG_TAIL_CHARS:]
        views[part] = logs
    if truncated:
        message["logs_truncated"] = truncated
    message["views"] = views


def fit(message: dict[str, Any]) -> str:
    """``message`` as JSON text under ``MAX_FRAME_BYTES``: as it is if it fits; else with
    logs cut to their tails (long logs are cut before anything is encoded: a log can be far
    larger than a frame); then with the watch lines and history cut too; at last without
    views (``views_omitted``)."""
    if _log_chars(message) > MAX_FRAME_BYTES // 2:
        _cut_logs(message)
    text = encode(message)
    if len(text) <= MAX_FRAME_BYTES:  # ASCII (json escapes the rest): chars are bytes
        return text
    _cut_logs(message)
    views = message["views"]
    if isinstance(views.get("watch"), list) and len(views["watch"]) > WATCH_TAIL_LINES:
        message["watch_truncated"] = len(views["watch"])
        views["watch"] = views["watch"][-WATCH_TAIL_LINES:]
    _cut_history(message, HISTORY_TAIL)
    text = encode(message)
    if len(text) <= MAX_FRAME_BYTES:
        return text
    message.pop("views", None)
    message["views_omitted"] = True
    text = encode(message)
    # Entries can be long (an event quoting a 60,000-character image name): fewer, then.
    tail = HISTORY_TAIL
    while len(text) > MAX_FRAME_BYTES and tail > 0:
        tail //= 2
        _cut_history(message, tail)
        text = encode(message)
    if len(text) <= MAX_FRAME_BYTES:
        return text
    raise WorkerError("frame_too_large", {"limit": MAX_FRAME_BYTES})


def _cut_history(message: dict[str, Any], tail: int) -> None:
    """The last ``tail`` transitions, events and narration entries, in the history and in
    the frame's own lists (``history_truncated``)."""
    lists = [message, *([message["history"]] if isinstance(message.get("history"), dict)
                        else [])]
    for holder in lists:
        for key in HISTORY_KEYS:
            if len(holder.get(key) or []) > tail:
                holder[key] = holder[key][-tail:] if tail else []
                message["history_truncated"] = True


def operation(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Lab refusals become worker errors with the same code and detail."""

    @wraps(fn)
    def run(labs: Labs, lab_id: int, **kwargs: Any) -> Any:
        try:
            return fn(labs, lab_id, **kwargs)
        except LabError as exc:
            raise WorkerError(exc.code, exc.detail) from None

    return run


def _lab(labs: Labs, lab_id: int) -> LabSession:
    lab = labs.get(lab_id)
    if lab is None:
        raise WorkerError("no_simulation")
    return lab


def _state(lab: LabSession) -> dict[str, Any]:
    return {"t": lab.t, "until": lab.until, "next_t": lab.next_t()}


def advance_slice(lab: LabSession, target: float, *, budget: float) -> dict[str, Any] | None:
    """One slice of a long move toward ``target``: at most ``SLICE_SHARE`` of ``budget`` in
    CPU, stopping between two moments of the simulation. None when ``target`` is reached,
    else how far it got (``t``, ``target``, ``from``: where the move started). A slice that
    used up its CPU but advanced the simulation by less than
    ``MIN_SIM_SECONDS_PER_CPU_SECOND`` per CPU second, or a move whose slices together
    spent more than ``SEEK_CPU_SECONDS``, is a runaway: ``budget_exceeded`` (the caller drops
    the lab)."""
    started, at = time.process_time(), lab.t
    done = lab.advance_slice(target, budget * workers.SLICE_SHARE)
    spent = time.process_time() - started
    lab.seek_cpu += spent
    if done:
        return None
    advanced = lab.t - at
    if (advanced < workers.MIN_SIM_SECONDS_PER_CPU_SECOND * spent
            or lab.seek_cpu > workers.SEEK_CPU_SECONDS):
        raise WorkerError("budget_exceeded", {
            "seconds": budget, "sliced": True, "t": lab.t,
            "simulated_seconds": round(advanced, 3), "cpu_seconds": round(spent, 3),
            "min_rate": workers.MIN_SIM_SECONDS_PER_CPU_SECOND,
            "seek_cpu_seconds": workers.SEEK_CPU_SECONDS})
    return {"t": lab.t, "target": target, "from": lab.seek_from}


def run_slice(labs: dict[int, Any], lab_id: int, lab: LabSession, target: float, *,
              budget: float) -> dict[str, Any] | None:
    """:func:`advance_slice`, dropping the lab of a runaway (its worker keeps nothing of it)."""
    try:
        return advance_slice(lab, target, budget=budget)
    except WorkerError as exc:
        if exc.code == "budget_exceeded":
            labs.pop(lab_id, None)
        raise


@operation
def drop(labs: Labs, lab_id: int) -> None:
    """Forget the lab and give its memory back now (:mod:`podlab.lab.dismantle`)."""
    lab = labs.pop(lab_id, None)
    if lab is not None:
        dismantle(lab)


@operation
def validate(labs: Labs, lab_id: int, *, manifest: str, lang: str) -> str:
    _, validation = services.validate_manifest(manifest_text=manifest, lang=lang)
    return fit(validation)


@operation
def start(labs: Labs, lab_id: int, *, manifest: str, seed: int, lang: str,
          actions: list[dict[str, Any]] | None = None, t: float = 0.0) -> dict[str, Any]:
    """``lab.apply`` / ``lab.restore``: the validation and, if valid, the snapshot."""
    labs.pop(lab_id, None)
    lab, validation = services.lab_start(manifest_text=manifest, seed=seed, lang=lang)
    if lab is None:
        return {"validation": fit(validation), "snapshot": None}
    if actions:
        lab.actions = actions
    labs[lab_id] = lab
    if t:
        # a restore at a stored moment: the first slice here, the rest with ``seek``
        lab.seek_from, lab.seek_cpu = 0.0, 0.0
        progress = run_slice(labs, lab_id, lab, lab.seek_target(t),
                          budget=workers.MESSAGE_BUDGET_SECONDS)
        if progress is not None:
            return {"validation": fit(validation), "snapshot": None, "progress": progress,
                    "refused": lab.take_refused_actions()}
    return {"validation": fit(validation),
            "snapshot": fit({"type": "lab.snapshot", **lab.snapshot(lang=lang)}),
            "refused": lab.take_refused_actions()}


@operation
def snapshot(labs: Labs, lab_id: int, *, lang: str) -> str:
    return fit({"type": "lab.snapshot", **_lab(labs, lab_id).snapshot(lang=lang)})


@operation
def frame(labs: Labs, lab_id: int, *, lang: str, full: bool = True, views: bool = False,
          aged: str | None = None) -> str:
    lab = _lab(labs, lab_id)
    return fit({"type": "lab.frame", **lab.frame(lang=lang, full=full, views=views, aged=aged)})


@operation
def state(labs: Labs, lab_id: int) -> dict[str, Any]:
    return _state(_lab(labs, lab_id))


@operation
def play(labs: Labs, lab_id: int) -> dict[str, Any]:
    """``lab.play``: whether the clock can run (``LabSession.play_on``), with the state."""
    lab = _lab(labs, lab_id)
    return {**_state(lab), "can_play": lab.play_on()}


@operation
def step(labs: Labs, lab_id: int, *, lang: str) -> str:
    lab = _lab(labs, lab_id)
    lab.step()
    return fit({"type": "lab.frame", **lab.frame(lang=lang)})


@operation
def seek(labs: Labs, lab_id: int, *, t: float, lang: str, first: bool = True) -> dict[str, Any]:
    """One slice of ``lab.seek`` (``first``: the seek begins; else it goes on): the
    snapshot (``body``) once at ``t``, else how far it got (``progress``)."""
    lab = _lab(labs, lab_id)
    target = lab.seek_target(t)
    if first:
        lab.seek_from, lab.seek_cpu = lab.t, 0.0
    progress = run_slice(labs, lab_id, lab, target, budget=workers.MESSAGE_BUDGET_SECONDS)
    if progress is not None:
        return {"progress": progress, "body": None, "refused": lab.take_refused_actions()}
    return {"progress": None, "body": fit({"type": "lab.snapshot", **lab.snapshot(lang=lang)}),
            "refused": lab.take_refused_actions()}


@operation
def act(labs: Labs, lab_id: int, *, action: dict[str, Any], lang: str) -> str:
    lab = _lab(labs, lab_id)
    try:
        recorded = lab.act(action)
    except LabError as exc:
        if exc.code == "rejected" and action.get("action") == "apply":
            # The API server's refusal as the learner reads it: each problem in the page's
            # language, on its line of the manifest (kubectl's text stays in ``kubectl``).
            _, validation = services.validate_manifest(manifest_text=action["manifest"],
                                                       lang=lang)
            if validation["problems"]:
                exc.detail["problems"] = validation["problems"]
        raise
    return fit({"type": "lab.frame", **lab.frame(lang=lang), "action": recorded,
                "actions": list(lab.actions)})


#: CPU a tick gives the look ahead of ``settled`` at least, whatever its move took
MIN_LOOK_AHEAD_CPU = 0.02


def _look_ahead_cpu(started: float) -> float:
    """What is left of a tick's slice after its move (begun at ``started``, CPU time) for
    the look ahead of ``LabSession.settled``: it replays the lab from t = 0, so it runs in
    slices across ticks rather than in one request."""
    used = time.process_time() - started
    return max(MIN_LOOK_AHEAD_CPU,
               workers.TICK_BUDGET_SECONDS * workers.SLICE_SHARE - used)


@operation
def tick(labs: Labs, lab_id: int, *, elapsed: float, speed: float, lang: str, view: str,
         due_views: bool, due_heartbeat: bool, due_probes: bool,
         at: float | None = None) -> dict[str, Any]:
    """One tick of the clock: advance, then the frame to send, if any (``kind``: ``full``,
    ``aged``, ``light`` or None), and whether the lab plays on.

    ``at`` is the server's ``time.monotonic()`` when it measured ``elapsed`` (the same clock
    here: one machine): the time the request waited for this worker is played too, so the
    frame shows the moment it is made, not the moment it was asked for. The answer's ``at``
    is that moment; the server's next ``elapsed`` counts from it."""
    lab = _lab(labs, lab_id)
    now = time.monotonic()
    if at is not None:
        elapsed += min(max(0.0, now - at), MAX_WAIT_PLAYED)
    started = time.process_time()
    if math.isinf(speed):
        more = lab.step() and not lab.settled(cpu_seconds=_look_ahead_cpu(started))
    else:
        # A tick that fell behind (a busy machine, a high speed) runs one slice: the clock
        # plays slower than asked rather than the lab being dropped; a runaway still is.
        lab.seek_from, lab.seek_cpu = lab.t, 0.0
        run_slice(labs, lab_id, lab, lab.t + elapsed * speed, budget=workers.TICK_BUDGET_SECONDS)
        # Whether the lab has settled is asked when the page is due its probe meters (once
        # a second; every tick while news flows, a quiet lab answers that at once): a quiet
        # lab's check builds and compares every log, the largest part of a tick's cost. A
        # look ahead under way goes on at every tick, in what is left of the tick's slice.
        more = lab.t < lab.until and not (
            (due_probes or lab.has_news() or lab.looking_ahead())
            and lab.settled(cpu_seconds=_look_ahead_cpu(started)))
    playing = more and lab.t < lab.until
    kind: str | None = None
    body: dict[str, Any] | None = None
    if lab.has_news() or not playing:
        kind, body = "full", lab.frame(lang=lang, full=True)
    elif due_views and view in services.AGED_VIEWS:
        kind, body = "aged", lab.frame(lang=lang, full=False, aged=view)
    elif due_heartbeat or (due_probes and (lab.probes_changed() or lab.logs_pending())):
        kind, body = "light", lab.frame(lang=lang, full=False)
    return {"playing": playing, "kind": kind, "at": now,
            "refused": lab.take_refused_actions(),
            "body": fit({"type": "lab.frame", **body}) if body is not None else None}


@operation
def logs(labs: Labs, lab_id: int, *, container: str, previous: bool, offset: int,
         limit: int) -> str:
    """``lab.logs``: a page of one container's log (``offset`` from the start; negative:
    from the end)."""
    return encode_log_page({"type": "lab.logs", **log_page(
        _lab(labs, lab_id), container=container, previous=previous, offset=offset,
        limit=limit)})


def encode_log_page(message: dict[str, Any]) -> str:
    """A log page as JSON text under ``MAX_FRAME_BYTES``: text that JSON escapes (anything
    not ASCII takes up to 6 bytes a character) loses its first characters until it fits, so
    the page still ends where it was asked to (it joins the text the page holds)."""
    text = encode(message)
    while len(text) > MAX_FRAME_BYTES:
        page = message["text"]
        cut = max(1, len(page) * (len(text) - MAX_FRAME_BYTES) // len(text) + 1)
        message["text"] = page[cut:]
        message["offset"] += cut
        text = encode(message)
    return text


def log_page(lab: LabSession, *, container: str, previous: bool, offset: int,
             limit: int) -> dict[str, Any]:
    """A page of one container's log, at most ``MAX_LOG_PAGE_CHARS`` (the classroom's
    ``classroom.logs`` too)."""
    texts = lab.logs()["logs_previous" if previous else "logs"]
    if container not in texts:
        raise WorkerError("bad_field", {"field": "container"})
    text = texts[container]
    limit = max(1, min(limit, MAX_LOG_PAGE_CHARS))
    start = max(0, len(text) + offset) if offset < 0 else min(offset, len(text))
    return {"container": container, "previous": previous, "offset": start,
            "total": len(text), "text": text[start:start + limit]}


OPS: dict[str, Callable[..., Any]] = {
    "drop": drop, "validate": validate, "start": start, "snapshot": snapshot,
    "frame": frame, "state": state, "play": play, "step": step, "seek": seek, "act": act,
    "tick": tick, "logs": logs,
}
