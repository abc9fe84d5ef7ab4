"""``kubectl get -o json`` output: Go's ``json.MarshalIndent`` with four spaces.

kubectl marshals unstructured objects (maps), so keys come out sorted; Go escapes ``<``,
``>`` and ``&`` (and U+2028/U+2029) as ``\\u003c``-style sequences and keeps other non-ASCII
text as UTF-8. The printer ends the document with a newline.
"""

from __future__ import annotations

import json
from typing import Any

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json(*, obj: Any, indent: int | None = 4) -> str:
    """Serialise like kubectl's JSON printer (``indent=None`` for one compact line)."""
    if indent is None:
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=indent)
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def pod_list(*, pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``v1 List`` kubectl builds around the items of ``get pods -o json``."""
    return {"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {"resourceVersion": ""}}
