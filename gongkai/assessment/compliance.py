"""Compliance of a unit subtree over a date range, computed at request time.

Builds on :mod:`gongkai.disclosure.compliance` (the catalog windows, the rule in force at a
period's start, the deadline and the four states) and widens it from one year to any range
and from one unit to a subtree, with a fixed number of queries:

1. the org units of the subtree;
2. the catalog and its rules (``active_catalog``);
3. one aggregate over the disclosures, ``GROUP BY unit, entry, period`` → the earliest first
   publication of each (unit, entry, period) that is in force (not withdrawn); for the
   dashboard's counts this is joined in SQL to the obligation windows and counted per unit
   (:func:`unit_tallies`), for lists it is read row by row (:func:`iter_obligations`);
4. one aggregate per handling source (suggestions, motions, objections) where that part of
   the platform is installed (see :mod:`gongkai.assessment.handling`).

An obligation is (entry × unit × period) for each calendar period that overlaps the range
and has begun by today, under the rule in force at the period's start. Nothing is stored:
publishing, withdrawing or a catalog change shows at the next request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Min
from django.utils import timezone

from gongkai.core.periods import Period, deadline
from gongkai.core.workdays import WorkingCalendar, calendar_for, calendar_spanning
from gongkai.disclosure.compliance import (
    STATE_CSS,
    STATE_LABELS,
    Catalog,
    State,
    active_catalog,
    calendar_windows,
    state_of,
)
from gongkai.disclosure.models import CatalogEntry, CatalogRule, Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit

STATES = (State.ON_TIME, State.LATE, State.OVERDUE, State.NOT_DUE)


@dataclass
class Tally:
    """Obligations counted by state; ``rate`` is the on-time share of the due ones."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    not_due: int = 0

    def add(self, state: State, n: int = 1) -> None:
        setattr(self, state.value, getattr(self, state.value) + n)

    def merge(self, other: Tally) -> None:
        for state in STATES:
            self.add(state, getattr(other, state.value))

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.not_due

    @property
    def due(self) -> int:
        """Obligations whose deadline has passed or that were published."""
        return self.total - self.not_due

    @property
    def rate(self) -> float | None:
        """Percent published on time among the due ones (None when nothing is due)."""
        return round(100 * self.on_time / self.due, 1) if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "not_due": self.not_due,
            "total": self.total,
            "due": self.due,
            "on_time_rate": self.rate,
        }


@dataclass(frozen=True)
class Obligation:
    unit_id: int
    entry: CatalogEntry
    rule: CatalogRule
    period: Period
    due: date
    published_on: date | None
    state: State

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def css(self) -> str:
        return STATE_CSS[self.state]


@dataclass
class UnitCompliance:
    unit: OrgUnit
    own: Tally = field(default_factory=Tally)  # the unit's own obligations
    subtree: Tally = field(default_factory=Tally)  # the unit and everything below it


def subtree_units(root: OrgUnit) -> list[OrgUnit]:
    """The active units of the subtree in path order (one query)."""
    return list(OrgUnit.objects.active().subtree_of(root).order_by("path"))


def publications(
    unit_ids: Sequence[int], entry_ids: Iterable[int], period_keys: Iterable[str]
) -> dict[tuple[int, int, str], datetime]:
    """Earliest first publication per (unit, entry, period) of in-force disclosures: one
    aggregate query, GROUP BY unit, entry, period."""
    keys = sorted(set(period_keys))
    entries = sorted(set(entry_ids))
    if not unit_ids or not keys or not entries:
        return {}
    rows = (
        Disclosure.objects.filter(
            unit_id__in=list(unit_ids),
            entry_id__in=entries,
            period__in=keys,
            published_revision__isnull=False,
        )
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .values_list("unit_id", "entry_id", "period")
        .annotate(first=Min("first_published_at"))
        .order_by()
    )
    return {(u, e, p): first for u, e, p, first in rows if first is not None}


