"""The test queue's tasks scheduled for later (retries, quiet hours, delays).

In tests Huey runs in immediate mode on an in-memory store: a task enqueued now runs at
once, a task scheduled for later (``schedule(delay=…)``, ``eta=…``, Huey's own retries)
waits in ``HUEY.scheduled()`` until :func:`run_scheduled` runs it. The store lives as long
as the process, so use the ``empty_queue`` fixture (import it into the test module) to start
and end each test with nothing waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from gongkai.core.queue import HUEY

# Naive UTC, as Huey keeps its etas (utc=True).
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC).replace(tzinfo=None)
EARLIEST = datetime(1, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def scheduled_count() -> int:
    return int(HUEY.scheduled_count())


def clear() -> None:
    """Forget every task waiting, every lock and every result."""
    HUEY.flush()


def run_scheduled(*, rounds: int = 20, clock: Any = None) -> int:
    """Execute every task waiting in ``HUEY.scheduled()``, earliest first, then the ones
    they schedule in turn, up to ``rounds`` rounds; returns how many ran. Tasks still waiting
    after the last round stay in the schedule (check :func:`scheduled_count`).

    ``clock``: a ``time_machine`` traveller (``with time_machine.travel(...) as clock``).
    Before each task the clock is moved forward to the task's time, never back, so a task
    that checks the time (a delivery's ``not_before``) finds its moment come. Without a
    clock the tasks run now, whatever their time."""
    ran = 0
    for _round in range(rounds):
        waiting = HUEY.read_schedule(FAR_FUTURE)  # takes them out of the schedule
        if not waiting:
            break
        waiting.sort(key=lambda task: task.eta or EARLIEST)
        for task in waiting:
            now = datetime.now(UTC).replace(tzinfo=None)
            eta = task.eta
            if clock is not None and eta is not None and eta > now:
                clock.move_to(eta.replace(tzinfo=UTC))
                now = datetime.now(UTC).replace(tzinfo=None)
            HUEY.execute(task, timestamp=max(now, eta) if eta is not None else now)
            ran += 1
    return ran


@pytest.fixture
def empty_queue() -> Iterator[None]:
    """Nothing scheduled before the test, nothing left for the next one."""
    clear()
    yield
    clear()
