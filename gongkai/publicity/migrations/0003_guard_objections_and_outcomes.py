"""Database triggers below the services: an objection's facts, filer, date and anonymity never
change and its finding is recorded once; a window's disclosure and dates never change and its
outcome is published once; evidence files never change. On PostgreSQL deletes of objections
and evidence are refused too (TRUNCATE, the owner's maintenance operation, stays possible); on
SQLite only updates are guarded (the test flush deletes rows)."""

from django.db import migrations

OBJECTION_CHANGED = (
    "NEW.publicity_id {ne} OLD.publicity_id OR NEW.filed_by_id {ne} OLD.filed_by_id "
    "OR NEW.filed_on {ne} OLD.filed_on OR NEW.anonymous {ne} OLD.anonymous "
    "OR NEW.text {ne} OLD.text OR OLD.finding IS NOT NULL"
)
PUBLICITY_CHANGED = (
    "NEW.disclosure_id {ne} OLD.disclosure_id OR NEW.kind {ne} OLD.kind "
    "OR NEW.starts_on {ne} OLD.starts_on OR NEW.ends_on {ne} OLD.ends_on "
    "OR NEW.opened_by_id {ne} OLD.opened_by_id OR OLD.outcome IS NOT NULL"
)
OBJECTION_MESSAGE = "an objection is never changed and its finding is recorded once"
PUBLICITY_MESSAGE = "a publicity window is never changed and its outcome is published once"
EVIDENCE_MESSAGE = "evidence files are never changed"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION publicity_objection_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR {OBJECTION_CHANGED.format(ne="IS DISTINCT FROM")} THEN
        RAISE EXCEPTION '{OBJECTION_MESSAGE}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER publicity_objection_guard BEFORE UPDATE OR DELETE ON publicity_objection
    FOR EACH ROW EXECUTE FUNCTION publicity_objection_guard();

CREATE OR REPLACE FUNCTION publicity_publicity_guard() RETURNS trigger AS $$
BEGIN
    IF {PUBLICITY_CHANGED.format(ne="IS DISTINCT FROM")} THEN
        RAISE EXCEPTION '{PUBLICITY_MESSAGE}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER publicity_publicity_guard BEFORE UPDATE ON publicity_publicity
    FOR EACH ROW EXECUTE FUNCTION publicity_publicity_guard();

CREATE OR REPLACE FUNCTION publicity_evidence_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{EVIDENCE_MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER publicity_evidence_guard BEFORE UPDATE OR DELETE ON publicity_objectionevidence
    FOR EACH ROW EXECUTE FUNCTION publicity_evidence_guard();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS publicity_objection_guard ON publicity_objection;
DROP FUNCTION IF EXISTS publicity_objection_guard();
DROP TRIGGER IF EXISTS publicity_publicity_guard ON publicity_publicity;
DROP FUNCTION IF EXISTS publicity_publicity_guard();
DROP TRIGGER IF EXISTS publicity_evidence_guard ON publicity_objectionevidence;
DROP FUNCTION IF EXISTS publicity_evidence_guard();
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER publicity_objection_guard BEFORE UPDATE ON publicity_objection "
    f"WHEN {OBJECTION_CHANGED.format(ne='IS NOT')} "
    f"BEGIN SELECT RAISE(ABORT, '{OBJECTION_MESSAGE}'); END;",
    f"CREATE TRIGGER publicity_publicity_guard BEFORE UPDATE ON publicity_publicity "
    f"WHEN {PUBLICITY_CHANGED.format(ne='IS NOT')} "
    f"BEGIN SELECT RAISE(ABORT, '{PUBLICITY_MESSAGE}'); END;",
    f"CREATE TRIGGER publicity_evidence_guard BEFORE UPDATE ON publicity_objectionevidence "
    f"BEGIN SELECT RAISE(ABORT, '{EVIDENCE_MESSAGE}'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS publicity_objection_guard;",
    "DROP TRIGGER IF EXISTS publicity_publicity_guard;",
    "DROP TRIGGER IF EXISTS publicity_evidence_guard;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        for sql in SQLITE_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("publicity", "0002_load_2026_holidays")]

    operations = [migrations.RunPython(forward, reverse)]
