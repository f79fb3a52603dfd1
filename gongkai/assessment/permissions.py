"""Who sees compliance figures, scores, rankings and the annual report, and where.

- Compliance (COMPLIANCE_VIEW: union office, leadership group, supervision group): any unit
  within the subtrees where the role is held.
- Assessment (ASSESSMENT_VIEW: everyone, the ranking is published): the companies the user
  belongs to or holds a role in; ASSESSMENT_MANAGE (supervision group) sets the weights and
  publishes the ranking of a company.
- The annual report: company-wide figures only (no person, no per-person data), for the same
  readers as the ranking.
Decided here only; views and templates ask these functions.
"""

from __future__ import annotations

from typing import Any

from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, can, visible_scope_paths


def compliance_roots(user: Any) -> list[OrgUnit]:
    """The top units whose subtrees ``user`` may see the compliance of (one query)."""
    paths = visible_scope_paths(user, Action.COMPLIANCE_VIEW)
    if not paths:
        return []
    return list(OrgUnit.objects.filter(path__in=paths, is_active=True).order_by("path"))


def can_view_compliance(user: Any, unit: OrgUnit) -> bool:
    return can(user, Action.COMPLIANCE_VIEW, unit)


def assessment_companies(user: Any) -> list[OrgUnit]:
    """The companies whose ranking ``user`` may read: each company at or above a unit where
    ASSESSMENT_VIEW is held (every user holds it on their own company)."""
    paths = visible_scope_paths(user, Action.ASSESSMENT_VIEW)
    if not paths:
        return []
    ids: set[int] = set()
    for path in paths:
        ids.update(int(p) for p in path.strip("/").split("/") if p)
    companies = OrgUnit.objects.filter(pk__in=ids, kind=UnitKind.COMPANY, is_active=True)
    found = list(companies.order_by("path"))
    # The nearest company above each grant (a group company's member companies are their own).
    nearest: list[OrgUnit] = []
    for path in paths:
        above = [c for c in found if path.startswith(c.path)]
        if above:
            company = max(above, key=lambda c: c.depth)
            if company not in nearest:
                nearest.append(company)
    return nearest


def can_view_assessment(user: Any, company: OrgUnit) -> bool:
    return any(c.pk == company.pk for c in assessment_companies(user))


def can_manage_assessment(user: Any, company: OrgUnit) -> bool:
    return can(user, Action.ASSESSMENT_MANAGE, company)
