"""Settings for the test suite: the real settings, with a test secret and DEBUG off."""

import os

os.environ.setdefault("SECRET_KEY", "podlab-test-suite-secret-key-0123456789abcdef")
os.environ.setdefault("SECURE_COOKIES", "0")

from podlab.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
