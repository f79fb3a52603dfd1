"""Release the reports and additions sent online whose release window has ended: they reach
the inspectors' inbox, each window's reports in a random order, all stamped with this
release's transaction id (gongkai.reporting.release). Then check that no held box is left
behind in the holding table.

The queue does this at the start of every window (``gongkai.reporting.tasks.release_due``:
every hour with the default ``REPORTING_RELEASE_SECONDS``); this command runs the same thing
now. Exits with status 1 when the release fails after its retries (the error is logged,
without any content). ``--all`` releases even what is not due yet (which dates those reports
more finely: avoid it).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.reporting.tasks import ReleaseIncomplete, release_now


class Command(BaseCommand):
    help = "Release the held reports whose window has ended (the queue does it every window)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="Release everything held, due or not."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = release_now(everything=options["all"])
        except ReleaseIncomplete as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Released {done.reports} reports and {done.additions} additions; "
            f"{done.kept} not due yet."
        )
