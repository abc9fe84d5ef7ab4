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
from urllib.parse import parse_qs, unquote, urlsplit

from podlab.engine.runtime import catalogue, nginx_entrypoint, servers
from podlab.engine.runtime.filesystem import MemoryFileSystem, normalise
from podlab.engine.runtime.process import (
    SIGHUP,
    SIGINT,
    SIGNAL_NAMES,
    SIGQUIT,
    SIGTERM,
    CpuWork,
    ImageInfo,
    ProcessContext,
    Program,
    Request,
    Response,
    Signalled,
    Sleep,
    WaitForever,
)
from podlab.engine.runtime.shell import APPLETS, command_program
from podlab.engine.runtime.shell.applets import EPOCH

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
    elif family == "agnhost":
        files["/agnhost"] = _BINARY
    elif family == "liveness":
        files["/server"] = _BINARY
    elif family == "goproxy":
        files["/goproxy"] = _BINARY
    elif family == "etcd":
        for name in ("etcd", "etcdctl", "etcdutl"):
            files[f"/usr/local/bin/{name}"] = _BINARY
        files["/var/lib/etcd/.keep"] = ""
    elif family == "stress":
        files["/usr/local/bin/stress"] = _BINARY
    elif family == "vish-stress":
        files["/stress"] = _BINARY
    elif family == "podlab-app":
        files["/app"] = _BINARY
        files["/srv/VERSION"] = version + "\n"
    files.update(servers.files(family))
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
    )


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


def _program_table() -> dict[tuple[str, str], Callable[..., Program]]:
    """(image family, executable name) → the program it runs."""
    return {
        ("agnhost", "agnhost"): agnhost,
        ("liveness", "server"): liveness_server,
        ("goproxy", "goproxy"): goproxy,
        ("etcd", "etcd"): etcd,
        ("stress", "stress"): stress,
        ("vish-stress", "stress"): vish_stress,
        ("podlab-app", "app"): podlab_app,
    }


def _image_program(info: ImageInfo, argv: list[str]) -> ProgramFactory | None:
    family = _family(info)
    if servers.handles(family, argv):
        return _bind(servers.program(family), servers.strip_wrappers(family, argv),
                     _version(info), False)
    client = servers.tool(family, argv)
    if client is not None:
        return _bind(client, argv, _version(info), False)
    fn = _program_table().get((family, _base(argv)))
    return None if fn is None else _bind(fn, argv, _version(info), False)


def _base(argv: list[str]) -> str:
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def program_for(info: ImageInfo, argv: list[str]) -> ProgramFactory:
    """The container's main program for ``argv`` (from :func:`effective_argv`)."""
    family = _family(info)
    version = _version(info)
    name = _base(argv)
    if servers.spec(family) is not None:
        if servers.handles(family, argv):
            return _bind(servers.program(family), servers.strip_wrappers(family, argv), version,
                         False)
        argv = servers.strip_wrappers(family, argv) or argv  # entrypoints exec "$@"
        name = _base(argv)
        client = servers.tool(family, argv)
        if client is not None:
            return _bind(client, argv, version, False)
    fn = _program_table().get((family, name))
    if fn is not None:
        return _bind(fn, argv, version, False)
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


def handle(ctx: ProcessContext, *signals: int) -> None:
    for sig in signals:
        ctx.handle_signal(sig, True)


def go_handles(ctx: ProcessContext) -> None:
    """A Go program without signal.Notify: as PID 1 the runtime's handler exits with 2."""
    if ctx.is_pid1:
        handle(ctx, SIGTERM, SIGINT, SIGHUP, SIGQUIT)


def http_listener(
    serve: Callable[[Request, float], Response], grpc_status: str = "UNIMPLEMENTED"
) -> Callable[[Request, float], Response]:
    """Wrap an HTTP handler: TCP connects succeed, gRPC health checks get ``grpc_status``."""

    def handler(request: Request, now: float) -> Response:
        if request.kind == "tcp":
            return Response(status=0)
        if request.kind == "grpc":
            return Response(status=0, grpc_status=grpc_status)
        return serve(request, now)

    return handler


