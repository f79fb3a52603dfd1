"""The sealed ballot box: secret ballots (gongkai.ballots) and survey answers (gongkai.surveys)
are cast, held and counted by this one mechanism.

Three tables per app, described by a :class:`BallotBox`:

- **participation** — "has voted": (owner, voter) under a UNIQUE constraint, which alone is the
  one-ballot rule (:meth:`BallotBox.participate`: ``INSERT … ON CONFLICT DO NOTHING``, no
  check-then-insert, no savepoint).
- **held** — the holding table, written by the voter's own transaction together with the
  participation row (so they commit or fail together, and share PostgreSQL's ``xmin`` and
  SQLite's ``rowid`` order). It holds nothing readable: a random UUID key, the owner (the vote,
  the survey) and a box (gongkai.core.secretbox) — the content as compact JSON, padded to a
  length the app chooses so that no content shows in it, encrypted under a key derived from
  ``SECRET_KEY`` (not in the database), the box's purpose and the owner's id.
- **final** — the readable table. :meth:`BallotBox.move` opens the owner's boxes, writes the
  rows the app builds from them in a ``SystemRandom`` order (all stamped with the moving
  transaction's id, equal to no voter's) and empties the holding table so that no version of
  a box survives (gongkai.core.holding: TRUNCATE on PostgreSQL, writing back the boxes of
  other owners; ``secure_delete`` and a checked WAL checkpoint on SQLite).
  :meth:`BallotBox.seal` is the move verified and retried.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.db.models.options import Options

from gongkai.core import holding, secretbox


def encode(content: Any, length: int) -> bytes:
    """``content`` as compact JSON (keys sorted), padded to exactly ``length`` bytes."""
    data = json.dumps(content, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return secretbox.pad(data.encode(), length)


def padded_length(size: int) -> int:
    """A box length (a multiple of 64) for content of at most ``size`` bytes."""
    return 64 * ((size + 4) // 64 + 1)


def concrete_field(meta: Options[Any], name: str) -> models.Field[Any, Any]:
    field = meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise TypeError(f"{name} is not a column of {meta.label}")
    return field


def column(field: models.Field[Any, Any]) -> str:
    if field.column is None:  # pragma: no cover - concrete fields have a column
        raise TypeError(f"{field.name} has no column")
    return field.column


@dataclass(frozen=True)
class BallotBox:
    """The tables of one app's ballot box. ``held`` has a UUID primary key, a foreign key
    named ``owner`` and a binary field ``box``; ``participation`` has foreign keys ``owner``
    and ``voter`` under one UNIQUE constraint; ``final`` takes what :meth:`move` builds."""

    purpose: str
    participation: type[models.Model]
    held: type[models.Model]
    final: type[models.Model]
    owner: str
    voter: str = "user"

    # --- Casting (the voter's transaction) ----------------------------------------------------

    def participate(self, owner_id: int, voter_id: int, **extra: Any) -> bool:
        """Insert the "has voted" row (with ``extra`` field values); False when the UNIQUE
        (owner, voter) constraint already holds one. The transaction stays usable."""
        meta = self.participation._meta
        pk = meta.pk
        if pk is None:  # pragma: no cover - every concrete model has one
            raise TypeError(f"{meta.label} has no primary key")
        values: dict[str, Any] = {self.owner: owner_id, self.voter: voter_id, **extra}
        fields = {name: concrete_field(meta, name) for name in values}
        columns: list[str] = []
        params: list[Any] = []
        if not isinstance(pk, AutoFieldMixin):
            columns.append(column(pk))
            params.append(pk.get_db_prep_save(pk.get_default(), connection))
        for name, value in values.items():
            columns.append(column(fields[name]))
            params.append(fields[name].get_db_prep_save(value, connection))
        quote = connection.ops.quote_name
        conflict = ", ".join(quote(column(fields[name])) for name in (self.owner, self.voter))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(params))}) "
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING 1",
                params,
            )
            return cursor.fetchone() is not None

    def seal_box(self, owner_id: int, content: Any, length: int) -> bytes:
        """The box of ``content`` for this owner: JSON padded to ``length`` bytes, sealed."""
        return secretbox.seal(self.purpose, str(owner_id), encode(content, length))

    def open_box(self, owner_id: int, box: bytes) -> Any:
        """The content of a box of this owner. Raises secretbox.BoxError."""
        data = secretbox.unpad(secretbox.open_box(self.purpose, str(owner_id), bytes(box)))
        return json.loads(data)

    def hold(self, owner_id: int, contents: Sequence[tuple[Any, int]]) -> None:
        """Write one box per (content, padded length) into the holding table: the only rows
        of the voter's transaction besides "has voted"."""
        key = concrete_field(self.held._meta, self.owner).attname
        self.held._default_manager.bulk_create(
            [
                self.held(**{key: owner_id, "box": self.seal_box(owner_id, content, length)})
                for content, length in contents
            ]
        )

    # --- Moving (a transaction of its own, or the closing one) --------------------------------

    def held_rows(self, owner_id: int) -> models.QuerySet[Any]:
        return self.held._default_manager.filter(**{self.owner: owner_id})

    def move(
        self, owner_id: int, build: Callable[[Any], Iterable[models.Model]]
    ) -> tuple[int, ...]:
        """Open the owner's boxes, write the rows ``build`` makes of each box's content into
        the final table in a random order (every row of every box shuffled together), and
        empty the holding table (gongkai.core.holding). Writes nothing else. Returns the
        holding table's files before the move, for :meth:`verify`. Idempotent: nothing left to
        move, nothing moved."""
        with transaction.atomic():
            holding.lock(self.held)
            before = holding.storage(self.held)
            moved: list[uuid.UUID] = []
            rows: list[models.Model] = []
            for key, box in self.held_rows(owner_id).values_list("pk", "box"):
                moved.append(key)
                rows.extend(build(self.open_box(owner_id, box)))
            random.SystemRandom().shuffle(rows)
            self.final._default_manager.bulk_create(rows, batch_size=500)
            holding.empty(self.held, moved=moved)
        return before

    def verify(self, owner_id: int, before: tuple[int, ...]) -> None:
        """No box of the owner is left, and on PostgreSQL the holding table's files were
        replaced (every earlier row version went with the old file); SQLite: the write-ahead
        log is checkpointed (now, or when the enclosing transaction commits). Raises
        holding.HoldingError."""
        holding.after_move()
        checked = holding.verify(
            self.held, before=before, remaining=self.held_rows(owner_id).count(), what="boxes"
        )
        if not checked.ok:
            raise holding.HoldingError("; ".join(checked.problems))

    def seal(
        self, owner_id: int, build: Callable[[Any], Iterable[models.Model]], *, what: str
    ) -> None:
        """:meth:`move` and :meth:`verify`, retried (holding.with_retries: each failure logged
        by its class only); raises holding.HoldingError when it still fails."""

        def move_and_verify() -> None:
            self.verify(owner_id, self.move(owner_id, build))

        holding.with_retries(what, move_and_verify)
