"""Access-matrix rows of the directory sign-in page (gongkai.accounts): the union office's.
Without a directory configured (the test settings) the page says so; with one, the page is
the same for the same people (tests/test_directory.py asks it against a real slapd)."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix.helpers import Row, only

ROWS: dict[str, list[Row]] = {
    "accounts:directory": [(lambda o: reverse("accounts:directory"), only({"union": 200}))],
}
