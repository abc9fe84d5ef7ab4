"""Quiz pages: thin views over ``services`` and ``presenters``."""

from __future__ import annotations

import uuid

from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .bank import banks, get_question
from .forms import SignUpForm
from .grading import InvalidAnswer
from .predict import EngineUnavailable
from .presenters import answer_from_post, lesson_title, question_context, result_context
from .services import (
    current_learner,
    latest_results,
    lesson_scores,
    parse_submission_id,
    review_queue,
    submit_answer,
)


def _lang() -> str:
    return "zh-hans" if (get_language() or "en").startswith("zh") else "en"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def quiz_index(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    learner = current_learner(session=request.session, user=request.user, create=False)
    rows = [{"score": s, "title": lesson_title(lesson_slug=s.lesson_slug, lang=lang)}
            for s in lesson_scores(learner=learner)]
    due = sum(1 for entry in review_queue(learner=learner) if entry.due)
    return render(request, "quizzes/index.html", {"rows": rows, "due": due})


def quiz_lesson(request: HttpRequest, slug: str) -> HttpResponse:
    lang = _lang()
    bank = banks().get(slug)
    if bank is None:
        raise Http404(slug)
    learner = current_learner(session=request.session, user=request.user, create=False)
    last = latest_results(learner=learner, lesson_slug=slug)
    questions = [question_context(question=q, lang=lang, last=last.get(q.id))
                 for q in bank.questions]
    return render(request, "quizzes/lesson.html", {
        "slug": slug, "title": lesson_title(lesson_slug=slug, lang=lang),
        "questions": questions,
    })


@require_POST
def answer(request: HttpRequest, slug: str, question_id: str) -> HttpResponse:
    lang = _lang()
    question = get_question(lesson_slug=slug, question_id=question_id)
    if question is None:
        raise Http404(question_id)
    try:
        submission_id = parse_submission_id(raw=request.POST.get("submission_id"))
        raw = answer_from_post(question=question, data=request.POST)
        learner = current_learner(session=request.session, user=request.user, create=True)
        assert learner is not None  # noqa: S101 - create=True always gives one
        outcome = submit_answer(learner=learner, question=question, answer=raw,
                                submission_id=submission_id)
    except InvalidAnswer:
        message = _("That answer could not be read. Choose an option (or type an answer) "
                    "and send it again.")
        if _wants_json(request):
            return JsonResponse({"error": message}, status=400)
        return render(request, "quizzes/error.html", {"message": message, "slug": slug},
                      status=400)
    except EngineUnavailable:
        message = _("The simulated node cannot check this question right now. "
                    "Please try again later.")
        if _wants_json(request):
            return JsonResponse({"error": message}, status=503)
        return render(request, "quizzes/error.html", {"message": message, "slug": slug},
                      status=503)
    context = result_context(question=question, result=outcome.grade, lang=lang,
                             duplicate=outcome.duplicate)
    if _wants_json(request):
        return JsonResponse({
            "correct": outcome.grade.correct,
            "duplicate": outcome.duplicate,
            "html": render_to_string("quizzes/_result.html", context, request=request),
            "next_submission_id": str(uuid.uuid4()),  # the next answer is a new submission
        })
    return render(request, "quizzes/result.html", {**context, "slug": slug})


def progress(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    learner = current_learner(session=request.session, user=request.user, create=False)
    rows = [{"score": s, "title": lesson_title(lesson_slug=s.lesson_slug, lang=lang)}
            for s in lesson_scores(learner=learner)]
    queue = [{"entry": e, "prompt": e.question.prompt.get(lang),
              "lesson": lesson_title(lesson_slug=e.question.lesson_slug, lang=lang)}
             for e in review_queue(learner=learner)]
    from podlab.course import reading
    from podlab.course.content import course

    read = set(reading.lessons_read(request.session))
    lessons = [{"lesson": lesson, "title": lesson.title_in(lang), "read": lesson.slug in read}
               for lesson in course().lessons]
    return render(request, "quizzes/progress.html", {
        "rows": rows, "queue": queue, "lessons": lessons,
        "read_count": sum(1 for item in lessons if item["read"]),
    })


def review(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    learner = current_learner(session=request.session, user=request.user, create=False)
    due = [e for e in review_queue(learner=learner) if e.due]
    questions = [question_context(question=e.question, lang=lang) for e in due]
    return render(request, "quizzes/review.html", {"questions": questions})


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("quizzes:progress")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("quizzes:progress")
    return render(request, "registration/signup.html", {"form": form})


login_view = LoginView.as_view(template_name="registration/login.html",
                               next_page=reverse_lazy("quizzes:progress"))
logout_view = LogoutView.as_view(next_page=reverse_lazy("quizzes:index"))
