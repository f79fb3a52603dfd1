"""Handling figures of suggestions, motions and objection findings: answered on time or not,
and how satisfied the employees were with the answer, aggregated in SQL per unit.

Each source is read through its app's own statistics selector when it has one
(``gongkai.voice.selectors.handling_stats``, ``gongkai.congress.selectors.handling_stats``,
``gongkai.publicity.selectors.objection_stats``: one aggregate query for any number of
units, the app deciding which items count in a range). Failing that, through the field
contract its app promises (below), with one aggregate query of our own: an item then counts
in a range when its answer fell due in it (``due_on``; for objections the publicity
window's last day ``ends_on``, by which the finding must be recorded). On time means
answered (or the finding recorded) on or before the due day, in local time. A source whose
app or fields are not there is left out (the page says so) rather than guessed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, F, Model, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongkai.disclosure.models import Satisfaction
from gongkai.org.models import OrgUnit


@dataclass(frozen=True)
class Source:
    name: str
    label: Promise
    model: str  # app_label.Model
    unit: str  # the unit that answers
    due: str  # the date the answer is due
    done: str  # when it was answered (datetime)
    rating: str | None  # the asker's satisfaction with the answer (Satisfaction)
    selector: str = ""  # module:function of the app's own statistics, preferred when present


SOURCES = (
    Source(
        "suggestions",
        _("Suggestions"),
        "voice.Suggestion",
        unit="responsible_unit",
        due="due_on",
        done="answered_at",
        rating="rating",
        selector="gongkai.voice.selectors:handling_stats",
    ),
    Source(
        "motions",
        _("Motions"),
        "congress.Motion",
        unit="lead_unit",
        due="due_on",
        done="answered_at",
        rating="rating",
        selector="gongkai.congress.selectors:handling_stats",
    ),
    Source(
        "objections",
        _("Objection findings"),
        "publicity.Objection",
        unit="publicity__disclosure__unit",
        due="publicity__ends_on",
        done="finding_recorded_at",
        rating=None,
        selector="gongkai.publicity.selectors:objection_stats",
    ),
)
SOURCE_LABELS = {s.name: s.label for s in SOURCES}


@dataclass
class Handling:
    on_time: int = 0
    late: int = 0
    overdue: int = 0  # not answered, past due
    open: int = 0  # not answered, not yet due
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0

    FIELDS = ("on_time", "late", "overdue", "open", "satisfied", "basic", "dissatisfied")

    def merge(self, other: Handling) -> None:
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.open

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None

    @property
    def rated(self) -> int:
        return self.satisfied + self.basic + self.dissatisfied

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in self.FIELDS},
            "total": self.total,
            "due": self.due,
            "on_time_rate": self.rate,
        }


def model_of(source: Source) -> type[Model] | None:
    """The source's model when its app is installed and has every field of the contract."""
    try:
        model = apps.get_model(source.model)
    except (LookupError, ValueError):
        return None
    for path in (source.unit, source.due, source.done, source.rating):
        if path is None:
            continue
        current: Any = model
        try:
            for part in path.split("__"):
                field = current._meta.get_field(part)
                current = field.related_model or current
        except FieldDoesNotExist:
            return None
    return model


def available_sources() -> list[Source]:
    return [s for s in SOURCES if model_of(s) is not None]


def selector_of(source: Source) -> Callable[..., dict[int, Any]] | None:
    if not source.selector or model_of(source) is None:
        return None
    module_name, _sep, function = source.selector.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, function, None)
    return found if callable(found) else None


def first_attr(stats: Any, *names: str) -> int:
    for name in names:
        value = getattr(stats, name, None)
        if isinstance(value, int):
            return value
    return 0


