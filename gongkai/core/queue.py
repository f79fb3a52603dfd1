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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task

__all__ = ["HUEY", "after_commit", "crontab", "lock_task", "periodic", "task"]

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
    there is none)."""
    transaction.on_commit(lambda: run(*args, **kwargs))
