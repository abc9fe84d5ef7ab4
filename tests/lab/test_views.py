"""The lab page: the example in the editor speaks the page's language."""

from __future__ import annotations

import html

import pytest

from podlab.course.content import course
from podlab.engine.apiserver.manifest import parse_manifests
from podlab.lab.views import manifest_text, watch_hint


def test_every_example_has_its_watch_line_in_chinese_in_the_editor():
    for ex in course().examples.values():
        text = manifest_text(ex, "zh-hans")
        first, _, rest = text.partition("\n")
        assert first.startswith("# 注意观察："), ex.id
        assert first.removeprefix("# 注意观察：").strip() == watch_hint(ex, "zh-hans")[0]
        assert rest == ex.text().partition("\n")[2], ex.id  # only the comment changes
        # the engine reads the same objects either way
        assert parse_manifests(text).objects == parse_manifests(ex.text()).objects, ex.id


def test_english_editor_keeps_the_file_as_written():
    for ex in course().examples.values():
        assert manifest_text(ex, "en") == ex.text()


@pytest.mark.django_db
def test_chinese_lab_page_shows_the_translated_comment(client):
    body = client.get("/zh-hans/lab/?example=probes-exec-liveness").content.decode()
    textarea = body[body.index('<textarea id="manifest"'):body.index("</textarea>")]
    assert "# 注意观察：" in html.unescape(textarea)
    assert "# Watch:" not in textarea
