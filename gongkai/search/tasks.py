"""The search index's background work: rebuilding it (``manage.py search_reindex`` enqueues
:func:`reindex`; ``--now`` runs it in the foreground).

Publishing still indexes synchronously, inside the publishing transaction
(``search_index_update``, called by the disclosure app's publication module): a published
item is found from the moment it is published, and a withdrawn one is gone from the moment
it is withdrawn. The rebuild is for data that existed before the index did, for a tokenizer
upgrade, and for repairs.

:func:`reindex_all` walks every item the index is of (the disclosure app's rows, named through
the document's relation: search stands below them) in batches of :data:`BATCH`, each batch
its own short transaction, so publishing is never held up for long (on SQLite a single
transaction over the whole index would block every writer for its length). In each batch
the items are locked (PostgreSQL) and read again, the registered source says what to index
of each now, and only documents that differ from it are written: a missing one is added, a
stale one replaced, one that must no longer be in the index removed. So a second run writes
nothing, and a run cut short (a worker killed, a retry) is finished by the next.

The one exception: on SQLite, documents indexed by an older tokenizer cannot be deleted from
the contentless FTS5 table (its 'delete' needs the very tokens first indexed), so when any is
left the index is rebuilt in one transaction (``search_index_rebuild``: the FTS5 table is
emptied with 'delete-all' and filled again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Model

from gongkai.audit.services import record_event
from gongkai.core.queue import task
from gongkai.search.backends import backend
from gongkai.search.models import SearchDocument
from gongkai.search.services import build_document, search_index_rebuild
from gongkai.search.sources import Indexed, source
from gongkai.search.tokens import VERSION

BATCH = 200  # items locked and compared per transaction


@dataclass
class Reindexed:
    documents: int = 0  # in the index after the run
    written: int = 0  # documents added or replaced
    removed: int = 0  # documents of items no longer to be found
    full: bool = False  # rebuilt in one transaction (SQLite, after a tokenizer upgrade)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed or self.full)


def indexed_model() -> type[Model]:
    """The model the index is of: the target of ``SearchDocument.disclosure``."""
    return cast(type[Model], SearchDocument._meta.get_field("disclosure").related_model)


def is_current(document: SearchDocument, item: Indexed) -> bool:
    """Whether the stored document is what indexing ``item`` now would write."""
    return (
        document.version == VERSION
        and document.revision_id == item.revision.pk
        and document.unit_id == item.unit.pk
        and document.unit_path == item.unit.path
        and document.unit_name == item.unit.name
        and document.scope == item.scope
        and document.title == item.title
        and document.body == item.body
        and document.entry_name == item.entry_name
        and document.published_at == item.published_at
    )


def reindex_batch(after: Any, outcome: Reindexed) -> Any | None:
    """Bring the documents of the next :data:`BATCH` items (by primary key, after ``after``)
    up to date, in one transaction. Returns the last key of the batch, None when there is
    none."""
    engine = backend()
    found = source()
    with transaction.atomic():
        items = indexed_model()._default_manager.order_by("pk")
        if after is not None:
            items = items.filter(pk__gt=after)
        # Locked so that a publication or withdrawal of one of them waits for this batch (or
        # this batch for it): what is compared below is what stays. The relations the
        # source's listing reads are the ones it reads to index (unit, catalog entry).
        batch = list(
            items.select_for_update(of=("self",)).select_related(*found.listing_related)[:BATCH]
        )
        if not batch:
            return None
        stored = {
            document.disclosure_id: document
            for document in SearchDocument.objects.filter(
                disclosure_id__in=[item.pk for item in batch]
            ).defer("vector")
        }
        stale: list[SearchDocument] = []
        fresh = []
        for item in batch:
            now = found.indexed(item)
            document = stored.get(item.pk)
            if now is None:
                if document is not None:
                    stale.append(document)
                    outcome.removed += 1
                continue
            outcome.documents += 1
            if document is not None and is_current(document, now):
                continue
            if document is not None:
                stale.append(document)
            fresh.append(build_document(now, engine))
        if stale:
            engine.removing(stale)
            SearchDocument.objects.filter(pk__in=[d.pk for d in stale]).delete()
        if fresh:
            SearchDocument.objects.bulk_create([document for document, _tokens in fresh])
            engine.added(fresh)
            outcome.written += len(fresh)
    return batch[-1].pk


def reindex_all() -> Reindexed:
    """Bring the whole index up to date (see the module's docstring); audited when anything
    changed, as nobody (the command's operator is not a user)."""
    if connection.vendor == "sqlite" and SearchDocument.objects.exclude(version=VERSION).exists():
        return Reindexed(documents=search_index_rebuild(), full=True)  # audited there
    outcome = Reindexed()
    after: Any = None
    while (after := reindex_batch(after, outcome)) is not None:
        pass
    if outcome.changed:
        record_event(actor=None, action="search.reindexed", after={"documents": outcome.documents})
    return outcome


@task()
def reindex() -> None:
    """Rebuild the search index in the background (:func:`reindex_all`); retried with backoff
    when a batch fails (a lock timeout, a deadlock with a publication): the retry finds the
    batches already done up to date and writes them no more."""
    reindex_all()
