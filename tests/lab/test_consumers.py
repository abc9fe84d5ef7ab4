"""The lab websocket: every message type, every error and every limit."""

import asyncio
import json
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator

from podlab.asgi import application
from podlab.engine.kubelet.probes import HISTORY as PROBE_HISTORY
from podlab.lab import consumers, runner, services

from .manifests import PROBED

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
EXEC_LIVENESS = (ROOT / "lessons/08-probes/examples/probes-exec-liveness.yaml").read_text()
SLEEPER = """\
apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo hello; sleep 3600"]
"""

# Quiet but not finished: its sleep ends within the lab's look-ahead, so the clock keeps
# running through the quiet spell (a lab where nothing will happen stops by itself).
RUNNING = SLEEPER.replace("sleep 3600", "sleep 400")


async def connect(path="/ws/lab/", lang="en"):
    communicator = WebsocketCommunicator(
        application, f"{path}?lang={lang}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "lab.hello"
    assert hello["protocol"] == 1
    return communicator


async def receive_type(communicator, wanted, *, timeout=5):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == wanted:
            return message


async def apply(communicator, manifest=SLEEPER):
    await communicator.send_json_to({"type": "lab.apply", "manifest": manifest})
    validation = await communicator.receive_json_from()
    assert validation["type"] == "lab.validation" and validation["ok"], validation
    snapshot = await communicator.receive_json_from()
    assert snapshot["type"] == "lab.snapshot"
    return snapshot


async def test_origin_is_required():
    communicator = WebsocketCommunicator(application, "/ws/lab/")
    connected, _ = await communicator.connect()
    assert not connected


async def test_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/lab/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_hello_announces_limits_and_version():
    communicator = WebsocketCommunicator(
        application, "/ws/lab/", headers=[(b"origin", b"http://localhost")]
    )
    await communicator.connect()
    hello = await communicator.receive_json_from()
    assert hello["kubernetes"] == "1.34"
    assert hello["limits"]["manifest_bytes"] == services.MAX_MANIFEST_BYTES
    await communicator.disconnect()


async def test_validate_reports_located_translated_problems():
    communicator = await connect(lang="zh-hans")
    bad = SLEEPER.replace("image: busybox:1.36", "imagee: busybox:1.36")
    await communicator.send_json_to({"type": "lab.validate", "manifest": bad})
    message = await communicator.receive_json_from()
    assert message["type"] == "lab.validation"
    assert not message["ok"]
    codes = {p["code"] for p in message["problems"]}
    assert "UnknownField" in codes
    unknown = next(p for p in message["problems"] if p["code"] == "UnknownField")
    assert unknown["line"] == 8
    assert "Kubernetes 没有这个字段" in unknown["message"]
    assert "imagee" in message["kubectl"]
    await communicator.disconnect()


async def test_apply_invalid_starts_nothing():
    communicator = await connect()
    await communicator.send_json_to({"type": "lab.apply", "manifest": "kind: [unclosed"})
    message = await communicator.receive_json_from()
    assert message["type"] == "lab.validation" and not message["ok"]
    assert message["problems"][0]["line"] >= 1
    await communicator.send_json_to({"type": "lab.step"})
    error = await communicator.receive_json_from()
    assert error == {"type": "lab.error", "code": "no_simulation",
                     "message": "Apply a valid manifest first."}
    await communicator.disconnect()


async def test_apply_snapshot_step_seek_and_views():
    communicator = await connect()
    snapshot = await apply(communicator)
    assert snapshot["seq"] == 1
    assert snapshot["t"] == 0
    assert snapshot["pods"][0]["metadata"]["name"] == "sleeper"
    assert snapshot["views"]["get"].startswith("NAME")
    for _ in range(20):
        await communicator.send_json_to({"type": "lab.step"})
        frame = await receive_type(communicator, "lab.frame")
        if frame["pods"][0]["status"]["phase"] == "Running":
            break
    assert frame["pods"][0]["status"]["phase"] == "Running"
    assert "Running" in frame["views"]["get"]
    assert frame["views"]["logs"]["sleeper/main"] == "hello\n"
    rules = {t["rule"] for t in frame["transitions"]}
    assert frame["seq"] > snapshot["seq"]
    await communicator.send_json_to({"type": "lab.seek", "t": 0})
    back = await receive_type(communicator, "lab.snapshot")
    assert back["t"] == 0
    assert back["pods"][0]["status"]["phase"] == "Pending"
    await communicator.send_json_to({"type": "lab.seek", "t": 30})
    forward = await receive_type(communicator, "lab.snapshot")
    assert forward["t"] == 30
    assert any(t["rule"] == "container.started" for t in forward["history"]["transitions"])
    started = next(e for e in forward["history"]["narration"] if e["code"] == "started")
    assert started["text"] and started["lesson"].startswith("/en/lessons/")
    del rules
    await communicator.disconnect()


async def test_exec_liveness_restarts_at_instant_speed():
    communicator = await connect()
    await apply(communicator, EXEC_LIVENESS)
    await communicator.send_json_to({"type": "lab.play", "speed": "instant"})
    restarted = False
    for _ in range(400):
        frame = await receive_type(communicator, "lab.frame")
        if "pods" not in frame:  # only the clock moved in this tick
            continue
        statuses = frame["pods"][0]["status"].get("containerStatuses") or []
        if statuses and statuses[0].get("restartCount", 0) >= 1:
            restarted = True
            break
    assert restarted
    # Killed after three failures (~45 s); sh as PID 1 ignores SIGTERM: SIGKILL 30 s later.
    assert 70 <= frame["t"] <= 90
    assert "Unhealthy" in frame["views"]["events"]
    await communicator.send_json_to({"type": "lab.pause"})
    paused = await receive_type(communicator, "lab.frame")
    assert paused["playing"] is False
    await communicator.disconnect()


async def test_delete_action_runs_termination_and_records_it():
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.seek", "t": 20})
    await receive_type(communicator, "lab.snapshot")
    await communicator.send_json_to(
        {"type": "lab.action", "action": "delete", "pod": "sleeper", "grace_period": 5})
    frame = await receive_type(communicator, "lab.frame")
    assert frame["action"] == {"action": "delete", "pod": "sleeper", "grace_period": 5, "t": 20.0}
    assert frame["actions"] == [frame["action"]]
    assert frame["pods"][0]["metadata"]["deletionTimestamp"]
    assert "Killing" in frame["views"]["events"]
    assert "Terminating" in frame["views"]["get"]
    await communicator.send_json_to({"type": "lab.seek", "t": 40})
    later = await receive_type(communicator, "lab.snapshot")
    assert later["actions"] == [
        {"action": "delete", "pod": "sleeper", "grace_period": 5, "t": 20.0}]
    assert later["pods"] == []
    # Rewind before the deletion and replay past it: same result (deterministic replay).
    await communicator.send_json_to({"type": "lab.seek", "t": 10})
    early = await receive_type(communicator, "lab.snapshot")
    assert early["pods"][0]["metadata"].get("deletionTimestamp") is None
    await communicator.send_json_to({"type": "lab.seek", "t": 40})
    again = await receive_type(communicator, "lab.snapshot")
    assert again["pods"] == [] and again["views"]["events"] == later["views"]["events"]
    await communicator.disconnect()


async def test_restore_rebuilds_the_same_moment():
    communicator = await connect()
    await communicator.send_json_to({
        "type": "lab.restore", "manifest": SLEEPER, "seed": 0, "t": 40,
        "actions": [{"t": 20, "action": "delete", "pod": "sleeper", "grace_period": 5}],
    })
    await receive_type(communicator, "lab.validation")
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["t"] == 40 and snapshot["pods"] == []
    await communicator.disconnect()


async def test_kill_action_and_rejected_action():
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.seek", "t": 20})
    await receive_type(communicator, "lab.snapshot")
    await communicator.send_json_to(
        {"type": "lab.action", "action": "kill", "pod": "sleeper", "container": "main",
         "signal": "KILL"})
    frame = await receive_type(communicator, "lab.frame")
    assert frame["t"] == 20
    await communicator.send_json_to(
        {"type": "lab.action", "action": "delete", "pod": "nobody"})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected"
    assert 'pods "nobody" not found' in error["detail"]["kubectl"]
    await communicator.disconnect()


@pytest.mark.parametrize("payload,code", [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    ('{"type": 3}', "bad_json"),
    ('{"type": "lab.nope"}', "unknown_type"),
    ('{"type": "lab.apply"}', "bad_field"),
    ('{"type": "lab.apply", "manifest": "x", "seed": -1}', "bad_field"),
    ('{"type": "lab.speed", "speed": 7}', "bad_field"),
    ('{"type": "lab.validate", "manifest": 5}', "bad_field"),
])
async def test_bad_messages_get_clear_errors(payload, code):
    communicator = await connect()
    await communicator.send_to(text_data=payload)
    error = await communicator.receive_json_from()
    assert error["type"] == "lab.error"
    assert error["code"] == code
    assert error["message"]
    # The connection keeps working.
    await communicator.send_json_to({"type": "lab.validate", "manifest": SLEEPER})
    assert (await communicator.receive_json_from())["ok"] is True
    await communicator.disconnect()


async def test_bad_action_fields():
    communicator = await connect()
    await apply(communicator)
    for action in (
        {"action": "explode"},
        {"action": "delete", "pod": 5},
        {"action": "delete", "pod": "sleeper", "grace_period": -1},
        {"action": "kill", "pod": "sleeper", "container": "main", "signal": "HUP!"},
    ):
        await communicator.send_json_to({"type": "lab.action", **action})
        error = await receive_type(communicator, "lab.error")
        assert error["code"] == "bad_field", action
    await communicator.disconnect()


async def test_oversized_message_is_refused_but_connection_stays():
    communicator = await connect()
    huge = json.dumps({"type": "lab.validate", "manifest": "x" * (consumers.MAX_MESSAGE_BYTES)})
    await communicator.send_to(text_data=huge)
    error = await communicator.receive_json_from()
    assert error["code"] == "too_large"
    await communicator.send_json_to({"type": "lab.validate", "manifest": SLEEPER})
    assert (await communicator.receive_json_from())["type"] == "lab.validation"
    await communicator.disconnect()


async def test_oversized_manifest_inside_limit_message():
    communicator = await connect()
    manifest = "a: b\n" * (services.MAX_MANIFEST_BYTES // 5 + 10)
    await communicator.send_json_to({"type": "lab.validate", "manifest": manifest[:90000]})
    error = await communicator.receive_json_from()
    assert error["code"] == "too_large"
    await communicator.disconnect()


async def test_billion_laughs_is_refused_quickly():
    communicator = await connect()
    lol = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(8))
    await communicator.send_json_to({"type": "lab.apply", "manifest": lol})
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "lab.validation" and not message["ok"]
    assert message["problems"][0]["code"] == "LimitExceeded"
    await communicator.disconnect()


async def test_flood_is_rate_limited_and_others_keep_working():
    flooder = await connect()
    other = await connect()
    sent = int(consumers.RATE_BURST) + 200
    for _ in range(sent):
        await flooder.send_json_to({"type": "lab.validate", "manifest": "kind: Pod"})
    codes = []
    while not await flooder.receive_nothing(timeout=0.5):
        message = await flooder.receive_json_from()
        codes.append(message.get("code", message["type"]))
    limited = codes.count("rate_limited")
    answered = len(codes) - limited
    assert limited >= 1
    # One reply per stretch over the limit, not one per dropped message: a stretch ends only
    # when a message is accepted again.
    assert limited <= answered - int(consumers.RATE_BURST) + 1
    assert len(codes) < sent // 2
    await other.send_json_to({"type": "lab.validate", "manifest": SLEEPER})
    assert (await other.receive_json_from())["ok"] is True
    await flooder.disconnect()
    await other.disconnect()


async def test_disconnect_cancels_the_clock():
    communicator = await connect()
    await apply(communicator, RUNNING)
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    await receive_type(communicator, "lab.frame")
    # Frames of ticks in which only the clock moved are small: no pods, no views.
    light = None
    for _ in range(30):
        frame = await receive_type(communicator, "lab.frame")
        if "views" not in frame:
            light = frame
            break
    assert light is not None and light["t"] > 0 and "pods" not in light
    tasks_before = {t for t in asyncio.all_tasks() if "_run_clock" in repr(t.get_coro())}
    assert tasks_before
    await communicator.disconnect()
    await asyncio.sleep(0.05)
    assert all(t.done() for t in tasks_before)


async def test_html_in_manifest_is_data():
    communicator = await connect()
    manifest = SLEEPER.replace("echo hello", "echo '<script>alert(1)</script>'")
    await apply(communicator, manifest)
    await communicator.send_json_to({"type": "lab.seek", "t": 20})
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["views"]["logs"]["sleeper/main"] == "<script>alert(1)</script>\n"
    await communicator.disconnect()


# --- cluster actions: image, node, service, cordon, drain --------------------------------

WAIT_FOR_SERVICES = (
    ROOT / "lessons/05-init-and-sidecar-containers/examples/"
    "init-and-sidecar-containers-wait-for-services.yaml"
).read_text()
NGINX_NEXT = SLEEPER.replace("busybox:1.36", "nginx:1.99").replace(
    '    command: ["sh", "-c", "echo hello; sleep 3600"]\n', "")


def pod_status(message, name):
    return next(p for p in message["pods"] if p["metadata"]["name"] == name)["status"]


async def act(communicator, **action):
    await communicator.send_json_to({"type": "lab.action", **action})
    return await receive_type(communicator, "lab.frame")


async def seek(communicator, t):
    await communicator.send_json_to({"type": "lab.seek", "t": t})
    return await receive_type(communicator, "lab.snapshot")


async def test_hello_offers_the_cluster_actions():
    communicator = WebsocketCommunicator(
        application, "/ws/lab/", headers=[(b"origin", b"http://localhost")]
    )
    await communicator.connect()
    hello = await communicator.receive_json_from()
    assert hello["limits"]["actions"] == [
        "delete", "apply", "kill", "image", "node", "service", "cordon", "drain"]
    await communicator.disconnect()


async def test_service_action_lets_the_init_containers_finish_and_replays_on_seek():
    communicator = await connect()
    await apply(communicator, WAIT_FOR_SERVICES)
    snapshot = await seek(communicator, 30)
    assert snapshot["views"]["get"].splitlines()[1].split()[2] == "Init:0/2"
    frame = await act(communicator, action="service", name="myservice")
    assert frame["action"] == {"action": "service", "name": "myservice", "t": 30}
    frame = await act(communicator, action="service", name="mydb", namespace="default",
                      port=3306, target_port=9377)
    assert frame["action"]["port"] == 3306 and frame["action"]["target_port"] == 9377
    snapshot = await seek(communicator, 60)
    assert pod_status(snapshot, "myapp-pod")["phase"] == "Running"
    # back before the Services: replayed from t = 0, the Pod waits again
    snapshot = await seek(communicator, 20)
    assert snapshot["views"]["get"].splitlines()[1].split()[2] == "Init:0/2"
    assert [a["name"] for a in snapshot["actions"]] == ["myservice", "mydb"]
    snapshot = await seek(communicator, 60)
    assert pod_status(snapshot, "myapp-pod")["phase"] == "Running"
    # kubectl create service refuses a name that exists
    await communicator.send_json_to({"type": "lab.action", "action": "service",
                                     "name": "mydb"})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected"
    assert 'services "mydb" already exists' in error["detail"]["kubectl"]
    await communicator.disconnect()


async def test_image_action_pushes_a_tag_and_a_stuck_pod_recovers():
    communicator = await connect()
    await apply(communicator, NGINX_NEXT)
    snapshot = await seek(communicator, 30)
    waiting = pod_status(snapshot, "sleeper")["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
    frame = await act(communicator, action="image", image="nginx:1.99", available=True)
    assert frame["action"] == {"action": "image", "image": "nginx:1.99", "available": True,
                               "t": 30}
    snapshot = await seek(communicator, 400)
    assert pod_status(snapshot, "sleeper")["phase"] == "Running"
    # removing it again does not stop the running container (the node keeps the image)
    await act(communicator, action="image", image="nginx:1.99", available=False)
    snapshot = await seek(communicator, 500)
    assert pod_status(snapshot, "sleeper")["phase"] == "Running"
    # a name nobody publishes can be pushed as a test image; a digest cannot be made up
    await act(communicator, action="image", image="example.invalid/app:1", available=True)
    await communicator.send_json_to({"type": "lab.action", "action": "image",
                                     "image": "app@sha256:" + "a" * 64, "available": True})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected"
    await communicator.disconnect()


async def test_node_action_makes_the_pod_not_ready_and_restores_it():
    communicator = await connect()
    await apply(communicator)
    await seek(communicator, 10)
    frame = await act(communicator, action="node", node="node-1", reachable=False)
    assert frame["action"] == {"action": "node", "node": "node-1", "reachable": False,
                               "t": 10}
    snapshot = await seek(communicator, 100)
    ready = {c["type"]: c["status"] for c in pod_status(snapshot, "sleeper")["conditions"]}
    assert ready["Ready"] == "False"
    events = [e["reason"] for e in snapshot["history"]["events"]]
    assert "NodeNotReady" in events
    await act(communicator, action="node", node="node-1", reachable=True)
    snapshot = await seek(communicator, 120)
    ready = {c["type"]: c["status"] for c in pod_status(snapshot, "sleeper")["conditions"]}
    assert ready["Ready"] == "True"
    await communicator.send_json_to({"type": "lab.action", "action": "node",
                                     "node": "node-9", "reachable": False})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected"
    assert 'nodes "node-9" not found' in error["detail"]["kubectl"]
    await communicator.disconnect()


async def test_cordon_and_drain_actions():
    communicator = await connect()
    await apply(communicator)
    await seek(communicator, 10)
    frame = await act(communicator, action="cordon", node="node-2", cordoned=True)
    assert frame["action"] == {"action": "cordon", "node": "node-2", "cordoned": True, "t": 10}
    frame = await act(communicator, action="drain", node="node-1")
    assert frame["action"] == {"action": "drain", "node": "node-1", "t": 10}
    snapshot = await seek(communicator, 60)
    assert snapshot["pods"] == []  # evicted with its 30 s grace, nothing recreates it
    events = [e["reason"] for e in snapshot["history"]["events"]]
    assert "Killing" in events
    await act(communicator, action="cordon", node="node-2", cordoned=False)
    await communicator.send_json_to({"type": "lab.action", "action": "drain",
                                     "node": "nowhere"})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected"
    await communicator.disconnect()


@pytest.mark.parametrize("action", [
    {"action": "image"},
    {"action": "image", "image": "nginx:1.99"},
    {"action": "image", "image": "", "available": True},
    {"action": "image", "image": 7, "available": True},
    {"action": "image", "image": "nginx", "available": "yes"},
    {"action": "image", "image": "n" * 600, "available": True},
    {"action": "node", "node": "node-1"},
    {"action": "node", "node": "Node_1", "reachable": True},
    {"action": "node", "reachable": False},
    {"action": "node", "node": "node-1", "reachable": 0},
    {"action": "service"},
    {"action": "service", "name": "My_Service"},
    {"action": "service", "name": "1abc"},
    {"action": "service", "name": "s" * 64},
    {"action": "service", "name": "db", "namespace": "Bad NS"},
    {"action": "service", "name": "db", "port": 0},
    {"action": "service", "name": "db", "port": 70000},
    {"action": "service", "name": "db", "port": "80"},
    {"action": "service", "name": "db", "port": True},
    {"action": "service", "name": "db", "target_port": "no_such_name!"},
    {"action": "service", "name": "db", "target_port": 0},
    {"action": "cordon", "node": "node-1"},
    {"action": "cordon", "node": "node-1", "cordoned": "true"},
    {"action": "drain"},
    {"action": "drain", "node": ""},
])
async def test_bad_cluster_action_fields(action):
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.action", **action})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "bad_field", action
    assert error["detail"]["field"] in ("image", "available", "node", "reachable", "name",
                                        "namespace", "port", "target_port", "cordoned")
    await communicator.disconnect()


async def test_restore_replays_cluster_actions():
    communicator = await connect()
    await communicator.send_json_to({
        "type": "lab.restore", "manifest": WAIT_FOR_SERVICES, "seed": 0, "t": 90,
        "actions": [{"t": 20, "action": "service", "name": "myservice"},
                    {"t": 40, "action": "service", "name": "mydb"}],
    })
    await receive_type(communicator, "lab.validation")
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["t"] == 90
    assert pod_status(snapshot, "myapp-pod")["phase"] == "Running"
    await communicator.disconnect()


async def frames_for(communicator, seconds):
    """Every lab.frame received in the next ``seconds``, with its arrival time (a playing lab
    sends one at least every HEARTBEAT_SECONDS, so waiting for the next one never times out;
    a timeout would cancel the consumer)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    out = []
    while loop.time() < end:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "lab.frame":
            out.append((loop.time(), message))
    return out


def fast_clock(monkeypatch, **seconds):
    """A lab clock that ticks every 0.05-0.1 s, however busy the machine, with the given
    frame intervals (``HEARTBEAT_SECONDS=0.4``...); the AGE refresh is off unless given."""
    seconds = {"TICK_SECONDS": 0.05, "MAX_TICK_SECONDS": 0.1, "QUIET_TICK_SECONDS": 0.1,
               "VIEWS_EVERY_SECONDS": 100.0, **seconds}
    for name, value in seconds.items():
        monkeypatch.setattr(consumers, name, value)


async def test_quiet_ticks_send_only_heartbeats(monkeypatch):
    fast_clock(monkeypatch, HEARTBEAT_SECONDS=0.4)
    communicator = await connect()
    await apply(communicator, RUNNING)
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    # The sleeper starts (news: full frames at once), then nothing happens but the clock.
    await frames_for(communicator, 1.0)
    quiet = await frames_for(communicator, 2.0)
    assert 3 <= len(quiet) <= 6  # some twenty ticks, a frame every 0.4 s
    gaps = [b[0] - a[0] for a, b in zip(quiet, quiet[1:], strict=False)]
    assert min(gaps) >= 0.35
    for _, frame in quiet:
        assert frame["t"] > 0 and frame["transitions"] == [] and frame["events"] == []
        assert not {"pods", "views", "probes", "probes_delta", "logs_append"} & set(frame)
    ts = [frame["t"] for _, frame in quiet]
    assert ts == sorted(ts) and ts[-1] - ts[0] >= 60  # the clock ran on at 60x meanwhile
    await communicator.disconnect()




async def test_a_quiet_lab_ticks_half_as_often(monkeypatch):
    """Ticks that find nothing to show come every QUIET_TICK_SECONDS, not every
    TICK_SECONDS: a quiet lab costs its worker and the server half the round trips."""
    fast_clock(monkeypatch, HEARTBEAT_SECONDS=5.0, MAX_TICK_SECONDS=0.3,
               QUIET_TICK_SECONDS=0.2)
    ticks: list[float] = []
    call = consumers.LabConsumer.call

    async def counted(self, op, **kwargs):
        if op == "tick":
            ticks.append(asyncio.get_running_loop().time())
        return await call(self, op, **kwargs)

    monkeypatch.setattr(consumers.LabConsumer, "call", counted)
    communicator = await connect()
    await apply(communicator, RUNNING)
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    await asyncio.sleep(1.0)  # the sleeper starts: news, frames at once
    ticks.clear()
    await asyncio.sleep(1.5)  # nothing to show, and the heartbeat is 5 s away
    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    assert len(ticks) >= 4 and gaps[len(gaps) // 2] >= 0.19, gaps  # not every 0.05 s
    await communicator.disconnect()


async def test_probe_meters_and_logs_arrive_as_deltas(monkeypatch):
    fast_clock(monkeypatch, PROBES_EVERY_SECONDS=0.2)
    communicator = await connect()
    snapshot = await apply(communicator, PROBED)
    meters = {(p["container"], p["probe"]): p for p in snapshot["probes"]}
    logs = dict(snapshot["views"]["logs"])
    await communicator.send_json_to({"type": "lab.play", "speed": 30})
    light_at = []
    for at, frame in await frames_for(communicator, 2.5):
        if "probes" in frame:
            meters = {(p["container"], p["probe"]): p for p in frame["probes"]}
            logs = dict(frame["views"]["logs"])
            continue
        light_at.append(at)
        assert "pods" not in frame and "views" not in frame
        for p in frame.get("probes_delta", []):
            key = (p["container"], p["probe"])
            old = meters.get(key, {"results": []})
            meters[key] = {**old, **p, "results": (old["results"] + p["results"])[-PROBE_HISTORY:]}
        for key, text in frame.get("logs_append", {}).items():
            logs[key] += text
    await communicator.send_json_to({"type": "lab.pause"})
    paused = await receive_type(communicator, "lab.frame")
    assert paused["playing"] is False
    # What the deltas built is what the server has at the moment the lab paused.
    assert meters == {(p["container"], p["probe"]): p for p in paused["probes"]}
    assert logs == paused["views"]["logs"]
    assert "kube-probe" in logs["probed/web"]
    gaps = [b - a for a, b in zip(light_at, light_at[1:], strict=False)]
    assert len(light_at) >= 3 and min(gaps) >= 0.15  # probe frames at most every 0.2 s
    await communicator.disconnect()


async def test_view_message_and_age_refresh_of_the_shown_view(monkeypatch):
    fast_clock(monkeypatch, HEARTBEAT_SECONDS=0.3, VIEWS_EVERY_SECONDS=0.5)
    communicator = await connect()
    await communicator.send_json_to({"type": "lab.view", "view": "top"})
    error = await communicator.receive_json_from()
    assert error["code"] == "bad_field" and error["detail"]["field"] == "view"
    await communicator.send_json_to({"type": "lab.view", "view": "describe"})  # no lab: kept
    await apply(communicator, RUNNING)
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    await frames_for(communicator, 1.0)
    quiet = [frame for _, frame in await frames_for(communicator, 2.0)]
    refreshed = [frame["views"] for frame in quiet if "views" in frame]
    # Only the shown view comes again, with its ages moved on.
    assert len(refreshed) >= 2 and all(set(v) == {"describe"} for v in refreshed)
    assert refreshed[0]["describe"]["sleeper"] != refreshed[-1]["describe"]["sleeper"]
    await communicator.send_json_to({"type": "lab.view", "view": "watch"})
    answer = await receive_type(communicator, "lab.frame")
    while "views" not in answer:
        answer = await receive_type(communicator, "lab.frame")
    assert {"get", "wide", "describe", "events", "logs", "watch"} <= set(answer["views"])
    later = [frame for _, frame in await frames_for(communicator, 1.5)]
    assert not any("views" in frame for frame in later)  # watch lines keep their age
    await communicator.disconnect()


async def test_the_clock_stops_by_itself_when_nothing_more_will_happen():
    communicator = await connect()
    await apply(communicator, SLEEPER)  # after "echo hello", a sleep past the lab's end
    await communicator.send_json_to({"type": "lab.play", "speed": 60})
    for _ in range(40):
        frame = await receive_type(communicator, "lab.frame")
        if not frame["playing"]:
            break
    assert frame["playing"] is False and frame["settled"] is True
    assert frame["t"] < 200  # quiet for a minute, logs for another, then the look-ahead
    await communicator.disconnect()


async def test_play_after_the_lab_settled_is_answered_without_playing():
    """Nothing is scheduled any more: Play answers with a frame that says so (``playing``
    false, ``settled`` true, ``next_t`` null) instead of flickering one tick."""
    communicator = await connect()
    await apply(communicator, """apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox:1.36, command: ["sh", "-c", "echo done"]}]
