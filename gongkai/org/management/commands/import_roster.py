"""``manage.py import_roster FILE [--dry-run] [--company CODE]``: the HR roster import."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.roster import RosterPlan, roster_import, unit_label

LISTED_AT_MOST = 50


class Command(BaseCommand):
    help = (
        "Import employees, departments and teams from an HR roster (.xlsx or .csv with the "
        "columns 工号, 姓名, 部门, 班组, 岗位, 是否职工代表). Any error rejects the whole file."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="the roster, .xlsx or .csv (UTF-8 or GB18030)")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change; write nothing"
        )
        parser.add_argument(
            "--company", metavar="CODE", help="the company's code (default: the only company)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        path = Path(options["file"])
        data = self.read(path)
        try:
            result = roster_import(
                actor=None,
                company=company,
                data=data,
                filename=path.name,
                dry_run=options["dry_run"],
            )
        except ServiceError as error:
            raise CommandError(error.message) from error
        if result.errors:
            for problem in result.errors:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(result.errors)} error(s) in {path}; nothing was imported.")
        assert result.plan is not None  # noqa: S101 - a readable file always has a plan
        self.report(result.plan, dry_run=options["dry_run"], verbose=options["verbosity"] > 1)

    def company(self, code: str | None) -> OrgUnit:
        if code:
            unit = OrgUnit.objects.filter(code=code, kind=UnitKind.COMPANY).first()
            if unit is None:
                raise CommandError(f"No company has the code {code!r}.")
            return unit
        tops = list(OrgUnit.objects.filter(parent=None, kind=UnitKind.COMPANY, is_active=True))
        if len(tops) != 1:
            codes = ", ".join(u.code for u in tops) or "none"
            raise CommandError(f"Name the company with --company CODE (companies: {codes}).")
        return tops[0]

    def read(self, path: Path) -> bytes:
        limit = settings.UPLOAD_MAX_BYTES
        try:
            with path.open("rb") as handle:
                # One byte over the limit is enough for the import to refuse the file.
                return handle.read(limit + 1)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error

    def report(self, plan: RosterPlan, *, dry_run: bool, verbose: bool) -> None:
        out = self.stdout
        out.write(("Dry run: nothing was written. " if dry_run else "") + f"{plan.company.name}:")
        for label, names in (
            ("New departments", plan.new_departments),
            ("New teams", [unit_label(plan.company, key) for key in plan.new_teams]),
        ):
            out.write(f"  {label}: {len(names)}")
            for name in names:
                out.write(f"    + {name}")
        counts = plan.counts
        out.write(f"  New employees: {counts['employees_created']}")
        out.write(f"  Changed employees: {counts['employees_changed']}")
        if verbose:
            for change in plan.changed_employees[:LISTED_AT_MOST]:
                fields = "; ".join(f"{f}: {b} → {a}" for f, b, a in change.fields)
                out.write(f"    {change.employee_no} {change.name}: {fields}")
        out.write(f"  Unchanged employees: {counts['employees_unchanged']}")
        out.write(
            f"  Employees of the company not in the file (left unchanged): "
            f"{counts['employees_not_in_file']}"
        )
        if verbose:
            for member in plan.not_in_file[:LISTED_AT_MOST]:
                out.write(f"    {member.employee_no} {member.name} ({member.unit_label})")
        out.write(
            f"  Representatives granted: {counts['representatives_granted']}, "
            f"revoked: {counts['representatives_revoked']}"
        )
        if not dry_run:
            out.write(self.style.SUCCESS("Imported."))
