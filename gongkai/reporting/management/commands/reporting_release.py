"""Release the reports and additions sent online whose release window has ended: they reach
the inspectors' inbox, each window's reports in a random order, all stamped with this
release's transaction id (gongkai.reporting.release). Then check that no held box is left
behind in the holding table.

Run it from a timer at the start of every window — every hour with the default
``REPORTING_RELEASE_SECONDS`` (e.g. a systemd timer ``OnCalendar=hourly`` or cron ``0 * * * *``).
Opening the inbox releases what is due too, so inspectors never wait for the timer; the timer
makes the release time independent of anyone's visit. Exits with status 1 when the release
fails after its retries (the error is logged, without any content), so the failure shows in
the system's own monitoring. ``--all`` releases even what is not due yet (which dates those
reports more finely: avoid it).

It replaces ``reporting_blur``: reports no longer carry the sender's transaction id, so
there is nothing left to blur.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.core import holding
from gongkai.reporting.release import ReleaseFailed, deliver


class Command(BaseCommand):
    help = "Release the held reports whose window has ended (run at the start of each window)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="Release everything held, due or not."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = deliver(everything=options["all"])
        except ReleaseFailed as error:
            raise CommandError(f"The release failed: {error} (see the log).") from None
        if not holding.checkpoint_or_log():
            raise CommandError("The SQLite write-ahead log could not be checkpointed (busy).")
        if done.unreadable:
            raise CommandError(
                f"{done.unreadable} held submissions cannot be opened (SECRET_KEY changed "
                "without SECRET_KEY_FALLBACKS?); they are kept."
            )
        self.stdout.write(
            f"Released {done.reports} reports and {done.additions} additions; "
            f"{done.kept} not due yet."
        )