def iter_obligations(
    units: Sequence[OrgUnit],
    start: date,
    end: date,
    *,
    today: date | None = None,
    catalog: Catalog | None = None,
) -> Iterable[Obligation]:
    """Every obligation of ``units`` for the periods overlapping [start, end] that have begun
    by ``today``, in unit, entry and period order."""
    today = today or timezone.localdate()
    last = min(end, today)
    if not units or start > last:
        return
    catalog = active_catalog() if catalog is None else catalog
    windows = calendar_windows(catalog, start, last, {u.kind for u in units})
    workdays = deadline_calendar(windows)
    keys = {period.key for pairs in windows.values() for period, _rule in pairs}
    found = publications([u.pk for u in units], windows.keys(), keys)
    local: dict[datetime, date] = {}
    for unit in units:
        for entry_id, pairs in windows.items():
            entry = catalog[entry_id][0]
            for period, rule in pairs:
                if not rule.applies_to(unit):
                    continue
                first = found.get((unit.pk, entry_id, period.key))
                published_on = None
                if first is not None:
                    published_on = local.get(first)
                    if published_on is None:
                        published_on = local[first] = timezone.localdate(first)
                due = deadline(period.end, rule.deadline_days, workdays)
                yield Obligation(
                    unit_id=unit.pk,
                    entry=entry,
                    rule=rule,
                    period=period,
                    due=due,
                    published_on=published_on,
                    state=state_of(published_on, due, today),
                )


def deadline_calendar(windows: dict[int, list[tuple[Period, CatalogRule]]]) -> WorkingCalendar:
    """The working-day calendar that holds the deadline of every period in ``windows``."""
    pairs = [pair for listed in windows.values() for pair in listed]
    if not pairs:
        return calendar_for([])
    first = min(period.end for period, _rule in pairs)
    last = max(period.end + timedelta(days=rule.deadline_days) for period, rule in pairs)
    return calendar_spanning(first, last)


@dataclass(frozen=True)
class Window:
    """One obligation of every unit of a kind: an entry's period, due on ``due``."""

    entry_id: int
    period: str
    due: date


def windows_by_kind(
    catalog: Catalog, start: date, last: date, kinds: set[str]
) -> dict[str, list[Window]]:
    """Per unit kind, the (entry, period, deadline) of every obligation in the range. Every
    unit of a kind has the same ones (a rule applies by kind), so they are listed once."""
    result: dict[str, list[Window]] = {kind: [] for kind in kinds}
    windows = calendar_windows(catalog, start, last, kinds)
    workdays = deadline_calendar(windows)
    for entry_id, pairs in windows.items():
        for period, rule in pairs:
            window = Window(
                entry_id, period.key, deadline(period.end, rule.deadline_days, workdays)
            )
            for kind in kinds.intersection(rule.unit_kinds):
                result[kind].append(window)
    return result


def unit_tallies(
    units: Sequence[OrgUnit],
    start: date,
    end: date,
    *,
    today: date | None = None,
    catalog: Catalog | None = None,
) -> dict[int, Tally]:
    """Each unit's own obligations by state, aggregated in the database: the same figures
    as counting :func:`iter_obligations`, without building an object per obligation.

    One statement per unit kind: the earliest first publication per (unit, entry, period)
    is joined to the obligation windows of that kind (a VALUES table with each window's
    deadline, as the first instant after the local deadline day) and counted per unit as on
    time, late, and published in a window already past due. The unpublished ones follow from the
    number of windows per kind: overdue = past-due windows − published in them; not yet
    due = the rest."""
    today = today or timezone.localdate()
    result = {u.pk: Tally() for u in units}
    last = min(end, today)
    if not units or start > last:
        return result
    catalog = active_catalog() if catalog is None else catalog
    windows = windows_by_kind(catalog, start, last, {u.kind for u in units})
    published = published_by_unit(units, windows, today)
    for unit in units:
        mine = windows[unit.kind]
        past = sum(1 for w in mine if w.due < today)
        on_time, late, published_past = published.get(unit.pk, (0, 0, 0))
        tally = result[unit.pk]
        tally.on_time, tally.late = on_time, late
        tally.overdue = past - published_past
        tally.not_due = len(mine) - past - (on_time + late - published_past)
    return result


def published_by_unit(
    units: Sequence[OrgUnit], windows: dict[str, list[Window]], today: date
) -> dict[int, tuple[int, int, int]]:
    """unit id → (published on time, published late, published in past-due windows). One
    statement per unit kind present (at most three, whatever the number of units): the
    units of one kind share their windows, so the join is a plain hash join on (entry,
    period) and the planner need not join the org table."""
    found: dict[int, tuple[int, int, int]] = {}
    for kind, mine in windows.items():
        ids = [u.pk for u in units if u.kind == kind]
        if ids and mine:
            found |= published_of_kind(ids, mine, today)
    return found


