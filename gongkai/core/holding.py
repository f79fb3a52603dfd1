"""Holding tables: where a person's own transaction leaves a sealed box (gongkai.core.secretbox)
until a separate transaction moves its content, in a random order, into the readable table.

The move is what unlinks the content from the person, so *emptying the holding table* must
leave no row version behind — and must not depend on a cleanup that can silently fail:

- **PostgreSQL**: ``TRUNCATE`` inside the moving transaction, after ``LOCK TABLE … ACCESS
  EXCLUSIVE`` (waiting at most ``HOLDING_LOCK_TIMEOUT_MS``). TRUNCATE gives the table (and its
  TOAST table) a new, empty file; the old file, with every earlier row version live or dead,
  is emptied at commit. Unlike VACUUM it does not care whether another transaction still
  holds an old snapshot (the "xmin horizon" that keeps VACUUM from removing dead rows), and
  it commits or rolls back with the move. Rows that are not moved (boxes of votes still open,
  reports not yet due) are written back by the same transaction — so they too now carry the
  mover's transaction id, not their writer's.
- **SQLite**: ``DELETE`` with ``PRAGMA secure_delete = ON`` (the freed bytes are overwritten
  with zeros), then ``PRAGMA wal_checkpoint(TRUNCATE)`` after the commit, so the write-ahead
  log no longer holds the old pages. A checkpoint is refused while another connection reads
  ("busy"): that is logged as an error and retried by the next move and by the periodic
  commands (which exit 1 while it fails), never ignored.

:func:`verify` checks the result; :func:`with_retries` retries a step and logs every failure
(the class of the error only: never a value, which could be a ballot or a report).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, models, transaction

logger = logging.getLogger("gongkai.holding")

T = TypeVar("T")


class HoldingError(Exception):
    """A move or its verification failed (the message names no content)."""


def lock(model: type[models.Model]) -> None:
    """Take the holding table for this transaction (PostgreSQL; SQLite's IMMEDIATE
    transactions already admit one writer at a time). Waits at most
    ``HOLDING_LOCK_TIMEOUT_MS`` for writers and readers in flight, then fails."""
    if connection.vendor != "postgresql":
        return
    timeout = int(getattr(settings, "HOLDING_LOCK_TIMEOUT_MS", 5000))
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = {timeout}")
        cursor.execute(f'LOCK TABLE "{model._meta.db_table}" IN ACCESS EXCLUSIVE MODE')


def storage(model: type[models.Model]) -> tuple[int, ...]:
    """The file numbers of the table and of its TOAST table (PostgreSQL); () on SQLite."""
    if connection.vendor != "postgresql":
        return ()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_filenode(c.oid), "
            "COALESCE(pg_relation_filenode(NULLIF(c.reltoastrelid, 0)), 0) "
            "FROM pg_class c WHERE c.oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return tuple(int(v or 0) for v in row) if row else ()


def empty(model: type[models.Model], *, moved: Sequence[Any]) -> None:
    """Remove the rows ``moved`` (primary keys) so that no version of them remains. Call
    inside the moving transaction, after :func:`lock`.

    PostgreSQL: the rows *not* moved are copied aside (a temporary table of this transaction,
    dropped before it ends), the table is TRUNCATEd, and they are written back in a random
    order with fresh random keys — so they too carry the mover's transaction id from now on.
    The table's primary key must be a UUID. SQLite: DELETE of the moved rows with
    ``secure_delete`` on."""
    table = model._meta.db_table
    ids = list(moved)
    if connection.vendor == "postgresql":
        pk = model._meta.pk
        if pk is None or pk.get_internal_type() != "UUIDField":
            raise HoldingError(f"{table} needs a UUID primary key")
        columns = ", ".join(
            f'"{f.column}"' for f in model._meta.concrete_fields if not f.primary_key
        )
        # TRUNCATE refuses a table with deferred constraint checks still queued (rows
        # inserted earlier in an enclosing transaction, e.g. the demo loader): run them now.
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE gongkai_kept ON COMMIT DROP AS "  # noqa: S608
                f'SELECT {columns} FROM "{table}" WHERE NOT ("{pk.column}" = ANY(%s))',
                [ids],
            )
            cursor.execute(f'TRUNCATE "{table}"')
            cursor.execute(
                f'INSERT INTO "{table}" ("{pk.column}", {columns}) '  # noqa: S608
                f"SELECT gen_random_uuid(), {columns} FROM gongkai_kept ORDER BY random()"
            )
            cursor.execute("DROP TABLE gongkai_kept")
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA secure_delete")
        row = cursor.fetchone()
        if row is None or row[0] != 1:
            raise HoldingError("SQLite did not turn secure_delete on")
    for start in range(0, len(ids), 500):
        model._default_manager.filter(pk__in=ids[start : start + 500]).delete()


def checkpoint() -> bool:
    """SQLite: copy the write-ahead log into the database and truncate it, so that old page
    images (boxes before they were deleted) leave the -wal file. False when another
    connection's read stopped it (retry later). Nothing to do on PostgreSQL; and inside a
    transaction it cannot run (False)."""
    if connection.vendor != "sqlite":
        return True
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
    return row is None or int(row[0]) == 0


def checkpoint_or_log() -> bool:
    """:func:`checkpoint`, logging an error when it could not run (the next move and the
    periodic commands try again)."""
    done = checkpoint()
    if not done:
        logger.error("The SQLite write-ahead log could not be checkpointed (busy); retried later")
    return done


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    model: type[models.Model], *, before: tuple[int, ...], remaining: int, what: str
) -> Verification:
    """After a move: ``remaining`` rows of what was moved must be 0, and on PostgreSQL the
    table's files must have been replaced since ``before`` (so the old versions are gone with
    the old file). SQLite's write-ahead log is checkpointed by :func:`after_move`."""
    result = Verification()
    if remaining:
        result.problems.append(f"{remaining} {what} still in {model._meta.db_table}")
    if connection.vendor == "postgresql":
        after = storage(model)
        if before and after and any(a == b for a, b in zip(before, after, strict=True) if a):
            result.problems.append(f"{model._meta.db_table} was not rewritten")
    return result


