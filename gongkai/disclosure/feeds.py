"""Atom feeds: each board's (public items only for anonymous readers; what a signed-in reader
may read otherwise) and the public page's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.utils.formats import date_format
from django.utils.html import escape, strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gongkai.disclosure.boards import visibility, visible_q
from gongkai.disclosure.models import Disclosure, DisclosureStatus, Revision
from gongkai.disclosure.permissions import is_public_record, public_record_q
from gongkai.org.models import OrgUnit
from gongkai.org.selectors import unit_chain
from gongkai.policy.rules import Action, can

FEED_ITEMS = 50
SUMMARY_CHARS = 300


@dataclass(frozen=True)
class FeedSource:
    title: str
    link: str
    subtitle: str
    items: list[Disclosure]


def newest(q: Any) -> list[Disclosure]:
    qs = Disclosure.objects.filter(q).select_related("unit", "entry", "published_revision")
    return list(qs.order_by("-first_published_at", "-id")[:FEED_ITEMS])


def revision_of(item: Disclosure) -> Revision:
    revision = item.published_revision
    assert revision is not None  # noqa: S101 - feeds list published items only
    return revision


class DisclosureFeed(Feed):
    """Items are disclosures with a published revision; withdrawn ones as tombstones."""

    feed_type = Atom1Feed

    def title(self, obj: FeedSource) -> str:
        return obj.title

    def link(self, obj: FeedSource) -> str:
        return obj.link

    def subtitle(self, obj: FeedSource) -> str:
        return obj.subtitle

    def items(self, obj: FeedSource) -> list[Disclosure]:
        return obj.items

    # Escaping: the feed generator escapes every text it writes into the XML once. Titles,
    # the feed's title and subtitle and the categories are plain text (Atom ``type="text"``),
    # so they are handed over unescaped; the summary is ``type="html"``, so it is HTML text:
    # plain text escaped once here, the rich text's own entities kept as they are.

    def item_title(self, item: Disclosure) -> str:
        title = revision_of(item).title
        if item.status == DisclosureStatus.WITHDRAWN:
            title = _("Withdrawn: %(title)s") % {"title": title}
        return title

    def item_description(self, item: Disclosure) -> str:
        if item.status == DisclosureStatus.WITHDRAWN:
            return escape(
                _("Withdrawn on %(date)s. Reason: %(reason)s")
                % {
                    "date": date_format(item.withdrawn_at, "DATE_FORMAT")
                    if item.withdrawn_at
                    else "",
                    "reason": item.withdrawal_reason,
                }
            )
        revision = revision_of(item)
        # Sanitised rich text without its tags is HTML text: entities such as &amp; stay.
        text = " ".join(strip_tags(f"{revision.procedure} {revision.result}").split())
        return Truncator(text).chars(SUMMARY_CHARS, html=True)

    def item_link(self, item: Disclosure) -> str:
        if is_public_record(item):
            return reverse("public:detail", args=[item.pk])
        return reverse("disclosure:detail", args=[item.pk])

    def item_pubdate(self, item: Disclosure) -> datetime | None:
        return item.first_published_at

    def item_updateddate(self, item: Disclosure) -> datetime:
        return item.withdrawn_at or revision_of(item).published_at

    def item_categories(self, item: Disclosure) -> list[str]:
        return [item.entry.name, item.unit.name]


class BoardFeed(DisclosureFeed):
    def get_object(self, request: HttpRequest, code: str) -> FeedSource:
        unit = get_object_or_404(OrgUnit, code=code)
        chain = unit_chain(unit)
        user = request.user
        if can(user, Action.BOARD_VIEW, unit):
            internal = visibility(user, chain)
        else:  # anonymous readers and other companies: what anyone may read
            internal = (False,) * len(chain)
        return FeedSource(
            title=_("Board of %(unit)s") % {"unit": unit.name},
            link=reverse("boards:board", args=[unit.code]),
            subtitle=_("What %(unit)s and the units above it published.") % {"unit": unit.name},
            items=newest(visible_q(chain, internal)),
        )


class PublicFeed(DisclosureFeed):
    def get_object(self, request: HttpRequest) -> FeedSource:
        return FeedSource(
            title=_("Public disclosures"),
            link=reverse("public:index"),
            subtitle=_("What the companies published for everyone."),
            items=newest(public_record_q()),
        )


def private(response: HttpResponse) -> HttpResponse:
    """A feed's content depends on who asks: never shared by caches."""
    patch_vary_headers(response, ["Cookie"])
    patch_cache_control(response, private=True)
    return response


@require_GET
def board_feed(request: HttpRequest, code: str) -> HttpResponse:
    return private(BoardFeed()(request, code=code))


@require_GET
def public_feed(request: HttpRequest) -> HttpResponse:
    return PublicFeed()(request)
