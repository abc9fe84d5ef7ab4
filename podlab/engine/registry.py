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

The lists change only through ``Simulation.set_image_available``; everything else is passed
through to the catalogue unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from podlab.engine import images
from podlab.engine.process import ImageInfo
from podlab.engine.runtime import Catalogue, ImageLookupResult, ProgramFactory


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

    def __getattr__(self, name: str) -> Any:
        # optional catalogue methods (``pod_filesystem``) are looked up on the catalogue
        return getattr(self.catalogue, name)

    # --- changes ------------------------------------------------------------------------

    def set_available(self, image: str, available: bool) -> bool:
        """Push (``available``) or remove ``image``. False when the reference is invalid, or
        when it names a repository the catalogue does not know (nothing could run from it)."""
        reference = normalise(image)
        if reference is None:
            return False
        if not available:
            self.pushed.pop(reference, None)
            self.removed.add(reference)
            return True
        self.removed.discard(reference)
        if reference in self.pushed or self.catalogue.lookup_image(image).info is not None:
            return True
        info = self._new_tag(reference)
        if info is None:
            return False
        self.pushed[reference] = info
        return True

    def _new_tag(self, reference: str) -> ImageInfo | None:
        ref = images.parse_reference(reference)
        if ref.tag is None or ref.digest is not None:
            return None  # a digest names content the registry cannot make up
        repository = ref.repository
        known = images.CATALOGUE.get(repository)
        candidates = ["latest", *(known.tags if known is not None else ())]
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
        return self.catalogue.program_for(info, argv)

    def exec_program(self, info: ImageInfo, argv: list[str]) -> ProgramFactory:
        return self.catalogue.exec_program(info, argv)

    def new_filesystem(self, info: ImageInfo) -> Any:
        return self.catalogue.new_filesystem(info)


__all__ = ["Registry", "RegistryLookup", "normalise"]
