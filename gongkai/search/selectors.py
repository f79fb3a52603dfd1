"""The search itself: terms → one page of the disclosures the user may read, most recently
published first (or, on request, most relevant first), with the matched words marked. The
same code on both engines; only :meth:`Backend.page_ids` differs.

"Most relevant" ranks the newest RELEVANCE_POOL matches (every result a reader can page
through: PER_PAGE × MAX_PAGES) by how often the words occur, a title counting more than the
text; equal scores stay newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.db.models.functions import Substr
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from gongkai.search.backends import backend
from gongkai.search.highlight import marked, snippet, spans
from gongkai.search.models import SearchDocument
from gongkai.search.sources import SearchSource, source
from gongkai.search.tokens import Term, access_tokens, query_terms

PER_PAGE = 20
MAX_PAGES = 50  # deeper than 1,000 results, a narrower query serves better
MAX_QUERY_CHARS = 100
RESULT_FIELDS = ("title", "body", "published_at")  # and the source's listing fields
ITEM = "disclosure__"  # the path from a SearchDocument to the item it indexes
SORT_NEWEST = "newest"
SORT_RELEVANCE = "relevance"
SORT_CHOICES = [
    (SORT_NEWEST, _("Newest first")),
    (SORT_RELEVANCE, _("Most relevant first")),
]
RELEVANCE_POOL = PER_PAGE * MAX_PAGES
RELEVANCE_CHARS = 5_000  # of the text, read to score a match
TITLE_WEIGHT = 3


@dataclass(frozen=True)
class Result:
    disclosure_id: int
    title: SafeString
    snippet: SafeString
    unit: str
    entry: str
    period: str
    published_at: datetime
    url: str


@dataclass(frozen=True)
class SearchPage:
    terms: list[Term]
    results: list[Result]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def access_for(user: Any) -> list[str]:
    """The visibility tokens of everything ``user`` may read (see SearchSource.grants)."""
    unit_ids, roots = source().grants(user)
    roots_ids = [int(root.strip("/").split("/")[-1]) for root in roots]
    return access_tokens(public=True, unit_ids=unit_ids, subtree_ids=roots_ids)


def search_disclosures(
    user: Any, query: str, *, page: int = 1, sort: str = SORT_NEWEST
) -> SearchPage:
    """One page of the published disclosures that ``user`` may read and that contain every
    term of ``query``, newest first or (``SORT_RELEVANCE``) most relevant first. Empty when
    the query has no letters, digits or Han characters."""
    terms = query_terms(query[:MAX_QUERY_CHARS])
    page = min(max(page, 1), MAX_PAGES)
    if not terms:
        return SearchPage(terms=[], results=[], number=1, has_next=False)

    items = source()

    def visible(prefix: str) -> Q:  # the rule itself, applied to the disclosure
        return items.readable(user, prefix=f"{prefix}{ITEM}")

    offset = (page - 1) * PER_PAGE
    if sort == SORT_RELEVANCE:
        pool = backend().page_ids(
            terms=terms, access=access_for(user), visible=visible, offset=0, limit=RELEVANCE_POOL
        )
        ids = by_relevance(pool, terms)[offset : offset + PER_PAGE + 1]
    else:
        ids = backend().page_ids(
            terms=terms, access=access_for(user), visible=visible, offset=offset, limit=PER_PAGE + 1
        )
    has_next = len(ids) > PER_PAGE and page < MAX_PAGES
    shown = ids[:PER_PAGE]
    documents = (
        SearchDocument.objects.filter(pk__in=shown)
        .select_related(*(ITEM + related for related in items.listing_related))
        .only(*RESULT_FIELDS, *(ITEM + field for field in items.listing_fields))
    )
    position = {pk: index for index, pk in enumerate(shown)}
    ordered = sorted(documents, key=lambda document: position[document.pk])
    results = [result(document, terms, items) for document in ordered]
    return SearchPage(terms=terms, results=results, number=page, has_next=has_next)


def by_relevance(ids: list[int], terms: list[Term]) -> list[int]:
    """``ids`` (newest first) ordered by how often the terms occur in each document's title
    (weighted) and text; a stable sort keeps equal scores newest first."""
    rows = SearchDocument.objects.filter(pk__in=ids).values_list(
        "pk", "title", Substr("body", 1, RELEVANCE_CHARS)
    )
    scores = {
        pk: TITLE_WEIGHT * len(spans(title, terms)) + len(spans(body or "", terms))
        for pk, title, body in rows
    }
    return sorted(ids, key=lambda pk: -scores.get(pk, 0))


def result(document: SearchDocument, terms: list[Term], items: SearchSource) -> Result:
    listing = items.listing(document.disclosure)
    return Result(
        disclosure_id=document.disclosure.pk,
        title=marked(document.title, terms),
        snippet=snippet(document.body, terms),
        unit=listing.unit,
        entry=listing.entry,
        period=listing.period,
        published_at=document.published_at,
        url=listing.url,
    )
