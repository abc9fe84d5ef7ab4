"""Generate ``podlab/engine/apiserver/schema/v1.json`` from the official Kubernetes Python client.

The engine needs to know every field of the objects it accepts (its JSON name, its type and
whether the API server requires it) so that validation can report unknown fields, wrong types
and missing required values exactly like the API server's strict field validation.  The
official client's generated models carry that information: ``openapi_types`` (python attribute
-> type string), ``attribute_map`` (python attribute -> JSON name) and property setters that
raise ``ValueError`` on ``None`` for the fields the OpenAPI spec marks as required.

This script is run by hand, never at run time, and the client is not a dependency of PodLab.
Use a throwaway virtualenv outside the repository, with the client release that matches the
Kubernetes version the engine mirrors (client 34.x <-> Kubernetes 1.34)::

    python3 -m venv /tmp/k8s-venv
    /tmp/k8s-venv/bin/pip install "kubernetes==34.1.0"
    /tmp/k8s-venv/bin/python scripts/gen_pod_schema.py

The walk starts from the roots below and follows every referenced model.  Type strings are
mapped to the schema's vocabulary:

``string`` ``integer`` ``boolean`` ``number`` ``object`` (with ``ref``), ``array`` (with
``items``), ``map`` (string keys, with ``values``), ``IntOrString``, ``Quantity``, ``Time`` and
``any`` (free-form JSON such as managedFields' ``fieldsV1``).

The models cannot tell a Quantity from a plain string (or a map of Quantities from a map of
strings) and represent IntOrString as a bare ``object``; the small override tables below
restore those types.  Enum values are not in the models either: the validator keeps them.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "podlab" / "engine" / "apiserver" / "schema" / "v1.json"

# (apiVersion, kind) -> model class name in kubernetes.client
ROOTS: dict[tuple[str, str], str] = {
    ("v1", "Pod"): "V1Pod",
    ("v1", "Service"): "V1Service",
    ("v1", "Node"): "V1Node",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "ReplicaSet"): "V1ReplicaSet",
    ("batch/v1", "Job"): "V1Job",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
}

# Fields whose model type is "str" / "dict(str, str)" but whose API type is resource.Quantity.
QUANTITY_FIELDS: set[tuple[str, str]] = {
    ("EmptyDirVolumeSource", "sizeLimit"),
    ("ResourceFieldSelector", "divisor"),
}
QUANTITY_MAPS: set[tuple[str, str]] = {
    ("ResourceRequirements", "limits"),
    ("ResourceRequirements", "requests"),
    ("VolumeResourceRequirements", "limits"),
    ("VolumeResourceRequirements", "requests"),
    ("PodSpec", "overhead"),
    ("ContainerStatus", "allocatedResources"),
    ("NodeStatus", "allocatable"),
    ("NodeStatus", "capacity"),
    ("PersistentVolumeClaimStatus", "capacity"),
    ("PersistentVolumeClaimStatus", "allocatedResources"),
}
# Model type "object": IntOrString everywhere except free-form JSON.
FREE_FORM: set[tuple[str, str]] = {("ManagedFieldsEntry", "fieldsV1")}

SCALARS = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}


def short_name(model: str) -> str:
    """``V1PodSpec`` -> ``PodSpec``, ``CoreV1ResourceClaim`` -> ``ResourceClaim``.

    Every model reached from the roots lives in a ``v1`` group version; the walk refuses two
    models that would share a short name.
    """
    return re.sub(r"^(CoreV1|V1)", "", model)


def is_required(cls: type, attribute: str) -> bool:
    """The generated setter of a required field refuses ``None``."""
    prop = getattr(cls, attribute, None)
    if not isinstance(prop, property) or prop.fset is None:
        return False
    return "must not be `None`" in inspect.getsource(prop.fset)


def convert(type_string: str, owner: str, json_name: str, pending: list[str]) -> dict[str, Any]:
    key = (owner, json_name)
    if type_string.startswith("list["):
        inner = convert(type_string[5:-1], owner, json_name, pending)
        return {"type": "array", "items": inner}
    if type_string.startswith("dict(str, "):
        if key in QUANTITY_MAPS:
            return {"type": "map", "values": {"type": "Quantity"}}
        inner = convert(type_string[len("dict(str, ") : -1], owner, json_name, pending)
        return {"type": "map", "values": inner}
    if key in QUANTITY_FIELDS:
        if type_string != "str":
            raise SystemExit(f"{owner}.{json_name}: expected str for a Quantity, got {type_string}")
        return {"type": "Quantity"}
    if type_string in SCALARS:
        return {"type": SCALARS[type_string]}
    if type_string == "datetime":
        return {"type": "Time"}
    if type_string == "object":
        return {"type": "any"} if key in FREE_FORM else {"type": "IntOrString"}
    if re.match(r"(CoreV1|V1)[A-Z]", type_string):
        pending.append(type_string)
        return {"type": "object", "ref": short_name(type_string)}
    raise SystemExit(f"{owner}.{json_name}: unknown model type {type_string!r}")


def walk(client: Any) -> dict[str, Any]:
    types: dict[str, Any] = {}
    origin: dict[str, str] = {}
    pending = list(ROOTS.values())
    while pending:
        model = pending.pop()
        name = short_name(model)
        if name in types:
            if origin[name] != model:
                raise SystemExit(f"two models map to {name}: {origin[name]} and {model}")
            continue
        cls = getattr(client, model)
        fields: dict[str, Any] = {}
        required: list[str] = []
        for attribute, type_string in cls.openapi_types.items():
            json_name = cls.attribute_map[attribute]
            fields[json_name] = convert(type_string, name, json_name, pending)
            if is_required(cls, attribute):
                required.append(json_name)
        types[name] = {"fields": dict(sorted(fields.items())), "required": sorted(required)}
        origin[name] = model
    for owner, json_name in QUANTITY_FIELDS | QUANTITY_MAPS | FREE_FORM:
        if json_name not in types.get(owner, {}).get("fields", {}):
            raise SystemExit(f"override names a field the models lack: {owner}.{json_name}")
    return dict(sorted(types.items()))


def main() -> int:
    import kubernetes  # noqa: PLC0415 - only available in the generator's throwaway venv
    from kubernetes import client  # noqa: PLC0415

    schema = {
        "generator": "scripts/gen_pod_schema.py",
        "clientVersion": kubernetes.__version__,
        "roots": {f"{api}/{kind}": short_name(model) for (api, kind), model in ROOTS.items()},
        "types": walk(client),
    }
    OUTPUT.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(schema['types'])} types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
