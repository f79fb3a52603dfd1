"""Sections that other parts add below a unit's board (suggestions, motions, the hotline).

A part registers a function ``section(*, unit, user) -> BoardSection | None`` with
:func:`register_section` from its ``board.py``; every app's ``board`` module is imported when
core is ready (``autodiscover_modules``), so this module names no part. The board view
renders every section returned, by ``position``, after the disclosures. A section is
rendered per request (it is not in the cached board body), so keep it to a few queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SectionFunction = Callable[..., "BoardSection | None"]


@dataclass(frozen=True)
class BoardSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


_sections: dict[int, SectionFunction] = {}


def register_section(position: int, function: SectionFunction) -> None:
    """Add a section at ``position`` (smaller first)."""
    _sections[position] = function


def board_sections(*, unit: Any, user: Any) -> list[BoardSection]:
    found: list[BoardSection] = []
    for _position, section in sorted(_sections.items()):
        made = section(unit=unit, user=user)
        if made is not None:
            found.append(made)
    return found
