from __future__ import annotations

from typing import Any

from django import template

from gongkai.org.models import OrgUnit
from gongkai.policy.rules import can as policy_can

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, unit: OrgUnit | None = None) -> bool:
    """``{% can "org.members_view" unit as allowed %}`` — asks the policy, never decides."""
    user: Any = context.get("user")
    return policy_can(user, action, unit)
