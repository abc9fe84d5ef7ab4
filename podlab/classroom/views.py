"""Instructor pages (rooms, console) and the students' join and room pages. Thin: the work
is in services, questions and the consumers."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from podlab.course.content import course

from . import exports, plans, questions, services
from .broadcast import announce_closed
from .models import LessonPlan
from .qr import qr_svg


def _instructor_or_none(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("quizzes:login"))
    if not services.is_instructor(user=request.user):
        return HttpResponseForbidden(render(request, "classroom/forbidden.html").content)
    return None


@require_http_methods(["GET", "POST"])
def rooms(request: HttpRequest) -> HttpResponse:
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused
    if request.method == "POST":
        room = services.create_room(instructor=request.user,
                                    title=request.POST.get("title", ""))
        return redirect("classroom:console", code=room.code)
    return render(request, "classroom/rooms.html",
                  {"rooms": services.rooms_of(instructor=request.user)})


def _join_url(request: HttpRequest, code: str) -> str:
    # Without a language prefix: LocaleMiddleware sends each phone to its own language.
    return request.build_absolute_uri(f"/join/?code={code}")


def _bank(lang: str) -> list[tuple[str, str, list[questions.BankEntry]]]:
    """The lesson banks' live questions, grouped under their lesson's title."""
    lessons = {lesson.slug: lesson.title_in(lang) for lesson in course().lessons}
    grouped: dict[str, list[questions.BankEntry]] = {}
    for entry in questions.bank_entries(lang=lang):
        grouped.setdefault(entry.lesson_slug, []).append(entry)
    return [(slug, lessons.get(slug, slug), items) for slug, items in grouped.items()]


def console(request: HttpRequest, code: str) -> HttpResponse:
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused
    room = services.room_for_instructor(code=code, user=request.user)
    if room is None:
        raise Http404
    join_url = _join_url(request, room.code)
    return render(request, "classroom/console.html", {
        "room": room,
        "join_url": join_url,
        # segno writes the SVG from the URL alone; nothing user-written goes into it.
        "qr": mark_safe(qr_svg(text=join_url)),  # noqa: S308
        "bank": _bank(get_language()),
        "examples": list(course().examples.values()),
        "examples_json": {ex.id: ex.text() for ex in course().examples.values()},
        "horizons": questions.PREDICT_HORIZONS,
        "countdowns": questions.COUNTDOWNS,
    })


@require_http_methods(["GET", "POST"])
def plan_list(request: HttpRequest) -> HttpResponse:
    """The instructor's lesson plans; a POST starts a new one."""
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused
    error = None
    if request.method == "POST":
        try:
            plan = plans.create_plan(instructor=request.user, title=request.POST.get("title"))
        except plans.PlanError as exc:
            error = plans.plan_error_text(code=exc.code, lang=get_language())
        else:
            return redirect("classroom:plan", pk=plan.pk)
    return render(request, "classroom/plans.html",
                  {"plans": plans.plans_of(instructor=request.user), "error": error},
                  status=400 if error else 200)


PLAN_OPS = {"add-question": plans.QUESTION, "add-predict": plans.PREDICT,
            "add-scenario": plans.SCENARIO}


