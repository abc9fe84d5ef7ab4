"""Keep an anonymous learner's history when they sign up or log in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from .models import Learner
from .services import SESSION_KEY, carry_over


def carry_over_on_login(sender: Any, *, request: HttpRequest | None, user: AbstractBaseUser,
                        **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    raw = request.session.pop(SESSION_KEY, None)
    if not raw:
        return
    anonymous = Learner.objects.filter(pk=raw, user__isnull=True).first()
    if anonymous is not None:
        carry_over(anonymous=anonymous, user=user)
