"""The boards' cache tokens: each unit has a random version token in the cache; a board's
cached body is keyed by the tokens of its chain, so changing a unit's published record
(``board_changed``) makes every cached board of it and below it unreachable at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.cache import cache
from django.db import transaction


def version_key(unit_id: int) -> str:
    return f"board:version:{unit_id}"


def bump(unit_id: int) -> None:
    cache.set(version_key(unit_id), uuid.uuid4().hex, None)


def board_changed(unit_id: int) -> None:
    """The published record of a unit changed: forget its board and every board below it.
    Now (for readers inside this transaction) and again after commit (a reader between the
    first bump and the commit may have cached the old state under the new token)."""
    bump(unit_id)
    transaction.on_commit(lambda: bump(unit_id))


def versions(unit_ids: Sequence[int]) -> list[str]:
    """The current token of each unit. A token that is missing (never set, or evicted) gets
    a fresh random one, so an eviction can never bring an old body back."""
    keys = [version_key(pk) for pk in unit_ids]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, None)
            found[key] = cache.get(key) or uuid.uuid4().hex
    return [found[key] for key in keys]
