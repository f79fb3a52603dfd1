"""Who may read and act on disclosures. Decided here only; views, templates, feeds and
search ask these functions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from gongkai.disclosure.models import Disclosure, DisclosureStatus, Scope
from gongkai.org.models import UnitKind
from gongkai.policy.rules import Action, can, visible_scope_paths


def readable_disclosures_q(user: Any, *, prefix: str = "") -> Q:
    """A filter for published disclosures ``user`` may read.

    Public items: everyone, signed in or not. Internal items: the members of the unit and of
    the units below it (a team member reads the team's, department's and company's items —
    linked management), and holders of DISCLOSURE_READ_ALL on the unit or above.
    """
    q = Q(**{f"{prefix}scope": Scope.PUBLIC})
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return q
    if user.unit_id is not None:
        q |= Q(**{f"{prefix}unit_id__in": user.unit.path_ids})
    for root in visible_scope_paths(user, Action.DISCLOSURE_READ_ALL):
        q |= Q(**{f"{prefix}unit__path__startswith": root})
    return q


def can_read_published(user: Any, disclosure: Disclosure) -> bool:
    if disclosure.scope == Scope.PUBLIC:
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.unit_id is not None and disclosure.unit_id in user.unit.path_ids:
        return True
    return can(user, Action.DISCLOSURE_READ_ALL, disclosure.unit)


def can_see_working_copy(user: Any, disclosure: Disclosure) -> bool:
    """Drafts and items in review: the author, the unit's drafters and approvers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return (
        disclosure.author_id == user.pk
        or can(user, Action.DISCLOSURE_DRAFT, disclosure.unit)
        or can(user, Action.DISCLOSURE_APPROVE, disclosure.unit)
        or (
            disclosure.unit.kind == UnitKind.COMPANY
            and can(user, Action.DISCLOSURE_ENDORSE, disclosure.unit)
        )
    )


def can_read(user: Any, disclosure: Disclosure) -> bool:
    if disclosure.published_revision_id is not None and can_read_published(user, disclosure):
        return True
    return can_see_working_copy(user, disclosure)


def can_edit(user: Any, disclosure: Disclosure) -> bool:
    return disclosure.status == DisclosureStatus.DRAFT and (
        disclosure.author_id == user.pk or can(user, Action.DISCLOSURE_DRAFT, disclosure.unit)
    )


def can_rate(user: Any, disclosure: Disclosure) -> bool:
    return (
        disclosure.is_published
        and not disclosure.is_nil
        and can(user, Action.DISCLOSURE_RATE, disclosure.unit)
        and can_read_published(user, disclosure)
    )
