"""Predict questions are answered by the engine, never by hand.

parse_manifests -> Simulation.apply -> actions -> run_until(t) -> kubectl's summary of the Pod.
The result is cached per process: the engine is deterministic, so the same question always
gives the same value until the engine itself changes (a new deploy).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from podlab.course.content import course

from .bank import Action, PredictSpec, Question

NOT_FOUND = "NotFound"  # what `kubectl get pod NAME` reports once the Pod is gone


class EngineUnavailable(Exception):
    """The simulation core cannot be imported or could not run this manifest."""


@dataclass(frozen=True)
class PredictOutcome:
    value: str
    pod: str
    table: str  # the whole `kubectl get pods` output at t, shown after answering


def manifest_text(spec: PredictSpec) -> tuple[str, str]:
    """(text, filename) of the question's manifest."""
    if spec.example:
        example = course().examples.get(spec.example)
        if example is None:
            raise EngineUnavailable(f"unknown example {spec.example!r}")
        return example.text(), example.filename
    return spec.manifest or "", "quiz.yaml"


def _container_state(pod: dict, container: str) -> tuple[str, str]:
    status = pod.get("status") or {}
    every = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for cs in every:
        if cs.get("name") == container:
            state = cs.get("state") or {}
            for key in ("waiting", "running", "terminated"):
                if key in state:
                    return key.capitalize(), str((state[key] or {}).get("reason") or "")
    return "", ""


@lru_cache(maxsize=1024)
def _run(text: str, filename: str, actions: tuple[Action, ...], at: float, ask: str,
         pod_name: str | None, container: str | None) -> PredictOutcome:
    try:
        return _simulate(text, filename, actions, at, ask, pod_name, container)
    except EngineUnavailable:
        raise
    except Exception as exc:  # the engine is being extended: report it, never crash a page
        raise EngineUnavailable(f"the simulation failed: {exc!r}") from exc


def _simulate(text: str, filename: str, actions: tuple[Action, ...], at: float, ask: str,
              pod_name: str | None, container: str | None) -> PredictOutcome:
    try:
        from podlab.engine.apiserver.manifest import parse_manifests
        from podlab.engine.kubectl.get import get_pods, summarize_pod
        from podlab.engine.simulation import Simulation
    except ImportError as exc:  # the simulation core is still being finished
        raise EngineUnavailable(str(exc)) from exc
    result = parse_manifests(text, filename=filename)
    if not result.ok:
        raise EngineUnavailable(f"{filename} is not a valid manifest: {result.problems[0]}")
    sim = Simulation(seed=0)
    sim.apply(result.objects)
    for action in actions:
        sim.run_until(action.at)
        sim.delete_pod(action.pod, grace_period=action.grace_period)
    sim.run_until(at)
    pods = sim.pods()
    names = [p["metadata"]["name"] for p in result.objects if p.get("kind") == "Pod"]
    name = pod_name or (names[0] if len(names) == 1 else None)
    if name is None:
        raise EngineUnavailable("the manifest has several Pods: name one with predict.pod")
    table = get_pods(pods=pods, now=sim.now) if pods else ""
    pod = next((p for p in pods if p["metadata"]["name"] == name), None)
    if pod is None:
        return PredictOutcome(value=NOT_FOUND, pod=name, table=table)
    summary = summarize_pod(pod=pod, now=sim.now)
    if ask == "status":
        value = summary.status
    elif ask == "ready":
        value = summary.ready
    elif ask == "restarts":
        value = summary.restarts
    elif ask == "restart_count":
        value = summary.restarts.split(" ", 1)[0]
    elif ask == "phase":
        value = str((pod.get("status") or {}).get("phase") or "")
    elif ask == "container_state":
        value = _container_state(pod, container or "")[0]
    else:
        value = _container_state(pod, container or "")[1]
    return PredictOutcome(value=value, pod=name, table=table)


def engine_outcome(*, spec: PredictSpec) -> PredictOutcome:
    text, filename = manifest_text(spec)
    return _run(text, filename, spec.actions, spec.at, spec.ask, spec.pod, spec.container)


def check_predict_question(*, question: Question) -> list[str]:
    """Problems that keep a predict question from having exactly one right candidate."""
    assert question.predict is not None  # noqa: S101 - callers pass predict questions only
    try:
        outcome = engine_outcome(spec=question.predict)
    except EngineUnavailable as exc:
        return [f"{question.key}: the engine cannot answer it: {exc}"]
    matching = [c.value for c in question.choices if c.value == outcome.value]
    if not matching:
        candidates = ", ".join(repr(c.value) for c in question.choices)
        return [f"{question.key}: the engine says {outcome.value!r}, which is none of the "
                f"candidates ({candidates})"]
    return []
