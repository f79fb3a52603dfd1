"""Compliance with the catalog: for each obligation of a unit (an entry and a period), was it
published on time (按时), late (迟报), is it overdue (逾期) or not yet due (未到期)?

Derived from the catalog and dates at read time, never stored and never flipped by a job
(DESIGN: time-dependent state is derived). Two queries whatever the number of units and
disclosures: one for the catalog's rules, one aggregate over the disclosures.

An obligation exists for each period of a year, up to today, whose rule in force at the
period's start applies to the unit's kind and is calendar-based (not per event). The rule in
force at the period's start also sets its deadline (period end + ``deadline_days``, moved to
the next working day when it falls on a rest day: ``gongkai.core.periods.deadline``): a rule
added mid-period decides only the periods that begin after it, so history is never rewritten.
What counts is the earliest first publication (local date, Asia/Shanghai) of a disclosure of
that unit, entry and period that is not withdrawn; "nothing to report" attestations count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongkai.core.periods import (
    KIND_BY_FREQUENCY,
    Frequency,
    Period,
    PeriodKind,
    deadline,
    periods_between,
)
from gongkai.core.workdays import calendar_spanning
from gongkai.disclosure.catalog import rule_in_force
from gongkai.disclosure.models import CatalogEntry, CatalogRule, Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit


class State(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    NOT_DUE = "not_due"


STATE_LABELS: dict[State, Promise] = {
    State.ON_TIME: _("On time"),
    State.LATE: _("Late"),
    State.OVERDUE: _("Overdue"),
    State.NOT_DUE: _("Not yet due"),
}
STATE_CSS = {State.ON_TIME: "ok", State.LATE: "warn", State.OVERDUE: "bad", State.NOT_DUE: ""}


@dataclass(frozen=True)
class Obligation:
    unit_id: int
    entry: CatalogEntry
    rule: CatalogRule
    period: Period
    due: date  # the last day on which publishing counts as on time
    published_on: date | None
    state: State

    @property
    def label(self) -> Promise:
        return STATE_LABELS[self.state]

    @property
    def css(self) -> str:
        return STATE_CSS[self.state]


@dataclass(frozen=True)
class EventTally:
    """A per-event entry has no calendar obligation: the board shows how often it was used."""

    unit_id: int
    entry: CatalogEntry
    rule: CatalogRule
    published: int


@dataclass
class Compliance:
    unit_id: int
    year: int
    today: date
    obligations: list[Obligation] = field(default_factory=list)
    events: list[EventTally] = field(default_factory=list)

    def count(self, state: State) -> int:
        return sum(1 for o in self.obligations if o.state == state)

    @property
    def on_time(self) -> int:
        return self.count(State.ON_TIME)

    @property
    def late(self) -> int:
        return self.count(State.LATE)

    @property
    def overdue(self) -> int:
        return self.count(State.OVERDUE)

    @property
    def not_due(self) -> int:
        return self.count(State.NOT_DUE)

    @property
    def due(self) -> int:
        """Obligations whose deadline has passed or that were published."""
        return len(self.obligations) - self.not_due

    def rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        """The table as plain strings (entry, period, deadline, published, state label, CSS
        class, state), cheap to render."""
        return [
            (
                o.entry.name,
                str(o.period.label()),
                o.due.isoformat(),
                o.published_on.isoformat() if o.published_on else "—",
                str(o.label),
                o.css,
                o.state.value,
            )
            for o in self.obligations
        ]

    @property
    def on_time_rate(self) -> int | None:
        """Percent of the due obligations published on time (None when nothing is due)."""
        return round(100 * self.on_time / self.due) if self.due else None


Catalog = dict[int, tuple[CatalogEntry, list[CatalogRule]]]


def active_catalog() -> Catalog:
    """Active entries in catalog order, each with its rules newest first: one query."""
    catalog: Catalog = {}
    rules = (
        CatalogRule.objects.filter(entry__is_active=True)
        .select_related("entry__category")
        .order_by(
            "entry__category__order",
            "entry__category__code",
            "entry__order",
            "entry__code",
            "-effective_from",
        )
    )
    for rule in rules:
        catalog.setdefault(rule.entry_id, (rule.entry, []))[1].append(rule)
    return catalog


Key = tuple[int, int, str]  # unit, entry, period key ("" for per-event items)


def year_keys(year: int) -> list[str]:
    """Every period key of the year: the year, its halves, quarters and months."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [p.key for kind in PeriodKind for p in periods_between(kind, first, last)]


