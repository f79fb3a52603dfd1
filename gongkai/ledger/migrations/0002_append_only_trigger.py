"""The database itself refuses to change a ledger entry (see gongkai.core.immutable);
verify_ledger reports any entry that goes missing."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_ledger_entries_and_head")]
    operations = [
        refuse_changes(
            table="ledger_ledgerentry",
            trigger="ledger_entry_append_only",
            message="ledger entries are append-only",
        )
    ]
