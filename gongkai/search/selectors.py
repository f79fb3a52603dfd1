"""The search itself: terms → one page of the disclosures the user may read, most recently
published first, with the matched words marked. The same code on both engines; only
:meth:`Backend.page_ids` differs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.safestring import SafeString

from gongkai.core.periods import InvalidPeriod, Period
from gongkai.policy.disclosure import readable_disclosure_grants, readable_disclosures_q
from gongkai.search.backends import backend
from gongkai.search.highlight import marked, snippet
from gongkai.search.models import SearchDocument
from gongkai.search.tokens import Term, access_tokens, query_terms

PER_PAGE = 20
MAX_PAGES = 50  # deeper than 1,000 results, a narrower query serves better
MAX_QUERY_CHARS = 100
RESULT_FIELDS = (
    "title",
    "body",
    "published_at",
    "disclosure__period",
    "disclosure__event_date",
    "disclosure__unit__name",
    "disclosure__entry__name",
)


@dataclass(frozen=True)
class Result:
    disclosure_id: int
    title: SafeString
    snippet: SafeString
    unit: str
    entry: str
    period: str
    published_at: datetime

    @property
    def url(self) -> str:
        return reverse("disclosure:detail", args=[self.disclosure_id])


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
    """The visibility tokens of everything ``user`` may read (see readable_disclosure_grants)."""
    unit_ids, roots = readable_disclosure_grants(user)
    roots_ids = [int(root.strip("/").split("/")[-1]) for root in roots]
    return access_tokens(public=True, unit_ids=unit_ids, subtree_ids=roots_ids)


def search_disclosures(user: Any, query: str, *, page: int = 1) -> SearchPage:
    """One page of the published disclosures that ``user`` may read and that contain every
    term of ``query``. Empty when the query has no letters, digits or Han characters."""
    terms = query_terms(query[:MAX_QUERY_CHARS])
    page = min(max(page, 1), MAX_PAGES)
    if not terms:
        return SearchPage(terms=[], results=[], number=1, has_next=False)

    def visible(prefix: str) -> Q:  # the rule itself, applied to the disclosure
        return readable_disclosures_q(user, prefix=f"{prefix}disclosure__")

    ids = backend().page_ids(
        terms=terms,
        access=access_for(user),
        visible=visible,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE + 1,
    )
    has_next = len(ids) > PER_PAGE and page < MAX_PAGES
    documents = (
        SearchDocument.objects.filter(pk__in=ids[:PER_PAGE])
        .select_related("disclosure__entry", "disclosure__unit")
        .only(*RESULT_FIELDS)
        .order_by("-pk")
    )
    results = [result(document, terms) for document in documents]
    return SearchPage(terms=terms, results=results, number=page, has_next=has_next)


def result(document: SearchDocument, terms: list[Term]) -> Result:
    disclosure = document.disclosure
    return Result(
        disclosure_id=disclosure.pk,
        title=marked(document.title, terms),
        snippet=snippet(document.body, terms),
        unit=disclosure.unit.name,
        entry=disclosure.entry.name,
        period=period_label(disclosure.period) or str(disclosure.event_date or ""),
        published_at=document.published_at,
    )


def period_label(key: str) -> str:
    if not key:
        return ""
    try:
        return str(Period.parse(key).label())
    except InvalidPeriod:
        return key
