"""Compliance with the catalog: for each obligation of a unit (an entry and a period), was it
published on time (按时), late (迟报), is it overdue (逾期) or not yet due (未到期)? The one
engine: a unit's year (the boards, :func:`obligations_for`) and any date range over any
subtree (the supervision's dashboard, the assessment, the figures frozen into inspections:
:func:`iter_obligations`, :func:`unit_tallies`, :func:`compliance_tree`,
:func:`compliance_snapshot`).

Derived from the catalog and dates at read time, never stored and never flipped by a job
(DESIGN: time-dependent state is derived): publishing, withdrawing or a catalog change shows
at the next request.

An obligation exists for each calendar period that overlaps the range and has begun by
today, whose rule in force at the period's start applies to the unit's kind and is
calendar-based (not per event), and that the unit answers for: a unit is charged with the
periods that begin on or after its ``charged_from`` day and end before its ``deactivated_on``
day (``OrgUnit.charged_for``), so a unit created today owes nothing for periods it could not
have published, and a deactivated one stops being charged. The rule in force at the period's
start also sets its
deadline (period end + ``deadline_days``, moved to the next working day when it falls on a
rest day: ``gongkai.core.periods.deadline``): a rule added mid-period decides only the
periods that begin after it, so history is never rewritten. What counts is the earliest
first publication (local date, Asia/Shanghai) of a disclosure of that unit, entry and period
that is not withdrawn; "nothing to report" attestations count.

A fixed number of queries whatever the number of units and disclosures: the catalog and its
rules (:func:`active_catalog`), the working days of the deadlines, and one aggregate over
the disclosures, ``GROUP BY unit, entry, period``; for the range's counts this aggregate is
joined in SQL to the obligation windows and counted per unit (:func:`unit_tallies`). The
snapshot adds one aggregate per handling source (:mod:`gongkai.core.handling`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongkai.core.handling import handling_totals
from gongkai.core.periods import (
    KIND_BY_FREQUENCY,
    Frequency,
    Period,
    PeriodKind,
    deadline,
    periods_between,
)
from gongkai.core.workdays import WorkingCalendar, calendar_for, calendar_spanning
from gongkai.disclosure.catalog import in_effect, rule_in_force
from gongkai.disclosure.models import CatalogEntry, CatalogRule, Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit


class State(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    NOT_DUE = "not_due"


STATES = (State.ON_TIME, State.LATE, State.OVERDUE, State.NOT_DUE)
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
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

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
    """One unit's year, obligation by obligation (the board)."""

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
                o.label,
                o.css,
                o.state.value,
            )
            for o in self.obligations
        ]

    @property
    def on_time_rate(self) -> int | None:
        """Percent of the due obligations published on time (None when nothing is due)."""
        return round(100 * self.on_time / self.due) if self.due else None


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


@dataclass
class UnitCompliance:
    unit: OrgUnit
    own: Tally = field(default_factory=Tally)  # the unit's own obligations
    subtree: Tally = field(default_factory=Tally)  # the unit and everything below it


# --- The catalog's windows and deadlines ------------------------------------------------------

Catalog = dict[int, tuple[CatalogEntry, list[CatalogRule]]]
Windows = dict[int, list[tuple[Period, CatalogRule]]]  # entry id → (period, rule in force)
Key = tuple[int, int, str]  # unit, entry, period key ("" for per-event items)


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
    for entry_id, (entry, listed) in catalog.items():
        catalog[entry_id] = (entry, in_effect(listed))  # rules replaced before taking effect
    return catalog


def calendar_windows(
    catalog: Catalog, first_day: date, last_day: date, unit_kinds: set[str]
) -> Windows:
    """Per entry, each calendar period that begins in [first_day, last_day] (or began before
    it, overlapping it) with the rule in force at its start, when that rule is calendar-based
    and of the period's kind. Computed once for all units, and only for entries that some
    rule gives to one of the ``unit_kinds``; in catalog order."""
    windows: Windows = {}
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


