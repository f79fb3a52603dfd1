"""Keeping the index in step with what is published. The index is derived data: it changes
inside the publishing transaction (gongkai.disclosure.publication calls
:func:`search_index_update`), and :func:`search_index_rebuild` re-creates it from the
published revisions."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.disclosure.models import Disclosure, DisclosureStatus, Revision
from gongkai.search.backends import Backend, backend, tokens_of
from gongkai.search.extract import body_text
from gongkai.search.models import SearchDocument
from gongkai.search.tokens import VERSION, DocumentTokens

BATCH = 1_000


def is_indexable(disclosure: Disclosure) -> bool:
    return (
        disclosure.published_revision_id is not None
        and disclosure.status != DisclosureStatus.WITHDRAWN
    )


def build_document(
    disclosure: Disclosure, revision: Revision, engine: Backend
) -> tuple[SearchDocument, DocumentTokens]:
    """An unsaved document for the published revision, and its tokens."""
    unit, entry = disclosure.unit, disclosure.entry
    document = SearchDocument(
        disclosure=disclosure,
        revision=revision,
        unit=unit,
        scope=revision.scope,
        unit_path=unit.path,
        title=revision.title,
        body=body_text(procedure=revision.procedure, result=revision.result, table=revision.table),
        unit_name=unit.name,
        entry_name=entry.name,
        published_at=revision.published_at,
        version=VERSION,
    )
    tokens = tokens_of(document)
    engine.prepare(document, tokens)
    return document, tokens


@transaction.atomic
def search_index_update(*, disclosure: Disclosure) -> SearchDocument | None:
    """Index the disclosure's published revision in place of what was indexed before, or
    drop it once withdrawn (its tombstone stays on the board, its text leaves the index)."""
    engine = backend()
    old = list(SearchDocument.objects.filter(disclosure=disclosure).defer("vector"))
    if old:
        engine.removing(old)
        SearchDocument.objects.filter(pk__in=[d.pk for d in old]).delete()
    revision_id = disclosure.published_revision_id
    if revision_id is None or not is_indexable(disclosure):
        return None
    revision = Revision.objects.get(pk=revision_id)
    document, tokens = build_document(disclosure, revision, engine)
    document.save()
    engine.added([(document, tokens)])
    return document


def published_disclosures() -> Iterable[Disclosure]:
    """Every indexable disclosure, in the order its current revision was published."""
    return (
        Disclosure.objects.filter(published_revision__isnull=False)
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .select_related("published_revision", "unit", "entry")
        .order_by("published_revision__published_at", "pk")
        .iterator(chunk_size=BATCH)
    )


@transaction.atomic
def search_index_rebuild(*, actor: User | None = None) -> int:
    """Empty the index and index every published revision again, oldest first (so that ids
    keep the order of publication). Readers keep the old index until this commits."""
    engine = backend()
    count = 0
    with engine.bulk_load():
        SearchDocument.objects.all().delete()
        batch: list[tuple[SearchDocument, DocumentTokens]] = []
        for disclosure in published_disclosures():
            assert disclosure.published_revision is not None  # noqa: S101 - filtered above
            batch.append(build_document(disclosure, disclosure.published_revision, engine))
            if len(batch) == BATCH:
                count += _insert(batch, engine)
                batch = []
        count += _insert(batch, engine)
    record_event(actor=actor, action="search.reindexed", after={"documents": count})
    return count


def _insert(batch: list[tuple[SearchDocument, DocumentTokens]], engine: Backend) -> int:
    if not batch:
        return 0
    SearchDocument.objects.bulk_create([document for document, _tokens in batch])
    engine.added(batch)
    return len(batch)
