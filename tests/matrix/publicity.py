"""Access-matrix rows for the publicity app's URL patterns (see tests/test_access_matrix.py)."""

from __future__ import annotations

from tests.matrix.helpers import Row

ROWS: dict[str, list[Row]] = {}
