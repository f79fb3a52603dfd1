"""Issued circulars are never changed: the database refuses UPDATE (and, on PostgreSQL,
DELETE) of a row whose status is "issued". Drafts stay editable. Defence in depth below
Circular.save()/delete(), like the revision table (gongkai.core.immutable), but conditional
on the row's state."""

from typing import Any

from django.db import migrations

TABLE = "supervision_circular"
TRIGGER = "supervision_circular_frozen"
MESSAGE = "issued circulars are never changed"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'issued' THEN
        RAISE EXCEPTION '{MESSAGE}';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TRIGGER}();
"""
PG_REVERSE = f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}; DROP FUNCTION IF EXISTS {TRIGGER}();"
# SQLite: UPDATE only (the test flush deletes rows).
SQLITE_FORWARD = f"""
CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} FOR EACH ROW WHEN OLD.status = 'issued'
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_REVERSE = f"DROP TRIGGER IF EXISTS {TRIGGER};"
SQL = {"postgresql": (PG_FORWARD, PG_REVERSE), "sqlite": (SQLITE_FORWARD, SQLITE_REVERSE)}


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor in SQL:
        schema_editor.execute(SQL[schema_editor.connection.vendor][0])


def reverse(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor in SQL:
        schema_editor.execute(SQL[schema_editor.connection.vendor][1])


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_inspections_rectification_circulars")]
    operations = [migrations.RunPython(forward, reverse)]
