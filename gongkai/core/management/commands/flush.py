"""``manage.py flush``, replacing Django's: the append-only tables (audit log, ledger,
published revisions, …) refuse DELETE and TRUNCATE, so emptying the database needs the
maintenance marker of gongkai.core.immutable. The test suite flushes between transactional
tests; its settings set ``FLUSH_APPEND_ONLY_TABLES``. Everywhere else the command refuses
before touching anything: a published record is never wiped by a mistyped command."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections
from django.utils.translation import gettext as _

from gongkai.core.immutable import maintenance


class Command(DjangoFlush):
    help = (
        "Remove all data from the database, append-only tables included. Allowed only where "
        "settings.FLUSH_APPEND_ONLY_TABLES is on (the test settings)."
    )

    def handle(self, **options: Any) -> None:
        if not getattr(settings, "FLUSH_APPEND_ONLY_TABLES", False):
            raise CommandError(
                _(
                    "The audit log, the ledger and the published records are append-only and "
                    "are never emptied; flush is allowed only where FLUSH_APPEND_ONLY_TABLES is "
                    "on (the test settings)."
                )
            )
        with maintenance(connections[options["database"]]):
            super().handle(**options)
