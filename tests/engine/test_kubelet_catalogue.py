"""A small image catalogue for the kubelet tests, and the tests of that catalogue.

It mirrors the contract of ``podlab.engine.runtime.images`` (lookup, programs, exec, filesystems)
with a handful of images whose behaviour the tests pin down exactly: busybox runs the shell,
``agnhost liveness`` serves /healthz (200 for 10 s, then 500), goproxy accepts TCP on 8080,
nginx serves HTTP on 80 and exits on SIGTERM, ``podlab/stress`` allocates memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import (
    SIGTERM,
    FileSystem,
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

#: busybox installs every applet as a file in /bin (the shell finds commands on PATH).
BUSYBOX_FILES = {f"/bin/{name}": "" for name in APPLETS if name != "bash"}
BUSYBOX_FILES["/bin/true"] = ""
BUSYBOX_FILES["/bin/false"] = ""


@dataclass
class Lookup:
    info: ImageInfo | None
    error: str | None
    message: str


def _info(
    reference: str, size: int, pull: float, entrypoint: list[str], cmd: list[str]
) -> ImageInfo:
    digest = "sha256:" + (reference.encode().hex() * 8)[:64]
    return ImageInfo(
        reference=reference,
        digest=digest,
        size_bytes=size,
        pull_seconds=pull,
        entrypoint=entrypoint,
        cmd=cmd,
        files={"/etc/hostname": "x\n", **BUSYBOX_FILES},
    )


IMAGES: dict[str, ImageInfo] = {
    "registry.k8s.io/busybox:latest": _info(
        "registry.k8s.io/busybox:latest", 1144547, 1.0, [], ["sh"]
    ),
    "registry.k8s.io/busybox:1.27.2": _info(
        "registry.k8s.io/busybox:1.27.2", 1144547, 1.0, [], ["sh"]
    ),
    "docker.io/library/busybox:1.36": _info(
        "docker.io/library/busybox:1.36", 2155370, 1.5, [], ["sh"]
    ),
    "docker.io/library/busybox:latest": _info(
        "docker.io/library/busybox:latest", 2155370, 1.5, [], ["sh"]
    ),
    "registry.k8s.io/e2e-test-images/agnhost:2.40": _info(
        "registry.k8s.io/e2e-test-images/agnhost:2.40", 51234567, 4.0, ["/agnhost"], []
    ),
    "registry.k8s.io/goproxy:0.1": _info(
        "registry.k8s.io/goproxy:0.1", 2912345, 1.2, ["/goproxy"], []
    ),
    "docker.io/library/nginx:1.27": _info(
        "docker.io/library/nginx:1.27", 72000000, 5.0, ["nginx"], []
    ),
    "docker.io/podlab/stress:1.0": _info(
        "docker.io/podlab/stress:1.0", 3000000, 1.0, ["stress"], []
    ),
}

_VALID = re.compile(r"^[a-z0-9]+(?:[._/:@-][a-zA-Z0-9._-]+)*$")


def normalise(reference: str) -> str:
    name, tag = reference, "latest"
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = reference.rsplit(":", 1)
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}:{tag}"


def agnhost_liveness(ctx: ProcessContext) -> Program:
    def handler(request: Request, now: float) -> Response:
        up = now - ctx.started_at
        if request.kind == "tcp":
            return Response(status=0)
        if request.path.startswith("/redirect"):
            match = re.search(r"loc=([^&]+)", request.path)
            target = (match.group(1) if match else "/").replace("%2F", "/").replace("%3A", ":")
            body = f'<a href="{target}">Found</a>.' if target.startswith("http") else ""
            return Response(status=302, headers=(("Location", target),), body=body)
        if up <= 10:
            return Response(status=200, body="ok")
        return Response(status=500, body=f"error: {up:.0f}")

    ctx.listen(8080, "TCP", handler)
    yield WaitForever()
    return 0


def tcp_server(port: int, exit_on_term: bool) -> Callable[[ProcessContext], Program]:
    def main(ctx: ProcessContext) -> Program:
        ctx.listen(port, "TCP", lambda request, now: Response(status=200, body="ok"))
        if exit_on_term:
            ctx.handle_signal(SIGTERM, True)
        try:
            yield WaitForever()
        except Signalled:
            yield Sleep(0.1)
            return 0
        return 0

    return main


def stress(argv: list[str]) -> Callable[[ProcessContext], Program]:
    amount = 0
    for i, part in enumerate(argv):
        if part == "--vm-bytes" and i + 1 < len(argv):
            amount = int(argv[i + 1].rstrip("M")) * 1024 * 1024

    def main(ctx: ProcessContext) -> Generator[Any, Any, int]:
        yield Sleep(1.0)
        ctx.set_memory(amount)
        yield WaitForever()
        return 0

    return main


class FakeCatalogue:
    def lookup_image(self, reference: str) -> Lookup:
        if not reference or not _VALID.match(reference) or reference != reference.strip():
            return Lookup(None, "InvalidImageName", "invalid reference format")
        full = normalise(reference)
        info = IMAGES.get(full)
        if info is None:
            message = (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
                f'failed to resolve reference "{full}": {full}: not found'
            )
            return Lookup(None, "NotFound", message)
        return Lookup(info, None, "")

    def program_for(self, info: ImageInfo, argv: list[str]) -> Callable[[ProcessContext], Program]:
        ref = info.reference
        if "agnhost" in ref and argv[1:2] == ["liveness"]:
            return agnhost_liveness
        if "goproxy" in ref:
            return tcp_server(8080, exit_on_term=False)
        if "nginx" in ref:
            return tcp_server(80, exit_on_term=True)
        if "stress" in ref:
            return stress(argv)
        return command_program(argv or ["sh"])

    def exec_program(self, info: ImageInfo, argv: list[str]) -> Callable[[ProcessContext], Program]:
        return command_program(argv)

    def new_filesystem(self, info: ImageInfo) -> FileSystem:
        return MemoryFileSystem(dict(info.files), dirs=["/tmp", "/dev", "/var/log"])


def test_lookup_normalises_and_rejects() -> None:
    cat = FakeCatalogue()
    assert cat.lookup_image("busybox:1.36").info is IMAGES["docker.io/library/busybox:1.36"]
    assert cat.lookup_image("Busybox").error == "InvalidImageName"
    missing = cat.lookup_image("nginxx")
    assert missing.error == "NotFound"
    assert "docker.io/library/nginxx:latest" in missing.message
