"""What the search index holds of a disclosure (the text of its published revision) and
who may find it: the source registered with gongkai.search.sources when the app is ready
(DisclosureConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.urls import reverse

from gongkai.core.periods import InvalidPeriod, Period
from gongkai.disclosure.models import Disclosure, DisclosureStatus, Revision
from gongkai.disclosure.permissions import readable_disclosure_grants, readable_disclosures_q
from gongkai.search import sources
from gongkai.search.extract import body_text
from gongkai.search.sources import Indexed, Listing


def is_indexable(disclosure: Disclosure) -> bool:
    return (
        disclosure.published_revision_id is not None
        and disclosure.status != DisclosureStatus.WITHDRAWN
    )


def indexed(disclosure: Disclosure, revision: Revision) -> Indexed:
    return Indexed(
        disclosure=disclosure,
        revision=revision,
        unit=disclosure.unit,
        scope=revision.scope,
        title=revision.title,
        body=body_text(procedure=revision.procedure, result=revision.result, table=revision.table),
        entry_name=disclosure.entry.name,
        published_at=revision.published_at,
    )


def period_label(key: str) -> str:
    if not key:
        return ""
    try:
        return str(Period.parse(key).label())
    except InvalidPeriod:
        return key


class PublishedDisclosures:
    """The published disclosures, each with the text of its current revision."""

    listing_related: tuple[str, ...] = ("entry", "unit")
    listing_fields: tuple[str, ...] = ("period", "event_date", "unit__name", "entry__name")

    def indexed(self, disclosure: Disclosure) -> Indexed | None:
        revision_id = disclosure.published_revision_id
        if revision_id is None or not is_indexable(disclosure):
            return None
        return indexed(disclosure, Revision.objects.get(pk=revision_id))

    def everything(self, *, chunk_size: int) -> Iterator[Indexed]:
        disclosures = (
            Disclosure.objects.filter(published_revision__isnull=False)
            .exclude(status=DisclosureStatus.WITHDRAWN)
            .select_related("published_revision", "unit", "entry")
            .order_by("published_revision__published_at", "pk")
            .iterator(chunk_size=chunk_size)
        )
        for disclosure in disclosures:
            assert disclosure.published_revision is not None  # noqa: S101 - filtered above
            yield indexed(disclosure, disclosure.published_revision)

    def grants(self, user: Any) -> tuple[list[int], list[str]]:
        return readable_disclosure_grants(user)

    def readable(self, user: Any, *, prefix: str) -> Q:
        return readable_disclosures_q(user, prefix=prefix)

    def listing(self, disclosure: Disclosure) -> Listing:
        return Listing(
            url=reverse("disclosure:detail", args=[disclosure.pk]),
            unit=disclosure.unit.name,
            entry=disclosure.entry.name,
            period=period_label(disclosure.period) or str(disclosure.event_date or ""),
        )


def register() -> None:
    sources.register(PublishedDisclosures())
