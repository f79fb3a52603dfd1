"""``manage.py witness_key create [--if-missing] [--name NAME]`` writes this installation's
witness key (a C2SP cosignature key, type 0x04) to ``LEDGER_WITNESS_KEY_FILE`` (mode 0600;
never into the database) and prints its verifier key; ``manage.py witness_key show`` prints
the verifier key of the key in use, to give to the logs this installation witnesses. See
gongkai.ledger.witness."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.core.tlog import notes
from gongkai.ledger import witness


class Command(BaseCommand):
    help = "Create this installation's witness key, or show its public verifier key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "show"])
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="create: do nothing when a key is already configured (for install scripts)",
        )
        parser.add_argument(
            "--name",
            default="",
            help="create: the key's name (default: the host of LEDGER_ORIGIN and /witness)",
        )

    def handle(self, *args: Any, action: str, if_missing: bool, name: str, **options: Any) -> None:
        if action == "show":
            try:
                self.stdout.write(witness.witness_signer().verifier.encode())
            except (witness.NoWitnessKey, notes.NoteError) as missing:
                raise CommandError(str(missing)) from None
            return
        path = witness.witness_key_file()
        if settings.LEDGER_WITNESS_KEY or path.exists():
            if if_missing:
                return
            where = "LEDGER_WITNESS_KEY" if settings.LEDGER_WITNESS_KEY else str(path)
            raise CommandError(
                f"a witness key is already configured ({where}); a witness that changes its "
                "key must give the new verifier key to every log it witnesses"
            )
        try:
            path, vkey = witness.create_witness_key_file(name or witness.default_witness_name())
        except notes.NoteError as bad:
            raise CommandError(str(bad)) from None
        self.stdout.write(f"wrote the witness key to {path} (keep it secret, back it up)")
        self.stdout.write(f"verifier key: {vkey}")
