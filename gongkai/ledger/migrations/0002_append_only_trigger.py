"""The database itself refuses to change a ledger entry (defence in depth below the model).

PostgreSQL refuses UPDATE and DELETE (TRUNCATE, an owner-only maintenance operation, stays
possible); SQLite refuses UPDATE. Deletion through the application is refused by the model,
and verify_ledger reports any entry that goes missing.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_ledgerentry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE ON ledger_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS ledger_entry_append_only;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_ledger_entries_and_head")]
    operations = [migrations.RunPython(forward, reverse)]
