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
from typing import Any

from django.conf import settings

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
