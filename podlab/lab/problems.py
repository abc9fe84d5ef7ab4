"""Validation problems as a learner reads them: what is wrong and how to fix it, in the page's
language, located on its line, with kubectl's exact text kept as the secondary detail.

The validator emits codes (``FieldValueInvalid``...), paths and data (``detail``); this module
turns them into sentences. What happens while a lab runs is told by ``narration.py``.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
