"""The lab page. The example gallery comes from the lessons, grouped by lesson."""

import functools
from pathlib import Path

import yaml
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from podlab.course.content import course

from .scenarios import scenario_for

#: what a learner who arrives from the menu sees running: the probes lesson's liveness example
FIRST_EXAMPLE = "probes-exec-liveness"


@functools.cache
def _watch_lines(lang: str) -> dict[str, str]:
    """Each example's "# Watch:" line in another language (lessons/watch.<lang>.yaml)."""
    path = Path(settings.BASE_DIR) / "lessons" / f"watch.{lang}.yaml"
    if lang == "en" or not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def watch_hint(example, lang: str) -> tuple[str, str]:
    """(text, its language): the example's "what to watch" line in the page's language."""
    translated = _watch_lines(lang).get(example.id)
    return (translated, lang) if translated else (example.watch_hint(), "en")


#: the first line's prefix in each language (the engine ignores comments)
WATCH_PREFIX = {"en": "# Watch:", "zh-hans": "# 注意观察："}


def manifest_text(example, lang: str) -> str:
    """The example as the editor shows it: its "# Watch:" comment in the page's language."""
    text = example.text()
    hint, hint_lang = watch_hint(example, lang)
    first, sep, rest = text.partition("\n")
    if hint_lang == "en" or not first.startswith("# Watch:"):
        return text
    return f"{WATCH_PREFIX.get(hint_lang, '# Watch:')} {hint}{sep}{rest}"


def lab_index(request: HttpRequest) -> HttpResponse:
    lang = get_language() or "en"
    examples = course().examples
    example_id = request.GET.get("example", "")
    example = examples.get(example_id)
    # From the menu (no example asked for) the lab starts with one running; a shared link
    # (#lab=...) replaces it in the page before anything is sent.
    autostart = not example_id and FIRST_EXAMPLE in examples
    if autostart:
        example = examples[FIRST_EXAMPLE]
    manifest = manifest_text(example, lang) if example else ""
    groups = []
    for lesson in course().lessons:
        items = []
        for ex in lesson.examples.values():
            hint, hint_lang = watch_hint(ex, lang)
            items.append({"id": ex.id, "lesson": ex.lesson_slug, "hint": hint,
                          "hint_lang": hint_lang})
        if items:
            groups.append({"title": lesson.title_in(lang), "slug": lesson.slug,
                           "number": lesson.number, "examples": items})
    return render(
        request,
        "lab/index.html",
        {"example": example, "manifest": manifest, "gallery_groups": groups,
         "autostart": autostart,
         "watch": watch_hint(example, lang)[0] if example else "",
         "scenario": scenario_for(example, lang=lang) if example else None,
         "unknown_example": bool(example_id) and example is None},
    )
