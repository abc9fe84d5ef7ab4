"""The registry a learner can change: images pushed to it or removed from it.

``Registry`` wraps the image catalogue (``images.py`` or a test catalogue) and answers pulls
from it, with two lists on top:

* **removed** references answer ``NotFound`` with the text containerd gives for an unknown
  tag of that repository (so a pull fails with ``ErrImagePull`` and then
  ``ImagePullBackOff`` exactly as for an image that never existed). Nodes that pulled the
  image before keep it in their image store; ``IfNotPresent`` and ``Never`` still start it
  there (``kubelet.PodWorker._ensure_image`` looks in the node's store first).
* **pushed** references are new tags of a repository the catalogue knows
  (``nginx:1.99``): they behave as that repository's ``latest`` image (or, without a
  ``latest``, the first tag the catalogue lists), under their own reference and digest.
  A pushed reference of a repository nobody publishes (``my-app:latest``) is a **test
  image**: it listens on the ports it was pushed with (the container's declared
  ``ports``; 8080 when none), logs one start line, and exits 0 on SIGTERM.

The lists change only through ``Simulation.set_image_available``; everything else is passed
through to the catalogue unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from podlab.engine.runtime import catalogue, images
from podlab.engine.runtime.process import (
    SIGINT,
    SIGTERM,
    ImageInfo,
    ProcessContext,
    Program,
    Response,
)
from podlab.engine.runtime.runtime import Catalogue, ImageLookupResult, ProgramFactory


@dataclass(frozen=True, slots=True)
class RegistryLookup:
    """A lookup answered by the registry's own lists."""

    info: ImageInfo | None
    error: str | None
    message: str
    reference: str = ""


def normalise(image: str) -> str | None:
    """The normalised reference (``docker.io/library/nginx:1.99``), None when invalid."""
    try:
        return str(images.parse_reference(image))
    except images.InvalidReference:
        return None


class Registry:
    """The image catalogue as the learner's registry serves it."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.removed: set[str] = set()
        self.pushed: dict[str, ImageInfo] = {}
        self.test_images: dict[str, tuple[tuple[int, str], ...]] = {}  # reference -> ports

    def __getattr__(self, name: str) -> Any:
        # optional catalogue methods (``pod_filesystem``) are looked up on the catalogue
        return getattr(self.catalogue, name)

    # --- changes ------------------------------------------------------------------------

    def set_available(
        self, image: str, available: bool, ports: list[tuple[int, str]] | None = None
    ) -> bool:
        """Push (``available``) or remove ``image``. False when the reference is invalid or
        names content by digest. ``ports`` ((port, protocol) pairs) configure a test image
        pushed under a repository the catalogue does not know."""
        reference = normalise(image)
        if reference is None:
            return False
        if not available:
            self.pushed.pop(reference, None)
            self.test_images.pop(reference, None)
            self.removed.add(reference)
            return True
        self.removed.discard(reference)
        if reference in self.pushed or self.catalogue.lookup_image(image).info is not None:
            return True
        info = self._new_tag(reference)
        if info is None:
            info = self._test_image(reference)
            if info is None:
                return False
            self.test_images[reference] = tuple(ports or ((8080, "TCP"),))
        self.pushed[reference] = info
        return True

    def _test_image(self, reference: str) -> ImageInfo | None:
        ref = images.parse_reference(reference)
        if ref.tag is None or ref.digest is not None:
            return None
        size = 5 * 1024 * 1024
        return ImageInfo(
            reference=reference,
            digest=images._digest(ref.repository, ref.tag),
            size_bytes=size,
            pull_seconds=round(0.4 + size / 25_000_000, 3),
            entrypoint=["/app"],
            cmd=[],
            env={"PATH": images.DEFAULT_PATH},
            files={"/app": "\x7fELF (test image)\n", "/dev/termination-log": ""},
        )

    def _new_tag(self, reference: str) -> ImageInfo | None:
        ref = images.parse_reference(reference)
        if ref.tag is None or ref.digest is not None:
            return None  # a digest names content the registry cannot make up
        repository = ref.repository
        served = images._served(ref)
        if not catalogue.known(served):
            return None
        candidates = ["latest", *catalogue.example_tags(served)]
        for tag in candidates:
            base = self.catalogue.lookup_image(f"{repository}:{tag}").info
            if base is not None:
                return dataclasses.replace(
                    base,
                    reference=f"{repository}:{ref.tag}",
                    digest=images._digest(repository, ref.tag),
                )
        return None

    # --- the Catalogue protocol ---------------------------------------------------------

    def lookup_image(self, reference: str) -> ImageLookupResult:
        if not self.removed and not self.pushed:
            return self.catalogue.lookup_image(reference)
        normalised = normalise(reference)
        if normalised is not None and normalised in self.pushed:
            return RegistryLookup(self.pushed[normalised], None, "", normalised)
        found = self.catalogue.lookup_image(reference)
        if normalised is None or found.info is None:
            return found
        if normalised in self.removed or found.info.reference in self.removed:
            ref = images.parse_reference(reference)
            message = images._not_found_message(ref, True)
            return RegistryLookup(None, "NotFound", message, normalised)
        return found

    def program_for(self, info: ImageInfo, argv: list[str]) -> ProgramFactory:
        ports = self.test_images.get(info.reference)
        if ports is not None and argv[:1] == ["/app"]:
            return _test_program(info.reference, ports)
        return self.catalogue.program_for(info, argv)

    def exec_program(self, info: ImageInfo, argv: list[str]) -> ProgramFactory:
        return self.catalogue.exec_program(info, argv)

    def new_filesystem(self, info: ImageInfo) -> Any:
        return self.catalogue.new_filesystem(info)


def _test_program(reference: str, ports: tuple[tuple[int, str], ...]) -> ProgramFactory:
    """The pushed test image: listen, log a start line, exit 0 on SIGTERM or SIGINT."""

    def main(ctx: ProcessContext) -> Program:
        def handler(request: object, now: float) -> Response:
            kind = getattr(request, "kind", "http")
            if kind == "http":
                return Response(200, f"{reference} on {ctx.hostname}\n")
            return Response(status=0)

        bound: list[tuple[int, str]] = []
        for port, protocol in ports:
            if not ctx.listen(port, protocol.lower(), handler):
                ctx.stderr(f"listen {protocol.lower()} :{port}: bind: address already in use\n")
                for p, proto in bound:
                    ctx.unlisten(p, proto.lower())
                return 1
            bound.append((port, protocol))
        listening = ", ".join(f"{p}/{proto.lower()}" for p, proto in bound)
        ctx.stdout(f"{reference} started; listening on {listening}\n")
        ctx.handle_signal(SIGTERM, True)
        ctx.handle_signal(SIGINT, True)
        try:
            yield from images.wait_for_signal(ctx)
            return 0
        finally:
            for p, proto in bound:
                ctx.unlisten(p, proto.lower())

    return main


__all__ = ["Registry", "RegistryLookup", "normalise"]
