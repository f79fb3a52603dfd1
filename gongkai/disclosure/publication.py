"""What happens, inside the publishing transaction, when the published record of a
disclosure changes (first publication, correction, nothing-to-report attestation,
withdrawal): the ledger, the search index, the boards' cache, the unit's readers and the
outbound events for other systems. Each part has one owner module. Called only by the one
publish service (gongkai.disclosure.services.publish, which every publication goes through)
and by the withdrawal step."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongkai.core.scope import Scope
from gongkai.disclosure.board_cache import board_changed
from gongkai.disclosure.models import Disclosure, Revision
from gongkai.disclosure.permissions import is_public_record
from gongkai.ledger.models import LedgerEntry
from gongkai.ledger.services import ledger_record_publication
from gongkai.notify.events import Audience, absolute, emit, moment
from gongkai.notify.models import EventKind
from gongkai.notify.services import announce
from gongkai.search.services import search_index_update


def record_in_ledger(disclosure: Disclosure, *, event: str) -> LedgerEntry:
    """Append the published record to the hash-linked ledger (gongkai.ledger)."""
    return ledger_record_publication(disclosure=disclosure, event=event)


def update_search_index(disclosure: Disclosure) -> None:
    """Index the published revision, or drop a withdrawn one (gongkai.search)."""
    search_index_update(disclosure=disclosure)


def invalidate_boards(disclosure: Disclosure) -> None:
    """Forget cached board pages that show this disclosure (gongkai.disclosure.board_cache)."""
    board_changed(disclosure.unit_id)


def tell_readers(disclosure: Disclosure, *, event: str) -> None:
    """Tell the unit's group chats, and the readers of its board who asked for news, that
    an item was published or corrected (through the queue, after commit; gongkai.notify).
    Only the title and the unit leave the site, and only what the board's readers may read;
    an attestation that there was nothing to publish, or a withdrawal, is not announced."""
    if event != "publish":
        return
    revision = disclosure.published_revision
    with override(settings.LANGUAGE_CODE):
        if revision is not None and revision.number > 1:
            message = _("Corrected on the board of %(unit)s: %(title)s")
        else:
            message = _("New on the board of %(unit)s: %(title)s")
        message %= {"unit": disclosure.unit.name, "title": disclosure.title}
    announce(
        unit=disclosure.unit,
        message=message,
        url=reverse("disclosure:detail", args=[disclosure.pk]),
    )


def tell_other_systems(disclosure: Disclosure, *, event: str, entry: LedgerEntry | None) -> None:
    """The outbound event of the change (gongkai.notify.events), for the endpoints that
    asked: ``disclosure.published`` (revision 1, attestations included),
    ``disclosure.corrected`` (a later revision) or ``disclosure.withdrawn`` (the tombstone:
    title, date and the public reason). Public or internal exactly as the readers' rule
    decides (``permissions.is_public_record``: the published revision's scope), so an
    endpoint that sees public items only never hears of an internal item, except that a
    correction which made a public item internal tells it, without title or link, that the
    item is no longer public (so that a copy of the public board can drop it). The data
    is what the item's readers see on its page: never the working copy, a reason for
    rejection or who acted."""
    revision = disclosure.published_revision
    if revision is None:
        return
    public = is_public_record(disclosure)
    page = "public:detail" if public else "disclosure:detail"
    catalog = disclosure.entry
    data: dict[str, object] = {
        "disclosure": disclosure.pk,
        "title": revision.title,
        "category": catalog.category.name,
        "catalog_entry": {"code": catalog.code, "name": catalog.name},
        "period": disclosure.period_or_event,
        "nothing_to_report": disclosure.is_nil,
        "revision": revision.number,
        "scope": revision.scope,
        "url": absolute(reverse(page, args=[disclosure.pk])),
        # None only for a record the ledger does not hold (written before it existed).
        "ledger_sequence": entry.sequence if entry is not None else None,
    }
    redacted = None
    if event == "withdraw":
        kind = EventKind.DISCLOSURE_WITHDRAWN
        at = disclosure.withdrawn_at or revision.published_at
        data |= {"withdrawn_at": moment(at), "reason": disclosure.withdrawal_reason}
    else:
        at = revision.published_at
        data["published_at"] = moment(at)
        if revision.number == 1:
            kind = EventKind.DISCLOSURE_PUBLISHED
        else:
            kind = EventKind.DISCLOSURE_CORRECTED
            data["correction_reason"] = revision.reason
            earlier = (
                Revision.objects.filter(disclosure=disclosure, number=revision.number - 1)
                .values_list("scope", flat=True)
                .first()
            )
            if not public and earlier == Scope.PUBLIC:
                redacted = {
                    "disclosure": disclosure.pk,
                    "revision": revision.number,
                    "scope": revision.scope,
                    "published_at": moment(at),
                }
    emit(
        kind,
        unit=disclosure.unit,
        audience=Audience.PUBLIC if public else Audience.INTERNAL,
        data=data,
        redacted=redacted,
        occurred_at=at,
    )


def publication_changed(disclosure: Disclosure, *, event: str) -> None:
    entry = record_in_ledger(disclosure, event=event)
    update_search_index(disclosure)
    invalidate_boards(disclosure)
    tell_readers(disclosure, event=event)
    tell_other_systems(disclosure, event=event, entry=entry)
