"""Reads of the publicity app: the company's current windows, a disclosure's windows, and the
objection statistics the supervision part builds on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.core.handling import Handling, HandlingSource
from gongkai.core.paths import subtree_roots
from gongkai.core.workdays import calendar_for, years_for
from gongkai.disclosure.models import DisclosureStatus
from gongkai.disclosure.permissions import readable_disclosures_q
from gongkai.org.models import OrgUnit
from gongkai.publicity.models import Objection, Publicity

# Findings are due this many working days after the window's last day.
FINDING_DUE_WORKING_DAYS = 5


def with_relations(qs: QuerySet[Publicity]) -> QuerySet[Publicity]:
    return qs.select_related(
        "disclosure__unit", "disclosure__entry", "disclosure__published_revision"
    )


def with_counts(qs: QuerySet[Publicity]) -> QuerySet[Publicity]:
    return qs.annotate(
        objection_count=Count("objections", distinct=True),
        pending_count=Count(
            "objections", filter=Q(objections__finding__isnull=True), distinct=True
        ),
    )


def current_windows(user: Any, *, today: date | None = None) -> QuerySet[Publicity]:
    """Windows on disclosures ``user`` may read that are upcoming, open, or closed without a
    published outcome yet; newest first."""
    today = today or timezone.localdate()
    qs = Publicity.objects.filter(
        readable_disclosures_q(user, prefix="disclosure__"),
        disclosure__status=DisclosureStatus.PUBLISHED,
    ).filter(Q(ends_on__gte=today) | Q(outcome__isnull=True))
    return with_counts(with_relations(qs)).order_by("ends_on", "id")


def recent_outcomes(user: Any, *, limit: int = 10) -> list[Publicity]:
    qs = Publicity.objects.filter(
        readable_disclosures_q(user, prefix="disclosure__"),
        outcome__isnull=False,
    )
    return list(with_relations(qs).order_by("-outcome_published_at", "-id")[:limit])


def windows_of(disclosure_id: int) -> list[Publicity]:
    qs = Publicity.objects.filter(disclosure_id=disclosure_id)
    return list(with_counts(qs).order_by("-starts_on", "-id"))


def finding_due(ends_on: date, calendar: Any = None) -> date:
    """The last day for the supervision group's findings on a window's objections."""
    if calendar is None:
        calendar = calendar_for(years_for(ends_on, FINDING_DUE_WORKING_DAYS))
    return calendar.add_working_days(ends_on, FINDING_DUE_WORKING_DAYS)


@dataclass
class ObjectionStats:
    """Objections filed on the disclosures of one unit, and how their findings went."""

    unit_id: int
    filed: int = 0
    on_time: int = 0  # finding recorded on or before the due day
    late: int = 0  # finding recorded after the due day
    missing: int = 0  # no finding, and the due day has passed
    pending: int = 0  # no finding yet, still within the time allowed

    def figures(self) -> Handling:
        """As handling figures (:mod:`gongkai.core.handling`): a finding is the answer."""
        return Handling.counted(
            on_time=self.on_time, late=self.late, overdue=self.missing, open=self.pending
        )


def objection_stats(
    unit_paths: Iterable[str], start: date, end: date, *, today: date | None = None
) -> dict[int, ObjectionStats]:
    """Per unit of the disclosure (keyed by unit id; units in the subtrees of ``unit_paths``),
    the objections filed from ``start`` to ``end`` inclusive, and whether their findings were
    recorded on time.

    The rule: a finding is due by the window's last day plus FINDING_DUE_WORKING_DAYS working
    days (server local dates; the working-day calendar decides). Recorded on or before that
    day: on time; after it: late; not recorded and the day has passed (as of ``today``):
    missing; otherwise pending. Two queries (objections, then the calendar of the years
    involved)."""
    today = today or timezone.localdate()
    paths = list(unit_paths)
    if not paths:
        return {}
    scope = Q()
    for path in paths:
        scope |= Q(publicity__disclosure__unit__path__startswith=path)
    rows = list(
        Objection.objects.filter(scope, filed_on__gte=start, filed_on__lte=end)
        .values_list("publicity__disclosure__unit_id", "publicity__ends_on", "finding_recorded_at")
        .order_by()
    )
    if not rows:
        return {}
    first = min(row[1] for row in rows)
    last = max(row[1] for row in rows)
    calendar = calendar_for(range(first.year, years_for(last, FINDING_DUE_WORKING_DAYS).stop))
    zone = timezone.get_current_timezone()
    # Per window end: the due day, and the first instant after it (local midnight), so that
    # each finding's time is compared as it is, without converting it.
    due_by_end: dict[date, tuple[date, datetime]] = {}
    stats: dict[int, ObjectionStats] = {}
    for unit_id, ends_on, recorded_at in rows:
        item = stats.get(unit_id)
        if item is None:
            item = stats[unit_id] = ObjectionStats(unit_id=unit_id)
        item.filed += 1
        due_cutoff = due_by_end.get(ends_on)
        if due_cutoff is None:
            due = finding_due(ends_on, calendar)
            cutoff = datetime.combine(due + timedelta(days=1), time.min, tzinfo=zone)
            due_cutoff = due_by_end[ends_on] = (due, cutoff)
        due, cutoff = due_cutoff
        if recorded_at is not None:
            if recorded_at < cutoff:
                item.on_time += 1
            else:
                item.late += 1
        elif today > due:
            item.missing += 1
        else:
            item.pending += 1
    return stats


def objection_figures(
    units: Sequence[OrgUnit], start: date, end: date, *, today: date
) -> dict[int, Handling]:
    """The handling figures of the objections filed in [start, end] on each unit's own
    disclosures: one query over the fewest subtrees that hold the units."""
    wanted = {unit.pk for unit in units}
    stats = objection_stats(subtree_roots(u.path for u in units), start, end, today=today)
    return {unit_id: item.figures() for unit_id, item in stats.items() if unit_id in wanted}


HANDLING_SOURCE = HandlingSource(
    name="objections",
    label=_("Objection findings"),
    order=30,
    rated=False,
    figures=objection_figures,
)
