"""API server validation and defaulting for Services, Deployments, ReplicaSets and Jobs.

``validation.validate`` and ``defaults.apply_defaults`` hand these kinds here. The rules are
those of ``pkg/apis/{core,apps,batch}/validation`` and the v1 defaulting functions of
Kubernetes 1.34, with kubectl's wording; a Pod template is checked with the Pod rules (paths
under ``spec.template.spec``) and defaulted like a Pod spec (``SetDefaults_PodSpec``), without
the admission additions a Pod gets when a controller creates it.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from podlab.engine.apiserver import validation as v
from podlab.engine.apiserver.defaults import ordered, pod_spec_defaults

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
DEPLOYMENT_STRATEGIES = ("Recreate", "RollingUpdate")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
COMPLETION_MODES = ("Indexed", "NonIndexed")
NODE_PORTS = (30000, 32767)
JOB_LABELS = ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name",
              "controller-uid", "job-name")

#: Fields of these kinds the simulation accepts but does not act on.
NOT_SIMULATED: dict[str, tuple[str, ...]] = {
    "Service": ("sessionAffinity", "sessionAffinityConfig", "externalTrafficPolicy",
                "internalTrafficPolicy", "loadBalancerIP", "loadBalancerSourceRanges",
                "healthCheckNodePort", "trafficDistribution", "externalIPs"),
    "Deployment": ("progressDeadlineSeconds",),
    "ReplicaSet": (),
    "Job": ("podFailurePolicy", "successPolicy", "ttlSecondsAfterFinished",
            "backoffLimitPerIndex", "maxFailedIndexes", "suspend", "managedBy",
            "podReplacementPolicy"),
}


class _Prefixed(v._Checker):
    """A checker that reports paths below ``prefix`` (to run Pod rules on a template)."""

    def __init__(self, parent: v._Checker, prefix: v.PathTuple) -> None:
        super().__init__(parent.document, parent.index)
        self.problems = parent.problems
        self.notes = parent.notes
        self.prefix = prefix
        self.bad_paths = {
            path[len(prefix):] for path in parent.bad_paths if path[: len(prefix)] == prefix
        }

    def add(
        self,
        path: v.PathTuple,
        code: str,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        key: bool = False,
    ) -> None:
        super().add((*self.prefix, *path), code, message, detail=detail, key=key)

    def note(self, path: v.PathTuple, code: str = v.NOT_SIMULATED, message: str = "") -> None:
        super().note((*self.prefix, *path), code, message)


def _go_map(labels: dict[str, Any]) -> str:
    body = ", ".join(f"{json.dumps(k)}:{json.dumps(str(val))}" for k, val in labels.items())
    return "map[string]string{" + body + "}"


def _non_negative(checker: v._Checker, path: v.PathTuple, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        checker.invalid(path, value, "must be greater than or equal to 0")


#: ``validation.IsValidPercent``'s message (``RegexError`` with its examples)
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' "
               "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")
_PERCENT = re.compile(r"[0-9]+%")


def _int_or_percent(checker: v._Checker, path: v.PathTuple, value: Any) -> int | None:
    """``ValidatePositiveIntOrPercent``: a number 0 or more, or digits and '%'. The value
    in hundredths of the whole (a number: None, it is not a share), when valid."""
    if isinstance(value, str):
        if not _PERCENT.fullmatch(value):
            checker.invalid(path, value, PERCENT_MSG)
            return None
        digits = value[:-1].lstrip("0")
        return int(digits or 0) if len(digits) <= 4 else 10_000
    _non_negative(checker, path, value)
    return None


def _rolling_update(checker: v._Checker, rolling: dict[str, Any]) -> None:
    """``ValidateRollingUpdateDeployment``: maxSurge and maxUnavailable are numbers or
    percentages, not both 0, and maxUnavailable is at most 100%."""
    path = ("spec", "strategy", "rollingUpdate")
    values = {}
    for name in ("maxUnavailable", "maxSurge"):
        value = rolling.get(name)
        if value is None or checker.is_bad((*path, name)):
            continue
        values[name] = value
        share = _int_or_percent(checker, (*path, name), value)
        if name == "maxUnavailable" and share is not None and share > 100:
            checker.invalid((*path, name), value, "must not be greater than 100%")
    if values and all(values.get(name) in (0, "0%") for name in ("maxUnavailable", "maxSurge")):
        checker.invalid((*path, "maxUnavailable"), values["maxUnavailable"],
                        "may not be 0 when `maxSurge` is 0")


def _notes(checker: v._Checker, kind: str, spec: dict[str, Any]) -> None:
    for name in NOT_SIMULATED[kind]:
        if name in spec and not checker.is_bad(("spec", name)):
            checker.note(("spec", name))


def _selector(checker: v._Checker, selector: Any, path: v.PathTuple) -> None:
    if not isinstance(selector, dict):
        return
    labels = selector.get("matchLabels")
    if isinstance(labels, dict):
        v._labels(checker, (*path, "matchLabels"), labels, values=True)
    for index, expression in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(expression, dict):
            continue
        where = (*path, "matchExpressions", index)
        operator = expression.get("operator")
        if isinstance(operator, str):
            checker.enum((*where, "operator"), operator, "labelSelectorOperator")
        values = expression.get("values") or []
        if operator in ("In", "NotIn") and not values:
            checker.required(
                (*where, "values"), "must be specified when `operator` is 'In' or 'NotIn'"
            )
        if operator in ("Exists", "DoesNotExist") and values:
            checker.forbidden(
                (*where, "values"), "may not be specified when `operator` is 'Exists' or "
                "'DoesNotExist'"
            )


def _template(checker: v._Checker, kind: str, spec: dict[str, Any]) -> None:
    template = spec.get("template")
    path: v.PathTuple = ("spec", "template")
    if not isinstance(template, dict):
        if not checker.is_bad(path):
            checker.required((*path, "spec", "containers"))
        return
    inner = _Prefixed(checker, path)
    meta = template.get("metadata") or {}
    if isinstance(meta.get("labels"), dict):
        v._labels(inner, ("metadata", "labels"), meta["labels"], values=True)
    pod_spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    v._pod_spec(inner, pod_spec)
    v._simulation_notes(inner, template, (), "")
    policy = pod_spec.get("restartPolicy") or "Always"
    where = (*path, "spec", "restartPolicy")
    if kind == "Job":
        if policy not in JOB_RESTART_POLICIES:
            checker.not_supported(where, policy, JOB_RESTART_POLICIES)
    elif policy != "Always":
        checker.not_supported(where, policy, ("Always",))
    if pod_spec.get("activeDeadlineSeconds") is not None and kind != "Job":
        checker.forbidden(
            (*path, "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is "
            "not Supported"
        )


def _selector_matches_template(checker: v._Checker, kind: str, spec: dict[str, Any]) -> None:
    selector = spec.get("selector")
    if selector is None:
        if not checker.is_bad(("spec", "selector")):
            checker.required(("spec", "selector"))
        return
    if not isinstance(selector, dict):
        return
    _selector(checker, selector, ("spec", "selector"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        checker.invalid(
            ("spec", "selector"), "v1.LabelSelector{}",
            f"empty selector is invalid for {kind.lower()}",
        )
        return
    from podlab.engine.apiserver.objects import selector_matches

    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector_matches(selector, labels):
        path = ("spec", "template", "metadata", "labels")
        message = f"Invalid value: {_go_map(labels)}: `selector` does not match template `labels`"
        checker.add(path, v.INVALID, message,
                    detail={"value": labels, "detail": "`selector` does not match template "
                            "`labels`"})


def _service(checker: v._Checker, spec: dict[str, Any]) -> None:
    kind = spec.get("type") or "ClusterIP"
    if isinstance(spec.get("type"), str) and kind not in SERVICE_TYPES:
        checker.not_supported(("spec", "type"), kind, SERVICE_TYPES)
    affinity = spec.get("sessionAffinity")
    if isinstance(affinity, str) and affinity not in SESSION_AFFINITIES:
        checker.not_supported(("spec", "sessionAffinity"), affinity, SESSION_AFFINITIES)
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports")
    if not ports and kind != "ExternalName" and not headless and not checker.is_bad(
        ("spec", "ports")
    ):
        checker.required(("spec", "ports"))
    if kind == "ExternalName" and not spec.get("externalName"):
        checker.required(("spec", "externalName"))
    names: set[str] = set()
    for index, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        where = ("spec", "ports", index)
        name = port.get("name")
        if len(ports) > 1 and not name:
            checker.required((*where, "name"))
        elif isinstance(name, str) and name:
            if name in names:
                checker.duplicate((*where, "name"), name)
            names.add(name)
            for message in v.port_name_errors(name) if name != name.lower() else []:
                checker.invalid((*where, "name"), name, message)
        number = port.get("port")
        if isinstance(number, int) and not 1 <= number <= 65535:
            checker.invalid((*where, "port"), number, "must be between 1 and 65535, inclusive")
        elif number is None and not checker.is_bad((*where, "port")):
            checker.required((*where, "port"))
        if isinstance(port.get("protocol"), str):
            checker.enum((*where, "protocol"), port["protocol"], "protocol")
        if "targetPort" in port:
            target = port["targetPort"]
            if isinstance(target, str) and target.isdigit():
                target = int(target)
            if target != 0:
                v._port_number_or_name(checker, (*where, "targetPort"), target)
        node_port = port.get("nodePort")
        if isinstance(node_port, int) and node_port:
            if kind in ("ClusterIP", "ExternalName"):
                checker.forbidden(
                    (*where, "nodePort"), f"may not be used when `type` is '{kind}'"
                )
            elif not NODE_PORTS[0] <= node_port <= NODE_PORTS[1]:
                checker.invalid(
                    (*where, "nodePort"), node_port,
                    "provided port is not in the valid range. The range of valid ports is "
                    f"{NODE_PORTS[0]}-{NODE_PORTS[1]}",
                )
    selector = spec.get("selector")
    if isinstance(selector, dict):
        v._labels(checker, ("spec", "selector"), selector, values=True)
    _notes(checker, "Service", spec)


def validate_workload(checker: v._Checker, kind: str, obj: dict[str, Any]) -> None:
    """Add the problems and notes of a Service, Deployment, ReplicaSet or Job."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind == "Service":
        _service(checker, spec)
        return
    if "spec" not in obj and not checker.is_bad(("spec",)):
        checker.required(("spec", "template", "spec", "containers"))
    for field in ("replicas", "minReadySeconds", "revisionHistoryLimit", "parallelism",
                  "completions", "backoffLimit", "activeDeadlineSeconds"):
        _non_negative(checker, ("spec", field), spec.get(field))
    if kind == "Job":
        deadline = spec.get("activeDeadlineSeconds")
        if isinstance(deadline, int) and deadline == 0:
            checker.invalid(("spec", "activeDeadlineSeconds"), 0, "must be greater than 0")
        mode = spec.get("completionMode")
        if isinstance(mode, str) and mode not in COMPLETION_MODES:
            checker.not_supported(("spec", "completionMode"), mode, COMPLETION_MODES)
        if spec.get("selector") is not None and not spec.get("manualSelector"):
            checker.invalid(
                ("spec", "selector"), spec["selector"], "`selector` will be auto-generated"
            )
        if mode == "Indexed":
            checker.note(("spec", "completionMode"))
    else:
        _selector_matches_template(checker, kind, spec)
    if kind == "Deployment":
        strategy = spec.get("strategy")
        if isinstance(strategy, dict):
            kind_name = strategy.get("type")
            if isinstance(kind_name, str) and kind_name not in DEPLOYMENT_STRATEGIES:
                checker.not_supported(("spec", "strategy", "type"), kind_name,
                                      DEPLOYMENT_STRATEGIES)
            if kind_name == "Recreate" and strategy.get("rollingUpdate") is not None:
                checker.forbidden(("spec", "strategy", "rollingUpdate"),
                                  "may not be specified when strategy `type` is 'Recreate'")
            elif isinstance(strategy.get("rollingUpdate"), dict):
                _rolling_update(checker, strategy["rollingUpdate"])
    _template(checker, kind, spec)
    _notes(checker, kind, spec)


