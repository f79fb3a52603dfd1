from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gongkai.accounts.models import User
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
from gongkai.demo.calendar import ReminderDays, reminder_days
from gongkai.demo.disclosure import seed_disclosures
from gongkai.demo.org import DEMO_LOGINS, demo_exists, seed_org
from gongkai.notify import reminders
from gongkai.notify.services import in_app_only

SHOWN = 5  # recipients named per reminder; the rest are counted

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
        self.remind(reminder_days())
        self.stdout.write(self.style.SUCCESS("Demo company ready."))

    def remind(self, days: ReminderDays) -> None:
        """What the worker's hourly scan sends today, sent now, so that the demo logins find
        their reminders and escalations at once (the e-mails and robot posts follow through
        the queue), each listed with its reason. On a rest day nothing is sent: what the
        next working day's scan will send is listed instead."""
        today, day = days.today, days.scan_on
        if day == today:
            sent = count = 0
            for batch in reminders.plan(today):
                count += len(batch)
                self.explain(batch)
                sent += reminders.deliver(batch, today=today)
            self.stdout.write(
                f"Reminders and escalations sent today ({today}): {count}, as {sent} notices "
                "in the site; the worker sends their e-mails (and posts to the units' chat "
                "robots, where configured)."
            )
            later = days.calendar.add_working_days(today, 1)
        else:
            count = 0
            for batch in reminders.plan(day):
                count += len(batch)
                self.explain(batch)
            self.stdout.write(
                f"Today ({today}) is not a working day: no reminder is sent today. "
                f"On the next working day, {day}, the worker sends the {count} reminders and "
                f"escalations listed above; list them with: "
                f"manage.py reminders --dry-run --date {day}"
            )
            later = days.calendar.add_working_days(day, 1)
        self.stdout.write(
            f"The reminders of the following days: manage.py reminders --dry-run --date {later}"
        )

    def explain(self, batch: list[reminders.Planned]) -> None:
        """One line per reminder: the deadline, the stage, who is told (the demo logins
        first) and why."""
        ids = {pk for planned in batch for pk in planned.people}
        names = dict(User.objects.filter(pk__in=ids).values_list("pk", "employee_no"))
        logins = {d.login for d in DEMO_LOGINS}
        for planned in batch:
            d = planned.deadline
            who = sorted(
                (names.get(pk, str(pk)) for pk in planned.people),
                key=lambda name: (name not in logins, name),
            )
            told = ", ".join(who[:SHOWN]) + (f" (+{len(who) - SHOWN})" if len(who) > SHOWN else "")
            robots = " + unit robots" if planned.robots else ""
            self.stdout.write(
                f"  {d.kind} {d.key}, {planned.stage}, due {d.due}: "
                f"to {told or '(nobody holds the role)'}{robots}: {planned.reason}"
            )
