"""PodLab settings. Everything that differs between machines comes from the environment.

SECRET_KEY     required when DEBUG is off
DEBUG          "1"/"true" for development (default off)
ALLOWED_HOSTS  comma separated (default: localhost names)
DATABASE_URL   default sqlite:///<repo>/db.sqlite3; postgres://... supported
REDIS_URL      when set, the channel layer is channels_redis on that server
PODLAB_CHANNEL_PREFIX  the channel layer's name prefix on Redis (default: from DATABASE_URL)
SIGN_IN_THROTTLE_STORE  cache (default with REDIS_URL) or database (default without)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=... or DEBUG=1)."
        )
    SECRET_KEY = "podlab-development-only-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "daphne",
    "podlab.core",  # before staticfiles: its collectstatic also compiles the translations
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "podlab.course",
    "podlab.lab",
    "podlab.quizzes",
    "podlab.classroom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "podlab.core.middleware.PermissionsPolicyMiddleware",
    "podlab.core.throttle.LoginThrottleMiddleware",
]

ROOT_URLCONF = "podlab.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "podlab.core.context_processors.site",
            ],
        },
    },
]

ASGI_APPLICATION = "podlab.asgi.application"
WSGI_APPLICATION = None

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    # Health checks: a connection that died with its server (a restart, a failover) is
    # replaced on its next use instead of failing one request.
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
}
#: seconds: how long a request waits for the database before it gets a clear 503
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
#: milliseconds: the longest one SQL statement may run (PostgreSQL's statement_timeout)
DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "10000"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
    })
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DATABASE_POOL_SIZE", "16"
) != "0":
    # A bounded pool per process: a room of 2,000 sockets must not open 2,000 connections
    # (PostgreSQL allows 100 by default); callers wait for a free connection instead.
    # DATABASE_POOL_SIZE=0 turns the pool off (one connection per request, closed after it).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "16")),
        # A caller waits at most this long for a connection, then gets an error (a 503 page).
        "timeout": DATABASE_CONNECT_TIMEOUT,
    }
#: threads that run the websockets' database calls (podlab/core/db.py): one query that waits
#: holds one of them, not the whole process
DATABASE_THREADS = int(os.environ.get("DATABASE_THREADS") or os.environ.get(
    "DATABASE_POOL_SIZE") or "16") or 16
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;",
         # seconds a statement waits for another connection's write lock (SQLite's busy
         # timeout), the same bound as PostgreSQL's connect timeout
         "timeout": DATABASE_CONNECT_TIMEOUT}
    )

# Lab websockets (docs/protocol.md): how many one client address may hold (counted across the
# deployment's processes in Redis with REDIS_URL, else per process: podlab/core/conncaps.py),
# and how many one server process serves in all; both are announced in lab.hello.limits.
LAB_MAX_CONNECTIONS_PER_ADDRESS = int(os.environ.get("PODLAB_LAB_CONNECTIONS_PER_ADDRESS", "64"))
LAB_MAX_CONNECTIONS = int(os.environ.get("PODLAB_LAB_CONNECTIONS", "2000"))

# Classroom joins (podlab/classroom/services.py): seats per room, new seats and wrong codes
# a minute per client address (IPv4, or IPv6 /64).
CLASSROOM_SEATS_PER_ROOM = int(os.environ.get("PODLAB_CLASSROOM_SEATS", "400"))
CLASSROOM_NEW_SEATS_PER_ADDRESS = int(os.environ.get("PODLAB_CLASSROOM_SEATS_PER_ADDRESS", "200"))
CLASSROOM_WRONG_CODES_PER_ADDRESS = int(os.environ.get("PODLAB_CLASSROOM_BAD_CODES_PER_ADDRESS",
                                                       "60"))
# Student sockets one client address may hold at once, counted like the lab's: a full room
# (400 seats) behind one NAT address, with room for second tabs and reconnects. Announced in
# the student's classroom.hello.limits.
CLASSROOM_STUDENT_CONNECTIONS_PER_ADDRESS = int(os.environ.get(
    "PODLAB_CLASSROOM_CONNECTIONS_PER_ADDRESS", "600"))

REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis database numbers do not separate pub/sub: every deployment on one Redis server sees
# every channel. The prefix does. By default it is derived from the deployment's database, so
# the processes of one deployment share it and two deployments (staging and production, CI)
# do not; set PODLAB_CHANNEL_PREFIX to choose it.
PODLAB_CHANNEL_PREFIX = os.environ.get("PODLAB_CHANNEL_PREFIX") or (
    "podlab-" + hashlib.sha256(DATABASE_URL.encode()).hexdigest()[:12] + "."
)
#: seconds: the longest a websocket waits on the channel layer (Redis) for one call
CHANNEL_LAYER_TIMEOUT = float(os.environ.get("CHANNEL_LAYER_TIMEOUT", "3"))
if REDIS_URL:
    # The pub/sub layer publishes a group message once per Daphne process (each process fans
    # it out to its own sockets), so a room of 2,000 students costs one Redis write per tick,
    # not 2,000. Messages are not queued for absent processes: rooms resynchronise from the
    # database by sequence number.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                "prefix": PODLAB_CHANNEL_PREFIX,
            },
        }
    }
    # Shared by the processes of a deployment: sign-in throttling counts across all of them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": PODLAB_CHANNEL_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
#: Where failed sign-ins are counted (podlab/core/throttle.py): ``cache`` (Redis, with
#: REDIS_URL) or ``database``; both are shared by every process of a deployment.
SIGN_IN_THROTTLE_STORE = os.environ.get("SIGN_IN_THROTTLE_STORE") or (
    "cache" if REDIS_URL else "database")
if SIGN_IN_THROTTLE_STORE not in {"cache", "database"}:
    raise ImproperlyConfigured("SIGN_IN_THROTTLE_STORE must be 'cache' or 'database'")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Under Daphne in production WhiteNoise serves from STATIC_ROOT; when nobody ran
# collectstatic (tests, a quick `daphne` run) it can fall back to the finders.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("PODLAB_STATIC_FINDERS")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LESSONS_DIR = BASE_DIR / "lessons"

# Security: strict by default, relaxed only where DEBUG needs it.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    # Sent on HTTPS responses only; browsers then refuse plain HTTP to the site for a year.
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# X-Forwarded-Proto decides whether a request is HTTPS only behind a proxy that sets it
# (TRUST_PROXY_HEADERS=1, with `daphne --proxy-headers`); a client talking to Daphne directly
# could otherwise claim HTTPS.
TRUST_PROXY_HEADERS = env_bool("TRUST_PROXY_HEADERS")
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
