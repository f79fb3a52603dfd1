"""``manage.py verify_ledger [--head SEQUENCE:HASH …]``: recompute the publication ledger
from the records in the database, check its transparency log and the audit log's, and name
every problem. Exit status 0 and a one-line
summary when the chain is intact, 1 (CommandError) when anything is wrong. The queue runs the
same verification every day (``gongkai.ledger.tasks.verify_daily``), which raises when anything
is wrong so that the union office is told."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gongkai.audit.verification import AuditProblem, verify_audit_log
from gongkai.ledger.models import LedgerEntry
from gongkai.ledger.verification import Problem, ledger_verify

HEAD = re.compile(r"^#?(?P<sequence>[1-9]\d{0,17}):(?P<hash>[0-9a-fA-F]{64})$")


def written_head(value: str) -> tuple[int, str]:
    match = HEAD.match(value.strip())
    if not match:
        raise CommandError(
            _("--head takes SEQUENCE:HASH (a sequence number and a 64-digit hex hash), not %r")
            % value
        )
    return int(match["sequence"]), match["hash"].lower()


class Command(BaseCommand):
    help = (
        "Recompute the hash-linked publication ledger from the records as they are now and "
        "name every record whose content changed, every broken link and every missing entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="SEQUENCE:HASH",
            help="A head written down earlier (from the ledger page); it must still be there. "
            "Repeat for several.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        heads = [written_head(value) for value in options["head"]]
        # Read before verifying, so the summary names an entry the walk covered.
        last = LedgerEntry.objects.order_by("-sequence").first()
        problems: list[Problem | AuditProblem] = [
            *ledger_verify(expected_heads=heads),
            *verify_audit_log(),
        ]
        for problem in problems:
            self.stdout.write(self.style.ERROR(str(problem)))
        if problems:
            raise CommandError(
                _("%(n)d problem(s) found: the ledger does not match the records.")
                % {"n": len(problems)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(n)d entries, chain intact, head %(hash)s")
                % {"n": last.sequence if last else 0, "hash": last.entry_hash if last else "-"}
            )
        )
