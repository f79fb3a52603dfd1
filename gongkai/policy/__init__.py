"""Who may do what. Every permission decision in gongkai is made here.

Views call :func:`require`, templates use the ``can`` tag or ``may`` context, the API (later)
calls :func:`can`. Roles are held on a unit and cover that unit's subtree.
"""

from gongkai.policy.rules import (
    Action,
    can,
    can_on_person,
    grants_for,
    require,
    require_on_person,
    visible_scope_paths,
)

__all__ = [
    "Action",
    "can",
    "can_on_person",
    "grants_for",
    "require",
    "require_on_person",
    "visible_scope_paths",
]
