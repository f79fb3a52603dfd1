"""Reads of disclosures for the workflow pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from gongkai.disclosure import approvals
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths

S = DisclosureStatus


def subtree_q(roots: list[str], field: str = "unit__path") -> Q:
    q = Q(pk__in=[])
    for root in roots:
        q |= Q(**{f"{field}__startswith": root})
    return q


def draftable_units(user: Any) -> QuerySet[OrgUnit]:
    """Active units where ``user`` may draft disclosures, in tree order."""
    roots = visible_scope_paths(user, Action.DISCLOSURE_DRAFT)
    return OrgUnit.objects.active().filter(subtree_q(roots, "path")).order_by("path")


def with_relations(qs: QuerySet[Disclosure]) -> QuerySet[Disclosure]:
    return qs.select_related("unit", "entry", "entry__category", "author", "published_revision")


def my_drafts(user: Any) -> QuerySet[Disclosure]:
    """Drafts (including returned ones and corrections) the user wrote or may edit."""
    roots = visible_scope_paths(user, Action.DISCLOSURE_DRAFT)
    return with_relations(
        Disclosure.objects.filter(status__in=[S.DRAFT, S.APPROVED])
        .filter(Q(author=user) | subtree_q(roots))
        .order_by("-updated_at")
    )


def awaiting_approval(user: Any) -> QuerySet[Disclosure]:
    """Items whose next approval step is this user's (``approvals.awaiting_approval``: the
    same answer that decides who may act and who is told)."""
    return with_relations(approvals.awaiting_approval(user).order_by("submitted_at"))


def in_review_by_me(user: Any) -> QuerySet[Disclosure]:
    return with_relations(
        Disclosure.objects.filter(author=user, status__in=[S.SUBMITTED, S.HEAD_APPROVED]).order_by(
            "-submitted_at"
        )
    )
