"""Official holiday arrangements, loaded into the calendar by a data migration (and again by
tests after a flush). Source: the State Council General Office's notice on the 2026 holiday
arrangement (国务院办公厅关于2026年部分节假日安排的通知, November 2025), entered from memory
of the notice and checked against the weekdays it names; the union office corrects any day on
the calendar page. 2027 is not included: its arrangement was not known when this was written
(the notice usually comes out in November of the year before)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

# (name, first day off, last day off, adjusted working days (调休上班))
ARRANGEMENTS: dict[int, list[tuple[str, date, date, list[date]]]] = {
    2026: [
        ("元旦", date(2026, 1, 1), date(2026, 1, 3), [date(2026, 1, 4)]),
        ("春节", date(2026, 2, 15), date(2026, 2, 23), [date(2026, 2, 14), date(2026, 2, 28)]),
        ("清明节", date(2026, 4, 4), date(2026, 4, 6), []),
        ("劳动节", date(2026, 5, 1), date(2026, 5, 5), [date(2026, 5, 9)]),
        ("端午节", date(2026, 6, 19), date(2026, 6, 21), []),
        ("中秋节", date(2026, 9, 25), date(2026, 9, 27), []),
        (
            "国庆节",
            date(2026, 10, 1),
            date(2026, 10, 7),
            [date(2026, 9, 20), date(2026, 10, 10)],
        ),
    ],
}


def calendar_rows(year: int) -> Iterator[tuple[date, str, str]]:
    """(date, kind, name) for every day of the year's arrangement."""
    for name, first, last, workdays in ARRANGEMENTS.get(year, []):
        day = first
        while day <= last:
            yield day, "holiday", name
            day += timedelta(days=1)
        for workday in workdays:
            yield workday, "workday", f"{name}调休"


def load_year(calendar_day_model: Any, year: int) -> int:
    """Insert the year's arrangement, keeping any day already on the calendar."""
    existing = set(calendar_day_model.objects.filter(day__year=year).values_list("day", flat=True))
    rows = [
        calendar_day_model(day=d, kind=k, name=n)
        for d, k, n in calendar_rows(year)
        if d not in existing
    ]
    calendar_day_model.objects.bulk_create(rows)
    return len(rows)
