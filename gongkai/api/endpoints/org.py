"""The organisation: units and the tree (every signed-in person may read it: ORG_VIEW)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from gongkai.api.auth import caller, require_in_scope, scope_q
from gongkai.api.endpoints.me import unit_ref
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.org.models import OrgUnit
from gongkai.org.selectors import unit_chain, unit_children
from gongkai.policy.rules import Action, require

router = Router(tags=["organisation"])


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None
    depth: int


class UnitDetail(UnitOut):
    description: str
    ancestors: list[UnitRef]
    children: list[UnitRef]


class UnitFilter(Schema):
    parent: str | None = None


def unit_row(unit: OrgUnit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent_id and unit.parent else None,
        "depth": unit.depth,
    }


def active_unit(code: str) -> OrgUnit:
    return get_object_or_404(OrgUnit.objects.select_related("parent"), code=code, is_active=True)


@router.get("/units", response=responses(Page[UnitOut]), summary="Units, in tree order")
def units(
    request: HttpRequest, paging: Query[PageQuery], where: Query[UnitFilter]
) -> dict[str, object]:
    require(caller(request), Action.ORG_VIEW)
    qs = OrgUnit.objects.active().select_related("parent").filter(scope_q(request, "path"))
    if where.parent:
        qs = qs.filter(parent=active_unit(where.parent))
    return page_of(qs.order_by("path"), paging, unit_row)


@router.get(
    "/units/{code}", response=responses(UnitDetail), summary="A unit, its chain and children"
)
def unit(request: HttpRequest, code: str) -> dict[str, object]:
    found = active_unit(code)
    require_in_scope(request, found)
    require(caller(request), Action.ORG_VIEW, found)
    return {
        **unit_row(found),
        "description": found.description,
        "ancestors": [unit_ref(u) for u in unit_chain(found)[:-1]],
        "children": [unit_ref(u) for u in unit_children(found).filter(is_active=True)],
    }
