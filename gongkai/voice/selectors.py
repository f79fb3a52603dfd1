"""Reads of suggestions: lists, the handler's work queue, the board section, and the
handling statistics the supervision and assessment parts use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.core.handling import Handling, HandlingSource
from gongkai.core.paths import subtree_roots
from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths
from gongkai.voice.models import Suggestion, SuggestionStatus
from gongkai.voice.permissions import visible_suggestions_q

S = SuggestionStatus


def with_relations(qs: QuerySet[Suggestion]) -> QuerySet[Suggestion]:
    return qs.select_related("unit", "responsible_unit", "author")


def visible_suggestions(user: Any) -> QuerySet[Suggestion]:
    return with_relations(Suggestion.objects.filter(visible_suggestions_q(user)))


def filtered(
    qs: QuerySet[Suggestion],
    *,
    unit: OrgUnit | None = None,
    status: str = "",
    category: str = "",
    subtree: bool = False,
) -> QuerySet[Suggestion]:
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path) if subtree else qs.filter(unit=unit)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    return qs


def mine(user: Any) -> QuerySet[Suggestion]:
    return with_relations(Suggestion.objects.filter(author_id=user.pk))


def _within(paths: list[str], field_name: str) -> Q | None:
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{f"{field_name}__path__startswith": path})
    return q


@dataclass
class WorkQueue:
    to_handle: list[Suggestion]
    to_answer: list[Suggestion]
    to_review: list[Suggestion]

    def __len__(self) -> int:
        return len(self.to_handle) + len(self.to_answer) + len(self.to_review)


def work_queue(user: Any, *, limit: int = 200) -> WorkQueue:
    """What ``user`` must act on: accept/decline/assign, answer, review."""

    def part(action: Action, field_name: str, statuses: Iterable[str]) -> list[Suggestion]:
        q = _within(visible_scope_paths(user, action), field_name)
        if q is None:
            return []
        qs = Suggestion.objects.filter(q, status__in=list(statuses))
        return list(with_relations(qs).order_by("due_on", "submitted_at", "id")[:limit])

    return WorkQueue(
        to_handle=part(Action.SUGGESTION_HANDLE, "unit", [S.SUBMITTED, S.ACCEPTED]),
        to_answer=part(Action.SUGGESTION_ANSWER, "responsible_unit", [S.ASSIGNED]),
        to_review=part(Action.SUGGESTION_REVIEW, "unit", [S.REOPENED]),
    )


def board_latest(unit: OrgUnit, *, limit: int = 5) -> list[Suggestion]:
    """The latest suggestions sent to ``unit`` (one query)."""
    return list(
        Suggestion.objects.filter(unit=unit)
        .select_related("responsible_unit", "author")
        .order_by("-submitted_at", "-id")[:limit]
    )


# --- Handling statistics ----------------------------------------------------------------------


@dataclass
class HandlingStats:
    """Counts for the suggestions sent to a unit (and, when rolled up, its subtree) that were
    submitted in the period."""

    received: int = 0
    declined: int = 0
    answered: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    overdue_open: int = 0
    closed: int = 0
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Satisfaction.values, 0))

    def add(self, other: HandlingStats) -> None:
        for name in (
            "received",
            "declined",
            "answered",
            "answered_on_time",
            "answered_late",
            "overdue_open",
            "closed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.ratings.items():
            self.ratings[key] = self.ratings.get(key, 0) + value

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def on_time_rate(self) -> float | None:
        """Share of answered suggestions answered by the due date (None if none answered)."""
        return self.answered_on_time / self.answered if self.answered else None

    @property
    def satisfaction_rate(self) -> float | None:
        """Share of ratings that were satisfied or basically satisfied."""
        if not self.rated:
            return None
        good = self.ratings[Satisfaction.SATISFIED] + self.ratings[Satisfaction.BASIC]
        return good / self.rated

    def figures(self) -> Handling:
        """As handling figures (:mod:`gongkai.core.handling`): the received ones neither
        declined, answered nor overdue are open."""
        answered = self.answered_on_time + self.answered_late
        return Handling.counted(
            on_time=self.answered_on_time,
            late=self.answered_late,
            overdue=self.overdue_open,
            open=max(0, self.received - self.declined - answered - self.overdue_open),
            ratings=self.ratings,
        )


def _day_start(day: date, plus_days: int = 0) -> datetime:
    """Local midnight at the start of ``day`` (+ days): a range on the indexed column rather
    than a per-row date cast."""
    return datetime.combine(
        day + timedelta(days=plus_days), time.min, tzinfo=timezone.get_current_timezone()
    )


def handling_stats(
    units: Iterable[OrgUnit],
    start: date,
    end: date,
    *,
    today: date | None = None,
    subtree: bool = True,
) -> dict[int, HandlingStats]:
    """Per unit (keyed by its pk): counts of the suggestions sent to it — and, with
    ``subtree``, to the units below it — submitted between ``start`` and ``end`` inclusive.
    One aggregate query whatever the number of units. "Overdue" is judged on ``today``; an
    answer is on time when given on or before the due date (local dates)."""
    units = list(units)
    result = {unit.pk: HandlingStats() for unit in units}
    if not units:
        return result
    today = today or timezone.localdate()
    roots = subtree_roots(u.path for u in units)
    scope = _within(roots, "unit") if subtree else Q(unit_id__in=[u.pk for u in units])
    # Grouped by the few values that decide every count (unit, status, rating, answered
    # late?, overdue?) with one plain COUNT, then summed in Python: cheaper than one
    # conditional COUNT per figure (each is a CASE per row; the date cast is a function call
    # per row on SQLite).
    late = Case(
        When(answered_at__isnull=False, answered_at__date__gt=F("due_on"), then=Value(1)),
        default=Value(0),
    )
    overdue = Case(When(status=S.ASSIGNED, due_on__lt=today, then=Value(1)), default=Value(0))
    answered = Case(When(answered_at__isnull=False, then=Value(1)), default=Value(0))
    rows = (
        Suggestion.objects.filter(scope)
        .filter(submitted_at__gte=_day_start(start), submitted_at__lt=_day_start(end, 1))
        .annotate(n_is_late=late, n_is_overdue=overdue, is_answered=answered)
        .values("unit_id", "unit__path", "status", "rating", "is_answered")
        .annotate(
            n=Count("id"),
            n_late=Sum("n_is_late"),
            n_overdue=Sum("n_is_overdue"),
        )
        .order_by()
    )
    per_unit: dict[int, tuple[str, HandlingStats]] = {}
    for values in rows:
        row = cast(dict[str, Any], values)
        path, stats = per_unit.setdefault(row["unit_id"], (row["unit__path"], HandlingStats()))
        n = row["n"]
        stats.received += n
        if row["status"] == S.DECLINED:
            stats.declined += n
        if row["status"] == S.CLOSED:
            stats.closed += n
        if row["is_answered"]:
            stats.answered += n
            stats.answered_late += row["n_late"] or 0
            stats.answered_on_time += n - (row["n_late"] or 0)
        stats.overdue_open += row["n_overdue"] or 0
        if row["rating"]:
            stats.ratings[row["rating"]] = stats.ratings.get(row["rating"], 0) + n
    for unit_id, (path, stats) in per_unit.items():
        for unit in units:
            if unit_id == unit.pk or (subtree and path.startswith(unit.path)):
                result[unit.pk].add(stats)
    return result


def handling_figures(
    units: Sequence[OrgUnit], start: date, end: date, *, today: date
) -> dict[int, Handling]:
    """The handling figures of each unit's own suggestions submitted in [start, end]."""
    stats = handling_stats(units, start, end, today=today, subtree=False)
    return {unit_id: item.figures() for unit_id, item in stats.items()}


HANDLING_SOURCE = HandlingSource(
    name="suggestions", label=_("Suggestions"), order=10, rated=True, figures=handling_figures
)
