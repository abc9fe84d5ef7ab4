"""The room's operations as a worker runs them (podlab/classroom/runner.py), called here in
the test process on a dict of labs, as ``podlab.lab.workers._serve`` calls them."""

from __future__ import annotations

import json
import math

import pytest

from podlab.classroom import runner
from podlab.classroom.sim import RoomSim, RoomState, build_lab
from podlab.lab.workers import WorkerError, worker_ops

from .helpers import CRASHER, SLEEPER


def state_of(manifest=SLEEPER, **changes) -> RoomState:
    values = {"room_pk": 1, "manifest": manifest, "seed": 0, "actions": [], "t": 0.0,
              "playing": False, "speed": 1.0, "seq": 1, "epoch": 1}
    values.update(changes)
    return RoomState(**values)


def test_the_workers_run_the_lab_and_the_room_operations_under_distinct_names():
    ops = worker_ops()
    assert set(runner.OPS) <= set(ops) and all(name.startswith("room.") for name in runner.OPS)
    assert {"start", "tick", "drop"} <= set(ops)  # the lab's, beside them


def test_apply_keeps_the_old_room_when_the_manifest_is_refused():
    labs: dict = {}
    applied = runner.apply(labs, 7, manifest=SLEEPER, seed=0, lang="en")
    assert applied["validation"]["ok"] and applied["room"]["t"] == 0
    room = labs[7]
    refused = runner.apply(labs, 7, manifest="kind: Pod\n", seed=0, lang="zh-hans")
    assert refused["room"] is None and not refused["validation"]["ok"]
    assert labs[7] is room


def test_publish_frames_every_language_at_the_next_seq():
    labs: dict = {}
    runner.apply(labs, 1, manifest=CRASHER, seed=0, lang="en")
    while runner.step(labs, 1)["t"] == 0:
        pass
    answer = runner.publish(labs, 1, state=state_of(CRASHER, seq=5), snapshot=False)
    frames = {lang: json.loads(text) for lang, text in answer["texts"].items()}
    assert set(frames) == {"en", "zh-hans"}
    assert {f["seq"] for f in frames.values()} == {5}
    assert frames["en"]["t"] == answer["room"]["t"] > 0
    assert frames["en"]["transitions"] == frames["zh-hans"]["transitions"] != []
    # What was framed is not framed again.
    again = json.loads(runner.publish(labs, 1, state=state_of(CRASHER, seq=6),
                                      snapshot=False)["texts"]["en"])
    assert again["transitions"] == []


def test_a_tick_sends_frames_only_when_there_is_something_to_show():
    labs: dict = {}
    runner.apply(labs, 1, manifest=SLEEPER, seed=0, lang="en")
    playing = state_of(playing=True, speed=60.0)
    first = runner.tick(labs, 1, state=playing, elapsed=0.5, limit=None, due_views=False)
    assert first["playing"] and first["texts"] is not None  # the Pod started: news
    quiet = runner.tick(labs, 1, state=state_of(playing=True, speed=60.0), elapsed=0.5,
                        limit=None, due_views=False)
    assert quiet["texts"] is None and quiet["room"]["t"] == pytest.approx(60)
    due = runner.tick(labs, 1, state=state_of(playing=True, speed=60.0), elapsed=0.5,
                      limit=None, due_views=True)
    assert "views" not in json.loads(due["texts"]["en"])  # only the clock moved


def test_a_tick_stops_at_a_predict_questions_target_time():
    labs: dict = {}
    runner.apply(labs, 1, manifest=SLEEPER, seed=0, lang="en")
    answer = runner.tick(labs, 1, state=state_of(playing=True, speed=math.inf), elapsed=0.1,
                         limit=0.0, due_views=False)
    assert not answer["playing"] and answer["room"]["t"] == 0
    assert json.loads(answer["texts"]["en"])["playing"] is False


