"""The image catalogue: what each known image is (size, digest, config) and what it does.

Public API (see ``docs/engine.md`` and ``docs/images.md``):

* ``parse_reference(image)`` / ``lookup_image(image)``: the kubelet's reference parsing
  (``docker.io`` default, ``library/`` prefix, ``:latest``, digests) and the registry's answer.
* ``effective_argv(info, command, args)``: Kubernetes' command/args rules over
  ENTRYPOINT/CMD.
* ``resolve_executable(info, argv)``: None, or the OCI message of a failed ``execve``.
* ``program_for(info, argv)`` / ``exec_program(info, argv)``: the container's main program and
  a program for ``kubectl exec``, exec probes and exec hooks.
* ``new_filesystem(info)``: the container's file system, created from the image's files.

Digests are synthetic but fixed (a SHA-256 of the reference), so runs are reproducible.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from podlab.engine.runtime import catalogue, nginx_entrypoint, servers
from podlab.engine.runtime.filesystem import MemoryFileSystem, normalise
from podlab.engine.runtime.process import (
    SIGNAL_NAMES,
    ImageInfo,
    ProcessContext,
    Program,
    Signalled,
    Sleep,
    WaitForever,
)
from podlab.engine.runtime.shell import APPLETS, command_program

__all__ = [
    "ImageLookup",
    "ImageReference",
    "InvalidReference",
    "effective_argv",
    "exec_program",
    "expand_kubernetes_vars",
    "lookup_image",
    "new_filesystem",
    "parse_reference",
    "program_for",
    "resolve_executable",
]

ProgramFactory = Callable[[ProcessContext], Program]
Gen = Generator[Any, Any, Any]
MiB = 1024 * 1024
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# --- references -----------------------------------------------------------------------


class InvalidReference(ValueError):
    """The reference cannot be parsed; ``str()`` is the Go error text."""


@dataclass(frozen=True, slots=True)
class ImageReference:
    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        """The normalised reference the runtime reports (``docker.io/library/nginx:latest``)."""
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^((?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::({_TAG}))?(?:@({_DIGEST}))?$"
)
_ANY_CASE_NAME = re.compile(
    rf"^((?:{_DOMAIN}/)?[a-zA-Z0-9._-]+(?:/[a-zA-Z0-9._-]+)*)(?::({_TAG}))?(?:@({_DIGEST}))?$"
)


@functools.lru_cache(maxsize=512)
def parse_reference(image: str) -> ImageReference:
    """Parse like ``reference.ParseNormalizedNamed`` plus the kubelet's default ``:latest``.
    Cached per text (the result is frozen; invalid references raise every time)."""
    if not image or len(image) > 255 + 128 + 80:
        raise InvalidReference("invalid reference format")
    if re.fullmatch(r"[a-f0-9]{64}", image):
        raise InvalidReference(
            f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
        )
    m = _REFERENCE.match(image)
    if m is None:
        loose = _ANY_CASE_NAME.match(image)
        if loose is not None:
            name = loose.group(1)
            domain, remote = _split_domain(name)
            if remote != remote.lower():
                raise InvalidReference(
                    f"invalid reference format: repository name ({remote}) must be lowercase"
                )
        raise InvalidReference("invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    domain, remote = _split_domain(name)
    if len(remote) > 255:
        raise InvalidReference("repository name must not be more than 255 characters")
    if digest is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise InvalidReference("invalid checksum digest format")
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(domain, remote, tag, digest)


def _split_domain(name: str) -> tuple[str, str]:
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, remote = first, rest
    else:
        domain, remote = "docker.io", name
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remote:
        remote = f"library/{remote}"
    return domain, remote


@dataclass(frozen=True, slots=True)
class ImageLookup:
    """What the registry says about a reference."""

    info: ImageInfo | None
    error: str | None  # "InvalidImageName" | "NotFound" | None
    message: str
    reference: str = ""  # normalised, "" when invalid
    detail: str = ""  # NotFound: "tag-not-found" | "repository-denied" | "host-unknown"


# --- the catalogue (data/images.json, read by catalogue.py) ----------------------------


_PULL_BANDWIDTH = 25_000_000  # bytes per simulated second
_PULL_LATENCY = 0.4


def _digest(repository: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"podlab:{repository}:{tag}".encode()).hexdigest()


_SHELL_FAMILIES = frozenset({"busybox", "alpine", "nginx", "httpd", "redis", "agnhost",
                             "stress", "podlab-app"})
_BUSYBOX_APPLETS = frozenset(APPLETS) - {"bash"}
_DEBIAN_TOOLS = frozenset(
    {"sh", "bash", "cat", "echo", "sleep", "ls", "touch", "rm", "mkdir", "date", "env", "printenv",
     "grep", "head", "tail", "wc", "hostname", "id", "whoami", "seq", "expr", "tee", "cp", "mv",
     "basename", "dirname", "tr", "cut", "sort", "uniq", "uname", "yes", "ps", "free", "test",
     "sed"}
)


# Shell builtins that also exist as programs on disk (``command: ["echo", "hi"]`` works).
_BUILTIN_PROGRAMS = frozenset({"echo", "printf", "test", "[", "true", "false", "kill", "pwd"})


def _tools(family: str, base: str = "") -> frozenset[str]:
    if family in ("nginx", "httpd", "redis", "agnhost"):
        extra = {"wget", "nc", "curl"} if family == "agnhost" else {"curl"} if family == "nginx" \
            else set()
        return (_DEBIAN_TOOLS & frozenset(APPLETS)) | extra | _BUILTIN_PROGRAMS
    if family in _SHELL_FAMILIES or base in ("busybox", "alpine"):
        return _BUSYBOX_APPLETS | _BUILTIN_PROGRAMS
    if base in ("debian", "ubuntu", "oraclelinux"):
        return (_DEBIAN_TOOLS & frozenset(APPLETS)) | _BUILTIN_PROGRAMS
    return frozenset()


@functools.cache
def _busybox_layout() -> dict[str, str]:
    """applet -> the directory busybox installs it in (data/busybox-layout.json)."""
    with (catalogue.DATA.parent / "busybox-layout.json").open(encoding="utf-8") as fh:
        table: dict[str, Any] = json.load(fh)
    return {name: d for d, names in table.items() if d.startswith("/") for name in names}


def _tool_paths(tools: frozenset[str], family: str, base: str) -> list[str]:
    """Where an image keeps its programs: busybox's install layout (Alpine), that plus
    everything in /bin (the busybox image), or both /bin and /usr/bin (merged-/usr Debian)."""
    layout = _busybox_layout()
    paths: list[str] = []
    busybox_like = base in ("busybox", "alpine") or (
        family in _SHELL_FAMILIES and family not in ("nginx", "httpd", "redis", "agnhost")
        and base not in ("debian", "ubuntu", "oraclelinux")
    )
    for name in sorted(tools):
        if busybox_like:
            paths.append(f"{layout.get(name, '/usr/bin')}/{name}")
            if base != "alpine":
                paths.append(f"/bin/{name}")
        else:
            paths += [f"/bin/{name}", f"/usr/bin/{name}"]
    if busybox_like:
        paths.append("/bin/busybox")
    return sorted(set(paths))


_NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

_OS_RELEASE = {
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID={v}\n'
              'PRETTY_NAME="Alpine Linux v{v}"\nHOME_URL="https://alpinelinux.org/"\n'
              'BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n',
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
              'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
              'HOME_URL="https://www.debian.org/"\n',
}

_BINARY = "\x7fELF (simulated binary)\n"


@functools.lru_cache(maxsize=512)
def _cached_files(res: catalogue.Resolved) -> tuple[tuple[str, str], ...]:
    return tuple(_image_files(res).items())


@functools.lru_cache(maxsize=64)
def _digest_index(repository: str) -> dict[str, str]:
    """digest -> tag for every tag the repository's scheme publishes."""
    return {_digest(repository, tag): tag for tag in catalogue.all_tags(repository)}


