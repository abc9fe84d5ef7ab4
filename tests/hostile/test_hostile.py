"""Hostile inputs against the lab websocket (issue 11), each while a second lab measures its
round trips: the attacker gets a clear answer within a few seconds, the second lab stays
fast (p99 under 200 ms) and the server's memory stays bounded. The figures of every case go
to ``test-results/hostile.json`` (and ``benchmarks/bench_hostile.py`` prints them)."""

import asyncio
import json
import time
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from podlab.asgi import application
from podlab.lab import consumers, runner

from . import attacks as a

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES: dict[str, dict[str, float]] = {}
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
#: answers that are not a clear refusal or result
UNCLEAR = {"internal"}


@pytest.fixture(scope="module", autouse=True)
def _own_pool():
    """A pool of two workers of its own, so the second lab and the attacker hold one each
    (the suite's shared pool has labs of other tests in it). Labs that share a worker with a
    runaway wait for its budget: that is the cost the budget bounds, not what this measures."""
    with a.own_pool() as own:
        yield own


@pytest.fixture(autouse=True)
def _one_lab_per_worker(_own_pool):
    assert _own_pool.start(wait=90)  # a worker replaced by the last case is up again
    for _ in range(40):  # the last case's sockets are closing
        if len(set(_own_pool.stats()["labs"])) == 1:
            break
        time.sleep(0.05)


@pytest.fixture(scope="module", autouse=True)
def _write_figures():
    yield
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hostile.json").write_text(json.dumps(FIGURES, indent=2, sort_keys=True))


