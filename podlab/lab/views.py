"""The lab page. The example gallery comes from the lessons, grouped by lesson."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from podlab.course.content import course

from .scenarios import scenario_for

#: what a learner who arrives from the menu sees running: the probes lesson's liveness example
FIRST_EXAMPLE = "probes-exec-liveness"


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
    manifest = example.text() if example else ""
    groups = []
    for lesson in course().lessons:
        items = [{"id": ex.id, "lesson": ex.lesson_slug, "hint": ex.watch_hint()}
                 for ex in lesson.examples.values()]
        if items:
            groups.append({"title": lesson.title_in(lang), "slug": lesson.slug,
                           "number": lesson.number, "examples": items})
    return render(
        request,
        "lab/index.html",
        {"example": example, "manifest": manifest, "gallery_groups": groups,
         "autostart": autostart,
         "scenario": scenario_for(example, lang=lang) if example else None,
         "unknown_example": bool(example_id) and example is None},
    )
