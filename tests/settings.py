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

# The test database of SQLite is in memory with a shared cache, where two threads writing at
# once fail with "database table is locked" instead of waiting (a file database waits). The
# websockets' database calls therefore share one thread here; the pool itself is tested with
# more threads (tests/classroom/test_room_counts.py) and on PostgreSQL.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASE_THREADS = 1
