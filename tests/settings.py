"""Settings for the test suite: the real settings, with a test secret and DEBUG off."""

import os

os.environ.setdefault("SECRET_KEY", "podlab-test-suite-secret-key-0123456789abcdef")
os.environ.setdefault("SECURE_COOKIES", "0")

from podlab.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True

# One cache per test process: sign-in failures counted by one test (or one run) must not
# throttle another. The Redis cache of podlab.settings is tested on its own
# (tests/core/test_deployment.py) and used by the production run of .ci/run.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
