"""The lab page. The example gallery comes from the lessons."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from podlab.course.content import course


def lab_index(request: HttpRequest) -> HttpResponse:
    examples = course().examples
    example_id = request.GET.get("example", "")
    example = examples.get(example_id)
    manifest = example.text() if example else ""
    gallery = [
        {"id": ex.id, "lesson": ex.lesson_slug, "hint": ex.watch_hint()}
        for ex in examples.values()
    ]
    return render(
        request,
        "lab/index.html",
        {"example": example, "manifest": manifest, "gallery": gallery,
         "unknown_example": bool(example_id) and example is None},
    )
