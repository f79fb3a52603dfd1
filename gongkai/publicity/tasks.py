"""The publicity app's background task: telling other systems that windows opened or closed
(see gongkai.publicity.events)."""

from __future__ import annotations

from django.utils import timezone

from gongkai.core.queue import crontab, lock_task, periodic
from gongkai.publicity.events import announce_windows


@periodic(crontab(minute="7"))
@lock_task("publicity-window-events")
def window_events() -> None:
    """Every hour: the outbound events of windows whose first day came or last day passed
    (each told once; a worker stopped for a few days catches up)."""
    announce_windows(timezone.localdate())
