"""API server defaulting for v1 Pods, plus what the standard admission plugins add.

Mirrors ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_Pod``, ``SetDefaults_PodSpec``,
``SetDefaults_Container``, ``SetDefaults_Probe``, ``SetDefaults_HTTPGetAction``,
``SetDefaults_Volume`` and friends) and the admission plugins every cluster runs on create:
ServiceAccount (``serviceAccountName`` and the ``kube-api-access-*`` projected volume),
Priority (``priority`` and ``preemptionPolicy``) and DefaultTolerationSeconds (the
``not-ready``/``unreachable`` NoExecute tolerations for 300 s).

Random parts (the uid, the volume suffix, a name from ``generateName``) are derived from a
seed, so the same input always gives the same output.  Keys are ordered like the API server's
JSON (Go struct field order).  ``creationTimestamp`` and ``status`` are the caller's.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TOLERATION_SECONDS = 300
# utilrand.String's alphabet: no vowels, no confusable characters.
_RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Built-in priority classes known to every cluster.
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}

_META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
_SPEC_ORDER = (
    "volumes",
    "initContainers",
    "containers",
    "ephemeralContainers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "dnsPolicy",
    "nodeSelector",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "nodeName",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "shareProcessNamespace",
    "securityContext",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "affinity",
    "schedulerName",
    "tolerations",
    "hostAliases",
    "priorityClassName",
    "priority",
    "dnsConfig",
    "readinessGates",
    "runtimeClassName",
    "enableServiceLinks",
    "preemptionPolicy",
    "overhead",
    "topologySpreadConstraints",
    "setHostnameAsFQDN",
    "os",
    "hostUsers",
    "schedulingGates",
    "resourceClaims",
    "resources",
)
_CONTAINER_ORDER = (
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "restartPolicyRules",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
    "targetContainerName",
)
_PORT_ORDER = ("name", "hostPort", "containerPort", "protocol", "hostIP")
_PROBE_ORDER = (
    "exec",
    "httpGet",
    "tcpSocket",
    "grpc",
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
    "terminationGracePeriodSeconds",
)
_HTTP_GET_ORDER = ("path", "port", "host", "scheme", "httpHeaders")
_MOUNT_ORDER = (
    "name",
    "readOnly",
    "recursiveReadOnly",
    "mountPath",
    "subPath",
    "mountPropagation",
    "subPathExpr",
)
_TOLERATION_ORDER = ("key", "operator", "value", "effect", "tolerationSeconds")
_POD_ORDER = ("kind", "apiVersion", "metadata", "spec", "status")


def ordered(mapping: dict[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """A copy of ``mapping`` with the keys in ``order`` first, others after in their order."""
    order = tuple(order)
    result = {key: mapping[key] for key in order if key in mapping}
    result.update((key, value) for key, value in mapping.items() if key not in result)
    return result


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8")).digest()


def deterministic_uid(*, seed: int | str, index: int, namespace: str, name: str) -> str:
    """A version-4-shaped UUID derived from the seed, a counter and the object's name."""
    raw = bytearray(_digest("uid", seed, index, namespace, name)[:16])
    return str(uuid.UUID(bytes=bytes(raw), version=4))


def random_suffix(*, source: str, length: int = 5) -> str:
    """``utilrand.String(length)``-like text derived from ``source`` (e.g. a uid)."""
    digest = _digest("suffix", source)
    return "".join(_RAND_ALPHABET[b % len(_RAND_ALPHABET)] for b in digest[:length])


def image_pull_policy(image: str) -> str:
    """``Always`` when the tag is ``latest`` (also the implied tag), else ``IfNotPresent``.

    A reference with a digest and no tag has no implied tag, so it gets ``IfNotPresent``.
    """
    name, has_digest, _digest_part = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
    else:
        tag = "" if has_digest else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _http_get(action: dict[str, Any]) -> dict[str, Any]:
    action = dict(action)
    action.setdefault("path", "/")
    if not action["path"]:
        action["path"] = "/"
    if not action.get("scheme"):
        action["scheme"] = "HTTP"
    return ordered(action, _HTTP_GET_ORDER)


