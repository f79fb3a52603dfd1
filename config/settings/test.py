"""Test settings: fast hasher, in-memory e-mail. DATABASE_URL selects PostgreSQL."""

import atexit
import os
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import VAR_DIR, database_from_env


def _limits_dir() -> str:
    path = tempfile.mkdtemp(prefix="gongkai-test-limits-")
    atexit.register(shutil.rmtree, path, True)
    return path


SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DATABASES = {"default": database_from_env(VAR_DIR / "test.sqlite3")}
# The suite checks behaviour, not a server crash's durability: PostgreSQL need not wait for
# each commit's WAL flush (a crash of the test server could lose the last commits; nothing
# else changes). About an eighth off loading the demo.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {"options": "-c synchronous_commit=off"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run at once, in the test's own process, on an in-memory queue; tasks scheduled for
# later (retries, quiet hours) wait there until a test runs them (tests/queue.py).
HUEY = {"name": "gongkai-test", "huey_class": "huey.MemoryHuey", "immediate": True, "utc": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits: the real SQLite store in a file of this test process's own (so parallel runs
# in one checkout never share counters). Never the LIMITS_URL or REDIS_URL of the machine
# (tests empty the store); GONGKAI_TEST_LIMITS_URL names another one for a child process.
LIMITS_URL = (
    os.environ.get("GONGKAI_TEST_LIMITS_URL") or f"sqlite:///{_limits_dir()}/limits.sqlite3"
)
# Transactional tests flush the database between tests (gongkai.core.immutable).
FLUSH_APPEND_ONLY_TABLES = True
# Serve static files from the app folders (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# A fixed checkpoint key for the tests (never used anywhere else).
LEDGER_ORIGIN = "testserver/ledger"
LEDGER_SIGNING_KEY = (
    "PRIVATE+KEY+testserver/ledger+02e6269c+AXS2mZqT6UH5ObqCtiZW7+D/aljDd4ddGEVv9uKpg+cr"
)
LEDGER_VERIFIER_KEY_FOR_TESTS = (
    "testserver/ledger+02e6269c+AR01ROBUiFQI/F2M9ATupWtzpb2km36a1+Sbx8+gpo8s"
)
LEDGER_WITNESS_KEY = (
    "PRIVATE+KEY+testserver/witness+7d62ac1b+BObNLsM7S8ra/UiEczSrAOpPvNYOAtcE1fT8mMK7BXQH"
)
LEDGER_WITNESS_VERIFIER_KEY_FOR_TESTS = (
    "testserver/witness+7d62ac1b+BABUBQOO51rv8c6sifShTt3FXXjdQlafYx+o5UZoGlRw"
)
