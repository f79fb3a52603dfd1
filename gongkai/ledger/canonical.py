"""The canonical content of every record the ledger vouches for, and the hashes over it.

This is the one place that decides what is hashed: the ledger hashes a record when it is
published, and ``verify_ledger`` recomputes the same hash from the record as it is in the
database now. A change here changes every hash; never edit a function below without a
new record type (old entries must keep verifying).

Canonical JSON: keys sorted, separators ``(",", ":")``, ``ensure_ascii=False``, UTF-8;
times in UTC, ISO 8601 with microseconds. The functions read attributes only, so they work
on the historical models of a data migration as well as on the live ones.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

GENESIS_HASH = "0" * 64  # the "previous hash" of entry 1

REVISION = "disclosure.revision"
WITHDRAWAL = "disclosure.withdrawal"


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(content: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(content))


def iso_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def revision_content(revision: Any) -> dict[str, Any]:
    """What the reader sees of a published revision (first publication, correction or
    "nothing to report" attestation). Needs ``disclosure.unit``, ``disclosure.entry`` and
    ``published_by`` (select them with the revision)."""
    disclosure = revision.disclosure
    return {
        "disclosure": disclosure.pk,
        "unit": disclosure.unit.code,
        "entry": disclosure.entry.code,
        "period": disclosure.period,
        "event_date": iso_date(disclosure.event_date),
        "is_nil": disclosure.is_nil,
        "revision": revision.number,
        "title": revision.title,
        "procedure": revision.procedure,
        "result": revision.result,
        "table": revision.table,
        "scope": revision.scope,
        "reason": revision.reason,
        "published_at": iso_time(revision.published_at),
        "published_by": revision.published_by.employee_no,
    }


def withdrawal_content(disclosure: Any) -> dict[str, Any]:
    """The tombstone of a withdrawn disclosure: when, and the public reason."""
    return {
        "disclosure": disclosure.pk,
        "withdrawn_at": iso_time(disclosure.withdrawn_at),
        "withdrawal_reason": disclosure.withdrawal_reason,
    }


def entry_hash(
    *,
    sequence: int,
    record_type: str,
    record_id: int,
    event: str,
    content_hash: str,
    prev_hash: str,
    recorded_at: datetime,
) -> str:
    """The hash of one ledger entry; it covers the previous entry's hash, so changing any
    entry changes every hash after it. These are the leaves of a future Merkle tree."""
    return sha256_hex(
        canonical_json(
            {
                "sequence": sequence,
                "record_type": record_type,
                "record_id": record_id,
                "event": event,
                "content_hash": content_hash,
                "prev_hash": prev_hash,
                "recorded_at": iso_time(recorded_at),
            }
        )
    )
