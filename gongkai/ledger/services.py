"""Appending to the publication ledger. Called inside the publishing transaction (see
record_in_ledger in the disclosure app's publication module), so a publication and its
ledger entry commit or roll back together.

Appends are serialised: the head row is locked with SELECT … FOR UPDATE until the
publishing transaction ends (PostgreSQL); SQLite runs every transaction in IMMEDIATE mode,
one writer at a time, so the same code holds there. Unique sequence and previous hash stop a
fork even if the lock were skipped.

The entry is not written to the audit log: the publication it records is audited by the
disclosure service in the same transaction, and the ledger is itself append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from gongkai.core.queue import after_commit
from gongkai.ledger import canonical
from gongkai.ledger.models import HEAD_ID, Event, LedgerEntry, LedgerHead, RecordType
from gongkai.ledger.sources import source
from gongkai.ledger.tasks import publish_checkpoint


def locked_head() -> LedgerHead:
    """The head row, locked for the rest of the transaction; created on first use from the
    chain's last entry (a concurrent creator makes ours fail and we lock theirs)."""
    head = LedgerHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is not None:
        return head
    last = LedgerEntry.objects.order_by("-sequence").first()
    try:
        with transaction.atomic():
            LedgerHead.objects.create(
                pk=HEAD_ID,
                sequence=last.sequence if last else 0,
                entry_hash=last.entry_hash if last else canonical.GENESIS_HASH,
                updated_at=last.recorded_at if last else None,
            )
    except IntegrityError:
        pass  # created meanwhile by another transaction; lock that one below
    return LedgerHead.objects.select_for_update().get(pk=HEAD_ID)


@dataclass(frozen=True)
class Appending:
    """One record to append: its canonical ``content`` of ``version``; ``files``, for a
    revision, the manifest it contains."""

    record_type: RecordType
    record_id: int
    event: Event
    disclosure_id: int
    content: dict[str, Any]
    files: list[dict[str, Any]] | None = None
    version: int = canonical.CURRENT_VERSION


@transaction.atomic
def ledger_append_many(records: Sequence[Appending]) -> list[LedgerEntry]:
    """Append ``records`` to the chain, in order, and move the head once: each entry's
    previous hash is the one before it. One insert for all (a bulk load: seed_scale)."""
    head = locked_head()
    sequence, previous = head.sequence, head.entry_hash
    now = timezone.now()
    entries: list[LedgerEntry] = []
    for record in records:
        sequence += 1
        entry = LedgerEntry(
            sequence=sequence,
            record_type=record.record_type,
            record_id=record.record_id,
            event=record.event,
            disclosure_id=record.disclosure_id,
            content_hash=canonical.content_hash(record.content),
            prev_hash=previous,
            recorded_at=now,
            canonical_version=record.version,
            files=record.files,
        )
        entry.entry_hash = previous = entry.computed_hash()
        entries.append(entry)
    if not entries:
        return entries
    LedgerEntry.objects.bulk_create(entries)
    LedgerHead.objects.filter(pk=HEAD_ID).update(
        sequence=sequence, entry_hash=previous, updated_at=now
    )
    return entries


def ledger_append(
    *,
    record_type: RecordType,
    record_id: int,
    event: Event,
    disclosure_id: int,
    content: dict[str, Any],
    files: list[dict[str, Any]] | None = None,
    version: int = canonical.CURRENT_VERSION,
) -> LedgerEntry:
    """Append one record to the chain and move the head."""
    return ledger_append_many(
        [Appending(record_type, record_id, event, disclosure_id, content, files, version)]
    )[0]


def ledger_record_publication(*, disclosure: Model, event: str) -> LedgerEntry:
    """Record a publication, correction or attestation (its published revision, with the
    files published with it) or a withdrawal (its tombstone). The record is read back from
    the database (by its registered source, gongkai.ledger.sources) so that the hash covers
    exactly what is stored, as verification will read it. Called after the revision's files
    were marked published (publish_revision)."""
    kind = Event(event)
    record_type = RecordType.WITHDRAWAL if kind == Event.WITHDRAW else RecordType.REVISION
    record = source(record_type).current(disclosure.pk)
    after_commit(publish_checkpoint)  # into the transparency log, and a new checkpoint
    return ledger_append(
        record_type=record_type,
        record_id=record.record_id,
        event=kind,
        disclosure_id=record.disclosure_id,
        content=record.content(canonical.CURRENT_VERSION),
        files=record.files if record.lists_files else None,
    )
