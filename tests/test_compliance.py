"""On time (按时), late (迟报), overdue (逾期), not yet due (未到期): hand-computed tables at the
period boundaries, computed from the catalog and the dates at read time.

The seeded catalog's deadlines used here: pay (department, monthly, 10 days), entertainment
(company and department, quarterly, 15), labour-protection (half-yearly, 20), model-workers
(yearly, 30), annual-goals and financial-report (company, yearly, 60), tendering (per event).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gongkai.disclosure.compliance import State, compliance_of, obligations_for
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Disclosure,
    DisclosureStatus,
    Revision,
    Scope,
)
from gongkai.org.models import OrgUnit
from tests.conftest import Org

SHANGHAI = ZoneInfo("Asia/Shanghai")
ON, LATE, OVER, NOT_DUE = State.ON_TIME, State.LATE, State.OVERDUE, State.NOT_DUE


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def record(
    org: Org,
    unit: OrgUnit,
    code: str,
    *,
    period: str = "",
    event_date: date | None = None,
    published: datetime | date | None = None,
    status: str = DisclosureStatus.PUBLISHED,
    is_nil: bool = False,
) -> Disclosure:
    """A disclosure row as the workflow leaves it (no workflow: compliance reads only dates)."""
    at = (
        local(published)
        if isinstance(published, date) and not isinstance(published, datetime)
        else published
    )
    disclosure = Disclosure.objects.create(
        unit=unit,
        entry=CatalogEntry.objects.get(code=code),
        period=period,
        event_date=event_date,
        title=f"{code} {period or event_date}",
        status=status,
        is_nil=is_nil,
        author=org["union"],
        first_published_at=at,
        withdrawn_at=at if status == DisclosureStatus.WITHDRAWN else None,
    )
    if at is not None:
        revision = Revision.objects.create(
            disclosure=disclosure,
            number=1,
            title=disclosure.title,
            scope=Scope.INTERNAL,
            published_at=at,
            published_by=org["union"],
        )
        Disclosure.objects.filter(pk=disclosure.pk).update(published_revision=revision)
    return disclosure


def table(
    unit: OrgUnit, year: int, today: date, code: str
) -> list[tuple[str, date, date | None, State]]:
    return [
        (o.period.key, o.due, o.published_on, o.state)
        for o in compliance_of(unit, year, today=today).obligations
        if o.entry.code == code
    ]


def test_month_end_deadline_day_is_on_time_and_the_day_after_is_late(org: Org):
    record(org, org.boiler, "pay", period="2026-01", published=date(2026, 2, 10))
    record(org, org.boiler, "pay", period="2026-02", published=date(2026, 3, 11))
    assert table(org.boiler, 2026, date(2026, 3, 31), "pay") == [
        ("2026-01", date(2026, 2, 10), date(2026, 2, 10), ON),
        ("2026-02", date(2026, 3, 10), date(2026, 3, 11), LATE),
        ("2026-03", date(2026, 4, 10), None, NOT_DUE),
    ]


def test_nothing_published_is_not_due_on_the_deadline_and_overdue_the_day_after(org: Org):
    assert table(org.boiler, 2026, date(2026, 2, 10), "pay")[0] == (
        "2026-01",
        date(2026, 2, 10),
        None,
        NOT_DUE,
    )
    assert table(org.boiler, 2026, date(2026, 2, 11), "pay")[0] == (
        "2026-01",
        date(2026, 2, 10),
        None,
        OVER,
    )


def test_the_publication_date_is_the_local_date_in_shanghai(org: Org):
    # 23:59 on the deadline in Shanghai is 15:59 UTC the same day: on time.
    record(
        org,
        org.boiler,
        "entertainment",
        period="2026-Q1",
        published=local(date(2026, 4, 15), 23, 59),
    )
    # 00:00:30 on the day after in Shanghai is still the deadline day in UTC: late.
    record(
        org,
        org.boiler,
        "entertainment",
        period="2026-Q2",
        published=datetime(2026, 7, 15, 16, 0, 30, tzinfo=UTC),
    )
    assert table(org.boiler, 2026, date(2026, 10, 20), "entertainment") == [
        ("2026-Q1", date(2026, 4, 15), date(2026, 4, 15), ON),
        ("2026-Q2", date(2026, 7, 15), date(2026, 7, 16), LATE),
        ("2026-Q3", date(2026, 10, 15), None, OVER),
        ("2026-Q4", date(2027, 1, 15), None, NOT_DUE),  # begun: owed, not yet due
    ]


def test_quarter_end_table_before_and_after_the_last_quarter(org: Org):
    record(org, org.boiler, "entertainment", period="2026-Q4", published=date(2027, 1, 15))
    # As of 2026-12-31 the fourth quarter is still running; as of 2027-01-16 it was published
    # on its deadline day.
    assert table(org.boiler, 2026, date(2026, 12, 31), "entertainment")[-1] == (
        "2026-Q4",
        date(2027, 1, 15),
        date(2027, 1, 15),
        ON,
    )
    assert [row[3] for row in table(org.boiler, 2026, date(2027, 1, 16), "entertainment")] == [
        OVER,
        OVER,
        OVER,
        ON,
    ]


def test_half_year_deadlines(org: Org):
    # 2025-06-30 + 20 days = Sunday 20 July 2025: due on Monday the 21st (a rest day moves it).
    record(org, org.boiler, "labour-protection", period="2025-H1", published=date(2025, 7, 22))
    record(org, org.boiler, "labour-protection", period="2025-H2", published=date(2026, 1, 20))
    assert table(org.boiler, 2025, date(2026, 3, 1), "labour-protection") == [
        ("2025-H1", date(2025, 7, 21), date(2025, 7, 22), LATE),
        ("2025-H2", date(2026, 1, 20), date(2026, 1, 20), ON),
    ]
    assert table(org.boiler, 2026, date(2026, 7, 20), "labour-protection") == [
        ("2026-H1", date(2026, 7, 20), None, NOT_DUE),
        ("2026-H2", date(2027, 1, 20), None, NOT_DUE),
    ]
    assert table(org.boiler, 2026, date(2026, 7, 21), "labour-protection")[0][3] == OVER


def test_year_end_deadline_runs_into_the_next_year(org: Org):
    record(org, org.boiler, "model-workers", period="2025", published=date(2026, 1, 30))
    assert table(org.boiler, 2025, date(2026, 6, 1), "model-workers") == [
        ("2025", date(2026, 1, 30), date(2026, 1, 30), ON)
    ]
    record(org, org.turbine, "model-workers", period="2025", published=date(2026, 1, 31))
    assert table(org.turbine, 2025, date(2026, 6, 1), "model-workers")[0][3] == LATE


def test_a_deadline_on_leap_day(org: Org):
    # 2023-12-31 + 60 days = 2024-02-29 (a Thursday); 2024-12-31 + 60 days = 2025-03-01, a
    # Saturday, so due on Monday 3 March.
    record(org, org.company, "annual-goals", period="2023", published=date(2024, 2, 29))
    record(org, org.company, "financial-report", period="2023", published=date(2024, 3, 1))
    assert table(org.company, 2023, date(2024, 6, 1), "annual-goals") == [
        ("2023", date(2024, 2, 29), date(2024, 2, 29), ON)
    ]
    assert table(org.company, 2023, date(2024, 6, 1), "financial-report") == [
        ("2023", date(2024, 2, 29), date(2024, 3, 1), LATE)
    ]
    assert table(org.company, 2024, date(2025, 3, 1), "annual-goals") == [
        ("2024", date(2025, 3, 3), None, NOT_DUE)
    ]
    assert table(org.company, 2024, date(2025, 3, 3), "annual-goals")[0][3] == NOT_DUE
    assert table(org.company, 2024, date(2025, 3, 4), "annual-goals")[0][3] == OVER


def test_february_of_a_leap_year_ends_on_the_29th(org: Org):
    record(org, org.boiler, "pay", period="2028-02", published=date(2028, 2, 29))
    record(org, org.boiler, "pay", period="2024-02", published=date(2024, 3, 12))
    assert table(org.boiler, 2028, date(2028, 3, 10), "pay")[1] == (
        "2028-02",
        date(2028, 3, 10),
        date(2028, 2, 29),
        ON,
    )
    # 2024-02-29 + 10 days = Sunday 10 March 2024: due on Monday the 11th.
    assert table(org.boiler, 2024, date(2024, 12, 31), "pay")[1] == (
        "2024-02",
        date(2024, 3, 11),
        date(2024, 3, 12),
        LATE,
    )
    # 2026 is not a leap year: February ends on the 28th, due on 10 March.
    assert table(org.boiler, 2026, date(2026, 3, 11), "pay")[1] == (
        "2026-02",
        date(2026, 3, 10),
        None,
        OVER,
    )


def test_what_counts_as_published(org: Org):
    unit = org.boiler
    # withdrawn: does not count
    record(org, unit, "pay", period="2026-01", published=date(2026, 2, 1), status="withdrawn")
    # nothing-to-report attestation: counts
    record(org, unit, "pay", period="2026-02", published=date(2026, 3, 1), is_nil=True)
    # a draft never published: does not count
    record(org, unit, "pay", period="2026-03", status=DisclosureStatus.DRAFT)
    # the earliest of two publications counts; a correction in progress still counts
    record(org, unit, "pay", period="2026-04", published=date(2026, 5, 20))
    record(org, unit, "pay", period="2026-04", published=date(2026, 5, 9), status="draft")
    # another unit's publication does not count for this one
    record(org, org.turbine, "pay", period="2026-05", published=date(2026, 6, 1))
    assert table(unit, 2026, date(2026, 6, 30), "pay") == [
        ("2026-01", date(2026, 2, 10), None, OVER),
        ("2026-02", date(2026, 3, 10), date(2026, 3, 1), ON),
        ("2026-03", date(2026, 4, 10), None, OVER),
        ("2026-04", date(2026, 5, 11), date(2026, 5, 9), ON),  # the 10th is a Sunday
        ("2026-05", date(2026, 6, 10), None, OVER),
        ("2026-06", date(2026, 7, 10), None, NOT_DUE),
    ]


def test_summary_counts_and_on_time_rate(org: Org):
    record(org, org.boiler, "pay", period="2026-01", published=date(2026, 2, 10))
    record(org, org.boiler, "pay", period="2026-02", published=date(2026, 3, 11))
    c = compliance_of(org.boiler, 2026, today=date(2026, 4, 5))
    # pay: Jan on time, Feb late, Mar not due, Apr not due; entertainment Q1 and Q2 not due,
    # materials Q1 and Q2 not due, labour-protection H1 not due, model-workers not due.
    assert (c.on_time, c.late, c.overdue) == (1, 1, 0)
    assert c.due == 2
    assert c.on_time_rate == 50
    assert compliance_of(org.turbine, 2026, today=date(2026, 1, 5)).on_time_rate is None


def test_each_unit_kind_owes_its_own_entries(org: Org):
    today = date(2026, 2, 1)
    team = {o.entry.code for o in compliance_of(org.boiler_team, 2026, today=today).obligations}
    dept = {o.entry.code for o in compliance_of(org.boiler, 2026, today=today).obligations}
    company = {o.entry.code for o in compliance_of(org.company, 2026, today=today).obligations}
    assert team == {
        "team-bonus",
        "attendance",
        "team-materials",
        "safety-performance",
        "team-awards",
    }
    assert dept == {"entertainment", "materials", "model-workers", "pay", "labour-protection"}
    assert "pay" not in company and "vehicles" in company and "team-bonus" not in company


def test_per_event_entries_show_a_count_not_an_obligation(org: Org):
    unit = org.boiler
    record(org, unit, "tendering", event_date=date(2026, 3, 2), published=date(2026, 3, 3))
    record(org, unit, "tendering", event_date=date(2026, 5, 2), published=date(2026, 5, 3))
    record(
        org,
        unit,
        "tendering",
        event_date=date(2026, 6, 2),
        published=date(2026, 6, 3),
        status="withdrawn",
    )
    record(org, unit, "tendering", event_date=date(2025, 12, 30), published=date(2026, 1, 2))
    c = compliance_of(unit, 2026, today=date(2026, 7, 1))
    assert not [o for o in c.obligations if o.entry.code == "tendering"]
    events = {e.entry.code: e.published for e in c.events}
    assert events["tendering"] == 2
    # the department's other per-event entries (publicity, meetings, evaluations, patrol
    # reports) show none
    assert {code: n for code, n in events.items() if code != "tendering"} == {
        "cadre-appointment": 0,
        "meeting-decisions": 0,
        "evaluation-results": 0,
        "patrol-report": 0,
    }


def test_a_new_rule_decides_only_the_periods_that_begin_after_it(org: Org):
    pay = CatalogEntry.objects.get(code="pay")
    base = {"unit_kinds": ["department"], "default_scope": "internal"}
    # from mid-March: 5 days' deadline; March began under the old rule and keeps 10 days
    CatalogRule.objects.create(
        entry=pay, effective_from=date(2026, 3, 15), frequency="monthly", deadline_days=5, **base
    )
    # from July: quarterly, 20 days
    CatalogRule.objects.create(
        entry=pay, effective_from=date(2026, 7, 1), frequency="quarterly", deadline_days=20, **base
    )
    rows = table(org.boiler, 2026, date(2026, 12, 31), "pay")
    assert [(key, due) for key, due, _, _ in rows] == [
        ("2026-01", date(2026, 2, 10)),
        ("2026-02", date(2026, 3, 10)),
        ("2026-03", date(2026, 4, 10)),
        ("2026-04", date(2026, 5, 6)),  # 1-5 May 2026 is the Labour Day holiday
        ("2026-05", date(2026, 6, 5)),
        ("2026-06", date(2026, 7, 6)),  # the 5th is a Sunday
        ("2026-Q3", date(2026, 10, 20)),
        ("2026-Q4", date(2027, 1, 20)),
    ]


def test_a_rule_that_stops_applying_to_a_kind_ends_its_obligations(org: Org):
    CatalogRule.objects.create(
        entry=CatalogEntry.objects.get(code="pay"),
        effective_from=date(2026, 4, 1),
        unit_kinds=["company"],
        frequency="monthly",
        deadline_days=10,
    )
    keys = [row[0] for row in table(org.boiler, 2026, date(2026, 12, 31), "pay")]
    assert keys == ["2026-01", "2026-02", "2026-03"]
    assert [row[0] for row in table(org.company, 2026, date(2026, 6, 30), "pay")] == [
        "2026-04",
        "2026-05",
        "2026-06",
    ]


def test_an_inactive_entry_is_owed_no_more(org: Org):
    CatalogEntry.objects.filter(code="pay").update(is_active=False)
    assert table(org.boiler, 2026, date(2026, 12, 31), "pay") == []


@pytest.mark.parametrize("year", [2019, 2027])
def test_years_before_the_catalog_or_in_the_future_owe_nothing(org: Org, year: int):
    c = compliance_of(org.boiler, year, today=date(2026, 11, 24))
    assert c.obligations == [] and c.on_time_rate is None


def test_many_units_at_once_in_three_queries(org: Org, django_assert_num_queries):
    record(org, org.boiler, "pay", period="2026-01", published=date(2026, 2, 1))
    record(org, org.turbine, "pay", period="2026-01", published=date(2026, 2, 20))
    units = [org.company, org.boiler, org.turbine, org.boiler_team, org.turbine_team]
    with django_assert_num_queries(3):  # publications, the catalog, the working days
        result = obligations_for(units, 2026, today=date(2026, 3, 1))
    boiler_pay = [o for o in result[org.boiler.pk].obligations if o.entry.code == "pay"]
    assert [o.state for o in boiler_pay] == [ON, NOT_DUE, NOT_DUE]
    turbine_pay = [o for o in result[org.turbine.pk].obligations if o.entry.code == "pay"]
    assert [o.state for o in turbine_pay] == [LATE, NOT_DUE, NOT_DUE]
    assert {o.unit_id for o in result[org.boiler_team.pk].obligations} == {org.boiler_team.pk}
    assert obligations_for([], 2026) == {}


def test_states_are_derived_at_read_time_not_stored(org: Org):
    record(org, org.boiler, "pay", period="2026-01", published=None, status="draft")
    before = table(org.boiler, 2026, date(2026, 2, 10), "pay")[0][3]
    after = table(org.boiler, 2026, date(2026, 2, 11), "pay")[0][3]
    assert (before, after) == (NOT_DUE, OVER)
