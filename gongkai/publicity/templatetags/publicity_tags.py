"""``{% publicity_panel disclosure request.user %}``: a disclosure's publicity windows, their
objection counts and outcomes, shown on the disclosure's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from gongkai.disclosure.models import Disclosure
from gongkai.publicity import permissions as policy
from gongkai.publicity.selectors import windows_of

register = template.Library()


@register.inclusion_tag("publicity/_panel.html")
def publicity_panel(disclosure: Disclosure, user: Any) -> dict[str, Any]:
    may_open = policy.can_open_publicity(user, disclosure)
    if not disclosure.is_published and not may_open:
        return {"windows": [], "may_open": False}
    today = timezone.localdate()
    windows = windows_of(disclosure.pk)
    rows = []
    for window in windows:
        window.disclosure = disclosure  # for the policy, without another query
        state = window.state_on(today)
        may_file = state == "open" and policy.can_file_objection(user, window)
        rows.append((window, state, may_file))
    return {
        "disclosure": disclosure,
        "windows": rows,
        "may_open": may_open and all(w.outcome is not None for w in windows),
    }
