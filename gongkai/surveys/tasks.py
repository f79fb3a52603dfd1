"""The surveys' background work: sealing the surveys whose last day has passed.

No page seals a survey any more (a GET changes nothing): an ended survey is shown as ended,
its answers waiting to be sealed, with the time the next run of :func:`seal_ended` is
expected (``services.next_sealing_run``). The union office may still close and seal a survey
at once with its close button.
"""

from __future__ import annotations

from gongkai.core.queue import crontab, periodic
from gongkai.surveys import services


def seal_ended_surveys() -> services.EndedSealing:
    """Seal every ended survey now; raises :class:`services.SealingFailed` naming the surveys
    that could not be sealed (the others are sealed all the same)."""
    outcome = services.seal_ended_surveys()
    if outcome.failed:
        raise services.SealingFailed(
            "Surveys whose last day has passed could not be sealed: "
            + ", ".join(f"survey {pk}" for pk in outcome.failed)
            + " (the error is in the log; the next run tries again)."
        )
    return outcome


@periodic(crontab(minute=f"*/{services.SEAL_EVERY_MINUTES}"))
def seal_ended() -> None:
    """Every ten minutes: seal every survey whose last day has passed (each in a transaction
    of its own; a sealed survey is left alone, so a second run changes nothing). A failure
    raises, so the queue records it and the union office is told."""
    seal_ended_surveys()
