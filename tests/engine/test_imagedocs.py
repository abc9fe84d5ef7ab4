"""docs/images.md lists every image family from the catalogue data, and is current."""

from __future__ import annotations

from podlab.engine.runtime import catalogue, imagedocs, servers


def test_docs_images_is_generated_from_the_data() -> None:
    text = imagedocs.DOC.read_text(encoding="utf-8")
    assert imagedocs.update(text) == text, "run: python -m podlab.engine.runtime.imagedocs"


def test_every_repository_and_server_family_is_listed() -> None:
    table = imagedocs.render()
    for repository in catalogue.repositories():
        assert f"| `{repository}` |" in table
    for family in servers.families():
        assert family in table
