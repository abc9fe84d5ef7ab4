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

# SQLite's usual test database is in memory with a shared cache, where two threads writing at
# once fail at once with "database table is locked". The websockets' database calls run on a
# pool of threads (podlab/core/db.py), so the tests use a file instead, where a writer waits
# for the other's lock as it does in production (WAL, busy timeout).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import atexit
    import contextlib
    import tempfile

    _shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(_shm, f"podlab-test-{os.getpid()}.sqlite3")}

    def _remove_test_database_files(name: str = DATABASES["default"]["TEST"]["NAME"]) -> None:  # noqa: F405
        for suffix in ("", "-wal", "-shm"):  # the test runner removes only the first
            with contextlib.suppress(OSError):
                os.remove(name + suffix)

    atexit.register(_remove_test_database_files)
