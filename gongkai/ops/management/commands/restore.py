"""``manage.py restore SRC``: restore an archive written by ``manage.py backup`` into this
installation, which must be empty, then check the result. Exit status 1 on a damaged
archive, a refusal (another engine, a non-empty installation) or any mismatch after the
restore. The service is :mod:`gongkai.ops.backup`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.ops import backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive into this installation. Every member is checked against "
        "the manifest first (a damaged archive is refused before anything is touched); the "
        "installation must run the archive's engine (PostgreSQL or SQLite) and be empty: a "
        "new database, with or without migrations applied, and no archived file in the "
        "storage. Afterwards every table's count, the newest checkpoints and the ledger's "
        "verification are checked. The signing key and SECRET_KEY are not in the archive: "
        "put them in place from where they are kept apart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", help="The archive file.")
        parser.add_argument("--quiet", action="store_true", help="Print only problems.")

    def handle(self, *args: Any, **options: Any) -> None:
        src = Path(options["src"])
        try:
            restored = backup.restore_archive(src)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        manifest = restored.manifest
        tables: dict[str, int] = manifest["tables"]
        for problem in restored.problems:
            self.stdout.write(self.style.ERROR(problem))
        if not restored.ok:
            raise CommandError(
                f"restored {src}, but {len(restored.problems)} check(s) failed: see above"
            )
        if options["quiet"]:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {src} (made {manifest['created_at']} by gongkai "
                f"{manifest['gongkai_version']})"
            )
        )
        self.stdout.write(
            f"  database    {len(tables)} tables, {sum(tables.values())} rows: "
            "every count matches the archive"
        )
        self.stdout.write(f"  media       {restored.files} files")
        for log, checkpoint in sorted(manifest["ledger"]["checkpoints"].items()):
            self.stdout.write(
                f"  {log:<11} newest checkpoint ({checkpoint['size']} entries, root "
                f"{checkpoint['root'][:16]}…) is the archived one"
            )
        self.stdout.write("  ledger      verification passed (chain, log and audit log)")
        if restored.migrate_needed:
            self.stdout.write(
                self.style.WARNING(
                    f"  this code has {len(restored.migrate_needed)} migration(s) the archive "
                    "has not: run `manage.py migrate` now"
                )
            )
        self.stdout.write(
            "  put the checkpoint signing key and SECRET_KEY in place from where they are "
            "kept apart (they are not in the archive)"
        )