def _handler(handler: dict[str, Any]) -> dict[str, Any]:
    handler = dict(handler)
    if isinstance(handler.get("httpGet"), dict):
        handler["httpGet"] = _http_get(handler["httpGet"])
    return handler


def _probe(probe: dict[str, Any]) -> dict[str, Any]:
    probe = _handler(probe)
    for name, default in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(name):
            probe[name] = default
    # initialDelaySeconds has no default: zero is omitted from the API server's JSON.
    return ordered(probe, _PROBE_ORDER)


def _field_ref(ref: dict[str, Any]) -> dict[str, Any]:
    ref = dict(ref)
    if not ref.get("apiVersion"):
        ref["apiVersion"] = "v1"
    return ordered(ref, ("apiVersion", "fieldPath"))


def _container(container: dict[str, Any], *, pod_level_limits_to_requests: bool) -> dict[str, Any]:
    c = dict(container)
    if c.get("ports"):
        ports = []
        for port in c["ports"]:
            port = dict(port)
            if not port.get("protocol"):
                port["protocol"] = "TCP"
            ports.append(ordered(port, _PORT_ORDER))
        c["ports"] = ports
    if c.get("env"):
        env = []
        for var in c["env"]:
            var = dict(var)
            source = var.get("valueFrom")
            if isinstance(source, dict) and isinstance(source.get("fieldRef"), dict):
                var["valueFrom"] = {**source, "fieldRef": _field_ref(source["fieldRef"])}
            env.append(ordered(var, ("name", "value", "valueFrom")))
        c["env"] = env
    resources = dict(c.get("resources") or {})
    if pod_level_limits_to_requests and resources.get("limits"):
        requests = dict(resources.get("requests") or {})
        for name, value in resources["limits"].items():
            requests.setdefault(name, value)
        resources["requests"] = requests
    c["resources"] = ordered(resources, ("limits", "requests", "claims"))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(kind), dict):
            c[kind] = _probe(c[kind])
    if isinstance(c.get("lifecycle"), dict):
        lifecycle = dict(c["lifecycle"])
        for hook in ("postStart", "preStop"):
            if isinstance(lifecycle.get(hook), dict):
                lifecycle[hook] = _handler(lifecycle[hook])
        c["lifecycle"] = ordered(lifecycle, ("postStart", "preStop", "stopSignal"))
    if not c.get("terminationMessagePath"):
        c["terminationMessagePath"] = "/dev/termination-log"
    if not c.get("terminationMessagePolicy"):
        c["terminationMessagePolicy"] = "File"
    if not c.get("imagePullPolicy") and isinstance(c.get("image"), str):
        c["imagePullPolicy"] = image_pull_policy(c["image"])
    if c.get("volumeMounts"):
        c["volumeMounts"] = [ordered(dict(m), _MOUNT_ORDER) for m in c["volumeMounts"]]
    return ordered(c, _CONTAINER_ORDER)


def _volume(volume: dict[str, Any]) -> dict[str, Any]:
    v = dict(volume)
    sources = [key for key in v if key != "name" and v[key] is not None]
    if not sources:
        v["emptyDir"] = {}
    for source in ("configMap", "secret", "downwardAPI", "projected"):
        if isinstance(v.get(source), dict):
            data = dict(v[source])
            if data.get("defaultMode") is None:
                data["defaultMode"] = 420
            if source == "downwardAPI" and data.get("items"):
                data["items"] = [
                    {**item, "fieldRef": _field_ref(item["fieldRef"])}
                    if isinstance(item.get("fieldRef"), dict)
                    else item
                    for item in data["items"]
                ]
            v[source] = data
    if isinstance(v.get("hostPath"), dict):
        host_path = dict(v["hostPath"])
        host_path.setdefault("type", "")
        v["hostPath"] = ordered(host_path, ("path", "type"))
    return ordered(v, ("name",))


