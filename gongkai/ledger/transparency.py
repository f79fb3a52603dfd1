"""The publication ledger as a transparency log: every ledger entry, in sequence order, is a
leaf of the ``publication`` log (gongkai.core.tlog), whose signed checkpoints and tiles anyone
may fetch without signing in (``/ledger/log/``) and check with ``tools/verify_ledger.py``.

**Wrapping the chain.** The hash chain stays (its entries, their order and hashes are the
history); the log is built over it. Leaf ``i`` is entry ``i + 1``: :func:`leaf_data` is the
entry's fields (sequence, record, event, content hash, previous and own entry hash, time,
canonical version) with where the record was published (unit, catalog entry, revision), as
canonical JSON. It reveals nothing an anonymous visitor may not read: no title, no text, no
file name, only hashes of them; an employee who can read the record recomputes its content
hash (``/ledger/disclosures/<pk>/``) and checks it against the leaf.

**Sequencing.** Entries are appended to the chain inside the publishing transaction; the log
takes them afterwards (:func:`integrate`: the entries after the log's size, in order, stopping
at a gap, under the log's lock), and a checkpoint is signed at the new size
(:func:`checkpoint`). Both run in the queue after each publication commits and every minute
(gongkai.ledger.tasks), so the first checkpoint of an installation that had a chain before
this log existed takes in the whole chain, in order: the old entries become the first leaves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from gongkai.core.documents import Mark
from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import signing, store
from gongkai.core.tlog.store import TreeHead
from gongkai.ledger import canonical
from gongkai.ledger.models import LedgerEntry
from gongkai.ledger.sources import source

LOG = "publication"
LEAF_FORMAT = "gongkai-ledger-leaf/v1"
BATCH = 2_000  # entries read and appended per transaction


def origin() -> str:
    """The publication log's origin line (its name in checkpoints; the key is named so)."""
    return str(settings.LEDGER_ORIGIN)


def leaf_fields(entry: LedgerEntry, placement: dict[str, Any]) -> dict[str, Any]:
    """What leaf ``entry.sequence - 1`` says: the entry's own fields and its ``placement``
    (unit code, catalog entry code, revision number: None for a withdrawal)."""
    return {
        "format": LEAF_FORMAT,
        "sequence": entry.sequence,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "event": entry.event,
        "disclosure": entry.disclosure_id,
        "unit": placement.get("unit"),
        "entry": placement.get("entry"),
        "revision": placement.get("revision"),
        "content_hash": entry.content_hash,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
        "recorded_at": canonical.iso_time(entry.recorded_at),
        "canonical_version": entry.canonical_version,
    }


def leaf_data(entry: LedgerEntry, placement: dict[str, Any]) -> bytes:
    return canonical.canonical_json(leaf_fields(entry, placement))


def placements(entries: Sequence[LedgerEntry]) -> dict[tuple[str, int], dict[str, Any]]:
    """Where each entry's record was published, by (record type, record id), read through
    the record sources in one pass per record type."""
    ids: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        ids[entry.record_type].append(entry.record_id)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for record_type, record_ids in ids.items():
        for record in source(record_type).load(record_ids):
            found[(record_type, record.record_id)] = record.placement
    return found


def leaves_after(size: int, limit: int = BATCH) -> list[bytes]:
    """The leaves that follow a log of ``size`` leaves: entries ``size + 1`` on, in order,
    up to the first gap (a missing entry: verification names it; the log waits)."""
    entries = list(LedgerEntry.objects.filter(sequence__gt=size).order_by("sequence")[:limit])
    contiguous = []
    for offset, entry in enumerate(entries, size + 1):
        if entry.sequence != offset:
            break
        contiguous.append(entry)
    where = placements(contiguous)
    return [leaf_data(e, where.get((e.record_type, e.record_id), {})) for e in contiguous]


def integrate() -> TreeHead:
    """Append every ledger entry the log does not hold yet; the log's head after."""
    tree = store.head(LOG)
    if not LedgerEntry.objects.filter(sequence__gt=tree.size).exists():
        return tree  # nothing new: no lock taken (the worker asks every minute)
    while True:
        after = store.append(LOG, leaves_after)
        if after.size == tree.size:
            return after
        tree = after


def checkpoint() -> LogCheckpoint:
    """Integrate, then sign a checkpoint at the log's size (once per size)."""
    integrate()
    return signing.sign_checkpoint(LOG, origin())


def latest() -> LogCheckpoint | None:
    return store.latest_checkpoint(LOG)


@dataclass(frozen=True)
class Leaf:
    """A ledger entry as a leaf of the log, for the pages that show it."""

    entry: LedgerEntry
    signed_size: int  # the newest checkpoint's size (0: none yet)

    @property
    def index(self) -> int:
        return self.entry.sequence - 1

    @property
    def signed(self) -> bool:
        """Whether the newest checkpoint covers it (its proof can be had)."""
        return self.index < self.signed_size

    @property
    def proof_url(self) -> str:
        query = urlencode({"index": self.index, "size": self.signed_size})
        return f"{reverse('ledger:proof_inclusion')}?{query}"

    @property
    def record_url(self) -> str:
        return reverse("ledger:record", args=[self.entry.disclosure_id, self.entry.sequence])


def leaves_of(entries: Sequence[LedgerEntry]) -> list[Leaf]:
    """The entries as leaves, against the newest checkpoint (one query)."""
    newest = latest()
    size = newest.size if newest is not None else 0
    return [Leaf(entry, size) for entry in entries]


def record_for_reader(entry: LedgerEntry) -> dict[str, Any]:
    """What a reader downloads to check an entry offline (``tools/verify_ledger.py
    --record``): its sequence and leaf index, and the record's canonical content as it is
    stored now, whose SHA-256 must be the leaf's content hash."""
    records = {r.record_id: r for r in source(entry.record_type).load([entry.record_id])}
    record = records.get(entry.record_id)
    content = (
        None
        if record is None
        else record.content(
            entry.canonical_version, files=entry.files if record.lists_files else None
        )
    )
    return {
        "format": "gongkai-ledger-record/v1",
        "origin": origin(),
        "sequence": entry.sequence,
        "leaf_index": entry.sequence - 1,
        "content_hash": entry.content_hash,
        "content": content,
    }


def document_mark() -> Mark | None:
    """The checkpoint a document is produced under, to print at its end (the circulars,
    the annual report): size, the root's first 16 hexadecimal digits and a QR code of the
    checkpoint's address. None before the first checkpoint."""
    newest = latest()
    if newest is None:
        return None
    text = _(
        "Produced under the publication ledger's checkpoint of %(size)s entries, root "
        "%(root)s…; scan to compare it with the log."
    ) % {"size": newest.size, "root": newest.short_root}
    return Mark(text=text, url=f"{settings.SITE_URL}{reverse('ledger:checkpoint')}")
