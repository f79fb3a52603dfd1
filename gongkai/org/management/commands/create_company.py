from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.services import first_day_charged, unit_create


class Command(BaseCommand):
    help = "Create a company unit (optionally under a group company), before importing a roster."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="short code used in URLs, e.g. rd")
        parser.add_argument("name", help="the company's full name")
        parser.add_argument("--parent", help="code of the group company that holds it")
        parser.add_argument(
            "--charged-from",
            type=date.fromisoformat,
            help="first day of the periods it answers for (YYYY-MM-DD; default: tomorrow)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        parent = None
        if options["parent"]:
            parent = OrgUnit.objects.filter(code=options["parent"]).first()
            if parent is None:
                raise CommandError(f"No unit has code {options['parent']!r}.")
        try:
            unit = unit_create(
                actor=None,
                code=options["code"],
                name=options["name"],
                kind=UnitKind.COMPANY,
                parent=parent,
                charged_from=options["charged_from"] or first_day_charged(),
            )
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created {unit.name} ({unit.code}).")
