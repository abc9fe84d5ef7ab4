"""Who answered what, and what comes back for review.

A ``Learner`` exists for every anonymous session that answered something and for every
signed-in user; when an anonymous learner signs up or logs in, their history moves to the
user's learner (``services.carry_over``). Questions live in files, so rows name them by lesson
slug and question id.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# A missed question comes back after 1 day; answered right then, after 3 more; then after 7.
# Right once more, it leaves the queue. Wrong at any step, it starts again at 1 day.
REVIEW_INTERVALS: tuple[timedelta, ...] = (timedelta(days=1), timedelta(days=3),
                                           timedelta(days=7))


class Learner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="quiz_learner", verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")

    def __str__(self) -> str:
        return self.user.get_username() if self.user else f"anonymous {str(self.id)[:8]}"


class Attempt(models.Model):
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="attempts",
                                verbose_name=_("learner"))
    submission_id = models.UUIDField(_("submission id"))
    lesson_slug = models.CharField(_("lesson"), max_length=80)
    question_id = models.CharField(_("question"), max_length=80)
    question_type = models.CharField(_("type"), max_length=16)
    answer = models.JSONField(_("answer"))
    correct = models.BooleanField(_("correct"))
    was_review = models.BooleanField(_("review"), default=False)
    created_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "submission_id"],
                                    name="quizzes_attempt_once_per_submission"),
        ]
        indexes = [models.Index(fields=["learner", "lesson_slug", "created_at"])]

    def __str__(self) -> str:
        return f"{self.lesson_slug}/{self.question_id}"

    @property
    def question_key(self) -> str:
        return f"{self.lesson_slug}/{self.question_id}"


class ReviewItem(models.Model):
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="reviews",
                                verbose_name=_("learner"))
    lesson_slug = models.CharField(_("lesson"), max_length=80)
    question_id = models.CharField(_("question"), max_length=80)
    step = models.PositiveSmallIntegerField(_("step"), default=0)
    due_at = models.DateTimeField(_("due"))
    missed_at = models.DateTimeField(_("last missed"))

    class Meta:
        verbose_name = _("review item")
        verbose_name_plural = _("review items")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson_slug", "question_id"],
                                    name="quizzes_review_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_slug}/{self.question_id}"


class QuestionStat(models.Model):
    """Running totals per question, for the admin's hardest questions."""

    lesson_slug = models.CharField(_("lesson"), max_length=80)
    question_id = models.CharField(_("question"), max_length=80)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    correct = models.PositiveIntegerField(_("correct"), default=0)

    class Meta:
        verbose_name = _("question statistic")
        verbose_name_plural = _("question statistics")
        constraints = [
            models.UniqueConstraint(fields=["lesson_slug", "question_id"],
                                    name="quizzes_stat_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_slug}/{self.question_id}"

    @property
    def success_rate(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0
