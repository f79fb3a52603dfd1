"""The catalog of what must be published, and a unit's obligations with their status."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from gongkai.api.auth import caller, require_in_scope
from gongkai.api.endpoints.org import active_unit
from gongkai.api.errors import ApiError
from gongkai.api.schemas import responses
from gongkai.core.periods import Frequency
from gongkai.disclosure.boards import FIRST_YEAR
from gongkai.disclosure.catalog import rule_in_force
from gongkai.disclosure.compliance import STATE_LABELS, active_catalog, compliance_of
from gongkai.policy.rules import Action, require

router = Router(tags=["catalog and compliance"])


class RuleOut(Schema):
    effective_from: date
    unit_kinds: list[str]
    frequency: str
    deadline_days: int
    default_scope: str


class CatalogEntryOut(Schema):
    code: str
    name: str
    category_code: str
    category: str
    description: str
    rule: RuleOut | None = Field(description="The rule in force today")


class CatalogOut(Schema):
    entries: list[CatalogEntryOut]


@router.get("/catalog", response=responses(CatalogOut), summary="What must be published")
def catalog(request: HttpRequest) -> dict[str, Any]:
    require(caller(request), Action.BOARD_VIEW)
    today = timezone.localdate()
    entries = []
    for entry, rules in active_catalog().values():
        rule = rule_in_force(rules, today)
        entries.append(
            {
                "code": entry.code,
                "name": entry.name,
                "category_code": entry.category.code,
                "category": entry.category.name,
                "description": entry.description,
                "rule": None
                if rule is None
                else {
                    "effective_from": rule.effective_from,
                    "unit_kinds": list(rule.unit_kinds),
                    "frequency": rule.frequency,
                    "deadline_days": rule.deadline_days,
                    "default_scope": rule.default_scope,
                },
            }
        )
    return {"entries": entries}


class YearQuery(Schema):
    year: int | None = Field(None, description="Default: this year")


class ObligationOut(Schema):
    entry_code: str
    entry: str
    period: str
    due: date
    published_on: date | None
    state: str
    state_name: str


class EventEntryOut(Schema):
    entry_code: str
    entry: str
    published: int


class ObligationsOut(Schema):
    unit: str
    year: int
    on_time: int
    late: int
    overdue: int
    not_due: int
    obligations: list[ObligationOut]
    per_event: list[EventEntryOut]


@router.get(
    "/units/{code}/obligations",
    response=responses(ObligationsOut),
    summary="A unit's obligations for a year: on time, late, overdue, not yet due",
)
def obligations(request: HttpRequest, code: str, query: Query[YearQuery]) -> dict[str, Any]:
    unit = active_unit(code)
    require_in_scope(request, unit)
    require(caller(request), Action.BOARD_VIEW, unit)
    today = timezone.localdate()
    year = query.year or today.year
    if not FIRST_YEAR <= year <= today.year:
        message = _("Choose a year from %(first)s to %(last)s.") % {
            "first": FIRST_YEAR,
            "last": today.year,
        }
        raise ApiError(400, "invalid", message, {"year": [message]})
    found = compliance_of(unit, year, today=today)
    return {
        "unit": unit.code,
        "year": year,
        "on_time": found.on_time,
        "late": found.late,
        "overdue": found.overdue,
        "not_due": found.not_due,
        "obligations": [
            {
                "entry_code": o.entry.code,
                "entry": o.entry.name,
                "period": o.period.key,
                "due": o.due,
                "published_on": o.published_on,
                "state": o.state.value,
                "state_name": str(STATE_LABELS[o.state]),
            }
            for o in found.obligations
        ],
        "per_event": [
            {"entry_code": e.entry.code, "entry": e.entry.name, "published": e.published}
            for e in found.events
            if e.rule.frequency == Frequency.PER_EVENT
        ],
    }
