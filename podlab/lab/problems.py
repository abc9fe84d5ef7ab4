"""Validation problems as a learner reads them: what is wrong and how to fix it, in the page's
language, located on its line, with kubectl's exact text kept as the secondary detail.

The validator emits codes (``FieldValueInvalid``...), paths and data (``detail``); this module
turns them into sentences. What happens while a lab runs is told by ``narration.py``.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from podlab.engine.apiserver import validation, workloads
from podlab.engine.core import quantity

PROBLEM_TEXT: dict[str, Promise] = {
    "FieldValueRequired": _("a required field is missing"),
    "FieldValueInvalid": _("the value is not valid here"),
    "FieldValueNotSupported": _("the value is not one of the allowed values"),
    "FieldValueDuplicate": _("the value is used twice"),
    "FieldValueForbidden": _("this field is not allowed here"),
    "FieldValueTypeInvalid": _("the value has the wrong type"),
    "FieldValueTooLong": _("the value is too long"),
    "FieldValueNotFound": _("the value refers to something that does not exist"),
    "UnknownField": _("Kubernetes has no such field"),
    "YAMLSyntax": _("the YAML cannot be read"),
    "LimitExceeded": _("the manifest is larger or deeper than the lab allows"),
    "NotSimulated": _("valid, but the simulated node does not act on this field"),
    "Warning": _("the API server would accept this but warns about it"),
}


#: the validator's reasons (kubectl's exact English, in ``detail["detail"]``) in plain words
DETAIL_TEXT: dict[str, Promise] = {
    validation.DNS1123_LABEL_MSG: _(
        "use only lower-case letters, digits and '-', starting and ending with a letter or "
        "digit (like my-name)"),
    validation.DNS1123_SUBDOMAIN_MSG: _(
        "use only lower-case letters, digits, '-' and '.', starting and ending with a letter "
        "or digit (like example.com)"),
    validation.QUALIFIED_NAME_MSG: _(
        "the name part may only hold letters, digits, '-', '_' and '.', and must start and "
        "end with a letter or digit (like MyName or my.name)"),
    validation.LABEL_VALUE_MSG: _(
        "a label value is empty or holds only letters, digits, '-', '_' and '.', starting "
        "and ending with a letter or digit (like MyValue)"),
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
    "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
    "an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')": _(
        "a key is a name, optionally after a DNS prefix and '/' (like example.com/MyName), "
        "with at most one '/'"),
    "must be non-empty": _("must not be empty"),
    "name or generateName is required": _("give the object a name (metadata.name)"),
    "must specify a handler type": _(
        "choose what it runs: exec, httpGet, tcpSocket or grpc (for a hook: exec, httpGet or "
        "sleep)"),
    "may not specify more than 1 handler type": _(
        "use only one of exec, httpGet, tcpSocket and grpc"),
    "must be 1": _("must be 1 for this probe"),
    "cannot be set on create": _("cannot be set when the Pod is created"),
    "must be greater than or equal to 0": _("must be 0 or more"),
    workloads.PERCENT_MSG: _("a percentage is a whole number followed by '%', like 25%"),
    "must not be greater than 100%": _("must be at most 100%"),
    "activeDeadlineSeconds in ReplicaSet is not Supported": _(
        "the Pods of a Deployment or ReplicaSet cannot set activeDeadlineSeconds (only a "
        "Job's can)"),
    "may not be specified when strategy `type` is 'Recreate'": _(
        "leave rollingUpdate out with type: Recreate (it is for RollingUpdate)"),
    "`selector` will be auto-generated": _(
        "leave selector out: the Job makes its own (or set manualSelector: true)"),
    "may not be 0 when `maxSurge` is 0": _(
        "cannot be 0 when maxSurge is 0: the rollout could never replace a Pod"),
    "must be non-negative": _("must be 0 or more"),
    "must be greater than zero": _("must be more than 0"),
    "must be greater than 0": _("must be more than 0"),
    "must not be set for readinessProbes": _("a readiness probe cannot have it"),
    "may not be set for non-init containers": _(
        "only init containers can set it (restartPolicy: Always makes a sidecar)"),
    "may not be set for init containers without restartPolicy=Always": _(
        "an init container can set it only with restartPolicy: Always (a sidecar)"),
    "cannot be set for an Ephemeral Container": _("an ephemeral container cannot set it"),
    "may not specify more than 1 volume type": _(
        "a volume has exactly one source (emptyDir, configMap, secret...)"),
    "value must be empty when `operator` is 'Exists'": _(
        "leave value out when operator is Exists"),
    "effect must be 'NoExecute' when `tolerationSeconds` is set": _(
        "tolerationSeconds only works with effect: NoExecute"),
    "must have at least one node selector term": _("add at least one nodeSelectorTerms entry"),
    "must be in the range 1-100": _("must be from 1 to 100"),
    "must be a standard resource type or fully qualified": _(
        "use cpu, memory or ephemeral-storage, or a name with a domain (like "
        "example.com/gpu)"),
    "a valid environment variable name must consist only of printable ASCII characters other "
    "than '='": _("an environment variable name uses printable ASCII characters, without '='"),
    "must be unique": _("must be different from the others"),
    "must be a number between 0 and 0777 (octal), both inclusive": _(
        "must be a file mode from 0 to 0777 (octal, like 0644)"),
    'operator must be Exists when `key` is empty, which means "match all values and all '
    'keys"': _("without a key, operator must be Exists (it then tolerates every taint)"),
    "must be specified when `operator` is 'In' or 'NotIn'": _(
        "give values when operator is In or NotIn"),
    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'": _(
        "leave values out when operator is Exists or DoesNotExist"),
    "must contain only alphanumeric characters (a-z, 0-9), and hyphens (-)": _(
        "a port name uses only lower-case letters, digits and '-'"),
    "must not contain consecutive hyphens": _("a port name cannot have '--'"),
    "must contain at least one letter (a-z)": _("a port name needs at least one letter"),
    "must not begin or end with a hyphen": _("a port name cannot start or end with '-'"),
    quantity.ERR_FORMAT: _(
        "a quantity is a number with an optional unit, like 100m, 0.5, 128Mi or 1G"),
    quantity.ERR_NUMERIC: _("the number part of the quantity cannot be read"),
    quantity.ERR_SUFFIX: _("the unit is not one Kubernetes knows (use m, Ki, Mi, Gi, k, M, G...)"),
}

#: reasons with numbers or names in them
_DETAIL_PATTERNS: list[tuple[re.Pattern[str], Promise]] = [
    (re.compile(r"must be no more than (?P<n>\d+) characters"),
     _("must be at most %(n)s characters long")),
    (re.compile(r"must be between (?P<low>\d+) and (?P<high>\d+), inclusive"),
     _("must be a whole number from %(low)s to %(high)s")),
    (re.compile(r"must be less than or equal to (?P<name>\S+) limit of (?P<limit>\S+)"),
     _("the request cannot be more than the %(name)s limit (%(limit)s)")),
    (re.compile(r"(?P<here>\S+): duplicate port definition with (?P<there>\S+)"),
     _("the same port and protocol are already declared at %(there)s")),
]
_PARTS = {"prefix part ": _("the prefix (before '/'): %(reason)s"),
          "name part ": _("the name part (after '/'): %(reason)s")}


def detail_text(reason: str) -> str | None:
    """The validator's reason in the active language, or None for one it does not know."""
    known = DETAIL_TEXT.get(reason)
    if known is not None:
        return str(known)
    for pattern, text in _DETAIL_PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return str(text) % match.groupdict()
    for prefix, text in _PARTS.items():
        if reason.startswith(prefix):
            inner = detail_text(reason.removeprefix(prefix))
            if inner is None:
                inner = detail_text(reason.removeprefix(prefix.replace(" part ", " part")))
            return str(text) % {"reason": inner} if inner else None
    return None


