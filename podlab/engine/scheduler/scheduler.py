"""The default scheduler's decision for one Pod, and its explanation.

Mirrors ``kube-scheduler`` 1.34 with the default plugins. Filters run per node in the
framework's order and a node stops at the first plugin that rejects it:

``NodeUnschedulable`` -> ``TaintToleration`` -> ``NodeAffinity`` (nodeSelector + required
node affinity) -> ``NodePorts`` -> ``NodeResourcesFit`` -> ``InterPodAffinity``.

Feasible nodes are scored by ``TaintToleration`` (PreferNoSchedule, weight 3),
``NodeAffinity`` (preferred terms, weight 2), ``NodeResourcesFit`` (LeastAllocated, weight 1),
``NodeResourcesBalancedAllocation`` (weight 1) and ``InterPodAffinity`` (preferred terms,
weight 2). Upstream picks at random among the best; PodLab picks the first of them in the
cluster's node order so the same inputs always give the same placement.

When no node fits, the message is ``FitError.Error()``: ``0/N nodes are available: `` then the
histogram of reasons (``"<count> <reason>"`` sorted as strings, joined with ``", "``), then
the preemption (PostFilter) result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from podlab.engine.core.quantity import QuantityError, cpu_millicores, memory_bytes

# Reasons, exactly as the plugins word them.
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
#: DefaultPreemption's PostFilter messages when the Pod may not preempt, as events show them:
#: "preemption: " before, and FitError's period after (a single one, unlike the histogram's).
NOT_ELIGIBLE_NEVER = "preemption: not eligible due to preemptionPolicy=Never"
NOT_ELIGIBLE_TERMINATING = "preemption: not eligible due to a terminating pod on the nominated node"
GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"

DEFAULT_MILLI_CPU = 100  # non-zero request assumed for scoring when none is set
DEFAULT_MEMORY = 200 * 1024 * 1024
MAX_SCORE = 100
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - a hostIP value, nothing binds here


def untolerated_taint_reason(taint: dict[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"


class NodeLike(Protocol):
    """What the scheduler reads from a node (``cluster.ClusterNode`` provides it)."""

    name: str
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    unschedulable: bool
    alloc_cpu: int
    alloc_memory: int
    alloc_storage: int
    alloc_pods: int


# --- Pods as the scheduler sees them ------------------------------------------------------


def _quantity(resources: dict[str, Any] | None, name: str) -> int:
    value = ((resources or {}).get("requests") or {}).get(name)
    if value is None:
        return 0
    try:
        return cpu_millicores(value) if name == "cpu" else memory_bytes(value)
    except (QuantityError, ValueError, TypeError):
        return 0


def _has(resources: dict[str, Any] | None, name: str) -> bool:
    return ((resources or {}).get("requests") or {}).get(name) is not None


def pod_requests(spec: dict[str, Any], *, non_zero: bool = False) -> tuple[int, int, int]:
    """(millicores, memory bytes, ephemeral-storage bytes) the Pod needs on a node.

    ``max(app containers + sidecars, every init container's peak)`` plus ``overhead``, where
    an init container's peak also counts the sidecars started before it. With ``non_zero``
    a container without a cpu/memory request counts 100m/200Mi (for scoring only).
    """
    names = ("cpu", "memory", "ephemeral-storage")

    def one(container: dict[str, Any]) -> list[int]:
        res = container.get("resources")
        out = [_quantity(res, n) for n in names]
        if non_zero:
            if not _has(res, "cpu"):
                out[0] = DEFAULT_MILLI_CPU
            if not _has(res, "memory"):
                out[1] = DEFAULT_MEMORY
        return out

    pod_level = spec.get("resources")
    if pod_level and (pod_level.get("requests") or {}):
        total = [_quantity(pod_level, n) for n in names]
    else:
        sidecars = [0, 0, 0]
        init_peak = [0, 0, 0]
        for container in spec.get("initContainers") or []:
            req = one(container)
            if container.get("restartPolicy") == "Always":
                sidecars = [a + b for a, b in zip(sidecars, req, strict=True)]
                init_peak = [max(a, b) for a, b in zip(init_peak, sidecars, strict=True)]
            else:
                init_peak = [
                    max(a, b + s) for a, b, s in zip(init_peak, req, sidecars, strict=True)
                ]
        apps = [0, 0, 0]
        for container in spec.get("containers") or []:
            apps = [a + b for a, b in zip(apps, one(container), strict=True)]
        total = [max(a + s, i) for a, s, i in zip(apps, sidecars, init_peak, strict=True)]
    overhead = spec.get("overhead") or {}
    for index, name in enumerate(names):
        value = overhead.get(name)
        if value is not None:
            try:
                total[index] += cpu_millicores(value) if name == "cpu" else memory_bytes(value)
            except (QuantityError, ValueError, TypeError):
                pass
    return total[0], total[1], total[2]


@dataclass
class PodInfo:
    """One Pod's scheduling inputs, computed once."""

    namespace: str
    name: str
    labels: dict[str, str]
    spec: dict[str, Any]
    cpu: int
    memory: int
    storage: int
    nz_cpu: int
    nz_memory: int
    priority: int
    ports: frozenset[tuple[str, str, int]]
    created: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def pod_info(pod: dict[str, Any], created: float = 0.0) -> PodInfo:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    cpu, memory, storage = pod_requests(spec)
    nz_cpu, nz_memory, _ = pod_requests(spec, non_zero=True)
    ports = set()
    for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        for port in container.get("ports") or []:
            host_port = port.get("hostPort")
            if host_port:
                ports.add(
                    (
                        str(port.get("hostIP") or ANY_ADDRESS),
                        port.get("protocol") or "TCP",
                        int(host_port),
                    )
                )
    return PodInfo(
        namespace=meta.get("namespace") or "default",
        name=meta.get("name") or "",
        labels=dict(meta.get("labels") or {}),
        spec=spec,
        cpu=cpu,
        memory=memory,
        storage=storage,
        nz_cpu=nz_cpu,
        nz_memory=nz_memory,
        priority=int(spec.get("priority") or 0),
        ports=frozenset(ports),
        created=created,
    )


@dataclass
class NodeUsage:
    """What the Pods assigned to one node have reserved."""

    cpu: int = 0
    memory: int = 0
    storage: int = 0
    nz_cpu: int = 0
    nz_memory: int = 0
    pods: dict[tuple[str, str], PodInfo] = field(default_factory=dict)

    def add(self, info: PodInfo) -> None:
        self.pods[info.key] = info
        self.cpu += info.cpu
        self.memory += info.memory
        self.storage += info.storage
        self.nz_cpu += info.nz_cpu
        self.nz_memory += info.nz_memory

    def remove(self, info: PodInfo) -> None:
        if self.pods.pop(info.key, None) is None:
            return
        self.cpu -= info.cpu
        self.memory -= info.memory
        self.storage -= info.storage
        self.nz_cpu -= info.nz_cpu
        self.nz_memory -= info.nz_memory

    def without(self, victims: Iterable[PodInfo]) -> NodeUsage:
        copy = NodeUsage()
        gone = {v.key for v in victims}
        for info in self.pods.values():
            if info.key not in gone:
                copy.add(info)
        return copy


# --- matching helpers -----------------------------------------------------------------------


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def tolerated(tolerations: Sequence[dict[str, Any]], taint: dict[str, Any]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def _requirement(labels: dict[str, str], expression: dict[str, Any]) -> bool:
    key = expression.get("key", "")
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    present = key in labels
    value = labels.get(key)
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, want = int(str(value)), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def node_selector_term(node: NodeLike, term: dict[str, Any]) -> bool:
    """One ``NodeSelectorTerm``: its expressions and fields ANDed; an empty term matches none."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    if not all(_requirement(node.labels, e) for e in expressions):
        return False
    return all(_requirement({"metadata.name": node.name}, f) for f in fields)


def label_selector(labels: dict[str, str], selector: dict[str, Any] | None) -> bool:
    """``metav1.LabelSelector``: null matches nothing, empty matches everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement(labels, e) for e in selector.get("matchExpressions") or [])


def _term_namespaces(owner: PodInfo, term: dict[str, Any]) -> tuple[set[str], bool]:
    """(namespaces, all namespaces?) a pod affinity term looks at."""
    names = set(term.get("namespaces") or [])
    selector = term.get("namespaceSelector")
    if selector is not None and not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        return names, True
    if not names and selector is None:
        names = {owner.namespace}
    return names, False


def term_matches(owner: PodInfo, term: dict[str, Any], other: PodInfo) -> bool:
    names, everywhere = _term_namespaces(owner, term)
    if not everywhere and other.namespace not in names:
        return False
    return label_selector(other.labels, term.get("labelSelector"))


def _affinity(spec: dict[str, Any], kind: str, mode: str) -> list[dict[str, Any]]:
    block = (spec.get("affinity") or {}).get(kind) or {}
    return list(block.get(mode) or [])


REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


# --- the scheduler ------------------------------------------------------------------------


@dataclass
class NodeVerdict:
    """Why one node was rejected: reasons and whether preemption could help."""

    reasons: list[str]
    resolvable: bool


@dataclass
class Decision:
    """The outcome of one scheduling attempt."""

    node: str | None
    message: str = ""
    verdicts: dict[str, NodeVerdict] = field(default_factory=dict)
    victims: list[PodInfo] = field(default_factory=list)
    nominated: str | None = None


class Scheduler:
    """Keeps what every node has reserved and decides where Pods go."""

    def __init__(self) -> None:
        self.usage: dict[str, NodeUsage] = {}
        self.placement: dict[tuple[str, str], str] = {}
        #: assigned Pods with required anti-affinity terms (checked against every newcomer)
        self.anti: dict[tuple[str, str], PodInfo] = {}

    def usage_of(self, node: str) -> NodeUsage:
        usage = self.usage.get(node)
        if usage is None:
            usage = self.usage[node] = NodeUsage()
        return usage

    def assign(self, info: PodInfo, node: str) -> None:
        self.unassign(info)
        self.usage_of(node).add(info)
        self.placement[info.key] = node
        if _affinity(info.spec, "podAntiAffinity", REQUIRED):
            self.anti[info.key] = info

    def unassign(self, info: PodInfo) -> None:
        node = self.placement.pop(info.key, None)
        self.anti.pop(info.key, None)
        if node is not None:
            self.usage_of(node).remove(info)

    # --- filters ------------------------------------------------------------------------

    def _filter(
        self, info: PodInfo, node: NodeLike, usage: NodeUsage, nodes: Sequence[NodeLike]
    ) -> NodeVerdict | None:
        spec = info.spec
        tolerations = list(spec.get("tolerations") or [])
        if node.unschedulable and not tolerated(
            tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        ):
            return NodeVerdict([REASON_UNSCHEDULABLE], False)
        for taint in node.taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(
                tolerations, taint
            ):
                return NodeVerdict([untolerated_taint_reason(taint)], False)
        if not self._node_affinity(info, node):
            return NodeVerdict([REASON_AFFINITY], False)
        if info.ports:
            used = {p for other in usage.pods.values() for p in other.ports}
            if _ports_conflict(info.ports, used):
                return NodeVerdict([REASON_PORTS], True)
        fit = _resources_fit(info, node, usage)
        if fit is not None:
            return fit
        return self._inter_pod(info, node, nodes)

    @staticmethod
    def _node_affinity(info: PodInfo, node: NodeLike) -> bool:
        for key, value in (info.spec.get("nodeSelector") or {}).items():
            if node.labels.get(key) != value:
                return False
        required = ((info.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(REQUIRED)
        if required is not None:
            terms = required.get("nodeSelectorTerms") or []
            if not any(node_selector_term(node, term) for term in terms):
                return False
        return True

    def _domain_pods(
        self, node: NodeLike, key: str, nodes: Sequence[NodeLike]
    ) -> Iterable[PodInfo]:
        if key not in node.labels:
            return []
        value = node.labels[key]
        out: list[PodInfo] = []
        for other in nodes:
            if other.labels.get(key) == value:
                out.extend(self.usage_of(other.name).pods.values())
        return out

    def _inter_pod(
        self, info: PodInfo, node: NodeLike, nodes: Sequence[NodeLike]
    ) -> NodeVerdict | None:
        spec = info.spec
        affinity_terms = _affinity(spec, "podAffinity", REQUIRED)
        if affinity_terms:
            ok = all(
                term.get("topologyKey") in node.labels
                and any(
                    term_matches(info, term, other)
                    for other in self._domain_pods(node, term["topologyKey"], nodes)
                )
                for term in affinity_terms
            )
            if not ok:
                # the first Pod of a group that matches its own terms may go anywhere
                anywhere = any(
                    term_matches(info, term, other)
                    for term in affinity_terms
                    for usage in self.usage.values()
                    for other in usage.pods.values()
                )
                self_match = all(term_matches(info, term, info) for term in affinity_terms)
                labelled = all(term.get("topologyKey") in node.labels for term in affinity_terms)
                if anywhere or not self_match or not labelled:
                    return NodeVerdict([REASON_POD_AFFINITY], False)
        for term in _affinity(spec, "podAntiAffinity", REQUIRED):
            key = term.get("topologyKey", "")
            if any(
                term_matches(info, term, other) for other in self._domain_pods(node, key, nodes)
            ):
                return NodeVerdict([REASON_POD_ANTI_AFFINITY], True)
        if self.anti:
            by_name = {n.name: n for n in nodes}
            for other in self.anti.values():
                where = by_name.get(self.placement.get(other.key, ""))
                if where is None or other.key not in self.usage_of(where.name).pods:
                    continue
                for term in _affinity(other.spec, "podAntiAffinity", REQUIRED):
                    key = term.get("topologyKey", "")
                    if (
                        key in node.labels
                        and where.labels.get(key) == node.labels[key]
                        and term_matches(other, term, info)
                    ):
                        return NodeVerdict([REASON_EXISTING_ANTI_AFFINITY], True)
        return None

    # --- scores ---------------------------------------------------------------------------

    def _scores(
        self, info: PodInfo, feasible: list[NodeLike], nodes: Sequence[NodeLike]
    ) -> list[float]:
        spec = info.spec
        tolerations = list(spec.get("tolerations") or [])
        prefer_counts = [
            sum(
                1
                for t in node.taints
                if t.get("effect") == "PreferNoSchedule" and not tolerated(tolerations, t)
            )
            for node in feasible
        ]
        preferred_nodes = _affinity(spec, "nodeAffinity", PREFERRED)
        affinity_raw = [
            sum(
                int(p.get("weight") or 0)
                for p in preferred_nodes
                if node_selector_term(node, p.get("preference") or {})
            )
            for node in feasible
        ]
        pod_raw = [self._pod_affinity_score(info, node, nodes) for node in feasible]
        top_taint = max(prefer_counts, default=0)
        top_affinity = max(affinity_raw, default=0)
        low_pod, high_pod = min(pod_raw, default=0), max(pod_raw, default=0)
        scores = []
        for index, node in enumerate(feasible):
            usage = self.usage_of(node.name)
            cpu_req = usage.nz_cpu + info.nz_cpu
            mem_req = usage.nz_memory + info.nz_memory
            least = (_least(cpu_req, node.alloc_cpu) + _least(mem_req, node.alloc_memory)) // 2
            balanced = _balanced(
                usage.cpu + info.cpu, node.alloc_cpu, usage.memory + info.memory, node.alloc_memory
            )
            taint_score = (
                MAX_SCORE - prefer_counts[index] * MAX_SCORE // top_taint
                if top_taint
                else MAX_SCORE
            )
            affinity_score = affinity_raw[index] * MAX_SCORE // top_affinity if top_affinity else 0
            pod_score = (
                (pod_raw[index] - low_pod) * MAX_SCORE // (high_pod - low_pod)
                if high_pod != low_pod
                else 0
            )
            scores.append(3 * taint_score + 2 * affinity_score + least + balanced + 2 * pod_score)
        return scores

    def _pod_affinity_score(self, info: PodInfo, node: NodeLike, nodes: Sequence[NodeLike]) -> int:
        total = 0
        for sign, kind in ((1, "podAffinity"), (-1, "podAntiAffinity")):
            for weighted in _affinity(info.spec, kind, PREFERRED):
                term = weighted.get("podAffinityTerm") or {}
                key = term.get("topologyKey", "")
                count = sum(
                    1
                    for other in self._domain_pods(node, key, nodes)
                    if term_matches(info, term, other)
                )
                total += sign * int(weighted.get("weight") or 0) * count
        return total

    # --- one attempt ---------------------------------------------------------------------

    def schedule(
        self,
        info: PodInfo,
        nodes: Sequence[NodeLike],
        *,
        terminating: Iterable[tuple[str, str]] = (),
        nominated: str | None = None,
    ) -> Decision:
        """Filter, score and pick a node; on failure explain and try preemption."""
        verdicts: dict[str, NodeVerdict] = {}
        feasible: list[NodeLike] = []
        for node in nodes:
            verdict = self._filter(info, node, self.usage_of(node.name), nodes)
            if verdict is None:
                feasible.append(node)
            else:
                verdicts[node.name] = verdict
        if feasible:
            scores = self._scores(info, feasible, nodes)
            best = max(range(len(feasible)), key=lambda i: (scores[i], -i))
            return Decision(node=feasible[best].name)
        decision = Decision(node=None, verdicts=verdicts)
        post = self._preempt(info, nodes, verdicts, set(terminating), nominated, decision)
        decision.message = fit_error(len(nodes), verdicts, post)
        return decision

    def _preempt(
        self,
        info: PodInfo,
        nodes: Sequence[NodeLike],
        verdicts: dict[str, NodeVerdict],
        terminating: set[tuple[str, str]],
        nominated: str | None,
        decision: Decision,
    ) -> str:
        if info.spec.get("preemptionPolicy") == "Never":
            return NOT_ELIGIBLE_NEVER
        if nominated is not None and any(
            other.key in terminating and other.priority < info.priority
            for other in self.usage_of(nominated).pods.values()
        ):
            return NOT_ELIGIBLE_TERMINATING
        outcome: dict[str, NodeVerdict] = {}
        best: tuple[tuple[int, int], str, list[PodInfo]] | None = None
        for node in nodes:
            verdict = verdicts.get(node.name)
            if verdict is None:
                continue
            if not verdict.resolvable:
                outcome[node.name] = NodeVerdict([PREEMPTION_NOT_HELPFUL], False)
                continue
            usage = self.usage_of(node.name)
            lower = sorted(
                (
                    p
                    for p in usage.pods.values()
                    if p.priority < info.priority and p.key not in terminating
                ),
                key=lambda p: (p.priority, p.created, p.name),
            )
            if not lower:
                outcome[node.name] = NodeVerdict([NO_VICTIMS], False)
                continue
            trial = self._with_usage(node.name, usage.without(lower))
            result = trial._filter(info, node, trial.usage_of(node.name), nodes)
            if result is not None:
                outcome[node.name] = result
                continue
            victims = list(lower)
            for candidate in sorted(lower, key=lambda p: (-p.priority, p.created, p.name)):
                keep = [v for v in victims if v.key != candidate.key]
                again = self._with_usage(node.name, usage.without(keep))
                if again._filter(info, node, again.usage_of(node.name), nodes) is None:
                    victims = keep
            rank = (max(v.priority for v in victims), len(victims))
            if best is None or rank < best[0]:
                best = (rank, node.name, victims)
        if best is not None:
            decision.nominated = best[1]
            decision.victims = best[2]
            return ""
        return fit_error(len(nodes), outcome, "", prefix="preemption: ")

    def _with_usage(self, node: str, usage: NodeUsage) -> Scheduler:
        trial = Scheduler()
        trial.usage = dict(self.usage)
        trial.usage[node] = usage
        trial.placement = dict(self.placement)
        trial.anti = {
            k: v for k, v in self.anti.items() if k not in self.usage[node].pods or k in usage.pods
        }
        return trial


def _ports_conflict(
    wanted: frozenset[tuple[str, str, int]], used: set[tuple[str, str, int]]
) -> bool:
    for ip, protocol, port in wanted:
        for other_ip, other_protocol, other_port in used:
            if (
                port == other_port
                and protocol == other_protocol
                and (
                    ip == other_ip or ANY_ADDRESS in (ip, other_ip)
                )
            ):
                return True
    return False


def _resources_fit(info: PodInfo, node: NodeLike, usage: NodeUsage) -> NodeVerdict | None:
    reasons: list[str] = []
    resolvable = True
    if len(usage.pods) + 1 > node.alloc_pods:
        reasons.append(REASON_TOO_MANY_PODS)
    checks = (
        ("cpu", info.cpu, usage.cpu, node.alloc_cpu),
        ("memory", info.memory, usage.memory, node.alloc_memory),
        ("ephemeral-storage", info.storage, usage.storage, node.alloc_storage),
    )
    for name, wanted, used, allocatable in checks:
        if wanted > 0 and wanted > allocatable - used:
            reasons.append(f"Insufficient {name}")
            if wanted > allocatable:
                resolvable = False
    if reasons:
        return NodeVerdict(reasons, resolvable)
    return None


def _least(requested: int, allocatable: int) -> int:
    if allocatable <= 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_SCORE // allocatable


def _balanced(cpu: int, cpu_alloc: int, memory: int, memory_alloc: int) -> int:
    if cpu_alloc <= 0 or memory_alloc <= 0:
        return 0
    cpu_fraction = min(1.0, cpu / cpu_alloc)
    memory_fraction = min(1.0, memory / memory_alloc)
    deviation = abs(cpu_fraction - memory_fraction) / 2
    return int((1 - deviation) * MAX_SCORE)


def fit_error(total: int, verdicts: dict[str, NodeVerdict], post: str, *, prefix: str = "") -> str:
    """``FitError.Error()``: ``0/N nodes are available: <histogram>.`` + `` <post>.`` (the
    post message keeps its own final period)."""
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        for reason in verdict.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    message = f"{prefix}0/{total} nodes are available:"
    histogram = sorted(f"{count} {reason}" for reason, count in counts.items())
    if histogram:
        message += " " + ", ".join(histogram) + "."
    if post:
        # ``SeparatorFormat`` (" %v.") again: the preemption message is itself a FitError that
        # ends in ".", so the event ends in "..", as on a real cluster.
        message += " " + post + "."
    return message


__all__ = [
    "GATED_MESSAGE",
    "Decision",
    "NodeUsage",
    "NodeVerdict",
    "PodInfo",
    "Scheduler",
    "fit_error",
    "label_selector",
    "node_selector_term",
    "pod_info",
    "pod_requests",
    "tolerated",
    "tolerates",
    "untolerated_taint_reason",
]