def published_of_kind(
    unit_ids: list[int], windows: list[Window], today: date
) -> dict[int, tuple[int, int, int]]:
    from django.db import connection

    tz = timezone.get_current_timezone()
    ops = connection.ops
    ends: dict[date, Any] = {}
    rows: list[Any] = []
    for w in windows:
        due_end = ends.get(w.due)
        if due_end is None:
            after = datetime.combine(w.due + timedelta(days=1), time.min, tzinfo=tz)
            due_end = ends[w.due] = ops.adapt_datetimefield_value(after)
        rows += [w.entry_id, w.period, due_end, 1 if w.due < today else 0]
    periods = sorted({w.period for w in windows})
    # Only this kind's calendar entries: the (unit, entry, period) index then skips the
    # per-event items and other kinds' entries instead of reading their rows.
    entries = sorted({w.entry_id for w in windows})
    row = "(%s, %s, %s, %s)"
    values = ", ".join([row] * len(windows))
    if connection.vendor == "postgresql":  # the first row types the VALUES columns
        typed = "(%s::integer, %s::varchar, %s::timestamptz, %s::integer)"
        values = values.replace(row, typed, 1)
    disclosure = Disclosure._meta.db_table
    sql = f"""
WITH w(entry_id, period, due_end, past) AS (VALUES {values})
SELECT d.unit_id,
       SUM(CASE WHEN d.first_at < w.due_end THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.first_at >= w.due_end THEN 1 ELSE 0 END),
       SUM(w.past)
FROM (
    SELECT unit_id, entry_id, period, MIN(first_published_at) AS first_at
    FROM {disclosure}
    WHERE unit_id IN ({", ".join(["%s"] * len(unit_ids))})
      AND entry_id IN ({", ".join(["%s"] * len(entries))})
      AND period IN ({", ".join(["%s"] * len(periods))})
      AND published_revision_id IS NOT NULL
      AND status <> %s
    GROUP BY unit_id, entry_id, period
) d
JOIN w ON w.entry_id = d.entry_id AND w.period = d.period
GROUP BY d.unit_id
"""  # noqa: S608 - the table name from the model, every value a parameter
    params = [*rows, *unit_ids, *entries, *periods, DisclosureStatus.WITHDRAWN.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            unit_id: (int(on_time or 0), int(late or 0), int(past or 0))
            for unit_id, on_time, late, past in cursor.fetchall()
        }


def compliance_tree(
    root: OrgUnit, start: date, end: date, *, today: date | None = None
) -> dict[int, UnitCompliance]:
    """Per unit of the subtree (path order): its own tally and its subtree's tally."""
    units = subtree_units(root)
    tallies = unit_tallies(units, start, end, today=today)
    result = {u.pk: UnitCompliance(unit=u, own=tallies[u.pk]) for u in units}
    for item in result.values():
        for ancestor_id in item.unit.path_ids:
            if ancestor_id in result:
                result[ancestor_id].subtree.merge(item.own)
    return result


def compliance_snapshot(*, unit: OrgUnit, start: date, end: date) -> dict[str, Any]:
    """A department's compliance figures for [start, end] as plain JSON-serialisable data,
    for freezing into an inspection: the disclosure obligations by state (the unit's own,
    its subtree's, and per catalog entry), the on-time rate, and the suggestion, motion and
    objection handling figures where those parts are installed."""
    from gongkai.assessment.handling import handling_for

    today = timezone.localdate()
    units = subtree_units(unit)
    own, subtree = Tally(), Tally()
    by_entry: dict[str, dict[str, Any]] = {}
    missed: list[dict[str, str]] = []
    for obligation in iter_obligations(units, start, end, today=today):
        subtree.add(obligation.state)
        if obligation.unit_id != unit.pk:
            continue
        own.add(obligation.state)
        row = by_entry.setdefault(
            obligation.entry.code, {"entry": obligation.entry.name, **Tally().as_dict()}
        )
        tally = Tally(**{s.value: row[s.value] for s in STATES})
        tally.add(obligation.state)
        row.update(tally.as_dict())
        if obligation.state in (State.LATE, State.OVERDUE):
            missed.append(
                {
                    "entry": obligation.entry.name,
                    "period": obligation.period.key,
                    "due": obligation.due.isoformat(),
                    "published_on": (
                        obligation.published_on.isoformat() if obligation.published_on else ""
                    ),
                    "state": obligation.state.value,
                }
            )
    handling = handling_for(units, start, end, today=today)
    return {
        "unit": {"id": unit.pk, "code": unit.code, "name": unit.name},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "computed_on": today.isoformat(),
        "disclosure": {
            "own": own.as_dict(),
            "subtree": subtree.as_dict(),
            "by_entry": list(by_entry.values()),
            "missed": missed,
        },
        "handling": {name: figures.as_dict() for name, figures in handling.items()},
    }
