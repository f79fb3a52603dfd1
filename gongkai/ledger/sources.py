"""Where the records the ledger vouches for come from.

The ledger stands below the apps whose records it hashes, so it names none of them. An app
registers a :class:`RecordSource` for each of its record types (``LedgerEntry.record_type``)
when it is ready; the ledger reads records, their titles and their files only through these,
both when it appends an entry and when it verifies the chain. The disclosure app registers
the published revision and the withdrawal (its ``ledger_records`` module), and the
reader of its ledger page (:func:`readable_disclosure`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile


class StoredFile(Protocol):
    """A file published with a record: what :func:`gongkai.ledger.canonical.file_manifest`
    lists, and the stored bytes verification hashes again."""

    pk: Any
    original_name: str
    content_type: str
    sha256: str
    file: FieldFile


class LedgerRecord(Protocol):
    """A record as it is in the database now."""

    @property
    def record_id(self) -> int: ...

    @property
    def disclosure_id(self) -> int:
        """The disclosure the record belongs to (``LedgerEntry.disclosure``)."""
        ...

    @property
    def title(self) -> str:
        """How a problem names the record's disclosure."""
        ...

    @property
    def lists_files(self) -> bool:
        """Whether its content lists files from canonical version 2 on (``LedgerEntry.files``)."""
        ...

    @property
    def attachments(self) -> Sequence[StoredFile]:
        """The files published with it, as they are now (none when it lists no files)."""
        ...

    @property
    def files(self) -> list[dict[str, Any]]:
        """The file manifest of :attr:`attachments` (gongkai.ledger.canonical.file_manifest)."""
        ...

    @property
    def placement(self) -> dict[str, Any]:
        """Where it was published, as the transparency log's leaf says: ``unit`` and
        ``entry`` (codes of the unit and the catalog entry) and ``revision`` (its number;
        None for a withdrawal)."""
        ...

    def content(self, version: int, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The canonical content of ``version`` (gongkai.ledger.canonical); from version 2 on,
        for a record that lists files, with ``files`` as its list (by default :attr:`files`)."""
        ...


@dataclass(frozen=True)
class Unrecorded:
    """A published record that has no ledger entry."""

    record_id: int
    disclosure_id: int
    title: str
    detail: str


class RecordSource(Protocol):
    """The records of one record type."""

    def current(self, disclosure_id: int) -> LedgerRecord:
        """The record of the disclosure to append now, read back from the database; raises
        ValueError when the disclosure has none."""
        ...

    def load(self, ids: Sequence[int]) -> list[LedgerRecord]:
        """The records with these ids that still exist, in a fixed number of queries."""
        ...

    def unrecorded(self, recorded: QuerySet[Any], *, disclosure_id: int | None) -> list[Unrecorded]:
        """The published records for which ``recorded`` (the ledger entries of this record
        type whose ``record_id`` is ``OuterRef("pk")``) finds nothing, in id order; only
        those of ``disclosure_id`` when given."""
        ...


DisclosureReader = Callable[[Any, int], Model | None]

_sources: dict[str, RecordSource] = {}
_readers: list[DisclosureReader] = []


def register(record_type: str, source: RecordSource) -> None:
    """Make ``source`` the one that supplies the records of ``record_type``."""
    _sources[record_type] = source


def source(record_type: str) -> RecordSource:
    try:
        return _sources[record_type]
    except KeyError:
        raise ImproperlyConfigured(
            f"no ledger record source is registered for {record_type!r}"
        ) from None


def register_reader(reader: DisclosureReader) -> None:
    """Make ``reader(user, pk)`` the one that gives the ledger page its disclosure: the
    disclosure ``pk`` when ``user`` may read it, else None."""
    _readers[:] = [reader]


def readable_disclosure(user: Any, pk: int) -> Model | None:
    if not _readers:
        raise ImproperlyConfigured("no reader of disclosures is registered with the ledger")
    return _readers[0](user, pk)
