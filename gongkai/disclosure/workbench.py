"""The officer's workbench: per unit the officer drafts for, the obligations of the catalog
that are due (the periods running or awaiting their deadline) and those overdue, each with
its draft in progress or a "draft it" link. Read from the compliance engine: a fixed number
of queries whatever the number of units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from gongkai.disclosure.compliance import Obligation, State, iter_obligations
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.disclosure.selectors import draftable_units
from gongkai.org.models import OrgUnit

LOOK_BACK_MONTHS = 12  # overdue items older than this are for the inspection, not the bench
MAX_UNITS = 200


@dataclass(frozen=True)
class Task:
    obligation: Obligation
    unit: OrgUnit
    draft: Disclosure | None  # a draft or an item in review for the same period

    @property
    def overdue(self) -> bool:
        return self.obligation.state == State.OVERDUE

    @property
    def draft_url(self) -> str:
        query = urlencode(
            {
                "unit": self.unit.code,
                "entry": self.obligation.entry.code,
                "period": self.obligation.period.key,
            }
        )
        return f"{reverse('disclosure:create')}?{query}"


@dataclass
class UnitTasks:
    unit: OrgUnit
    tasks: list[Task] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for task in self.tasks if task.overdue)


def look_back_start(today: date) -> date:
    month = today.month - LOOK_BACK_MONTHS % 12
    year = today.year - LOOK_BACK_MONTHS // 12
    if month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1)


def workbench(user: Any, today: date) -> list[UnitTasks]:
    """The units (tree order) that have something due or overdue, overdue first."""
    units = list(draftable_units(user)[:MAX_UNITS])
    by_id = {unit.pk: unit for unit in units}
    open_items = [
        o
        for o in iter_obligations(units, look_back_start(today), today, today=today)
        if o.state in (State.OVERDUE, State.NOT_DUE)
    ]
    drafts: dict[tuple[int, int, str], Disclosure] = {}
    if open_items:
        rows = (
            Disclosure.objects.filter(
                unit_id__in=list(by_id),
                entry_id__in={o.entry.pk for o in open_items},
                period__in={o.period.key for o in open_items},
                published_revision__isnull=True,
            )
            .exclude(status=DisclosureStatus.WITHDRAWN)
            .order_by("-pk")
        )
        for row in rows:
            drafts[(row.unit_id, row.entry_id, row.period)] = row
    result: dict[int, UnitTasks] = {}
    for o in open_items:
        unit = by_id[o.unit_id]
        draft = drafts.get((o.unit_id, o.entry.pk, o.period.key))
        result.setdefault(unit.pk, UnitTasks(unit)).tasks.append(Task(o, unit, draft))
    for item in result.values():
        item.tasks.sort(key=lambda t: (not t.overdue, t.obligation.due, t.obligation.entry.order))
    return [result[unit.pk] for unit in units if unit.pk in result]
