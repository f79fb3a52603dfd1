"""Shared pieces of the access matrix: who is asked, and shorthands for expected statuses."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import PERSONAS, Org

ANON = "anon"
WHO = (ANON, *PERSONAS)

UrlFor = Callable[[Org], str]
# (url builder, expected status per persona)
Row = tuple[UrlFor, dict[str, int]]


def everyone(code: int, anon: int = 302) -> dict[str, int]:
    return {ANON: anon, **dict.fromkeys(PERSONAS, code)}


def only(allowed: dict[str, int], others: int = 403, anon: int = 302) -> dict[str, int]:
    return {ANON: anon, **{p: allowed.get(p, others) for p in PERSONAS}}


DRAFTERS = {"union": 200, "depthead": 200, "teamlead": 200}
READ_ALL_COMPANY = {"union": 200, "leader": 200, "supervisor": 200, "discipline": 200}
