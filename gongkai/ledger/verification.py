"""Checking the ledger against the records as they are in the database now.

:func:`ledger_verify` walks the whole chain in sequence order (in batches, so memory stays
flat), recomputes every entry hash and every record's content hash, and names each record
whose stored content no longer matches what was published, each broken link, each missing
entry, and each published record that never reached the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from gongkai.disclosure.models import Disclosure, DisclosureStatus, Revision
from gongkai.ledger import canonical
from gongkai.ledger.models import HEAD_ID, LedgerEntry, LedgerHead, ProblemKind, RecordType

BATCH = 500


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    detail: str
    sequence: int | None = None
    record_type: str = ""
    record_id: int | None = None
    disclosure_id: int | None = None
    title: str = ""

    def __str__(self) -> str:
        parts = []
        if self.sequence is not None:
            parts.append(f"#{self.sequence}")
        if self.record_type:
            parts.append(f"{self.record_type} {self.record_id}")
        if self.disclosure_id is not None:
            parts.append(
                _("disclosure %(id)s “%(title)s”") % {"id": self.disclosure_id, "title": self.title}
            )
        where = " ".join(parts)
        return (
            f"{where}: {self.kind.label}: {self.detail}"
            if where
            else f"{self.kind.label}: {self.detail}"
        )


@dataclass(frozen=True)
class Record:
    """A ledgered record as it is now."""

    content: dict[str, Any]
    disclosure_id: int
    title: str


def load_records(entries: Iterable[LedgerEntry]) -> dict[tuple[str, int], Record]:
    """The current records of the entries, two queries for any number of entries."""
    revision_ids: list[int] = []
    disclosure_ids: list[int] = []
    for entry in entries:
        if entry.record_type == RecordType.REVISION:
            revision_ids.append(entry.record_id)
        elif entry.record_type == RecordType.WITHDRAWAL:
            disclosure_ids.append(entry.record_id)
    records: dict[tuple[str, int], Record] = {}
    revisions = Revision.objects.filter(pk__in=revision_ids).select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    )
    for revision in revisions:
        records[(RecordType.REVISION, revision.pk)] = Record(
            canonical.revision_content(revision), revision.disclosure_id, revision.disclosure.title
        )
    for disclosure in Disclosure.objects.filter(pk__in=disclosure_ids):
        records[(RecordType.WITHDRAWAL, disclosure.pk)] = Record(
            canonical.withdrawal_content(disclosure), disclosure.pk, disclosure.title
        )
    return records


def check_entry(
    entry: LedgerEntry, *, previous_hash: str | None, record: Record | None
) -> list[Problem]:
    """The problems of one entry. ``previous_hash`` is the stored hash of the entry before
    (the genesis hash for entry 1), or None when that entry is missing."""
    problems: list[Problem] = []

    def problem(kind: ProblemKind, detail: str) -> None:
        problems.append(
            Problem(
                kind=kind,
                detail=detail,
                sequence=entry.sequence,
                record_type=entry.record_type,
                record_id=entry.record_id,
                disclosure_id=record.disclosure_id if record else entry.disclosure_id,
                title=record.title if record else entry.disclosure.title,
            )
        )

    computed = entry.computed_hash()
    if computed != entry.entry_hash:
        problem(
            ProblemKind.ENTRY_ALTERED,
            _("the entry's fields hash to %(now)s, not to its stored hash %(stored)s")
            % {"now": computed, "stored": entry.entry_hash},
        )
    if previous_hash is None:
        problem(
            ProblemKind.ENTRY_MISSING,
            _("entry #%(n)s, which this one links to, is missing") % {"n": entry.sequence - 1},
        )
    elif entry.prev_hash != previous_hash:
        problem(
            ProblemKind.CHAIN_BROKEN,
            _("its previous hash %(link)s is not the hash %(stored)s of entry #%(n)s")
            % {"link": entry.prev_hash, "stored": previous_hash, "n": entry.sequence - 1},
        )
    if record is None:
        problem(ProblemKind.RECORD_MISSING, _("the record is no longer in the database"))
        return problems
    now = canonical.content_hash(record.content)
    if now != entry.content_hash:
        problem(
            ProblemKind.CONTENT_CHANGED,
            _("the record now hashes to %(now)s, but %(recorded)s was published")
            % {"now": now, "recorded": entry.content_hash},
        )
    if record.disclosure_id != entry.disclosure_id:
        problem(
            ProblemKind.WRONG_DISCLOSURE,
            _("the entry is filed under disclosure %(filed)s") % {"filed": entry.disclosure_id},
        )
    return problems


def ledger_verify(
    *, expected_heads: Sequence[tuple[int, str]] = (), batch_size: int = BATCH
) -> list[Problem]:
    """Every problem of the chain, in sequence order; an empty list when it is intact.
    ``expected_heads`` are (sequence, entry hash) pairs written down earlier.

    The walk stops at the head read first, so publications committed meanwhile (each moves
    the head in the transaction that adds its entry) are neither missed nor misreported."""
    head = LedgerHead.objects.filter(pk=HEAD_ID).first()
    entries = LedgerEntry.objects.select_related("disclosure").order_by("sequence")
    if head is not None:
        entries = entries.filter(sequence__lte=head.sequence)
    problems: list[Problem] = []
    expected, previous, last = 1, canonical.GENESIS_HASH, None
    while batch := list(entries.filter(sequence__gte=expected)[:batch_size]):
        records = load_records(batch)
        for entry in batch:
            link: str | None = previous if entry.sequence == expected else None
            if link is None and entry.sequence - 1 > expected:
                problems.append(missing_range(expected, entry.sequence - 2))
            problems += check_entry(
                entry, previous_hash=link, record=records.get((entry.record_type, entry.record_id))
            )
            previous, expected, last = entry.entry_hash, entry.sequence + 1, entry
    problems += check_head(head, last)
    problems += check_written_heads(expected_heads)
    problems += unrecorded()
    return problems


def missing_range(first: int, last: int) -> Problem:
    label = f"#{first}" if first == last else f"#{first}–#{last}"
    return Problem(
        kind=ProblemKind.ENTRY_MISSING, detail=_("entries %(range)s are missing") % {"range": label}
    )


def check_head(head: LedgerHead | None, last: LedgerEntry | None) -> list[Problem]:
    """The head row against the chain: entries cut off the end, or added past the head
    without moving it, show here."""
    last_sequence = last.sequence if last else 0
    last_hash = last.entry_hash if last else canonical.GENESIS_HASH
    if head is None:
        if last is None:
            return []
        return [Problem(kind=ProblemKind.HEAD_MISMATCH, detail=_("the head row is missing"))]
    if head.sequence > last_sequence:
        return [
            Problem(
                kind=ProblemKind.ENTRY_MISSING,
                detail=_("the head is at #%(head)s but the chain ends at #%(last)s")
                % {"head": head.sequence, "last": last_sequence},
            )
        ]
    problems = []
    if head.entry_hash != last_hash:
        problems.append(
            Problem(
                kind=ProblemKind.HEAD_MISMATCH,
                sequence=head.sequence,
                detail=_("the head's hash %(head)s is not the entry's %(entry)s")
                % {"head": head.entry_hash, "entry": last_hash},
            )
        )
    # Read the last entry first, then the head: any entry committed by an append is then
    # covered by the head we read.
    beyond = LedgerEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    now = LedgerHead.objects.filter(pk=HEAD_ID).values_list("sequence", flat=True).first()
    if beyond is not None and beyond > (now or 0):
        problems.append(
            Problem(
                kind=ProblemKind.HEAD_MISMATCH,
                detail=_("entries up to #%(beyond)s lie past the head #%(head)s")
                % {"beyond": beyond, "head": now or 0},
            )
        )
    return problems


def check_written_heads(heads: Sequence[tuple[int, str]]) -> list[Problem]:
    problems = []
    stored = dict(
        LedgerEntry.objects.filter(sequence__in=[s for s, _h in heads]).values_list(
            "sequence", "entry_hash"
        )
    )
    for sequence, written in heads:
        if stored.get(sequence) != written.lower():
            problems.append(
                Problem(
                    kind=ProblemKind.HEAD_REWRITTEN,
                    sequence=sequence,
                    detail=_("written down as %(written)s, now %(now)s")
                    % {"written": written, "now": stored.get(sequence, _("no such entry"))},
                )
            )
    return problems


def unrecorded(*, disclosure_id: int | None = None) -> list[Problem]:
    """Published revisions and withdrawals that have no ledger entry."""
    entries = LedgerEntry.objects.filter(record_id=OuterRef("pk"))
    revisions = Revision.objects.filter(
        ~Exists(entries.filter(record_type=RecordType.REVISION))
    ).select_related("disclosure")
    withdrawn = Disclosure.objects.filter(
        Q(status=DisclosureStatus.WITHDRAWN) | Q(withdrawn_at__isnull=False),
        ~Exists(entries.filter(record_type=RecordType.WITHDRAWAL)),
    )
    if disclosure_id is not None:
        revisions = revisions.filter(disclosure_id=disclosure_id)
        withdrawn = withdrawn.filter(pk=disclosure_id)
    problems = [
        Problem(
            kind=ProblemKind.NOT_RECORDED,
            detail=_("revision %(n)s") % {"n": r.number},
            record_type=RecordType.REVISION,
            record_id=r.pk,
            disclosure_id=r.disclosure_id,
            title=r.disclosure.title,
        )
        for r in revisions.order_by("pk")
    ]
    problems += [
        Problem(
            kind=ProblemKind.NOT_RECORDED,
            detail=_("withdrawal"),
            record_type=RecordType.WITHDRAWAL,
            record_id=d.pk,
            disclosure_id=d.pk,
            title=d.title,
        )
        for d in withdrawn.order_by("pk")
    ]
    return problems


def entry_checks(entries: Sequence[LedgerEntry]) -> list[tuple[LedgerEntry, list[Problem]]]:
    """Each entry with its problems now, for a page showing a few entries (three queries)."""
    wanted = [e.sequence - 1 for e in entries if e.sequence > 1]
    previous = dict(
        LedgerEntry.objects.filter(sequence__in=wanted).values_list("sequence", "entry_hash")
    )
    previous[0] = canonical.GENESIS_HASH
    records = load_records(entries)
    return [
        (
            entry,
            check_entry(
                entry,
                previous_hash=previous.get(entry.sequence - 1),
                record=records.get((entry.record_type, entry.record_id)),
            ),
        )
        for entry in entries
    ]
