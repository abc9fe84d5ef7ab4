"""A learner's lab: one deterministic simulation, its action log, and what the page shows.

Nothing here knows about websockets: the consumer calls these functions and sends the dicts
they return. Seeking backwards replays the recorded actions from t = 0 (the engine is
deterministic), so every moment of a lab can be reproduced from (manifest, seed, actions, t).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from podlab.engine.apiserver.manifest import ManifestResult, parse_manifests
from podlab.engine.core.version import KUBERNETES_VERSION
from podlab.engine.kubectl.describe import describe_pod
from podlab.engine.kubectl.get import PodWatch, get_events, get_pods
from podlab.engine.kubelet.probes import ProbeWorker
from podlab.engine.runtime import process
from podlab.engine.simulation import Simulation

from .narration import Narrator
from .narration import render_all as render_narration
from .problems import explain_admission, explain_problem
from .workers import WorkerError, cpu_budget

MAX_MANIFEST_BYTES = 64 * 1024
MAX_CONTAINERS = 12
MAX_PODS = 5
MAX_UNTIL = 4 * 3600.0
DEFAULT_UNTIL = 3600.0
MAX_ACTIONS = 200
#: a lab that has not changed for QUIET_SECONDS is checked ahead: if replaying it shows no
#: change in the next LOOKAHEAD_SECONDS either (only routine probe checks), its clock stops
QUIET_SECONDS = 60.0
LOOKAHEAD_SECONDS = 600.0
#: the engine's periodic work that changes nothing by itself being scheduled: probe checks and
#: the node's eviction check (anything else pending — a process waking, a back-off ending —
#: means something will happen, and no look-ahead is needed to say so)
ROUTINE_WORK = frozenset({"ProbeWorker.tick", "Node._arm_eviction.<locals>.<lambda>",
                          "Node._arm_image_gc.<locals>.<lambda>"})
#: messages a connection may send per second (the consumer's token bucket refills at this rate)
MESSAGES_PER_SECOND = 20
SPEEDS: tuple[float, ...] = (1, 2, 5, 10, 30, 60)
SIGNALS = {"TERM": process.SIGTERM, "KILL": process.SIGKILL, "INT": process.SIGINT}
#: kubectl views with AGE columns, which move on while nothing else changes
AGED_VIEWS = ("wide", "describe", "events")
ACTIONS = ("delete", "apply", "kill", "image", "node", "service", "cordon", "drain")
MAX_IMAGE_CHARS = 512
#: Node names are DNS subdomains; Service names DNS-1035 labels; namespaces DNS-1123 labels.
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class LabError(Exception):
    """A request the lab refuses; ``code`` is a protocol error code (docs/protocol.md)."""

    def __init__(self, code: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


WORKLOADS = ("Deployment", "ReplicaSet", "Job")


def _pod_spec_containers(spec: dict[str, Any]) -> int:
    return len(spec.get("containers") or []) + len(spec.get("initContainers") or [])


def _workload_demand(obj: dict[str, Any]) -> tuple[int, int]:
    """(Pods, containers) a workload asks for: Deployments and ReplicaSets their replicas,
    Jobs their parallelism (at most completions)."""
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    if obj.get("kind") == "Job":
        parallelism = spec.get("parallelism", 1)
        completions = spec.get("completions")
        pods = parallelism if completions is None else min(parallelism, completions)
    else:
        pods = spec.get("replicas", 1)
    pods = pods if isinstance(pods, int) and not isinstance(pods, bool) else 1
    return max(0, pods), max(0, pods) * _pod_spec_containers(template)


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return obj.get("kind", "Pod"), meta.get("namespace") or "default", meta.get("name", "")


def check_capacity(sim: Simulation, objects: list[dict[str, Any]]) -> None:
    """Refuse an apply after which the lab would run more than ``MAX_PODS`` Pods or
    ``MAX_CONTAINERS`` containers, counting the Pods that Deployments, ReplicaSets and Jobs
    will create (like a ResourceQuota on ``pods``, but before anything is created)."""
    demand: dict[tuple[str, str, str], tuple[int, int]] = {}
    for pod in sim.pods():
        if not (pod.get("metadata") or {}).get("ownerReferences"):
            demand[_key(pod)] = (1, _pod_spec_containers(pod.get("spec") or {}))
    for kind in WORKLOADS:
        for obj in sim.list_objects(kind):
            owned = (obj.get("metadata") or {}).get("ownerReferences")
            if not (kind == "ReplicaSet" and owned):
                demand[_key(obj)] = _workload_demand(obj)
    for obj in objects:
        kind = obj.get("kind", "Pod")
        if kind == "Pod":
            demand[_key(obj)] = (1, _pod_spec_containers(obj.get("spec") or {}))
        elif kind in WORKLOADS:
            demand[_key(obj)] = _workload_demand(obj)
    pods = sum(p for p, _ in demand.values())
    containers = sum(c for _, c in demand.values())
    if pods > MAX_PODS or containers > MAX_CONTAINERS:
        resource, used, limit = (("pods", pods, MAX_PODS) if pods > MAX_PODS
                                 else ("containers", containers, MAX_CONTAINERS))
        raise LabError("rejected", "apply", limit=resource, requested=used, max=limit,
                       kubectl=(f'Error from server (Forbidden): error when creating "lab.yaml": '
                                f"exceeded quota: lab, requested: {resource}={used}, "
                                f"limited: {resource}={limit}"))


def _count_containers(objects: list[dict[str, Any]]) -> int:
    total = 0
    for obj in objects:
        spec = obj.get("spec") or {}
        total += len(spec.get("containers") or []) + len(spec.get("initContainers") or [])
    return total


def validate_manifest(*, manifest_text: str, lang: str) -> tuple[ManifestResult, dict[str, Any]]:
    """Validate like the API server; return the result and the ``lab.validation`` message."""
    if len(manifest_text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise LabError("too_large", "manifest", limit=MAX_MANIFEST_BYTES)
    result = parse_manifests(manifest_text, filename="lab.yaml")
    problems = [explain_problem(p, lang=lang) for p in result.problems]
    notes = [n for n in result.notes if n.code != "Warning"]
    warnings = [explain_problem(n, lang=lang) for n in result.notes if n.code == "Warning"]
    pods = [o for o in result.objects if o.get("kind") == "Pod"]
    runnable = [o for o in result.objects if o.get("kind") in ("Pod", *WORKLOADS)]
    if result.ok and not runnable:
        problems.append(
            {"line": 1, "column": 1, "path": "", "code": "NoPod",
             "message": _no_pod_message(lang), "summary": "", "kubectl": ""}
        )
    # Deployments, ReplicaSets and Jobs count with the Pods they will create.
    demand = [_workload_demand(o) for o in runnable if o.get("kind") in WORKLOADS]
    if (len(pods) + sum(p for p, _ in demand) > MAX_PODS
            or _count_containers(pods) + sum(c for _, c in demand) > MAX_CONTAINERS):
        problems.append(
            {"line": 1, "column": 1, "path": "", "code": "LimitExceeded",
             "message": _too_many_message(lang), "summary": "", "kubectl": ""}
        )
    warnings.extend(suspicious(pods=pods, result=result, lang=lang))
    message = {
        "type": "lab.validation",
        "ok": not problems,
        "problems": problems,
        "warnings": warnings,
        "notes": [explain_problem(n, lang=lang) for n in notes],
    }
    if result.problems:
        message["kubectl"] = result.kubectl_line()
    return result, message


def _no_pod_message(lang: str) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(lang):
        return gettext("The manifest has no Pod to simulate.")


def _too_many_message(lang: str) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(lang):
        return gettext("The lab runs at most %(pods)d Pods with %(containers)d containers.") % {
            "pods": MAX_PODS, "containers": MAX_CONTAINERS}


def suspicious(*, pods: list[dict[str, Any]], result: ManifestResult,
               lang: str) -> list[dict[str, Any]]:
    """Warnings for valid manifests that will probably not do what the learner wants."""
    from django.utils import translation
    from django.utils.translation import gettext

    out: list[dict[str, Any]] = []
    with translation.override(lang):
        for d, pod in enumerate(pods):
            spec = pod.get("spec") or {}
            grace = spec.get("terminationGracePeriodSeconds", 30)
            for i, c in enumerate(spec.get("containers") or []):
                base = f"spec.containers[{i}]"
                image = str(c.get("image", ""))
                tagless = "@" not in image and ":" not in image.rsplit("/", 1)[-1]
                if (image.endswith(":latest") or tagless) and c.get(
                        "imagePullPolicy") == "IfNotPresent":
                    out.append(_warning(base + ".imagePullPolicy", gettext(
                        ":latest with IfNotPresent: the node keeps whatever image it pulled "
                        "first, so new pushes are not picked up.")))
                live = c.get("livenessProbe")
                if live and not c.get("startupProbe"):
                    budget = live.get("initialDelaySeconds", 0) + live.get(
                        "periodSeconds", 10) * live.get("failureThreshold", 3)
                    start = _declared_start_delay(c)
                    if start is not None and start >= budget:
                        out.append(_warning(base + ".livenessProbe", gettext(
                            "This liveness probe gives the container %(budget)d s, but it "
                            "needs about %(start)d s to start: it will be killed before it "
                            "is up. Add a startupProbe.") % {"budget": budget, "start": start}))
                pre = ((c.get("lifecycle") or {}).get("preStop") or {})
                sleep = (pre.get("sleep") or {}).get("seconds")
                if sleep is not None and sleep > grace:
                    out.append(_warning(base + ".lifecycle.preStop", gettext(
                        "The preStop hook sleeps %(sleep)d s but the grace period is "
                        "%(grace)d s: the container is killed before the hook ends.")
                        % {"sleep": sleep, "grace": grace}))
            del d
    # Locate each warning with the position the validator knows for that path.
    positions = {p.path: (p.line, p.column) for p in result.notes}
    for w in out:
        w["line"], w["column"] = positions.get(w["path"], (w["line"], w["column"]))
    return out


def _declared_start_delay(container: dict[str, Any]) -> int | None:
    for env in container.get("env") or []:
        if env.get("name") == "START_DELAY":
            try:
                return int(float(env.get("value", "")))
            except ValueError:
                return None
    return None


def _warning(path: str, message: str) -> dict[str, Any]:
    return {"line": 1, "column": 1, "path": path, "code": "Suspicious", "message": message,
            "summary": message, "kubectl": ""}


@dataclass
class _LookAhead:
    """A look ahead of ``LabSession.settled`` under way: from ``start`` (the lab's moment,
    quiet since ``last``, with ``actions`` recorded) to ``horizon``; ``before``: the
    replay's records, transitions and logs at ``start``, once it got there."""

    last: float
    start: float
    horizon: float
    actions: int
    before: tuple[int, int, dict[str, Any]] | None = None


