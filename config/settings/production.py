"""Production: PostgreSQL, HTTPS behind a proxy, everything from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, METRICS_TOKEN, REDIS_URL, SECRET_KEY, env_bool, log_format

DEBUG = False
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of 50+ characters.")
# Several workers (and servers) must share one database and one set of rate-limit counters:
# SQLite in var/ and per-process caches are for one machine's demo, not for production.
if not os.environ.get("DATABASE_URL") or DATABASES["default"]["ENGINE"] != (
    "django.db.backends.postgresql"
):
    raise ImproperlyConfigured(
        "DATABASE_URL must be set to the PostgreSQL database "
        "(postgres://user:password@host:5432/name); production does not run on SQLite."
    )
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "REDIS_URL must be set (redis://host:6379/0): the cache and the rate limits of "
        "logins and anonymous reports are shared by every worker through Redis."
    )
LIMITS_URL = REDIS_URL  # never a per-machine file in production
# Logs for a collector: one JSON object per line unless LOG_FORMAT=plain.
LOG_FORMAT = log_format("json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be a random string of 32+ characters (openssl rand -hex 32)."
    )

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The monitoring agent scrapes each app server directly (its counters are that server's):
# plain HTTP on loopback or the private network, still behind METRICS_TOKEN.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
