"""One mechanism for every rate limit: atomic counters shared by all processes.

A limit is checked by *taking* a unit first — an atomic increment that returns the new count
— and giving it back when the request turns out not to count (a right password, a report
that was not sent). Two requests can never both see "4 of 5" and both go on: the store hands
out each number once, whatever the number of threads, workers or servers.

The store is named by ``settings.LIMITS_URL``:

- ``redis://…`` (production; ``REDIS_URL`` by default): ``INCRBY`` and ``PEXPIRE`` in one Lua
  script, so the increment and its expiry are a single atomic step on the server.
- ``sqlite:///path`` (the embedded default, ``var/limits.sqlite3``): a small SQLite file of
  its own, separate from the main database and never backed up; each increment is one
  ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, which SQLite runs under its
  write lock, so every gunicorn worker on the machine shares the same counters.

What is kept: counter names, counts and expiry times, and the random keys of the current
windows. A name never holds a client address, an employee number or a device token in clear:
client addresses go through HMAC-SHA256 under a random key made for each window and kept in
the store only until the window after it ends (after that nobody — not even someone holding
SECRET_KEY and a copy of the store — can tell which address a counter belonged to); other
values through HMAC-SHA256 under SECRET_KEY. Nothing of this is in the main database or a log.

**When the store cannot be reached** (Redis restarted, down, out of connections), limits fail
*closed*: taking a unit raises :class:`Unavailable`, and :class:`UnavailableMiddleware`
answers the page with 503 ("try again in a moment") instead of a 500 — a login or an
anonymous report is refused rather than let through unlimited, and nothing is written.
Giving a unit back is the one step that fails *open*: a unit not given back only makes the
limit stricter for the rest of its window, so the page that already did its work answers
normally. Signed-in pages never take a unit and keep answering.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

T = TypeVar("T")
State = dict[str, Any]
Updater = Callable[[State | None], tuple[State | None, T]]


class Unavailable(Exception):
    """The limits store cannot be reached: the limited action is refused (fail closed)."""


@dataclass(frozen=True)
class Count:
    """A counter's value after an increment, and when the counter disappears (Unix time)."""

    value: int
    expires_at: float


class Store:
    """Counters with an expiry, small JSON states and window keys; every call is atomic."""

    def add(self, key: str, ttl: int) -> Count:
        """Add one; a missing or expired counter starts at 1 and expires ``ttl`` s later."""
        raise NotImplementedError

    def take_back(self, key: str) -> None:
        """Subtract one from a live counter (never below zero; a missing one stays missing)."""
        raise NotImplementedError

    def get(self, key: str) -> int:
        raise NotImplementedError

    def update(self, key: str, change: Updater[T], ttl: int) -> T:
        """Atomically read the state under ``key`` (None when missing or expired), and store
        what ``change`` returns (None deletes) for ``ttl`` seconds. ``change`` must have no
        side effects: it may run more than once."""
        raise NotImplementedError

    def secret(self, key: str, ttl: int) -> str:
        """A random value shared by every process, made on first use, gone after ``ttl``."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def keys(self) -> list[str]:
        """Every live name (for tests and inspection)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every counter and key of this store (tests only)."""
        raise NotImplementedError


# --- SQLite -----------------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS limits (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0,
    value TEXT,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS limits_expires ON limits (expires);
"""

SQLITE_ADD = """
INSERT INTO limits (key, count, value, expires) VALUES (?, 1, NULL, ?)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN limits.expires <= ? THEN 1 ELSE limits.count + 1 END,
    value = NULL,
    expires = CASE WHEN limits.expires <= ? THEN excluded.expires ELSE limits.expires END
RETURNING count, expires
"""