def deadline_calendar(windows: Windows) -> WorkingCalendar:
    """The working-day calendar that holds the deadline of every period in ``windows``."""
    pairs = [pair for listed in windows.values() for pair in listed]
    if not pairs:
        return calendar_for([])
    first = min(period.end for period, _rule in pairs)
    last = max(period.end + timedelta(days=rule.deadline_days) for period, rule in pairs)
    return calendar_spanning(first, last)


def state_of(published_on: date | None, due: date, today: date) -> State:
    if published_on is not None:
        return State.ON_TIME if published_on <= due else State.LATE
    return State.OVERDUE if today > due else State.NOT_DUE


def obligations_in_windows(
    unit: OrgUnit,
    catalog: Catalog,
    windows: Windows,
    published: Mapping[Key, datetime],
    workdays: WorkingCalendar,
    today: date,
    local: dict[datetime, date],
) -> Iterator[Obligation]:
    """The unit's obligations in ``windows`` (entry and period order), each judged by the
    earliest first publication in ``published``. ``local`` caches the local dates of the
    publication times across units."""
    for entry_id, pairs in windows.items():
        entry = catalog[entry_id][0]
        for period, rule in pairs:
            if not rule.applies_to(unit) or not unit.charged_for(period.start, period.end):
                continue
            first = published.get((unit.pk, entry_id, period.key))
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


# --- A unit's year (the boards) ---------------------------------------------------------------


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


def obligations_for(
    units: Sequence[OrgUnit], year: int, *, today: date | None = None
) -> dict[int, Compliance]:
    """The compliance of each unit for ``year`` as of ``today`` (default: the local date),
    keyed by unit id. Three queries for any number of units (the catalog, the disclosures,
    the working days)."""
    today = today or timezone.localdate()
    result = {unit.pk: Compliance(unit_id=unit.pk, year=year, today=today) for unit in units}
    if not units:
        return result
    catalog = active_catalog()
    published = first_publications([unit.pk for unit in units], list(catalog), year)
    firsts = {key: first for key, (first, _n) in published.items() if first is not None}
    first_day, last_day = date(year, 1, 1), min(date(year, 12, 31), today)
    windows = calendar_windows(catalog, first_day, last_day, {unit.kind for unit in units})
    workdays = deadline_calendar(windows)
    local: dict[datetime, date] = {}
    for unit in units:
        compliance = result[unit.pk]
        compliance.obligations.extend(
            obligations_in_windows(unit, catalog, windows, firsts, workdays, today, local)
        )
        if first_day > last_day:
            continue
        for entry_id, (entry, rules) in catalog.items():
            current = rule_in_force(rules, last_day)
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


def compliance_of(unit: OrgUnit, year: int, *, today: date | None = None) -> Compliance:
    return obligations_for([unit], year, today=today)[unit.pk]


# --- Any range over a subtree (supervision and assessment) ------------------------------------


def subtree_units(root: OrgUnit) -> list[OrgUnit]:
    """The active units of the subtree in path order (one query)."""
    return list(OrgUnit.objects.active().subtree_of(root).order_by("path"))


def publications(
    unit_ids: Sequence[int], entry_ids: Iterable[int], period_keys: Iterable[str]
) -> dict[Key, datetime]:
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
) -> Iterator[Obligation]:
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
        yield from obligations_in_windows(unit, catalog, windows, found, workdays, today, local)


@dataclass(frozen=True)
class Window:
    """One obligation of every unit of a kind: an entry's period, due on ``due``."""

    entry_id: int
    period: str
    due: date
    start: date
    end: date


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
                entry_id,
                period.key,
                deadline(period.end, rule.deadline_days, workdays),
                period.start,
                period.end,
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
    past_of_kind = {kind: sum(1 for w in mine if w.due < today) for kind, mine in windows.items()}
    for unit in units:
        mine = windows[unit.kind]
        if bounded(unit):  # only the periods it answers for
            mine = [w for w in mine if unit.charged_for(w.start, w.end)]
            past = sum(1 for w in mine if w.due < today)
        else:
            past = past_of_kind[unit.kind]
        on_time, late, published_past = published.get(unit.pk, (0, 0, 0))
        tally = result[unit.pk]
        tally.on_time, tally.late = on_time, late
        tally.overdue = past - published_past
        tally.not_due = len(mine) - past - (on_time + late - published_past)
    return result


