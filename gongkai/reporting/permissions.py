"""Who may read and handle anonymous reports: the discipline inspectors of the company
(REPORT_HANDLE on the company or above), and nobody else — not the union office, not the
leadership, not the platform administrators. Missing and not-yours look the same (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, can, visible_scope_paths


def can_handle(user: Any, company: OrgUnit) -> bool:
    return can(user, Action.REPORT_HANDLE, company)


def handled_companies(user: Any) -> QuerySet[OrgUnit]:
    """The companies whose reports ``user`` may read, by name."""
    roots = visible_scope_paths(user, Action.REPORT_HANDLE)
    if not roots:
        return OrgUnit.objects.none()
    q = Q()
    for root in roots:
        q |= Q(path__startswith=root)
    return OrgUnit.objects.filter(q, kind=UnitKind.COMPANY, is_active=True).order_by(
        "order", "name"
    )


def readable_reports_q(user: Any) -> Q:
    """A filter on Report for the reports ``user`` may read (nothing for most people)."""
    roots = visible_scope_paths(user, Action.REPORT_HANDLE)
    if not roots:
        return Q(pk__in=[])
    q = Q()
    for root in roots:
        q |= Q(company__path__startswith=root)
    return q