class SQLiteStore(Store):
    """A SQLite file shared by every process on the machine. One connection per thread and
    process; WAL, so readers never wait; ``secure_delete``, so expired window keys are
    overwritten rather than left in free pages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # readable by this user only
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(self.path, timeout=20, isolation_level=None)
        for attempt in range(50):  # first use by several processes at once: one sets it up
            try:
                conn.execute("PRAGMA busy_timeout = 20000")
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA secure_delete = ON")
                conn.executescript(SQLITE_SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.1)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def add(self, key: str, ttl: int) -> Count:
        now = time.time()
        rows = self._connection().execute(SQLITE_ADD, (key, now + ttl, now, now)).fetchall()
        count, expires = rows[0]
        return Count(int(count), float(expires))

    def take_back(self, key: str) -> None:
        self._connection().execute(
            "UPDATE limits SET count = count - 1 WHERE key = ? AND count > 0 AND expires > ?",
            (key, time.time()),
        )

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM limits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def update(self, key: str, change: Updater[T], ttl: int) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            row = conn.execute(
                "SELECT value FROM limits WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
            state, result = change(json.loads(row[0]) if row and row[0] else None)
            if state is None:
                conn.execute("DELETE FROM limits WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO limits (key, count, value, expires) VALUES (?, 0, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                    "expires = excluded.expires",
                    (key, json.dumps(state), now + ttl),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def secret(self, key: str, ttl: int) -> str:
        conn = self._connection()
        now = time.time()
        row = conn.execute(
            "SELECT value FROM limits WHERE key = ? AND expires > ?", (key, now)
        ).fetchone()
        if row:
            return str(row[0])
        conn.execute("BEGIN IMMEDIATE")
        try:
            # A new window: forget everything that has expired, old window keys first.
            conn.execute("DELETE FROM limits WHERE expires <= ?", (now,))
            conn.execute(
                "INSERT INTO limits (key, count, value, expires) VALUES (?, 0, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, secrets.token_hex(32), now + ttl),
            )
            value = conn.execute("SELECT value FROM limits WHERE key = ?", (key,)).fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Old pages of the WAL file may still hold the deleted keys: fold it back into the
        # database (where secure_delete has zeroed them) and empty it, as far as that can be
        # done now without waiting for readers (the next window's key tries again).
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:
            pass
        finally:
            conn.execute("PRAGMA busy_timeout = 20000")
        return str(value)

    def delete(self, key: str) -> None:
        self._connection().execute("DELETE FROM limits WHERE key = ?", (key,))

    def keys(self) -> list[str]:
        rows = self._connection().execute(
            "SELECT key FROM limits WHERE expires > ? ORDER BY key", (time.time(),)
        )
        return [str(key) for (key,) in rows]

    def clear(self) -> None:
        self._connection().execute("DELETE FROM limits")


# --- Redis ------------------------------------------------------------------------------------

REDIS_ADD = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""

REDIS_TAKE_BACK = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then
    return redis.call('DECR', KEYS[1])
end
return 0
"""


# Set when a store call of the current request could not reach the store (see the middleware).
_unreachable: ContextVar[bool] = ContextVar("gongkai_limits_unreachable", default=False)


def _reachable(method: Callable[..., T]) -> Callable[..., T]:
    """A store call whose connection failure becomes :class:`Unavailable`."""

    @functools.wraps(method)
    def call(self: RedisStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (self._redis_module.ConnectionError, self._redis_module.TimeoutError) as error:
            _unreachable.set(True)
            raise Unavailable(f"The limits store cannot be reached: {error}") from error

    return call


class RedisStore(Store):
    """Redis (production): every worker and every server share it. A call that cannot reach
    it raises :class:`Unavailable` (at most ``TIMEOUT`` seconds later, one attempt)."""

    PREFIX = "gongkai:limits:"
    TIMEOUT = 2

    def __init__(self, url: str) -> None:
        import redis  # only production talks to Redis; the embedded default never loads it

        self._redis_module = redis
        # No retries inside the client: a refused login or report is better than a login
        # page that hangs for the backoff of several attempts.
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=self.TIMEOUT,
            socket_connect_timeout=self.TIMEOUT,
            retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
        )
        self._add = self.client.register_script(REDIS_ADD)
        self._take_back = self.client.register_script(REDIS_TAKE_BACK)

    def _key(self, key: str) -> str:
        return self.PREFIX + key

    @_reachable
    def add(self, key: str, ttl: int) -> Count:
        before = time.time()
        value, pttl = self._add(keys=[self._key(key)], args=[ttl * 1000])
        return Count(int(value), before + int(pttl) / 1000)

    @_reachable
    def take_back(self, key: str) -> None:
        self._take_back(keys=[self._key(key)])

    @_reachable
    def get(self, key: str) -> int:
        value = self.client.get(self._key(key))
        return int(value) if value else 0

    @_reachable
    def update(self, key: str, change: Updater[T], ttl: int) -> T:
        name = self._key(key)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    state, result = change(json.loads(raw) if raw else None)
                    pipe.multi()
                    if state is None:
                        pipe.delete(name)
                    else:
                        pipe.set(name, json.dumps(state), ex=ttl)
                    pipe.execute()
                    return result
                except self._redis_module.WatchError:
                    continue  # someone changed it meanwhile: read again

    @_reachable
    def secret(self, key: str, ttl: int) -> str:
        name = self._key(key)
        while True:
            self.client.set(name, secrets.token_hex(32), nx=True, ex=ttl)
            value = self.client.get(name)
            if value is not None:
                return value.decode() if isinstance(value, bytes) else str(value)

    @_reachable
    def delete(self, key: str) -> None:
        self.client.delete(self._key(key))

    @_reachable
    def keys(self) -> list[str]:
        names = self.client.scan_iter(match=self.PREFIX + "*", count=1000)
        return sorted(
            (n.decode() if isinstance(n, bytes) else str(n))[len(self.PREFIX) :] for n in names
        )

    @_reachable
    def clear(self) -> None:
        for name in list(self.client.scan_iter(match=self.PREFIX + "*", count=1000)):
            self.client.delete(name)


