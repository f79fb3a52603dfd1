"""Settings shared by every environment; everything that differs comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GONGKAI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# A rotated-out SECRET_KEY stays here (comma-separated) until open votes are closed and the
# current report window is released: sealed boxes, receipt codes and sessions still open
# under it (README, "Keys").
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "gongkai.core",
    "gongkai.audit",
    "gongkai.accounts",
    "gongkai.org",
    "gongkai.policy",
    "gongkai.ledger",
    "gongkai.search",
    "gongkai.notify",
    "gongkai.disclosure",
    "gongkai.voice",
    "gongkai.publicity",
    "gongkai.reporting",
    "gongkai.surveys",
    "gongkai.congress",
    "gongkai.ballots",
    "gongkai.supervision",
    "gongkai.assessment",
    "gongkai.demo",
    "gongkai.api",
    "gongkai.ops",
    "ninja",  # its Swagger UI served from our static files (no CDN)
]

MIDDLEWARE = [
    # First: the request id and the access line (gongkai.core.requestid), then the request
    # metrics (gongkai.ops.metrics), so that both cover the whole answer.
    "gongkai.core.requestid.RequestContextMiddleware",
    "gongkai.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gongkai.core.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongkai.core.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gongkai.core.security.RefuseNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "gongkai.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A rate limit that cannot be checked (Redis down) refuses its page with 503.
    "gongkai.core.limits.UnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gongkai" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongkai.policy.context_processors.policy",
                "gongkai.notify.context_processors.notifications",
            ],
            "builtins": [
                "gongkai.policy.templatetags.policy",
                "gongkai.core.templatetags.formatting",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite (in var/) is the embedded default; production sets DATABASE_URL to PostgreSQL.
SQLITE_OPTIONS = {
    # WAL journal, synchronous=NORMAL, IMMEDIATE transactions and a 20 s busy timeout: measured
    # to accept 2,000 concurrent ballots where Django's defaults failed hundreds
    # (docs/BENCHMARKS.md, ballots).
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=20000;"
    ),
}


def database_from_env(default_sqlite: Path) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{default_sqlite}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        config["CONN_MAX_AGE"] = 0
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_env(VAR_DIR / "gongkai.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# manage.py flush may empty the append-only tables (audit log, ledger, published records)
# only where this is on: the test settings, whose transactional tests flush between tests
# (gongkai.core.immutable). Never in production.
FLUSH_APPEND_ONLY_TABLES = False

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down is an empty cache, not a 500 (gongkai.core.cache).
            "BACKEND": "gongkai.core.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "gongkai",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate limits (gongkai.core.limits): atomic counters every worker shares. Redis when REDIS_URL
# is set; otherwise a small SQLite file of their own in var/ (not the main database; nothing
# in it needs a backup). LIMITS_URL names another store (redis://… or sqlite:///path).
LIMITS_URL = os.environ.get("LIMITS_URL") or REDIS_URL or f"sqlite:///{VAR_DIR / 'limits.sqlite3'}"
# Which request.META key holds the client's address (behind a proxy the header it sets, e.g.
# HTTP_X_REAL_IP) for the per-client login limit; the address itself is never stored.
CLIENT_ADDRESS_META = os.environ.get(
    "CLIENT_ADDRESS_META", os.environ.get("REPORTING_CLIENT_ADDRESS_META", "REMOTE_ADDR")
)

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("employee_no", "name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (gongkai.accounts.services; docs/SECURITY.md). Per account: this many
# guesses, counted before the password is checked; then a pause before each further guess,
# LOGIN_DELAY_SECONDS doubling up to LOGIN_LOCKOUT_SECONDS; the count starts again after a
# success, the union office's unlock, or LOGIN_FAILURE_RESET_SECONDS without a guess.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_DELAY_SECONDS = int(os.environ.get("LOGIN_DELAY_SECONDS", "60"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
LOGIN_FAILURE_RESET_SECONDS = int(os.environ.get("LOGIN_FAILURE_RESET_SECONDS", "86400"))
# Per client address, across all accounts: wrong passwords per window (never on /report/).
LOGIN_CLIENT_FAILURE_LIMIT = int(os.environ.get("LOGIN_CLIENT_FAILURE_LIMIT", "30"))
LOGIN_CLIENT_WINDOW_SECONDS = int(os.environ.get("LOGIN_CLIENT_WINDOW_SECONDS", "3600"))
# A browser that has signed in to an account keeps a signed cookie for it (path
# /accounts/login/ only): there the account's pauses and the per-client limit do not apply,
# only the same schedule counted for that browser alone.
LOGIN_DEVICE_COOKIE_NAME = "gongkai_device"
LOGIN_DEVICE_COOKIE_AGE = int(os.environ.get("LOGIN_DEVICE_COOKIE_AGE", str(180 * 24 * 3600)))
# A new password may not be the current one (e.g. the union office's temporary password)
# nor one of this many before it (their hashes are kept, never the passwords).
PASSWORD_HISTORY_COUNT = int(os.environ.get("PASSWORD_HISTORY_COUNT", "5"))

# --- Directory sign-in: LDAP / Active Directory (gongkai.accounts.directory) ---------------
# Off unless AUTH_LDAP_SERVER_URI is set (ldap://host, ldaps://host:636); it then needs the
# `directory` extra (django-auth-ldap). README "Directory sign-in" explains each setting.
# SERVER_URI, BIND_DN, BIND_PASSWORD and START_TLS are django-auth-ldap's own; the backend
# builds its searches, group type and connection options from the others.
AUTH_LDAP_SERVER_URI = os.environ.get("AUTH_LDAP_SERVER_URI", "")
AUTH_LDAP_BIND_DN = os.environ.get("AUTH_LDAP_BIND_DN", "")  # a read-only service account
AUTH_LDAP_BIND_PASSWORD = os.environ.get("AUTH_LDAP_BIND_PASSWORD", "")
AUTH_LDAP_START_TLS = env_bool("AUTH_LDAP_START_TLS", False)
AUTH_LDAP_CA_FILE = os.environ.get("AUTH_LDAP_CA_FILE", "")  # the directory's CA (PEM)
AUTH_LDAP_TIMEOUT = float(os.environ.get("AUTH_LDAP_TIMEOUT", "5"))  # seconds, connect and ask
AUTH_LDAP_USER_SEARCH_BASE = os.environ.get("AUTH_LDAP_USER_SEARCH_BASE", "")
AUTH_LDAP_USER_FILTER = os.environ.get("AUTH_LDAP_USER_FILTER", "(uid=%(user)s)")
AUTH_LDAP_EMPLOYEE_NO_ATTR = os.environ.get("AUTH_LDAP_EMPLOYEE_NO_ATTR", "employeeNumber")
AUTH_LDAP_DISABLED_FILTER = os.environ.get("AUTH_LDAP_DISABLED_FILTER", "")
AUTH_LDAP_NAME_ATTR = os.environ.get("AUTH_LDAP_NAME_ATTR", "")  # empty: the roster's name
AUTH_LDAP_EMAIL_ATTR = os.environ.get("AUTH_LDAP_EMAIL_ATTR", "")  # empty: never refreshed
AUTH_LDAP_GROUP_SEARCH_BASE = os.environ.get("AUTH_LDAP_GROUP_SEARCH_BASE", "")
# groupOfNames, groupOfUniqueNames, nestedGroupOfNames, activeDirectory, nestedActiveDirectory
# (named apart from django-auth-ldap's AUTH_LDAP_GROUP_TYPE, which holds a class instance).
AUTH_LDAP_GROUP_TYPE_NAME = os.environ.get("AUTH_LDAP_GROUP_TYPE", "groupOfNames")
# JSON: [{"group": "cn=…,ou=groups,dc=…", "role": "unit_head", "unit": "<unit code>"}, …]
AUTH_LDAP_GROUP_ROLES = os.environ.get("AUTH_LDAP_GROUP_ROLES", "")
AUTHENTICATION_BACKENDS = (
    [
        "gongkai.accounts.directory.DirectoryBackend",
        "gongkai.accounts.backends.LocalPasswordBackend",
    ]
    if AUTH_LDAP_SERVER_URI
    else ["django.contrib.auth.backends.ModelBackend"]
)
# --- (end of directory sign-in) --------------------------------------------------------------

SESSION_COOKIE_AGE = 12 * 60 * 60  # one shift plus handover
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# The JSON API's callers are programs: without the switcher's cookie, their Accept-Language.
ACCEPT_LANGUAGE_PATHS = ("/api/v1/",)
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))  # longest a token lasts
LOCALE_PATHS = [BASE_DIR / "gongkai" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
FORMAT_MODULE_PATH = ["gongkai.core.formats"]  # ISO date input values in every language
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "gongkai" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads: a roster of 100,000 employees is well under this; anything bigger is refused.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Security headers (the production file turns on the HTTPS-only ones) ----------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# --- Background work (Huey) ------------------------------------------------------------------
# A background job whose worker sent no heartbeat for this long is taken for dead (killed,
# restarted, out of memory) and run again by the next sweep (gongkai.core.jobs).
JOBS_STALE_AFTER_SECONDS = int(os.environ.get("JOBS_STALE_AFTER_SECONDS", "600"))
# One queue for everything slow or scheduled (gongkai.core.queue). With REDIS_URL: Huey's Redis
# storage, shared by every worker of every server; otherwise a SQLite file in var/ that the one
# worker `make run` starts beside the web server reads. Tests run tasks at once (immediate).
HUEY = {
    "name": "gongkai",
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "huey.sqlite3")},
    "consumer": {
        "workers": int(os.environ.get("HUEY_WORKERS", "2")),
        "worker_type": "thread",
        "periodic": True,
        "check_worker_health": True,
        # With the SQLite storage the worker polls: never wait more than a second between
        # polls (Huey's default backs off to 10 s when idle).
        "max_delay": 1.0,
        # A worker killed while holding a task lock would leave it held for good; every
        # locked task is also safe to run twice at once, so a starting worker clears them.
        "flush_locks": True,
    },
}

# --- Notices: e-mail and chat robots (gongkai.notify) ----------------------------------------
# E-mail goes out through SMTP when EMAIL_HOST is set (Django's own setting names); without
# it, mails are written to the worker's log (the console backend), as on `make run`.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gongkai@localhost")
# Notices also go by e-mail to people who have an address and have not turned it off.
EMAIL_NOTIFICATIONS = env_bool("EMAIL_NOTIFICATIONS", True)
SITE_URL = os.environ.get("SITE_URL", "")
# How long a chat robot or webhook may take to answer, in seconds.
ROBOT_TIMEOUT = float(os.environ.get("ROBOT_TIMEOUT", "10"))
# A delivery is tried this many times, the waits doubling from NOTIFY_RETRY_DELAY seconds.
NOTIFY_ATTEMPTS = int(os.environ.get("NOTIFY_ATTEMPTS", "6"))
NOTIFY_RETRY_DELAY = int(os.environ.get("NOTIFY_RETRY_DELAY", "30"))
# The daily digest is sent at this hour (site time).
NOTIFY_DIGEST_HOUR = int(os.environ.get("NOTIFY_DIGEST_HOUR", "17"))

# --- Reminders and escalations (gongkai.notify.reminders) ------------------------------------
# The first reminder goes this many working days before a deadline (a catalog entry may set
# its own), one on the day; an overdue deadline goes to the unit's head after
# REMINDER_ESCALATE_HEAD working days and to the union office after REMINDER_ESCALATE_UNION.
REMINDER_DAYS_BEFORE = int(os.environ.get("REMINDER_DAYS_BEFORE", "3"))
# Per kind of deadline, e.g. "suggestion=2,survey=1,vote=1" (kinds: obligation, suggestion,
# motion, window, finding, rectification, survey, vote).
REMINDER_DAYS_BEFORE_BY_KIND: dict[str, int] = {
    kind.strip(): int(days)
    for kind, _sep, days in (
        item.partition("=") for item in env_list("REMINDER_DAYS_BEFORE_BY_KIND", [])
    )
}
REMINDER_ESCALATE_HEAD = int(os.environ.get("REMINDER_ESCALATE_HEAD", "1"))
REMINDER_ESCALATE_UNION = int(os.environ.get("REMINDER_ESCALATE_UNION", "3"))
# The daily scan runs at this hour (site time), on working days only.
REMINDER_HOUR = int(os.environ.get("REMINDER_HOUR", "8"))

# --- The transparency log (gongkai.ledger.transparency, gongkai.core.tlog) ------------------
# The origin line of the publication log's checkpoints, also the name of the signing key: a
# URL without its scheme naming this installation's log. Set it once and keep it: witnesses
# and auditors know the log by it.
LEDGER_ORIGIN = os.environ.get("LEDGER_ORIGIN") or (
    f"{urlparse(SITE_URL).netloc or 'localhost'}/ledger"
)
# The checkpoint signing key (a signed-note Ed25519 key string), kept outside the database:
# in the environment (LEDGER_SIGNING_KEY) or in a file (`manage.py ledger_key create`).
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY", "")
LEDGER_SIGNING_KEY_FILE = Path(
    os.environ.get("LEDGER_SIGNING_KEY_FILE", VAR_DIR / "ledger-signing.key")
)
# Verifier keys of earlier signing keys (after a rotation), still shown on the ledger page.
LEDGER_PREVIOUS_VERIFIER_KEYS = env_list("LEDGER_PREVIOUS_VERIFIER_KEYS", [])
# This installation as a witness of other logs (gongkai.ledger.witness): its cosignature key,
# kept outside the database, in the environment or a file (`manage.py witness_key create`).
LEDGER_WITNESS_KEY = os.environ.get("LEDGER_WITNESS_KEY", "")
LEDGER_WITNESS_KEY_FILE = Path(
    os.environ.get("LEDGER_WITNESS_KEY_FILE", VAR_DIR / "ledger-witness.key")
)
# How long a witness may take to answer, in seconds.
LEDGER_WITNESS_TIMEOUT = float(os.environ.get("LEDGER_WITNESS_TIMEOUT", "10"))

# --- Logs and metrics (gongkai.core.logs, gongkai.core.requestid, gongkai.ops.metrics) -------
# json: one JSON object per line, for a log collector (production's default); plain: for a
# terminal (elsewhere). Every line written during a request carries its request id (the
# proxy's X-Request-ID when well formed, else a new one; sent back in X-Request-ID) and the
# signed-in user's id; each request writes one "request finished" line (logger
# gongkai.request, INFO) with method, path (no query string), status and duration.
LOG_FORMATS = ("json", "plain")


def log_format(default: str) -> str:
    value = os.environ.get("LOG_FORMAT", default).strip().lower()
    if value not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}.")
    return value


LOG_FORMAT = log_format("plain")
# The anonymous reporter's pages (gongkai.reporting; path prefixes): no access line, no
# request id or user id on any line, no X-Request-ID header, not in the request metrics
# (docs/SECURITY.md). The inspectors' pages below them are ordinary pages.
ANONYMOUS_PAGES = ["/report/"]
ANONYMOUS_PAGES_EXCEPT = ["/report/inbox/"]
# /metrics (gongkai.ops) answers only "Authorization: Bearer <METRICS_TOKEN>"; unset: 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Optionally only from these networks too (CIDR, comma-separated), the client address read
# as CLIENT_ADDRESS_META says; others get 404.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", [])

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "gongkai.core.logs.PlainFormatter"},
        "json": {"()": "gongkai.core.logs.JsonFormatter"},
    },
    "filters": {
        # The request id and the signed-in user's id on every line written during a request.
        "context": {"()": "gongkai.core.logs.RequestContext"},
        # Refused requests (403, 400) are logged as one line, never with a traceback
        # (gongkai.core.logs): on the loggers that write them, and on the handler for the
        # django.security.* loggers below them.
        "refusals": {"()": "gongkai.core.logs.RefusalsWithoutTraceback"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry client addresses; gongkai never writes them itself.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.request": {"filters": ["refusals"]},
        "django.security": {"filters": ["refusals"]},
        # Huey's INFO lines time every task: for the release of anonymous reports, whether a
        # window held any. Warnings and errors only.
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Anonymous reporting: which request header holds the client address for the submission
# rate limit (behind a proxy, e.g. HTTP_X_REAL_IP); the address itself is never stored.
REPORTING_CLIENT_ADDRESS_META = os.environ.get("REPORTING_CLIENT_ADDRESS_META", "REMOTE_ADDR")
