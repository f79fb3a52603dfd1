from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.accounts.models import User
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import role_grant


class Command(BaseCommand):
    help = "Grant a role on a unit (and its subtree), e.g. to bootstrap the first union office."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("employee_no")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("unit_code")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(employee_no=options["employee_no"]).first()
        if user is None:
            raise CommandError(f"No account has employee number {options['employee_no']!r}.")
        unit = OrgUnit.objects.filter(code=options["unit_code"]).first()
        if unit is None:
            raise CommandError(f"No unit has code {options['unit_code']!r}.")
        try:
            role_grant(actor=None, user=user, role=options["role"], unit=unit)
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{user} is now {Role(options['role']).label} on {unit}.")