# --- The store of these settings ----------------------------------------------------------------

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def store_for(url: str) -> Store:
    scheme = urlparse(url).scheme
    if scheme in {"redis", "rediss", "unix"}:
        return RedisStore(url)
    if scheme == "sqlite":
        path = unquote(urlparse(url).path)
        if not path or path == "/":
            raise ImproperlyConfigured("LIMITS_URL: sqlite:///path/to/limits.sqlite3")
        return SQLiteStore(Path(path))
    raise ImproperlyConfigured(f"LIMITS_URL must be redis://… or sqlite:///…, not {scheme!r}.")


def store() -> Store:
    """The store ``settings.LIMITS_URL`` names (one per URL and process)."""
    url = str(settings.LIMITS_URL)
    found = _stores.get(url)
    if found is None:
        with _stores_lock:
            found = _stores.get(url) or store_for(url)
            _stores[url] = found
    return found


# --- Names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Fixed windows of ``length`` seconds since the epoch: ``index`` and when it ends."""

    length: int
    index: int

    @classmethod
    def now(cls, length: int) -> Window:
        return cls(length, int(time.time() // length))

    @property
    def ends_at(self) -> float:
        return float((self.index + 1) * self.length)


def pseudonym(purpose: str, value: str, window: Window) -> str:
    """HMAC of ``value`` under the window's random key: the same all through the window and
    in every process, unlinkable to ``value`` once the key has expired."""
    key = store().secret(f"key:{window.length}:{window.index}", ttl=2 * window.length)
    return salted_hmac(
        f"gongkai.limits.{purpose}", value, secret=key, algorithm="sha256"
    ).hexdigest()[:32]


def digest(purpose: str, value: str) -> str:
    """HMAC of ``value`` under SECRET_KEY, for names that must outlive a window."""
    return salted_hmac(f"gongkai.limits.{purpose}", value, algorithm="sha256").hexdigest()[:32]


def client_address(request: HttpRequest, meta_setting: str = "CLIENT_ADDRESS_META") -> str:
    """The client's address: ``REMOTE_ADDR``, or the ``request.META`` key the setting names
    (behind a proxy, the header it sets, e.g. ``HTTP_X_REAL_IP``). Never stored."""
    meta_key = getattr(settings, meta_setting, "REMOTE_ADDR")
    return str(request.META.get(meta_key, "")).split(",")[0].strip()


# --- Taking and giving back -------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """One unit of a limit: ``granted`` (counted; give it back if it should not count) or
    refused (nothing counted) until ``resets_at``."""

    key: str
    granted: bool
    resets_at: float


def take(key: str, limit: int, ttl: int) -> Taken:
    """Increment-and-check: granted when the count after this increment is within ``limit``.
    A refused take is given back at once, so the count never stays above the limit."""
    count = store().add(key, ttl)
    if count.value > limit:
        store().take_back(key)
        return Taken(key, False, count.expires_at)
    return Taken(key, True, count.expires_at)


def give_back(taken: Taken) -> None:
    """Give the unit back; when the store cannot be reached it stays counted (the limit is
    only stricter until its window ends) and the page goes on."""
    if not taken.granted:
        return
    try:
        store().take_back(taken.key)
    except Unavailable as error:
        logger.warning("A rate-limit unit could not be given back: %s", error)


# --- Refusing when the store is down ------------------------------------------------------------

RETRY_AFTER = 30  # seconds, in the 503 answer


UNAVAILABLE_PAGE = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>请稍后再试 · Try again in a moment</title></head>
<body><main><h1>请稍后再试 · Try again in a moment</h1>
<p>此页面暂时无法使用（它所依赖的服务正在重启），您提交的内容没有保存。请一分钟后再试。</p>
<p>This page cannot be used for a moment (a service it needs is restarting); nothing was
saved. Please try again in a minute.</p>
<p><a href="/">首页 · Home</a></p></main></body></html>
"""


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503: the page cannot check its limit now; nothing was done. Bilingual and without a
    template, like the 500 page (it must not need anything that may be failing)."""
    if request.path.startswith("/api/"):
        message = _(
            "This cannot be done for a moment (a service it needs is restarting); nothing was "
            "saved. Please try again in a minute."
        )
        response: HttpResponse = JsonResponse(
            {"code": "unavailable", "message": message, "fields": {}}, status=503
        )
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html")
    response["Retry-After"] = str(RETRY_AFTER)
    return response


class UnavailableMiddleware:
    """Answers :class:`Unavailable` with a 503 page (``settings.MIDDLEWARE``), so that a limit
    that cannot be checked refuses its page instead of crashing it. A view that turns every
    exception into its own error answer (the anonymous reporting pages do, to set their
    headers on error pages too) answers 500 instead: a 500 of a request whose limit could
    not reach the store becomes the same 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _unreachable.set(False)
        try:
            response = self.get_response(request)
            if response.status_code == 500 and _unreachable.get():
                logger.warning("Refused %s (fail closed): the limits store is down", request.path)
                refused = unavailable_response(request)
                for header in ("Cache-Control", "Referrer-Policy"):
                    if header in response:
                        refused[header] = response[header]
                response = refused
            return response
        finally:
            _unreachable.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Unavailable):
            return None
        logger.warning("Refused %s (fail closed): %s", request.path, exception)
        return unavailable_response(request)
