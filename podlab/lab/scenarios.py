"""Guided scenarios: every lesson example as a few steps the learner predicts, then checks.

A scenario is built by playing the example once on the server (the engine is deterministic)
and picking its key moments: the first probe failure that reaches the threshold, the first
kill, the first restart, the first phase change after Running. Each becomes a step that pauses
the lab there and asks for a prediction; the page checks the answer against what the engine
shows at that moment (``check`` names the value), never against a stored answer.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from .narration import PROBE_NAMES, render
from .services import LabError, lab_start

#: how far the server plays an example to find its moments (simulated seconds)
HORIZON = 600.0
MAX_STEPS = 3
PHASES = ["Pending", "Running", "Succeeded", "Failed"]


def scenario_for(example: Any, *, lang: str) -> dict[str, Any] | None:
    return _scenario(example.id, example.text(), lang)


@functools.lru_cache(maxsize=256)
def _scenario(example_id: str, text: str, lang: str) -> dict[str, Any] | None:
    try:
        lab, _validation = lab_start(manifest_text=text, seed=0, lang=lang, until=HORIZON)
    except LabError:
        return None
    if lab is None:
        return None
    lab.advance_to(HORIZON)
    lab.narrator.actions = lab.actions
    lab.narrator.collect()
    return build(lab.narrator.entries, lang=lang, example_id=example_id)


def _at(t: float) -> int:
    """The whole second just after a moment: the lab pauses there, the moment behind it."""
    return int(math.floor(t)) + 1


def _count_in(phased: list[dict[str, Any]], phase: str) -> int:
    """How many Pods are in ``phase`` after the phase changes ``phased``."""
    last: dict[str, str] = {}
    for e in phased:
        last[e["pod"]] = e["params"]["new"]
    return sum(1 for new in last.values() if new == phase)


def build(entries: list[dict[str, Any]], *, lang: str, example_id: str = "") -> dict[str, Any]:
    """Steps from narration entries (as data). Pure: easy to test with made-up entries."""
    steps: list[dict[str, Any]] = []
    used: set[str] = set()
    with translation.override(lang):
        for e in entries:
            if len(steps) >= MAX_STEPS:
                break
            kind, params = e["kind"], e.get("params") or {}
            who = e.get("container") or e.get("pod")
            if kind == "probe-failure" and e["code"] == "probe-failed-last" \
                    and "threshold" not in used:
                used.add("threshold")
                steps.append({
                    "t": _at(e["t"]), "kind": "number",
                    "question": gettext(
                        "Predict: how many failures in a row of the %(probe)s will the kubelet "
                        "have counted when it acts at t = %(t)d s?") % {
                        "probe": str(PROBE_NAMES.get(params.get("probe", ""), "")),
                        "t": _at(e["t"])},
                    "check": {"value": "narration", "code": "probe-failed-last",
                              "param": "count", "pod": e["pod"], "container": e["container"]},
                    "explain": render(e, lang=lang)["text"],
                })
            elif kind == "kill" and "kill" not in used:
                used.add("kill")
                steps.append({
                    "t": _at(e["t"]), "kind": "number",
                    "question": gettext(
                        "The kubelet is stopping %(who)s at t = %(t)d s. Predict: how many "
                        "seconds will it wait for the process before it sends SIGKILL?") % {
                        "who": who, "t": _at(e["t"])},
                    "check": {"value": "narration", "code": e["code"], "param": "grace",
                              "pod": e["pod"], "container": e["container"]},
                    "explain": render(e, lang=lang)["text"],
                })
            elif kind == "restart" and "restart" not in used:
                used.add("restart")
                steps.append({
                    "t": _at(e["t"]), "kind": "number",
                    "question": gettext(
                        "Predict: what will RESTARTS show for %(who)s at t = %(t)d s?") % {
                        "who": who, "t": _at(e["t"])},
                    "check": {"value": "restarts", "pod": e["pod"], "container": e["container"]},
                    "explain": render(e, lang=lang)["text"],
                })
            elif kind == "phase" and params.get("old") not in (None, "Pending") \
                    and "phase" not in used:
                used.add("phase")
                steps.append({
                    "t": _at(e["t"]), "kind": "choice", "choices": PHASES,
                    "question": gettext(
                        "Predict: which phase will the Pod %(pod)s be in at t = %(t)d s?") % {
                        "pod": e["pod"], "t": _at(e["t"])},
                    "check": {"value": "phase", "pod": e["pod"]},
                    "explain": render(e, lang=lang)["text"],
                })
        steps.sort(key=lambda s: s["t"])
        if not steps and entries:
            # Nothing dramatic happens: the lesson is the steady state itself (or a Pod that
            # never leaves Pending: an image that cannot be pulled, no node that fits).
            last = entries[-1]
            phases = [e for e in entries if e["kind"] == "phase"]
            for e in phases[:1] or [{**last, "t": max(last["t"], 29.0), "kind": "phase"}]:
                if e["kind"] == "phase":
                    steps.append({
                        "t": _at(e["t"]), "kind": "choice", "choices": PHASES,
                        "question": gettext(
                            "Predict: which phase will the Pod %(pod)s be in at t = %(t)d s?")
                        % {"pod": e["pod"], "t": _at(e["t"])},
                        "check": {"value": "phase", "pod": e["pod"]},
                        "explain": render(e, lang=lang)["text"],
                    })
                    break
        # Controllers make several Pods: how many are in the phase the last one reaches?
        phased = [e for e in entries if e["kind"] == "phase" and (e.get("params") or {}).get("new")]
        if len({e["pod"] for e in phased}) >= 2 and len(steps) < MAX_STEPS:
            last = phased[-1]
            phase = last["params"]["new"]
            steps.append({
                "t": _at(last["t"]), "kind": "number",
                "question": gettext(
                    "Predict: how many Pods will be in phase %(phase)s at t = %(t)d s?") % {
                    "phase": phase, "t": _at(last["t"])},
                "check": {"value": "pods-in-phase", "phase": phase},
                "explain": gettext("%(count)d Pods are %(phase)s at t = %(t)d s.") % {
                    "count": _count_in(phased, phase),
                    "phase": phase, "t": _at(last["t"])},
            })
        steps.sort(key=lambda s: s["t"])
        return {"example": example_id, "steps": steps,
                "intro": gettext("Start the guided steps: the lab plays the example and "
                                 "pauses at each step so you can predict what comes next.")}
