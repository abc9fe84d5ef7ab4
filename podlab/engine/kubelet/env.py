"""A container's environment and the checks of ``generateContainerConfig``.

``container_env`` follows the kubelet's ``makeEnvironmentVariables``: the service variables
first, then ``envFrom`` sources in order (with their ``prefix``), then ``env`` entries in order;
an ``env`` value may use ``$(NAME)`` of anything defined before it. ``valueFrom`` reads the
Pod (``fieldRef``), the containers' resources (``resourceFieldRef``), ConfigMaps and Secrets.
A missing object or key that is not ``optional`` raises :class:`ConfigError` with the
kubelet's message; the kubelet reports it as ``CreateContainerConfigError``.

``check_non_root`` is ``verifyRunAsNonRoot``; ``effective_user`` is the uid the process runs
as (container ``runAsUser``, else the Pod's, else the image's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podlab.engine.kubelet.volumes import ObjectStore
from podlab.engine.runtime.runtime import expand_var_refs


class ConfigError(Exception):
    """The container's configuration cannot be built (``CreateContainerConfigError``)."""


def _lookup(
    store: ObjectStore, kind: str, namespace: str, name: str
) -> dict[str, str] | None:
    if kind == "ConfigMap":
        return store.config_map(namespace, name)
    return store.secret(namespace, name)


def _key_ref(
    store: ObjectStore, kind: str, namespace: str, ref: dict[str, Any]
) -> str | None:
    """The value of ``configMapKeyRef``/``secretKeyRef``; None when optional and missing."""
    name = ref.get("name", "")
    optional = bool(ref.get("optional"))
    data = _lookup(store, kind, namespace, name)
    if data is None:
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    key = ref.get("key", "")
    if key not in data:
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]


def container_env(
    container: dict[str, Any],
    *,
    base: dict[str, str],
    store: ObjectStore,
    namespace: str,
    field_value: Callable[[str], str],
    resource_value: Callable[[dict[str, Any], str], str],
) -> dict[str, str]:
    """Every variable the container's process sees (``base``: image and service variables)."""
    env = dict(base)
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(field)
            if ref is None:
                continue
            name = ref.get("name", "")
            data = _lookup(store, kind, namespace, name)
            if data is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'{kind.lower()} "{name}" not found')
            for key in sorted(data):
                env[prefix + key] = data[key]
    for item in container.get("env") or []:
        name = item.get("name")
        if not name:
            continue
        source = item.get("valueFrom")
        if source is None:
            env[name] = expand_var_refs(str(item.get("value") or ""), env)
            continue
        value: str | None
        if source.get("fieldRef"):
            value = field_value(str(source["fieldRef"].get("fieldPath", "")))
        elif source.get("resourceFieldRef"):
            value = resource_value(source["resourceFieldRef"], str(container.get("name", "")))
        elif source.get("configMapKeyRef"):
            value = _key_ref(store, "ConfigMap", namespace, source["configMapKeyRef"])
        elif source.get("secretKeyRef"):
            value = _key_ref(store, "Secret", namespace, source["secretKeyRef"])
        else:
            value = ""
        if value is not None:
            env[name] = value
    return env


def _security(pod_spec: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    value = (container.get("securityContext") or {}).get(field)
    if value is None:
        value = (pod_spec.get("securityContext") or {}).get(field)
    return value


def effective_user(pod_spec: dict[str, Any], container: dict[str, Any], image_user: int) -> int:
    uid = _security(pod_spec, container, "runAsUser")
    return int(uid) if uid is not None else image_user


def effective_groups(
    pod_spec: dict[str, Any], container: dict[str, Any], uid: int, image_user: int
) -> tuple[int, tuple[int, ...]]:
    """The primary gid and the supplementary groups of the container's first process.

    ``runAsGroup`` (container, else Pod) is the gid; without it the gid is the user's
    primary group, which is 0 for a uid the image does not define (the image's own user
    keeps its group). ``fsGroup`` and ``supplementalGroups`` are added to the groups, and
    the gid is one of them (kubernetes.io, "Configure a Security Context")."""
    group = _security(pod_spec, container, "runAsGroup")
    if group is not None:
        gid = int(group)
    else:
        gid = uid if uid == image_user else 0
    pod = pod_spec.get("securityContext") or {}
    extra = [int(g) for g in pod.get("supplementalGroups") or []]
    if pod.get("fsGroup") is not None:
        extra.append(int(pod["fsGroup"]))
    return gid, tuple(sorted({gid, *extra})) if extra else ()


def check_non_root(
    pod_spec: dict[str, Any], container: dict[str, Any], image_user: int, pod_name: str
) -> None:
    """``verifyRunAsNonRoot``: raises ConfigError when a non-root policy would run as root."""
    if not _security(pod_spec, container, "runAsNonRoot"):
        return
    name = container.get("name", "")
    uid = _security(pod_spec, container, "runAsUser")
    if uid is not None:
        if int(uid) == 0:
            raise ConfigError(
                f"container's runAsUser breaks non-root policy (pod: \"{pod_name}\", "
                f"container: {name})"
            )
        return
    if image_user == 0:
        raise ConfigError(
            f'container has runAsNonRoot and image will run as root (pod: "{pod_name}", '
            f"container: {name})"
        )


def read_only_root(container: dict[str, Any]) -> bool:
    return bool((container.get("securityContext") or {}).get("readOnlyRootFilesystem"))


__all__ = [
    "ConfigError",
    "check_non_root",
    "container_env",
    "effective_groups",
    "effective_user",
    "read_only_root",
]
