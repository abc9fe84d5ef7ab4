"""A classroom: one instructor drives one simulation that a whole room of students follows.

Everything a room needs to come back after a server restart is in these rows: the
simulation is rebuilt from (manifest, seed, actions) and moved to ``t`` (the engine is
deterministic), the open question and every answer are here too.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Join codes avoid characters people misread or mistype: 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
INSTRUCTORS_GROUP = "instructors"


class Room(models.Model):
    code = models.CharField(_("join code"), max_length=CODE_LENGTH, unique=True)
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="classrooms", verbose_name=_("instructor"))
    title = models.CharField(_("title"), max_length=120, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The simulation: rebuilt from these fields in any process.
    manifest = models.TextField(_("manifest"), blank=True)
    seed = models.IntegerField(_("seed"), default=0)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    t = models.FloatField(_("simulated time"), default=0.0)
    playing = models.BooleanField(_("playing"), default=False)
    speed = models.FloatField(_("speed"), default=1.0)  # 0 stands for "instant"
    seq = models.PositiveIntegerField(_("sequence number"), default=0)
    # Grows when the history is rewritten (a new manifest, a seek backwards, an action in the
    # past), so cached simulations of an older epoch are not moved forward by mistake.
    epoch = models.PositiveIntegerField(_("epoch"), default=0)
    show_leaderboard = models.BooleanField(_("leaderboard shown"), default=False)
    # The lesson plan the console follows, and how many of its steps have been run.
    plan = models.ForeignKey("LessonPlan", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="rooms", verbose_name=_("lesson plan"))
    plan_position = models.PositiveIntegerField(_("steps run"), default=0)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()

    @property
    def group_base(self) -> str:
        """ASCII prefix of this room's channel-layer group names."""
        return f"classroom-{self.pk}"


class LessonPlan(models.Model):
    """An instructor's prepared sequence of steps for a lesson, reusable in any of their rooms.

    ``steps`` is a list of dicts checked by ``plans.clean_step``: a bank question, a live
    predict question, or a scenario (an example manifest applied to the room).
    """

    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="lesson_plans", verbose_name=_("instructor"))
    title = models.CharField(_("title"), max_length=120)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lesson plan")
        verbose_name_plural = _("lesson plans")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class Seat(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="seats",
                             verbose_name=_("room"))
    name = models.CharField(_("display name"), max_length=40)
    lang = models.CharField(_("language"), max_length=10, default="en")
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "name"], name="classroom_seat_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class RoomQuestion(models.Model):
    OPEN, LOCKED, REVEALED, ENDED = "open", "locked", "revealed", "ended"
    STATES = [(OPEN, _("open")), (LOCKED, _("locked")), (REVEALED, _("revealed")),
              (ENDED, _("ended"))]
    BANK, LIVE_PREDICT = "bank", "live-predict"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="questions",
                             verbose_name=_("room"))
    number = models.PositiveIntegerField(_("number"))
    source = models.CharField(_("source"), max_length=16)
    qtype = models.CharField(_("type"), max_length=16)
    lesson_slug = models.CharField(_("lesson"), max_length=80, blank=True)
    question_id = models.CharField(_("question"), max_length=80, blank=True)
    # Live predict questions: pod, at, values, answer, table.
    data = models.JSONField(_("data"), default=dict, blank=True)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    state = models.CharField(_("state"), max_length=10, choices=STATES, default=OPEN)
    revealed = models.BooleanField(_("answer revealed"), default=False)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    # The countdown of the open round: voting closes at this moment, on the server.
    closes_at = models.DateTimeField(_("voting closes at"), null=True, blank=True)
    countdown = models.PositiveSmallIntegerField(_("countdown (s)"), default=0)

    class Meta:
        verbose_name = _("room question")
        verbose_name_plural = _("room questions")
        ordering = ["room", "number"]
        constraints = [
            models.UniqueConstraint(fields=["room", "number"], name="classroom_question_number"),
        ]

    def __str__(self) -> str:
        return f"{self.room.code} #{self.number}"


class Answer(models.Model):
    question = models.ForeignKey(RoomQuestion, on_delete=models.CASCADE,
                                 related_name="answers", verbose_name=_("question"))
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="answers",
                             verbose_name=_("seat"))
    round = models.PositiveSmallIntegerField(_("round"))
    answer = models.JSONField(_("answer"))
    correct = models.BooleanField(_("correct"))
    answered_at = models.DateTimeField(_("answered at"), auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["question", "seat", "round"],
                                    name="classroom_answer_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.question} {self.seat}"


class Connection(models.Model):
    """One open socket of a room; presence is counted from these rows, not from seats.

    Each process renews the rows of its own sockets every few seconds (``expires_at``); a
    socket that closes deletes its row, and the rows of a process that died simply expire.
    """

    STUDENT, INSTRUCTOR, PROJECTOR = "student", "instructor", "projector"
    ROLES = [(STUDENT, _("student")), (INSTRUCTOR, _("instructor")),
             (PROJECTOR, _("projector"))]

    channel = models.CharField(_("channel"), max_length=200, unique=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="connections",
                             verbose_name=_("room"))
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="connections",
                             null=True, blank=True, verbose_name=_("seat"))
    role = models.CharField(_("role"), max_length=12, choices=ROLES)
    process = models.CharField(_("process"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        indexes = [models.Index(fields=["room", "role", "expires_at"]),
                   models.Index(fields=["process"])]

    def __str__(self) -> str:
        return f"{self.room_id} {self.role} {self.channel}"


class JoinAttempt(models.Model):
    """A failed join (wrong code), kept a short while to slow down guessing."""

    key = models.CharField(_("key"), max_length=120)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("failed join")
        verbose_name_plural = _("failed joins")
        indexes = [models.Index(fields=["key", "at"])]

    def __str__(self) -> str:
        return self.key
