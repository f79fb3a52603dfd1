"""Rewrite the last days' report rows so that the database's own bookkeeping no longer
dates them to the second.

PostgreSQL stamps every row version with the id of the transaction that wrote it (``xmin``).
Transaction ids grow with time and are shared by every table, so a report's ``xmin`` placed
between the ``xmin`` of two audit events (which carry a precise time) dates the report to
within minutes, although the report itself stores only the day. Rewriting the rows (an
UPDATE that changes nothing visible) gives them this command's transaction id instead; the
old row versions are then removed by VACUUM, which this command runs on PostgreSQL.

Run it once a day, after midnight (a systemd timer or cron: ``manage.py reporting_blur``).
SQLite has no such stamp; its hidden ``rowid`` only orders reports among themselves.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from gongkai.reporting.models import Evidence, Report, ReportMessage


class Command(BaseCommand):
    help = "Rewrite recent report rows so that no database stamp dates them (run daily)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=7, help="Rewrite rows changed in the last N days."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        since = today - timedelta(days=options["days"])
        with transaction.atomic():
            reports = Report.objects.filter(updated_on__gte=since)
            ids = list(reports.values_list("pk", flat=True))
            n = Report.objects.filter(pk__in=ids).update(updated_on=F("updated_on"))
            m = ReportMessage.objects.filter(report_id__in=ids).update(seq=F("seq"))
            e = Evidence.objects.filter(report_id__in=ids).update(number=F("number"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Report, ReportMessage, Evidence):
                    cursor.execute(f'VACUUM "{model._meta.db_table}"')
        self.stdout.write(f"Rewrote {n} reports, {m} messages, {e} files.")
