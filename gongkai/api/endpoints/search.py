"""Search: the same search as the page, the same visibility (``search_disclosures``)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.html import strip_tags
from ninja import Query, Router, Schema
from pydantic import Field

from gongkai.api.auth import caller, token_roots
from gongkai.api.schemas import responses
from gongkai.disclosure.models import Disclosure
from gongkai.search.selectors import MAX_PAGES, PER_PAGE, search_disclosures

router = Router(tags=["search"])


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=100, description="Words to find (Chinese or not)")
    page: int = Field(1, ge=1, le=MAX_PAGES)
    sort: Literal["newest", "relevance"] = "newest"


class Hit(Schema):
    id: int
    title: str
    snippet_html: str = Field(description="An excerpt, HTML-escaped, the words in <mark>")
    unit: str
    entry: str
    period: str
    published_at: datetime
    url: str


class Hits(Schema):
    count: None = Field(None, description="Search results are not counted")
    page: int
    per_page: int
    has_next: bool
    items: list[Hit]


@router.get("/search", response=responses(Hits), summary="Search published disclosures")
def search(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    found = search_disclosures(caller(request), query.q, page=query.page, sort=query.sort)
    results = found.results
    roots = token_roots(request)
    if roots:  # a token limited to units sees only hits in them (a page may hold fewer)
        paths = dict(
            Disclosure.objects.filter(pk__in=[r.disclosure_id for r in results]).values_list(
                "pk", "unit__path"
            )
        )
        results = [
            r for r in results if any(paths.get(r.disclosure_id, "").startswith(x) for x in roots)
        ]
    return {
        "count": None,
        "page": found.number,
        "per_page": PER_PAGE,
        "has_next": found.has_next,
        "items": [
            {
                "id": r.disclosure_id,
                "title": html.unescape(strip_tags(r.title)),
                "snippet_html": str(r.snippet),
                "unit": r.unit,
                "entry": r.entry,
                "period": r.period,
                "published_at": r.published_at,
                "url": r.url,
            }
            for r in results
        ],
    }
