"""The audit log as a transparency log: every audit event is a leaf of the ``audit`` log
(gongkai.core.tlog), whose signed checkpoint is published with the publication log's, so an
event deleted or altered behind the application's back is detected and named
(:mod:`gongkai.audit.verification`). The log itself is not public.

**The leaf** is :func:`leaf_data`: canonical JSON of the leaf format, the event's id and the
SHA-256 of the event's canonical JSON (:func:`event_hash`: every stored field, times in UTC
with microseconds, ``before`` and ``after`` as their stored JSON values). It holds no
personal data: no name, no label, no value; whoever holds the event recomputes the hash.

**Sequencing** (:func:`sequence`) appends the events that are not leaves yet, in id order,
under the log's lock; the :class:`~gongkai.audit.models.AuditLeaf` rows that say which event
is which leaf are written in the same transaction as the append. "Not a leaf yet" is the
question, not "after the last id taken", because on PostgreSQL ids are handed out at insert
and commit in another order: a long transaction (a roster import of thousands of employees)
may commit event 10 after event 11 was sequenced, and a rolled-back transaction leaves a gap
of ids forever. So the candidates are the events that have no ``AuditLeaf``, read under the
lock (each statement of the sequencer's transaction sees every commit before it; the unique
``event_id`` is the backstop), so no event is appended twice and none is skipped for
committing late.

To keep that scan short it starts above a *floor*: the event of the newest leaf sequenced
more than :data:`SETTLE` ago (one day). That event had committed when it was sequenced; an
event not sequenced yet belongs to a transaction that began after that moment (no
transaction that writes audit events stays open for a day), so its id, handed out later by
the same counter, is higher. The floor is sound whatever the number of events one
transaction writes and however the ids interleave, which a fixed lookback of N ids is not (a
roster import may write more than N events in one transaction). It assumes ids that grow
with time: PostgreSQL's identity sequences with their default cache of 1, SQLite's
AUTOINCREMENT. Before the log is a day old the floor is 0, so every minute the whole table is
compared during the first day. Should a transaction ever stay open longer,
:func:`sequence` with ``everything=True`` (run every day, gongkai.audit.tasks) takes its
events in; verification names an event still missing after :data:`GRACE`.

Leaves are therefore in id order within each run, and an event that commits late follows
those sequenced before it: the order of the leaves is the order in which events were
sequenced, and each leaf names its event.

Measured once, not asserted (PostgreSQL, a shared development machine, 200,000 events): the
first run over that history takes about 20 s; a minute's run afterwards about 50 ms (0.6 s
during the log's first day, when the floor is 0); the daily run over everything 0.6 s.

**Checkpoints** (:func:`checkpoint`) are signed with the ledger's key (gongkai.core.tlog.
signing) under the origin ``<LEDGER_ORIGIN>/audit``; the ledger app serves the newest,
:func:`latest`, beside its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from gongkai.audit.models import AuditEvent, AuditLeaf
from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import signing, store
from gongkai.core.tlog.store import TreeHead

LOG = "audit"
LEAF_FORMAT = "gongkai-audit-leaf/v1"
BATCH = 2_000  # events read and appended per transaction
SCAN = 10_000  # event ids looked at per query while looking for those not sequenced
SETTLE = timedelta(days=1)  # longer than any transaction that writes audit events stays open
GRACE = timedelta(hours=1)  # verification names an older event that is not a leaf

# Every stored field of an event, in the order of the model: what its hash covers.
EVENT_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "scope_path",
    "before",
    "after",
)


def origin() -> str:
    """The audit log's origin line (its name in checkpoints)."""
    return f"{settings.LEDGER_ORIGIN}/audit"


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8 (the ledger's canonical form)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def iso_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_content(row: Mapping[str, Any]) -> dict[str, Any]:
    """What an event's hash covers: its stored fields (a row of ``values(*EVENT_FIELDS)``,
    JSON fields decoded as stored), the time in UTC."""
    content = {name: row[name] for name in EVENT_FIELDS}
    content["at"] = iso_time(row["at"])
    return content


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256, hexadecimal, of the event's canonical JSON."""
    return hashlib.sha256(canonical_json(event_content(row))).hexdigest()


def leaf_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"format": LEAF_FORMAT, "event": row["id"], "hash": event_hash(row)}


