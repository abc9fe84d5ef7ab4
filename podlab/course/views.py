"""Course pages: thin views over ``content`` and ``render``."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from . import reading
from .content import course
from .render import render_lesson


def _lang() -> str:
    return "zh-hans" if (get_language() or "en").startswith("zh") else "en"


def course_index(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    read = set(reading.lessons_read(request.session))
    lessons = [
        {
            "lesson": lesson,
            "title": lesson.title_in(lang),
            "summary": lesson.summary_in(lang),
            "read": lesson.slug in read,
        }
        for lesson in course().lessons
    ]
    last = course().get(reading.last_lesson(request.session) or "")
    return render(
        request,
        "course/index.html",
        {
            "lessons": lessons,
            "total_minutes": course().total_minutes,
            "first": course().lessons[0] if course().lessons else None,
            "last": last,
            "last_title": last.title_in(lang) if last else "",
            "read_count": sum(1 for item in lessons if item["read"]),
        },
    )


def lesson_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lang = _lang()
    try:
        rendered = render_lesson(slug, lang)
    except KeyError:
        raise Http404(slug) from None
    prev, nxt = course().neighbours(slug)
    reading.mark_read(request.session, slug)
    return render(
        request,
        "course/lesson.html",
        {
            "rendered": rendered,
            "lesson": rendered.lesson,
            "prev": prev,
            "prev_title": prev.title_in(lang) if prev else "",
            "next": nxt,
            "next_title": nxt.title_in(lang) if nxt else "",
        },
    )


def glossary_page(request: HttpRequest) -> HttpResponse:
    from .content import glossary

    lang = _lang()
    terms = sorted(
        (
            {"id": t.id, "term": t.term.get(lang, ""), "definition": t.definition.get(lang, ""),
             "english": t.term.get("en", "")}
            for t in glossary()
        ),
        key=lambda item: item["english"].lower(),
    )
    return render(request, "course/glossary.html", {"terms": terms})
