"""``manage.py backup DEST``: write one consistent archive of this installation (the
database, the media files, the ledger's verifier keys and newest checkpoints) to DEST, a
file or a directory (then a timestamped ``.tar.gz`` name). The service is
:mod:`gongkai.ops.backup`; this command only prints what it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.ops import backup


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


class Command(BaseCommand):
    help = (
        "Write one consistent backup archive (tar; gzip when the name ends in .gz or .tgz) "
        "of the database, the media files, the ledger's verifier keys and newest signed "
        "checkpoints, mode 0600, to DEST (a file, or a directory for a timestamped name). "
        "NOT in the archive, to be kept apart: the checkpoint signing key "
        "(LEDGER_SIGNING_KEY or its file), the witness key and SECRET_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", help="A directory, or the archive's file name.")
        parser.add_argument("--quiet", action="store_true", help="Print nothing on success.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = backup.write_archive(Path(options["dest"]))
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        if options["quiet"]:
            return
        manifest = written.manifest
        tables: dict[str, int] = manifest["tables"]
        media = manifest["media"]
        self.stdout.write(self.style.SUCCESS(f"Wrote {written.path} ({human_size(written.size)})"))
        self.stdout.write(f"  sha256      {written.sha256}")
        self.stdout.write(
            f"  database    {manifest['engine']} ({manifest['tool']}): {len(tables)} tables, "
            f"{sum(tables.values())} rows, {len(manifest['migrations'])} migrations"
        )
        self.stdout.write(f"  media       {media['files']} files, {human_size(media['bytes'])}")
        checkpoints = manifest["ledger"]["checkpoints"]
        for log in backup.LOGS:
            checkpoint = checkpoints.get(log)
            if checkpoint is None:
                self.stdout.write(f"  {log:<11} no signed checkpoint yet")
            else:
                self.stdout.write(
                    f"  {log:<11} checkpoint of {checkpoint['size']} entries, "
                    f"root {checkpoint['root'][:16]}…"
                )
        self.stdout.write("  not included (keep them apart): " + "; ".join(backup.NOT_INCLUDED))
