"""What the search index holds, and who supplies it.

Search stands below the disclosures it indexes, so it names none of their models: the
disclosure app registers a :class:`SearchSource` when it is ready
(its ``search_source`` module). The index asks it what to index of a disclosure now
(:class:`Indexed`), what to index on a rebuild, which rows a reader may see (the visibility
tokens and the filter that is the rule), and how a result shows the disclosure it found
(:class:`Listing`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from gongkai.core.scope import Scope
from gongkai.org.models import OrgUnit


@dataclass(frozen=True)
class Indexed:
    """The published text of a disclosure as the index holds it (``SearchDocument``)."""

    # The disclosure and its published revision (models of the disclosure app).
    disclosure: Any
    revision: Any
    unit: OrgUnit
    scope: Scope | str
    title: str
    body: str
    entry_name: str
    published_at: datetime


@dataclass(frozen=True)
class Listing:
    """How a result shows the disclosure it found: the link and the labels under the title."""

    url: str
    unit: str
    entry: str
    period: str


class SearchSource(Protocol):
    # The relations and fields of the disclosure that :meth:`listing` reads, selected with
    # the documents of a page (one query for the page).
    listing_related: tuple[str, ...]
    listing_fields: tuple[str, ...]

    def indexed(self, disclosure: Any) -> Indexed | None:
        """What to index of ``disclosure`` now; None when it must not be in the index."""
        ...

    def everything(self, *, chunk_size: int) -> Iterator[Indexed]:
        """Everything to index, in the order it was published (a rebuild keeps that order),
        read ``chunk_size`` rows at a time."""
        ...

    def grants(self, user: Any) -> tuple[list[int], list[str]]:
        """Besides public items, what ``user`` reads: the units whose internal items they read
        and the paths of the subtrees they read entirely (the visibility tokens)."""
        ...

    def readable(self, user: Any, *, prefix: str) -> Q:
        """The rule: a filter for the disclosures ``user`` may read, at the path ``prefix``."""
        ...

    def listing(self, disclosure: Any) -> Listing: ...


_sources: list[SearchSource] = []


def register(source: SearchSource) -> None:
    """Make ``source`` the one the index reads."""
    _sources[:] = [source]


def source() -> SearchSource:
    if not _sources:
        raise ImproperlyConfigured("no search source is registered")
    return _sources[0]
