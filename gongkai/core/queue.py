"""The one queue for background work: Huey (``settings.HUEY``).

Everything slow or scheduled runs here, never in a request: sending notices, roster imports,
documents, reindexing, sealing, scrubbing, checkpoints. A part defines its tasks in its own
``tasks.py`` (Huey's Django integration imports every app's ``tasks`` module) with the
decorators below, which give every task the same promises:

- **retried with backoff**: ``RETRIES`` more attempts, the first after ``RETRY_DELAY``
  seconds, each wait doubling (Huey's ``retry_backoff``);
- **database connections** closed around each run (Huey's ``db_task``);
- **idempotent**: a task takes ids, not objects, reads the current state and does only what
  is still to do, so running it twice (a retry, a worker killed mid-run) changes nothing the
  second time; that is each task's own duty, and its tests run it twice;
- **failures visible**: ``gongkai.notify`` records every failed attempt and tells the union
  office when the last one fails (its ``NotifyConfig.ready()`` connects Huey's signals).

:func:`after_commit` enqueues once the caller's transaction commits, so a task never reads
a state that was rolled back or not yet written. In tests (``immediate``) the task then runs
at once in the same process; a task scheduled for later waits in memory until
``tests/queue.py`` runs it.

**When the queue's store cannot be reached** (Redis restarting) at that moment, the work is
not dropped and the request does not fail (its transaction has committed; a 500 would tell
the person their change was lost when it was not): the enqueue is kept in the process and
tried again in the background, with waits growing to ``RETRY_CAP`` seconds, for up to
``KEEP_TRYING`` seconds (and once more when the process exits). A process that dies before
the store is back loses what it kept; the periodic sweeps then find the work that lives in
the database (jobs: ``core.tasks.sweep_jobs``; deliveries: ``notify.tasks.sweep``), while a
notice's fan-out is carried only by its task (its in-app notice stays). The log says which.
"""

from __future__ import annotations

import atexit
import collections
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task
from redis import exceptions as redis_exceptions

__all__ = ["HUEY", "after_commit", "crontab", "enqueue", "lock_task", "periodic", "task"]

RETRIES = 5
RETRY_DELAY = 30  # seconds before the first retry: 30 s, 1 min, 2 min, 4 min, 8 min
BACKOFF = 2


def task(*, retries: int = RETRIES, retry_delay: int = RETRY_DELAY, **options: Any) -> Any:
    """A background task: retried with doubling waits, connections closed around each run."""
    return db_task(retries=retries, retry_delay=retry_delay, retry_backoff=BACKOFF, **options)


def periodic(schedule: Callable[..., bool], **options: Any) -> Any:
    """A task Huey's scheduler runs on ``schedule`` (a ``crontab``, in UTC: ``settings.HUEY``
    says ``utc``). A periodic task is not retried: the next run does what this one left."""
    return db_periodic_task(schedule, **options)


def after_commit(run: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``run(*args, **kwargs)`` when the current transaction commits (at once when
    there is none); kept and tried again when the queue cannot be reached (see above)."""
    transaction.on_commit(lambda: enqueue(run, *args, **kwargs))


# --- Enqueueing while the queue's store is down -----------------------------------------------

logger = logging.getLogger(__name__)

RETRY_FIRST = 0.5  # seconds before the first retry; doubling up to RETRY_CAP
RETRY_CAP = 5.0
KEEP_TRYING = 15 * 60  # seconds a kept enqueue is tried before it is given up (logged)
MAX_KEPT = 10_000  # enqueues kept per process; beyond that they are logged as lost at once


def _store_failures() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the queue's store cannot be reached", not a bug."""
    return (
        OSError,
        sqlite3.OperationalError,
        redis_exceptions.ConnectionError,
        redis_exceptions.TimeoutError,
    )


class _Kept:
    """Enqueues that failed, tried again by one daemon thread per process."""

    def __init__(self) -> None:
        self.items: collections.deque[tuple[float, Any, tuple[Any, ...], dict[str, Any]]] = (
            collections.deque()
        )
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.exit_hook = False

    def keep(self, run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with self.lock:
            if len(self.items) >= MAX_KEPT:
                logger.error(
                    "Queue unreachable and %d enqueues kept: %s lost", MAX_KEPT, _name(run)
                )
                return
            self.items.append((time.monotonic(), run, args, kwargs))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._loop, name="gongkai-queue-retry", daemon=True
                )
                self.thread.start()
            if not self.exit_hook:
                atexit.register(self.flush)
                self.exit_hook = True
        self.wake.set()

    def pending(self) -> int:
        with self.lock:
            return len(self.items)

    def flush(self) -> bool:
        """Try every kept enqueue once, in order; stop at the first that still fails. True
        when none is left."""
        while True:
            with self.lock:
                if not self.items:
                    return True
                since, run, args, kwargs = self.items[0]
            try:
                run(*args, **kwargs)
            except _store_failures():
                if time.monotonic() - since > KEEP_TRYING:
                    with self.lock:
                        self.items.popleft()
                    logger.error(
                        "Queue unreachable for %d s: %s given up (the sweeps take up jobs and "
                        "deliveries; a notice's fan-out is lost)",
                        KEEP_TRYING,
                        _name(run),
                    )
                    continue
                return False
            with self.lock:
                self.items.popleft()
                left = len(self.items)
            if not left:
                logger.warning("The queue answers again: the kept enqueues were sent.")

    def _loop(self) -> None:
        wait = RETRY_FIRST
        while True:
            self.wake.wait(wait)
            self.wake.clear()
            if self.flush():
                wait = RETRY_FIRST
                with self.lock:
                    if not self.items:
                        self.thread = None
                        return
            else:
                wait = min(wait * 2, RETRY_CAP)


_kept = _Kept()


def _name(run: Any) -> str:
    return str(getattr(run, "name", None) or getattr(run, "__name__", repr(run)))


def enqueue(run: Any, *args: Any, **kwargs: Any) -> None:
    """``run(*args, **kwargs)`` now (a Huey task: enqueue it), or kept and tried again in the
    background when the queue's store cannot be reached. In ``immediate`` mode (tests) the
    task runs here and its own exceptions are not caught."""
    if HUEY.immediate:
        run(*args, **kwargs)
        return
    if _kept.pending():  # keep the order: nothing overtakes what is waiting
        _kept.keep(run, args, kwargs)
        return
    try:
        run(*args, **kwargs)
    except _store_failures() as error:
        logger.warning(
            "The queue cannot be reached (%s: %s): %s kept, to be sent when it answers",
            type(error).__name__,
            error,
            _name(run),
        )
        _kept.keep(run, args, kwargs)