@functools.lru_cache(maxsize=1024)
def _split_path(path: str) -> tuple[str, dict[str, list[str]]]:
    # cached (probes ask for the same paths over and over): callers must not change the dict
    parts = urlsplit(path)
    return unquote(parts.path) or "/", parse_qs(parts.query, keep_blank_values=True)


def _header(request: Request, name: str) -> str:
    for key, value in request.headers:
        if key.lower() == name.lower():
            return value
    return ""


def _log_time(now: float) -> str:
    from datetime import timedelta

    moment = EPOCH + timedelta(seconds=now)
    return moment.strftime("%Y/%m/%d %H:%M:%S")


def _clf_time(now: float) -> str:
    return _clf_second(int(now))


@functools.lru_cache(maxsize=256)
def _clf_second(second: int) -> str:
    # access-log lines of one second share their stamp (many probes land in the same one)
    from datetime import timedelta

    moment = EPOCH + timedelta(seconds=second)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _client(request: Request) -> str:
    host = request.host.split(":")[0]
    return "127.0.0.1" if host in ("localhost", "127.0.0.1") else "10.244.0.1"


def _go_duration_seconds(seconds: float) -> str:
    text = repr(round(seconds, 9))
    return text[:-2] if text.endswith(".0") else text


def _unsimulated(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    ctx.stderr(f"{argv[0] if argv else '?'}: this program is not simulated by PodLab\n")
    return 1
    yield  # pragma: no cover - makes this a generator


# --- small servers --------------------------------------------------------------------


def _go_exit(sig: int | None) -> int:
    """Exit status of a Go program without handlers that got ``sig`` as PID 1."""
    return 2


def _flags(argv: list[str]) -> dict[str, str]:
    """``--name=value``, ``--name value``, ``-name value`` (Go flag and cobra styles)."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-"):
            name = a.lstrip("-")
            if "=" in name:
                key, value = name.split("=", 1)
                flags[key] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                flags[name] = argv[i + 1]
                i += 1
            else:
                flags[name] = "true"
        i += 1
    return flags


def liveness_server(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    """agnhost ``liveness`` and the old ``registry.k8s.io/liveness``: /healthz is 200 for the
    first 10 seconds, then 500."""
    started = ctx.now

    def serve(request: Request, now: float) -> Response:
        path, query = _split_path(request.path)
        if path == "/healthz":
            duration = now - started
            if duration > 10:
                return Response(500, f"error: {_go_duration_seconds(duration)}")
            return Response(200, "ok")
        if path == "/redirect":
            loc = query.get("loc", [""])[0]
            return Response(302, f'<a href="{loc}">Found</a>.\n\n', (("Location", loc),))
        return Response(404, "404 page not found\n")

    ctx.set_memory(6 * MiB)
    if not ctx.listen(8080, "tcp", http_listener(serve)):
        ctx.stderr("listen tcp :8080: bind: address already in use\n")
        return 1
    go_handles(ctx)
    try:
        sig = yield from wait_for_signal(ctx)
        return _go_exit(sig)
    finally:
        ctx.unlisten(8080, "tcp")


def _go_log(ctx: ProcessContext, text: str) -> None:
    ctx.stderr(f"{_log_time(ctx.now)} {text}\n")


def agnhost(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    args = argv[1:]
    if not args:
        ctx.stdout("agnhost: a multi-purpose binary for Kubernetes e2e tests\n\nUsage:\n"
                   "  agnhost [command]\n")
        return 0
    sub, rest = args[0], args[1:]
    programs = {
        "liveness": liveness_server,
        "netexec": _netexec,
        "test-webserver": _test_webserver,
        "pause": _agnhost_pause,
        "grpc-health-checking": _grpc_health_checking,
        "serve-hostname": _serve_hostname,
        "logs-generator": _logs_generator,
    }
    fn = programs.get(sub)
    if fn is None:
        ctx.stderr(f'Error: unknown command "{sub}" for "agnhost"\n'
                   "Run 'agnhost --help' for usage.\n")
        return 1
    return (yield from fn(ctx, [sub, *rest], version))


def _agnhost_pause(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    ctx.stdout("Paused\n")
    ctx.set_memory(2 * MiB)
    handle(ctx, SIGTERM, SIGINT)
    sig = yield from wait_for_signal(ctx)
    code = 2 if sig == SIGTERM else 1
    ctx.stdout(f"exiting {code}\n")
    return code


def _port_flag(flags: dict[str, str], name: str, default: int) -> int:
    value = flags.get(name, str(default))
    return int(value) if value.lstrip("-").isdigit() else default


def _netexec(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    flags = _flags(argv[1:])
    http_port = _port_flag(flags, "http-port", 8080)
    udp_port = _port_flag(flags, "udp-port", 8081)
    started = ctx.now

    def serve(request: Request, now: float) -> Response:
        path, query = _split_path(request.path)
        _go_log(ctx, f"GET {request.path}")
        if path == "/":
            from datetime import timedelta

            moment = EPOCH + timedelta(seconds=now)
            return Response(200, f"NOW: {moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond:06d}000 "
                                 "+0000 UTC")
        if path == "/echo":
            return Response(200, query.get("msg", [""])[0])
        if path == "/hostname":
            return Response(200, ctx.hostname)
        if path == "/clientip":
            return Response(200, f"{_client(request)}:41234")
        if path == "/header":
            return Response(200, _header(request, query.get("key", [""])[0]))
        if path == "/healthz":
            return Response(200, "")
        if path == "/redirect":
            loc = query.get("location", ["/"])[0]
            return Response(301, "", (("Location", loc),))
        if path == "/uptime":
            return Response(200, _go_duration_seconds(now - started) + "s")
        return Response(404, "404 page not found\n")

    ctx.set_memory(8 * MiB)
    if not ctx.listen(http_port, "tcp", http_listener(serve)):
        ctx.stderr(f"listen tcp :{http_port}: bind: address already in use\n")
        return 1
    _go_log(ctx, f"Started HTTP server on port {http_port}")
    listened_udp = udp_port > 0 and ctx.listen(
        udp_port, "udp", lambda request, now: Response(0, "hostname: " + ctx.hostname)
    )
    if listened_udp:
        _go_log(ctx, f"Started UDP server on port  {udp_port}")
    go_handles(ctx)
    try:
        sig = yield from wait_for_signal(ctx)
        return _go_exit(sig)
    finally:
        ctx.unlisten(http_port, "tcp")
        if listened_udp:
            ctx.unlisten(udp_port, "udp")


def _simple_go_server(
    ctx: ProcessContext, port: int, serve: Callable[[Request, float], Response], grpc: str
) -> Program:
    ctx.set_memory(5 * MiB)
    if not ctx.listen(port, "tcp", http_listener(serve, grpc)):
        ctx.stderr(f"listen tcp :{port}: bind: address already in use\n")
        return 1
    go_handles(ctx)
    try:
        sig = yield from wait_for_signal(ctx)
        return _go_exit(sig)
    finally:
        ctx.unlisten(port, "tcp")


def _test_webserver(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    port = _port_flag(_flags(argv[1:]), "port", 80)

    def serve(request: Request, now: float) -> Response:
        return Response(200, "hello\n")

    return (yield from _simple_go_server(ctx, port, serve, "UNIMPLEMENTED"))


def _serve_hostname(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    port = _port_flag(_flags(argv[1:]), "port", 9376)
    _go_log(ctx, f"Serving on port {port}.")

    def serve(request: Request, now: float) -> Response:
        return Response(200, ctx.hostname)

    return (yield from _simple_go_server(ctx, port, serve, "UNIMPLEMENTED"))


def _logs_generator(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    flags = _flags(argv[1:])
    positional = [a for a in argv[1:] if not a.startswith("-")]
    total = int(flags.get("log-lines-total", positional[0] if positional else "100"))
    duration = float(flags.get("run-duration", positional[1] if len(positional) > 1 else "10")
                     .rstrip("s") or 10)
    go_handles(ctx)
    step = duration / max(total, 1)
    verbs = ("GET", "POST", "PUT")
    for i in range(total):
        verb = verbs[ctx.rng.randrange(3)]
        ctx.stdout(f"I{_log_time(ctx.now)[5:].replace('/', '')}       1 logs_generator.go:67] "
                   f"{i} {verb} /api/v1/namespaces/ns/pods/{ctx.rng.randrange(10_000)} "
                   f"{ctx.rng.randrange(200, 600)}\n")
        sig = yield from wait_for_signal(ctx, ctx.now + step)
        if sig is not None:
            return _go_exit(sig)
    return 0


def _grpc_health_checking(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    flags = _flags(argv[1:])
    port = _port_flag(flags, "port", 5000)
    http_port = _port_flag(flags, "http-port", 8080)
    service = flags.get("service", "")
    delay = float(flags.get("delay-unhealthy-sec", "-1"))
    started = ctx.now
    state = {"serving": True}

    def status(now: float) -> str:
        if delay >= 0 and now - started >= delay:
            return "NOT_SERVING"
        return "SERVING" if state["serving"] else "NOT_SERVING"

    def grpc_handler(request: Request, now: float) -> Response:
        if request.kind == "tcp":
            return Response(status=0)
        if request.kind != "grpc":
            return Response(status=0, refused=True)
        if request.service not in ("", service):
            return Response(status=0, grpc_status="SERVICE_UNKNOWN")
        return Response(status=0, grpc_status=status(now))

    def control(request: Request, now: float) -> Response:
        path, _ = _split_path(request.path)
        if path == "/make-serving":
            state["serving"] = True
            return Response(200, "")
        if path == "/make-not-serving":
            state["serving"] = False
            return Response(200, "")
        return Response(404, "404 page not found\n")

    ctx.set_memory(7 * MiB)
    if not ctx.listen(port, "tcp", grpc_handler) or not ctx.listen(
        http_port, "tcp", http_listener(control)
    ):
        ctx.stderr("listen tcp: bind: address already in use\n")
        return 1
    _go_log(ctx, f"gRPC server starting to listen on :{port}")
    _go_log(ctx, f"HTTP server starting to listen on :{http_port}")
    go_handles(ctx)
    try:
        sig = yield from wait_for_signal(ctx)
        return _go_exit(sig)
    finally:
        ctx.unlisten(port, "tcp")
        ctx.unlisten(http_port, "tcp")


def goproxy(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    def serve(request: Request, now: float) -> Response:
        if request.path.startswith("http://"):
            return Response(502, "")
        return Response(500, "This is a proxy server. Does not respond to non-proxy requests.\n")

    return (yield from _simple_go_server(ctx, 8080, serve, "UNIMPLEMENTED"))


def etcd(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    flags = _flags(argv[1:])
    client_urls = flags.get("listen-client-urls", "http://localhost:2379")
    ports = sorted({urlsplit(u).port or 2379 for u in client_urls.split(",") if u})
    metrics = [urlsplit(u).port or 2381 for u in flags.get("listen-metrics-urls", "").split(",")
               if u]

    def log(level: str, msg: str, extra: str = "") -> None:
        from datetime import timedelta

        moment = EPOCH + timedelta(seconds=ctx.now)
        ts = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        ctx.stderr(f'{{"level":"{level}","ts":"{ts}","caller":"etcdmain/etcd.go:73",'
                   f'"msg":"{msg}"{extra}}}\n')

    quoted = ",".join(f'"{a}"' for a in argv)
    log("info", "Running: ", f',"args":[{quoted}]')
    yield Sleep(0.5)
    log("info", "serving client traffic insecurely; this is strongly discouraged!",
        f',"address":"[::]:{ports[0]}"')

    def serve(request: Request, now: float) -> Response:
        path, _ = _split_path(request.path)
        if path == "/health":
            return Response(200, '{"health":"true","reason":""}')
        if path == "/version":
            return Response(200, f'{{"etcdserver":"{version}","etcdcluster":"3.5.0"}}')
        if path == "/metrics":
            return Response(200, 'etcd_server_has_leader 1\netcd_server_is_leader 1\n')
        return Response(404, "404 page not found\n")

    handler = http_listener(serve, "SERVING")
    bound: list[int] = []
    for port in [*ports, *metrics]:
        if ctx.listen(port, "tcp", handler):
            bound.append(port)
    ctx.set_memory(40 * MiB)
    handle(ctx, SIGTERM, SIGINT)
    try:
        sig = yield from wait_for_signal(ctx)
        log("info", "received signal; shutting down",
            f',"signal":"{"terminated" if sig == SIGTERM else "interrupt"}"')
        yield Sleep(0.2)
        return 0 if ctx.is_pid1 else 128 + (sig or SIGTERM)
    finally:
        for port in bound:
            ctx.unlisten(port, "tcp")


# --- stress ---------------------------------------------------------------------------


def _bytes(text: str, binary: bool) -> int | None:
    """``150M`` (stress: powers of 1024) or ``150Mi``/``150M`` (Kubernetes quantities)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-zA-Z]*)", text.strip())
    if not m:
        return None
    number, suffix = float(m.group(1)), m.group(2)
    units = {"": 1, "B": 1, "b": 1, "K": 1024, "k": 1024, "Ki": 1024, "M": MiB, "m": MiB,
             "Mi": MiB, "G": 1024 * MiB, "g": 1024 * MiB, "Gi": 1024 * MiB}
    if not binary:
        units.update({"K": 1000, "k": 1000, "M": 1000**2, "G": 1000**3})
    if suffix not in units:
        return None
    return int(number * units[suffix])


