"""Units answer only for the periods they could have published (issue 13, item 3): a unit is
charged from the first period that begins after it was created (or from an effective date
given at creation), and a deactivated unit stops being charged."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from gongkai.disclosure.compliance import (
    State,
    Tally,
    compliance_of,
    compliance_tree,
    iter_obligations,
    unit_tallies,
)
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.roster import roster_import
from gongkai.org.services import unit_create, unit_update
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
IMPORT_DAY = datetime(2026, 5, 12, 10, tzinfo=SH)
LATER = date(2026, 8, 20)


def import_new_units(org) -> tuple[OrgUnit, OrgUnit]:
    """A roster import on 12 May 2026 that creates a department and a team under it."""
    data = "工号,姓名,部门,班组\n20001,周强,化学分场,水处理班\n".encode()
    with time_machine.travel(IMPORT_DAY, tick=False):
        result = roster_import(
            actor=org["union"], company=org.company, data=data, filename="r.csv", dry_run=False
        )
    assert result.applied, result.errors
    return OrgUnit.objects.get(name="化学分场"), OrgUnit.objects.get(name="水处理班")


def counted(units, start, end, today) -> dict[int, Tally]:
    tallies = {u.pk: Tally() for u in units}
    for obligation in iter_obligations(units, start, end, today=today):
        tallies[obligation.unit_id].add(obligation.state)
    return tallies


def test_units_created_by_a_roster_import_owe_nothing_for_periods_before_them(org):
    chem, water = import_new_units(org)
    assert chem.charged_from == water.charged_from == date(2026, 5, 13)

    team_year = compliance_of(water, 2026, today=LATER)
    # Monthly team items from June (May began before the unit existed), the quarterly one
    # from Q3; nothing for January to May.
    periods = {o.period.key for o in team_year.obligations}
    assert periods == {"2026-06", "2026-07", "2026-08", "2026-Q3"}
    overdue = {o.period.key for o in team_year.obligations if o.state == State.OVERDUE}
    assert overdue == {"2026-06", "2026-07"}  # only what it could have published
    dept_year = compliance_of(chem, 2026, today=LATER)
    assert {o.period.key for o in dept_year.obligations} == {
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-Q3",
        "2026-H2",
    }
    # The established department next to it still answers for the whole year.
    boiler_year = compliance_of(org.boiler, 2026, today=LATER)
    assert "2026-01" in {o.period.key for o in boiler_year.obligations}


def test_the_dashboard_and_the_scores_count_the_same_for_new_units(org):
    chem, water = import_new_units(org)
    record(org, chem, "pay", period="2026-06", published=date(2026, 7, 3))
    record(org, chem, "pay", period="2026-07", published=date(2026, 8, 30))  # late
    # Published for a period before the unit answered for anything: no obligation.
    record(org, chem, "pay", period="2026-04", published=date(2026, 5, 20))
    units = [chem, water, org.boiler, org.boiler_team]
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    tallies = unit_tallies(units, start, end, today=date(2026, 9, 20))
    expected = counted(units, start, end, date(2026, 9, 20))
    assert {k: t.as_dict() for k, t in tallies.items()} == {
        k: t.as_dict() for k, t in expected.items()
    }
    assert tallies[chem.pk].on_time == 1 and tallies[chem.pk].late == 1
    assert tallies[water.pk].overdue == expected[water.pk].overdue > 0
    assert tallies[water.pk].total < tallies[org.boiler_team.pk].total

    tree = compliance_tree(org.company, start, end, today=date(2026, 9, 20))
    assert tree[chem.pk].own.as_dict() == tallies[chem.pk].as_dict()


def test_an_effective_date_given_at_creation_decides_the_first_period(org):
    with time_machine.travel(IMPORT_DAY, tick=False):
        unit = unit_create(
            actor=org["union"],
            code="rd-coal",
            name="燃料分场",
            kind=UnitKind.DEPARTMENT,
            parent=org.company,
            charged_from=date(2026, 1, 1),
        )
    year = compliance_of(unit, 2026, today=LATER)
    assert "2026-01" in {o.period.key for o in year.obligations}
    assert year.overdue > 0


def test_a_deactivated_unit_stops_being_charged(org):
    with time_machine.travel(IMPORT_DAY, tick=False):
        unit_update(actor=org["union"], unit=org.turbine, name="汽机分场", order=0, is_active=False)
    org.turbine.refresh_from_db()
    assert org.turbine.deactivated_on == date(2026, 5, 12)
    year = compliance_of(org.turbine, 2026, today=date(2026, 12, 31))
    periods = {o.period.key for o in year.obligations}
    # Periods that ended while it was active stay on its record; none after.
    assert {"2026-01", "2026-04", "2026-Q1"} <= periods
    assert not periods & {"2026-05", "2026-06", "2026-Q2", "2026-H1", "2026"}
    units = [org.turbine, org.boiler]
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    tallies = unit_tallies(units, start, end, today=date(2026, 12, 31))
    expected = counted(units, start, end, date(2026, 12, 31))
    assert tallies[org.turbine.pk].as_dict() == expected[org.turbine.pk].as_dict()
    assert tallies[org.turbine.pk].total == len(year.obligations)


@pytest.mark.parametrize("given", [None, "2026-01-01"])
def test_create_company_command_sets_the_first_charged_day(db, given):
    args = ["create_company", "nc", "新公司"] + (["--charged-from", given] if given else [])
    with time_machine.travel(IMPORT_DAY, tick=False):
        call_command(*args)
    unit = OrgUnit.objects.get(code="nc")
    assert unit.charged_from == (date(2026, 1, 1) if given else date(2026, 5, 13))


def test_obligations_of_a_new_unit_are_not_overdue_on_its_first_day(org):
    chem, water = import_new_units(org)
    states = [
        o.state
        for o in iter_obligations(
            [chem, water], date(2026, 1, 1), date(2026, 12, 31), today=date(2026, 5, 12)
        )
    ]
    assert State.OVERDUE not in states


def test_the_demo_teams_that_joined_late_answer_only_from_then(db):
    from gongkai.demo.calendar import demo_calendar
    from gongkai.demo.org import seed_org
    from tests.conftest import ensure_catalog

    ensure_catalog()
    with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=SH), tick=False):
        seed_org(employees_per_team=1)
        calendar = demo_calendar()
    boiler_team = OrgUnit.objects.get(code="rd-boiler-1")
    other_team = OrgUnit.objects.get(code="rd-turbine-1")
    assert boiler_team.charged_from == calendar.history_start == date(2025, 1, 1)
    assert other_team.charged_from == calendar.teams_joined == date(2026, 9, 1)
    year = compliance_of(other_team, 2026, today=date(2026, 11, 20))
    assert min(o.period.start for o in year.obligations) == date(2026, 9, 1)
