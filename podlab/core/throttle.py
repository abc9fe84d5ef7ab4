"""Sign-in throttling for the site's login page and the admin's.

Failed sign-ins are counted per (user name, address) pair, per user name and per address, where
every process of a deployment sees the same counts: in Redis (the cache) when ``REDIS_URL`` is
set, else in the database (``SignInFailure`` rows). ``SIGN_IN_THROTTLE_STORE`` chooses:
``cache`` or ``database``; a cache that is not shared (Django's local-memory cache) would count
per process, which is why it is never the default.
Over a limit, a sign-in POST gets a translated 429 before any password is hashed (a hash costs
close to a second of CPU). Limits per pair are low (a person mistyping), per address higher (a
school behind one NAT address), per user name higher still (a distributed guess at one account,
without letting one address lock a user out). A cache that cannot be reached throttles nothing
and is logged: sign-in must keep working while Redis is down. (A database that cannot be
reached fails the sign-in itself.)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
LIMITS = {"pair": 5, "address": 50, "user": 100}
LOGIN_PATHS = ("/admin/login/", "/accounts/login/")


def _keys(username: str, address: str) -> dict[str, str]:
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]
    return {"pair": f"login-fail:pair:{user}:{address}", "address": f"login-fail:addr:{address}",
            "user": f"login-fail:user:{user}"}


def _address(request: HttpRequest | None) -> str:
    # REMOTE_ADDR is the client's own address, or X-Forwarded-For's when Daphne runs with
    # --proxy-headers behind a proxy (the README's production setup).
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"


def is_login_post(request: HttpRequest) -> bool:
    return request.method == "POST" and request.path_info.endswith(LOGIN_PATHS)


# --- where the counts live ------------------------------------------------------------------

def _in_database() -> bool:
    return getattr(settings, "SIGN_IN_THROTTLE_STORE", "database") == "database"


def _counts(keys: list[str]) -> dict[str, int]:
    if not _in_database():
        return cache.get_many(keys)
    from .models import SignInFailure

    rows = SignInFailure.objects.filter(key__in=keys, expires_at__gt=timezone.now())
    return dict(rows.values_list("key", "count"))


def _add_one(key: str) -> None:
    if not _in_database():
        try:
            if not cache.add(key, 1, WINDOW_SECONDS):
                cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, WINDOW_SECONDS)
        return
    from .models import SignInFailure

    now = timezone.now()
    live = SignInFailure.objects.filter(key=key, expires_at__gt=now)
    if live.update(count=F("count") + 1):  # one statement: no count lost between processes
        return
    SignInFailure.objects.filter(expires_at__lte=now).delete()  # this key's and any other's
    try:
        with transaction.atomic():
            SignInFailure.objects.create(key=key, count=1,
                                         expires_at=now + timedelta(seconds=WINDOW_SECONDS))
    except IntegrityError:  # another process made it first
        live.update(count=F("count") + 1)


def _forget(key: str) -> None:
    if not _in_database():
        cache.delete(key)
        return
    from .models import SignInFailure

    SignInFailure.objects.filter(key=key).delete()


# --- the signals and the middleware ----------------------------------------------------------

def throttled(username: str, address: str) -> bool:
    keys = _keys(username, address)
    try:
        counts = _counts(list(keys.values()))
    except Exception:  # noqa: BLE001 - fail open, loudly
        logger.warning("sign-in throttle: the counts cannot be read", exc_info=True)
        return False
    return any(counts.get(keys[kind], 0) >= limit for kind, limit in LIMITS.items())


@receiver(user_login_failed, dispatch_uid="podlab-login-failed")
def count_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                  **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")
    for key in _keys(username, _address(request)).values():
        try:
            _add_one(key)
        except Exception:  # noqa: BLE001
            logger.warning("sign-in throttle: the counts cannot be written", exc_info=True)
            return


@receiver(user_logged_in, dispatch_uid="podlab-login-succeeded")
def forget_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    try:
        _forget(_keys(user.get_username(), _address(request))["pair"])
    except Exception:  # noqa: BLE001
        logger.warning("sign-in throttle: the counts cannot be written", exc_info=True)


class LoginThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_login_post(request) and throttled(
                str(request.POST.get("username", "")), _address(request)):
            minutes = WINDOW_SECONDS // 60
            message = _("Too many failed sign-ins. Wait %(minutes)d minutes, then try again.") % {
                "minutes": minutes}
            html = render_to_string("core/error.html", {
                "title": _("Too many attempts"), "message": message})
            response = HttpResponse(html, status=429)
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return self.get_response(request)
