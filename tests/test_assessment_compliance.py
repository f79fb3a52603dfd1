"""Compliance of a subtree over a date range: states at the period boundaries, roll-up from
team to company, the snapshot frozen into inspections, and a fixed number of queries."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongkai.disclosure.compliance import (
    State,
    Tally,
    compliance_snapshot,
    compliance_tree,
    iter_obligations,
    subtree_units,
    unit_tallies,
)
from gongkai.org.models import UnitKind
from tests.conftest import Org
from tests.factories import make_unit, published_disclosure

SH = ZoneInfo("Asia/Shanghai")
Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def publish_team_bonus(org: Org, period: str, at: datetime) -> None:
    published_disclosure(
        unit=org.boiler_team, entry_code="team-bonus", period=period, published_at=at
    )


@pytest.fixture
def q1_team(org: Org) -> Org:
    """team-bonus is monthly with 10 days' grace: January is due 10 February, etc."""
    # Exactly on the last day (late evening, local time): on time.
    publish_team_bonus(org, "2026-01", datetime(2026, 2, 10, 23, 30, tzinfo=SH))
    # Half past midnight local time on the day after (still 10 March in UTC): late by a day.
    publish_team_bonus(org, "2026-02", datetime(2026, 3, 11, 0, 30, tzinfo=SH))
    # March: nothing published.
    return org


def states(org: Org, today: date, entry: str = "team-bonus") -> list[tuple[str, str, str]]:
    return [
        (o.period.key, o.due.isoformat(), o.state.value)
        for o in iter_obligations([org.boiler_team], *Q1, today=today)
        if o.entry.code == entry
    ]


def test_states_at_the_period_boundaries_match_the_hand_computed_table(q1_team: Org):
    # On the last day for March, March is not yet due.
    assert states(q1_team, date(2026, 4, 10)) == [
        ("2026-01", "2026-02-10", State.ON_TIME),
        ("2026-02", "2026-03-10", State.LATE),
        ("2026-03", "2026-04-10", State.NOT_DUE),
    ]
    # The day after, it is overdue.
    assert [s for _p, _d, s in states(q1_team, date(2026, 4, 11))] == [
        State.ON_TIME,
        State.LATE,
        State.OVERDUE,
    ]


def test_periods_not_begun_by_today_are_no_obligation(q1_team: Org):
    assert [p for p, _d, _s in states(q1_team, date(2026, 2, 15))] == ["2026-01", "2026-02"]
    # Quarterly team materials: Q1 is due 15 April (15 days' grace).
    assert states(q1_team, date(2026, 4, 15), "team-materials") == [
        ("2026-Q1", "2026-04-15", State.NOT_DUE)
    ]
    assert states(q1_team, date(2026, 4, 16), "team-materials") == [
        ("2026-Q1", "2026-04-15", State.OVERDUE)
    ]


def test_withdrawn_disclosure_no_longer_counts(org: Org):
    from gongkai.disclosure.services import Transition, disclosure_transition
    from tests.factories import UserFactory

    item = published_disclosure(
        unit=org.boiler_team,
        entry_code="team-bonus",
        period="2026-01",
        published_at=datetime(2026, 2, 1, 9, tzinfo=SH),
    )
    assert states(org, date(2026, 3, 1))[0][2] == State.ON_TIME
    head = UserFactory(unit=org.boiler_team)
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant

    role_grant(actor=None, user=head, role=Role.UNIT_HEAD, unit=org.boiler_team)
    disclosure_transition(
        actor=head, disclosure=item, transition=Transition.WITHDRAW, reason="错误"
    )
    assert states(org, date(2026, 3, 1))[0][2] == State.OVERDUE


def test_tree_rolls_team_figures_up_to_department_and_company(q1_team: Org):
    tree = compliance_tree(q1_team.company, *Q1, today=date(2026, 4, 11))
    team = tree[q1_team.boiler_team.pk]
    # 3 monthly team entries × 3 months, plus Q1 of the quarterly one (due 15 April) and the
    # yearly one (due 30 January 2027): 11 obligations; 2 of the 9 due ones were published.
    own = team.own
    assert (own.on_time, own.late, own.overdue, own.not_due, own.total) == (1, 1, 7, 2, 11)
    assert own.rate == 11.1
    boiler = tree[q1_team.boiler.pk]
    assert boiler.subtree.on_time == 1 and boiler.subtree.late == 1
    assert boiler.subtree.total == boiler.own.total + team.own.total
    company = tree[q1_team.company.pk]
    assert company.subtree.total == sum(item.own.total for item in tree.values())
    assert q1_team.other_company.pk not in tree


def test_snapshot_is_plain_json_with_the_departments_figures(q1_team: Org):
    import json

    with time_machine.travel(datetime(2026, 4, 11, 9, tzinfo=SH), tick=False):
        snap = compliance_snapshot(unit=q1_team.boiler, start=Q1[0], end=Q1[1])
    json.dumps(snap)
    assert snap["unit"]["code"] == "rd-boiler"
    assert snap["computed_on"] == "2026-04-11"
    subtree = snap["disclosure"]["subtree"]
    assert subtree["on_time"] == 1 and subtree["late"] == 1
    assert subtree["due"] == subtree["total"] - subtree["not_due"]
    assert isinstance(snap["handling"], dict)


@pytest.mark.parametrize("today", [date(2026, 2, 10), date(2026, 3, 11), date(2026, 4, 16)])
def test_sql_tallies_agree_with_counting_each_obligation(q1_team: Org, today: date):
    published_disclosure(
        unit=q1_team.boiler,
        entry_code="labour-protection",
        period="2026-H1",
        published_at=datetime(2026, 2, 1, 9, tzinfo=SH),
    )
    units = subtree_units(q1_team.company)
    expected = {u.pk: Tally() for u in units}
    for obligation in iter_obligations(units, date(2025, 7, 1), Q1[1], today=today):
        expected[obligation.unit_id].add(obligation.state)
    assert unit_tallies(units, date(2025, 7, 1), Q1[1], today=today) == expected
    assert expected[q1_team.boiler_team.pk].total > 0


def test_query_count_does_not_grow_with_units(org: Org):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            compliance_tree(org.company, date(2025, 1, 1), date(2025, 12, 31))
        return len(ctx.captured_queries)

    small = count()
    for i in range(6):
        dept = make_unit(f"新部门{i}", UnitKind.DEPARTMENT, org.company, code=f"nd{i}")
        make_unit(f"新班组{i}", UnitKind.TEAM, dept, code=f"nt{i}")
    assert count() == small
