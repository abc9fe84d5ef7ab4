"""The admin: rooms, seats, questions and answers; instructors are users in the
"instructors" group (also made by ``manage.py makeinstructor``)."""

from __future__ import annotations

from django.contrib import admin

from .models import Answer, JoinAttempt, Room, RoomQuestion, Seat


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    fields = ["name", "lang", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "instructor", "is_open", "created_at"]
    list_filter = ["is_open"]
    search_fields = ["code", "title", "instructor__username"]
    readonly_fields = ["code", "seq", "epoch", "created_at"]
    inlines = [SeatInline]


@admin.register(RoomQuestion)
class RoomQuestionAdmin(admin.ModelAdmin):
    list_display = ["room", "number", "source", "qtype", "lesson_slug", "question_id", "round",
                    "state"]
    list_filter = ["source", "state"]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["question", "seat", "round", "correct", "answered_at"]
    list_filter = ["correct"]
    list_select_related = ["question__room", "seat"]


@admin.register(JoinAttempt)
class JoinAttemptAdmin(admin.ModelAdmin):
    list_display = ["key", "at"]
