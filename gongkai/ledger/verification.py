"""Checking the ledger against the records as they are in the database now.

:func:`ledger_verify` walks the whole chain in sequence order (in batches, so memory stays
flat), recomputes every entry hash and every record's content hash, and names each record
whose stored content no longer matches what was published, each broken link, each missing
entry, and each published record that never reached the ledger. It reads every stored file
of a published revision and hashes it again: a file whose bytes changed or that is gone is
named, and (for entries of canonical version 2, which list the files) each file renamed,
deleted from the database or added to the revision since.

:func:`log_problems` checks the transparency log built over the chain
(gongkai.ledger.transparency): each leaf against the entry it must be, the stored tiles and
root against a tree rebuilt from the leaves, and every signed checkpoint (its signature with
the published verifier keys, its root against the rebuilt tree at its size). A log rolled back
or rebuilt under a checkpoint already signed shows here, and to every witness and mirror.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef
from django.utils.translation import gettext as _

from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import merkle, signing, store
from gongkai.ledger import canonical, transparency
from gongkai.ledger.models import HEAD_ID, LedgerEntry, LedgerHead, ProblemKind, RecordType
from gongkai.ledger.sources import LedgerRecord, StoredFile, source

BATCH = 500
READ_CHUNK = 1024 * 1024


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


def load_records(entries: Iterable[LedgerEntry]) -> dict[tuple[str, int], LedgerRecord]:
    """The current records of the entries, from their registered sources (a fixed number of
    queries for any number of entries: three for revisions and withdrawals)."""
    ids: dict[str, list[int]] = {record_type: [] for record_type in RecordType.values}
    for entry in entries:
        if entry.record_type in ids:
            ids[entry.record_type].append(entry.record_id)
    records: dict[tuple[str, int], LedgerRecord] = {}
    for record_type, wanted in ids.items():
        if wanted:
            for record in source(record_type).load(wanted):
                records[(record_type, record.record_id)] = record
    return records


Finding = tuple[ProblemKind, str]


def check_entry(
    entry: LedgerEntry,
    *,
    previous_hash: str | None,
    record: LedgerRecord | None,
    read_files: bool = False,
) -> list[Problem]:
    """The problems of one entry. ``previous_hash`` is the stored hash of the entry before
    (the genesis hash for entry 1), or None when that entry is missing. With ``read_files``
    the stored bytes of the revision's files are hashed again too."""
    found = entry_findings(entry, previous_hash)
    if record is None:
        found.append((ProblemKind.RECORD_MISSING, _("the record is no longer in the database")))
    elif entry.canonical_version not in canonical.VERSIONS:
        found.append(
            (
                ProblemKind.ENTRY_ALTERED,
                _("canonical version %(version)s does not exist")
                % {"version": entry.canonical_version},
            )
        )
    else:
        published, content = content_findings(entry, record)
        found += content
        if record.disclosure_id != entry.disclosure_id:
            filed = {"filed": entry.disclosure_id}
            detail = _("the entry is filed under disclosure %(filed)s") % filed
            found.append((ProblemKind.WRONG_DISCLOSURE, detail))
        if read_files and record.lists_files:
            found += stored_file_findings(record, published)
    if not found:
        return []
    disclosure_id = record.disclosure_id if record else entry.disclosure_id
    title = record.title if record else entry.disclosure.title
    return [
        Problem(
            kind=kind,
            detail=detail,
            sequence=entry.sequence,
            record_type=entry.record_type,
            record_id=entry.record_id,
            disclosure_id=disclosure_id,
            title=title,
        )
        for kind, detail in found
    ]


def entry_findings(entry: LedgerEntry, previous_hash: str | None) -> list[Finding]:
    """The entry's own hash, and its link to the entry before."""
    found: list[Finding] = []
    computed = entry.computed_hash()
    if computed != entry.entry_hash:
        found.append(
            (
                ProblemKind.ENTRY_ALTERED,
                _("the entry's fields hash to %(now)s, not to its stored hash %(stored)s")
                % {"now": computed, "stored": entry.entry_hash},
            )
        )
    if previous_hash is None:
        found.append(
            (
                ProblemKind.ENTRY_MISSING,
                _("entry #%(n)s, which this one links to, is missing") % {"n": entry.sequence - 1},
            )
        )
    elif entry.prev_hash != previous_hash:
        found.append(
            (
                ProblemKind.CHAIN_BROKEN,
                _("its previous hash %(link)s is not the hash %(stored)s of entry #%(n)s")
                % {"link": entry.prev_hash, "stored": previous_hash, "n": entry.sequence - 1},
            )
        )
    return found