""")
    await communicator.send_json_to({"type": "lab.seek", "t": 60})
    await receive_type(communicator, "lab.snapshot")
    await communicator.send_json_to({"type": "lab.play", "speed": 10})
    answer = await receive_type(communicator, "lab.frame")
    assert answer["playing"] is False and answer["settled"] is True
    assert answer["next_t"] is None
    assert await communicator.receive_nothing(timeout=1)  # no clock running
    await communicator.disconnect()


async def test_a_refused_reapply_gives_each_problem_translated_on_its_line():
    communicator = await connect(lang="zh-hans")
    await apply(communicator)
    broken = SLEEPER.replace("name: sleeper", "name: Sleeper_Pod", 1)
    assert broken != SLEEPER
    await communicator.send_json_to({"type": "lab.action", "action": "apply",
                                     "manifest": broken})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected" and "Invalid value" in error["detail"]["kubectl"]
    problem = error["detail"]["problems"][0]
    assert problem["path"] == "metadata.name"
    assert problem["line"] == broken.splitlines().index("  name: Sleeper_Pod") + 1
    assert "小写字母" in problem["message"] and "must" not in problem["message"]
    await communicator.disconnect()


# --- connection caps across processes (podlab/core/conncaps.py) ---------------------------

def _redis_up() -> bool:
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


@pytest.fixture
def fresh_cap(monkeypatch):
    """A count of its own: sockets other tests left open must not fill the cap."""
    from podlab.core import conncaps

    monkeypatch.setattr(consumers, "ADDRESS_CAP", conncaps.AddressCap(
        "lab", "LAB_MAX_CONNECTIONS_PER_ADDRESS", 64))


@pytest.fixture
def shared_caps(settings, fresh_cap):
    """The lab's per-address cap counted in Redis, under a key prefix of this test's own."""
    import uuid

    import redis

    if not _redis_up():
        pytest.skip("needs Redis at 127.0.0.1:6379")
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.PODLAB_CHANNEL_PREFIX = f"test-labcaps-{uuid.uuid4().hex[:10]}."
    settings.LAB_MAX_CONNECTIONS_PER_ADDRESS = 2
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(settings.PODLAB_CHANNEL_PREFIX + "*"):
        client.delete(key)


async def test_lab_sockets_of_another_process_count_against_the_address(shared_caps):
    from podlab.core import conncaps

    # Another Daphne process of the deployment holds one lab socket of this address (the
    # test communicator's, which has none: "").
    elsewhere = conncaps.AddressCap("lab", "LAB_MAX_CONNECTIONS_PER_ADDRESS", 64,
                                    process="another-process")
    held = await elsewhere.admit("")
    assert held is not None
    mine = await connect()
    assert (await mine.receive_nothing(timeout=0.1))
    refused = WebsocketCommunicator(application, "/ws/lab/",
                                    headers=[(b"origin", b"http://localhost")])
    assert (await refused.connect())[0]
    message = await refused.receive_json_from()
    assert message["code"] == "too_many_connections" and message["detail"] == {"limit": 2}
    assert (await refused.receive_output())["code"] == consumers.CLOSE_TOO_MANY
    await elsewhere.release(held)
    again = await connect()  # the other process let its socket go
    await again.disconnect()
    await mine.disconnect()
    if elsewhere._heartbeat is not None:
        elsewhere._heartbeat.cancel()


async def test_lab_sockets_are_accepted_while_redis_is_down(settings, fresh_cap):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.LAB_MAX_CONNECTIONS_PER_ADDRESS = 2
    first, second = await connect(), await connect()  # counted by this process alone
    refused = WebsocketCommunicator(application, "/ws/lab/",
                                    headers=[(b"origin", b"http://localhost")])
    assert (await refused.connect())[0]
    assert (await refused.receive_json_from())["code"] == "too_many_connections"
    await first.disconnect()
    await second.disconnect()
    third = await connect()
    await apply(third)  # the lab itself needs no Redis
    await third.disconnect()


# --- hostile input: every field of every message, as an attacker would fill it -------------


async def receive_text(communicator, wanted, *, timeout=30):
    """The next message of type ``wanted`` as sent: its JSON text (for its size) and data."""
    while True:
        text = await communicator.receive_from(timeout=timeout)
        message = json.loads(text)
        assert message["type"] != "lab.error" or wanted == "lab.error", message
        if message["type"] == wanted:
            return text, message


@pytest.mark.parametrize("signal", [["TERM"], {"TERM": 1}])
async def test_a_kill_signal_of_another_type_is_a_bad_field(signal):
    # a list or an object was looked up in the signals' dict: TypeError, ``internal``, 4500
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.action", "action": "kill", "pod": "sleeper",
                                     "container": "main", "signal": signal})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "bad_field" and error["detail"]["field"] == "signal", error
    await communicator.send_json_to({"type": "lab.sync"})
    assert (await receive_type(communicator, "lab.snapshot"))["actions"] == []
    await communicator.disconnect()


@pytest.mark.parametrize(("actions", "field"), [
    ([{"t": 1, "action": "kill", "pod": "sleeper", "container": "main", "signal": ["x"]}],
     "actions[0].signal"),
    ([{"t": 1, "action": "delete", "pod": "sleeper"},
      {"t": 0.5, "action": "delete", "pod": "sleeper"}], "actions[1].t"),
    ([{"t": 1, "action": "delete", "pod": "sleeper"}, "delete"], "actions[1]"),
    ([{"t": 1, "action": "service", "name": "db", "port": 1e3}], "actions[0].port"),
    ([{"t": 1, "action": "nope"}], "actions[0].action"),
])
async def test_restore_names_the_bad_action_and_its_field(actions, field):
    communicator = await connect("/ws/lab/", "zh-hans")
    await communicator.send_json_to({"type": "lab.restore", "manifest": SLEEPER, "seed": 0,
                                     "actions": actions, "t": 10})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "bad_field" and error["detail"]["field"] == field, error
    assert error["message"] == consumers.error_text("bad_field", "zh-hans")
    await communicator.disconnect()


async def test_restore_drops_an_action_the_engine_refuses():
    """A shared link whose log was edited to delete a Pod that does not exist: the refused
    action leaves the log (a refused action is never recorded) and is told as ``rejected``;
    the lab goes on (it stopped at the refusal and every later seek failed there again)."""
    communicator = await connect()
    actions = [{"t": 5, "action": "delete", "pod": "nobody"},
               {"t": 8, "action": "delete", "pod": "sleeper", "grace_period": 30}]
    await communicator.send_json_to({"type": "lab.restore", "manifest": SLEEPER, "seed": 0,
                                     "actions": actions, "t": 20})
    assert (await receive_type(communicator, "lab.validation"))["ok"]
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["t"] == 20
    assert [(a["t"], a["pod"]) for a in snapshot["actions"]] == [(8, "sleeper")]
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected", error
    assert error["detail"]["field"] == "actions" and error["detail"]["t"] == 5
    assert 'pods "nobody" not found' in error["detail"]["kubectl"]
    # the log holds only what the engine accepted: moving back and forth tells nothing more
    for t in (0, 30):
        await communicator.send_json_to({"type": "lab.seek", "t": t})
        assert (await receive_type(communicator, "lab.snapshot"))["t"] == t
    assert await communicator.receive_nothing(0.5)
    await communicator.disconnect()


async def test_a_refused_action_of_a_restore_at_zero_is_told_when_its_time_comes():
    communicator = await connect()
    await communicator.send_json_to({
        "type": "lab.restore", "manifest": SLEEPER, "seed": 0, "t": 0,
        "actions": [{"t": 5, "action": "kill", "pod": "nobody", "container": "main"}]})
    assert (await receive_type(communicator, "lab.snapshot"))["actions"][0]["t"] == 5
    await communicator.send_json_to({"type": "lab.seek", "t": 10})
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["t"] == 10 and snapshot["actions"] == []
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected" and error["detail"]["action"] == "kill", error
    await communicator.disconnect()


@pytest.mark.parametrize(("text", "field"), [
    ('{"type":"lab.seek","t":NaN}', "t"),
    ('{"type":"lab.seek","t":Infinity}', "t"),
    ('{"type":"lab.seek","t":-Infinity}', "t"),
    ('{"type":"lab.seek","t":"5"}', "t"),
    ('{"type":"lab.seek","t":true}', "t"),
    ('{"type":"lab.speed","speed":NaN}', "speed"),
    ('{"type":"lab.speed","speed":1e308}', "speed"),
    ('{"type":"lab.play","speed":[1]}', "speed"),
    ('{"type":"lab.restore","manifest":"x","t":NaN}', "t"),
    ('{"type":"lab.restore","manifest":"x","t":-1}', "t"),
    ('{"type":"lab.logs","container":"sleeper/main","offset":1.5}', "offset"),
    ('{"type":"lab.logs","container":"sleeper/main","offset":-1e400}', "offset"),
    ('{"type":"lab.logs","container":"sleeper/main","limit":99999999999999}', "limit"),
    ('{"type":"lab.logs","container":{"a":1}}', "container"),
    ('{"type":"lab.view","view":["watch"]}', "view"),
    ('{"type":"lab.action","action":"delete","pod":"sleeper","grace_period":1e308}',
     "grace_period"),
])
async def test_numbers_and_types_an_attacker_sends_are_bad_fields(text, field):
    communicator = await connect()
    await apply(communicator)
    await communicator.send_to(text_data=text)
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "bad_field" and error["detail"]["field"] == field, error
    await communicator.send_json_to({"type": "lab.sync"})
    assert (await receive_type(communicator, "lab.snapshot"))["type"] == "lab.snapshot"
    await communicator.disconnect()


async def test_seeks_past_the_end_and_before_the_start_stop_at_the_lab_s_bounds():
    communicator = await connect()
    await apply(communicator)
    await communicator.send_to(text_data='{"type":"lab.seek","t":1e308}')
    snapshot = await receive_type(communicator, "lab.snapshot")
    assert snapshot["t"] == snapshot["until"] == services.DEFAULT_UNTIL
    await communicator.send_to(text_data='{"type":"lab.seek","t":-5}')
    assert (await receive_type(communicator, "lab.snapshot"))["t"] == 0
    await communicator.disconnect()


async def test_log_pages_out_of_range_are_clamped():
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.seek", "t": 10})
    await receive_type(communicator, "lab.snapshot")
    await communicator.send_json_to({"type": "lab.logs", "container": "sleeper/main"})
    whole = (await receive_type(communicator, "lab.logs"))["text"]
    assert "hello" in whole
    for offset, limit, start, text in ((10**11, 10, len(whole), ""),
                                       (-10**11, 3, 0, whole[:3]),
                                       (0, 0, 0, whole[:1]), (0, -5, 0, whole[:1])):
        await communicator.send_json_to({"type": "lab.logs", "container": "sleeper/main",
                                         "offset": offset, "limit": limit})
        page = await receive_type(communicator, "lab.logs")
        assert (page["offset"], page["total"], page["text"]) == (start, len(whole), text)
    await communicator.disconnect()


LONG_IMAGE = SLEEPER.replace("busybox:1.36", "a" * 60_000)
PROBE_EVERY_SECOND = SLEEPER.replace('"echo hello; sleep 3600"]', '"echo hello; sleep 3600"]\n'
                                     "    livenessProbe:\n"
                                     "      exec: {command: [sleep, '1e308']}\n"
                                     "      periodSeconds: 1\n      timeoutSeconds: 1\n"
                                     "      failureThreshold: 2147483647\n")


@pytest.mark.parametrize("manifest", [LONG_IMAGE, PROBE_EVERY_SECOND],
                         ids=["60000-character-image", "probe-fails-every-second"])
async def test_an_hour_of_long_or_many_entries_fits_a_frame(manifest):
    """An hour of a probe that times out every second (3,600 narration entries) or of events
    that quote a 60,000-character image name: the snapshot keeps the last entries that fit
    (it was ``frame_too_large`` and the lab ended)."""
    communicator = await connect()
    await apply(communicator, manifest)
    await communicator.send_json_to({"type": "lab.seek", "t": 3600})
    text, snapshot = await receive_text(communicator, "lab.snapshot")
    assert snapshot["t"] == 3600
    assert len(text.encode()) <= runner.MAX_FRAME_BYTES + 100
    assert snapshot["history_truncated"] is True
    assert 0 < len(snapshot["history"]["events"]) <= runner.HISTORY_TAIL
    assert len(snapshot["history"]["narration"]) <= runner.HISTORY_TAIL
    await communicator.disconnect()


async def test_a_rolling_update_share_that_is_no_number_is_a_validation_problem():
    # a pasted '1e308%' passed validation and crashed the Deployment controller: ``internal``
    manifest = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
                "  replicas: 2\n  strategy: {rollingUpdate: {maxSurge: '1e308%'}}\n"
                "  selector: {matchLabels: {app: web}}\n  template:\n"
                "    metadata: {labels: {app: web}}\n"
                "    spec: {containers: [{name: web, image: 'nginx:1.27'}]}\n")
    communicator = await connect()
    await communicator.send_json_to({"type": "lab.apply", "manifest": manifest})
    validation = await receive_type(communicator, "lab.validation")
    assert not validation["ok"]
    assert [(p["path"], p["line"]) for p in validation["problems"]] == [
        ("spec.strategy.rollingUpdate.maxSurge", 6)]
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_a_socket_the_server_cancels_gives_back_its_count_and_its_lab(monkeypatch):
    """Daphne cancels an application that has not ended 10 s after its socket closed (a test
    communicator, when its disconnect times out): a handler still waiting for a busy worker
    never reached ``disconnect``, so the connection caps counted the socket for ever and its
    lab stayed in its worker (an attacker could fill the caps of a classroom's address)."""
    original = consumers.LabConsumer.call
    handles = []

    async def slow(self, op, **kwargs):
        handles.append(self._handle())
        if op == "validate":
            await asyncio.sleep(30)  # a worker busy with other labs' requests
        return await original(self, op, **kwargs)

    monkeypatch.setattr(consumers.LabConsumer, "call", slow)
    before, held = consumers._open, len(consumers.ADDRESS_CAP.local)
    communicator = await connect()
    await apply(communicator)
    assert consumers._open == before + 1
    await communicator.send_json_to({"type": "lab.validate", "manifest": SLEEPER})
    await asyncio.sleep(0.2)
    await communicator.disconnect(timeout=0.2)  # gives up waiting: the consumer is cancelled
    for _ in range(20):
        await asyncio.sleep(0.05)
        if not getattr(consumers, "_releasing", ()):  # address tickets being given back
            break
    assert consumers._open == before
    assert len(consumers.ADDRESS_CAP.local) == held
    assert handles and all(handle.closed for handle in handles)


async def test_deleting_a_pod_whose_grace_period_is_the_largest_int64():
    # its deadline overflowed the timestamp: ``internal`` and the socket closed with 4500
    communicator = await connect()
    await apply(communicator, SLEEPER.replace(
        "spec:\n", "spec:\n  terminationGracePeriodSeconds: 9223372036854775807\n", 1))
    await communicator.send_json_to({"type": "lab.seek", "t": 10})  # bound to the node
    await receive_type(communicator, "lab.snapshot")
    await communicator.send_json_to({"type": "lab.action", "action": "delete", "pod": "sleeper"})
    frame = await receive_type(communicator, "lab.frame")
    pod = next(p for p in frame["pods"] if p["metadata"]["name"] == "sleeper")
    assert pod["metadata"]["deletionTimestamp"] == "9999-12-31T23:59:59Z"
    await communicator.disconnect()


@pytest.mark.parametrize(("image", "kubectl"), [
    ("::::", 'invalid reference format: "::::"'),
    ("Busy Box:1", 'invalid reference format: "Busy Box:1"'),
    ("a" * 512, 'invalid reference format: "' + "a" * 512 + '"'),
    ("busybox@sha256:" + "0" * 64, 'invalid reference format: "busybox@sha256:' + "0" * 64
     + '" cannot be pushed (a tag is needed, not a digest)'),
])
async def test_an_image_that_is_no_reference_is_refused_for_what_it_is(image, kubectl):
    # every refusal said "a tag is needed, not a digest", also for '::::'
    communicator = await connect()
    await apply(communicator)
    await communicator.send_json_to({"type": "lab.action", "action": "image", "image": image,
                                     "available": True})
    error = await receive_type(communicator, "lab.error")
    assert error["code"] == "rejected" and error["detail"]["kubectl"] == kubectl, error
    await communicator.disconnect()
