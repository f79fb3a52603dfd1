"""This app's section on a unit's board: the reporting hotline, address and a link to
/report/ (registered with gongkai.core.board_sections). It is on every board, so the
channel comes from the cache: one query per company every few minutes at most."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from gongkai.core.board_sections import BoardSection, register_section
from gongkai.policy.rules import Action, can
from gongkai.reporting.models import ReportingChannel
from gongkai.reporting.services import CHANNEL_CACHE_SECONDS, channel_cache_key


def company_id_of(unit: Any) -> int | None:
    """The top-level unit of ``unit``'s path ("/1/4/17/" → 1)."""
    parts = [p for p in str(getattr(unit, "path", "")).split("/") if p]
    return int(parts[0]) if parts else None


def channel_for(company_id: int) -> dict[str, str]:
    """The company's hotline, address and e-mail ({} when none is set), cached."""

    def load() -> dict[str, str]:
        row = (
            ReportingChannel.objects.filter(company_id=company_id)
            .values("hotline", "postal_address", "email")
            .first()
        )
        return {k: str(v) for k, v in row.items()} if row else {}

    found = cache.get_or_set(channel_cache_key(company_id), load, CHANNEL_CACHE_SECONDS)
    return found if isinstance(found, dict) else load()


def section(*, unit: Any, user: Any) -> BoardSection | None:
    company_id = company_id_of(unit)
    if company_id is None:
        return None
    return BoardSection(
        "reporting/_board_section.html",
        {
            "channel": channel_for(company_id),
            # Inspectors get a way in to their inbox (grants are cached on the user).
            "inbox": can(user, Action.REPORT_HANDLE),
        },
    )


register_section(30, section)
