"""Errors that services raise and views turn into messages."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request that the rules refuse; the message is safe to show the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def add_to_form(self, form: Any) -> None:
        """Show the message next to its field (or above the form) and keep what was typed."""
        form.add_error(self.field if self.field in form.fields else None, self.message)
