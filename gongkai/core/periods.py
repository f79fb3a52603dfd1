"""Reporting periods: a month (2026-10), a quarter (2026-Q3), a half-year (2026-H2) or a year
(2026). Deadlines and on-time status are derived from these dates at read time."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from gongkai.core.workdays import WorkingCalendar


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")
    PER_EVENT = "per_event", _("Per event")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


KIND_BY_FREQUENCY = {
    Frequency.MONTHLY: PeriodKind.MONTH,
    Frequency.QUARTERLY: PeriodKind.QUARTER,
    Frequency.HALF_YEARLY: PeriodKind.HALF,
    Frequency.YEARLY: PeriodKind.YEAR,
}
MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.HALF: 6, PeriodKind.YEAR: 12}
PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<q>[1-4])|H(?P<h>[12])))?$")


class InvalidPeriod(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period; ``index`` is the month (1–12), quarter (1–4), half (1–2) or 1."""

    year: int
    kind: PeriodKind
    index: int

    @classmethod
    def parse(cls, key: str) -> Period:
        match = PATTERN.match(key.strip())
        if not match:
            raise InvalidPeriod(key)
        year = int(match["year"])
        if match["month"]:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise InvalidPeriod(key)
            return cls(year, PeriodKind.MONTH, month)
        if match["q"]:
            return cls(year, PeriodKind.QUARTER, int(match["q"]))
        if match["h"]:
            return cls(year, PeriodKind.HALF, int(match["h"]))
        return cls(year, PeriodKind.YEAR, 1)

    @classmethod
    def containing(cls, day: date, kind: PeriodKind) -> Period:
        months = MONTHS_IN[kind]
        return cls(day.year, kind, (day.month - 1) // months + 1)

    @property
    def key(self) -> str:
        return {
            PeriodKind.MONTH: f"{self.year}-{self.index:02d}",
            PeriodKind.QUARTER: f"{self.year}-Q{self.index}",
            PeriodKind.HALF: f"{self.year}-H{self.index}",
            PeriodKind.YEAR: f"{self.year}",
        }[self.kind]

    def __str__(self) -> str:
        return self.key

    @property
    def start(self) -> date:
        return date(self.year, (self.index - 1) * MONTHS_IN[self.kind] + 1, 1)

    @property
    def end(self) -> date:
        """The last day of the period."""
        last_month = self.index * MONTHS_IN[self.kind]
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def next(self) -> Period:
        count = 12 // MONTHS_IN[self.kind]
        if self.index == count:
            return Period(self.year + 1, self.kind, 1)
        return Period(self.year, self.kind, self.index + 1)

    def previous(self) -> Period:
        if self.index == 1:
            return Period(self.year - 1, self.kind, 12 // MONTHS_IN[self.kind])
        return Period(self.year, self.kind, self.index - 1)

    def label(self) -> str:
        values = {"year": self.year, "index": self.index, "month": f"{self.index:02d}"}
        if self.kind == PeriodKind.MONTH:
            return _("%(year)s-%(month)s") % values
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)s Q%(index)s") % values
        if self.kind == PeriodKind.HALF:
            if self.index == 1:
                return _("%(year)s first half") % values
            return _("%(year)s second half") % values
        return _("year %(year)s") % values


def periods_between(kind: PeriodKind, first: date, last: date) -> list[Period]:
    """Every period of ``kind`` that overlaps [first, last], in order."""
    periods: list[Period] = []
    period = Period.containing(first, kind)
    while period.start <= last:
        periods.append(period)
        period = period.next()
    return periods


def deadline(end: date, days_after: int, calendar: WorkingCalendar) -> date:
    """The last day on which publishing still counts as on time: ``days_after`` calendar days
    after the period's last day, moved to the next working day when it falls on a weekend
    or public holiday (民法典 第二百零三条: a time limit whose last day is a statutory rest
    day ends on the first day after it). ``calendar`` must hold the year after ``end``'s."""
    return calendar.on_or_after(end + timedelta(days=days_after))