def leaf_data(row: Mapping[str, Any]) -> bytes:
    """The leaf of an event: its id and hash, nothing personal."""
    return canonical_json(leaf_fields(row))


def event_rows(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored fields of the events ``ids`` that still exist, by id."""
    rows = AuditEvent.objects.filter(pk__in=ids).order_by().values(*EVENT_FIELDS)
    return {row["id"]: row for row in rows}


def unsequenced() -> QuerySet[AuditEvent]:
    """The events that are not leaves of the audit log (a queryset)."""
    return AuditEvent.objects.filter(~Exists(AuditLeaf.objects.filter(event_id=OuterRef("pk"))))


def settled_floor() -> int:
    """An event id below which every event that will ever commit has committed and been
    sequenced: the event of the newest leaf sequenced more than :data:`SETTLE` ago (0 when
    there is none). The leaves are read from the newest back, through the index's order."""
    cutoff = timezone.now() - SETTLE
    found = (
        AuditLeaf.objects.filter(sequenced_at__lt=cutoff)
        .order_by("-index")
        .values_list("event_id", flat=True)
        .first()
    )
    return found or 0


class _Batch:
    """One append's worth of events above id ``after``: :meth:`take` runs under the log's
    lock and remembers the last id it looked at."""

    def __init__(self, after: int, limit: int) -> None:
        self.after = self.last = after
        self.limit = limit

    def pending(self) -> list[int]:
        """The ids of the next events above ``after`` that are not leaves yet, in order, at
        most ``limit``. Read chunk by chunk as two range scans (the events' ids, the leaves'
        event ids over the same range), not as one anti-join: a query planner with stale
        statistics (a first run over a long history) would hash the whole leaf table for
        each batch."""
        found: list[int] = []
        while len(found) < self.limit:
            ids = list(
                AuditEvent.objects.filter(pk__gt=self.last)
                .order_by("pk")
                .values_list("pk", flat=True)[:SCAN]
            )
            if not ids:
                break
            leaves = set(
                AuditLeaf.objects.filter(event_id__gt=self.last, event_id__lte=ids[-1]).values_list(
                    "event_id", flat=True
                )
            )
            for pk in ids:
                if pk not in leaves:
                    found.append(pk)
                    if len(found) == self.limit:
                        self.last = pk
                        return found
            self.last = ids[-1]
        return found

    def take(self, size: int) -> list[bytes]:
        """The leaves of the next events that are not leaves yet, in id order, appended after
        the log's ``size`` leaves; their ``AuditLeaf`` rows written."""
        ids = self.pending()
        if not ids:
            return []
        rows = list(AuditEvent.objects.filter(pk__in=ids).order_by("pk").values(*EVENT_FIELDS))
        now = timezone.now()  # after the read: every event taken had committed by now
        AuditLeaf.objects.bulk_create(
            [
                AuditLeaf(event_id=row["id"], index=index, sequenced_at=now)
                for index, row in enumerate(rows, size)
            ]
        )
        return [leaf_data(row) for row in rows]


def sequence(*, everything: bool = False, batch_size: int = BATCH) -> TreeHead:
    """Append every committed event that is not a leaf yet, from the settled floor on (from
    the first event with ``everything``); the log's head after. Each batch is its own
    transaction; a run continues above the last id it took, so a long history is read once.
    """
    after = 0 if everything else settled_floor()
    tree = store.head(LOG)
    while True:
        batch = _Batch(after, batch_size)
        head = store.append(LOG, batch.take)
        if head.size == tree.size:
            return head
        tree, after = head, batch.last


def checkpoint(*, everything: bool = False) -> LogCheckpoint:
    """Sequence (:func:`sequence`, committed batch by batch), then sign a checkpoint at the
    log's size (once per size)."""
    sequence(everything=everything)
    return signing.sign_checkpoint(LOG, origin())


def latest() -> LogCheckpoint | None:
    """The audit log's newest signed checkpoint, to publish with the publication log's."""
    return store.latest_checkpoint(LOG)
