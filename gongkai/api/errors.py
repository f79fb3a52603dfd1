"""The API's one error shape: ``{"code": …, "message": …, "fields": {name: [messages]}}``,
the message in the caller's language (Accept-Language, else the site's)."""

from __future__ import annotations

from ninja import Schema


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


class Error(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}