async def connect(lang="en"):
    communicator = WebsocketCommunicator(
        application, f"/ws/lab/?lang={lang}", headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    hello = await communicator.receive_json_from(timeout=10)
    assert hello["type"] == "lab.hello"
    return communicator


async def answer(communicator, *wanted, timeout=a.ANSWER_BOUND_SECONDS):
    """The next message of a wanted type, or a ``lab.error``; raw text kept for its size."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        assert output["type"] == "websocket.send", output
        message = json.loads(output["text"])
        message["_bytes"] = len(output["text"].encode())
        if message["type"] in wanted or message["type"] == "lab.error":
            return message


async def apply(communicator, manifest):
    await communicator.send_json_to({"type": "lab.apply", "manifest": manifest})
    validation = await answer(communicator, "lab.validation")
    assert validation.get("ok"), validation
    return await answer(communicator, "lab.snapshot")


async def under_attack(name, attack, *, messages=1):
    """Run ``attack(attacker)`` while a second lab measures; return the attack's answer."""
    victim = await connect()
    await apply(victim, a.SLEEPER)
    yardstick = a.Yardstick(victim.send_json_to,
                            lambda: victim.receive_json_from(timeout=a.ANSWER_BOUND_SECONDS))
    rss_before = a.rss_mb()
    yardstick.start()
    await asyncio.sleep(1.0)
    baseline = a.p99(yardstick.trips)  # the machine as it is now, with no attack
    yardstick.trips.clear()
    attacker = await connect()
    started = time.monotonic()
    try:
        result = await attack(attacker)
        seconds = time.monotonic() - started
        await asyncio.sleep(0.5)  # the aftermath counts too
    finally:
        figures = await yardstick.stop()
        await attacker.disconnect()
        await victim.disconnect()
    FIGURES[name] = {"answer_seconds": round(seconds, 3), "p99_ms": round(figures["p99"] * 1000, 1),
                     "round_trips": figures["trips"],
                     "server_rss_growth_mb": round(figures["rss_peak"] - rss_before, 1),
                     "worker_rss_peak_mb": round(figures["worker_peak"], 1),
                     "answer": _what(result)}
    FIGURES[name]["baseline_p99_ms"] = round(baseline * 1000, 1)
    print(name, FIGURES[name])
    # Answers come in turn, each within the bound of the one before.
    assert seconds < a.ANSWER_BOUND_SECONDS * max(1, messages / 4), FIGURES[name]
    assert figures["trips"] >= 3
    assert figures["p99"] < a.p99_bound(baseline), FIGURES[name]
    assert figures["rss_peak"] - rss_before < a.SERVER_GROWTH_BOUND_MB, FIGURES[name]
    return result


def _what(result):
    last = result[-1] if isinstance(result, list) else result
    return last.get("code") or last["type"] if isinstance(last, dict) else str(last)


def clear(message, *codes):
    """A clear answer: the wanted result, or one of the given error codes (never internal)."""
    if message["type"] == "lab.error":
        assert message["code"] not in UNCLEAR and message["code"] in codes, message
        assert message["message"]
    return message


#: what a runaway lab may end with: its budget, its memory, or its worker (killed when stuck
#: beyond the wall clock guard, inside one long C call)
RUNAWAY = ("budget_exceeded", "out_of_memory", "worker_lost")


async def _seek(attacker, manifest, t, *codes):
    await apply(attacker, manifest)
    await attacker.send_json_to({"type": "lab.seek", "t": t})
    message = clear(await answer(attacker, "lab.snapshot"), *codes)
    assert message["_bytes"] <= 1024 * 1024
    return message


async def test_busy_loop_seek_an_hour():
    message = await under_attack("busy_loop_seek_3600", lambda s: _seek(
        s, a.BUSY_LOOP, 3600, *RUNAWAY))
    if message["type"] == "lab.error":
        assert message["detail"]["seconds"] > 0


async def test_log_flood_seek():
    await under_attack("yes_seek_300", lambda s: _seek(
        s, a.LOG_FLOOD, 300, *RUNAWAY))


async def test_string_doubling():
    await under_attack("string_doubling_seek_60", lambda s: _seek(
        s, a.STRING_DOUBLING, 60, *RUNAWAY))


async def test_fork_bomb():
    await under_attack("fork_bomb_seek_60", lambda s: _seek(
        s, a.FORK_BOMB, 60, *RUNAWAY))


async def test_chatty_containers_for_an_hour_fit_in_a_frame():
    # An honest lab that is long to simulate: the seek runs in slices and ends in a
    # snapshot (never budget_exceeded), its logs cut to tails that fit a frame.
    message = await under_attack("ten_date_loggers_seek_3600", lambda s: _seek(
        s, a.CHATTY, 3600))
    assert message["type"] == "lab.snapshot" and message["t"] == 3600
    logs = message["views"]["logs"]
    assert len(logs) == 10 and all("UTC" in text.splitlines()[-1] for text in logs.values())


async def test_ten_validations_of_a_huge_list():
    async def attack(s):
        for _ in range(10):
            await s.send_json_to({"type": "lab.validate", "manifest": a.BIG_LIST})
        answers = [clear(await answer(s, "lab.validation"), "budget_exceeded", "rate_limited")
                   for _ in range(10)]
        assert any(m["type"] == "lab.validation" for m in answers)
        return answers

    await under_attack("ten_validations_64k_list", attack, messages=10)


async def test_a_thousand_replicas_are_refused():
    async def attack(s):
        await apply(s, a.SLEEPER)
        await s.send_json_to({"type": "lab.action", "action": "apply",
                              "manifest": a.THOUSAND_REPLICAS})
        message = await answer(s, "lab.frame")
        assert message["type"] == "lab.error" and message["code"] == "rejected", message
        assert message["detail"]["limit"] == "pods" and message["detail"]["max"] == 5
        assert "exceeded quota" in message["detail"]["kubectl"]
        return message

    await under_attack("deployment_1000_replicas", attack)


@pytest.mark.parametrize(("name", "text", "code", "detail"), [
    ("deep_json", '{"type":"lab.validate","manifest":' + "[" * 5000 + "]" * 5000 + "}",
     "too_deep", {"limit": consumers.MAX_JSON_DEPTH}),
    ("nested_json", '{"type":"lab.seek","t":' + '{"a":' * 40 + "1" + "}" * 40 + "}",
     "too_deep", None),
    ("lone_surrogate", '{"type":"lab.apply","manifest":"apiVersion: v1\\nkind: \\ud800Pod"}',
     "bad_text", {"field": "manifest", "line": 2, "column": 7}),
    ("long_json_integer", '{"type":"lab.seek","t":' + "9" * 5000 + "}", "number_too_long",
     None),
    ("broken_json", '{"type": "lab.sync",\n  "x": }', "bad_json", {"line": 2, "column": 8}),
])
async def test_malformed_messages_get_located_errors(name, text, code, detail):
    async def attack(s):
        await s.send_to(text_data=text)
        message = await answer(s)
        assert message["type"] == "lab.error" and message["code"] == code, message
        if detail is not None:
            assert {k: message["detail"][k] for k in detail} == detail
        return message

    message = await under_attack(name, attack)
    s = await connect("zh-hans")
    await s.send_to(text_data=text)
    translated = await answer(s)
    assert translated["code"] == code and translated["message"] != message["message"]
    await s.disconnect()


@pytest.mark.parametrize(("name", "manifest", "code"), [
    ("long_yaml_integer", a.LONG_INT_YAML, "LimitExceeded"),
    ("long_quantity", a.LONG_QUANTITY, "FieldValueInvalid"),
])
async def test_long_numbers_in_manifests_are_located_problems(name, manifest, code):
    async def attack(s):
        await s.send_json_to({"type": "lab.validate", "manifest": manifest})
        message = await answer(s, "lab.validation")
        assert message["type"] == "lab.validation" and not message["ok"], message
        problem = message["problems"][0]
        assert problem["code"] == code and problem["line"] > 1, problem
        return message

    await under_attack(name, attack)


async def test_connections_per_address_and_in_total_are_capped():
    with override_settings(LAB_MAX_CONNECTIONS_PER_ADDRESS=2, LAB_MAX_CONNECTIONS=100):
        first, second = await connect(), await connect()
        third = WebsocketCommunicator(application, "/ws/lab/",
                                      headers=[(b"origin", b"http://localhost")])
        assert (await third.connect())[0]
        refused = await third.receive_json_from()
        assert refused["code"] == "too_many_connections" and refused["detail"] == {"limit": 2}
        closed = await third.receive_output()
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_TOO_MANY}
        await first.disconnect()
        again = await connect()  # a freed place can be taken again
        await again.disconnect()
        await second.disconnect()
    with override_settings(LAB_MAX_CONNECTIONS=0):
        full = WebsocketCommunicator(application, "/ws/lab/",
                                     headers=[(b"origin", b"http://localhost")])
        await full.connect()
        assert (await full.receive_json_from())["code"] == "server_full"
        assert (await full.receive_output())["code"] == consumers.CLOSE_SERVER_FULL