# --- defaults -------------------------------------------------------------------------------


def _template_defaults(template: dict[str, Any]) -> dict[str, Any]:
    template = dict(template or {})
    template["metadata"] = dict(template.get("metadata") or {})
    template["spec"] = ordered(
        pod_spec_defaults(dict(template.get("spec") or {}), pod_level_limits_to_requests=False),
        ("volumes", "initContainers", "containers"),
    )
    if not template["spec"].get("volumes"):
        template["spec"].pop("volumes", None)
    return ordered(template, ("metadata", "spec"))


def _service_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec.get("type") or "ClusterIP"
    spec["type"] = kind
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "ClientIP" and not spec.get("sessionAffinityConfig"):
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    ports = []
    for port in spec.get("ports") or []:
        port = dict(port)
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
        ports.append(ordered(port, ("name", "protocol", "port", "targetPort", "nodePort")))
    if ports:
        spec["ports"] = ports
    if kind != "ExternalName" and not spec.get("internalTrafficPolicy"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind in ("NodePort", "LoadBalancer") and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    return spec


def _deployment_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    spec.setdefault("replicas", 1)
    strategy = dict(spec.get("strategy") or {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = dict(strategy.get("rollingUpdate") or {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
        strategy["rollingUpdate"] = ordered(rolling, ("maxSurge", "maxUnavailable"))
    spec["strategy"] = ordered(strategy, ("type", "rollingUpdate"))
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    return spec


def _job_defaults(obj: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = (
            "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
        )
    spec.setdefault("manualSelector", False)
    meta = obj["metadata"]
    if not spec["manualSelector"]:
        # The Job strategy generates the selector from the Job's uid.
        uid = meta.get("uid") or ""
        template = dict(spec.get("template") or {})
        template_meta = dict(template.get("metadata") or {})
        labels = dict(template_meta.get("labels") or {})
        values = (uid, meta.get("name") or "", uid, meta.get("name") or "")
        labels.update(zip(JOB_LABELS, values, strict=True))
        template_meta["labels"] = labels
        template["metadata"] = template_meta
        spec["template"] = template
        spec["selector"] = {"matchLabels": {JOB_LABELS[0]: uid}}
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    return spec


def workload_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with the API server's defaults (metadata is already defaulted)."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    kind = obj.get("kind")
    spec = dict(obj.get("spec") or {})
    if kind == "Service":
        obj["spec"] = _service_defaults(spec)
    else:
        spec["template"] = _template_defaults(spec.get("template") or {})
        if kind == "Deployment":
            spec = _deployment_defaults(spec)
        elif kind == "ReplicaSet":
            spec.setdefault("replicas", 1)
        elif kind == "Job":
            spec = _job_defaults(obj, spec)
        obj["spec"] = spec
    return ordered(obj, ("apiVersion", "kind", "metadata", "spec"))


__all__ = ["NOT_SIMULATED", "validate_workload", "workload_defaults"]
