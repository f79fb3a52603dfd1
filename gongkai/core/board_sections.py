"""Sections that other parts add below a unit's board (suggestions, motions, the hotline).

Each module in :data:`SECTION_MODULES` has ``section(*, unit, user) -> BoardSection | None``;
the board view renders every section returned, in this order, after the disclosures. A
section is rendered per request (it is not in the cached board body), so keep it to a few
queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

SECTION_MODULES = (
    "gongkai.voice.board",
    "gongkai.congress.board",
    "gongkai.reporting.board",
)


@dataclass(frozen=True)
class BoardSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def board_sections(*, unit: Any, user: Any) -> list[BoardSection]:
    found: list[BoardSection] = []
    for name in SECTION_MODULES:
        section = import_module(name).section(unit=unit, user=user)
        if section is not None:
            found.append(section)
    return found