#: JSON types as the decoder names them -> what a learner writes in YAML
TYPE_WORDS: dict[str, Promise] = {
    "integer": _("a whole number"),
    "number": _("a number"),
    "string": _("text"),
    "boolean": _("true or false"),
    "object": _("a mapping (indented key: value lines)"),
    "array": _("a list (lines starting with -)"),
    "null": _("empty"),
    "map": _("a mapping (indented key: value lines)"),
    "Quantity": _("a quantity (a number with an optional unit, like 100m or 128Mi)"),
    "IntOrString": _("a whole number or text (like 80 or http, 1 or 25%)"),
    "Time": _("a time (like 2025-01-01T00:00:00Z)"),
}


def learner_text(code: str, path: str, detail: dict[str, Any], *, line: int) -> str | None:
    """What is wrong and how to fix it, in the active language; None when there is nothing
    better to say than the summary. ``detail`` is the validator's data, never its prose."""
    name = path.rsplit(".", 1)[-1] if path else ""
    if code == "FieldValueInvalid" and detail.get("eviction_hard"):
        return gettext(
            "the kubelet would not start with this evictionHard: write statements like "
            "signal<quantity or signal<percentage% separated by commas, each signal one of "
            "memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, "
            "imagefs.inodesFree and pid.available, the value more than 0 and a percentage at "
            "most 100% (the kubelet's error is below).")
    if code == "FieldValueTypeInvalid" and detail.get("expected"):
        expected, got = detail.get("expected"), detail.get("got")
        value = detail.get("value")
        if expected == "integer" and got == "string" and str(value).strip().lstrip("-").isdigit():
            return gettext('%(name)s must be a whole number, not text: write %(value)s, '
                           'not "%(value)s".') % {"name": name, "value": str(value).strip()}
        if expected == "string" and got in ("number", "integer", "boolean"):
            return gettext('%(name)s must be text: put the value in quotes, like "%(value)s".') % {
                "name": name, "value": _yaml_scalar(value)}
        return gettext("%(name)s must be %(expected)s, not %(got)s.") % {
            "name": name, "expected": str(TYPE_WORDS.get(expected, expected)),
            "got": str(TYPE_WORDS.get(got, got or "?"))}
    if code == "UnknownField":
        field = detail.get("field") or name
        if detail.get("suggestion"):
            return gettext(
                "Kubernetes has no field %(field)s here. Did you mean %(suggestion)s?") % {
                "field": field, "suggestion": detail["suggestion"]}
        return gettext("Kubernetes has no field %(field)s here: check the spelling and the "
                       "indentation (it may belong to another level).") % {"field": field}
    if code == "YAMLSyntax":
        return gettext("The YAML cannot be read near line %(line)d: check the indentation "
                       "(spaces, lined up with the lines around it) and that every bracket and "
                       "quote is closed.") % {"line": line or 1}
    if code == "FieldValueRequired" and not detail.get("detail"):
        return gettext("%(name)s is required here: add it.") % {"name": name or path}
    if code == "FieldValueNotSupported" and detail.get("supported"):
        listed = pgettext("between the items of a list", ", ").join(
            str(v) for v in detail["supported"])
        if "kind" in detail:
            return gettext("The lab knows no kind %(kind)s in apiVersion %(version)s: use "
                           "one of %(supported)s.") % {
                "kind": detail["kind"], "version": detail.get("apiVersion", ""),
                "supported": listed}
        return gettext('%(name)s cannot be "%(value)s": use one of %(supported)s.') % {
            "name": name, "value": detail.get("value", ""), "supported": listed}
    if code == "FieldValueNotFound" and path.endswith(".name") and ".volumeMounts[" in path:
        # the validator's one not-found check: a mount names a volume the Pod does not have
        return gettext("No volume is named %(value)s in spec.volumes: add it there, or mount "
                       "one of the Pod's volumes.") % {"value": detail.get("value", "")}
    reason = detail.get("detail")
    said = detail_text(reason) if isinstance(reason, str) and reason else None
    if code == "FieldValueInvalid" and "value" in detail:
        if said:
            return gettext("%(name)s cannot be %(value)s: %(reason)s.") % {
                "name": name, "value": _yaml_scalar(detail.get("value")), "reason": said}
        return gettext("%(name)s cannot be %(value)s here (kubectl's reason is below).") % {
            "name": name, "value": _yaml_scalar(detail.get("value"))}
    if code in ("FieldValueForbidden", "FieldValueRequired") and said:
        return gettext("%(name)s: %(reason)s.") % {"name": name or path, "reason": said}
    if code == "Warning" and isinstance(reason, str):
        said = detail_text(reason)
        if said:
            return said
    return None


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def explain_problem(problem: Any, *, lang: str) -> dict[str, Any]:
    """A validation problem or note: what is wrong and how to fix it in the page's language
    (``message``), located (``line``, ``column``, ``path``), with kubectl's exact text
    (``kubectl``) as the secondary detail."""
    code = getattr(problem, "code", "")
    message = getattr(problem, "message", "")
    path = getattr(problem, "path", "")
    detail = getattr(problem, "detail", None) or {}
    line = getattr(problem, "line", 0) or 0
    if code == "Warning" and not detail:
        detail = {"detail": message}  # an API warning: its text is its reason
    with translation.override(lang):
        summary = str(PROBLEM_TEXT.get(code, _("the API server would reject this")))
        better = learner_text(code, path, detail, line=line) if isinstance(detail, dict) else None
    if better:
        text = f"{path}: {better}" if path and lang == "en" else (
            f"{path}：{better}" if path else better)
    elif lang == "en":
        text = f"{path}: {message}" if path else message
    else:
        text = f"{path}：{summary}" if path else summary
    return {
        "line": getattr(problem, "line", 0) or 0,
        "column": getattr(problem, "column", 0) or 0,
        "path": path,
        "code": code,
        "message": text,
        "summary": summary,
        "kubectl": message,
    }


