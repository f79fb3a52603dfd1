"""Append-only tables: a migration operation that makes the database itself refuse to change
or remove rows, below the models (which refuse save-over and delete themselves).

**What is refused** (the current form, :data:`CURRENT_FORM`): on both databases UPDATE and
DELETE of a row; on PostgreSQL TRUNCATE of the table too (a statement-level trigger). With
``when`` (an SQL condition on ``OLD``, the same text on both databases), only the rows it
matches are protected: issued circulars, attachments of a published revision; drafts stay
editable and removable. TRUNCATE is refused whatever the rows.

**The one escape: flush.** Django's test suite empties every table between transactional
tests (``manage.py flush``: DELETE on SQLite, TRUNCATE on PostgreSQL). DELETE and TRUNCATE —
never UPDATE — pass while the connection carries the maintenance marker of
:func:`maintenance`:

- SQLite: a TEMP table ``gongkai_maintenance``. Temporary tables belong to the connection that
  created them, so only that connection may delete; a table of that name in the main schema
  does not count.
- PostgreSQL: the setting ``gongkai.maintenance = 'flush'`` of the session, honoured only when
  the current role has the privileges of the table's owner — the role that could drop the
  trigger anyway. A role that was merely granted DELETE gains nothing by setting it.

gongkai.core's ``flush`` command (which replaces Django's) sets the marker only when
``settings.FLUSH_APPEND_ONLY_TABLES`` is true, i.e. in the test settings; elsewhere it refuses
before touching anything. Nothing else in the application sets it.

**Trade-off.** Whoever can run arbitrary SQL as the tables' owner (or any SQL at all on an
SQLite file) can set the marker — and could just as well drop the triggers. The promise holds
against the application, its ORM and its management commands, and against accidental raw
statements; not against the database's owner. What the owner might change in published
records, ``manage.py verify_ledger`` detects.

The first form (:data:`FIRST_FORM`, created by the first migrations: UPDATE and DELETE on
PostgreSQL, UPDATE only on SQLite) is kept so that migrations replacing it can be reversed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper

FIRST_FORM = 1
CURRENT_FORM = 2
FORMS = (FIRST_FORM, CURRENT_FORM)

MAINTENANCE_TABLE = "gongkai_maintenance"  # SQLite: a TEMP table of the connection
MAINTENANCE_SETTING = "gongkai.maintenance"  # PostgreSQL: a setting of the session
MAINTENANCE_VALUE = "flush"

# The conditions the triggers test (constants only: nothing here comes from input).
SQLITE_NOT_IN_MAINTENANCE = (
    "NOT EXISTS (SELECT 1 FROM pragma_table_list('gongkai_maintenance') WHERE schema = 'temp')"
)
PG_IN_MAINTENANCE = (
    "pg_catalog.current_setting('gongkai.maintenance', true) = 'flush' AND pg_catalog.pg_has_role("
    "(SELECT relowner FROM pg_catalog.pg_class WHERE oid = TG_RELID), 'USAGE')"
)


def _quoted(message: str) -> str:
    if "%" in message or "\\" in message:
        raise ValueError("a trigger message may not contain % or backslashes")
    return message.replace("'", "''")


def _pg_function(trigger: str, message: str, when: str | None, form: int) -> str:
    text = _quoted(message)
    if form == FIRST_FORM:
        if when is None:
            body = f"    RAISE EXCEPTION '{text}';"
        else:
            body = (
                f"    IF {when} THEN\n        RAISE EXCEPTION '{text}';\n    END IF;\n"
                "    IF TG_OP = 'DELETE' THEN\n        RETURN OLD;\n    END IF;\n"
                "    RETURN NEW;"
            )
    else:
        unprotected = (
            ""
            if when is None
            else (
                "    IF TG_LEVEL = 'ROW' THEN\n"
                f"        IF ({when}) IS NOT TRUE THEN\n"
                "            IF TG_OP = 'DELETE' THEN\n                RETURN OLD;\n"
                "            END IF;\n            RETURN NEW;\n        END IF;\n    END IF;\n"
            )
        )
        body = (
            f"{unprotected}"
            f"    IF TG_OP IN ('DELETE', 'TRUNCATE') AND {PG_IN_MAINTENANCE} THEN\n"
            "        IF TG_OP = 'DELETE' THEN\n            RETURN OLD;\n        END IF;\n"
            "        RETURN NULL;\n    END IF;\n"
            f"    RAISE EXCEPTION '{text}';"
        )
    # The current form runs with a fixed search_path, so that no function or operator of
    # another schema can stand in for the ones the maintenance check calls.
    settings = " SET search_path = pg_catalog, pg_temp" if form != FIRST_FORM else ""
    return (
        f"CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger{settings} AS $$\nBEGIN\n"
        f"{body}\nEND;\n$$ LANGUAGE plpgsql"
    )


def trigger_sql(
    vendor: str,
    *,
    table: str,
    trigger: str,
    message: str,
    when: str | None = None,
    form: int = CURRENT_FORM,
) -> tuple[list[str], list[str]]:
    """(create, drop): the statements, one per item, that create the triggers of ``form`` on
    ``table`` and those that drop the triggers of any form. Empty for other databases."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form}")
    text = _quoted(message)
    if vendor == "postgresql":
        create = [
            _pg_function(trigger, message, when, form),
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {trigger}()",
        ]
        if form == CURRENT_FORM:
            create.append(
                f"CREATE TRIGGER {trigger}_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
            )
        drop = [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"DROP TRIGGER IF EXISTS {trigger}_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {trigger}()",
        ]
        return create, drop
    if vendor == "sqlite":
        refuse = f"BEGIN SELECT RAISE(ABORT, '{text}'); END"
        row_when = f" WHEN {when}" if when else ""
        create = [
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} FOR EACH ROW{row_when} {refuse}"
        ]
        if form == CURRENT_FORM:
            delete_when = (
                f"({when}) AND {SQLITE_NOT_IN_MAINTENANCE}" if when else SQLITE_NOT_IN_MAINTENANCE
            )
            create.append(
                f"CREATE TRIGGER {trigger}_delete BEFORE DELETE ON {table} FOR EACH ROW "
                f"WHEN {delete_when} {refuse}"
            )
        drop = [f"DROP TRIGGER IF EXISTS {trigger}", f"DROP TRIGGER IF EXISTS {trigger}_delete"]
        return create, drop
    return [], []