def _image_files(res: catalogue.Resolved) -> dict[str, str]:
    family, version, base = res.family, res.version, res.base
    files: dict[str, str] = {"/dev/termination-log": "", "/etc/hostname": "localhost\n"}
    tools = _tools(family, base)
    if tools:
        files["/etc/passwd"] = (
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
        )
        files["/etc/group"] = "root:x:0:\nwheel:x:10:root\nnobody:x:65534:\n"
        for path in _tool_paths(tools, family, base):
            files[path] = _BINARY
    if base == "alpine":
        alpine_version = version if family == "alpine" else "3.22.1"
        files["/etc/os-release"] = _OS_RELEASE["alpine"].format(v=alpine_version)
        files["/etc/alpine-release"] = alpine_version + "\n"
    elif base in ("debian", "ubuntu", "oraclelinux"):
        files["/etc/os-release"] = _OS_RELEASE["debian"]
    if family == "nginx":
        files["/usr/share/nginx/html/index.html"] = _NGINX_INDEX
        files["/usr/share/nginx/html/50x.html"] = "<html><body><h1>An error occurred.</h1>"\
            "</body></html>\n"
        files["/etc/nginx/nginx.conf"] = "user  nginx;\nworker_processes  auto;\n"
        files["/etc/nginx/conf.d/default.conf"] = nginx_entrypoint.PACKAGED_DEFAULT_CONF
    elif family == "httpd":
        files["/usr/local/apache2/htdocs/index.html"] = "<html><body><h1>It works!</h1></body>"\
            "</html>\n"
    elif family == "redis":
        files["/data/.keep"] = ""
    files.update(servers.files(family, version))
    files.update(dict(res.files))  # what this release's image adds (catalogue ``eras``)
    for path in res.absent:
        files.pop(path, None)
    return files


