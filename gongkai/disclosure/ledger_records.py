"""What the publication ledger vouches for of a disclosure: its published revisions (with
the files published with each) and its withdrawal. The ledger reads them only through the
sources here, registered when the app is ready (DisclosureConfig.ready, see
gongkai.ledger.sources); the canonical content itself is gongkai.ledger.canonical."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Q, QuerySet
from django.utils.translation import gettext as _

from gongkai.disclosure.models import Attachment, Disclosure, DisclosureStatus, Revision
from gongkai.disclosure.permissions import can_read
from gongkai.ledger import canonical, sources
from gongkai.ledger.models import RecordType
from gongkai.ledger.sources import LedgerRecord, Unrecorded

REVISION_RELATED = ("disclosure__unit", "disclosure__entry", "published_by")


@dataclass(frozen=True)
class RevisionRecord:
    """A published revision (first publication, correction or attestation) and the files
    published with it, as they are now."""

    revision: Revision
    attachments: tuple[Attachment, ...] = ()
    lists_files = True

    @property
    def record_id(self) -> int:
        return self.revision.pk

    @property
    def disclosure_id(self) -> int:
        return self.revision.disclosure_id

    @property
    def title(self) -> str:
        return self.revision.disclosure.title

    @property
    def files(self) -> list[dict[str, Any]]:
        return canonical.file_manifest(self.attachments)

    @property
    def placement(self) -> dict[str, Any]:
        disclosure = self.revision.disclosure
        return {
            "unit": disclosure.unit.code,
            "entry": disclosure.entry.code,
            "revision": self.revision.number,
        }

    def content(self, version: int, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        if version == canonical.FIRST_VERSION:
            return canonical.revision_content(self.revision)
        return canonical.revision_content_v2(self.revision, self.files if files is None else files)


@dataclass(frozen=True)
class WithdrawalRecord:
    """The tombstone of a withdrawn disclosure."""

    withdrawn: Disclosure
    attachments: tuple[Attachment, ...] = ()
    lists_files = False

    @property
    def record_id(self) -> int:
        return self.withdrawn.pk

    @property
    def disclosure_id(self) -> int:
        return self.withdrawn.pk

    @property
    def title(self) -> str:
        return self.withdrawn.title

    @property
    def files(self) -> list[dict[str, Any]]:
        return []

    @property
    def placement(self) -> dict[str, Any]:
        return {
            "unit": self.withdrawn.unit.code,
            "entry": self.withdrawn.entry.code,
            "revision": None,
        }

    def content(self, version: int, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return canonical.withdrawal_content(self.withdrawn)


class PublishedRevisions:
    """Record type ``disclosure.revision``."""

    def current(self, disclosure_id: int) -> LedgerRecord:
        revision_id = (
            Disclosure.objects.filter(pk=disclosure_id)
            .values_list("published_revision_id", flat=True)
            .get()
        )
        if revision_id is None:
            raise ValueError(f"disclosure {disclosure_id} has no published revision")
        revision = Revision.objects.select_related(*REVISION_RELATED).get(pk=revision_id)
        return RevisionRecord(
            revision=revision, attachments=tuple(Attachment.objects.filter(published_in=revision))
        )

    def load(self, ids: Sequence[int]) -> list[LedgerRecord]:
        files: dict[int, list[Attachment]] = defaultdict(list)
        for attachment in Attachment.objects.filter(published_in_id__in=ids):
            files[attachment.published_in_id].append(attachment)  # type: ignore[index]
        revisions = Revision.objects.filter(pk__in=ids).select_related(*REVISION_RELATED)
        return [
            RevisionRecord(revision=revision, attachments=tuple(files.get(revision.pk, ())))
            for revision in revisions
        ]

    def unrecorded(self, recorded: QuerySet[Any], *, disclosure_id: int | None) -> list[Unrecorded]:
        revisions = Revision.objects.filter(~Exists(recorded)).select_related("disclosure")
        if disclosure_id is not None:
            revisions = revisions.filter(disclosure_id=disclosure_id)
        return [
            Unrecorded(
                record_id=r.pk,
                disclosure_id=r.disclosure_id,
                title=r.disclosure.title,
                detail=_("revision %(n)s") % {"n": r.number},
            )
            for r in revisions.order_by("pk")
        ]


class Withdrawals:
    """Record type ``disclosure.withdrawal``."""

    def current(self, disclosure_id: int) -> LedgerRecord:
        withdrawn = Disclosure.objects.select_related("unit", "entry").get(pk=disclosure_id)
        if withdrawn.withdrawn_at is None:
            raise ValueError(f"disclosure {disclosure_id} is not withdrawn")
        return WithdrawalRecord(withdrawn=withdrawn)

    def load(self, ids: Sequence[int]) -> list[LedgerRecord]:
        withdrawn = Disclosure.objects.filter(pk__in=ids).select_related("unit", "entry")
        return [WithdrawalRecord(withdrawn=d) for d in withdrawn]

    def unrecorded(self, recorded: QuerySet[Any], *, disclosure_id: int | None) -> list[Unrecorded]:
        withdrawn = Disclosure.objects.filter(
            Q(status=DisclosureStatus.WITHDRAWN) | Q(withdrawn_at__isnull=False),
            ~Exists(recorded),
        )
        if disclosure_id is not None:
            withdrawn = withdrawn.filter(pk=disclosure_id)
        return [
            Unrecorded(record_id=d.pk, disclosure_id=d.pk, title=d.title, detail=_("withdrawal"))
            for d in withdrawn.order_by("pk")
        ]


def readable_disclosure(user: Any, pk: int) -> Disclosure | None:
    """The disclosure of the ledger page when ``user`` may read it (the public too, for
    public items), else None, as for a missing one."""
    disclosure = Disclosure.objects.select_related("unit").filter(pk=pk).first()
    if disclosure is None or not can_read(user, disclosure):
        return None
    return disclosure


def register() -> None:
    """Register the sources of both record types and the ledger page's reader."""
    sources.register(RecordType.REVISION, PublishedRevisions())
    sources.register(RecordType.WITHDRAWAL, Withdrawals())
    sources.register_reader(readable_disclosure)