def check_sqlite_version(connection: BaseDatabaseWrapper) -> None:
    """The SQLite triggers look for the maintenance marker with ``pragma_table_list``."""
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 37):
        raise RuntimeError("append-only tables need SQLite 3.37 or newer (pragma_table_list)")


def refuse_changes(
    *,
    table: str,
    trigger: str,
    message: str,
    when: str | None = None,
    replaces: int | None = None,
) -> migrations.RunPython:
    """The migration operation: forward, (re)create the current form's triggers on ``table``
    (dropping whatever form of ``trigger`` was there); backward, drop them and, when
    ``replaces`` names the form an earlier migration created, recreate that one."""

    def run(schema_editor: Any, statements: list[str]) -> None:
        for statement in statements:
            schema_editor.execute(statement)

    def forward(apps: Any, schema_editor: Any) -> None:
        check_sqlite_version(schema_editor.connection)
        create, drop = trigger_sql(
            schema_editor.connection.vendor,
            table=table,
            trigger=trigger,
            message=message,
            when=when,
        )
        run(schema_editor, drop + create)

    def reverse(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        _create, drop = trigger_sql(
            vendor, table=table, trigger=trigger, message=message, when=when
        )
        run(schema_editor, drop)
        if replaces is not None:
            previous, _drop = trigger_sql(
                vendor, table=table, trigger=trigger, message=message, when=when, form=replaces
            )
            run(schema_editor, previous)

    return migrations.RunPython(forward, reverse)


@contextmanager
def maintenance(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """While inside, this connection may DELETE and TRUNCATE rows of append-only tables
    (never UPDATE them): for ``flush`` only (gongkai.core.management.commands.flush)."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {MAINTENANCE_TABLE} (since TEXT)")
        elif vendor == "postgresql":
            cursor.execute(
                "SELECT set_config(%s, %s, false)", [MAINTENANCE_SETTING, MAINTENANCE_VALUE]
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                cursor.execute(f"DROP TABLE IF EXISTS temp.{MAINTENANCE_TABLE}")
            elif vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, '', false)", [MAINTENANCE_SETTING])


@contextmanager
def triggers_suspended(connection: BaseDatabaseWrapper, table: str) -> Iterator[None]:
    """For tests that play a database superuser changing rows behind the application's back:
    the table's triggers are off while inside (PostgreSQL: ``session_replication_role``, a
    superuser's setting; SQLite: the triggers are dropped and created again afterwards)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [table],
        )
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in triggers:
                cursor.execute(sql)