def first_publications(
    unit_ids: list[int], entry_ids: list[int], year: int
) -> dict[Key, tuple[datetime, int]]:
    """(earliest first publication, count) of the in-force disclosures of the units in the
    year, per unit, entry and period; per-event items grouped under period "". One query,
    which seeks the (unit, entry, period) index instead of scanning the units' items."""
    rows = (
        Disclosure.objects.filter(
            unit_id__in=unit_ids,
            entry_id__in=entry_ids,
            period__in=[*year_keys(year), ""],
            published_revision__isnull=False,
        )
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .filter(~Q(period="") | Q(event_date__year=year))
        .values("unit_id", "entry_id", "period")
        .annotate(first=Min("first_published_at"), n=Count("id"))
        .order_by()
    )
    return {(r["unit_id"], r["entry_id"], r["period"]): (r["first"], r["n"]) for r in rows}


def state_of(published_on: date | None, due: date, today: date) -> State:
    if published_on is not None:
        return State.ON_TIME if published_on <= due else State.LATE
    return State.OVERDUE if today > due else State.NOT_DUE


def obligations_for(
    units: Sequence[OrgUnit], year: int, *, today: date | None = None
) -> dict[int, Compliance]:
    """The compliance of each unit for ``year`` as of ``today`` (default: the local date),
    keyed by unit id. Two queries for any number of units (for the supervision dashboard)."""
    today = today or timezone.localdate()
    result = {unit.pk: Compliance(unit_id=unit.pk, year=year, today=today) for unit in units}
    if not units:
        return result
    catalog = active_catalog()
    published = first_publications([unit.pk for unit in units], list(catalog), year)
    first_day, last_day = date(year, 1, 1), min(date(year, 12, 31), today)
    kinds = {unit.kind for unit in units}
    windows = calendar_windows(catalog, first_day, last_day, kinds)
    workdays = calendar_spanning(first_day, date(year + 1, 12, 31))  # deadlines up to a year on
    for unit in units:
        compliance = result[unit.pk]
        for entry_id, (entry, rules) in catalog.items():
            for period, rule in windows.get(entry_id, []):
                if not rule.applies_to(unit):
                    continue
                found = published.get((unit.pk, entry_id, period.key))
                published_on = timezone.localdate(found[0]) if found else None
                due = deadline(period.end, rule.deadline_days, workdays)
                compliance.obligations.append(
                    Obligation(
                        unit_id=unit.pk,
                        entry=entry,
                        rule=rule,
                        period=period,
                        due=due,
                        published_on=published_on,
                        state=state_of(published_on, due, today),
                    )
                )
            current = rule_in_force(rules, last_day) if first_day <= last_day else None
            if (
                current is not None
                and current.frequency == Frequency.PER_EVENT
                and current.applies_to(unit)
            ):
                found = published.get((unit.pk, entry_id, ""))
                compliance.events.append(
                    EventTally(
                        unit_id=unit.pk,
                        entry=entry,
                        rule=current,
                        published=found[1] if found else 0,
                    )
                )
    return result


def calendar_windows(
    catalog: Catalog, first_day: date, last_day: date, unit_kinds: set[str]
) -> dict[int, list[tuple[Period, CatalogRule]]]:
    """Per entry, each calendar period that begins in [first_day, last_day] (or began before
    it, overlapping it) with the rule in force at its start, when that rule is calendar-based
    and of the period's kind. Computed once for all units, and only for entries that some
    rule gives to one of the ``unit_kinds``."""
    windows: dict[int, list[tuple[Period, CatalogRule]]] = {}
    if first_day > last_day:
        return windows
    for entry_id, (_entry, rules) in catalog.items():
        if not any(unit_kinds.intersection(rule.unit_kinds) for rule in rules):
            continue
        period_kinds = {
            KIND_BY_FREQUENCY[Frequency(rule.frequency)]
            for rule in rules
            if rule.frequency != Frequency.PER_EVENT
        }
        found: list[tuple[Period, CatalogRule]] = []
        for kind in sorted(period_kinds, key=lambda k: k.value):
            for period in periods_between(kind, first_day, last_day):
                rule = rule_in_force(rules, period.start)
                if rule is None or rule.frequency == Frequency.PER_EVENT:
                    continue
                if KIND_BY_FREQUENCY[Frequency(rule.frequency)] == kind:
                    found.append((period, rule))
        found.sort(key=lambda pair: (pair[0].start, pair[0].end))
        windows[entry_id] = found
    return windows


def compliance_of(unit: OrgUnit, year: int, *, today: date | None = None) -> Compliance:
    return obligations_for([unit], year, today=today)[unit.pk]
