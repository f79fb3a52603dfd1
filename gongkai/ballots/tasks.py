"""The ballots' background work: finishing the votes whose sealing failed.

``poll_close`` seals and counts at once, retrying a few times; when that still fails (the
holding table could not be locked, the database went away…) the vote stays closed and
uncounted, the error is logged, and the union office sees it on the vote's page.
:func:`seal_unfinished` retries those votes every five minutes (one query when there is
nothing to do) and, on SQLite, checkpoints the write-ahead log so that no old page of a box
stays in it. ``manage.py ballots_seal`` runs the same thing at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.ballots.services import SealingFailed, finish_close, unfinished_polls
from gongkai.core import holding
from gongkai.core.queue import crontab, periodic


class SealingIncomplete(Exception):
    """Votes are still not sealed and counted, or the write-ahead log could not be
    checkpointed (the message names vote ids only, never a ballot)."""


@dataclass
class Finished:
    done: int = 0
    failed: list[int] = field(default_factory=list)
    checkpointed: bool = True

    @property
    def problem(self) -> str:
        """What is still wrong, or "" when nothing is."""
        if not self.checkpointed:
            return "The SQLite write-ahead log could not be checkpointed (busy)."
        if self.failed:
            return (
                f"Sealed and counted {self.done} votes; still failing: "
                + ", ".join(str(pk) for pk in self.failed)
                + " (see the log)."
            )
        return ""


def finish_unfinished() -> Finished:
    """Seal and count every closed vote whose sealing failed (each retried by
    ``finish_close``; a vote that is done is left alone, so a second run changes nothing),
    then checkpoint SQLite's write-ahead log."""
    outcome = Finished()
    for poll_id in unfinished_polls():
        try:
            finish_close(poll_id)
        except SealingFailed:
            outcome.failed.append(poll_id)
        else:
            outcome.done += 1
    outcome.checkpointed = holding.checkpoint_or_log()
    return outcome


@periodic(crontab(minute="*/5"))
def seal_unfinished() -> None:
    """Every five minutes: :func:`finish_unfinished`. Raises :class:`SealingIncomplete` while
    anything is left, so the queue records the failure and the union office is told."""
    outcome = finish_unfinished()
    if outcome.problem:
        raise SealingIncomplete(outcome.problem)
