"""Every list of the API is paginated the same way: ``?page=1&per_page=25`` in,
``{"count", "page", "per_page", "has_next", "items"}`` out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from gongkai.api.errors import ApiError

T = TypeVar("T")
PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 10_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1")
    per_page: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Items per page")


class Page(Schema, Generic[T]):
    count: int | None = Field(description="How many items in all (null where not counted)")
    page: int
    per_page: int
    has_next: bool
    items: list[T]


def page_of(
    qs: QuerySet[Any], paging: PageQuery, row: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """One page of ``qs`` (ordered), each item through ``row``. A page past the end is a
    404 (as the pages do), except page 1 of an empty list."""
    count = qs.count()
    start = (paging.page - 1) * paging.per_page
    if start and start >= count:
        raise ApiError(404, "no_such_page", _("There is no such page."))
    items: Iterable[Any] = qs[start : start + paging.per_page]
    return {
        "count": count,
        "page": paging.page,
        "per_page": paging.per_page,
        "has_next": start + paging.per_page < count,
        "items": [row(item) for item in items] if row else list(items),
    }
