"""Free text typed into a form, cleaned before a service stores it: the one cleaner.

Every service that takes free text (titles, descriptions, objections, reports, minutes)
passes it through :func:`clean_text`: NUL characters removed, Windows line ends made plain
``\\n`` (so the length counted is the length shown), the ends stripped, then checked against
the minimum and maximum length. The messages are the generic ones unless the caller gives its
own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from gongkai.core.errors import ServiceError

MAX_TEXT = 20_000


def normalize_text(value: str | None) -> str:
    """``value`` without NUL characters, with ``\\n`` line ends, stripped."""
    return (value or "").replace("\x00", "").replace("\r\n", "\n").strip()


def clean_text(
    value: str | None,
    *,
    field: str,
    required: bool = True,
    limit: int = MAX_TEXT,
    minimum: int = 0,
    empty: str | None = None,
    too_short: str | None = None,
    too_long: str | Callable[[int, int], str] | None = None,
) -> str:
    """``value`` normalized (:func:`normalize_text`); a ServiceError on ``field`` when it is
    required and empty (``empty``), shorter than ``minimum`` characters (``too_short``), or
    longer than ``limit`` (``too_long``: a message, or ``too_long(limit, length)`` for one that
    says the numbers)."""
    value = normalize_text(value)
    if minimum and len(value) < minimum:
        raise ServiceError(too_short or empty or _("This field is required."), field=field)
    if required and not value:
        raise ServiceError(empty or _("This field is required."), field=field)
    if len(value) > limit:
        if too_long is None:
            message = _("This text is too long (at most %(limit)s characters).") % {"limit": limit}
        else:
            message = too_long if isinstance(too_long, str) else too_long(limit, len(value))
        raise ServiceError(message, field=field)
    return value