def content_findings(
    entry: LedgerEntry, record: LedgerRecord
) -> tuple[list[dict[str, Any]] | None, list[Finding]]:
    """Whether the record still hashes to what was published; and the published list of
    files, when the record changed and the entry lists them."""
    version = entry.canonical_version
    files_listed = record.lists_files and version >= canonical.FILES_VERSION
    now = canonical.content_hash(record.content(version))
    changed = (
        ProblemKind.CONTENT_CHANGED,
        _("the record now hashes to %(now)s, but %(recorded)s was published")
        % {"now": now, "recorded": entry.content_hash},
    )
    if now == entry.content_hash:
        if files_listed and entry.files != record.files:
            detail = _("the entry's list of files is not the one its content hash covers")
            return None, [(ProblemKind.ENTRY_ALTERED, detail)]
        return None, []
    if not files_listed:
        return None, [changed]
    # Name the files that differ from the list the entry hashed; the revision's own fields
    # changed too unless that list with them gives the published hash.
    published = entry.files if isinstance(entry.files, list) else []
    found: list[Finding] = list(compare_files(published, record.files))
    if canonical.content_hash(record.content(version, published)) != entry.content_hash:
        found.append(changed)
    return published, found


def stored_file_findings(
    record: LedgerRecord, published: list[dict[str, Any]] | None
) -> list[Finding]:
    """The stored bytes of the record's files against the checksums that were published (the
    row's own when the entry does not list the file: version 1, or a file added since)."""
    recorded = {f.get("id"): f for f in (published or []) if isinstance(f, dict)}
    found: list[Finding] = []
    for attachment in record.attachments:
        listed = recorded.get(attachment.pk, {})
        found += check_stored_file(
            attachment,
            expected=listed.get("sha256", attachment.sha256),
            name=listed.get("name", attachment.original_name),
        )
    return found


def file_label(name: Any, pk: Any) -> str:
    return _("“%(name)s” (file %(id)s)") % {"name": name, "id": pk}


