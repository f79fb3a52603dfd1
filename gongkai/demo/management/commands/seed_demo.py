from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from gongkai.demo import (
    assessment,
    ballots,
    congress,
    publicity,
    reporting,
    supervision,
    surveys,
    voice,
)
from gongkai.demo.disclosure import seed_disclosures
from gongkai.demo.org import demo_exists, seed_org
from gongkai.notify import reminders
from gongkai.notify.services import in_app_only

# The later parts, in the order their demo data builds on each other.
PARTS = (
    ("voice", voice.seed),
    ("publicity", publicity.seed),
    ("reporting", reporting.seed),
    ("surveys", surveys.seed),
    ("congress", congress.seed),
    ("ballots", ballots.seed),
    ("supervision", supervision.seed),
    ("assessment", assessment.seed),
)


class Command(BaseCommand):
    help = "Load the demo company (deterministic). Refuses to touch a database that has data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already holds units.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_exists():
            if options["if_empty"]:
                self.stdout.write("The database already holds data; demo not loaded.")
                return
            raise CommandError(
                "The database already holds data; seed_demo only fills an empty one."
            )
        # The demo's past year is history: its notices stay in the site (in-app), nobody is
        # e-mailed or posted to about it today.
        with transaction.atomic(), in_app_only():
            counts = seed_org()
            self.stdout.write(
                "Demo company loaded: {units} units, {employees} employees, {roles} roles.".format(
                    **counts
                )
            )
            counts = seed_disclosures()
            self.stdout.write(
                "Disclosures loaded: {disclosures} published ({late} late), "
                "{attestations} nothing-to-report attestations.".format(**counts)
            )
            for part, seed in PARTS:
                seeded = seed()
                if seeded:
                    summary = ", ".join(f"{value} {key}" for key, value in seeded.items())
                    self.stdout.write(f"{part}: {summary}.")
        # What the worker's hourly scan would send today, so that the demo logins find their
        # reminders and escalations at once (and the e-mails and robot posts follow).
        sent = reminders.scan(timezone.localdate())
        self.stdout.write(f"Reminders and escalations of today: {sent} notices.")
        self.stdout.write(self.style.SUCCESS("Demo company ready."))
