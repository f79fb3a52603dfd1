"""Shapes shared by several endpoints."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from gongkai.api.errors import Error

# Every operation documents the errors it can answer with, so that a client (and the API
# fuzzer in the tests) knows each status it may see.
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 422: Error}


def responses(ok: Any, status: int = 200) -> dict[int, Any]:
    return {status: ok, **ERRORS}


class UnitRef(Schema):
    code: str
    name: str
    kind: str