def compare_files(
    published: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[tuple[ProblemKind, str]]:
    """How the files of a revision now differ from the list that was published: each one
    gone from the database, renamed, with another checksum or type, or added since."""
    found: list[tuple[ProblemKind, str]] = []
    now = {f["id"]: f for f in current}
    listed = set()
    for was in published:
        if not isinstance(was, dict):
            continue
        pk, name = was.get("id"), was.get("name")
        listed.add(pk)
        file = now.get(pk)
        if file is None:
            found.append(
                (
                    ProblemKind.FILE_MISSING,
                    _("%(file)s is no longer in the database") % {"file": file_label(name, pk)},
                )
            )
            continue
        if file["name"] != name:
            found.append(
                (
                    ProblemKind.FILE_RENAMED,
                    _("%(file)s is now named “%(now)s”")
                    % {"file": file_label(name, pk), "now": file["name"]},
                )
            )
        if file["sha256"] != was.get("sha256"):
            found.append(
                (
                    ProblemKind.FILE_CHANGED,
                    _("%(file)s: its recorded SHA-256 is now %(now)s, but %(was)s was published")
                    % {
                        "file": file_label(name, pk),
                        "now": file["sha256"],
                        "was": was.get("sha256"),
                    },
                )
            )
        if file["type"] != was.get("type"):
            found.append(
                (
                    ProblemKind.FILE_CHANGED,
                    _("%(file)s: its type is now %(now)s, but %(was)s was published")
                    % {"file": file_label(name, pk), "now": file["type"], "was": was.get("type")},
                )
            )
    for pk, file in now.items():
        if pk not in listed:
            found.append(
                (
                    ProblemKind.FILE_ADDED,
                    _("%(file)s was not among the files published with this revision")
                    % {"file": file_label(file["name"], pk)},
                )
            )
    return found


def check_stored_file(
    attachment: StoredFile, *, expected: str, name: str
) -> list[tuple[ProblemKind, str]]:
    """Hash the stored bytes of a published file again; ``expected`` is the SHA-256 that was
    published, ``name`` the name it was published under."""
    label = file_label(name, attachment.pk)
    path = attachment.file.name or ""
    digest = hashlib.sha256()
    try:
        if not path:
            raise FileNotFoundError(path)
        with attachment.file.storage.open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
                digest.update(chunk)
    except (OSError, ValueError):
        return [
            (
                ProblemKind.FILE_MISSING,
                _("%(file)s: the stored file %(path)s is gone") % {"file": label, "path": path},
            )
        ]
    if digest.hexdigest() != expected:
        return [
            (
                ProblemKind.FILE_CHANGED,
                _("%(file)s: the stored bytes now hash to %(now)s, but %(was)s was published")
                % {"file": label, "now": digest.hexdigest(), "was": expected},
            )
        ]
    return []


def ledger_verify(
    *,
    expected_heads: Sequence[tuple[int, str]] = (),
    batch_size: int = BATCH,
    read_files: bool = True,
) -> list[Problem]:
    """Every problem of the chain, in sequence order; an empty list when it is intact.
    ``expected_heads`` are (sequence, entry hash) pairs written down earlier. Every stored
    file of a published revision is read and hashed again (unless ``read_files`` is off).

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
                entry,
                previous_hash=link,
                record=records.get((entry.record_type, entry.record_id)),
                read_files=read_files,
            )
            previous, expected, last = entry.entry_hash, entry.sequence + 1, entry
    problems += check_head(head, last)
    problems += check_written_heads(expected_heads)
    problems += unrecorded()
    problems += log_problems(batch_size=batch_size)
    return problems


def log_problems(*, batch_size: int = BATCH) -> list[Problem]:
    """Every problem of the publication log: leaves that are not their entries, a tree
    that does not match its leaves, checkpoints that do not verify or do not match."""
    size = store.head(transparency.LOG).size
    problems: list[Problem] = []
    tree = merkle.MemoryTree()
    for start in range(0, size, batch_size):
        stop = min(start + batch_size, size)
        try:
            leaves = store.entries(transparency.LOG, start, stop)
        except store.NotInLog as missing:
            problems.append(Problem(kind=ProblemKind.LOG_TREE, detail=str(missing)))
            return problems
        entries = {
            e.sequence: e
            for e in LedgerEntry.objects.filter(sequence__gt=start, sequence__lte=stop)
        }
        where = transparency.placements(list(entries.values()))
        for index, data in enumerate(leaves, start):
            tree.append(merkle.leaf_hash(data))
            entry = entries.get(index + 1)
            expected = (
                None
                if entry is None
                else transparency.leaf_data(
                    entry, where.get((entry.record_type, entry.record_id), {})
                )
            )
            if data != expected:
                problems.append(
                    Problem(
                        kind=ProblemKind.LOG_LEAF,
                        sequence=index + 1,
                        detail=_("leaf %(index)s is not what entry #%(n)s makes")
                        % {"index": index, "n": index + 1}
                        if entry is not None
                        else _("leaf %(index)s has no entry #%(n)s")
                        % {"index": index, "n": index + 1},
                    )
                )
    problems += tree_problems(tree)
    problems += checkpoint_problems(tree)
    return problems


def tree_problems(tree: merkle.MemoryTree) -> list[Problem]:
    """The stored root and every stored tile against the tree rebuilt from the leaves."""
    problems = []
    if store.head(transparency.LOG).root != tree.root():
        problems.append(
            Problem(
                kind=ProblemKind.LOG_TREE,
                detail=_("the stored root is not the root of the leaves"),
            )
        )
    for tile in merkle.tiles(tree.size):
        try:
            stored = store.tile_bytes(transparency.LOG, tile, tree.size)
        except store.NotInLog:
            stored = b""
        if stored != merkle.tile_data(tile, tree.hash_at):
            problems.append(
                Problem(
                    kind=ProblemKind.LOG_TREE,
                    detail=_("tile %(path)s does not match the leaves") % {"path": tile.path},
                )
            )
    return problems


def checkpoint_problems(tree: merkle.MemoryTree) -> list[Problem]:
    """Each signed checkpoint: signed by a published key, for this log, with the root the
    leaves give at its size."""
    problems = []
    keys = signing.published_verifiers()
    for checkpoint in LogCheckpoint.objects.filter(log_id=transparency.LOG).order_by("size"):
        label = _("checkpoint of size %(size)s") % {"size": checkpoint.size}
        opened = signing.open_signed(checkpoint.note, keys)
        if opened is None:
            detail = _("%(checkpoint)s is not signed by a published key") % {"checkpoint": label}
        elif (opened.checkpoint.size, opened.checkpoint.root) != (
            checkpoint.size,
            bytes(checkpoint.root),
        ):
            detail = _("%(checkpoint)s says another size or root than its row") % {
                "checkpoint": label
            }
        elif checkpoint.size > tree.size:
            detail = _("%(checkpoint)s is larger than the log (%(size)s leaves): rolled back") % {
                "checkpoint": label,
                "size": tree.size,
            }
        elif tree.root(checkpoint.size) != bytes(checkpoint.root):
            detail = _("%(checkpoint)s has a root the leaves do not give: rewritten") % {
                "checkpoint": label
            }
        else:
            continue
        problems.append(Problem(kind=ProblemKind.CHECKPOINT, detail=detail))
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
    return [
        Problem(
            kind=ProblemKind.NOT_RECORDED,
            detail=missing.detail,
            record_type=record_type,
            record_id=missing.record_id,
            disclosure_id=missing.disclosure_id,
            title=missing.title,
        )
        for record_type in RecordType
        for missing in source(record_type).unrecorded(
            entries.filter(record_type=record_type), disclosure_id=disclosure_id
        )
    ]


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
