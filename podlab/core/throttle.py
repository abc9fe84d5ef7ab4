"""Sign-in throttling for the site's login page and the admin's.

Failed sign-ins are counted per (user name, address) pair, per user name and per address, in
the cache (Redis when ``REDIS_URL`` is set, so every process of a deployment counts together).
Over a limit, a sign-in POST gets a translated 429 before any password is hashed (a hash costs
close to a second of CPU). Limits per pair are low (a person mistyping), per address higher (a
school behind one NAT address), per user name higher still (a distributed guess at one account,
without letting one address lock a user out). A cache that cannot be reached throttles nothing
and is logged: sign-in must keep working while Redis is down.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
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


def throttled(username: str, address: str) -> bool:
    keys = _keys(username, address)
    try:
        counts = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001 - fail open, loudly
        logger.warning("sign-in throttle: the cache cannot be reached", exc_info=True)
        return False
    return any(counts.get(keys[kind], 0) >= limit for kind, limit in LIMITS.items())


@receiver(user_login_failed, dispatch_uid="podlab-login-failed")
def count_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                  **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")
    for key in _keys(username, _address(request)).values():
        try:
            if not cache.add(key, 1, WINDOW_SECONDS):
                cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, WINDOW_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("sign-in throttle: the cache cannot be reached", exc_info=True)
            return


@receiver(user_logged_in, dispatch_uid="podlab-login-succeeded")
def forget_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    try:
        cache.delete(_keys(user.get_username(), _address(request))["pair"])
    except Exception:  # noqa: BLE001
        logger.warning("sign-in throttle: the cache cannot be reached", exc_info=True)


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
