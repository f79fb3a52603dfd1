"""The reporting part's background work: releasing the held reports at the start of every
release window (gongkai.reporting.release; read its docstring first).

:func:`release_due` runs at the start of each window and calls :func:`release.deliver`
unchanged, so every property of the release holds as before:

- **one transaction per window**: everything due is released by one transaction that writes
  nothing else (the boxes of a window all fall due at the same moment, so a window is never
  split; if the worker was down, the windows missed are released together by the next run);
- **random order**: the reports of a release are written in a random order, then the
  additions in the order sent;
- **nothing about content is logged or kept**: the task takes no argument and returns nothing
  (Huey keeps no result), it logs nothing itself, and a failure is raised with the holding
  mechanism's message, which names the class of the error only (never a value). Not even the
  number of reports released is logged: with the time of the run it would date reports more
  finely than the inbox does.

A run with nothing due writes nothing (idempotent). A release that fails after its retries
raises, so the queue records the failure and the union office is told; the next window's run
releases what this one left. ``manage.py reporting_release`` runs the same thing at once.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from gongkai.core import holding
from gongkai.core.queue import crontab, periodic
from gongkai.reporting import release
from gongkai.reporting.release import Released, ReleaseFailed, deliver

HOURLY = crontab(minute="0")  # the default window: an hour (REPORTING_RELEASE_SECONDS = 3600)
CHECK_SECONDS = 60  # Huey's scheduler asks every periodic task once a minute


class ReleaseIncomplete(Exception):
    """The release failed, or left something behind (the message names no content)."""


def window_starts(moment: datetime) -> bool:
    """The release's schedule, as Huey asks it once a minute (``moment``: UTC, naive as Huey
    passes it with ``utc`` on): True when a release window began within the last minute.

    Windows are aligned on the epoch (``release.window_end``), so with the default hour this
    is the hourly crontab (minute 0, UTC); any other ``REPORTING_RELEASE_SECONDS`` is computed
    from the setting: a window start lies in (moment − 60 s, moment], which the checks, a
    minute apart, meet exactly once per window. A window of a minute or less (0: released at
    once): every minute."""
    seconds = release.window_seconds()
    if seconds == 3600:
        return bool(HOURLY(moment))
    if seconds <= CHECK_SECONDS:
        return True
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    now = aware.timestamp()
    latest_start = math.floor(now / seconds) * seconds
    return now - CHECK_SECONDS < latest_start <= now


def release_now(*, everything: bool = False) -> Released:
    """Release everything due (``everything``: all that is held, due or not; avoid it: it
    dates those reports more finely), then checkpoint SQLite's write-ahead log. Raises
    :class:`ReleaseIncomplete` when the release fails after its retries, when the log cannot
    be checkpointed, or when boxes no key opens are left."""
    try:
        done = deliver(everything=everything)
    except ReleaseFailed as error:
        raise ReleaseIncomplete(f"The release failed: {error} (see the log).") from None
    if not holding.checkpoint_or_log():
        raise ReleaseIncomplete("The SQLite write-ahead log could not be checkpointed (busy).")
    if done.unreadable:
        raise ReleaseIncomplete(
            f"{done.unreadable} held submissions cannot be opened (SECRET_KEY changed "
            "without SECRET_KEY_FALLBACKS?); they are kept."
        )
    return done


@periodic(window_starts)
def release_due() -> None:
    """At the start of every release window: release what is due (:func:`release_now`)."""
    release_now()
