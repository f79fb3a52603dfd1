"""``manage.py ledger_key create [--if-missing]`` writes the checkpoint signing key to
``LEDGER_SIGNING_KEY_FILE`` (mode 0600; never into the database) and prints its verifier
key; ``manage.py ledger_key show`` prints the verifier key of the key in use, for the README
of an installation, its witnesses and auditors. See gongkai.core.tlog.signing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.core.tlog import signing


class Command(BaseCommand):
    help = "Create the ledger's checkpoint signing key, or show its public verifier key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "show"])
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="create: do nothing when a key is already configured (for install scripts)",
        )

    def handle(self, *args: Any, action: str, if_missing: bool, **options: Any) -> None:
        if action == "show":
            try:
                self.stdout.write(signing.verifier_key())
            except signing.NoSigningKey as missing:
                raise CommandError(str(missing)) from None
            return
        path = signing.key_file()
        if settings.LEDGER_SIGNING_KEY or path.exists():
            if if_missing:
                return
            where = "LEDGER_SIGNING_KEY" if settings.LEDGER_SIGNING_KEY else str(path)
            raise CommandError(
                f"a signing key is already configured ({where}); a new one is a rotation: "
                "see docs/SECURITY.md"
            )
        path, vkey = signing.create_key_file(str(settings.LEDGER_ORIGIN))
        self.stdout.write(f"wrote the signing key to {path} (keep it secret, back it up)")
        self.stdout.write(f"verifier key: {vkey}")
