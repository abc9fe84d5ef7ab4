"""Quiz pages: thin views over ``services`` and ``presenters``."""

from __future__ import annotations

import uuid

from django.conf import settings
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
    grade_only,
    latest_results,
    lesson_scores,
    parse_submission_id,
    pass_usable,
    review_queue,
    submit_answer,
)


def _lang() -> str:
    return "zh-hans" if (get_language() or "en").startswith("zh") else "en"


# The quiz pass: a signed cookie the quiz pages give an anonymous visitor. It names the
# anonymous learner their answers are stored under (see services.current_learner). No row
# exists until the first answer, and answers posted without a pass are graded, not stored.
PASS_COOKIE = "podlab_quiz"  # noqa: S105 - a cookie name
PASS_SALT = "podlab.quizzes.pass"  # noqa: S105 - a signing salt, not a secret
PASS_MAX_AGE = 365 * 24 * 3600


def quiz_pass(request: HttpRequest) -> uuid.UUID | None:
    value = request.get_signed_cookie(PASS_COOKIE, default=None, salt=PASS_SALT,
                                      max_age=PASS_MAX_AGE)
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def give_pass(request: HttpRequest, response: HttpResponse, learner: object) -> HttpResponse:
    """Give an anonymous visitor without a learner a fresh pass, unless theirs still works."""
    if request.user.is_authenticated or learner is not None:
        return response
    if pass_usable(pass_key=quiz_pass(request)):
        return response
    response.set_signed_cookie(
        PASS_COOKIE, uuid.uuid4().hex, salt=PASS_SALT, max_age=PASS_MAX_AGE, httponly=True,
        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def quiz_index(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    learner = current_learner(session=request.session, user=request.user, create=False,
                              pass_key=quiz_pass(request))
    rows = [{"score": s, "title": lesson_title(lesson_slug=s.lesson_slug, lang=lang)}
            for s in lesson_scores(learner=learner)]
    due = sum(1 for entry in review_queue(learner=learner) if entry.due)
    return render(request, "quizzes/index.html", {"rows": rows, "due": due})


def quiz_lesson(request: HttpRequest, slug: str) -> HttpResponse:
    lang = _lang()
    bank = banks().get(slug)
    if bank is None:
        raise Http404(slug)
    learner = current_learner(session=request.session, user=request.user, create=False,
                              pass_key=quiz_pass(request))
    last = latest_results(learner=learner, lesson_slug=slug)
    questions = [question_context(question=q, lang=lang, last=last.get(q.id))
                 for q in bank.questions]
    return give_pass(request, render(request, "quizzes/lesson.html", {
        "slug": slug, "title": lesson_title(lesson_slug=slug, lang=lang),
        "questions": questions,
    }), learner)


@require_POST
def answer(request: HttpRequest, slug: str, question_id: str) -> HttpResponse:
    lang = _lang()
    question = get_question(lesson_slug=slug, question_id=question_id)
    if question is None:
        raise Http404(question_id)
    try:
        submission_id = parse_submission_id(raw=request.POST.get("submission_id"))
        raw = answer_from_post(question=question, data=request.POST)
        learner = current_learner(session=request.session, user=request.user, create=True,
                                  pass_key=quiz_pass(request))
        if learner is None:  # anonymous, without a pass: graded, nothing stored
            outcome = grade_only(question=question, answer=raw)
        else:
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
    context["unsaved"] = learner is None
    if _wants_json(request):
        return JsonResponse({
            "correct": outcome.grade.correct,
            "duplicate": outcome.duplicate,
            "saved": learner is not None,
            "html": render_to_string("quizzes/_result.html", context, request=request),
            "next_submission_id": str(uuid.uuid4()),  # the next answer is a new submission
        })
    return render(request, "quizzes/result.html", {**context, "slug": slug})


def progress(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    learner = current_learner(session=request.session, user=request.user, create=False,
                              pass_key=quiz_pass(request))
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
    learner = current_learner(session=request.session, user=request.user, create=False,
                              pass_key=quiz_pass(request))
    due = [e for e in review_queue(learner=learner) if e.due]
    questions = [question_context(question=e.question, lang=lang) for e in due]
    return give_pass(request, render(request, "quizzes/review.html", {"questions": questions}),
                     learner)


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
