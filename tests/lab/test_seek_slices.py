"""Long seeks run in slices (``lab.progress``), interruptible; runaways are still stopped."""

import time

import pytest
from channels.testing import WebsocketCommunicator

from podlab.asgi import application
from podlab.lab import runner, services, workers

from .manifests import COUNTING_LOOP, DATE_LOGGERS, QUIET_LOGGERS

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(lang="en"):
    communicator = WebsocketCommunicator(
        application, f"/ws/lab/?lang={lang}", headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "lab.hello"
    return communicator, hello


async def apply(communicator, manifest):
    await communicator.send_json_to({"type": "lab.apply", "manifest": manifest})
    validation = await communicator.receive_json_from(timeout=10)
    assert validation["type"] == "lab.validation" and validation["ok"], validation
    snapshot = await communicator.receive_json_from(timeout=10)
    assert snapshot["type"] == "lab.snapshot"
    return snapshot


async def until_snapshot(communicator, *, timeout=60):
    """The progress frames, then the snapshot (or an error) that ends the seek."""
    progress = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "lab.progress":
            progress.append(message)
            continue
        return progress, message


async def test_hello_announces_the_slice_rule():
    communicator, hello = await connect()
    limits = hello["limits"]
    assert limits["slice_cpu_seconds"] == workers.MESSAGE_BUDGET_SECONDS * workers.SLICE_SHARE
    assert limits["min_sim_seconds_per_cpu_second"] == workers.MIN_SIM_SECONDS_PER_CPU_SECOND
    assert limits["seek_cpu_seconds"] == workers.SEEK_CPU_SECONDS
    await communicator.disconnect()


async def test_an_hour_of_ten_date_loggers_arrives_in_slices():
    communicator, _ = await connect()
    await apply(communicator, DATE_LOGGERS)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    progress, snapshot = await until_snapshot(communicator)
    assert snapshot["type"] == "lab.snapshot", snapshot
    assert snapshot["t"] == 3600
    # More than one slice of work: the page heard how far the seek got, moving forward.
    assert progress, "an hour of ten loggers is more than one slice"
    ts = [p["t"] for p in progress]
    assert ts == sorted(ts) and all(0 < t < 3600 for t in ts)
    assert all(p["target"] == 3600 and p["from"] == 0 for p in progress)
    # The logs' tails: ten logs of an hour of dates, cut to their tails for the frame.
    logs = snapshot["views"]["logs"]
    assert len(logs) == 10
    assert all("UTC" in text.splitlines()[-1] for text in logs.values())
    assert all(f"logs:chatty/c{i}" in snapshot["logs_truncated"] for i in range(10))
    # The lab is alive: it answers at the moment it reached.
    await communicator.send_json_to({"type": "lab.sync"})
    again = await communicator.receive_json_from(timeout=10)
    assert again["type"] == "lab.snapshot" and again["t"] == 3600
    await communicator.disconnect()


async def test_a_restore_at_an_hour_arrives_in_slices():
    communicator, _ = await connect()
    await communicator.send_json_to({"type": "lab.restore", "manifest": DATE_LOGGERS,
                                     "actions": [], "t": 3600})
    validation = await communicator.receive_json_from(timeout=10)
    assert validation["type"] == "lab.validation" and validation["ok"]
    progress, snapshot = await until_snapshot(communicator)
    assert progress and snapshot["type"] == "lab.snapshot" and snapshot["t"] == 3600
    await communicator.disconnect()


async def test_a_lab_restored_late_settles_without_replaying_its_history_in_one_tick():
    """Ten loggers fell silent at t = 1500; restored at 2400 and played, the lab is quiet, and
    the look ahead that tells it settled replays 2,400 s of logging: in slices of the ticks,
    not in one tick (which its budget would stop)."""
    communicator, _ = await connect()
    await communicator.send_json_to({"type": "lab.restore", "manifest": QUIET_LOGGERS,
                                     "actions": [], "t": 2400})
    validation = await communicator.receive_json_from(timeout=10)
    assert validation["type"] == "lab.validation" and validation["ok"]
    progress, snapshot = await until_snapshot(communicator)
    assert progress and snapshot["t"] == 2400 and snapshot["settled"] is False
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    frames = 0
    while True:
        message = await communicator.receive_json_from(timeout=30)
        assert message["type"] == "lab.frame", message
        frames += 1
        if not message["playing"]:
            break
    assert message["settled"] is True and 2400 < message["t"] < 3600, message
    assert "UTC" in message["views"]["logs"]["hush/c0"].splitlines()[-1]
    assert frames > 2  # it played on while the look ahead ran
    await communicator.send_json_to({"type": "lab.sync"})
    again = await communicator.receive_json_from(timeout=10)
    assert again["type"] == "lab.snapshot" and again["settled"] is True
    await communicator.disconnect()


def test_a_look_ahead_in_slices_answers_as_one_replay():
    """``settled`` with a CPU bound answers False until its replay is done, then what one
    unbounded look ahead answers; the replay is kept for the next quiet spell."""
    def at(t):
        lab, _ = services.lab_start(manifest_text=QUIET_LOGGERS, seed=0, lang="en")
        lab.seek(t)
        return lab

    whole, sliced = at(1700), at(1700)
    for t in (1700, 1780, 1860):  # quiet for 60 s, logs for 60 s more: then it looks ahead
        whole.advance_to(t)
        answer = whole.settled()
    assert answer is True
    calls = 0
    for t in (1700, 1780, 1860):
        sliced.advance_to(t)
        answer = sliced.settled(cpu_seconds=0.01)
    while not answer:
        calls += 1
        assert sliced.looking_ahead()
        answer = sliced.settled(cpu_seconds=0.01)
    assert calls > 5 and not sliced.looking_ahead()
    assert sliced.settled_known() and whole.settled_known()
    assert sliced._settled == whole._settled


async def test_a_runaway_is_still_stopped():
    communicator, _ = await connect()
    await apply(communicator, COUNTING_LOOP)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    _, error = await until_snapshot(communicator)
    assert error["type"] == "lab.error" and error["code"] == "budget_exceeded", error
    assert error["detail"]["sliced"] is True
    assert (error["detail"]["simulated_seconds"]
            < error["detail"]["min_rate"] * error["detail"]["cpu_seconds"])
    # The lab was dropped: nothing is left to sync.
    await communicator.send_json_to({"type": "lab.sync"})
    gone = await communicator.receive_json_from(timeout=10)
    assert gone["type"] == "lab.error" and gone["code"] == "no_simulation"
    await communicator.disconnect()


async def test_pause_interrupts_a_sliced_seek():
    communicator, _ = await connect()
    await apply(communicator, DATE_LOGGERS)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    first = await communicator.receive_json_from(timeout=30)
    assert first["type"] == "lab.progress"
    await communicator.send_json_to({"type": "lab.pause"})
    progress, snapshot = await until_snapshot(communicator, timeout=10)
    # The moment the seek stopped at, between two moments of the simulation: short of the
    # target, and nothing of the seek after it.
    assert snapshot["type"] == "lab.snapshot" and first["t"] <= snapshot["t"] < 3600
    assert await communicator.receive_nothing(timeout=1.5)
    await communicator.send_json_to({"type": "lab.sync"})
    again = await communicator.receive_json_from(timeout=10)
    assert again["t"] == snapshot["t"]
    await communicator.disconnect()


async def test_a_new_seek_supersedes_a_running_one():
    communicator, _ = await connect()
    await apply(communicator, DATE_LOGGERS)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    first = await communicator.receive_json_from(timeout=30)
    assert first["type"] == "lab.progress" and first["target"] == 3600
    await communicator.send_json_to({"type": "lab.seek", "t": 100})
    progress, snapshot = await until_snapshot(communicator, timeout=30)
    assert snapshot["type"] == "lab.snapshot" and snapshot["t"] == 100
    assert all(p["target"] in (3600, 100) for p in progress)
    assert await communicator.receive_nothing(timeout=1.5)  # the first seek ended for good
    await communicator.disconnect()


async def test_messages_during_a_sliced_seek_are_answered_and_the_seek_goes_on():
    """A view, a speed, a validation, a sync and a page of a log while the seek runs: each is
    answered between two slices, none is ``internal``, and the seek still ends at its
    target (only a pause, a step, an action, a seek, an apply or a restore interrupt it)."""
    communicator, _ = await connect()
    await apply(communicator, DATE_LOGGERS)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    first = await communicator.receive_json_from(timeout=30)
    assert first["type"] == "lab.progress"
    for message in ({"type": "lab.view", "view": "describe"}, {"type": "lab.speed", "speed": 60},
                    {"type": "lab.validate", "manifest": "x: 1"}, {"type": "lab.sync"},
                    {"type": "lab.logs", "container": "chatty/c0", "limit": 10},
                    {"type": "lab.seek", "t": "soon"}):
        await communicator.send_json_to(message)
    answers = []
    # the answers come in turn; the seek's slices go on meanwhile and may end first
    while sorted(m["type"] for m in answers if m["type"] != "lab.progress") != sorted(
            ["lab.frame", "lab.frame", "lab.validation", "lab.snapshot", "lab.logs",
             "lab.error", "lab.snapshot"]):
        answers.append(await communicator.receive_json_from(timeout=30))
    error = next(m for m in answers if m["type"] == "lab.error")
    assert error["code"] == "bad_field" and error["detail"]["field"] == "t"
    final = [m for m in answers if m["type"] == "lab.snapshot" and m["t"] == 3600]
    assert final and all(m["speed"] == 60 for m in final)  # (the sync may come after it)
    assert await communicator.receive_nothing(timeout=1.5)
    await communicator.disconnect()


async def test_rapid_reconnects_leave_no_socket_or_lab_behind():
    from podlab.lab import consumers

    before, labs = consumers._open, sum(workers.pool().stats()["labs"])
    for index in range(30):
        communicator, _ = await connect()
        if index % 2:
            await communicator.send_json_to({"type": "lab.apply", "manifest": DATE_LOGGERS})
        if index % 3 == 0:
            await communicator.send_json_to({"type": "lab.seek", "t": 3600})
        await communicator.disconnect()
    for _ in range(100):
        if sum(workers.pool().stats()["labs"]) <= labs:
            break
        time.sleep(0.05)
    assert consumers._open == before
    assert sum(workers.pool().stats()["labs"]) <= labs


def test_sliced_advance_reaches_the_same_state_as_one_run():
    """Slices stop between moments only: small slices, recorded actions on the way, and the
    lab ends exactly where one uninterrupted run does."""
    actions = [{"action": "kill", "pod": "chatty", "container": "c3", "signal": "KILL",
                "t": 120.5},
               {"action": "delete", "pod": "chatty", "grace_period": 5, "t": 300.0}]

    def fresh():
        lab, _ = services.lab_start(manifest_text=DATE_LOGGERS, seed=7, lang="en")
        lab.actions = [dict(a) for a in actions]
        return lab

    whole = fresh()
    whole.seek(400)
    sliced = fresh()
    slices = 0
    while not sliced.advance_slice(400, 0.005):
        slices += 1
    assert slices > 3
    assert sliced.t == whole.t == 400
    assert sliced.logs() == whole.logs()
    assert [r.object for r in sliced.sim.records] == [r.object for r in whole.sim.records]
    assert sliced.watch_lines == whole.watch_lines


def test_a_slice_that_advances_too_little_is_a_runaway():
    lab, _ = services.lab_start(manifest_text=COUNTING_LOOP, seed=0, lang="en")
    labs = {1: lab}
    started = time.process_time()
    with pytest.raises(workers.WorkerError) as raised:
        runner.seek(labs, 1, t=3600, lang="en")
    assert raised.value.code == "budget_exceeded"
    assert 1 not in labs  # dropped
    assert time.process_time() - started < workers.MESSAGE_BUDGET_SECONDS