def bounded(unit: OrgUnit) -> bool:
    """The unit answers for only some periods (created or deactivated at a date)."""
    return unit.charged_from is not None or unit.deactivated_on is not None


def published_by_unit(
    units: Sequence[OrgUnit], windows: dict[str, list[Window]], today: date
) -> dict[int, tuple[int, int, int]]:
    """unit id → (published on time, published late, published in past-due windows). One
    statement per unit kind present (at most three, whatever the number of units): the
    units of one kind share their windows, so the join is a plain hash join on (entry,
    period) and the planner need not join the org table; the units that answer for only
    some periods bring their dates as a small VALUES table, joined only for them."""
    found: dict[int, tuple[int, int, int]] = {}
    for kind, mine in windows.items():
        of_kind = [u for u in units if u.kind == kind]
        if of_kind and mine:
            found |= published_of_kind(
                [u.pk for u in of_kind], mine, today, [u for u in of_kind if bounded(u)]
            )
    return found


def published_of_kind(
    unit_ids: list[int], windows: list[Window], today: date, limited: Sequence[OrgUnit] = ()
) -> dict[int, tuple[int, int, int]]:
    tz = timezone.get_current_timezone()
    ops = connection.ops
    ends: dict[date, Any] = {}
    rows: list[Any] = []
    for w in windows:
        due_end = ends.get(w.due)
        if due_end is None:
            after = datetime.combine(w.due + timedelta(days=1), time.min, tzinfo=tz)
            due_end = ends[w.due] = ops.adapt_datetimefield_value(after)
        rows += [
            w.entry_id,
            w.period,
            due_end,
            1 if w.due < today else 0,
            ops.adapt_datefield_value(w.start),
            ops.adapt_datefield_value(w.end),
        ]
    periods = sorted({w.period for w in windows})
    # Only this kind's calendar entries: the (unit, entry, period) index then skips the
    # per-event items and other kinds' entries instead of reading their rows.
    entries = sorted({w.entry_id for w in windows})
    row = "(%s, %s, %s, %s, %s, %s)"
    values = ", ".join([row] * len(windows))
    postgres = connection.vendor == "postgresql"
    if postgres:  # the first row types the VALUES columns
        typed = "(%s::integer, %s::varchar, %s::timestamptz, %s::integer, %s::date, %s::date)"
        values = values.replace(row, typed, 1)
    # Units charged only for some periods: (unit, first day, deactivation day), far dates
    # standing for "no bound"; the others are not in this table and count every window.
    limits: list[Any] = []
    for unit in limited:
        limits += [
            unit.pk,
            ops.adapt_datefield_value(unit.charged_from or date.min),
            ops.adapt_datefield_value(unit.deactivated_on or date.max),
        ]
    bounds = ""
    if limited:
        brow = "(%s, %s, %s)"
        bvalues = ", ".join([brow] * len(limited))
        if postgres:
            bvalues = bvalues.replace(brow, "(%s::integer, %s::date, %s::date)", 1)
        bounds = f""",
b(unit_id, charged_from, deactivated_on) AS (VALUES {bvalues})"""
    disclosure = Disclosure._meta.db_table
    limit_join = ""
    if limited:
        limit_join = """
LEFT JOIN b ON b.unit_id = d.unit_id
WHERE b.unit_id IS NULL OR (w.starts >= b.charged_from AND w.ends < b.deactivated_on)"""
    sql = f"""
WITH w(entry_id, period, due_end, past, starts, ends) AS (VALUES {values}){bounds}
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
JOIN w ON w.entry_id = d.entry_id AND w.period = d.period{limit_join}
GROUP BY d.unit_id
"""  # noqa: S608 - the table name from the model, every value a parameter
    params = [*rows, *limits, *unit_ids, *entries, *periods, DisclosureStatus.WITHDRAWN.value]
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
    its subtree's, and per catalog entry), the on-time rate, and the handling figures of
    every registered source (suggestions, motions, objections: :mod:`gongkai.core.handling`)
    over the subtree."""
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
    handling = handling_totals(units, start, end, today=today)
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
