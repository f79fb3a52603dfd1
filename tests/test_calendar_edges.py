"""Where calendars go wrong: deadlines on weekends and public holidays, periods across a year
boundary, and the Asia/Shanghai date against the server's UTC date (between 00:00 and 08:00
in Shanghai the UTC date is still yesterday's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongkai.assessment.forms import default_range
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.core.periods import Period, PeriodKind, deadline, periods_between
from gongkai.core.workdays import WorkingCalendar, calendar_for
from gongkai.demo.calendar import DemoCalendar, at_day
from gongkai.disclosure.compliance import State, compliance_of
from gongkai.disclosure.models import CatalogEntry, CatalogRule
from tests.conftest import Org
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
ON, LATE, OVER, NOT_DUE = State.ON_TIME, State.LATE, State.OVERDUE, State.NOT_DUE


@pytest.fixture
def workdays(db) -> WorkingCalendar:
    load_year(CalendarDay, 2026)
    return calendar_for(range(2025, 2029))


# --- Deadlines on rest days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "days", "due", "why"),
    [
        (date(2026, 6, 30), 20, date(2026, 7, 20), "a Monday stays"),
        (date(2026, 6, 30), 4, date(2026, 7, 6), "Saturday 4 July moves to Monday"),
        (date(2026, 6, 30), 5, date(2026, 7, 6), "Sunday 5 July moves to Monday"),
        (date(2026, 9, 30), 1, date(2026, 10, 8), "National Day (1-7 October) moves past it"),
        (date(2026, 9, 30), 10, date(2026, 10, 10), "Saturday 10 October is worked (调休)"),
        (date(2026, 1, 31), 15, date(2026, 2, 24), "Spring Festival (15-23 February)"),
        (date(2026, 2, 13), 1, date(2026, 2, 14), "Saturday 14 February is worked (调休)"),
        (date(2026, 12, 31), 2, date(2027, 1, 4), "Saturday 2 January 2027 moves into Monday"),
        (date(2028, 12, 31), 0, date(2029, 1, 1), "a Sunday at the year's end moves into the next"),
    ],
)
def test_a_deadline_on_a_rest_day_moves_to_the_next_working_day(end, days, due, why):
    holidays = {date(2026, 10, 1) + timedelta(days=i) for i in range(7)}
    holidays |= {date(2026, 2, 15) + timedelta(days=i) for i in range(9)}
    workdays = WorkingCalendar(
        years=frozenset(range(2026, 2030)),
        holidays=frozenset(holidays),
        workdays=frozenset({date(2026, 10, 10), date(2026, 2, 14)}),
    )
    assert deadline(end, days, workdays) == due, why


def test_a_deadline_outside_the_loaded_years_is_refused_not_guessed():
    workdays = WorkingCalendar(years=frozenset({2026}), holidays=frozenset(), workdays=frozenset())
    with pytest.raises(ValueError, match="2027"):
        deadline(date(2026, 12, 31), 2, workdays)


def test_compliance_moves_a_holiday_deadline_and_keeps_an_adjusted_working_day(org: Org):
    """A department's September pay, due one day after the month under a new rule: 1 October
    is National Day, so publishing on the 8th (the first working day) is on time."""
    load_year(CalendarDay, 2026)
    pay = CatalogEntry.objects.get(code="pay")
    CatalogRule.objects.create(
        entry=pay,
        effective_from=date(2026, 9, 1),
        frequency="monthly",
        deadline_days=1,
        unit_kinds=["department"],
        default_scope="internal",
    )
    record(org, org.boiler, "pay", period="2026-09", published=date(2026, 10, 8))
    record(org, org.turbine, "pay", period="2026-09", published=date(2026, 10, 9))
    # August is under the old rule (10 days): due on Thursday 10 September.
    record(org, org.boiler, "pay", period="2026-08", published=date(2026, 9, 10))

    def row(unit, key):
        obligations = compliance_of(unit, 2026, today=date(2026, 12, 31)).obligations
        found = next(o for o in obligations if o.entry.code == "pay" and o.period.key == key)
        return found.due, found.state

    assert row(org.boiler, "2026-09") == (date(2026, 10, 8), ON)
    assert row(org.turbine, "2026-09") == (date(2026, 10, 8), LATE)
    assert row(org.boiler, "2026-08") == (date(2026, 9, 10), ON)
    # October's falls on Sunday 1 November: due Monday the 2nd.
    assert row(org.boiler, "2026-10")[0] == date(2026, 11, 2)
    # A department that published nothing: not overdue on the 7th (the deadline moved),
    # overdue on the 9th.
    assert row_of(org.union_dept, date(2026, 10, 7)) == NOT_DUE
    assert row_of(org.union_dept, date(2026, 10, 9)) == OVER


def row_of(unit, today: date) -> State:
    obligations = compliance_of(unit, 2026, today=today).obligations
    return next(o.state for o in obligations if o.entry.code == "pay" and o.period.key == "2026-09")


# --- Periods across a year boundary ---------------------------------------------------------


def test_periods_step_across_the_year_boundary():
    assert Period(2026, PeriodKind.QUARTER, 4).next() == Period(2027, PeriodKind.QUARTER, 1)
    assert Period(2027, PeriodKind.MONTH, 1).previous() == Period(2026, PeriodKind.MONTH, 12)
    assert Period(2027, PeriodKind.HALF, 1).previous() == Period(2026, PeriodKind.HALF, 2)
    assert Period(2027, PeriodKind.YEAR, 1).previous() == Period(2026, PeriodKind.YEAR, 1)
    keys = [p.key for p in periods_between(PeriodKind.MONTH, date(2026, 11, 15), date(2027, 2, 1))]
    assert keys == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_the_compliance_default_range_is_a_year_on_new_years_day():
    assert default_range(date(2027, 1, 1)) == (date(2026, 2, 1), date(2027, 1, 1))
    assert default_range(date(2026, 12, 6)) == (date(2026, 1, 1), date(2026, 12, 6))
    assert default_range(date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))


@pytest.mark.parametrize(
    ("today", "rounds", "history_start"),
    [
        (date(2027, 1, 1), ("2025-H2", "2026-H1"), date(2025, 7, 1)),
        (date(2026, 6, 30), ("2025-H1", "2025-H2"), date(2025, 1, 1)),
        (date(2026, 7, 1), ("2025-H1", "2025-H2"), date(2025, 1, 1)),
        (date(2026, 12, 31), ("2025-H2", "2026-H1"), date(2025, 1, 1)),
        (date(2028, 2, 29), ("2026-H2", "2027-H1"), date(2026, 7, 1)),
        (date(2027, 3, 2), ("2025-H2", "2026-H1"), date(2025, 7, 1)),
        (date(2027, 3, 3), ("2026-H1", "2026-H2"), date(2026, 1, 1)),
    ],
)
def test_the_demo_calendar_keeps_last_year_and_two_settled_rounds(today, rounds, history_start):
    calendar = DemoCalendar(today)
    assert tuple(p.key for p in calendar.rounds) == rounds
    assert calendar.rounds[1].end < today - timedelta(days=60)
    assert calendar.history_start == history_start
    assert calendar.history_start <= date(calendar.last_year, 1, 1)


# --- Shanghai's date, not the server's UTC date ---------------------------------------------


def test_overdue_follows_the_date_in_shanghai_not_utc(org: Org):
    """Labour protection for 2026-H1 is due on Monday 20 July. At 00:30 on the 21st in
    Shanghai the server's UTC date is still the 20th: the item is overdue all the same."""
    load_year(CalendarDay, 2026)

    def state_at(moment: datetime) -> State:
        with time_machine.travel(moment, tick=False):
            obligations = compliance_of(org.boiler, 2026).obligations
        return next(
            o.state
            for o in obligations
            if o.entry.code == "labour-protection" and o.period.key == "2026-H1"
        )

    assert state_at(datetime(2026, 7, 20, 23, 30, tzinfo=SH)) == NOT_DUE
    late_night = datetime(2026, 7, 21, 0, 30, tzinfo=SH)
    assert late_night.astimezone(ZoneInfo("UTC")).date() == date(2026, 7, 20)
    assert state_at(late_night) == OVER


def test_the_demo_never_dates_a_step_after_now():
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=SH), tick=False):
        moment = at_day(date(2027, 1, 1), 16)
        assert moment == datetime(2027, 1, 1, 0, 30, tzinfo=SH)
        assert at_day(date(2026, 12, 31), 16) == datetime(2026, 12, 31, 16, 0, tzinfo=SH)
