"""Keeping the index in step with what is published. The index is derived data: it changes
inside the publishing transaction (the disclosure app's publication module calls
:func:`search_index_update`), and :func:`search_index_rebuild` re-creates it from the
published revisions. What to index of a disclosure is the registered source's to say
(gongkai.search.sources)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.search.backends import Backend, backend, tokens_of
from gongkai.search.models import SearchDocument
from gongkai.search.sources import Indexed, source
from gongkai.search.tokens import VERSION, DocumentTokens

BATCH = 1_000


def build_document(item: Indexed, engine: Backend) -> tuple[SearchDocument, DocumentTokens]:
    """An unsaved document for the published revision, and its tokens."""
    unit = item.unit
    document = SearchDocument(
        disclosure=item.disclosure,
        revision=item.revision,
        unit=unit,
        scope=item.scope,
        unit_path=unit.path,
        title=item.title,
        body=item.body,
        unit_name=unit.name,
        entry_name=item.entry_name,
        published_at=item.published_at,
        version=VERSION,
    )
    tokens = tokens_of(document)
    engine.prepare(document, tokens)
    return document, tokens


@transaction.atomic
def search_index_update(*, disclosure: Model) -> SearchDocument | None:
    """Index the disclosure's published revision in place of what was indexed before, or
    drop it once withdrawn (its tombstone stays on the board, its text leaves the index)."""
    engine = backend()
    old = list(SearchDocument.objects.filter(disclosure_id=disclosure.pk).defer("vector"))
    if old:
        engine.removing(old)
        SearchDocument.objects.filter(pk__in=[d.pk for d in old]).delete()
    item = source().indexed(disclosure)
    if item is None:
        return None
    document, tokens = build_document(item, engine)
    document.save()
    engine.added([(document, tokens)])
    return document


@transaction.atomic
def search_index_rebuild(*, actor: User | None = None) -> int:
    """Empty the index and index every published revision again, oldest first (so that ids
    keep the order of publication). Readers keep the old index until this commits."""
    engine = backend()
    count = 0
    with engine.bulk_load():
        SearchDocument.objects.all().delete()
        batch: list[tuple[SearchDocument, DocumentTokens]] = []
        for item in source().everything(chunk_size=BATCH):
            batch.append(build_document(item, engine))
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
