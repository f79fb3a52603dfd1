"""Ledger entries are refused DELETE (SQLite too) and TRUNCATE (PostgreSQL) as well as UPDATE;
only the test suite's flush may empty the table (see gongkai.core.immutable). On SQLite this
also restores the trigger that 0004's table rebuild dropped."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_entry_canonical_version_and_files")]
    operations = [
        refuse_changes(
            table="ledger_ledgerentry",
            trigger="ledger_entry_append_only",
            message="ledger entries are append-only",
            replaces=FIRST_FORM,
        )
    ]
