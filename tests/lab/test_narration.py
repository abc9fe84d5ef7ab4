"""The lab's narration, guided scenarios and learner-facing validation messages."""

import re

import pytest

from podlab.course.content import course
from podlab.lab import consumers, narration, scenarios, services

CJK = re.compile(r"[\u4e00-\u9fff]")
BAD = re.compile(r"\b(None|null|undefined)\b")


def example(name: str) -> str:
    return course().examples[name].text()


def start(text: str, lang: str = "en") -> services.LabSession:
    lab, validation = services.lab_start(manifest_text=text, seed=0, lang=lang)
    assert lab is not None, validation
    return lab


def told(lab: services.LabSession, lang: str = "en") -> list[dict]:
    return lab.snapshot(lang=lang)["history"]["narration"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_liveness_example_names_each_failure_and_the_kill_before_the_restart(lang):
    lab = start(example("probes-exec-liveness"), lang)
    lab.advance_to(80)
    entries = told(lab, lang)
    kinds = [e["kind"] for e in entries]
    failures = [e for e in entries if e["kind"] == "probe-failure"]
    assert [(e["t"], e["params"]["count"], e["params"]["threshold"]) for e in failures] == [
        (35.0, 1, 3), (40.0, 2, 3), (45.0, 3, 3)]
    assert all(e["field"].endswith("livenessProbe.failureThreshold") for e in failures)
    kill = next(e for e in entries if e["kind"] == "kill")
    assert kill["t"] == 45.0 and kill["params"]["grace"] == 30 and kill["rule"] == "liveness.kill"
    exit_ = next(e for e in entries if e["kind"] == "exit")
    assert exit_["t"] == 75.0 and exit_["code"] == "sigkill-shell"
    assert exit_["field"] == "spec.containers[0].args"
    restart = next(e for e in entries if e["kind"] == "restart")
    assert restart["params"]["count"] == 1
    assert kinds.index("kill") < kinds.index("exit") < kinds.index("restart")
    for e in entries:
        assert e["text"] and not BAD.search(e["text"] + e.get("cause", "") + e.get("change", ""))
        assert e["lesson"].startswith(f"/{lang}/lessons/")
    if lang == "zh-hans":
        assert "存活探针" in kill["text"] and "30 秒" in kill["text"]
        assert "2 次" in failures[1]["text"]
    else:
        assert "2 of 3" in failures[1]["text"] and "30 s" in kill["text"]


def test_frames_carry_only_new_narration():
    lab = start(example("probes-exec-liveness"))
    lab.advance_to(10)
    lab.snapshot(lang="en")
    lab.advance_to(36)
    first = lab.frame(lang="en")["narration"]
    assert [e["kind"] for e in first] == ["probe-failure"]
    assert lab.frame(lang="en", full=False)["narration"] == []


def test_a_deletion_causes_the_phase_change_not_the_restart_policy():
    lab = start(example("probes-exec-liveness"))
    lab.advance_to(10)
    lab.act({"action": "delete", "pod": "liveness-exec"})
    lab.advance_to(60)
    entries = told(lab)
    kill = next(e for e in entries if e["kind"] == "kill")
    assert kill["code"] == "delete-kill" and kill["field"] == "kubectl delete pod"
    phase = [e for e in entries if e["kind"] == "phase"][-1]
    assert phase["code"] == "phase-deleted" and phase["field"] == "kubectl delete pod"
    assert "restartPolicy" not in phase.get("cause", "")


def test_crashloop_back_off_waits_double():
    lab = start(example("restart-policy-and-backoff-crashloop"))
    lab.advance_to(200)
    delays = [e["params"]["delay"] for e in told(lab) if e["kind"] == "backoff"]
    assert delays[:3] == [10, 20, 40]
    assert "Restarting in 20 s" in [e["text"] for e in told(lab) if e["kind"] == "backoff"][1]


def test_routine_probe_successes_are_not_narrated():
    lab = start(example("probes-tcp-goproxy"))
    lab.advance_to(120)
    assert not [e for e in told(lab) if e["kind"].startswith("probe")]


def test_failure_meter_counts_only_the_current_container():
    lab = start(example("probes-exec-liveness"))
    lab.advance_to(46)
    meter = next(p for p in lab.probes() if p["probe"] == "liveness")
    assert meter["failures"] == 3
    lab.advance_to(80)
    meter = next(p for p in lab.probes() if p["probe"] == "liveness")
    assert meter["failures"] == 0


def test_every_kind_has_text_and_breakpoints_are_kinds():
    assert set(narration.BREAK_KINDS) <= set(narration.KINDS)
    for code, (text, slug, anchor) in narration.TEXT.items():
        assert str(text) and slug and anchor, code


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_liveness_scenario_steps_are_checked_against_the_engine(lang):
    ex = course().examples["probes-exec-liveness"]
    scenario = scenarios.scenario_for(ex, lang=lang)
    steps = scenario["steps"]
    assert [s["t"] for s in steps] == [46, 46, 76]
    assert [s["check"]["value"] for s in steps] == ["narration", "narration", "restarts"]
    assert steps[1]["check"]["param"] == "grace"
    for step in steps:
        assert "t = " in step["question"] and not BAD.search(step["question"])
    if lang == "zh-hans":
        assert "预测" in steps[2]["question"]


def test_every_example_gets_a_scenario_in_both_languages():
    for ex in course().examples.values():
        for lang in ("en", "zh-hans"):
            scenario = scenarios.scenario_for(ex, lang=lang)
            if not re.search(r"^kind: (Pod|Deployment|ReplicaSet|Job)$", ex.text(), re.M):
                assert scenario is None, ex.id  # a Service to apply while a Pod waits
                continue
            assert scenario is not None and scenario["steps"], (ex.id, lang)
            for step in scenario["steps"]:
                assert step["question"] and step["explain"], ex.id
                assert not BAD.search(step["question"] + step["explain"]), ex.id


@pytest.mark.parametrize(("example_id", "checks"), [
    ("scheduling-gated", [("phase", None)]),
    ("pods-and-controllers-deployment", [("phase", None), ("pods-in-phase", "Running")]),
    ("pods-and-controllers-job", [("phase", None), ("pods-in-phase", "Succeeded")]),
])
def test_gated_and_controller_examples_have_guided_steps(example_id, checks):
    ex = course().examples[example_id]
    steps = scenarios.scenario_for(ex, lang="en")["steps"]
    assert [(s["check"]["value"], s["check"].get("phase")) for s in steps] == checks
    # each answer is what the engine shows at the step's moment
    lab = start(ex.text())
    for step in steps:
        lab.advance_to(step["t"])
        pods = lab.sim.pods()
        check = step["check"]
        if check["value"] == "phase":
            phase = next(p for p in pods if p["metadata"]["name"] == check["pod"])[
                "status"]["phase"]
            assert phase in step["explain"] or phase == "Pending", (phase, step)
        else:
            count = sum(1 for p in pods if p["status"]["phase"] == check["phase"])
            assert count == 3 and step["explain"].startswith("3 Pods"), (count, step)
    zh = scenarios.scenario_for(ex, lang="zh-hans")["steps"]
    assert all(CJK.search(s["question"]) for s in zh)


def test_a_gated_pod_is_narrated_with_its_gates():
    lab = start(example("scheduling-gated"))
    lab.advance_to(30)
    entries = lab.snapshot(lang="en")["history"]["narration"]
    gated = [e for e in entries if e["code"] == "gated"]
    assert len(gated) == 1 and "example.com/quota-check" in gated[0]["text"]
    assert gated[0]["field"] == "spec.schedulingGates"
    assert lab.sim.pods()[0]["status"]["phase"] == "Pending"


def test_build_is_pure_and_orders_steps():
    entries = [
        {"t": 9.5, "kind": "restart", "code": "restart", "pod": "p", "container": "c",
         "params": {"policy": "Always", "count": 1}},
        {"t": 3.0, "kind": "phase", "code": "phase", "pod": "p", "container": "",
         "params": {"old": "Running", "new": "Failed"}},
    ]
    built = scenarios.build(entries, lang="en")
    assert [s["t"] for s in built["steps"]] == [4, 10]
    assert built["steps"][0]["choices"] == scenarios.PHASES


@pytest.mark.parametrize(("lang", "needle"), [
    ("en", 'write 5, not "5"'), ("zh-hans", '写 5，不要写 "5"')])
def test_type_errors_say_how_to_fix_them(lang, needle):
    text = example("probes-exec-liveness").replace("periodSeconds: 5", 'periodSeconds: "5"')
    _, validation = services.validate_manifest(manifest_text=text, lang=lang)
    problem = validation["problems"][0]
    assert needle in problem["message"]
    assert "cannot unmarshal" not in problem["message"]
    assert "cannot unmarshal string" in problem["kubectl"]
    assert problem["line"] > 1


def test_unknown_field_suggests_the_right_name():
    text = example("probes-exec-liveness").replace("periodSeconds: 5", "periodSecond: 5")
    _, validation = services.validate_manifest(manifest_text=text, lang="en")
    assert "Did you mean periodSeconds?" in validation["problems"][0]["message"]


def test_hello_limits_carry_the_message_rate():
    assert services.HELLO["limits"]["messages_per_second"] == consumers.RATE_PER_SECOND


def test_a_lab_with_only_routine_probe_checks_ahead_is_settled():
    lab = start(example("probes-tcp-goproxy"))
    lab.advance_to(30)
    assert not lab.settled()  # it changed less than a minute ago
    for t in range(40, 200, 5):  # the clock asks as it goes (a quiet spell is timed)
        lab.advance_to(t)
        lab.settled()
    assert lab.next_t() is not None  # probe checks are still scheduled
    assert lab.settled() and lab.settled_known()


def test_a_crash_loop_never_settles():
    lab = start(example("restart-policy-and-backoff-crashloop"))
    for t in range(100, 1500, 100):
        lab.advance_to(t)
        assert not lab.settled(), t


def test_a_quiet_spell_before_a_late_exit_is_not_settled():
    text = example("what-is-a-pod-hello")
    lab = start(text)
    for t in range(40, 200, 5):
        lab.advance_to(t)
        lab.settled()
    assert lab.settled()
    sleeper = start("""apiVersion: v1
kind: Pod
metadata:
  name: late
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "sleep 500"]
""")
    for t in range(40, 200, 5):
        sleeper.advance_to(t)
        assert not sleeper.settled()  # the shell's sleep ends at t = 500: not routine
    sleeper.advance_to(520)
    assert sleeper.settled()  # Succeeded: nothing is scheduled any more


def test_every_narration_link_points_at_a_lesson_section():
    by_slug = {lesson.slug: lesson for lesson in course().lessons}
    for code, (_text, slug, anchor) in narration.TEXT.items():
        assert slug in by_slug, code
        for lang in ("en", "zh-hans"):
            assert "{#" + anchor + "}" in by_slug[slug].markdown(lang), (code, lang)


def test_explanations_never_show_a_missing_value():
    lab = start(example("probes-exec-liveness"))
    lab.advance_to(80)
    for lang in ("en", "zh-hans"):
        for entry in lab.snapshot(lang=lang)["history"]["narration"]:
            for text in (entry["text"], entry.get("cause", "")):
                assert not BAD.search(text), text
    for tr in lab.snapshot(lang="en")["history"]["transitions"]:
        assert "explain" not in tr  # the narration tells it: one wording, not two


def test_every_engine_rule_is_told_or_deliberately_silent():
    """Each rule the engine can record either has its narration or is told by another entry."""
    import inspect

    from podlab.engine.core import transitions

    source = inspect.getsource(narration.Narrator)
    told = set(narration.IMAGE_CODES) | {
        rule for rule, r in transitions.RULES.items()
        if f'"{rule}"' in source or r.field == "phase"}  # every phase change is told
    assert set(transitions.RULES) <= told | narration.SILENT_RULES, sorted(
        set(transitions.RULES) - told - narration.SILENT_RULES)


def test_every_told_transition_of_the_examples_has_its_entry():
    """Played out, each example's transitions (other than the silent rules) are narrated at
    their moment, for their Pod and container."""
    seen = set()
    for ex in course().examples.values():
        if "kind: Pod\n" not in ex.text():
            continue
        lab = start(ex.text())
        lab.advance_to(200)
        entries = lab.snapshot(lang="en")["history"]["narration"]
        told = {(e["t"], e["pod"], e.get("container", "")) for e in entries}
        for tr in lab.sim.transitions:
            if tr.rule in narration.SILENT_RULES or tr.field in ("restartCount", "started"):
                continue
            if tr.field == "ready" and tr.rule == "readiness.unready":
                continue  # said by the exit entry when the container had no readiness probe
            if tr.field == "ready" and tr.rule == "readiness.ready":
                continue  # said once per container without a probe
            if tr.field == "phase" and tr.old == tr.new:
                continue
            seen.add(tr.rule)
            key = (tr.t, tr.pod, tr.container if tr.field == "state" else "")
            assert key in told, (ex.id, tr.rule, tr.t)
    assert {"image.pull-denied", "container.started", "restart.backoff"} <= seen


def test_play_on_a_settled_lab_runs_on_instead_of_stopping_after_one_tick():
    lab = start(example("probes-tcp-goproxy"))
    for t in range(40, 200, 5):
        lab.advance_to(t)
        lab.settled()
    assert lab.settled()
    assert lab.play_on()  # probe checks are still scheduled: time can pass
    stopped_at = None
    for _ in range(200):  # the clock's ticks, 5 simulated seconds each
        lab.advance_to(lab.t + 5)
        if lab.settled():
            stopped_at = lab.t
            break
    # it ran on for a whole look-ahead, then the quiet lab stopped by itself again
    assert stopped_at is not None and stopped_at >= 195 + services.QUIET_SECONDS


def test_play_with_nothing_scheduled_is_refused():
    lab = start(example("phases-and-conditions-one-shot"))
    lab.advance_to(600)
    assert lab.next_t() is None and lab.settled()
    assert not lab.play_on()


def test_a_pod_starting_to_run_is_not_caused_by_the_restart_policy():
    lab = start(example("restart-policy-and-backoff-crashloop"))
    lab.advance_to(10)
    entries = told(lab)
    running = next(e for e in entries if e["code"] == "phase"
                   and e["params"]["new"] == "Running")
    assert "field" not in running and "cause" not in running


NGINX = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: web
    image: nginx:{tag}
"""


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_an_image_stopped_with_sigquit_is_narrated_with_its_stopsignal(lang):
    # nginx's image says STOPSIGNAL SIGQUIT since 1.19.5: the runtime sends that, not SIGTERM
    lab = start(NGINX.format(tag="1.21"), lang)
    lab.advance_to(10)
    lab.act({"action": "delete", "pod": "web"})
    lab.advance_to(20)
    entries = told(lab, lang)
    kill = next(e for e in entries if e["kind"] == "kill")
    assert kill["code"] == "delete-kill-signal" and kill["params"]["signal"] == "SIGQUIT"
    assert "SIGQUIT" in kill["text"] and "SIGTERM" not in kill["text"]
    exit_ = next(e for e in entries if e["kind"] == "exit")
    assert exit_["code"] == "stop-exit" and "SIGQUIT" in exit_["text"]
    assert ("STOPSIGNAL" in kill["text"]) and (CJK.search(kill["text"]) is not None) == (
        lang == "zh-hans")


def test_an_older_nginx_is_still_stopped_with_sigterm():
    lab = start(NGINX.format(tag="1.14.2"))
    lab.advance_to(10)
    lab.act({"action": "delete", "pod": "web"})
    lab.advance_to(20)
    kill = next(e for e in told(lab) if e["kind"] == "kill")
    assert kill["code"] == "delete-kill" and "SIGTERM" in kill["text"]


def test_a_second_shorter_delete_narrates_the_shorter_grace():
    lab = start(NGINX.format(tag="1.14.2").replace("image: nginx:1.14.2",
                                                    "image: busybox:1.36\n    command: "
                                                    "[\"sleep\", \"3600\"]"))
    lab.advance_to(10)
    lab.act({"action": "delete", "pod": "web"})
    lab.act({"action": "delete", "pod": "web", "grace_period": 60})  # longer: ignored
    lab.advance_to(12)
    lab.act({"action": "delete", "pod": "web", "grace_period": 3})
    lab.advance_to(30)
    kills = [e for e in told(lab) if e["kind"] == "kill"]
    assert [k["params"]["grace"] for k in kills][-1] == 3
    exit_ = next(e for e in told(lab) if e["kind"] == "exit")
    assert exit_["code"] == "sigkill" and exit_["params"]["grace"] == 3 and exit_["t"] == 15.0


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_namespace_deletion_is_named_as_the_cause_of_the_kill(lang):
    text = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n"
            + NGINX.format(tag="1.14.2").replace("name: web\nspec:",
                                                  "name: web\n  namespace: shop\nspec:"))
    lab = start(text, lang)
    lab.advance_to(10)
    lab.act({"action": "delete", "namespace": "shop"})
    lab.advance_to(30)
    kill = next(e for e in told(lab, lang) if e["kind"] == "kill")
    assert kill["code"] == "namespace-kill" and kill["field"] == "kubectl delete namespace"
    assert kill["params"] == {"namespace": "shop", "signal": "SIGTERM", "grace": 10,
                              "grace_field": "terminationGracePeriodSeconds"}
    assert "shop" in kill["text"] and "10" in kill["text"]
    assert (CJK.search(kill["text"]) is not None) == (lang == "zh-hans")
