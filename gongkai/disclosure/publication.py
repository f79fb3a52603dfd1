"""What happens, inside the publishing transaction, when the published record of a
disclosure changes (first publication, correction, nothing-to-report attestation,
withdrawal). Each part has one owner module; the workflow services call only this."""

from __future__ import annotations

from gongkai.disclosure.models import Disclosure


def record_in_ledger(disclosure: Disclosure, *, event: str) -> None:
    """Append the published record to the hash-linked ledger (gongkai.ledger)."""


def update_search_index(disclosure: Disclosure) -> None:
    """Index the published revision, or drop a withdrawn one (gongkai.search)."""


def invalidate_boards(disclosure: Disclosure) -> None:
    """Forget cached board pages that show this disclosure (gongkai.disclosure.boards)."""


def publication_changed(disclosure: Disclosure, *, event: str) -> None:
    record_in_ledger(disclosure, event=event)
    update_search_index(disclosure)
    invalidate_boards(disclosure)
