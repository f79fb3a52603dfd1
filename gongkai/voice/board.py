"""This app's section on a unit's board (registered with gongkai.core.board_sections): the latest
suggestions sent to the unit, with their status, dates and overdue flag."""

from __future__ import annotations

from typing import Any

from gongkai.core.board_sections import BoardSection, register_section
from gongkai.voice import permissions as policy
from gongkai.voice.selectors import board_latest

LATEST = 5


def section(*, unit: Any, user: Any) -> BoardSection | None:
    if not policy.can_view_unit(user, unit):
        return None
    suggestions = board_latest(unit, limit=LATEST)
    for s in suggestions:
        # The board is a public notice: a hidden name stays hidden here even from those who
        # may see it on the suggestion's own page.
        s.shown_author = None if s.name_hidden else s.author  # type: ignore[attr-defined]
    return BoardSection(
        template="voice/_board_section.html",
        context={
            "unit": unit,
            "suggestions": suggestions,
            "may_submit": policy.can_submit_to(user, unit),
        },
    )


register_section(10, section)
