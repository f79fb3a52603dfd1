"""Published revisions are never changed: the database refuses UPDATE of a revision (and
DELETE on PostgreSQL), below the model's own refusal. The ledger detects what a superuser
could still do by disabling the trigger."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION disclosure_revision_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'published revisions are never changed';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER disclosure_revision_immutable
    BEFORE UPDATE OR DELETE ON disclosure_revision
    FOR EACH ROW EXECUTE FUNCTION disclosure_revision_immutable();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS disclosure_revision_immutable ON disclosure_revision;
DROP FUNCTION IF EXISTS disclosure_revision_immutable();
"""
SQLITE_FORWARD = """
CREATE TRIGGER disclosure_revision_immutable BEFORE UPDATE ON disclosure_revision
BEGIN
    SELECT RAISE(ABORT, 'published revisions are never changed');
END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS disclosure_revision_immutable;"


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
    dependencies = [("disclosure", "0003_add_attachment_published_in")]
    operations = [migrations.RunPython(forward, reverse)]
