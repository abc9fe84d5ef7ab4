"""API server validation of submitted objects, with every problem located in the YAML.

Two stages, as on a real API server with strict field validation:

1. **Decoding** against the generated schema (``schema/v1.json``): unknown fields (with a
   "did you mean" suggestion), values of the wrong JSON type, unparsable quantities.  A real
   server stops here and answers ``400 BadRequest``; this module goes on so that a learner
   sees every problem at once.
2. **Validation** of a Pod the way ``pkg/apis/core/validation`` does it: required values,
   names, enums, containers, ports, probes, init containers and sidecars, resources,
   volumes, tolerations ...

Every problem is a :class:`Problem` carrying the Kubernetes ``field.ErrorType`` name as its
``code``, the API server's wording as ``message`` and raw values in ``detail`` so that the site
can translate it.  Fields that are valid but that the simulated kubelet ignores produce a
:class:`Note`.  :func:`kubectl_error` renders what kubectl itself would print.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podlab.engine.apiserver import schema
from podlab.engine.apiserver.yamlload import Document
from podlab.engine.core.quantity import Quantity, QuantityError, parse_quantity

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
NOT_FOUND = "FieldValueNotFound"
TYPE_INVALID = "FieldValueTypeInvalid"
TOO_LONG = "FieldValueTooLong"
UNKNOWN_FIELD = "UnknownField"
NOT_SIMULATED = "NotSimulated"
WARNING = "Warning"

#: Codes that a real API server reports while decoding (400 BadRequest), before validation.
DECODE_STAGE = "decode"

# Allowed values of the enum fields (the models do not carry them), in the order the API
# server lists them in "supported values".
ENUMS: dict[str, tuple[str, ...]] = {
    "restartPolicy": ("Always", "Never", "OnFailure"),
    "containerRestartPolicy": ("Always",),
    "imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "dnsPolicy": ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
    "protocol": ("SCTP", "TCP", "UDP"),
    "terminationMessagePolicy": ("FallbackToLogsOnError", "File"),
    "preemptionPolicy": ("Never", "PreemptLowerPriority"),
    "tolerationOperator": ("Equal", "Exists"),
    "taintEffect": ("NoExecute", "NoSchedule", "PreferNoSchedule"),
    "uriScheme": ("HTTP", "HTTPS"),
    "hostPathType": (
        "",
        "BlockDevice",
        "CharDevice",
        "Directory",
        "DirectoryOrCreate",
        "File",
        "FileOrCreate",
        "Socket",
    ),
    "nodeSelectorOperator": ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"),
    "labelSelectorOperator": ("DoesNotExist", "Exists", "In", "NotIn"),
    "whenUnsatisfiable": ("DoNotSchedule", "ScheduleAnyway"),
    "storageMedium": ("", "HugePages", "Memory"),
    "mountPropagation": ("Bidirectional", "HostToContainer", "None"),
}

#: Field paths (list indices written ``[]``) that the kubelet simulation uses.  A path is
#: simulated when it or one of its ancestors is listed; init containers share the container
#: entries through the ``spec.initContainers[]`` prefix below.
SIMULATED_FIELDS: frozenset[str] = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata.name",
        "metadata.namespace",
        "metadata.labels",
        "metadata.annotations",
        "metadata.generateName",
        "spec.restartPolicy",
        "spec.terminationGracePeriodSeconds",
        "spec.activeDeadlineSeconds",
        "spec.nodeName",
        "spec.nodeSelector",
        "spec.affinity",
        "spec.tolerations",
        "spec.priority",
        "spec.priorityClassName",
        "spec.schedulingGates",
        "spec.hostname",
        "spec.volumes[].name",
        "spec.volumes[].emptyDir",
        "spec.volumes[].hostPath",
        "spec.volumes[].configMap",
        "spec.volumes[].secret",
        "spec.volumes[].downwardAPI",
        "spec.volumes[].persistentVolumeClaim",
        "spec.securityContext.runAsUser",
        "spec.securityContext.runAsNonRoot",
    }
    | {
        f"{prefix}.{name}"
        for prefix in ("spec.containers[]", "spec.initContainers[]")
        for name in (
            "name",
            "image",
            "imagePullPolicy",
            "command",
            "args",
            "env",
            "envFrom",
            "ports",
            "resources",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle.postStart",
            "lifecycle.preStop",
            "terminationMessagePath",
            "terminationMessagePolicy",
            "securityContext.runAsUser",
            "securityContext.runAsNonRoot",
            "securityContext.readOnlyRootFilesystem",
            "volumeMounts",
            "workingDir",
        )
    }
    | {"spec.initContainers[].restartPolicy"}
)

#: Kinds the simulation keeps and Pods use (volumes, environment) without running them.
STORED_KINDS = frozenset({"ConfigMap", "Secret", "PersistentVolumeClaim"})

# Go type names used in json decoding errors.
_INT64_FIELDS = frozenset(
    {
        "activeDeadlineSeconds",
        "terminationGracePeriodSeconds",
        "deletionGracePeriodSeconds",
        "tolerationSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "supplementalGroups",
        "generation",
        "observedGeneration",
        "expirationSeconds",
    }
)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[-a-z0-9]+$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_VOLUME_SOURCES = tuple(name for name in schema.type_fields("Volume") if name != "name")


class MapKey(str):
    """A path element that is a key of a map field; printed as ``[key]``."""

    __slots__ = ()


PathTuple = tuple[str | int, ...]


def format_path(path: Iterable[str | int]) -> str:
    """``("spec", "containers", 0, "name")`` -> ``"spec.containers[0].name"``."""
    text = ""
    for part in path:
        if isinstance(part, int) or isinstance(part, MapKey):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def format_value(value: Any) -> str:
    """A value as Go's ``%v``/``%q`` shows it in field errors."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass
class Problem:
    """One reason the object is refused."""

    path: str
    line: int
    column: int
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    document: int = 0

    def kubectl_line(self) -> str:
        """The line kubectl prints for this problem in an "is invalid" error."""
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class Note:
    """A field that is accepted but not simulated, or an API server warning."""

    path: str
    line: int
    column: int
    code: str = NOT_SIMULATED
    message: str = ""
    document: int = 0


@dataclass
class Validation:
    problems: list[Problem]
    notes: list[Note]

    @property
    def ok(self) -> bool:
        return not self.problems


def _error_body(code: str, value: Any, detail: str) -> str:
    suffix = f": {detail}" if detail else ""
    if code == REQUIRED:
        return f"Required value{suffix}"
    if code == INVALID:
        return f"Invalid value: {format_value(value)}{suffix}"
    if code == DUPLICATE:
        return f"Duplicate value: {format_value(value)}"
    if code == FORBIDDEN:
        return f"Forbidden{suffix}"
    if code == NOT_FOUND:
        return f"Not found: {format_value(value)}"
    if code == TOO_LONG:
        return f"Too long{suffix}"
    return detail


class _Checker:
    def __init__(self, document: Document | None, index: int) -> None:
        self.document = document
        self.index = index
        self.problems: list[Problem] = []
        self.notes: list[Note] = []
        self.bad_paths: set[PathTuple] = set()

    # -- positions and reporting -------------------------------------------------------
    def position(self, path: PathTuple, *, key: bool = False) -> tuple[int, int]:
        if self.document is None:
            return (1, 1)
        if key:
            return self.document.key_position(path)
        return self.document.value_position(path)

    def add(
        self,
        path: PathTuple,
        code: str,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        key: bool = False,
    ) -> None:
        line, column = self.position(path, key=key)
        self.problems.append(
            Problem(
                path=format_path(path),
                line=line,
                column=column,
                code=code,
                message=message,
                detail=dict(detail or {}),
                document=self.index,
            )
        )

    def is_bad(self, path: PathTuple) -> bool:
        """True when ``path`` or an ancestor already failed decoding."""
        return any(path[:n] in self.bad_paths for n in range(len(path) + 1))

    def required(self, path: PathTuple, detail: str = "") -> None:
        if self.is_bad(path):
            return
        self.add(path, REQUIRED, _error_body(REQUIRED, None, detail), detail={"detail": detail})

    def invalid(self, path: PathTuple, value: Any, detail: str, **extra: Any) -> None:
        self.add(
            path,
            INVALID,
            _error_body(INVALID, value, detail),
            detail={"value": value, "detail": detail, **extra},
        )

    def not_supported(self, path: PathTuple, value: Any, supported: Iterable[str]) -> None:
        options = list(supported)
        listed = ", ".join(format_value(option) for option in options)
        self.add(
            path,
            NOT_SUPPORTED,
            f"Unsupported value: {format_value(value)}: supported values: {listed}",
            detail={"value": value, "supported": options},
        )

    def duplicate(self, path: PathTuple, value: Any) -> None:
        self.add(path, DUPLICATE, _error_body(DUPLICATE, value, ""), detail={"value": value})

    def forbidden(self, path: PathTuple, detail: str) -> None:
        self.add(path, FORBIDDEN, _error_body(FORBIDDEN, None, detail), detail={"detail": detail})

    def not_found(self, path: PathTuple, value: Any) -> None:
        self.add(path, NOT_FOUND, _error_body(NOT_FOUND, value, ""), detail={"value": value})

    def note(self, path: PathTuple, code: str = NOT_SIMULATED, message: str = "") -> None:
        line, column = self.position(path, key=True)
        self.notes.append(
            Note(
                path=format_path(path),
                line=line,
                column=column,
                code=code,
                message=message,
                document=self.index,
            )
        )

    def enum(self, path: PathTuple, value: Any, table: str) -> None:
        if isinstance(value, str) and value not in ENUMS[table]:
            self.not_supported(path, value, ENUMS[table])

    # -- stage 1: decoding against the schema ------------------------------------------
    def decode(self, value: Any, spec: dict[str, Any], path: PathTuple, owner: str) -> Any:
        """Check ``value`` against a field type; return a cleaned copy (bad parts removed)."""
        if value is None:
            return None
        kind = spec["type"]
        if kind == "object":
            if not isinstance(value, dict):
                return self.type_error(value, spec, path, owner)
            return self.decode_object(value, spec["ref"], path)
        if kind == "array":
            if not isinstance(value, list):
                return self.type_error(value, spec, path, owner)
            # Keep every index so that later paths still match the document: a null or
            # mistyped object item becomes an empty object (Go decodes null to a zero struct).
            cleaned = []
            for i, item in enumerate(value):
                decoded = self.decode(item, spec["items"], (*path, i), owner)
                if decoded is None and spec["items"]["type"] == "object":
                    decoded = {}
                cleaned.append(decoded)
            return cleaned
        if kind == "map":
            if not isinstance(value, dict):
                return self.type_error(value, spec, path, owner)
            result = {}
            for map_key, item in value.items():
                decoded = self.decode(item, spec["values"], (*path, MapKey(map_key)), owner)
                if decoded is not None:
                    result[map_key] = decoded
            return result
        if kind == "Quantity":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                return self.type_error(value, spec, path, owner)
            try:
                parse_quantity(value)
            except QuantityError as error:
                self.bad_paths.add(path)
                self.add(
                    path,
                    INVALID,
                    _error_body(INVALID, value, str(error)),
                    detail={"value": value, "detail": str(error), "stage": DECODE_STAGE},
                )
                return None
            return value
        ok = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "IntOrString": lambda v: isinstance(v, int | str) and not isinstance(v, bool),
            "Time": lambda v: isinstance(v, str),
            "any": lambda v: True,
        }[kind](value)
        if not ok:
            return self.type_error(value, spec, path, owner)
        if kind == "integer" and not -(2**63) <= value < 2**63:
            return self.type_error(value, spec, path, owner)
        return value

    def decode_object(self, value: dict[str, Any], type_name: str, path: PathTuple) -> Any:
        fields = schema.type_fields(type_name)
        cleaned: dict[str, Any] = {}
        for name, item in value.items():
            child = (*path, name)
            if name not in fields:
                self.unknown_field(child, name, list(fields))
                continue
            decoded = self.decode(item, fields[name], child, type_name)
            if decoded is not None:
                cleaned[name] = decoded
        for name in schema.required_fields(type_name):
            if name not in cleaned and (*path, name) not in self.bad_paths:
                self.required((*path, name))
                self.bad_paths.add((*path, name))
        return cleaned

    def unknown_field(self, path: PathTuple, name: str, known: list[str]) -> None:
        self.bad_paths.add(path)
        matches = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if not matches:
            lowered = {k.lower(): k for k in known}
            if name.lower() in lowered:
                matches = [lowered[name.lower()]]
        detail: dict[str, Any] = {"field": name, "stage": DECODE_STAGE}
        if matches:
            detail["suggestion"] = matches[0]
        self.add(
            path,
            UNKNOWN_FIELD,
            f'unknown field "{format_path(path)}"',
            detail=detail,
            key=True,
        )

    def type_error(self, value: Any, spec: dict[str, Any], path: PathTuple, owner: str) -> None:
        self.bad_paths.add(path)
        got = _json_kind(value)
        go_type = _go_type(spec, path)
        dotted = ".".join(str(p) for p in path if not isinstance(p, int | MapKey))
        message = f"json: cannot unmarshal {got} into Go struct field {owner}.{dotted} of type "
        message += go_type
        self.add(
            path,
            TYPE_INVALID,
            message,
            detail={
                "value": value,
                "got": got,
                "expected": spec["type"],
                "go_type": go_type,
                "stage": DECODE_STAGE,
            },
        )
        return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _go_type(spec: dict[str, Any], path: PathTuple) -> str:
    kind = spec["type"]
    if kind == "string" or kind == "Time":
        return "string" if kind == "string" else "v1.Time"
    if kind == "integer":
        names = [p for p in path if isinstance(p, str) and not isinstance(p, MapKey)]
        return "int64" if names and names[-1] in _INT64_FIELDS else "int32"
    if kind == "boolean":
        return "bool"
    if kind == "number":
        return "float64"
    if kind == "object":
        return f"v1.{spec['ref']}"
    if kind == "array":
        return "[]" + _go_type(spec["items"], path)
    if kind == "map":
        if spec["values"]["type"] == "Quantity":
            return "v1.ResourceList"
        return "map[string]" + _go_type(spec["values"], path)
    if kind == "IntOrString":
        return "intstr.IntOrString"
    if kind == "Quantity":
        return "resource.Quantity"
    return "interface {}"


