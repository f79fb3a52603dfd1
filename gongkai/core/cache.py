"""The production cache: Django's Redis cache that degrades instead of failing.

Everything gongkai keeps in the cache can be computed again from the database (board bodies,
board version tokens, the reporting channels, ledger tiles), so a cache that cannot be reached
is a cache that is empty, not a reason to answer 500. With Django's own ``RedisCache`` every
page that touches the cache fails while Redis is down (restarted, failed over, out of
connections). This backend, named in ``CACHES`` instead of it, turns every failure into:

- a **miss** on read (``get`` returns the default, ``get_many`` nothing, ``has_key`` False);
- a **no-op** on write (``set``, ``add``, ``touch``, ``delete``…), with the key remembered;
- one **warning** per process per ``WARN_EVERY`` seconds (not one per request), and one line
  when the cache answers again.

**No stale entry after the outage.** A write that failed may leave an *older* value in Redis
(a ``set`` of a board's new version token, a ``delete`` of the reporting channels): once
Redis answers again that old value would be served as if current. So every key whose write
failed is remembered in the process (up to ``MAX_PENDING``) and deleted from Redis at the
first call that succeeds again; the next reader computes it afresh (a missing board token
gets a new random one, which can never bring an old body back). A process that dies before
Redis comes back loses its list; entries then go out by their own expiry (board version
tokens do not expire, so a board may show its state from before the outage until its next
change) — the log's warning says so, for the operator to flush the board keys if it matters.

Connection and socket timeouts default to ``TIMEOUT_SECONDS`` (Redis that hangs instead of
refusing must not hold a request for ever); ``OPTIONS`` in ``CACHES`` may set others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

WARN_EVERY = 60.0  # seconds between two warnings of one process while Redis is unreachable
TIMEOUT_SECONDS = 2.0
MAX_PENDING = 10_000  # keys remembered for deletion once Redis answers again
FAILURES = (RedisError, OSError)


class DegradingRedisCache(RedisCache):
    """``RedisCache`` where an unreachable Redis is an empty cache (see the module)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int | None], None] = {}  # (key, version), in order
        self._down_since: float | None = None
        self._warned_at = 0.0
        self._overflowed = False

    # --- The guard ----------------------------------------------------------------------------

    def _guard(
        self,
        call: Callable[[], T],
        fallback: T,
        *,
        stale: Iterable[tuple[str, int | None]] = (),
    ) -> T:
        """Run ``call``; on a Redis failure remember ``stale`` keys and return ``fallback``."""
        try:
            result = call()
        except FAILURES as error:
            self._failed(error, list(stale))
            return fallback
        if self._down_since is not None or self._pending:
            self._recovered()
        return result

    def _failed(self, error: BaseException, stale: list[tuple[str, int | None]]) -> None:
        now = time.monotonic()
        with self._lock:
            for item in stale:
                if len(self._pending) >= MAX_PENDING:
                    self._overflowed = True
                    break
                self._pending[item] = None
            if self._down_since is None:
                self._down_since = now
            warn = now - self._warned_at >= WARN_EVERY
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "The cache (Redis) cannot be reached: pages are computed without it (%s: %s)",
                type(error).__name__,
                error,
            )

    def _recovered(self) -> None:
        """Redis answered: delete the keys whose writes failed, then say so once."""
        with self._lock:
            pending = list(self._pending)
            overflowed, down_since = self._overflowed, self._down_since
        if pending:
            by_version: dict[int | None, list[str]] = {}
            for key, version in pending:
                by_version.setdefault(version, []).append(key)
            try:
                for version, keys in by_version.items():
                    super().delete_many(keys, version=version)
            except FAILURES:
                return  # down again: keep the list for the next success
        with self._lock:
            for item in pending:
                self._pending.pop(item, None)
            self._overflowed = False
            if self._down_since == down_since:
                self._down_since = None
        if down_since is not None:
            logger.warning(
                "The cache (Redis) answers again after %.0f s; %d entries written meanwhile "
                "were deleted%s",
                time.monotonic() - down_since,
                len(pending),
                (
                    "; more writes failed than were remembered: flush the cache's keys"
                    if overflowed
                    else ""
                ),
            )

    # --- Reads: a miss ------------------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        parent: Any = super()
        return self._guard(lambda: parent.get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        parent: Any = super()
        keys = list(keys)
        return self._guard(lambda: parent.get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        parent: Any = super()
        return self._guard(lambda: parent.has_key(key, version), False)

    # --- Writes: a no-op, the key remembered --------------------------------------------------

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        parent: Any = super()
        self._guard(
            lambda: parent.set(key, value, timeout, version),
            None,
            stale=[(key, version)],
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        parent: Any = super()
        # A failed add leaves nothing behind (it only writes where nothing was).
        return self._guard(lambda: parent.add(key, value, timeout, version), False)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        parent: Any = super()
        return self._guard(lambda: parent.touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        parent: Any = super()
        return self._guard(
            lambda: parent.delete(key, version),
            False,
            stale=[(key, version)],
        )

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        parent: Any = super()
        return self._guard(
            lambda: parent.set_many(data, timeout, version),
            [],
            stale=[(key, version) for key in data],
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        parent: Any = super()
        keys = list(keys)
        self._guard(
            lambda: parent.delete_many(keys, version),
            None,
            stale=[(key, version) for key in keys],
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            value: int = super().incr(key, delta, version)
        except FAILURES as error:
            self._failed(error, [(key, version)])
            raise ValueError(f"Key '{key}' not found (the cache cannot be reached)") from None
        if self._down_since is not None or self._pending:
            self._recovered()
        return value

    def clear(self) -> None:
        # Not guarded: clearing is an operator's act, and a failure must be seen.
        super().clear()
