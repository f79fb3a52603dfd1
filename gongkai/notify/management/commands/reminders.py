"""List or send the reminders and escalations of a day.

``reminders --date 2026-12-10 --dry-run`` prints what the scan would send on that date: each
deadline's kind and key, the stage, the due date, the recipients and why, and whether the
unit's chat robots hear it, without writing or sending anything. Without ``--dry-run`` it
sends them (what the hourly task does; stages already sent are never sent again).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.workdays import is_working_day
from gongkai.notify import reminders


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "List (--dry-run) or send the reminders and escalations of a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=parse_day, help="the day (default: today)")
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be sent; send nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today: date = options["date"] or timezone.localdate()
        if not is_working_day(today):
            self.stdout.write(f"{today}: not a working day; no reminders are sent.")
            return
        if not options["dry_run"]:
            sent = reminders.scan(today)
            self.stdout.write(f"{today}: {sent} notices sent.")
            return
        count = 0
        for batch in reminders.plan(today):
            ids = {pk for planned in batch for pk in planned.people}
            names = dict(User.objects.filter(pk__in=ids).values_list("pk", "employee_no"))
            for planned in batch:
                count += 1
                d = planned.deadline
                who = ", ".join(sorted(names.get(pk, str(pk)) for pk in planned.people))
                self.stdout.write(
                    f"{d.kind}\t{d.key}\t{planned.stage}\tdue {d.due}\t"
                    f"to: {who or '(nobody holds the role)'}"
                    f"{' + unit robots' if planned.robots else ''}\t{planned.reason}\t"
                    f"{planned.message}"
                )
        self.stdout.write(f"{today}: {count} reminders would be sent (dry run, nothing sent).")