def after_move() -> None:
    """SQLite: checkpoint the write-ahead log now, or after the enclosing transaction commits;
    a busy checkpoint is logged as an error (the old pages hold only sealed boxes) and tried
    again by the next move and by the periodic commands, which exit 1 while it fails."""
    if connection.vendor != "sqlite":
        return
    if connection.in_atomic_block:
        transaction.on_commit(checkpoint_or_log)
    else:
        checkpoint_or_log()


def describe(error: BaseException) -> str:
    """What may be logged about an error: its class and SQLSTATE, never its message (which
    may quote a value)."""
    cause = error.__cause__ or error
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return f"{type(error).__name__}{f' (SQLSTATE {state})' if state else ''}"


def with_retries(what: str, step: Callable[[], T], *, attempts: int | None = None) -> T:
    """Run ``step``; on failure log a warning and try again (with a short pause), up to
    ``HOLDING_ATTEMPTS`` times; then log an error and raise :class:`HoldingError`."""
    tries = attempts or int(getattr(settings, "HOLDING_ATTEMPTS", 3))
    pause = float(getattr(settings, "HOLDING_RETRY_PAUSE_SECONDS", 0.5))
    for n in range(1, tries + 1):
        try:
            return step()
        except Exception as error:
            if n == tries:
                logger.error("%s failed after %s attempts: %s", what, tries, describe(error))
                raise HoldingError(f"{what} failed: {describe(error)}") from error
            logger.warning("%s failed (attempt %s of %s): %s", what, n, tries, describe(error))
            if not connection.in_atomic_block:
                time.sleep(pause * n)
    raise AssertionError("unreachable")  # pragma: no cover