def explain_admission(problem: dict[str, Any], *, lang: str) -> dict[str, Any]:
    """An admission refusal of ``Simulation.apply`` (a missing namespace or ServiceAccount,
    a namespace being deleted) in the page's language, with kubectl's line as the detail."""
    detail = problem.get("detail") or {}
    values = {"namespace": detail.get("namespace", ""),
              "account": detail.get("serviceAccount", "")}
    with translation.override(lang):
        if detail.get("serviceAccount"):
            text = gettext(
                "The ServiceAccount %(account)s does not exist in namespace %(namespace)s: "
                "add a ServiceAccount object before the Pod, or remove serviceAccountName."
            ) % values
        elif problem.get("code") == "NotFound":
            text = gettext(
                "The namespace %(namespace)s does not exist: add a Namespace object before "
                "the Pod (kind: Namespace), or leave metadata.namespace out."
            ) % values
        else:
            text = gettext(
                "The namespace %(namespace)s is being deleted: nothing new can be created "
                "in it until it is gone."
            ) % values
        summary = str(_("the API server's admission refused this"))
    return {"line": 0, "column": 0, "path": str(problem.get("path", "")),
            "code": str(problem.get("code", "")), "message": text, "summary": summary,
            "kubectl": str(problem.get("kubectl", ""))}