def _edit_plan(plan: LessonPlan, data: dict[str, str]) -> None:
    op = data.get("op", "")
    if op == "add-question":
        lesson, _, question = data.get("bank", "").partition("/")
        data = {**data, "lesson": lesson, "question": question}
    if op in PLAN_OPS:
        plans.add_step(plan=plan, raw={**data, "kind": PLAN_OPS[op]})
    elif op == "rename":
        plans.rename_plan(plan=plan, title=data.get("title"))
    elif op == "remove":
        plans.remove_step(plan=plan, index=data.get("step"))
    elif op in ("up", "down"):
        plans.move_step(plan=plan, index=data.get("step"), delta=-1 if op == "up" else 1)
    else:
        raise plans.PlanError("bad_kind", field="op")


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One lesson plan: its steps in order, and forms to add, move and remove them."""
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused
    plan = plans.plan_for_instructor(pk=pk, user=request.user)
    if plan is None:
        raise Http404
    lang = get_language()
    error = None
    if request.method == "POST":
        if request.POST.get("op") == "delete":
            plan.delete()
            return redirect("classroom:plans")
        try:
            _edit_plan(plan, request.POST.dict())
        except plans.PlanError as exc:
            error = {"op": request.POST.get("op", ""), "field": exc.field,
                     "text": plans.plan_error_text(code=exc.code, lang=lang)}
        else:
            return redirect("classroom:plan", pk=plan.pk)
    return render(request, "classroom/plan.html", {
        "plan": plan,
        "steps": [plans.describe_step(step=s, lang=lang) for s in plan.steps],
        "bank": _bank(lang),
        "examples": list(course().examples.values()),
        "horizons": questions.PREDICT_HORIZONS,
        "countdowns": questions.COUNTDOWNS,
        "error": error,
    }, status=400 if error else 200)


def _own_room(request: HttpRequest, code: str) -> tuple[HttpResponse | None, object]:
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused, None
    room = services.room_for_instructor(code=code, user=request.user)
    if room is None:
        raise Http404
    return None, room


def projector(request: HttpRequest, code: str) -> HttpResponse:
    """The big screen: opened by the instructor, shown to the room."""
    refused, room = _own_room(request, code)
    if refused is not None:
        return refused
    join_url = _join_url(request, room.code)
    return render(request, "classroom/projector.html", {
        "room": room, "join_url": join_url,
        "qr": mark_safe(qr_svg(text=join_url)),  # noqa: S308 - see console
    })


def summary(request: HttpRequest, code: str) -> HttpResponse:
    refused, room = _own_room(request, code)
    if refused is not None:
        return refused
    items = exports.summaries(room=room, lang=get_language())
    return render(request, "classroom/summary.html", {
        "room": room, "items": items, "seats": room.seats.count(),
        "hardest": sorted((i for i in items if i.answered), key=lambda i: -i.wrong_share)[:5],
    })


def export_csv(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    refused, room = _own_room(request, code)
    if refused is not None:
        return refused
    build = exports.questions_csv if kind == "questions" else exports.students_csv
    # A byte-order mark so spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + build(room=room, lang=get_language()),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="room-{room.code}-{kind}.csv"'
    return response


@require_POST
def set_open(request: HttpRequest, code: str) -> HttpResponse:
    refused = _instructor_or_none(request)
    if refused is not None:
        return refused
    room = services.room_for_instructor(code=code, user=request.user)
    if room is None:
        raise Http404
    services.set_room_open(room=room, is_open=request.POST.get("open") == "1")
    if not room.is_open:
        announce_closed(room_pk=room.pk)
    return redirect("classroom:rooms")


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    code = services.normalise_code(raw=request.POST.get("code") or request.GET.get("code", ""))
    name = request.POST.get("name", "")
    refusal = ""
    if request.method == "POST":
        if not request.session.session_key:
            request.session.save()
        who = services.JoinKeys(ip=request.META.get("REMOTE_ADDR", ""),
                                session=request.session.session_key or "")
        try:
            seat = services.join_room(code=code, name=name, lang=get_language(), who=who,
                                      session=request.session)
        except services.JoinError as exc:
            refusal = exc.code
        else:
            return redirect("classroom:student", code=seat.room.code)
    error = services.join_error_text(code=refusal) if refusal else None
    return render(request, "classroom/join.html", {"code": code, "name": name, "error": error},
                  status=429 if refusal.startswith("rate_limited") else 200)


def student(request: HttpRequest, code: str) -> HttpResponse:
    room = services.room_by_code(code=code)
    seat = services.seat_in_session(session=request.session, room=room) if room else None
    if room is None or seat is None:
        return redirect(reverse("classroom:join") + f"?code={code}")
    return render(request, "classroom/student.html", {"room": room, "seat": seat})
