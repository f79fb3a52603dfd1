"""Reading PostgreSQL's data pages the way an attacker with the table files would: every row
version on every page of a table — live, dead, or not yet vacuumed — with its transaction
stamps (``t_xmin``, ``t_xmax``), its place (``t_ctid``) and its raw bytes, through the
``pageinspect`` extension (superuser). Used by the secrecy tests of ballots and reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from django.db import connection

LP_NORMAL = 1


@dataclass(frozen=True)
class Version:
    table: str
    lp: int
    flags: int
    xmin: int | None
    xmax: int | None
    ctid: str | None
    data: bytes

    @property
    def has_data(self) -> bool:
        return self.flags == LP_NORMAL and self.xmin is not None


def enable() -> None:
    """Skip unless on PostgreSQL; create the extension in the test database (that needs a
    superuser, as ``get_raw_page`` does: the test run's role, never the application's)."""
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        pytest.skip("pageinspect reads PostgreSQL's pages")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
            cursor.execute("SELECT count(*) FROM heap_page_items(get_raw_page('pg_class', 0))")
    except DatabaseError as error:  # pragma: no cover - depends on the server's contrib/role
        pytest.skip(f"pageinspect is not available to this role: {error}")


def _relation(table: str, *, toast: bool) -> str | None:
    if not toast:
        return table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NULLIF(reltoastrelid, 0)::regclass::text FROM pg_class "
            "WHERE oid = %s::regclass",
            [table],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] else None


def versions(table: str, *, toast: bool = False) -> list[Version]:
    """Every line pointer of every page of ``table`` (or of its TOAST table)."""
    relation = _relation(table, toast=toast)
    if relation is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lp, lp_flags, t_xmin::text, t_xmax::text, t_ctid::text, t_data "
            "FROM generate_series(0, pg_relation_size(%s) / current_setting('block_size')::int"
            " - 1) AS blk, LATERAL heap_page_items(get_raw_page(%s, blk::int))",
            [relation, relation],
        )
        rows = cursor.fetchall()
    return [
        Version(
            table=relation,
            lp=lp,
            flags=flags,
            xmin=int(xmin) if xmin is not None else None,
            xmax=int(xmax) if xmax is not None else None,
            ctid=ctid,
            data=bytes(data or b""),
        )
        for lp, flags, xmin, xmax, ctid, data in rows
    ]


def all_versions(table: str) -> list[Version]:
    """The table's row versions and its TOAST table's (where long values live)."""
    return versions(table) + versions(table, toast=True)


def stamps(tables: Iterable[str]) -> set[int]:
    """Every transaction id found on the pages of ``tables``: writers (xmin) and deleters or
    lockers (xmax) of every row version, live or dead."""
    found: set[int] = set()
    for table in tables:
        for version in all_versions(table):
            if version.xmin:
                found.add(version.xmin)
            if version.xmax:
                found.add(version.xmax)
    return found


def bytes_of(table: str) -> bytes:
    """All row data of the table and its TOAST table, dead versions included."""
    return b"".join(v.data for v in all_versions(table))


# The rows that name a person: who voted, who is signed in, who they are.
PERSON_TABLES = ("ballots_participation", "django_session", "accounts_user")