def test_acting_in_the_past_starts_a_new_history_and_a_refused_action_changes_nothing():
    labs: dict = {}
    runner.apply(labs, 1, manifest=SLEEPER, seed=0, lang="en")
    runner.seek(labs, 1, t=10)
    runner.act(labs, 1, action={"action": "delete", "pod": "sleeper"}, state=state_of(),
               lang="en")
    runner.seek(labs, 1, t=5)
    room = labs[1]
    with pytest.raises(WorkerError) as refused:
        runner.act(labs, 1, action={"action": "delete", "pod": "nope"}, state=state_of(),
                   lang="en")
    assert refused.value.code == "rejected" and labs[1] is room
    assert [(a["action"], a["t"]) for a in room.lab.actions] == [("delete", 10.0)]
    answer = runner.act(labs, 1, action={"action": "kill", "pod": "sleeper",
                                         "container": "main", "signal": "KILL"},
                        state=state_of(), lang="en")
    assert answer["rewritten"] and [a["action"] for a in answer["room"]["actions"]] == ["kill"]
    assert isinstance(labs[1], RoomSim) and answer["room"]["t"] == 5
    # Nothing was replayed for it: the room is what a replay of the kept log makes, now and
    # later (the dropped delete at t = 10 never happens).
    replay = build_lab(manifest=SLEEPER, seed=0, actions=answer["room"]["actions"], t=5)
    for lab in (labs[1].lab, replay):
        lab.advance_to(40)
    assert labs[1].lab.sim.pods() == replay.sim.pods()
    assert labs[1].lab.logs() == replay.logs()
    assert ([r.object for r in labs[1].lab.sim.records]
            == [r.object for r in replay.sim.records])
    assert labs[1].lab.watch_lines == replay.watch_lines


def test_moves_need_a_room():
    with pytest.raises(WorkerError) as caught:
        runner.step({}, 1)
    assert caught.value.code == "no_simulation"


def test_a_snapshot_copy_follows_the_room_and_is_rebuilt_when_its_history_changes():
    labs: dict = {}
    first = json.loads(runner.snapshot(labs, 3, state=state_of(CRASHER, t=5.0), lang="en"))
    copy = labs[3]
    later = json.loads(runner.snapshot(labs, 3, state=state_of(CRASHER, t=20.0, seq=2),
                                       lang="zh-hans"))
    assert labs[3] is copy and (first["t"], later["t"]) == (5.0, 20.0)
    assert later["seq"] == 2
    back = json.loads(runner.snapshot(labs, 3, state=state_of(CRASHER, t=5.0, epoch=2),
                                      lang="en"))
    assert labs[3] is not copy and back["t"] == 5.0
    assert back["views"] == first["views"]  # deterministic: the same moment, rebuilt


def test_a_predict_for_a_pod_the_room_does_not_have_is_refused():
    with pytest.raises(WorkerError) as caught:
        runner.predict({}, 1, manifest=SLEEPER, seed=0, actions=[], t=0.0, pod="nope",
                       seconds=10.0)
    assert caught.value.code == "no_pod"


def test_every_message_fits_in_a_frame():
    """Daphne refuses frames over 1 MiB: a room minutes into a flood of logs is sent with
    the logs' tails, as a lab is."""
    from podlab.lab.runner import MAX_FRAME_BYTES
    from tests.hostile.attacks import LOG_FLOOD

    labs: dict = {}
    state = state_of(LOG_FLOOD, t=300.0)
    copy = runner.snapshot(labs, 1, state=state, lang="zh-hans")
    runner.apply(labs, 2, manifest=LOG_FLOOD, seed=0, lang="en")
    runner.seek(labs, 2, t=300)
    texts = [copy, *runner.publish(labs, 2, state=state, snapshot=True)["texts"].values(),
             runner.own_snapshot(labs, 2, state=state, lang="en")]
    runner.advance(labs, 2, t=330)
    texts += runner.publish(labs, 2, state=state, snapshot=False)["texts"].values()
    for text in texts:
        assert len(text.encode()) <= MAX_FRAME_BYTES
    assert all("logs_truncated" in json.loads(text) for text in texts)
    assert json.loads(copy)["t"] == 300
