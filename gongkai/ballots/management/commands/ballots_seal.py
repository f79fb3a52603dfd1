"""Finish every closed vote whose ballots are not yet sealed and counted (a failed close), and
check that no box of a closed vote is left in the holding table.

``poll_close`` seals and counts at once, retrying a few times; when that still fails (the
holding table could not be locked, the database went away…) the vote stays closed and
uncounted, the error is logged, and the union office sees it on the vote's page. This
command retries those votes. Run it from a timer (every few minutes is cheap: one query when
there is nothing to do); it exits with status 1 when anything is still unfinished, so the
timer's failure shows in the system's own monitoring. On SQLite it also checkpoints the
write-ahead log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongkai.ballots.services import SealingFailed, finish_close, unfinished_polls
from gongkai.core import holding


class Command(BaseCommand):
    help = "Seal and count closed votes whose sealing failed; exit 1 if any is left."

    def handle(self, *args: Any, **options: Any) -> None:
        failed: list[int] = []
        done = 0
        for poll_id in unfinished_polls():
            try:
                finish_close(poll_id)
            except SealingFailed:
                failed.append(poll_id)
            else:
                done += 1
        if not holding.checkpoint_or_log():
            raise CommandError("The SQLite write-ahead log could not be checkpointed (busy).")
        if failed:
            raise CommandError(
                f"Sealed and counted {done} votes; still failing: "
                + ", ".join(str(pk) for pk in failed)
                + " (see the log)."
            )
        self.stdout.write(f"Sealed and counted {done} votes; none left.")
