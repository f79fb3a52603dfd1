"""This app's section on a unit's board (registered with gongkai.core.board_sections):
on a company's board only, the latest motions with their status and the latest patrols."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from gongkai.congress import permissions as policy
from gongkai.congress import selectors
from gongkai.core.board_sections import BoardSection, register_section
from gongkai.org.models import UnitKind

LATEST = 5


def section(*, unit: Any, user: Any) -> BoardSection | None:
    if unit.kind != UnitKind.COMPANY or not policy.can_view(user, unit):
        return None
    motions = list(selectors.public_motions(unit).order_by("-updated_at", "-id")[:LATEST])
    patrols = list(selectors.published_patrols(unit)[:LATEST])
    if not motions and not patrols:
        return None
    return BoardSection(
        template="congress/_board.html",
        context={"motions": motions, "patrols": patrols, "today": timezone.localdate()},
    )


register_section(20, section)
