"""What happens, inside the publishing transaction, when the published record of a
disclosure changes (first publication, correction, nothing-to-report attestation,
withdrawal). Each part has one owner module. Called only by the one publish service
(gongkai.disclosure.services.publish, which every publication goes through) and by the
withdrawal step."""

from __future__ import annotations

from gongkai.disclosure.board_cache import board_changed
from gongkai.disclosure.models import Disclosure
from gongkai.ledger.services import ledger_record_publication
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


def publication_changed(disclosure: Disclosure, *, event: str) -> None:
    record_in_ledger(disclosure, event=event)
    update_search_index(disclosure)
    invalidate_boards(disclosure)
