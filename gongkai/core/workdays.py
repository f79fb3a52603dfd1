"""Working days in China: Monday to Friday, minus public holidays, plus adjusted working days
(调休: a Saturday or Sunday that is worked), as entered in :class:`CalendarDay`.

Each function reads the exceptions of the years it needs in one query; for many calls, load a
:class:`WorkingCalendar` once with :func:`calendar_for` and ask it.

Conventions (one rule, so the functions are each other's inverse):
- ``add_working_days(start, n)`` is the n-th working day after ``start`` (``start`` itself is
  not counted; n = 0 gives ``start``). "A window of 5 working days from the 10th" ends on
  ``add_working_days(10th, 5)``.
- ``working_days_between(a, b)`` counts the working days d with a < d <= b, so
  ``working_days_between(start, add_working_days(start, n)) == n``; it is 0 when b <= a.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from gongkai.core.models import CalendarDay, DayKind

# How many calendar years n working days can span at most (about 250 working days a year).
WORKING_DAYS_PER_YEAR_AT_LEAST = 200


@dataclass(frozen=True)
class WorkingCalendar:
    """The exceptions of some years, loaded once."""

    years: frozenset[int]
    holidays: frozenset[date]
    workdays: frozenset[date]

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            raise ValueError(f"{day.year} was not loaded")

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def subtract_working_days(self, start: date, n: int) -> date:
        """The n-th working day before ``start`` (the inverse of :meth:`add_working_days`
        for a working day ``start``)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n > 0:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def add_working_days(self, start: date, n: int) -> date:
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        count = 0
        day = a + timedelta(days=1)
        while day <= b:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count


def calendar_for(years: Iterable[int]) -> WorkingCalendar:
    """The calendar of these years, in one query."""
    wanted = frozenset(years)
    holidays: set[date] = set()
    workdays: set[date] = set()
    if wanted:
        rows = CalendarDay.objects.filter(day__year__gte=min(wanted), day__year__lte=max(wanted))
        for day, kind in rows.values_list("day", "kind"):
            (holidays if kind == DayKind.HOLIDAY else workdays).add(day)
    full = frozenset(range(min(wanted), max(wanted) + 1)) if wanted else wanted
    return WorkingCalendar(years=full, holidays=frozenset(holidays), workdays=frozenset(workdays))


def calendar_spanning(first: date, last: date) -> WorkingCalendar:
    """The calendar from ``first``'s year to the year after ``last``'s (a day near the end
    of a year can move into the next), in one query."""
    return calendar_for(range(first.year, last.year + 2))


def years_for(start: date, n: int) -> range:
    """The years that n working days after ``start`` can reach."""
    return range(start.year, start.year + 2 + n // WORKING_DAYS_PER_YEAR_AT_LEAST)


def is_working_day(day: date) -> bool:
    return calendar_for([day.year]).is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    return calendar_for(years_for(start, n)).add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    if b <= a:
        return 0
    return calendar_for(range(a.year, b.year + 1)).working_days_between(a, b)