# -- stage 2: Pod validation ------------------------------------------------------------


def _dns_label(checker: _Checker, path: PathTuple, value: str) -> None:
    if len(value) > 63:
        checker.invalid(path, value, "must be no more than 63 characters")
    if not _DNS1123_LABEL.match(value):
        checker.invalid(path, value, DNS1123_LABEL_MSG)


def _dns_subdomain(checker: _Checker, path: PathTuple, value: str) -> None:
    if len(value) > 253:
        checker.invalid(path, value, "must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        checker.invalid(path, value, DNS1123_SUBDOMAIN_MSG)


def qualified_name_errors(value: str) -> list[str]:
    """Messages for a label/annotation key (``prefix/name``), empty when valid."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part must be no more than 253 characters")
            if not _DNS1123_SUBDOMAIN.match(prefix):
                errors.append("prefix part " + DNS1123_SUBDOMAIN_MSG)
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
            "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
            "[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED_NAME.match(name):
        errors.append(QUALIFIED_NAME_MSG)
    return errors


def label_value_errors(value: str) -> list[str]:
    """Messages for a label value, empty when valid."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errors.append(LABEL_VALUE_MSG)
    return errors


def _labels(checker: _Checker, path: PathTuple, labels: Mapping[str, Any], *, values: bool) -> None:
    for key, value in labels.items():
        for message in qualified_name_errors(key):
            checker.invalid(path, key, message)
        if values and isinstance(value, str):
            for message in label_value_errors(value):
                checker.invalid((*path, MapKey(key)), value, message)


def _metadata(checker: _Checker, meta: Mapping[str, Any], *, label_name: bool = False) -> None:
    path: PathTuple = ("metadata",)
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        checker.required((*path, "name"), "name or generateName is required")
    elif isinstance(name, str) and name and label_name:  # a Namespace's name is a label
        _dns_label(checker, (*path, "name"), name)
    elif isinstance(name, str) and name:
        _dns_subdomain(checker, (*path, "name"), name)
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        _dns_label(checker, (*path, "namespace"), namespace)
    if isinstance(meta.get("labels"), dict):
        _labels(checker, (*path, "labels"), meta["labels"], values=True)
    if isinstance(meta.get("annotations"), dict):
        _labels(checker, (*path, "annotations"), meta["annotations"], values=False)


#: The annotation that gives a cluster file's Node the kubelet's ``evictionHard``
#: (``cluster.EVICTION_HARD_ANNOTATION``).
EVICTION_HARD_ANNOTATION = "kubelet.podlab.dev/eviction-hard"


def _node_kubelet_config(checker: _Checker, meta: Mapping[str, Any]) -> None:
    """The kubelet's ``evictionHard`` in a Node's annotation: a kubelet refuses to start with
    a threshold it cannot parse, so the Node is refused, with the kubelet's error."""
    from podlab.engine.apiserver import kubeletconfig

    annotations = meta.get("annotations")
    value = annotations.get(EVICTION_HARD_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(value, str):
        return
    try:
        kubeletconfig.parse_eviction_hard([p for p in value.split(",") if p.strip()])
    except kubeletconfig.ThresholdError as err:
        checker.invalid(
            ("metadata", "annotations", MapKey(EVICTION_HARD_ANNOTATION)),
            value,
            str(err),
            eviction_hard=True,
        )


def _port_number_or_name(checker: _Checker, path: PathTuple, value: Any) -> None:
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            checker.invalid(path, value, "must be between 1 and 65535, inclusive")
    elif isinstance(value, str):
        for message in port_name_errors(value):
            checker.invalid(path, value, message)


def port_name_errors(value: str) -> list[str]:
    """IANA_SVC_NAME rules for a named port; empty when valid."""
    errors = []
    if len(value) > 15:
        errors.append("must be no more than 15 characters")
    if not _IANA_SVC_NAME.match(value):
        errors.append("must contain only alphanumeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if not re.search(r"[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def _handler(
    checker: _Checker,
    path: PathTuple,
    handler: Mapping[str, Any],
    handlers: tuple[str, ...],
) -> None:
    present = [name for name in handlers if handler.get(name) is not None]
    if not present:
        checker.required(path, "must specify a handler type")
        return
    for extra in present[1:]:
        checker.forbidden((*path, extra), "may not specify more than 1 handler type")
    name = present[0]
    action = handler[name]
    action_path = (*path, name)
    if name == "exec":
        if not action.get("command"):
            checker.required((*action_path, "command"))
    elif name == "httpGet":
        if "port" in action:
            _port_number_or_name(checker, (*action_path, "port"), action["port"])
        checker.enum((*action_path, "scheme"), action.get("scheme"), "uriScheme")
    elif name == "tcpSocket":
        if "port" in action:
            _port_number_or_name(checker, (*action_path, "port"), action["port"])
    elif name == "grpc":
        port = action.get("port")
        if isinstance(port, int) and not 1 <= port <= 65535:
            checker.invalid((*action_path, "port"), port, "must be between 1 and 65535, inclusive")
    elif name == "sleep":
        seconds = action.get("seconds")
        if isinstance(seconds, int) and seconds < 0:
            checker.invalid((*action_path, "seconds"), seconds, "must be non-negative")


def _probe(checker: _Checker, path: PathTuple, probe: Mapping[str, Any], kind: str) -> None:
    _handler(checker, path, probe, _PROBE_HANDLERS)
    for name in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        value = probe.get(name)
        if isinstance(value, int) and value < 0:
            checker.invalid((*path, name), value, "must be greater than or equal to 0")
    success = probe.get("successThreshold")
    if kind in ("livenessProbe", "startupProbe") and isinstance(success, int) and success > 1:
        checker.invalid((*path, "successThreshold"), success, "must be 1")
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None:
        if kind == "readinessProbe":
            checker.invalid(
                (*path, "terminationGracePeriodSeconds"),
                grace,
                "must not be set for readinessProbes",
            )
        elif isinstance(grace, int) and grace <= 0:
            checker.invalid(
                (*path, "terminationGracePeriodSeconds"), grace, "must be greater than 0"
            )


def _resources(checker: _Checker, path: PathTuple, resources: Mapping[str, Any]) -> None:
    parsed: dict[str, dict[str, tuple[Any, Quantity]]] = {}
    for section in ("limits", "requests"):
        entries = resources.get(section)
        if not isinstance(entries, dict):
            continue
        parsed[section] = {}
        for name, raw in entries.items():
            entry_path = (*path, section, MapKey(name))
            if entry_path in checker.bad_paths:
                continue
            if name not in _STANDARD_CONTAINER_RESOURCES and not (
                name.startswith("hugepages-") or "/" in name
            ):
                checker.invalid(
                    entry_path, name, "must be a standard resource type or fully qualified"
                )
                continue
            quantity = parse_quantity(raw)
            if quantity.value < 0:
                checker.invalid(entry_path, raw, "must be greater than or equal to 0")
                continue
            parsed[section][name] = (raw, quantity)
    limits = parsed.get("limits", {})
    for name, (_raw, quantity) in parsed.get("requests", {}).items():
        if name in limits and quantity.value > limits[name][1].value:
            limit_text = limits[name][1].canonical()
            checker.invalid(
                (*path, "requests"),
                quantity.canonical(),
                f"must be less than or equal to {name} limit of {limit_text}",
                resource=name,
                limit=limit_text,
            )


def _container(
    checker: _Checker,
    path: PathTuple,
    container: Mapping[str, Any],
    *,
    group: str,
    volumes: set[str],
) -> None:
    name = container.get("name")
    if isinstance(name, str) and name:
        _dns_label(checker, (*path, "name"), name)
    elif (*path, "name") not in checker.bad_paths and name is not None:
        checker.required((*path, "name"))
    image = container.get("image")
    if not image and (*path, "image") not in checker.bad_paths:
        checker.required((*path, "image"))
    checker.enum((*path, "imagePullPolicy"), container.get("imagePullPolicy"), "imagePullPolicy")
    checker.enum(
        (*path, "terminationMessagePolicy"),
        container.get("terminationMessagePolicy"),
        "terminationMessagePolicy",
    )
    restart = container.get("restartPolicy")
    sidecar = group == "initContainers" and restart == "Always"
    if restart is not None:
        if group == "initContainers":
            checker.enum((*path, "restartPolicy"), restart, "containerRestartPolicy")
        else:
            checker.forbidden((*path, "restartPolicy"), "may not be set for non-init containers")
    for index, port in enumerate(container.get("ports") or []):
        port_path = (*path, "ports", index)
        number = port.get("containerPort")
        if number == 0:
            checker.required((*port_path, "containerPort"))
        elif isinstance(number, int) and not 1 <= number <= 65535:
            checker.invalid(
                (*port_path, "containerPort"), number, "must be between 1 and 65535, inclusive"
            )
        host = port.get("hostPort")
        if isinstance(host, int) and host != 0 and not 1 <= host <= 65535:
            checker.invalid(
                (*port_path, "hostPort"), host, "must be between 1 and 65535, inclusive"
            )
        checker.enum((*port_path, "protocol"), port.get("protocol"), "protocol")
        if isinstance(port.get("name"), str):
            for message in port_name_errors(port["name"]):
                checker.invalid((*port_path, "name"), port["name"], message)
    for index, env in enumerate(container.get("env") or []):
        env_name = env.get("name")
        if isinstance(env_name, str) and env_name:
            if "=" in env_name or not all(" " <= ch <= "~" for ch in env_name):
                checker.invalid(
                    (*path, "env", index, "name"),
                    env_name,
                    "a valid environment variable name must consist only of printable ASCII "
                    "characters other than '='",
                )
        elif (*path, "env", index, "name") not in checker.bad_paths:
            checker.required((*path, "env", index, "name"))
    if isinstance(container.get("resources"), dict):
        _resources(checker, (*path, "resources"), container["resources"])
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(kind)
        if probe is None:
            continue
        if group == "initContainers" and not sidecar:
            checker.forbidden(
                (*path, kind), "may not be set for init containers without restartPolicy=Always"
            )
            continue
        if group == "ephemeralContainers":
            checker.forbidden((*path, kind), "cannot be set for an Ephemeral Container")
            continue
        _probe(checker, (*path, kind), probe, kind)
    lifecycle = container.get("lifecycle")
    if lifecycle is not None:
        if group == "initContainers" and not sidecar:
            checker.forbidden(
                (*path, "lifecycle"),
                "may not be set for init containers without restartPolicy=Always",
            )
        elif group == "ephemeralContainers":
            checker.forbidden((*path, "lifecycle"), "cannot be set for an Ephemeral Container")
        else:
            for hook in ("postStart", "preStop"):
                if lifecycle.get(hook) is not None:
                    _handler(checker, (*path, "lifecycle", hook), lifecycle[hook], _HOOK_HANDLERS)
    mount_paths: set[str] = set()
    for index, mount in enumerate(container.get("volumeMounts") or []):
        mount_path = (*path, "volumeMounts", index)
        mount_name = mount.get("name")
        if isinstance(mount_name, str) and mount_name and mount_name not in volumes:
            checker.not_found((*mount_path, "name"), mount_name)
        target = mount.get("mountPath")
        if isinstance(target, str) and target:
            if target in mount_paths:
                checker.invalid((*mount_path, "mountPath"), target, "must be unique")
            mount_paths.add(target)
        checker.enum(
            (*mount_path, "mountPropagation"), mount.get("mountPropagation"), "mountPropagation"
        )


def _port_warnings(checker: _Checker, path: PathTuple, container: Mapping[str, Any]) -> None:
    """The API server's warning for a repeated containerPort/protocol in one container."""
    seen: dict[tuple[Any, str], int] = {}
    for index, port in enumerate(container.get("ports") or []):
        number = port.get("containerPort")
        if not isinstance(number, int):
            continue
        key = (number, port.get("protocol") or "TCP")
        if key in seen:
            here = format_path((*path, "ports", index))
            there = format_path((*path, "ports", seen[key]))
            checker.note(
                (*path, "ports", index),
                WARNING,
                f"{here}: duplicate port definition with {there}",
            )
        else:
            seen[key] = index


def _host_ports(checker: _Checker, spec: Mapping[str, Any]) -> None:
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for ci, container in enumerate(spec.get(group) or []):
            for pi, port in enumerate(container.get("ports") or []):
                host = port.get("hostPort")
                if not isinstance(host, int) or host == 0:
                    continue
                key = f"{host}/{port.get('protocol') or 'TCP'}"
                if key in seen:
                    checker.duplicate(("spec", group, ci, "ports", pi, "hostPort"), key)
                seen.add(key)


def _volumes(checker: _Checker, spec: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        path: PathTuple = ("spec", "volumes", index)
        name = volume.get("name")
        if isinstance(name, str) and name:
            _dns_label(checker, (*path, "name"), name)
            if name in names:
                checker.duplicate((*path, "name"), name)
            names.add(name)
        sources = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
        for extra in sources[1:]:
            checker.forbidden((*path, extra), "may not specify more than 1 volume type")
        host_path = volume.get("hostPath")
        if isinstance(host_path, dict):
            checker.enum((*path, "hostPath", "type"), host_path.get("type"), "hostPathType")
        empty_dir = volume.get("emptyDir")
        if isinstance(empty_dir, dict):
            checker.enum((*path, "emptyDir", "medium"), empty_dir.get("medium"), "storageMedium")
        for source, key in (("configMap", "name"), ("secret", "secretName")):
            data = volume.get(source)
            if not isinstance(data, dict):
                continue
            if not data.get(key):
                checker.required((*path, source, key))
            mode = data.get("defaultMode")
            if isinstance(mode, int) and not 0 <= mode <= 0o777:
                checker.invalid(
                    (*path, source, "defaultMode"),
                    mode,
                    "must be a number between 0 and 0777 (octal), both inclusive",
                )
        claim = volume.get("persistentVolumeClaim")
        if isinstance(claim, dict) and not claim.get("claimName"):
            checker.required((*path, "persistentVolumeClaim", "claimName"))
    return names


def _tolerations(checker: _Checker, tolerations: list[Any]) -> None:
    for index, toleration in enumerate(tolerations):
        path: PathTuple = ("spec", "tolerations", index)
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if key:
            for message in qualified_name_errors(key):
                checker.invalid((*path, "key"), key, message)
        elif operator != "Exists":
            checker.invalid(
                (*path, "operator"),
                operator,
                'operator must be Exists when `key` is empty, which means "match all values and '
                'all keys"',
            )
        if toleration.get("operator") is not None:
            checker.enum((*path, "operator"), toleration["operator"], "tolerationOperator")
        if operator == "Exists" and toleration.get("value"):
            checker.invalid(
                (*path, "operator"),
                toleration.get("value"),
                "value must be empty when `operator` is 'Exists'",
            )
        effect = toleration.get("effect")
        checker.enum((*path, "effect"), effect, "taintEffect")
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            checker.invalid(
                (*path, "effect"),
                effect or "",
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            )


def _affinity(checker: _Checker, affinity: Mapping[str, Any]) -> None:
    node = affinity.get("nodeAffinity")
    if not isinstance(node, dict):
        return
    path: PathTuple = ("spec", "affinity", "nodeAffinity")
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    terms: list[tuple[PathTuple, Any]] = []
    if isinstance(required, dict):
        req_path = (*path, "requiredDuringSchedulingIgnoredDuringExecution")
        selector_terms = required.get("nodeSelectorTerms")
        if not selector_terms:
            checker.required(
                (*req_path, "nodeSelectorTerms"), "must have at least one node selector term"
            )
        for i, term in enumerate(selector_terms or []):
            terms.append(((*req_path, "nodeSelectorTerms", i), term))
    for i, weighted in enumerate(node.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
        pref_path = (*path, "preferredDuringSchedulingIgnoredDuringExecution", i)
        weight = weighted.get("weight")
        if isinstance(weight, int) and not 1 <= weight <= 100:
            checker.invalid((*pref_path, "weight"), weight, "must be in the range 1-100")
        if isinstance(weighted.get("preference"), dict):
            terms.append(((*pref_path, "preference"), weighted["preference"]))
    for term_path, term in terms:
        for j, requirement in enumerate(term.get("matchExpressions") or []):
            req = (*term_path, "matchExpressions", j)
            operator = requirement.get("operator")
            checker.enum((*req, "operator"), operator, "nodeSelectorOperator")
            values = requirement.get("values") or []
            if operator in ("In", "NotIn") and not values:
                checker.required(
                    (*req, "values"), "must be specified when `operator` is 'In' or 'NotIn'"
                )
            if operator in ("Exists", "DoesNotExist") and values:
                checker.forbidden(
                    (*req, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )


def _pod_spec(checker: _Checker, spec: Mapping[str, Any]) -> None:
    path: PathTuple = ("spec",)
    volumes = _volumes(checker, spec)
    if not spec.get("containers") and ("spec", "containers") not in checker.bad_paths:
        checker.required((*path, "containers"))
    names: set[str] = set()
    for group in ("containers", "initContainers", "ephemeralContainers"):
        for index, container in enumerate(spec.get(group) or []):
            container_path = (*path, group, index)
            _container(checker, container_path, container, group=group, volumes=volumes)
            name = container.get("name")
            if isinstance(name, str) and name:
                if name in names:
                    checker.duplicate((*container_path, "name"), name)
                names.add(name)
            if group != "ephemeralContainers":
                _port_warnings(checker, container_path, container)
    if spec.get("ephemeralContainers"):
        checker.forbidden((*path, "ephemeralContainers"), "cannot be set on create")
    _host_ports(checker, spec)
    checker.enum((*path, "restartPolicy"), spec.get("restartPolicy"), "restartPolicy")
    checker.enum((*path, "dnsPolicy"), spec.get("dnsPolicy"), "dnsPolicy")
    checker.enum((*path, "preemptionPolicy"), spec.get("preemptionPolicy"), "preemptionPolicy")
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= 2**31 - 1:
        checker.invalid(
            (*path, "activeDeadlineSeconds"),
            deadline,
            "must be between 1 and 2147483647, inclusive",
        )
    hostname = spec.get("hostname")
    if isinstance(hostname, str) and hostname:
        _dns_label(checker, (*path, "hostname"), hostname)
    subdomain = spec.get("subdomain")
    if isinstance(subdomain, str) and subdomain:
        _dns_label(checker, (*path, "subdomain"), subdomain)
    node_name = spec.get("nodeName")
    if isinstance(node_name, str) and node_name:
        _dns_subdomain(checker, (*path, "nodeName"), node_name)
    if isinstance(spec.get("nodeSelector"), dict):
        _labels(checker, (*path, "nodeSelector"), spec["nodeSelector"], values=True)
    if isinstance(spec.get("tolerations"), list):
        _tolerations(checker, spec["tolerations"])
    if isinstance(spec.get("affinity"), dict):
        _affinity(checker, spec["affinity"])
    gates: set[str] = set()
    for index, gate in enumerate(spec.get("schedulingGates") or []):
        gate_name = gate.get("name")
        if isinstance(gate_name, str) and gate_name:
            for message in qualified_name_errors(gate_name):
                checker.invalid((*path, "schedulingGates", index, "name"), gate_name, message)
            if gate_name in gates:
                checker.duplicate((*path, "schedulingGates", index, "name"), gate_name)
            gates.add(gate_name)
    for index, constraint in enumerate(spec.get("topologySpreadConstraints") or []):
        tsc = (*path, "topologySpreadConstraints", index)
        skew = constraint.get("maxSkew")
        if isinstance(skew, int) and skew <= 0:
            checker.invalid((*tsc, "maxSkew"), skew, "must be greater than zero")
        unsatisfiable = constraint.get("whenUnsatisfiable")
        if unsatisfiable is not None:
            checker.enum((*tsc, "whenUnsatisfiable"), unsatisfiable, "whenUnsatisfiable")


def _simulation_notes(checker: _Checker, value: Any, path: PathTuple, pattern: str) -> None:
    if not isinstance(value, dict):
        return
    for name, item in value.items():
        if (*path, name) in checker.bad_paths:
            continue
        child_pattern = f"{pattern}.{name}" if pattern else name
        if child_pattern in SIMULATED_FIELDS:
            continue
        if any(
            entry.startswith(child_pattern + ".") or entry.startswith(child_pattern + "[]")
            for entry in SIMULATED_FIELDS
        ):
            if isinstance(item, list):
                for index, element in enumerate(item):
                    _simulation_notes(checker, element, (*path, name, index), child_pattern + "[]")
            else:
                _simulation_notes(checker, item, (*path, name), child_pattern)
            continue
        checker.note((*path, name))


def validate(obj: Any, *, document: Document | None = None, index: int = 0) -> Validation:
    """Validate one decoded manifest document; every problem is reported."""
    checker = _Checker(document, index)
    if not isinstance(obj, dict):
        checker.add(
            (),
            TYPE_INVALID,
            f"json: cannot unmarshal {_json_kind(obj)} into Go value of type "
            "map[string]interface {}",
            detail={
                "value": obj,
                "got": _json_kind(obj),
                "expected": "object",
                "stage": DECODE_STAGE,
            },
        )
        return Validation(checker.problems, checker.notes)
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    for name, value in (("apiVersion", api_version), ("kind", kind)):
        if not isinstance(value, str) or not value:
            checker.add(
                (name,),
                REQUIRED,
                "Required value",
                detail={"field": name, "stage": DECODE_STAGE},
                key=True,
            )
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return Validation(checker.problems, checker.notes)
    root = schema.root_type(api_version=api_version, kind=kind)
    if root is None:
        known = [f"{a}/{k}" for a, k in schema.known_kinds()]
        checker.add(
            ("kind",),
            NOT_SUPPORTED,
            f'no matches for kind "{kind}" in version "{api_version}"',
            detail={
                "kind": kind,
                "apiVersion": api_version,
                "supported": known,
                "stage": DECODE_STAGE,
            },
        )
        return Validation(checker.problems, checker.notes)
    cleaned = checker.decode_object(obj, root, ())
    if root == "Pod":
        _metadata(checker, cleaned.get("metadata") or {})
        _pod_spec(checker, cleaned.get("spec") or {})
        if "spec" not in cleaned and ("spec",) not in checker.bad_paths:
            checker.required(("spec", "containers"))
        _simulation_notes(checker, cleaned, (), "")
    else:
        _metadata(checker, cleaned.get("metadata") or {}, label_name=kind == "Namespace")
        if kind == "Node":
            _node_kubelet_config(checker, cleaned.get("metadata") or {})
        if kind in ("Service", "Deployment", "ReplicaSet", "Job"):
            from podlab.engine.apiserver.workloads import validate_workload

            validate_workload(checker, kind, cleaned)
        elif kind not in STORED_KINDS and kind not in ("Node", "Namespace", "ServiceAccount"):
            checker.note(
                ("kind",), NOT_SIMULATED, f"{kind} objects are accepted but not simulated"
            )
    return Validation(checker.problems, checker.notes)


# -- kubectl's rendering -----------------------------------------------------------------


def kubectl_error(problems: list[Problem], *, kind: str, name: str, filename: str) -> str:
    """The error kubectl prints when creating the object fails with ``problems``."""
    if not problems:
        return ""
    first = problems[0]
    if first.code in ("YAMLSyntax", "LimitExceeded"):
        if first.code == "YAMLSyntax":
            return (
                f"error: error parsing {filename}: error converting YAML to JSON: {first.message}"
            )
        return f"error: error parsing {filename}: {first.message}"
    missing = [
        p.detail.get("field")
        for p in problems
        if p.code == REQUIRED
        and p.path in ("apiVersion", "kind")
        and p.detail.get("stage") == DECODE_STAGE
    ]
    if missing:
        listed = [f"{field_name} not set" for field_name in missing]
        data = listed[0] if len(listed) == 1 else "[" + ", ".join(listed) + "]"
        return (
            f'error: error validating "{filename}": error validating data: {data}; if you choose '
            "to ignore these errors, turn validation off with --validate=false"
        )
    unknown_kind = [
        p
        for p in problems
        if p.code == NOT_SUPPORTED and p.path == "kind" and p.detail.get("stage") == DECODE_STAGE
    ]
    if unknown_kind:
        return (
            f'error: resource mapping not found for name: "{name}" namespace: "" from '
            f'"{filename}": {unknown_kind[0].message}\nensure CRDs are installed first'
        )
    prefix = (
        f'Error from server (BadRequest): error when creating "{filename}": '
        f'{kind} in version "v1" cannot be handled as a {kind}: '
    )
    unknown = [p for p in problems if p.code == UNKNOWN_FIELD]
    decode = [
        p for p in problems if p.detail.get("stage") == DECODE_STAGE and p.code != UNKNOWN_FIELD
    ]
    if decode:
        problem = decode[0]
        text = problem.message if problem.code == TYPE_INVALID else problem.detail.get("detail", "")
        return prefix + text
    if unknown:
        return prefix + "strict decoding error: " + ", ".join(p.message for p in unknown)
    lines = [p.kubectl_line() for p in problems]
    head = f'The {kind} "{name}" is invalid: '
    if len(lines) == 1:
        return head + lines[0]
    return head + "\n" + "".join(f"* {line}\n" for line in lines).rstrip("\n")
