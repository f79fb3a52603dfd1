"""Permission questions asked from below the policy.

The policy (``gongkai.policy``) decides every permission, but it stands above ``org`` and
``audit``, whose own pages (the org tree, the roster import, the audit log) must ask it too.
They ask here; the policy answers: it installs itself as the gate when its app is ready
(``PolicyConfig.ready``). Parts above the policy import ``gongkai.policy`` directly and use
its typed ``Action``; code here names actions by their string value (``"org.view"``), and
the policy refuses a string that is not one of its actions.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured, PermissionDenied


class Gate(Protocol):
    def can(self, user: Any, action: str, unit: Any = None) -> bool:
        """May ``user`` do ``action`` on the org unit ``unit`` (``None``: anywhere)?"""

    def can_on_person(self, user: Any, action: str, person: Any) -> bool:
        """May ``user`` do ``action`` on the person ``person`` (decided on their unit)?"""

    def scope_paths(self, user: Any, action: str) -> list[str]:
        """The subtree roots (unit paths) in which ``user`` may do ``action``."""


_gate: Gate | None = None


def install(gate: Gate) -> None:
    global _gate
    _gate = gate


def gate() -> Gate:
    if _gate is None:
        raise ImproperlyConfigured("No permission gate: add gongkai.policy to INSTALLED_APPS.")
    return _gate


def can(user: Any, action: str, unit: Any = None) -> bool:
    return gate().can(user, action, unit)


def require(user: Any, action: str, unit: Any = None) -> None:
    """Raise PermissionDenied (the 403 page) unless the policy allows it."""
    if not can(user, action, unit):
        raise PermissionDenied


def can_on_person(user: Any, action: str, person: Any) -> bool:
    return gate().can_on_person(user, action, person)


def require_on_person(user: Any, action: str, person: Any) -> None:
    if not can_on_person(user, action, person):
        raise PermissionDenied


def scope_paths(user: Any, action: str) -> list[str]:
    return gate().scope_paths(user, action)