def from_stats(stats: Any) -> Handling:
    """Read an app's statistics object (its own dataclass) into a Handling."""
    on_time = first_attr(stats, "answered_on_time", "on_time", "found_on_time")
    late = first_attr(stats, "answered_late", "late", "found_late")
    overdue = first_attr(stats, "overdue_open", "overdue", "missing")
    received = first_attr(stats, "received", "total", "filed")
    declined = first_attr(stats, "declined")
    if hasattr(stats, "pending"):
        received = on_time + late + overdue + first_attr(stats, "pending")
    ratings = getattr(stats, "ratings", None) or {}
    return Handling(
        on_time=on_time,
        late=late,
        overdue=overdue,
        open=max(0, received - declined - on_time - late - overdue),
        satisfied=int(ratings.get(Satisfaction.SATISFIED, 0)),
        basic=int(ratings.get(Satisfaction.BASIC, 0)),
        dissatisfied=int(ratings.get(Satisfaction.DISSATISFIED, 0)),
    )


def root_paths(units: Sequence[OrgUnit]) -> list[str]:
    """The fewest subtree roots that cover ``units``."""
    roots: list[str] = []
    for path in sorted(u.path for u in units):
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def handling_by_unit(
    source: Source, units: Sequence[OrgUnit], start: date, end: date, *, today: date
) -> dict[int, Handling]:
    """The source's figures per unit (each unit's own items), one aggregate query."""
    selector = selector_of(source)
    stats: dict[int, Any] | None = None
    if selector is not None:
        try:
            if source.name == "objections":
                stats = selector(root_paths(units), start, end, today=today)
            else:
                stats = selector(units, start, end, today=today, subtree=False)
        except TypeError:  # a signature we do not know: fall back to the field contract
            stats = None
    if stats is not None:
        wanted = {u.pk for u in units}
        return {k: from_stats(v) for k, v in stats.items() if k in wanted}
    return contract_handling(source, [u.pk for u in units], start, end, today=today)


def contract_handling(
    source: Source, unit_ids: Sequence[int], start: date, end: date, *, today: date
) -> dict[int, Handling]:
    """One GROUP BY query over the field contract: items falling due in [start, end]."""
    model = model_of(source)
    if model is None or not unit_ids:
        return {}
    done, due = source.done, source.due
    answered = Q(**{f"{done}__isnull": False})
    aggregates: dict[str, Any] = {
        "on_time": Count("pk", filter=answered & Q(**{f"{done}__date__lte": F(due)})),
        "late": Count("pk", filter=answered & Q(**{f"{done}__date__gt": F(due)})),
        "overdue": Count("pk", filter=~answered & Q(**{f"{due}__lt": today})),
        "open": Count("pk", filter=~answered & Q(**{f"{due}__gte": today})),
    }
    if source.rating:
        for value in Satisfaction.values:
            aggregates[value] = Count("pk", filter=Q(**{source.rating: value}))
    rows = (
        model._default_manager.filter(
            **{f"{source.unit}__in": list(unit_ids), f"{due}__gte": start, f"{due}__lte": end}
        )
        .values(source.unit)
        .annotate(**aggregates)
        .order_by()
    )
    result: dict[int, Handling] = {}
    for row in rows:
        unit_id = row.pop(source.unit)
        result[unit_id] = Handling(**row)
    return result


def handling_for(
    units: Sequence[OrgUnit], start: date, end: date, *, today: date | None = None
) -> dict[str, Handling]:
    """The totals over ``units`` per available source."""
    today = today or timezone.localdate()
    totals: dict[str, Handling] = {}
    for source in available_sources():
        total = Handling()
        for figures in handling_by_unit(source, units, start, end, today=today).values():
            total.merge(figures)
        totals[source.name] = total
    return totals


def roll_up(units: Iterable[Any], own: dict[int, Handling]) -> dict[int, Handling]:
    """Subtree totals: each unit's figures added to every ancestor in ``units``."""
    units = list(units)
    ids = {u.pk for u in units}
    result = {u.pk: Handling() for u in units}
    for unit in units:
        figures = own.get(unit.pk)
        if figures is None:
            continue
        for ancestor in unit.path_ids:
            if ancestor in ids:
                result[ancestor].merge(figures)
    return result
