"""Finish every closed vote whose ballots are not yet sealed and counted (a failed close), and
check that no box of a closed vote is left in the holding table; on SQLite, checkpoint the
write-ahead log.

The queue does this every five minutes (``gongkai.ballots.tasks.seal_unfinished``); this
command runs the same thing now. It exits with status 1 when anything is still unfinished.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongkai.ballots.tasks import finish_unfinished


class Command(BaseCommand):
    help = "Seal and count closed votes whose sealing failed; exit 1 if any is left."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = finish_unfinished()
        if outcome.problem:
            raise CommandError(outcome.problem)
        self.stdout.write(f"Sealed and counted {outcome.done} votes; none left.")