def _info(reference: str, res: catalogue.Resolved) -> ImageInfo:
    env = {"PATH": DEFAULT_PATH, **dict(res.env)}
    return ImageInfo(
        reference=reference,
        digest=_digest(res.repository, res.tag),
        size_bytes=res.size,
        pull_seconds=round(_PULL_LATENCY + res.size / _PULL_BANDWIDTH, 3),
        entrypoint=list(res.entrypoint),
        cmd=list(res.cmd),
        env=env,
        workdir=res.workdir,
        user=res.user,
        files=dict(_cached_files(res)),
        stop_signal=_STOP_SIGNALS[res.stop_signal],
    )


_STOP_SIGNALS = {"SIG" + name: number for number, name in SIGNAL_NAMES.items()}


def _served(ref: ImageReference) -> str:
    """The repository a registry serves for ``ref`` (registry host aliases followed)."""
    return f"{catalogue.canonical_domain(ref.domain)}/{ref.path}"


def lookup_image(image: str) -> ImageLookup:
    """Resolve ``image`` as the kubelet and containerd would."""
    try:
        ref = parse_reference(image)
    except InvalidReference as exc:
        return ImageLookup(
            None, "InvalidImageName", f"couldn't parse image reference \"{image}\": {exc}"
        )
    normalised = str(ref)
    repository = _served(ref)
    known = catalogue.known(repository)
    tag: str | None = None
    if known:
        if ref.digest is not None:
            if ref.tag is not None:
                matches = _digest(repository, ref.tag) == ref.digest and \
                    catalogue.resolve(repository, ref.tag) is not None
                tag = ref.tag if matches else None
            else:
                tag = _digest_index(repository).get(ref.digest)
        elif ref.tag is not None and catalogue.resolve(repository, ref.tag) is not None:
            tag = ref.tag
    if not known or tag is None:
        message = _not_found_message(ref, known)
        return ImageLookup(None, "NotFound", message, normalised, not_found_detail(message))
    res = catalogue.resolve(repository, tag)
    assert res is not None  # noqa: S101 - checked above
    return ImageLookup(_info(f"{ref.repository}:{tag}", res), None, "", normalised)


def resolved(info: ImageInfo) -> catalogue.Resolved | None:
    """The catalogue entry an image was pulled from (None for images not in it)."""
    try:
        ref = parse_reference(info.reference)
    except InvalidReference:
        return None
    if ref.tag is None:
        return None
    return catalogue.resolve(_served(ref), ref.tag)


def not_found_detail(message: str) -> str:
    """Which of containerd's pull failures ``message`` is (a code for the narration)."""
    if "pull access denied" in message:
        return "repository-denied"
    if "no such host" in message:
        return "host-unknown"
    return "tag-not-found"