@dataclass
class LabSession:
    """One learner's simulation: manifest, seed, recorded actions and the current moment."""

    manifest_text: str
    objects: list[dict[str, Any]]
    seed: int = 0
    until: float = DEFAULT_UNTIL
    actions: list[dict[str, Any]] = field(default_factory=list)
    sim: Simulation = field(init=False)
    record_cursor: int = field(default=0, init=False)
    transition_cursor: int = field(default=0, init=False)
    watch_lines: list[str] = field(default_factory=list, init=False)
    _watch: PodWatch = field(init=False)
    _watch_cursor: int = field(default=0, init=False)
    _objects_key: tuple[int, int] = field(default=(-1, -1), init=False)
    _objects_cache: tuple[list[dict[str, Any]], list[dict[str, Any]]] = field(
        default=([], []), init=False)
    _logs_sent: dict[str, dict[str, str]] = field(default_factory=dict, init=False)
    _probes_sent: int = field(default=-1, init=False)
    _probe_marks: dict[tuple[str, str, str], tuple[Any, ...]] = field(
        default_factory=dict, init=False)
    #: CPU seconds one move (advance, seek, step, action) may take when the lab runs outside
    #: a worker (see workers.cpu_budget); None in a worker, which has budgets of its own
    cpu_budget: float | None = field(default=None, init=False)
    narrator: Narrator = field(init=False)
    _settled: tuple[float, float, bool] | None = field(default=None, init=False)
    refused: list[dict[str, Any]] = field(default_factory=list, init=False)
    #: recorded actions the engine refused when they were replayed (a shared link whose log
    #: was edited): they leave the log, as a refused action is never recorded; each
    #: ``{t, action, kubectl}``, until :meth:`take_refused_actions` hands them on
    refused_actions: list[dict[str, Any]] = field(default_factory=list, init=False)
    #: the seek under way: where it started and the CPU its slices used so far
    seek_from: float = field(default=0.0, init=False)
    seek_cpu: float = field(default=0.0, init=False)
    _quiet_logs: tuple[float, dict[str, Any], float] | None = field(default=None, init=False)
    #: the replay ``settled`` looks ahead with, and the look under way
    _ahead: LabSession | None = field(default=None, init=False, repr=False, compare=False)
    _looking: _LookAhead | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rebuild()

    @contextmanager
    def _budget(self) -> Iterator[None]:
        try:
            with cpu_budget(self.cpu_budget):
                yield
        except WorkerError as exc:
            raise LabError(exc.code, "budget", **exc.detail) from None

    # --- building and moving -----------------------------------------------------------

    def _rebuild(self) -> None:
        self._played_on = -1.0
        self.sim = Simulation(seed=self.seed)
        #: what admission refused of the manifest (a namespace or ServiceAccount missing)
        self.refused = self.sim.apply(self.objects)
        self.record_cursor = 0
        self.transition_cursor = 0
        self._watch = PodWatch()
        self._watch_cursor = 0
        self.watch_lines = []
        self._replayed = 0
        self._objects_key = (-1, -1)
        self._probes_sent = -1
        self._probe_marks = {}
        self.narrator = Narrator(sim=self.sim, specs={
            (o.get("metadata") or {}).get("name", ""): o.get("spec") or {}
            for o in self.objects if o.get("kind", "Pod") == "Pod"})

    @property
    def t(self) -> float:
        return self.sim.now

    def advance_to(self, t: float) -> None:
        """Run forward to ``t``, applying recorded actions at their times."""
        with self._budget():
            self._advance_to(t)

    def _advance_to(self, t: float) -> None:
        t = min(max(t, self.sim.now), self.until)
        while self._replayed < len(self.actions) and self.actions[self._replayed]["t"] <= t:
            self.sim.run_until(self.actions[self._replayed]["t"])
            self._replay()
        self.sim.run_until(t)
        self._update_watch()

    def seek(self, t: float) -> None:
        self.advance_to(self.seek_target(t))

    def seek_target(self, t: float) -> float:
        """Where a seek to ``t`` goes (within 0 and ``until``); a seek backwards starts the
        simulation again from t = 0 (the actions replay), so moving forward reaches it."""
        t = min(max(0.0, float(t)), self.until)
        if t < self.sim.now:
            self._rebuild()
        return t

    def advance_slice(self, t: float, cpu_seconds: float) -> bool:
        """Run forward toward ``t`` like :meth:`advance_to`, but stop once ``cpu_seconds``
        of CPU are spent, between two moments of the simulation (never inside one: every
        callback due at a moment has run, and the clock stands at that moment). True when
        ``t`` was reached; called again, it goes on from where it stopped."""
        with self._budget():
            return self._advance_slice(t, cpu_seconds)

    def _advance_slice(self, t: float, cpu_seconds: float) -> bool:
        t = min(max(t, self.sim.now), self.until)
        clock = time.process_time
        deadline = clock() + cpu_seconds
        sim = self.sim
        try:
            while True:
                action = (self.actions[self._replayed]
                          if self._replayed < len(self.actions) else None)
                goal = action["t"] if action is not None and action["t"] <= t else t
                while True:
                    upcoming = sim.next_time()
                    if upcoming is None or upcoming > goal:
                        break
                    if clock() >= deadline:
                        return False
                    sim.run_until(upcoming)
                sim.run_until(goal)
                if goal == t and (action is None or action["t"] > t):
                    return True
                assert action is not None  # noqa: S101 - goal is the action's time
                self._replay()
        finally:
            self._update_watch()

    def _replay(self) -> None:
        """Apply the next recorded action (its time has come). One the engine refuses
        leaves the log and is kept to be told (``refused_actions``)."""
        action = self.actions[self._replayed]
        try:
            self._perform(action)
        except LabError as exc:
            if exc.code != "rejected":
                raise
            del self.actions[self._replayed]
            self.refused_actions.append({"t": action["t"], "action": action["action"],
                                         "kubectl": exc.detail.get("kubectl", "")})
            return
        self._replayed += 1

    def take_refused_actions(self) -> list[dict[str, Any]]:
        refused, self.refused_actions = self.refused_actions, []
        return refused

    def next_t(self) -> float | None:
        nxt = self.sim.next_time()
        upcoming = [a["t"] for a in self.actions[self._replayed:]]
        candidates = [x for x in [nxt, *upcoming] if x is not None]
        if not candidates:
            return None
        value = min(candidates)
        return value if value <= self.until else None

    def _last_change(self) -> float:
        records, transitions = self.sim.records, self.sim.transitions
        return max(records[-1].t if records else 0.0, transitions[-1].t if transitions else 0.0)

    def settled(self, cpu_seconds: float | None = None) -> bool:
        """Whether nothing more will happen: nothing is scheduled, or the lab has been quiet
        for QUIET_SECONDS and a replay of it (the engine is deterministic) shows no change in
        the next LOOKAHEAD_SECONDS either (no Pod change, event, transition or log line) —
        only probe checks that change nothing. Answered once per quiet spell.

        The replay runs for at most ``cpu_seconds`` of CPU a call (None: to its end): until
        it is done the answer is False (the lab plays on) and the next call goes on with it.
        It is kept for the next quiet spell, so a lab's history is replayed from t = 0 once,
        not at every look ahead (again after a seek backwards that passed it)."""
        if self.next_t() is None:
            self._looking = None
            return True
        last = self._quiet_since()
        if last is None:
            self._looking = None
            return False
        cached = self._settled
        if cached is not None and cached[0] == last and (not cached[2] or self.t < cached[1]):
            self._looking = None
            return cached[2]
        return self._look_ahead(last, cpu_seconds)

    def looking_ahead(self) -> bool:
        """Whether a look ahead (``settled``) is under way."""
        return self._looking is not None

    def _quiet_since(self) -> float | None:
        """The time of the last change when the lab is quiet (only routine work scheduled,
        no change for QUIET_SECONDS and no log line for QUIET_SECONDS more), else None."""
        if self.t < self._played_on:
            return None  # the learner pressed Play on a settled lab: run on (play_on)
        if len(self.actions) > self._replayed or self.t - self._last_change() < QUIET_SECONDS:
            return None
        last = self._last_change()
        # Cheap checks first: only routine work scheduled, and no log line for a while.
        if any(getattr(cb, "__qualname__", "") not in ROUTINE_WORK
               for cb in self.sim.loop.pending(self.until)):
            return None
        logs = self.logs()
        quiet = self._quiet_logs
        if quiet is None or quiet[0] != last or quiet[1] != logs:
            self._quiet_logs = (last, logs, self.t)
            return None
        if self.t - quiet[2] < QUIET_SECONDS:
            return None
        return last

    def _replica_fits(self, ahead: LabSession) -> bool:
        """Whether ``ahead`` replays this lab's history up to now: not past this moment,
        and the actions it performed are this lab's, none of the others before its time."""
        done = ahead._replayed
        return (ahead.t <= self.t and ahead.actions[:done] == self.actions[:done]
                and all(a["t"] >= ahead.t for a in self.actions[done:]))

    def _look_ahead(self, last: float, cpu_seconds: float | None) -> bool:
        look = self._looking
        if (look is None or look.last != last or look.actions != len(self.actions)
                or self.t < look.start):
            ahead = self._ahead
            if ahead is None or not self._replica_fits(ahead):
                ahead = LabSession(manifest_text=self.manifest_text, objects=self.objects,
                                   seed=self.seed, until=self.until)
            ahead.actions = list(self.actions)
            self._ahead = ahead
            look = self._looking = _LookAhead(
                last=last, start=self.t, horizon=min(self.t + LOOKAHEAD_SECONDS, self.until),
                actions=len(self.actions))
        ahead = self._ahead
        assert ahead is not None  # noqa: S101 - set with the look
        clock = time.process_time
        deadline = clock() + (math.inf if cpu_seconds is None else cpu_seconds)
        if look.before is None:
            if not ahead.advance_slice(look.start, max(0.0, deadline - clock())):
                return False
            look.before = (len(ahead.sim.records), len(ahead.sim.transitions), ahead.logs())
        if not ahead.advance_slice(look.horizon, max(0.0, deadline - clock())):
            return False
        # A container still writing to its log is something to watch too.
        answer = (len(ahead.sim.records), len(ahead.sim.transitions), ahead.logs()) == look.before
        self._settled = (last, look.horizon, answer)
        self._looking = None
        if answer and self.t >= look.horizon:
            # The lab played past the horizon meanwhile: look ahead again from here (the
            # replica stands at the horizon, so only the time since is replayed).
            return self._look_ahead(last, None if cpu_seconds is None
                                    else max(0.0, deadline - clock()))
        if answer:
            self._ahead = None  # settled: the clock stops, the replica's memory goes
        return answer

    def settled_known(self) -> bool:
        """What ``settled()`` last found, without looking ahead again (for frames)."""
        if self.next_t() is None:
            return True
        cached = self._settled
        return bool(cached and cached[0] == self._last_change() and cached[2]
                    and self.t < cached[1])

    def play_on(self) -> bool:
        """The learner pressed Play. False when nothing is scheduled at all: no time that
        passes can change anything. Otherwise True; on a lab found settled the clock then runs
        on to the end of the look-ahead that found it quiet (then it looks ahead again), so
        Play plays instead of stopping after one tick."""
        if self.next_t() is None or self.t >= self.until:
            return False
        if self.settled_known() and self._settled is not None:
            self._played_on = max(self._settled[1], self.t + QUIET_SECONDS)
        return True

    def step(self) -> bool:
        """Advance to the next moment something happens; False when nothing is left."""
        nxt = self.next_t()
        if nxt is None:
            return False
        self.advance_to(nxt)
        return True

    # --- actions --------------------------------------------------------------------------

    def act(self, action: dict[str, Any]) -> dict[str, Any]:
        """Record ``action`` at the current time and apply it; returns it as recorded.
        After a seek backwards the recorded actions later than now have not happened yet:
        an action taken now starts a new future, and they are dropped (as in the classroom),
        so the log stays in time order and replays to what the learner sees."""
        if self._replayed >= MAX_ACTIONS:
            raise LabError("bad_field", "actions", field="action", limit=MAX_ACTIONS)
        recorded = clean_action(action)
        recorded["t"] = self.sim.now
        with self._budget():
            self._perform(recorded)
            del self.actions[self._replayed:]
            self.actions.append(recorded)
            self._replayed = len(self.actions)
            # What the action sets off at this very moment (Killing, Terminating) happens now.
            self.sim.run_until(self.sim.now)
        self._update_watch()
        return recorded

    def _perform(self, action: dict[str, Any]) -> None:
        kind = action["action"]
        if kind == "delete" and "namespace" in action:
            # the NamespaceLifecycle refusals (immortal namespace, unknown one) as kubectl
            # prints them; an accepted delete leaves the namespace controller to empty it
            refused = self.sim.namespaces.delete(action["namespace"])
            if refused is not None:
                raise LabError("rejected", "delete", kubectl=refused["kubectl"])
        elif kind == "delete":
            ok = self.sim.delete_pod(action["pod"], grace_period=action.get("grace_period"))
            if not ok:
                raise LabError("rejected", "delete", kubectl=(
                    f'Error from server (NotFound): pods "{action["pod"]}" not found'))
        elif kind == "kill":
            signal = SIGNALS[action.get("signal", "KILL")]
            if not self.sim.kill_container(action["pod"], action["container"], signal=signal):
                raise LabError("rejected", "kill", kubectl=(
                    f'error: unable to upgrade connection: container not found '
                    f'("{action["container"]}")'))
        elif kind == "apply":
            result = parse_manifests(action["manifest"], filename="lab.yaml")
            if not result.ok:
                raise LabError("rejected", "apply", kubectl=result.kubectl_line())
            check_capacity(self.sim, result.objects)
            problems = self.sim.apply(result.objects)
            if problems:
                raise LabError("rejected", "apply", kubectl=problems[0].get("kubectl", ""))
        elif kind == "image":
            ports = self._declared_ports(action["image"])
            if not self.sim.set_image_available(action["image"], action["available"], ports):
                # a digest names content, which a push cannot choose; anything else is not a
                # reference at all (upper case, '::::', a space...)
                why = (" cannot be pushed (a tag is needed, not a digest)"
                       if "@" in action["image"] else "")
                raise LabError("rejected", "image", kubectl=(
                    f'invalid reference format: "{action["image"]}"{why}'))
        elif kind in ("node", "cordon", "drain"):
            self._node_action(action)
        elif kind == "service":
            self._create_service(action)

    def _declared_ports(self, image: str) -> list[tuple[int, str]]:
        """The ports the lab's containers using ``image`` declare (a pushed test image
        listens on them)."""
        ports: list[tuple[int, str]] = []
        for pod in self.sim.pods():
            spec = pod.get("spec") or {}
            for container in [*(spec.get("initContainers") or []),
                              *(spec.get("containers") or [])]:
                if container.get("image") != image:
                    continue
                for port in container.get("ports") or []:
                    entry = (int(port.get("containerPort", 0)), str(port.get("protocol", "TCP")))
                    if entry[0] and entry not in ports:
                        ports.append(entry)
        return ports

    def _node_action(self, action: dict[str, Any]) -> None:
        """``node`` (lose or restore), ``cordon`` (or uncordon) and ``drain``: refused only
        for a node the cluster does not have; repeating a state changes nothing."""
        name = action["node"]
        if name not in {n["metadata"]["name"] for n in self.sim.nodes()}:
            raise LabError("rejected", action["action"], kubectl=(
                f'Error from server (NotFound): nodes "{name}" not found'))
        kind = action["action"]
        if kind == "node":
            if action["reachable"]:
                self.sim.restore_node(name)
            else:
                self.sim.lose_node(name)
        elif kind == "cordon":
            if action["cordoned"]:
                self.sim.cordon(name)
            else:
                self.sim.uncordon(name)
        else:
            self.sim.drain(name)

    def _create_service(self, action: dict[str, Any]) -> None:
        """``kubectl create service clusterip NAME --tcp=PORT[:TARGET]`` (no selector: an
        init container that waits for the name resolves it once it exists)."""
        name = action["name"]
        namespace = action.get("namespace", "default")
        exists = any(
            s["metadata"]["name"] == name and s["metadata"].get("namespace") == namespace
            for s in self.sim.list_objects("Service")
        )
        if exists:
            raise LabError("rejected", "service", kubectl=(
                f'error: failed to create ClusterIP service: services "{name}" already exists'))
        problems = self.sim.create_service(
            name, port=action.get("port", 80), target_port=action.get("target_port"),
            namespace=namespace)
        if problems:
            raise LabError("rejected", "service", kubectl=problems[0].get("kubectl", ""))

    # --- what the page shows --------------------------------------------------------------

    def _update_watch(self) -> None:
        records = self.sim.records
        for record in records[self._watch_cursor:]:
            if record.kind == "Pod":
                self.watch_lines.append(self._watch.line(pod=record.object, now=record.t))
        self._watch_cursor = len(records)

    def _objects(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The Pods and Events now, copied out of the engine once per resourceVersion (both
        lists are shared by every view of that version: read them, never change them)."""
        key = (self.sim.version, len(self.sim.records))
        if self._objects_key != key:
            self._objects_cache = (self.sim.pods(), self.sim.events())
            self._objects_key = key
        return self._objects_cache

    def pods(self) -> list[dict[str, Any]]:
        return self._objects()[0]

    def logs(self) -> dict[str, dict[str, str]]:
        """``kubectl logs`` and ``kubectl logs --previous`` for every container."""
        logs: dict[str, str] = {}
        logs_previous: dict[str, str] = {}
        for pod in self.pods():
            name = pod["metadata"]["name"]
            spec = pod.get("spec") or {}
            for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                key = f"{name}/{c['name']}"
                try:
                    logs[key] = self.sim.logs(name, c["name"])
                except LookupError as exc:
                    logs[key] = f"Error from server (BadRequest): {exc}"
                try:
                    logs_previous[key] = self.sim.logs(name, c["name"], previous=True)
                except LookupError as exc:
                    logs_previous[key] = f"Error from server (BadRequest): {exc}"
        return {"logs": logs, "logs_previous": logs_previous}

    def aged_view(self, view: str) -> dict[str, Any]:
        """Only the view the page shows, when it has AGE columns to bring up to date
        (``wide``, ``describe``, ``events``); empty for the others (the ``watch`` lines keep
        the AGE they were printed with, and logs have no age)."""
        now = self.sim.now
        pods, events = self._objects()
        none = "No resources found in default namespace.\n"
        if view == "wide":
            return {"wide": get_pods(pods=pods, now=now, wide=True) if pods else none}
        if view == "describe":
            return {"describe": {p["metadata"]["name"]: describe_pod(pod=p, events=events,
                                                                     now=now) for p in pods}}
        if view == "events":
            return {"events": get_events(events=events, now=now) if events else none}
        return {}

    def views(self) -> dict[str, Any]:
        now = self.sim.now
        pods, events = self._objects()
        get = get_pods(pods=pods, now=now) if pods else "No resources found in default namespace.\n"
        logs = self.logs()
        self._logs_sent = logs
        return {
            "get": get,
            "wide": get_pods(pods=pods, now=now, wide=True) if pods else get,
            "describe": {p["metadata"]["name"]: describe_pod(pod=p, events=events, now=now)
                         for p in pods},
            "events": (get_events(events=events, now=now) if events
                       else "No resources found in default namespace.\n"),
            **logs,
            "watch": list(self.watch_lines),
        }

    def logs_pending(self) -> bool:
        """Whether a container wrote to its log since the logs were last sent."""
        return self.logs() != self._logs_sent

    def logs_changed(self) -> tuple[dict[str, str], dict[str, dict[str, str]] | None]:
        """What the logs gained since they were last sent: ``(appended, None)`` with the new
        text of each log that only grew, or ``({}, logs)`` with them all when one was
        replaced (a restart starts a new log; the old one becomes ``--previous``)."""
        logs = self.logs()
        sent, self._logs_sent = self._logs_sent, logs
        if logs == sent:
            return {}, None
        appended: dict[str, str] = {}
        for part, texts in logs.items():
            before = sent.get(part, {})
            for key, text in texts.items():
                old = before.get(key)
                if old == text:
                    continue
                if part != "logs" or old is None or not text.startswith(old):
                    return {}, logs
                appended[key] = text[len(old):]
        return appended, None

    def probes(self) -> list[dict[str, Any]]:
        """Every probe's meter (``probes`` in snapshots and full frames)."""
        self._probes_sent = self.sim.probe_results
        self._probe_marks = {_worker_key(w): _worker_mark(w) for w in self.sim.probe_workers()}
        return self.sim.probe_report()

    def probes_changed(self) -> bool:
        return self.sim.probe_results != self._probes_sent

    def probe_delta(self) -> list[dict[str, Any]]:
        """The meters of the probes that ran since the meters were last sent
        (``probes_delta``). For a probe the page already has, an entry holds only what moves
        (counters, result, next run) and ``results`` only the results newer than those already
        sent: the page merges it into the meter it has, appends the results and keeps the
        last ``HISTORY``."""
        if not self.probes_changed():
            return []
        self._probes_sent = self.sim.probe_results
        out = []
        for worker in self.sim.probe_workers():
            key, mark = _worker_key(worker), _worker_mark(worker)
            before = self._probe_marks.get(key)
            if before == mark:
                continue  # this probe has not run since: no report to build
            self._probe_marks[key] = mark
            p = worker.report()
            if before is None:
                out.append(p)  # a probe the page has not seen: all of it
                continue
            # The schedule and thresholds do not change: only what moves, and new results.
            delta = {name: p[name] for name in _PROBE_MOVING}
            if before[0] is not None:
                delta["results"] = [r for r in p["results"] if r["t"] > before[0]]
            out.append(delta)
        return out

    def has_news(self) -> bool:
        """Whether a transition or a record (a Pod or Event change) has not been sent yet."""
        return (self.record_cursor != len(self.sim.records)
                or self.transition_cursor != len(self.sim.transitions))

    def _new_history(self) -> dict[str, Any]:
        transitions = [t.to_dict() for t in self.sim.transitions[self.transition_cursor:]]
        events = [r.object for r in self.sim.records[self.record_cursor:] if r.kind == "Event"]
        self.transition_cursor = len(self.sim.transitions)
        self.record_cursor = len(self.sim.records)
        return {"transitions": transitions, "events": events}

    def narration(self, *, lang: str, everything: bool = False) -> list[dict[str, Any]]:
        """What the narration gained since it was last asked (or all of it), as text."""
        self.narrator.actions = self.actions
        new = self.narrator.collect()
        return render_narration(self.narrator.entries if everything else new, lang=lang)

    def snapshot(self, *, lang: str) -> dict[str, Any]:
        self.transition_cursor = 0
        self.record_cursor = 0
        history = self._new_history()
        history["narration"] = self.narration(lang=lang, everything=True)
        return {
            "t": self.sim.now,
            "until": self.until,
            "seed": self.seed,
            "actions": list(self.actions),
            "pods": self.pods(),
            "views": self.views(),
            "history": history,
            "probes": self.probes(),
            "next_t": self.next_t(),
            "settled": self.settled_known(),
        }

    def frame(self, *, lang: str, full: bool = True, views: bool | None = None,
              aged: str | None = None) -> dict[str, Any]:
        """What changed since the last frame.

        ``full`` frames carry the Pods, every view and every probe meter. Other frames carry
        the meters of the probes that ran (``probes_delta``) and what containers wrote to their
        logs (``logs_append``: the new text of each log); ``views=True`` adds every view (the
        AGE columns move on while nothing else happens). The page keeps what a frame leaves out.
        """
        history = self._new_history()
        frame: dict[str, Any] = {
            "t": self.sim.now,
            "next_t": self.next_t(),
            "transitions": history["transitions"],
            "events": history["events"],
            "narration": self.narration(lang=lang),
            "settled": self.settled_known(),
        }
        if full:
            frame["pods"] = self.pods()
            frame["views"] = self.views()
            frame["probes"] = self.probes()
            return frame
        delta = self.probe_delta()
        if delta:
            frame["probes_delta"] = delta
        if views:
            frame["views"] = self.views()
            return frame
        if aged is not None and (fresh := self.aged_view(aged)):
            frame["views"] = fresh
        appended, logs = self.logs_changed()
        if logs is not None:
            frame["views"] = {**frame.get("views", {}), **logs}
        elif appended:
            frame["logs_append"] = appended
        return frame


_PROBE_MOVING = ("pod", "container", "probe", "successes", "failures", "result", "stopped",
                 "results", "next_t")


def _worker_key(worker: ProbeWorker) -> tuple[str, str, str]:
    return worker.pod.name, worker.slot.name, worker.kind


def _worker_mark(worker: ProbeWorker) -> tuple[Any, ...]:
    """What changes when the probe runs or its worker stops (the counters follow from the
    results); not its next run: a worker waiting for the startup probe ticks without probing."""
    history = worker.history
    return (history[-1][0] if history else None, len(history), worker.result, worker.stopped)


def clean_action(action: Any) -> dict[str, Any]:
    """Check an action's fields (docs/protocol.md); raise ``LabError('bad_field')``."""
    if not isinstance(action, dict):
        raise LabError("bad_field", "action", field="action")
    kind = action.get("action")
    if kind not in ACTIONS:
        raise LabError("bad_field", "action", field="action", allowed=list(ACTIONS))
    out: dict[str, Any] = {"action": kind}
    if kind == "delete" and "pod" not in action and "namespace" in action:
        out["namespace"] = _name(action, "namespace", _DNS1123, 63)
        return out
    if kind in ("delete", "kill"):
        pod = action.get("pod")
        if not isinstance(pod, str) or not pod or len(pod) > 253:
            raise LabError("bad_field", "pod", field="pod")
        out["pod"] = pod
    if kind == "delete":
        grace = action.get("grace_period")
        if grace is not None:
            if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 3600:
                raise LabError("bad_field", "grace_period", field="grace_period")
            out["grace_period"] = grace
        if action.get("force"):
            out["grace_period"] = 0
    elif kind == "kill":
        container = action.get("container")
        if not isinstance(container, str) or not container or len(container) > 63:
            raise LabError("bad_field", "container", field="container")
        signal = action.get("signal", "KILL")
        if not isinstance(signal, str) or signal not in SIGNALS:
            raise LabError("bad_field", "signal", field="signal", allowed=list(SIGNALS))
        out["container"] = container
        out["signal"] = signal
    elif kind == "apply":
        manifest = action.get("manifest")
        if not isinstance(manifest, str) or len(manifest.encode()) > MAX_MANIFEST_BYTES:
            raise LabError("bad_field", "manifest", field="manifest")
        out["manifest"] = manifest
    elif kind == "image":
        image = action.get("image")
        if not isinstance(image, str) or not image.strip() or len(image) > MAX_IMAGE_CHARS:
            raise LabError("bad_field", "image", field="image")
        out["image"] = image.strip()
        out["available"] = _flag(action, "available")
    elif kind in ("node", "cordon", "drain"):
        out["node"] = _name(action, "node", _SUBDOMAIN, 253)
        if kind == "node":
            out["reachable"] = _flag(action, "reachable")
        elif kind == "cordon":
            out["cordoned"] = _flag(action, "cordoned")
    elif kind == "service":
        out["name"] = _name(action, "name", _DNS1035, 63)
        if action.get("namespace") is not None:
            out["namespace"] = _name(action, "namespace", _DNS1123, 63)
        for key in ("port", "target_port"):
            value = action.get(key)
            if value is None:
                continue
            named = key == "target_port" and isinstance(value, str)
            if named and 0 < len(value) <= 15 and _PORT_NAME.fullmatch(value) and any(
                    c.isalpha() for c in value):
                out[key] = value
            elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise LabError("bad_field", key, field=key)
            else:
                out[key] = value
    return out


def _flag(action: dict[str, Any], key: str) -> bool:
    value = action.get(key)
    if not isinstance(value, bool):
        raise LabError("bad_field", key, field=key)
    return value


def _name(action: dict[str, Any], key: str, pattern: re.Pattern[str], limit: int) -> str:
    value = action.get(key)
    if not isinstance(value, str) or len(value) > limit or not pattern.fullmatch(value):
        raise LabError("bad_field", key, field=key)
    return value


def lab_start(*, manifest_text: str, seed: int, lang: str,
              until: float = DEFAULT_UNTIL) -> tuple[LabSession | None, dict[str, Any]]:
    """Validate and, if valid, start a lab. Returns (session or None, lab.validation)."""
    result, validation = validate_manifest(manifest_text=manifest_text, lang=lang)
    if not validation["ok"]:
        return None, validation
    # Everything the manifest holds, in its order, as kubectl apply -f creates it (and as a
    # re-apply does): Pods, their controllers (their Pods are created as the lab plays), and
    # the Namespaces, ServiceAccounts, ConfigMaps, Secrets, claims and Services they use.
    kept = list(result.objects)
    until = min(max(1.0, until), MAX_UNTIL)
    session = LabSession(manifest_text=manifest_text, objects=kept, seed=seed, until=until)
    if session.refused:
        validation["ok"] = False
        validation["problems"] = [explain_admission(p, lang=lang) for p in session.refused]
        validation["kubectl"] = session.refused[0].get("kubectl", "")
        return None, validation
    return session, validation


def clamp_speed(value: Any) -> float:
    """A speed from the protocol: one of SPEEDS, or ``math.inf`` for "instant"."""
    if value == "instant":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in SPEEDS:
        raise LabError("bad_field", "speed", field="speed", allowed=[*SPEEDS, "instant"])
    return float(value)


HELLO = {
    "type": "lab.hello",
    "protocol": 1,
    "kubernetes": KUBERNETES_VERSION,
    "limits": {
        "manifest_bytes": MAX_MANIFEST_BYTES,
        "containers": MAX_CONTAINERS,
        "pods": MAX_PODS,
        "until": MAX_UNTIL,
        "actions": list(ACTIONS),
        "speeds": [*SPEEDS, "instant"],
        "messages_per_second": MESSAGES_PER_SECOND,
    },
}
