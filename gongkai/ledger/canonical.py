"""The canonical content of every record the ledger vouches for, and the hashes over it.

This is the one place that decides what is hashed: the ledger hashes a record when it is
published, and ``verify_ledger`` recomputes the same hash from the record as it is in the
database now. A change here changes every hash; never edit a function below: add a canonical
version instead (old entries must keep verifying). Each entry stores the version it was
hashed with (``LedgerEntry.canonical_version``); new entries use :data:`CURRENT_VERSION`.

- Version 1: the revision's fields (:func:`revision_content`), the withdrawal tombstone, and
  an entry hash over the entry's fields.
- Version 2: the same, plus the files published with the revision — each one's id, name,
  type and the SHA-256 of its bytes (:func:`revision_content_v2`) — and the version itself in
  the entry hash, so that an entry cannot be passed off as one of version 1.

Canonical JSON: keys sorted, separators ``(",", ":")``, ``ensure_ascii=False``, UTF-8;
times in UTC, ISO 8601 with microseconds. The functions read attributes only, so they work
on the historical models of a data migration as well as on the live ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

GENESIS_HASH = "0" * 64  # the "previous hash" of entry 1

REVISION = "disclosure.revision"
WITHDRAWAL = "disclosure.withdrawal"

FIRST_VERSION = 1
FILES_VERSION = 2  # the files published with a revision are part of its content
CURRENT_VERSION = FILES_VERSION
VERSIONS = (FIRST_VERSION, FILES_VERSION)


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


def file_manifest(attachments: Iterable[Any]) -> list[dict[str, Any]]:
    """The files published with a revision, in id order: what a reader downloads (name, type
    and the SHA-256 of the bytes, computed when the file was stored)."""
    return [
        {
            "id": attachment.pk,
            "name": attachment.original_name,
            "type": attachment.content_type,
            "sha256": attachment.sha256,
        }
        for attachment in sorted(attachments, key=lambda attachment: attachment.pk)
    ]


def revision_content_v2(revision: Any, files: list[dict[str, Any]]) -> dict[str, Any]:
    """Version 2: :func:`revision_content` and the :func:`file_manifest` of the files
    published with the revision (``Attachment.published_in``)."""
    return {**revision_content(revision), "files": files}


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
    version: int = FIRST_VERSION,
) -> str:
    """The hash of one ledger entry; it covers the previous entry's hash, so changing any
    entry changes every hash after it. These are the leaves of a future Merkle tree. From
    version 2 on it covers the canonical version too (version 1 entries keep their hash)."""
    fields: dict[str, Any] = {
        "sequence": sequence,
        "record_type": record_type,
        "record_id": record_id,
        "event": event,
        "content_hash": content_hash,
        "prev_hash": prev_hash,
        "recorded_at": iso_time(recorded_at),
    }
    if version != FIRST_VERSION:
        fields["canonical_version"] = version
    return sha256_hex(canonical_json(fields))