async def test_hello_announces_every_limit_and_budget():
    s = await connect()
    await s.disconnect()
    hello = consumers.hello()
    for key in ("pods", "containers", "manifest_bytes", "message_bytes", "messages_per_second",
                "json_depth", "connections_per_address", "connections", "message_cpu_seconds",
                "tick_cpu_seconds", "lab_memory_mib", "frame_bytes", "log_page_chars",
                "backlog_bytes"):
        assert key in hello["limits"], key
    assert hello["limits"]["frame_bytes"] == runner.MAX_FRAME_BYTES < 1024 * 1024


async def test_a_reader_far_behind_is_told_and_closed_with_4408(monkeypatch):
    s = await connect()
    await apply(s, a.SLEEPER)
    monkeypatch.setattr(consumers, "send_backlog", lambda send: consumers.BACKLOG_CLOSE_BYTES + 1)
    await s.send_json_to({"type": "lab.sync"})
    assert (await answer(s, "lab.snapshot"))["type"] == "lab.snapshot"
    error = await answer(s)
    assert error["code"] == "slow_reader" and error["detail"]["limit"] > 0
    assert await s.receive_output() == {"type": "websocket.close",
                                        "code": consumers.CLOSE_SLOW_READER}


async def test_a_playing_lab_skips_frames_while_its_reader_is_behind(monkeypatch):
    from tests.lab.test_consumers import fast_clock

    fast_clock(monkeypatch, HEARTBEAT_SECONDS=0.2)
    s = await connect()
    await apply(s, a.SLEEPER)
    behind = {"bytes": 0}
    monkeypatch.setattr(consumers, "send_backlog", lambda send: behind["bytes"])
    await s.send_json_to({"type": "lab.play", "speed": 60})
    await answer(s, "lab.frame")
    behind["bytes"] = consumers.BACKLOG_COALESCE_BYTES + 1
    await asyncio.sleep(0.3)
    while not await s.receive_nothing(timeout=0.3):
        await s.receive_output()  # what was already on its way
    assert await s.receive_nothing(timeout=1.0)  # nothing more while the reader is behind
    behind["bytes"] = 0
    frame = await answer(s, "lab.frame", timeout=3)
    assert "pods" in frame and "views" in frame  # the latest state, whole
    await s.disconnect()
