"""Errors that services raise and views turn into messages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class ServiceError(Exception):
    """A request that the rules refuse; the message is safe to show the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def add_to_form(self, form: Any) -> None:
        """Show the message next to its field (or above the form) and keep what was typed."""
        form.add_error(self.field if self.field in form.fields else None, self.message)


MAX_TEXT = 20_000


def clean_text(value: str, *, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    """``value`` stripped; a ServiceError on ``field`` when it is required and empty, or
    longer than ``limit`` characters."""
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(_("This field is required."), field=field)
    if len(value) > limit:
        raise ServiceError(
            _("This text is too long (at most %(limit)s characters).") % {"limit": limit},
            field=field,
        )
    return value
