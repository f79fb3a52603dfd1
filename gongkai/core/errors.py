"""Errors that services raise and views turn into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that the rules refuse; the message is safe to show the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
