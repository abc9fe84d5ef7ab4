"""Explanations of the engine's transitions and validation problems, in the page's language.

The engine emits rule ids, Kubernetes reasons and the manifest field that caused each change;
this module turns them into sentences with a link to the lesson section that teaches the rule.
"""

from __future__ import annotations

import functools
from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# rule id -> (explanation, lesson slug, anchor)
RULE_TEXT: dict[str, tuple[Promise, str, str]] = {
    "image.pulling": (_("The kubelet pulls the image, as imagePullPolicy asks."),
                      "images-and-pull-policy", "pull-policy"),
    "image.pull-failed": (_("The pull failed: the registry has no such image or tag."),
                          "images-and-pull-policy", "errimagepull"),
    "image.pull-denied": (_("Pull access denied: no public repository has this name (a private "
                            "one would need imagePullSecrets). On a real cluster you would push "
                            "the image first; here, \"Make it available\" in the registry "
                            "actions pushes a test image under this name that listens on the "
                            "container's ports."),
                          "images-and-pull-policy", "errimagepull"),
    "image.pull-unreachable": (_("The pull failed: the registry's host name does not resolve, "
                                 "so the node cannot reach it."),
                               "images-and-pull-policy", "errimagepull"),
    "image.pull-backoff": (_("The kubelet waits before it tries the failed pull again "
                             "(10 s, doubling up to 300 s)."),
                           "images-and-pull-policy", "imagepullbackoff"),
    "image.never-pull": (_("imagePullPolicy is Never and the image is not on the node, so the "
                           "kubelet will not pull it."),
                         "images-and-pull-policy", "errimageneverpull"),
    "image.invalid": (_("The image reference cannot be parsed."),
                      "images-and-pull-policy", "invalidimagename"),
    "container.started": (_("The container was created and its process started."),
                          "restart-policy-and-backoff", "container-states"),
    "container.completed": (_("The main process exited with code 0."),
                            "restart-policy-and-backoff", "exit-codes"),
    "container.failed": (_("The main process exited with a non-zero code."),
                         "restart-policy-and-backoff", "exit-codes"),
    "container.oom-killed": (_("The process used more memory than its limit: the kernel killed "
                               "it (OOMKilled, exit code 137)."),
                             "resources-and-qos", "memory-limits"),
    "container.start-error": (_("The runtime could not start the process (for example the "
                                "command does not exist)."),
                              "restart-policy-and-backoff", "exit-codes"),
    "liveness.kill": (_("The liveness probe failed failureThreshold times in a row, so the "
                        "kubelet kills the container; the restart policy decides what follows."),
                      "probes", "restart-on-failure"),
    "startup.kill": (_("The startup probe failed failureThreshold times in a row, so the "
                       "kubelet kills the container."),
                     "probes", "slow-starters"),
    "poststart.kill": (_("The postStart hook failed, so the kubelet kills the container."),
                       "termination", "prestop"),
    "poststart.error": (_("The postStart hook failed; the start is reported as an error."),
                        "termination", "prestop"),
    "delete.kill": (_("The Pod is being deleted: preStop runs, then SIGTERM, then SIGKILL when "
                      "the grace period is over."),
                    "termination", "sequence"),
    "deadline.kill": (_("activeDeadlineSeconds has passed: the kubelet stops the Pod."),
                      "phases-and-conditions", "computing-phase"),
    "manual.kill": (_("A signal was sent to the container's main process."),
                    "termination", "signals"),
    "restart.backoff": (_("The restart policy asks for a restart, but the back-off window is "
                          "still open: CrashLoopBackOff."),
                        "restart-policy-and-backoff", "crashloopbackoff"),
    "restart.start": (_("The restart policy restarted the container."),
                      "restart-policy-and-backoff", "restart-policy"),
    "restart.count": (_("A new instance of the container was created: RESTARTS goes up."),
                      "restart-policy-and-backoff", "following-crashloop"),
    "startup.succeeded": (_("The startup probe succeeded (or there is none): the container "
                            "counts as started and the other probes begin."),
                          "probes", "worker"),
    "startup.reset": (_("The container stopped running, so it is no longer started."),
                      "probes", "worker"),
    "readiness.ready": (_("The readiness probe succeeded (or there is none): the container is "
                          "ready and the Pod can receive traffic."),
                        "probes", "readiness-failure"),
    "readiness.unready": (_("The readiness probe failed failureThreshold times, or the container "
                            "stopped: it is no longer ready."),
                          "probes", "readiness-failure"),
    "init.waiting": (_("Init containers have not all completed, so this container waits."),
                     "init-and-sidecar-containers", "init-rules"),
    "pod.phase": (_("The kubelet recomputed the Pod phase from its containers' states."),
                  "phases-and-conditions", "computing-phase"),
    "pod.deadline": (_("activeDeadlineSeconds has passed: the Pod fails with "
                       "DeadlineExceeded."),
                     "phases-and-conditions", "computing-phase"),
}

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


@functools.lru_cache(maxsize=1024)
def lesson_link(slug: str, anchor: str, *, lang: str) -> str:
    # URLs are fixed once the URLconf is loaded; reversing one costs more than the rest of
    # the explanation, and every transition needs one.
    with translation.override(lang):
        return reverse("course:lesson", kwargs={"slug": slug}) + f"#{anchor}"


def explain_transition(transition: dict[str, Any], *, lang: str) -> dict[str, Any]:
    """The transition with ``explain`` (a sentence) and ``lesson`` (a link) added."""
    out = dict(transition)
    entry = RULE_TEXT.get(transition.get("rule", ""))
    with translation.override(lang):
        if entry is None:
            out["explain"] = gettext("The kubelet changed %(field)s.") % {
                "field": transition.get("field", "")
            }
            out["lesson"] = ""
            return out
        text, slug, anchor = entry
        sentence = str(text)
        cause = transition.get("cause") or {}
        if cause.get("field") and cause.get("value") is not None:
            # A field left out of the manifest (value None) caused nothing by its value.
            sentence += " " + gettext("Cause: %(field)s = %(value)s.") % {
                "field": cause["field"],
                "value": _yaml_scalar(cause.get("value")),
            }
        out["explain"] = sentence
    out["lesson"] = lesson_link(slug, anchor, lang=lang)
    return out


#: JSON types as the decoder names them -> what a learner writes in YAML
TYPE_WORDS: dict[str, Promise] = {
    "integer": _("a whole number"),
    "number": _("a number"),
    "string": _("text"),
    "boolean": _("true or false"),
    "object": _("a mapping (indented key: value lines)"),
    "array": _("a list (lines starting with -)"),
    "null": _("empty"),
}


def learner_text(code: str, path: str, detail: dict[str, Any], *, line: int) -> str | None:
    """What is wrong and how to fix it, in the active language; None when there is nothing
    better to say than the summary. ``detail`` is the validator's data, never its prose."""
    name = path.rsplit(".", 1)[-1] if path else ""
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
    if code == "FieldValueRequired":
        return gettext("%(name)s is required here: add it.") % {"name": name or path}
    if code == "FieldValueNotSupported" and detail.get("supported"):
        return gettext('%(name)s cannot be "%(value)s": use one of %(supported)s.') % {
            "name": name, "value": detail.get("value", ""),
            "supported": ", ".join(str(v) for v in detail["supported"])}
    if code == "FieldValueInvalid" and "value" in detail:
        return gettext("%(name)s cannot be %(value)s here (kubectl's reason is below).") % {
            "name": name, "value": _yaml_scalar(detail.get("value"))}
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