def _not_found_message(ref: ImageReference, repo_known: bool) -> str:
    name = str(ref)
    head = f'failed to pull and unpack image "{name}": failed to resolve reference "{name}"'
    if repo_known or ref.domain not in ("docker.io", "registry.k8s.io", "gcr.io", "quay.io",
                                         "ghcr.io"):
        if not repo_known:
            host = ref.domain.split(":")[0]
            return (
                f"rpc error: code = Unknown desc = {head}: failed to do request: Head "
                f'"https://{ref.domain}/v2/{ref.path}/manifests/{ref.tag or ref.digest}": '
                f"dial tcp: lookup {host}: no such host"
            )
        return f"rpc error: code = NotFound desc = {head}: {name}: not found"
    if ref.domain == "docker.io":
        return (
            f"rpc error: code = Unknown desc = {head}: pull access denied, repository does not "
            "exist or may require authorization: server message: insufficient_scope: "
            "authorization failed"
        )
    return f"rpc error: code = NotFound desc = {head}: {name}: not found"


# --- command lines --------------------------------------------------------------------


def effective_argv(info: ImageInfo, command: list[str] | None, args: list[str] | None) -> list[str]:
    """Kubernetes' rules: ``command`` replaces ENTRYPOINT (and drops CMD), ``args`` replaces
    CMD; empty lists count as not set."""
    if command:
        return [*command, *(args or [])]
    return [*info.entrypoint, *(args if args else info.cmd)]


def expand_kubernetes_vars(text: str, env: dict[str, str]) -> str:
    """``$(VAR)`` in command/args: replaced when VAR is defined, ``$$`` escapes a ``$``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("$(", i):
            end = text.find(")", i + 2)
            if end > 0:
                name = text[i + 2 : end]
                if name in env:
                    out.append(env[name])
                    i = end + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _image_path(info: ImageInfo) -> list[str]:
    return [d for d in info.env.get("PATH", DEFAULT_PATH).split(":") if d]


def resolve_executable(info: ImageInfo, argv: list[str]) -> str | None:
    """None if ``argv[0]`` exists in the image, else the OCI runtime's ``exec`` error."""
    if not argv:
        return "no command specified"
    name = argv[0]
    if "/" in name:
        path = normalise(name, info.workdir)
        if path in info.files:
            return None
        return f'exec: "{name}": stat {name}: no such file or directory'
    for d in _image_path(info):
        if f"{d.rstrip('/')}/{name}" in info.files:
            return None
    return f'exec: "{name}": executable file not found in $PATH'


def _family(info: ImageInfo) -> str:
    res = resolved(info)
    if res is not None:
        return res.family
    ref = parse_reference(info.reference)
    entry = catalogue.repositories().get(_served(ref))
    return str(entry.get("family", "")) if entry else ""


def _version(info: ImageInfo) -> str:
    res = resolved(info)
    if res is not None:
        return res.version
    ref = parse_reference(info.reference)
    return ref.tag or ""


def _base_os(info: ImageInfo) -> str:
    res = resolved(info)
    if res is not None:
        return res.base
    ref = parse_reference(info.reference)
    entry = catalogue.repositories().get(_served(ref))
    return str(entry.get("base", "")) if entry else ""


def _shell(info: ImageInfo, argv: list[str]) -> ProgramFactory:
    family = _family(info)
    res = resolved(info)
    version = (res.busybox if res is not None and res.busybox else "1.36.1")

    def external(command: list[str]) -> ProgramFactory | None:
        return _image_program(info, command)

    return command_program(
        argv, cwd=info.workdir, uid=info.user, busybox_version=version,
        applets=_tools(family, _base_os(info)), external=external, gid=info.group,
        groups=info.groups,
    )


def _image_program(info: ImageInfo, argv: list[str]) -> ProgramFactory | None:
    family = _family(info)
    if servers.handles(family, argv):
        return _bind(servers.program(family), servers.strip_wrappers(family, argv),
                     _version(info), False)
    client = servers.tool(family, argv)
    if client is not None:
        return _bind(client, argv, _version(info), False)
    return None


