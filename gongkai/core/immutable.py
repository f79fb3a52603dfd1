"""A migration operation that makes the database itself refuse to change rows of a table:
UPDATE and DELETE on PostgreSQL (TRUNCATE, an owner-only maintenance operation, stays
possible), UPDATE on SQLite (whose test flush deletes rows). Defence in depth below the
models, which refuse save-over and delete themselves."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def refuse_changes(*, table: str, trigger: str, message: str) -> migrations.RunPython:
    pg_forward = f"""
CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {trigger}();
"""
    pg_reverse = (
        f"DROP TRIGGER IF EXISTS {trigger} ON {table}; DROP FUNCTION IF EXISTS {trigger}();"
    )
    sqlite_forward = f"""
CREATE TRIGGER {trigger} BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{message}');
END;
"""
    sqlite_reverse = f"DROP TRIGGER IF EXISTS {trigger};"
    sql = {"postgresql": (pg_forward, pg_reverse), "sqlite": (sqlite_forward, sqlite_reverse)}

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor in sql:
            schema_editor.execute(sql[schema_editor.connection.vendor][0])

    def reverse(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor in sql:
            schema_editor.execute(sql[schema_editor.connection.vendor][1])

    return migrations.RunPython(forward, reverse)


def sqlite_trigger_sql(*, table: str, trigger: str, message: str) -> tuple[str, str]:
    """(create, drop) for the SQLite trigger, for tests that play a database superuser."""
    return (
        f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END;",
        f"DROP TRIGGER IF EXISTS {trigger};",
    )
