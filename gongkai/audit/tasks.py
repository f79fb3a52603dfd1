"""The audit log's background work: its transparency log (gongkai.audit.transparency).

Every minute the events committed since are appended to the ``audit`` log and a checkpoint
is signed at its new size; every day the whole table is compared once, for an event whose
transaction stayed open longer than the minute's scan looks back
(:data:`~gongkai.audit.transparency.SETTLE`). A periodic task is not retried: the next run
does what this one left.
"""

from __future__ import annotations

import logging

from gongkai.audit import transparency
from gongkai.core.queue import crontab, periodic
from gongkai.core.tlog.signing import NoSigningKey

logger = logging.getLogger(__name__)


def checkpoint(*, everything: bool = False) -> None:
    """Sequence the new events and sign a checkpoint (nothing new: nothing to do). Without a
    signing key the events are sequenced and the error logged: ``manage.py check`` reports
    the missing key, a failure a minute would only repeat it."""
    try:
        transparency.checkpoint(everything=everything)
    except NoSigningKey as missing:
        logger.error("%s", missing)


@periodic(crontab(minute="*"))
def audit_checkpoint_every_minute() -> None:
    """Every minute: :func:`checkpoint`."""
    checkpoint()


@periodic(crontab(minute="40", hour="18"))  # 18:40 UTC: 02:40 in Shanghai
def audit_sequence_everything_daily() -> None:
    """Every day: :func:`checkpoint` over the whole table."""
    checkpoint(everything=True)
