"""Handling figures: how the items a unit must answer by a due day (suggestions, motions,
objection findings) were handled in a period — answered on time, late, not answered and past
due, still open — and how satisfied the askers were with the answers.

This is the contract between the parts that own such items and the parts that read the
figures (the compliance snapshot frozen into inspections, the assessment's dashboard, scores
and annual report). Each owning part registers one :class:`HandlingSource` from its
``AppConfig.ready()``; readers ask :func:`handling_sources` (in ``order``) and
:func:`handling_totals`. A part that is not installed registers nothing and is left out.
This module names no part and imports none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

from gongkai.core.satisfaction import Satisfaction


@dataclass(frozen=True)
class Handling:
    """The figures of one unit (or the sum of several) for a period."""

    on_time: int = 0  # answered on or before the due day
    late: int = 0  # answered after it
    overdue: int = 0  # not answered, past due
    open: int = 0  # not answered, not yet due
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0

    @classmethod
    def counted(
        cls,
        *,
        on_time: int,
        late: int,
        overdue: int,
        open: int,
        ratings: Mapping[str, int] | None = None,
    ) -> Handling:
        """The figures with the ratings given as counts per :class:`Satisfaction` value."""
        ratings = ratings or {}
        return cls(
            on_time=on_time,
            late=late,
            overdue=overdue,
            open=open,
            satisfied=int(ratings.get(Satisfaction.SATISFIED, 0)),
            basic=int(ratings.get(Satisfaction.BASIC, 0)),
            dissatisfied=int(ratings.get(Satisfaction.DISSATISFIED, 0)),
        )

    def __add__(self, other: Handling) -> Handling:
        return Handling(
            on_time=self.on_time + other.on_time,
            late=self.late + other.late,
            overdue=self.overdue + other.overdue,
            open=self.open + other.open,
            satisfied=self.satisfied + other.satisfied,
            basic=self.basic + other.basic,
            dissatisfied=self.dissatisfied + other.dissatisfied,
        )

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.open

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        """Percent answered on time among the due ones (None when nothing is due)."""
        return round(100 * self.on_time / self.due, 1) if self.due else None

    @property
    def rated(self) -> int:
        return self.satisfied + self.basic + self.dissatisfied

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total, "due": self.due, "on_time_rate": self.rate}


UnitT = TypeVar("UnitT", contravariant=True)


class FiguresFunction(Protocol[UnitT]):
    """A part's figures: for each given unit (an org unit; this module does not know the
    class), keyed by its pk, the items of that unit alone (not of the units below it) that
    the part counts in [start, end], judged as of ``today``. A unit with nothing may be
    missing. A fixed number of queries whatever the number of units."""

    def __call__(
        self, units: Sequence[UnitT], start: date, end: date, *, today: date
    ) -> Mapping[int, Handling]: ...


@dataclass(frozen=True)
class HandlingSource:
    name: str  # the key of the source's figures ("suggestions")
    label: str | Promise
    order: int  # sources are listed (columns, report sections) by this, smaller first
    rated: bool  # the askers rate the answers (the satisfaction figures mean something)
    figures: FiguresFunction[Any]


_sources: dict[str, HandlingSource] = {}


def register_handling_source(source: HandlingSource) -> None:
    """Called from the owning part's ``AppConfig.ready()``."""
    known = _sources.get(source.name)
    if known is not None and known != source:
        raise ImproperlyConfigured(f"Two handling sources are named {source.name!r}.")
    _sources[source.name] = source


def handling_sources() -> list[HandlingSource]:
    """The registered sources by ``order``."""
    return sorted(_sources.values(), key=lambda source: (source.order, source.name))


def handling_totals(
    units: Sequence[Any], start: date, end: date, *, today: date
) -> dict[str, Handling]:
    """Per registered source (by ``order``), its figures summed over ``units``."""
    return {
        source.name: sum(source.figures(units, start, end, today=today).values(), Handling())
        for source in handling_sources()
    }