STRESS_OVERHEAD = 5_570_560  # what `kubectl top` adds to --vm-bytes in the memory docs


def stress(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    """polinux/stress (``stress`` 1.0.4): --vm N --vm-bytes B --vm-hang S --cpu N --timeout T."""
    opts = {"vm": 0, "cpu": 0, "io": 0, "hdd": 0}
    vm_bytes = 256 * MiB
    timeout: float | None = None
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        key = a.lstrip("-")
        if a in ("--help", "-?"):
            ctx.stdout("`stress' imposes certain types of compute stress on your system\n\n"
                       "Usage: stress [OPTION [ARG]] ...\n")
            return 0
        if key in ("v", "verbose", "q", "quiet", "n", "dry-run"):
            i += 1
            continue
        short = {"m": "vm", "c": "cpu", "i": "io", "d": "hdd", "t": "timeout"}
        key = short.get(key, key)
        if key in opts:
            if not value.isdigit():
                ctx.stderr(f"stress: FAIL: [1] (1) invalid number in {a} option\n")
                return 1
            opts[key] = int(value)
        elif key == "vm-bytes":
            parsed = _bytes(value, True)
            if parsed is None:
                ctx.stderr("stress: FAIL: [1] (1) invalid --vm-bytes\n")
                return 1
            vm_bytes = parsed
        elif key in ("vm-hang", "vm-stride", "vm-keep", "hdd-bytes", "backoff"):
            pass
        elif key == "timeout":
            m = re.fullmatch(r"(\d+)([smhd]?)", value)
            if not m:
                ctx.stderr("stress: FAIL: [1] (1) invalid --timeout\n")
                return 1
            timeout = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[
                m.group(2)]
        else:
            ctx.stderr(f"stress: FAIL: [1] (1) unrecognized option: {a}\n")
            return 1
        i += 1 if key == "vm-keep" else 2
    ctx.stdout(f"stress: info: [1] dispatching hogs: {opts['cpu']} cpu, {opts['io']} io, "
               f"{opts['vm']} vm, {opts['hdd']} hdd\n")
    started = ctx.now
    target = opts["vm"] * vm_bytes
    ctx.set_memory(STRESS_OVERHEAD // 8)
    steps = 5 if target else 0
    for k in range(1, steps + 1):  # the vm workers touch their memory within a fraction of a second
        yield Sleep(0.04)
        ctx.set_memory(STRESS_OVERHEAD + target * k // steps)
    end = None if timeout is None else started + timeout
    while True:
        if opts["cpu"] > 0:
            chunk = 1.0 if end is None else min(1.0, max(0.0, end - ctx.now))
            if chunk <= 0:
                break
            yield CpuWork(opts["cpu"] * chunk)
            if end is not None and ctx.now >= end:
                break
            continue
        yield from wait_for_signal(ctx, end)
        if end is not None and ctx.now >= end:
            break
    ctx.stdout(f"stress: info: [1] successful run completed in {int(ctx.now - started)}s\n")
    return 0


def vish_stress(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    """vish/stress: -mem-total Q -mem-alloc-size Q -mem-alloc-sleep D -cpus N (Go flags)."""
    flags = _flags(argv[1:])
    total = _bytes(flags.get("mem-total", "0"), True) or 0
    chunk = _bytes(flags.get("mem-alloc-size", "4Ki"), True) or 4096
    pause_text = flags.get("mem-alloc-sleep", "1ms")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", pause_text)
    pause_s = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)] if m else 0.001
    cpus = int(flags.get("cpus", "0") or 0)

    def glog(text: str) -> None:
        from datetime import timedelta

        moment = EPOCH + timedelta(seconds=ctx.now)
        ctx.stderr(f"I{moment:%m%d %H:%M:%S}.{moment.microsecond:06d}       1 main.go:26] "
                   f"{text}\n")

    go_handles(ctx)
    base = 1 * MiB
    ctx.set_memory(base)
    if total:
        size_text = flags.get("mem-alloc-size", "4Ki")
        glog(f'Allocating "{flags.get("mem-total")}" memory, in "{size_text}" chunks, with a '
             f"{pause_text} sleep between allocations")
    for _ in range(cpus):
        glog("Spawning a thread to consume CPU")
    allocated = 0
    try:
        while total and allocated < total:
            allocated = min(total, allocated + chunk)
            ctx.set_memory(base + allocated)
            yield Sleep(pause_s)
        if total:
            glog(f'Allocated "{flags.get("mem-total")}" memory')
        while True:
            if cpus:
                yield CpuWork(float(cpus))
            else:
                yield WaitForever()
    except Signalled as sig:
        return _go_exit(sig.signal)


# --- podlab/app -----------------------------------------------------------------------


class _ConfigError(ValueError):
    pass


def _env_seconds(env: dict[str, str], name: str, default: float | None) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", raw)
    if not m:
        raise _ConfigError(f'invalid {name} "{raw}": want seconds, like 10 or 1.5 or 2m')
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _env_number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise _ConfigError(f'invalid {name} "{raw}": want a number') from None


def _env_flag(env: dict[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def podlab_app(ctx: ProcessContext, argv: list[str], version: str) -> Program:
    """The teaching image: it does what its environment variables say (docs/images.md)."""
    env = ctx.env
    try:
        start_delay = _env_seconds(env, "START_DELAY", 0.0) or 0.0
        port = int(_env_number(env, "PORT", 8080))
        ready_after = _env_seconds(env, "READY_AFTER", 0.0) or 0.0
        not_ready_after = _env_seconds(env, "NOT_READY_AFTER", None)
        healthy_for = _env_seconds(env, "HEALTHY_FOR", None)
        crash_after = _env_seconds(env, "CRASH_AFTER", None)
        exit_code = int(_env_number(env, "EXIT_CODE", 1))
        growth = _env_number(env, "MEMORY_GROWTH", 0.0)
        memory_start = _env_number(env, "MEMORY_START", 8.0)
        shutdown_delay = _env_seconds(env, "SHUTDOWN_DELAY", 0.0) or 0.0
        log_every = _env_seconds(env, "LOG_EVERY", None)
        ignore_sigterm = _env_flag(env, "IGNORE_SIGTERM")
        if not 1 <= port <= 65535:
            raise _ConfigError(f'invalid PORT "{env.get("PORT")}": want 1-65535')
    except _ConfigError as exc:
        ctx.stderr(f"podlab-app: {exc}\n")
        return 2

    started = ctx.now
    state: dict[str, Any] = {"listening": False, "stopping_at": None}

    def log(text: str) -> None:
        ctx.stdout(f"{_log_time(ctx.now)} podlab-app: {text}\n")

    def uptime(now: float) -> float:
        return now - started

    def healthy(now: float) -> bool:
        return healthy_for is None or uptime(now) < healthy_for

    def ready(now: float) -> bool:
        if state["stopping_at"] is not None:
            return False
        up = uptime(now)
        return up >= ready_after and (not_ready_after is None or up < not_ready_after)

    def serve(request: Request, now: float) -> Response:
        path, _ = _split_path(request.path)
        if path == "/healthz":
            if healthy(now):
                return Response(200, "ok\n")
            return Response(500, f"unhealthy: HEALTHY_FOR={healthy_for:g}s has passed\n")
        if path == "/ready":
            return Response(200, "ready\n") if ready(now) else Response(503, "not ready\n")
        if path == "/":
            return Response(200, f"Hello from podlab/app {version} on {ctx.hostname}\n")
        return Response(404, "not found\n")

    def handler(request: Request, now: float) -> Response:
        if request.kind == "tcp":
            return Response(status=0)
        if request.kind == "grpc":
            return Response(status=0, grpc_status="SERVING" if healthy(now) else "NOT_SERVING")
        return serve(request, now)

    def memory(now: float) -> int:
        return int((memory_start + growth * uptime(now)) * MiB)

    log(f"version {version} starting (pid {1 if ctx.is_pid1 else 7}); port {port}")
    ctx.set_memory(memory(ctx.now))
    handle(ctx, SIGTERM, SIGINT)
    listen_at = started + start_delay
    crash_at = None if crash_after is None else started + crash_after
    next_log = None if not log_every else started + log_every
    next_memory = started + 1 if growth else None
    ticks = 0
    try:
        while True:
            now = ctx.now
            if not state["listening"] and now >= listen_at - 1e-9:
                if not ctx.listen(port, "tcp", handler):
                    log(f"listen tcp :{port}: bind: address already in use")
                    return 1
                state["listening"] = True
                log(f"listening on :{port}")
            if crash_at is not None and now >= crash_at - 1e-9:
                log(f"CRASH_AFTER={crash_after:g}s reached: exiting with code {exit_code}")
                return exit_code
            stopping_at = state["stopping_at"]
            if stopping_at is not None and now >= stopping_at - 1e-9:
                log("shutdown complete")
                return 0
            if next_log is not None and now >= next_log - 1e-9:
                ticks += 1
                log(f"tick {ticks}: up {uptime(now):g}s")
                next_log += log_every or 1
            if next_memory is not None and now >= next_memory - 1e-9:
                ctx.set_memory(memory(now))
                next_memory += 1
            candidates = [t for t in (None if state["listening"] else listen_at, crash_at,
                                      stopping_at, next_log, next_memory) if t is not None]
            until = min(candidates) if candidates else None
            sig = yield from wait_for_signal(ctx, until)
            if sig is None:
                continue
            name = f"SIG{SIGNAL_NAMES.get(sig, sig)}"
            if ignore_sigterm:
                log(f"received {name}: IGNORE_SIGTERM is set, carrying on")
                continue
            if state["stopping_at"] is None:
                log(f"received {name}: shutting down in {shutdown_delay:g}s")
                state["stopping_at"] = ctx.now + shutdown_delay
    finally:
        if state["listening"]:
            ctx.unlisten(port, "tcp")
