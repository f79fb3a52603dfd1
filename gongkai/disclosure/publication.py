"""What happens, inside the publishing transaction, when the published record of a
disclosure changes (first publication, correction, nothing-to-report attestation,
withdrawal). Each part has one owner module. Called only by the one publish service
(gongkai.disclosure.services.publish, which every publication goes through) and by the
withdrawal step."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongkai.disclosure.board_cache import board_changed
from gongkai.disclosure.models import Disclosure
from gongkai.ledger.services import ledger_record_publication
from gongkai.notify.services import announce
from gongkai.search.services import search_index_update


def record_in_ledger(disclosure: Disclosure, *, event: str) -> None:
    """Append the published record to the hash-linked ledger (gongkai.ledger)."""
    ledger_record_publication(disclosure=disclosure, event=event)


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


def publication_changed(disclosure: Disclosure, *, event: str) -> None:
    record_in_ledger(disclosure, event=event)
    update_search_index(disclosure)
    invalidate_boards(disclosure)
    tell_readers(disclosure, event=event)
