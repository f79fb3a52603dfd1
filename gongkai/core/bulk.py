"""Inserting many rows fast: what ``bulk_create`` does, without a model instance per row.

:func:`insert` writes rows given as tuples of the values of some fields: one ``COPY`` on
PostgreSQL (its driver's ``copy.write_row``), one ``executemany`` on SQLite. At hundreds of
thousands of rows, ``bulk_create`` spends most of its time in Python (an instance per row,
every value prepared by its field, SQLite statements cut at 999 parameters): the daily
reminder scan wrote its 1.5 million rows about three times faster this way
(docs/BENCHMARKS.md, bench_reminders).

The price is what the ORM would have done per row, so the rules are strict:
- every column that is NOT NULL, has no database default and is not the automatic primary
  key must be listed (a ``ValueError`` names the missing ones before anything is written):
  Python-side defaults, ``auto_now_add`` and the like do not run;
- dates and times are prepared by their field (once per distinct value); text, integers and
  ids go to the driver as they are, so they must already be what the column stores;
- a row that breaks a constraint raises ``IntegrityError`` as ``bulk_create`` would; no
  signals are sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection, models


def insert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (the values of ``fields``, in order) into ``model``'s table."""
    if not rows:
        return
    meta = model._meta
    columns = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in fields]
    listed = {field.name for field in columns}
    missing = [
        field.name
        for field in meta.concrete_fields
        if not field.null
        and field.name not in listed
        and not field.primary_key
        and field.db_default is models.NOT_PROVIDED
    ]
    if missing:
        raise ValueError(f"insert into {meta.label} must give {', '.join(missing)}")
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(str(field.column)) for field in columns)
    dated = [i for i, field in enumerate(columns) if isinstance(field, models.DateField)]
    if dated:
        values: list[Sequence[Any]] = list(zip(*rows, strict=True))  # column by column
        for i in dated:
            prepared = {raw: columns[i].get_db_prep_save(raw, connection) for raw in set(values[i])}
            values[i] = [prepared[raw] for raw in values[i]]
        rows = list(zip(*values, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The driver's COPY, past Django's cursor wrapper: its errors translated here.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - names from the model
