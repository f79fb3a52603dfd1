"""Reads of the org tree."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from gongkai.core.access import scope_paths
from gongkai.org.models import OrgUnit, OrgUnitQuerySet, RoleAssignment, UnitKind


def unit_chain(unit: OrgUnit) -> list[OrgUnit]:
    """Root → … → unit, one query."""
    return list(OrgUnit.objects.ancestors_of(unit))


def unit_tree(root: OrgUnit | None = None) -> list[OrgUnit]:
    """Active units in tree order (depth-first by ``order`` then name), with member counts,
    in one query."""
    qs: OrgUnitQuerySet = OrgUnit.objects.active()
    if root is not None:
        qs = qs.subtree_of(root)
    units = list(qs.annotate(member_count=Count("members", filter=Q(members__is_active=True))))
    by_parent: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        by_parent.setdefault(unit.parent_id, []).append(unit)
    for children in by_parent.values():
        children.sort(key=lambda u: (u.order, u.name))
    ids = {u.pk for u in units}
    ordered: list[OrgUnit] = []

    def walk(parent_id: int | None) -> None:
        for child in by_parent.get(parent_id, []):
            ordered.append(child)
            walk(child.pk)

    for top in [u for u in units if u.parent_id not in ids]:
        ordered.append(top)
        walk(top.pk)
    return ordered


def unit_children(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return unit.children.active().order_by("order", "name")


def unit_role_holders(unit: OrgUnit) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(unit=unit)
        .select_related("user", "unit")
        .order_by("role", "user__employee_no")
    )


def importable_companies(user: Any) -> QuerySet[OrgUnit]:
    """The active companies within the subtrees where ``user`` may import a roster."""
    roots = scope_paths(user, "org.roster_import")
    if not roots:
        return OrgUnit.objects.none()
    within = Q()
    for root in roots:
        within |= Q(path__startswith=root)
    return OrgUnit.objects.filter(within, kind=UnitKind.COMPANY, is_active=True).order_by("path")
