"""Forms: signing up (the log-in form is Django's own)."""

from __future__ import annotations

from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """A username and a password twice; nothing else is asked of a learner."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
