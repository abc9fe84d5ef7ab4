"""LabSession: what frames carry, so that a page that merges them sees what the engine has."""

import pytest

from podlab.engine.kubelet.probes import HISTORY as PROBE_HISTORY
from podlab.engine.runtime.runtime import log_entry_text
from podlab.lab import services

from .manifests import NAMESPACED, PROBED


def start(manifest: str = PROBED) -> services.LabSession:
    lab, validation = services.lab_start(manifest_text=manifest, seed=0, lang="en")
    assert lab is not None, validation
    return lab


def merge(meters: dict, report: list[dict], *, delta: bool = False) -> None:
    for p in report:
        key = (p["pod"], p["container"], p["probe"])
        if delta and key in meters:
            kept = meters[key]["results"]
            p = {**meters[key], **p, "results": (kept + p["results"])[-PROBE_HISTORY:]}
        meters[key] = p


def test_probe_deltas_merged_give_every_meter():
    lab = start()
    meters: dict = {}
    merge(meters, lab.snapshot(lang="en")["probes"])
    sizes = []
    for _ in range(120):
        lab.advance_to(lab.t + 1.5)
        frame = lab.frame(lang="en", full=lab.has_news())
        if "probes" in frame:
            meters = {}
            merge(meters, frame["probes"])
        else:
            assert "pods" not in frame
            merge(meters, frame.get("probes_delta", []), delta=True)
            sizes.append(len(frame.get("probes_delta", [])))
            # Each delta carries only results the page has not had yet.
            for p in frame.get("probes_delta", []):
                assert 1 <= len(p["results"]) <= 2
    expected: dict = {}
    merge(expected, lab.sim.probe_report())
    assert meters == expected
    # A quiet tick carries only the probes that ran, not all three.
    assert 0 in sizes and 1 in sizes and max(sizes) < 3


def test_light_frames_carry_what_the_logs_gained():
    lab = start()
    snapshot = lab.snapshot(lang="en")
    shown = dict(snapshot["views"]["logs"])
    appended_to = set()
    for _ in range(60):
        lab.advance_to(lab.t + 1)
        full = lab.has_news()
        pending = lab.logs_pending()
        frame = lab.frame(lang="en", full=full)
        if full:
            shown = dict(frame["views"]["logs"])
            continue
        assert "views" not in frame
        assert ("logs_append" in frame) == pending
        for key, text in frame.get("logs_append", {}).items():
            assert text  # only logs that grew, only what they gained
            shown[key] += text
            appended_to.add(key)
    # nginx logs every probe request; the worker prints every 7 s.
    assert appended_to == {"probed/web", "probed/worker"}
    assert shown == lab.logs()["logs"]


def test_a_replaced_log_is_sent_whole():
    lab = start()
    lab.snapshot(lang="en")
    lab.advance_to(30)
    lab.frame(lang="en")
    lab._logs_sent["logs"]["probed/worker"] = "something else\n"
    frame = lab.frame(lang="en", full=False)
    assert set(frame["views"]) == {"logs", "logs_previous"}
    assert frame["views"]["logs"]["probed/worker"] == lab.sim.logs("probed", "worker")


def test_views_on_request_and_pods_cached_per_version():
    lab = start()
    lab.advance_to(60)
    lab.frame(lang="en")
    first = lab.pods()
    assert lab.pods() is first  # nothing changed: the same copy
    frame = lab.frame(lang="en", full=False, views=True)
    assert frame["views"]["get"].startswith("NAME")
    assert "pods" not in frame
    lab.act({"action": "delete", "pod": "probed"})
    assert lab.pods() is not first
    assert lab.pods()[0]["metadata"]["deletionTimestamp"]


def test_has_news_follows_records_and_transitions():
    lab = start()
    lab.snapshot(lang="en")
    assert not lab.has_news()
    lab.advance_to(10)
    assert lab.has_news()
    lab.frame(lang="en", full=False)
    assert not lab.has_news()


def test_log_text_is_everything_written_in_order():
    """The joined log is built incrementally; it must always equal a join of every write."""
    lab = start()
    checked = 0
    for _ in range(30):
        lab.advance_to(lab.t + 2.5)
        for worker in lab.sim._workers.values():
            for slot in worker.slots:
                inst = slot.current
                if inst is None:
                    continue
                assert inst.log_text() == "".join(log_entry_text(entry) for entry in inst.log)
                assert inst.log_text() is inst.log_text()  # unchanged: the same string
                checked += 1
    assert checked >= 50
    assert lab.sim.logs("probed", "worker").count("tick") >= 10


