"""The admin: every attempt, and the questions learners miss most."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import ExpressionWrapper, F, FloatField, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Attempt, Learner, QuestionStat, ReviewItem


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "learner", "lesson_slug", "question_id", "question_type",
                    "correct", "was_review"]
    list_filter = ["correct", "was_review", "question_type", "lesson_slug"]
    search_fields = ["lesson_slug", "question_id", "learner__user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["learner__user"]
    readonly_fields = ["learner", "submission_id", "lesson_slug", "question_id", "question_type",
                       "answer", "correct", "was_review", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(QuestionStat)
class QuestionStatAdmin(admin.ModelAdmin):
    """Hardest first: the lowest share of right answers among questions answered at all."""

    list_display = ["lesson_slug", "question_id", "attempts", "correct", "rate"]
    list_filter = ["lesson_slug"]
    search_fields = ["lesson_slug", "question_id"]
    readonly_fields = ["lesson_slug", "question_id", "attempts", "correct"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionStat]:
        rate = ExpressionWrapper(F("correct") * 1.0 / F("attempts"), output_field=FloatField())
        return (super().get_queryset(request).filter(attempts__gt=0)
                .annotate(rate_value=rate).order_by("rate_value", "-attempts"))

    @admin.display(description=_("share right"), ordering="rate_value")
    def rate(self, obj: QuestionStat) -> str:
        return f"{obj.success_rate:.0%}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ["learner", "lesson_slug", "question_id", "step", "due_at", "missed_at"]
    list_filter = ["step", "lesson_slug"]


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "created_at"]
    search_fields = ["user__username"]
