"""Pod volumes: what the kubelet's volume manager mounts before the sandbox starts.

``ObjectStore`` holds the ConfigMaps, Secrets and PersistentVolumeClaims the API server knows
(from ``kind: ConfigMap`` / ``Secret`` / ``PersistentVolumeClaim`` documents) and the data of
every bound claim, which outlives the Pods that use it.

``PodVolumes`` is one Pod's set of volumes. ``setup()`` is ``MountVolume.SetUp`` for each
volume not yet mounted and returns the failures with the kubelet's wording; the kubelet keeps
the Pod in ContainerCreating and retries. ``mount_into()`` bind-mounts the volumes into a fresh
container file system following ``volumeMounts`` (``subPath``, ``readOnly``).

What each source gives:

* ``emptyDir``: a directory that lives as long as the Pod (it survives container restarts and
  is shared by all containers); ``sizeLimit`` is enforced by eviction (``resources.py``).
* ``hostPath``: a directory of the node's file system, shared by every Pod on the node.
* ``configMap`` / ``secret``: read-only files, one per key (``items`` selects and renames).
* ``downwardAPI``: read-only files from the Pod's metadata and its containers' resources.
* ``persistentVolumeClaim``: the claim's data; a Pod whose claim does not exist is not
  scheduled (see :func:`unschedulable_message`).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podlab.engine.runtime.filesystem import MemoryFileSystem, normalise
from podlab.engine.runtime.process import FileSystem, FileSystemError

STORED_KINDS = frozenset({"ConfigMap", "Secret", "PersistentVolumeClaim"})
#: Sources whose files the kubelet always mounts read-only.
READ_ONLY_SOURCES = frozenset({"configMap", "secret", "downwardAPI", "projected"})
SOURCES = (
    "emptyDir",
    "hostPath",
    "configMap",
    "secret",
    "downwardAPI",
    "persistentVolumeClaim",
    "projected",
)
#: The root CA ConfigMap the kube-root-ca.crt publisher puts in every namespace.
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
ROOT_CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDBTCCAe2gAwIBAgIIPodLabSimulatedClusterCA0wDQYJKoZIhvcNAQELBQAw\n"
    "FTETMBEGA1UEAxMKa3ViZXJuZXRlczAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEw\n"
    "-----END CERTIFICATE-----\n"
)


class ObjectStore:
    """ConfigMaps, Secrets and PersistentVolumeClaims by (kind, namespace, name)."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._claims: dict[tuple[str, str], MemoryFileSystem] = {}

    @staticmethod
    def accepts(obj: dict[str, Any]) -> bool:
        return obj.get("kind") in STORED_KINDS

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(obj.get("kind")), meta.get("namespace") or "default", meta.get("name", ""))
        self._objects[key] = obj

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get((kind, namespace, name))

    def remove_namespace(self, namespace: str) -> None:
        """The namespace controller deletes a deleted namespace's objects."""
        for key in [k for k in self._objects if k[1] == namespace]:
            del self._objects[key]

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        """The ConfigMap's keys (``data`` and decoded ``binaryData``), None if it is missing."""
        obj = self.get("ConfigMap", namespace, name)
        if obj is None and name == ROOT_CA_CONFIG_MAP:
            return {"ca.crt": ROOT_CA_PEM}
        if obj is None:
            return None
        out = {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
        for key, value in (obj.get("binaryData") or {}).items():
            out[str(key)] = _decode(value)
        return out

    def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """The Secret's keys, decoded; ``stringData`` wins over ``data`` as the API server's."""
        obj = self.get("Secret", namespace, name)
        if obj is None:
            return None
        out = {str(k): _decode(v) for k, v in (obj.get("data") or {}).items()}
        out.update({str(k): str(v) for k, v in (obj.get("stringData") or {}).items()})
        return out

    def claim(self, namespace: str, name: str) -> MemoryFileSystem | None:
        """The data of a bound claim (created on first use), None when there is no claim."""
        if self.get("PersistentVolumeClaim", namespace, name) is None:
            return None
        key = (namespace, name)
        if key not in self._claims:
            self._claims[key] = MemoryFileSystem()
        return self._claims[key]


def _decode(value: Any) -> str:
    try:
        return base64.b64decode(str(value), validate=False).decode(errors="replace")
    except (binascii.Error, ValueError):
        return ""


def unschedulable_message(pod: dict[str, Any], store: ObjectStore, nodes: int = 1) -> str | None:
    """The scheduler's ``VolumeBinding`` verdict: a Pod whose claim does not exist stays
    Pending with this ``FailedScheduling`` message (None when every claim exists)."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        claim = volume.get("persistentVolumeClaim")
        if not claim:
            continue
        name = claim.get("claimName", "")
        if store.get("PersistentVolumeClaim", namespace, name) is None:
            return (
                f'0/{nodes} nodes are available: persistentvolumeclaim "{name}" not found. '
                f"preemption: 0/{nodes} nodes are available: {nodes} Preemption is not "
                "helpful for scheduling.."
            )
    return None


class SubdirFileSystem:
    """A view of ``base`` inside another file system: a subPath, a hostPath, or one file
    (when ``base`` names a file the view's ``/`` is that file)."""

    def __init__(self, fs: FileSystem, base: str) -> None:
        self._fs = fs
        self._base = normalise(base)

    def _full(self, path: str) -> str:
        inner = normalise(path).lstrip("/")
        return normalise(posixpath.join(self._base, inner)) if inner else self._base

    def read(self, path: str) -> str:
        return self._fs.read(self._full(path))

    def write(self, path: str, data: str, *, append: bool = False) -> None:
        self._fs.write(self._full(path), data, append=append)

    def backing_path(self, path: str) -> tuple[Any, str]:
        """The memory tree behind this view and the path inside it (shell.Shell.write_file)."""
        through = getattr(self._fs, "backing_path", None)
        return through(self._full(path)) if through is not None else (None, path)

    def exists(self, path: str) -> bool:
        return self._fs.exists(self._full(path))

    def is_dir(self, path: str) -> bool:
        return self._fs.is_dir(self._full(path))

    def listdir(self, path: str) -> list[str]:
        return self._fs.listdir(self._full(path))

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        self._fs.mkdir(self._full(path), parents=parents)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        if normalise(path) == "/":
            raise FileSystemError("EBUSY", path)
        self._fs.remove(self._full(path), recursive=recursive)


def tree_bytes(fs: FileSystem, path: str = "/") -> int:
    """Bytes of every file below ``path`` (what ``du`` would count for text files)."""
    total = 0
    try:
        if not fs.is_dir(path):
            return len(fs.read(path).encode())
        for name in fs.listdir(path):
            total += tree_bytes(fs, posixpath.join(path, name))
    except FileSystemError:
        return total
    return total


def _used_bytes(fs: FileSystem) -> int:
    """A volume's usage: a memory tree counts what it keeps and what it only counted."""
    file_bytes = getattr(fs, "file_bytes", None)
    return file_bytes() if callable(file_bytes) else tree_bytes(fs)


class MountError(Exception):
    """``MountVolume.SetUp`` failed; ``str(err)`` is the volume plugin's error."""


@dataclass(slots=True)
class Volume:
    name: str
    source: str  # one of SOURCES
    spec: dict[str, Any]
    fs: FileSystem | None = None
    read_only: bool = False

    @property
    def mounted(self) -> bool:
        return self.fs is not None


class PodVolumes:
    """The volumes of one Pod and their mounts into containers."""

    def __init__(
        self,
        pod: dict[str, Any],
        store: ObjectStore,
        host_fs: MemoryFileSystem,
        field_value: Callable[[str], str],
        resource_value: Callable[[dict[str, Any], str], str],
        *,
        disk: Callable[[int, int], tuple[int, int]] | None = None,
    ) -> None:
        self.pod = pod
        #: reserves bytes and inodes on the node's disk, where a disk-backed emptyDir is
        self.disk = disk
        self.namespace: str = (pod.get("metadata") or {}).get("namespace") or "default"
        self.store = store
        self.host_fs = host_fs
        self._field_value = field_value
        self._resource_value = resource_value
        self.volumes: dict[str, Volume] = {}
        for spec in (pod.get("spec") or {}).get("volumes") or []:
            source = next((s for s in SOURCES if s in spec), "")
            self.volumes[spec["name"]] = Volume(spec["name"], source, spec)
        #: whether the Pod has an emptyDir volume (a Pod's volumes never change)
        self.empty_dirs = any(v.source == "emptyDir" for v in self.volumes.values())

    @property
    def ready(self) -> bool:
        return all(v.mounted for v in self.volumes.values())

    def setup(self) -> list[tuple[str, str]]:
        """Mount what is not mounted yet; (volume, kubelet event message) for each failure."""
        failures: list[tuple[str, str]] = []
        for volume in self.volumes.values():
            if volume.mounted:
                continue
            try:
                volume.fs = self._set_up(volume)
                volume.read_only = volume.source in READ_ONLY_SOURCES or bool(
                    (volume.spec.get("persistentVolumeClaim") or {}).get("readOnly")
                )
            except MountError as err:
                failures.append(
                    (volume.name, f'MountVolume.SetUp failed for volume "{volume.name}" : {err}')
                )
        return failures

    def _set_up(self, volume: Volume) -> FileSystem:
        spec = volume.spec.get(volume.source) or {}
        if volume.source == "emptyDir":
            fs = MemoryFileSystem()
            # medium: Memory is a tmpfs: its pages are charged to the memory cgroup of the
            # container that writes them.
            fs.memory_backed = spec.get("medium") == "Memory"
            if not fs.memory_backed:
                fs.disk = self.disk
            return fs
        if volume.source == "hostPath":
            return self._host_path(spec)
        if volume.source == "configMap":
            data = self.store.config_map(self.namespace, spec.get("name", ""))
            if data is None:
                if spec.get("optional"):
                    return MemoryFileSystem()
                raise MountError(f'configmap "{spec.get("name", "")}" not found')
            return _key_files(data, spec, "configmap references non-existent config key")
        if volume.source == "secret":
            name = spec.get("secretName", "")
            data = self.store.secret(self.namespace, name)
            if data is None:
                if spec.get("optional"):
                    return MemoryFileSystem()
                raise MountError(f'secret "{name}" not found')
            return _key_files(data, spec, "secret references non-existent secret key")
        if volume.source == "downwardAPI":
            return MemoryFileSystem(self._downward_files(spec))
        if volume.source == "projected":
            return MemoryFileSystem(self._projected_files(spec))
        if volume.source == "persistentVolumeClaim":
            claim = self.store.claim(self.namespace, spec.get("claimName", ""))
            if claim is None:
                name = spec.get("claimName", "")
                raise MountError(f'persistentvolumeclaim "{name}" not found')
            return claim
        raise MountError(f"volume {volume.name} has no simulated source")

    def _downward_files(self, spec: dict[str, Any]) -> dict[str, str]:
        files: dict[str, str] = {}
        for item in spec.get("items") or []:
            if item.get("fieldRef"):
                files["/" + item["path"]] = self._field_value(item["fieldRef"]["fieldPath"])
            elif item.get("resourceFieldRef"):
                ref = item["resourceFieldRef"]
                files["/" + item["path"]] = self._resource_value(ref, "")
        return files

    def _projected_files(self, spec: dict[str, Any]) -> dict[str, str]:
        """A ``projected`` volume (the ``kube-api-access-*`` one the ServiceAccount admission
        adds): service account token, ConfigMap, Secret and downward API items in one place."""
        files: dict[str, str] = {}
        for source in spec.get("sources") or []:
            if source.get("serviceAccountToken") is not None:
                path = source["serviceAccountToken"].get("path") or "token"
                files["/" + path] = _token(self.pod)
            elif source.get("configMap") is not None:
                ref = source["configMap"]
                name = ref.get("name", "")
                data = self.store.config_map(self.namespace, name)
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise MountError(f'configmap "{name}" not found')
                for path, data_ in _key_files(
                    data, ref, "configmap references non-existent config key"
                ).snapshot().items():
                    files[path] = data_
            elif source.get("secret") is not None:
                ref = source["secret"]
                name = ref.get("name", "")
                data = self.store.secret(self.namespace, name)
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise MountError(f'secret "{name}" not found')
                for path, data_ in _key_files(
                    data, ref, "secret references non-existent secret key"
                ).snapshot().items():
                    files[path] = data_
            elif source.get("downwardAPI") is not None:
                files.update(self._downward_files(source["downwardAPI"]))
        return files

    def _host_path(self, spec: dict[str, Any]) -> FileSystem:
        path = normalise(spec.get("path") or "/")
        kind = spec.get("type") or ""
        fs = self.host_fs
        if kind == "DirectoryOrCreate" and not fs.exists(path):
            fs.mkdir(path, parents=True)
        elif kind == "FileOrCreate" and not fs.exists(path):
            fs.mkdir(posixpath.dirname(path), parents=True)
            fs.write(path, "")
        elif kind == "Directory" and not fs.is_dir(path):
            raise MountError(f"hostPath type check failed: {path} is not a directory")
        elif kind == "File" and (not fs.exists(path) or fs.is_dir(path)):
            raise MountError(f"hostPath type check failed: {path} is not a file")
        elif kind == "" and not fs.exists(path):
            fs.mkdir(path, parents=True)  # docker-era behaviour: an empty directory appears
        return SubdirFileSystem(fs, path)

    def mount_into(self, fs: MemoryFileSystem, container: dict[str, Any]) -> None:
        """Bind-mount the container's ``volumeMounts`` into its file system."""
        for mount in container.get("volumeMounts") or []:
            volume = self.volumes.get(mount.get("name", ""))
            if volume is None or volume.fs is None:
                continue
            target: FileSystem = volume.fs
            sub = str(mount.get("subPath") or "").strip("/")
            if sub:
                if not volume.fs.exists("/" + sub) and not volume.read_only:
                    volume.fs.mkdir("/" + sub, parents=True)
                target = SubdirFileSystem(volume.fs, "/" + sub)
            path = normalise(mount.get("mountPath") or "/")
            if fs.exists(path) and not fs.is_dir(path):
                fs.remove(path)  # a bind mount over a file of the image hides it
            fs.mount(path, target, read_only=volume.read_only or bool(mount.get("readOnly")))

    def empty_dir_usage(self) -> list[tuple[Volume, int]]:
        """(emptyDir volume, bytes used) for eviction checks."""
        return [
            (v, _used_bytes(v.fs))
            for v in self.volumes.values()
            if v.source == "emptyDir" and v.fs is not None
        ]

    def empty_dir_inodes(self) -> int:
        """Inodes the disk-backed emptyDir volumes use (their directory included)."""
        total = 0
        for v in self.volumes.values():
            if v.source != "emptyDir" or v.fs is None:
                continue
            if (v.spec.get("emptyDir") or {}).get("medium") == "Memory":
                continue
            inodes = getattr(v.fs, "inodes", None)
            total += inodes() if callable(inodes) else 1
        return total


def _token(pod: dict[str, Any]) -> str:
    """A service account token shaped like a JWT (three base64url parts); not a real one."""
    meta = pod.get("metadata") or {}
    account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"podlab"}').decode().rstrip("=")
    claims = (
        f'{{"aud":["https://kubernetes.default.svc.cluster.local"],'
        f'"sub":"system:serviceaccount:{meta.get("namespace") or "default"}:{account}",'
        f'"kubernetes.io":{{"pod":{{"name":"{meta.get("name", "")}",'
        f'"uid":"{meta.get("uid", "")}"}}}}}}'
    )
    body = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    return f"{header}.{body}.cG9kbGFiLXNpbXVsYXRlZC1zaWduYXR1cmU"


def _key_files(data: dict[str, str], spec: dict[str, Any], missing: str) -> MemoryFileSystem:
    items = spec.get("items")
    if not items:
        return MemoryFileSystem({"/" + key: value for key, value in data.items()})
    files: dict[str, str] = {}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if spec.get("optional"):
                continue
            raise MountError(f"{missing}: {key}")
        files["/" + str(item.get("path") or key)] = data[key]
    return MemoryFileSystem(files)


__all__ = [
    "READ_ONLY_SOURCES",
    "STORED_KINDS",
    "MountError",
    "ObjectStore",
    "PodVolumes",
    "SubdirFileSystem",
    "Volume",
    "tree_bytes",
    "unschedulable_message",
]