def test_a_running_lab_makes_no_reference_cycles():
    """While a lab runs (exec, HTTP and TCP probes, logs, frames, kubectl views) everything it
    discards is freed by reference counting: nothing is left for the cyclic collector, whose
    full passes would stop a server holding a thousand labs."""
    import gc

    lab = start()
    lab.snapshot(lang="en")
    lab.advance_to(60)
    lab.frame(lang="en")
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(40):
            lab.advance_to(lab.t + 2.5)
            lab.frame(lang="en", full=lab.has_news() or i % 10 == 0, views=i % 5 == 0)
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_a_starting_manifest_creates_everything_it_holds():
    """As kubectl apply -f does (and as a re-apply does): the lesson examples whose Pods read
    a ConfigMap and a Secret, or whose Service must exist before the Pod, work in the lab."""
    from podlab.course.content import course

    examples = course().examples
    env = start(examples["volumes-env-sources"].text())
    env.advance_to(20)
    assert env.sim.pods()[0]["status"]["phase"] == "Succeeded"
    assert "level=debug greeting=hello" in env.sim.logs("env-demo")
    links = start(examples["pod-networking-service-env"].text())
    links.advance_to(20)
    assert "CACHE_SERVICE_PORT=6379" in links.sim.logs("env-links")
    php = start(examples["multi-container-patterns-nginx-php-fpm"].text())
    php.advance_to(30)
    statuses = php.sim.pods()[0]["status"]["containerStatuses"]
    assert all(s["ready"] for s in statuses), statuses


def test_no_lesson_example_waits_on_an_object_its_manifest_holds():
    import re

    from podlab.course.content import course

    for example in course().examples.values():
        text = example.text()
        lab, _validation = services.lab_start(manifest_text=text, seed=0, lang="en")
        if lab is None:
            continue  # a manifest with no Pod (a Service to apply while a Pod waits)
        held = set(re.findall(
            r"^kind: (?:ConfigMap|Secret|PersistentVolumeClaim)\nmetadata:\n(?:  .*\n)*?"
            r"  name: (\S+)", text, re.M))
        lab.advance_to(60)
        for event in lab.sim.events():
            for name in held:
                assert f'"{name}" not found' not in event["message"], (example.id, event)


def test_an_action_after_seeking_back_drops_the_later_actions():
    """The log stays in time order (a restore takes it back) and replays to what is shown;
    a refused action leaves the later actions in place."""
    lab = start()
    lab.advance_to(50)
    lab.act({"action": "kill", "pod": "probed", "container": "worker", "signal": "KILL"})
    lab.seek(20)
    with pytest.raises(services.LabError):
        lab.act({"action": "delete", "pod": "nobody"})
    assert [a["t"] for a in lab.actions] == [50.0]
    lab.act({"action": "kill", "pod": "probed", "container": "web", "signal": "TERM"})
    assert [(a["t"], a.get("signal")) for a in lab.actions] == [(20.0, "TERM")]
    lab.advance_to(60)
    replay = start()
    replay.actions = list(lab.actions)
    replay.advance_to(60)
    assert replay.pods() == lab.pods() and replay.logs() == lab.logs()


def test_deleting_a_terminating_pod_again_is_recorded_not_refused():
    # kubectl prints `pod "probed" deleted` again: the API accepts a second delete
    lab = start()
    lab.advance_to(20)
    lab.act({"action": "delete", "pod": "probed"})
    again = lab.act({"action": "delete", "pod": "probed", "grace_period": 2})
    assert again == {"action": "delete", "pod": "probed", "grace_period": 2, "t": 20.0}
    assert lab.pods()[0]["metadata"]["deletionGracePeriodSeconds"] == 2
    assert len(lab.actions) == 2
    lab.advance_to(30)
    assert lab.pods() == []
    with pytest.raises(services.LabError) as refused:
        lab.act({"action": "delete", "pod": "probed"})
    assert refused.value.detail["kubectl"] == (
        'Error from server (NotFound): pods "probed" not found')




def test_deleting_a_namespace_from_the_lab():
    lab = start(NAMESPACED)
    lab.advance_to(10)
    recorded = lab.act({"action": "delete", "namespace": "shop"})
    assert recorded == {"action": "delete", "namespace": "shop", "t": 10.0}
    phases = {n["metadata"]["name"]: n["status"]["phase"]
              for n in lab.sim.list_objects("Namespace")}
    assert phases["shop"] == "Terminating"
    assert lab.sim.pod("web", "shop")["metadata"]["deletionTimestamp"]
    lab.advance_to(20)
    assert lab.sim.pod("web", "shop") is None
    assert "shop" not in {n["metadata"]["name"] for n in lab.sim.list_objects("Namespace")}
    for name, kubectl in [
        ("default", 'Error from server (Forbidden): namespaces "default" is forbidden: '
                    "this namespace may not be deleted"),
        ("kube-public", 'Error from server (Forbidden): namespaces "kube-public" is '
                        "forbidden: this namespace may not be deleted"),
        ("shop", 'Error from server (NotFound): namespaces "shop" not found'),
    ]:
        with pytest.raises(services.LabError) as refused:
            lab.act({"action": "delete", "namespace": name})
        assert refused.value.code == "rejected"
        assert refused.value.detail["kubectl"] == kubectl
    with pytest.raises(services.LabError) as bad:
        services.clean_action({"action": "delete", "namespace": "Not_A_Label"})
    assert bad.value.detail["field"] == "namespace"