def _base(argv: list[str]) -> str:
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def program_for(info: ImageInfo, argv: list[str]) -> ProgramFactory:
    """The container's main program for ``argv`` (from :func:`effective_argv`)."""
    family = _family(info)
    version = _version(info)
    if servers.spec(family) is not None:
        if servers.handles(family, argv):
            return _bind(servers.program(family), servers.strip_wrappers(family, argv), version,
                         False)
        argv = servers.strip_wrappers(family, argv) or argv  # entrypoints exec "$@"
        client = servers.tool(family, argv)
        if client is not None:
            return _bind(client, argv, version, False)
    if _tools(family, _base_os(info)) and argv:
        return _shell(info, argv)
    return _bind(_unsimulated, argv, version, False)


def exec_program(info: ImageInfo, argv: list[str]) -> ProgramFactory:
    """A program run inside a running container (exec probe, exec hook, ``kubectl exec``).

    A missing executable is reported as the runtime does for exec: the OCI message on stderr
    and exit code 126 (what the kubelet then shows in probe and hook events)."""
    missing = resolve_executable(info, argv)
    if missing is not None:
        message = (
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f"{missing}: unknown\r\n"
        )

        def failed(ctx: ProcessContext) -> Program:
            ctx.stderr(message)
            return 126
            yield  # pragma: no cover - makes this a generator

        return failed
    tools = _tools(_family(info), _base_os(info))
    if tools and _base(argv) in tools or _base(argv) == "sh":
        return _shell(info, argv)
    return program_for(info, argv)


def new_filesystem(
    info: ImageInfo,
    *,
    hostname: str | None = None,
    pod_ip: str | None = None,
    namespace: str = "default",
    read_only_root: bool = False,
) -> MemoryFileSystem:
    """A fresh container file system with the image's files and the usual directories.

    With ``hostname`` (and ``pod_ip``) it also holds the files the kubelet manages:
    ``/etc/hostname``, ``/etc/hosts``, ``/etc/resolv.conf`` and the service account's
    ``namespace`` file."""
    files: dict[str, str] = {}
    if hostname is not None:
        files["/etc/hostname"] = hostname + "\n"
        hosts = (
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        )
        if pod_ip:
            hosts += f"{pod_ip}\t{hostname}\n"
        files["/etc/hosts"] = hosts
        files["/etc/resolv.conf"] = (
            f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n"
        )
        files["/var/run/secrets/kubernetes.io/serviceaccount/namespace"] = namespace
    fs = _image_tree(info).copy(read_only_root=read_only_root)
    fs.add_files(files)
    return fs


_TREES: dict[tuple[str, str, str, int], MemoryFileSystem] = {}
_TREES_LIMIT = 256


def _image_tree(info: ImageInfo) -> MemoryFileSystem:
    """The image's files and the usual directories, built once per image and copied for
    each container (a container never writes to this tree, only to its copy)."""
    key = (info.reference, info.digest, info.workdir, len(info.files))
    tree = _TREES.get(key)
    if tree is None:
        dirs = ["/tmp", "/root", "/home", "/var/tmp", "/proc",  # noqa: S108 - container paths
                "/sys", "/run", "/etc", "/usr/bin", "/usr/local/bin", "/sbin", "/bin", "/dev"]
        if info.workdir:
            dirs.append(info.workdir)
        tree = MemoryFileSystem(info.files, dirs=dirs)
        if len(_TREES) >= _TREES_LIMIT:
            _TREES.pop(next(iter(_TREES)))
        _TREES[key] = tree
    return tree


def _bind(fn: Callable[..., Program], argv: list[str], version: str, entry: bool) -> ProgramFactory:
    def main(ctx: ProcessContext) -> Program:
        return (yield from fn(ctx, list(argv), version))

    main.__name__ = fn.__name__
    return main


# --- helpers for programs -------------------------------------------------------------


def wait_for_signal(ctx: ProcessContext, until: float | None = None) -> Gen:
    """Sleep until ``until`` (None: forever); returns the signal that arrived, or None."""
    try:
        if until is None:
            yield WaitForever()
        elif until > ctx.now:
            yield Sleep(until - ctx.now)
    except Signalled as sig:
        return sig.signal
    return None


def _unsimulated(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    ctx.stderr(f"{argv[0] if argv else '?'}: this program is not simulated by PodLab\n")
    return 1
    yield  # pragma: no cover - makes this a generator
