"""Rows the site keeps for itself (not for a lesson or a room)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInFailure(models.Model):
    """Failed sign-ins counted under one throttle key until ``expires_at`` (see ``throttle``):
    in the database, every process of a deployment counts together without Redis."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("failed sign-in count")
        verbose_name_plural = _("failed sign-in counts")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
