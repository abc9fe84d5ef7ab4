"""Keep an anonymous learner's history when they sign up or log in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from .models import Learner
from .services import SESSION_KEY, carry_over


def carry_over_on_login(sender: Any, *, request: HttpRequest | None, user: AbstractBaseUser,
                        **kwargs: Any) -> None:
    if request is None:
        return
    from .views import quiz_pass  # views import services; a module-level import would cycle

    keys = [request.session.pop(SESSION_KEY, None)] if hasattr(request, "session") else []
    keys.append(quiz_pass(request))
    for raw in keys:
        if not raw:
            continue
        anonymous = Learner.objects.filter(pk=raw, user__isnull=True).first()
        if anonymous is not None:
            carry_over(anonymous=anonymous, user=user)
