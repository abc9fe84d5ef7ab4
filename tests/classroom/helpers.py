"""Shared helpers of the classroom tests: sessions, rooms and websocket communicators."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore

from podlab.asgi import application
from podlab.classroom import services
from podlab.classroom.models import Room, Seat
from podlab.core.db import database_sync_to_async

SLEEPER = """\
apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo hello; sleep 3600"]
"""
CRASHER = """\
apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo bye; exit 1"]
"""


def user_session(user: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def seat_session(seat: Seat) -> str:
    store = SessionStore()
    store[services.SESSION_KEY] = {str(seat.room_id): str(seat.pk)}
    store.create()
    return store.session_key


def make_teacher(username: str = "teacher") -> User:
    user = User.objects.create_user(username, password="pw-for-tests-only")
    services.make_instructor(user=user)
    return user


def make_room(teacher: User) -> Room:
    return services.create_room(instructor=teacher, title="Pods 101")


def make_seat(room: Room, name: str, lang: str = "en") -> Seat:
    return Seat.objects.create(room=room, name=name, lang=lang)


async def open_socket(path: str, session_key: str | None, lang: str = "en",
                      origin: bytes = b"http://localhost") -> WebsocketCommunicator:
    headers = [(b"origin", origin)]
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return WebsocketCommunicator(application, f"{path}?lang={lang}", headers=headers)


async def receive_type(communicator: WebsocketCommunicator, wanted: str, *,
                       timeout: float = 5, where=None) -> dict:
    """The next message of type ``wanted`` (and matching ``where``), skipping others."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == wanted and (where is None or where(message)):
            return message


db = database_sync_to_async