def _service_account_volume(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


def _default_tolerations(tolerations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = [ordered(dict(t), _TOLERATION_ORDER) for t in tolerations]
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        tolerated = any(
            (t.get("key") == taint or (not t.get("key") and t.get("operator") == "Exists"))
            and t.get("effect") in ("NoExecute", None, "")
            for t in result
        )
        if not tolerated:
            result.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    return result


def pod_spec_defaults(
    spec: dict[str, Any], *, pod_level_limits_to_requests: bool
) -> dict[str, Any]:
    """``SetDefaults_PodSpec`` and the container defaults: what a Pod template also gets.

    Limits are copied to missing requests only for a Pod (``SetDefaults_Pod``), not for the
    template of a Deployment or Job."""
    spec = dict(spec)
    spec["volumes"] = [_volume(v) for v in spec.get("volumes") or []]
    for group in ("initContainers", "containers"):
        if spec.get(group):
            spec[group] = [
                _container(c, pod_level_limits_to_requests=pod_level_limits_to_requests)
                for c in spec[group]
            ]
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    elif spec["terminationGracePeriodSeconds"] < 0:
        spec["terminationGracePeriodSeconds"] = 1
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    return spec


def apply_defaults(
    obj: dict[str, Any], *, seed: int | str = 0, index: int = 0, uid: str | None = None
) -> dict[str, Any]:
    """A new v1 Pod with the API server's defaults and admission additions filled in.

    ``seed`` and ``index`` (the object's position in a run) make the uid and the generated
    names deterministic; pass ``uid`` to choose it outright.  Objects that are not Pods are
    returned as a copy with only their metadata defaulted.
    """
    pod = copy.deepcopy(obj)
    meta = dict(pod.get("metadata") or {})
    if not meta.get("namespace"):
        meta["namespace"] = "default"
    if not meta.get("name") and meta.get("generateName"):
        source = f"{seed}:{index}:{meta['generateName']}"
        meta["name"] = meta["generateName"] + random_suffix(source=source)
    if not meta.get("uid"):
        meta["uid"] = uid or deterministic_uid(
            seed=seed, index=index, namespace=meta["namespace"], name=meta.get("name", "")
        )
    pod["metadata"] = ordered(meta, _META_ORDER)
    if pod.get("kind") in ("Service", "Deployment", "ReplicaSet", "Job"):
        from podlab.engine.apiserver.workloads import workload_defaults

        return workload_defaults(pod)
    if pod.get("kind") != "Pod" or pod.get("apiVersion") != "v1":
        return pod
    pod.pop("status", None)  # the API server ignores status on create
    spec = pod_spec_defaults(dict(pod.get("spec") or {}), pod_level_limits_to_requests=True)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True

    # ServiceAccount admission.
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    if spec.get("automountServiceAccountToken") is not False:
        volume_name = "kube-api-access-" + random_suffix(source=pod["metadata"]["uid"])
        mounted = False
        for group in ("initContainers", "containers"):
            containers = []
            for container in spec.get(group) or []:
                mounts = list(container.get("volumeMounts") or [])
                if not any(m.get("mountPath") == SERVICE_ACCOUNT_MOUNT_PATH for m in mounts):
                    mounts.append(
                        {
                            "name": volume_name,
                            "readOnly": True,
                            "mountPath": SERVICE_ACCOUNT_MOUNT_PATH,
                        }
                    )
                    mounted = True
                    container = ordered({**container, "volumeMounts": mounts}, _CONTAINER_ORDER)
                containers.append(container)
            if group in spec:
                spec[group] = containers
        if mounted:
            spec["volumes"].append(_service_account_volume(volume_name))
    if not spec["volumes"]:
        del spec["volumes"]

    # Priority admission.
    class_name = spec.get("priorityClassName")
    if spec.get("priority") is None:
        if not class_name:
            spec["priority"] = 0
        elif class_name in SYSTEM_PRIORITY_CLASSES:
            spec["priority"] = SYSTEM_PRIORITY_CLASSES[class_name]
    if not spec.get("preemptionPolicy"):
        spec["preemptionPolicy"] = "PreemptLowerPriority"

    # DefaultTolerationSeconds admission.
    spec["tolerations"] = _default_tolerations(list(spec.get("tolerations") or []))

    pod["spec"] = ordered(spec, _SPEC_ORDER)
    return ordered(pod, _POD_ORDER)
