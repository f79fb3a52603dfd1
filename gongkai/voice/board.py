"""This app's section on a unit's board (see gongkai.core.board_sections)."""

from __future__ import annotations

from typing import Any

from gongkai.core.board_sections import BoardSection


def section(*, unit: Any, user: Any) -> BoardSection | None:
    return None
