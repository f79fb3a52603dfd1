"""The parts' deadline sources (gongkai.core.deadlines) that the reminder engine asks once a day:
suggestions, publicity windows and objections' findings, motions, rectifications and surveys
(votes and the catalog's obligations have their own test files). For each: an open deadline
comes with its due day, the people who must act and the page where they act; one that was met,
or falls outside the dates asked, does not; anonymous objections stay private; the number of
queries does not grow with the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.congress import motions as motion_services
from gongkai.congress import records
from gongkai.congress.models import Motion
from gongkai.core import deadlines
from gongkai.core.deadlines import Deadline
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit, Role
from gongkai.policy.rules import Action, holders
from gongkai.publicity.models import Finding, Outcome, Publicity, PublicityKind
from gongkai.publicity.selectors import finding_due
from gongkai.publicity.services import (
    objection_file,
    objection_finding_record,
    publicity_open,
    publicity_outcome_publish,
)
from gongkai.supervision import rectification as rect
from gongkai.supervision.models import Rectification
from gongkai.surveys import services as survey_services
from gongkai.surveys.models import QuestionKind, Survey
from gongkai.voice import deadlines as voice_deadlines
from gongkai.voice import services as voice
from gongkai.voice.models import Suggestion, SuggestionCategory
from tests.conftest import Org
from tests.factories import UserFactory, person_with, published_disclosure
from tests.test_congress_support import Congress, build_congress, submitted_motion
from tests.test_supervision import finding_in

pytestmark = pytest.mark.usefixtures("english")

TZ = dt.timezone(dt.timedelta(hours=8))
KINDS = ("suggestion", "window", "finding", "motion", "rectification", "survey")


def collect(
    kind: str, first: date, last: date, *, today: date | None = None
) -> dict[str, Deadline]:
    """Every deadline of ``kind`` due in [first, last], by key (checking the batches)."""
    found: dict[str, Deadline] = {}
    source = deadlines.source(kind)
    for batch in source.open_between(first, last, today=today or timezone.localdate()):
        assert isinstance(batch, list) and batch
        for deadline in batch:
            assert deadline.kind == kind
            assert deadline.key not in found
            found[deadline.key] = deadline
    return found


def around(day: date, days: int = 0) -> tuple[date, date]:
    return day - timedelta(days=days), day + timedelta(days=days)


def ids(users: Iterable[User]) -> frozenset[int]:
    return frozenset(u.pk for u in users)


def holder_ids(action: Action, unit: OrgUnit) -> frozenset[int]:
    return frozenset(holders(action, unit).values_list("pk", flat=True))


def count_queries(kind: str, first: date, last: date, *, today: date | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        collect(kind, first, last, today=today)
    return len(queries)


def test_every_kind_is_registered_with_a_name():
    for kind in KINDS:
        source = deadlines.source(kind)
        assert source.kind == kind
        assert source.label().strip()
    # Votes are tested in tests/test_vote_deadlines.py; the catalog's obligations in
    # tests/test_obligation_deadlines.py.
    assert {"vote", "obligation"} <= {s.kind for s in deadlines.sources()}


# --- Suggestions -----------------------------------------------------------------------------


def due(days: int = 10) -> date:
    return timezone.localdate() + timedelta(days=days)


def assigned(org: Org, *, to: OrgUnit | None = None, days: int = 10, title: str = "锅炉房通风不足"):
    """A suggestion to the boiler department, assigned to ``to`` (its first team)."""
    s = voice.suggestion_submit(
        actor=org["employee"],
        unit=org.boiler,
        category=SuggestionCategory.WORKING_CONDITIONS,
        title=title,
        body="夏季锅炉房温度过高，建议增加排风扇。",
    )
    s = voice.suggestion_accept(actor=org["depthead"], suggestion=s)
    return voice.suggestion_assign(
        actor=org["depthead"],
        suggestion=s,
        responsible_unit=to or org.boiler_team,
        due_on=due(days),
    )


def test_an_assigned_suggestion_is_due_for_the_answering_unit(org: Org):
    s = assigned(org)
    found = collect("suggestion", *around(due(), 30))
    assert list(found) == [str(s.pk)]
    d = found[str(s.pk)]
    assert d.due == due()
    assert d.unit_id == org.boiler_team.pk
    assert d.url == f"/suggestions/{s.pk}/"
    assert "锅炉房通风不足" in d.title
    # those the workflow told when it was assigned: the team's head and the department's
    assert d.people == ids([org["teamlead"], org["depthead"]])
    assert d.people == holder_ids(Action.SUGGESTION_ANSWER, org.boiler_team)
    assert org["employee"].pk not in d.people  # the author answers nothing
    assert d.escalate and not d.private


def test_a_suggestion_due_on_either_end_of_the_dates_counts(org: Org):
    s = assigned(org)
    assert str(s.pk) in collect("suggestion", due(), due())
    assert str(s.pk) in collect("suggestion", due(), due(15))
    assert str(s.pk) in collect("suggestion", due(5), due())


@pytest.mark.parametrize(("first", "last"), [(11, 40), (-30, 9)])
def test_a_suggestion_due_outside_the_dates_is_not(org: Org, first: int, last: int):
    assigned(org)
    assert collect("suggestion", due(first), due(last)) == {}


def test_an_answered_suggestion_is_met_and_one_not_assigned_has_no_deadline(org: Org):
    s = assigned(org)
    voice.suggestion_submit(  # submitted, never assigned: no due date yet
        actor=org["employee"],
        unit=org.boiler,
        category=SuggestionCategory.MANAGEMENT,
        title="食堂",
        body="午餐品种单一。",
    )
    voice.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="已加装两台排风扇")
    assert collect("suggestion", *around(due(), 30)) == {}
    # rated dissatisfied and sent back by the union office: due again, on the new date
    voice.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason="仍然很热"
    )
    assert collect("suggestion", *around(due(), 30)) == {}
    voice.suggestion_review_return(actor=org["union"], suggestion=s, due_on=due(20))
    found = collect("suggestion", *around(due(), 30))
    assert found[str(s.pk)].due == due(20)
    voice.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="又加装了空调")
    voice.suggestion_rate(actor=org["employee"], suggestion=s, rating=Satisfaction.SATISFIED)
    assert Suggestion.objects.get(pk=s.pk).status == "closed"
    assert collect("suggestion", *around(due(), 30)) == {}


def test_a_suggestion_overdue_stays_due_until_answered(org: Org):
    s = assigned(org, days=2)
    later = due(10)
    with time_machine.travel(dt.datetime.combine(later, dt.time(10), TZ), tick=False):
        found = collect("suggestion", due(-10), later, today=later)
    assert found[str(s.pk)].due == due(2)


def test_suggestion_queries_do_not_grow_with_suggestions_or_units(org: Org):
    assigned(org)
    first, last = around(due(), 30)
    one = count_queries("suggestion", first, last)
    turbine_head = person_with(Role.UNIT_HEAD, org.turbine)
    for n in range(4):
        s = voice.suggestion_submit(
            actor=org["employee"],
            unit=org.company,
            category=SuggestionCategory.MANAGEMENT,
            title=f"建议{n}",
            body="内容",
        )
        s = voice.suggestion_accept(actor=org["union"], suggestion=s)
        unit = [org.turbine, org.turbine_team, org.boiler, org.union_dept][n]
        voice.suggestion_assign(
            actor=org["union"], suggestion=s, responsible_unit=unit, due_on=due(n)
        )
    many = count_queries("suggestion", first, last)
    assert many == one == 2  # the batch, and who holds the answer on its units
    found = collect("suggestion", first, last)
    assert len(found) == 5
    assert {turbine_head.pk} <= next(d.people for d in found.values() if d.title.endswith("建议1”"))


def test_suggestions_come_in_batches_of_constant_cost(org: Org, monkeypatch):
    monkeypatch.setattr(voice_deadlines, "BATCH", 2)
    first, last = around(due(), 30)
    assigned(org)
    single = count_queries("suggestion", first, last)
    for n in range(4):
        assigned(org, title=f"建议{n}", days=n + 1)
    batches = list(deadlines.source("suggestion").open_between(first, last, today=due(0)))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert count_queries("suggestion", first, last) == 3 * single


# --- Publicity windows and objections' findings --------------------------------------------

START = date(2026, 9, 28)
FACTS = "拟任人选在2025年安全考核中有违章记录，与公示材料不符。"


@pytest.fixture
def holidays_2026(db):
    load_year(CalendarDay, 2026)


def noon(day: date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 10, tzinfo=TZ)


def cadre_window(org: Org, unit: OrgUnit | None = None) -> Publicity:
    unit = unit or org.boiler
    with time_machine.travel(noon(START), tick=False):
        disclosure = published_disclosure(
            unit=unit,
            entry_code="cadre-appointment",
            event_date=START,
            title="拟任锅炉分场副主任人选任前公示",
            procedure="<p>经民主推荐、组织考察，党委会研究决定。</p>",
            result="<p>拟任人选：王某某。</p>",
        )
    return publicity_open(
        actor=org["depthead"] if unit == org.boiler else person_with(Role.UNIT_HEAD, unit),
        disclosure=disclosure,
        kind=PublicityKind.CADRE,
        starts_on=START,
        at=noon(START),
    )


def object_to(p: Publicity, user: User, *, anonymous: bool):
    return objection_file(
        actor=user, publicity=p, text=FACTS, anonymous=anonymous, at=noon(p.starts_on)
    )


@pytest.mark.usefixtures("holidays_2026")
def test_a_window_is_due_on_its_last_day_for_those_who_publish_its_outcome(org: Org):
    p = cadre_window(org)
    found = collect("window", *around(p.ends_on, 5), today=START)
    d = found[str(p.pk)]
    assert d.due == p.ends_on == date(2026, 10, 10)  # a Saturday worked after National Day
    assert d.unit_id == org.boiler.pk
    assert d.url == f"/publicity/{p.pk}/"
    assert "拟任锅炉分场副主任人选任前公示" in d.title
    assert d.people == holder_ids(Action.PUBLICITY_OPEN, org.boiler)
    assert {org["depthead"].pk, org["union"].pk} <= d.people
    assert org["supervisor"].pk not in d.people and org["employee"].pk not in d.people
    assert not d.escalate  # the window closes by itself; findings are a deadline of their own
    assert collect("window", p.ends_on + timedelta(days=1), p.ends_on + timedelta(days=30)) == {}
    assert collect("window", START - timedelta(days=30), p.ends_on - timedelta(days=1)) == {}


@pytest.mark.usefixtures("holidays_2026")
def test_a_window_with_its_outcome_published_is_met(org: Org):
    p = cadre_window(org)
    after = p.ends_on + timedelta(days=1)
    publicity_outcome_publish(
        actor=org["depthead"], publicity=p, outcome=Outcome.NO_OBJECTION, text="", at=noon(after)
    )
    assert collect("window", *around(p.ends_on, 5), today=after) == {}


@pytest.mark.usefixtures("holidays_2026")
def test_objections_await_a_finding_five_working_days_after_the_window(org: Org):
    p = cadre_window(org)
    object_to(p, org["employee"], anonymous=False)
    object_to(p, UserFactory(unit=org.boiler_team), anonymous=False)
    day = finding_due(p.ends_on)
    assert day == date(2026, 10, 16)  # five working days after the last day
    found = collect("finding", *around(day, 3), today=p.ends_on)
    d = found[str(p.pk)]
    assert d.due == day
    assert d.url == f"/publicity/{p.pk}/"
    assert d.people == holder_ids(Action.OBJECTION_REVIEW, org.boiler) == ids([org["supervisor"]])
    # overdue findings go to the head and union office of the reviewers' unit, not to the
    # head of the unit whose appointment is objected to
    assert d.unit_id == org.company.pk
    assert "2" in d.title and "拟任锅炉分场副主任人选任前公示" in d.title
    assert not d.private and d.escalate
    # windows without objections, and objections whose window is due outside, are not
    assert collect("finding", day + timedelta(days=1), day + timedelta(days=40)) == {}
    assert collect("finding", day - timedelta(days=40), day - timedelta(days=1)) == {}


@pytest.mark.usefixtures("holidays_2026")
def test_an_anonymous_objection_is_private_and_its_text_and_filer_stay_out(org: Org):
    p = cadre_window(org)
    object_to(p, org["employee"], anonymous=True)
    d = collect("finding", *around(finding_due(p.ends_on), 3))[str(p.pk)]
    assert d.private
    filer = org["employee"]
    for secret in (FACTS, FACTS[:10], filer.name, filer.employee_no):
        assert secret not in d.title
    window = collect("window", *around(p.ends_on, 3))[str(p.pk)]
    for secret in (FACTS[:10], filer.name, filer.employee_no):
        assert secret not in window.title


@pytest.mark.usefixtures("holidays_2026")
def test_findings_recorded_on_every_objection_meet_the_deadline(org: Org):
    p = cadre_window(org)
    first = object_to(p, org["employee"], anonymous=True)
    second = object_to(p, UserFactory(unit=org.boiler_team), anonymous=False)
    day = finding_due(p.ends_on)
    objection_finding_record(
        actor=org["supervisor"],
        objection=first,
        finding=Finding.UNFOUNDED,
        text="经核查不属实",
        at=noon(day),
    )
    d = collect("finding", *around(day, 3))[str(p.pk)]
    assert not d.private  # the one still waiting was filed by name
    assert "1" in d.title
    objection_finding_record(
        actor=org["supervisor"],
        objection=second,
        finding=Finding.UNFOUNDED,
        text="经核查不属实",
        at=noon(day),
    )
    assert collect("finding", *around(day, 3)) == {}


@pytest.mark.usefixtures("holidays_2026")
def test_publicity_queries_do_not_grow_with_windows(org: Org):
    p = cadre_window(org)
    object_to(p, org["employee"], anonymous=True)
    first, last = date(2026, 9, 1), date(2026, 11, 30)
    windows, findings = count_queries("window", first, last), count_queries("finding", first, last)
    q = cadre_window(org, org.turbine)
    object_to(q, org["turbine_worker"], anonymous=False)
    object_to(q, UserFactory(unit=org.turbine_team), anonymous=False)
    assert count_queries("window", first, last) == windows == 2
    assert count_queries("finding", first, last) == findings == 3  # with the calendar
    assert len(collect("finding", first, last)) == 2


# --- Motions ---------------------------------------------------------------------------------


def assigned_motion(org: Org, c: Congress, *, assisting: Iterable[OrgUnit] = (), days: int = 10):
    motion = submitted_motion(org, c)
    motion_services.motion_register(actor=org["union"], motion=motion)
    motion_services.motion_assign(
        actor=org["union"],
        motion=motion,
        lead_unit=org.boiler,
        due_on=due(days),
        assisting_units=list(assisting),
    )
    return Motion.objects.get(pk=motion.pk)


def test_an_assigned_motion_is_due_for_the_lead_and_assisting_units(org: Org):
    c = build_congress(org)
    turbine_head = person_with(Role.UNIT_HEAD, org.turbine)
    motion = assigned_motion(org, c, assisting=[org.turbine])
    d = collect("motion", *around(due(), 30))[str(motion.pk)]
    assert d.due == due()
    assert d.unit_id == org.boiler.pk
    assert d.url == f"/congress/motions/{motion.pk}/"
    assert f"No. {motion.number}" in d.title and "改善食堂伙食" in d.title
    expected = holder_ids(Action.MOTION_ANSWER, org.boiler) | holder_ids(
        Action.MOTION_ANSWER, org.turbine
    )
    assert d.people == expected
    assert {org["depthead"].pk, turbine_head.pk} <= d.people
    assert org["rep"].pk not in d.people
    # the assisting unit has done its part once it gave its answer
    motion_services.motion_assist(actor=turbine_head, motion=motion, unit=org.turbine, text="同意")
    d = collect("motion", *around(due(), 30))[str(motion.pk)]
    assert turbine_head.pk not in d.people and org["depthead"].pk in d.people
    assert collect("motion", due(11), due(40)) == {}
    assert collect("motion", due(-40), due(9)) == {}


def test_an_answered_motion_is_met_until_it_is_sent_back(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c)
    motion_services.motion_answer(
        actor=org["depthead"], motion=motion, measures="增加菜品", result="已落实"
    )
    assert collect("motion", *around(due(), 60)) == {}
    motion_services.motion_rate(actor=org["rep"], motion=motion, value=Satisfaction.DISSATISFIED)
    d = collect("motion", *around(due(), 60))[str(motion.pk)]
    assert d.due == Motion.objects.get(pk=motion.pk).due_on >= due(15)


def test_motion_queries_do_not_grow_with_motions(org: Org):
    c = build_congress(org)
    assigned_motion(org, c)
    first, last = around(due(), 30)
    one = count_queries("motion", first, last)
    person_with(Role.UNIT_HEAD, org.turbine)
    for _n in range(3):
        assigned_motion(org, c, assisting=[org.turbine, org.boiler_team])
    assert count_queries("motion", first, last) == one == 4
    assert len(collect("motion", first, last)) == 4


# --- Rectifications --------------------------------------------------------------------------


def test_a_rectification_is_due_for_the_responsible_unit_and_its_group(org: Org):
    item = finding_in(org, due_on=due(30)).rectification
    d = collect("rectification", *around(due(30), 5))[str(item.pk)]
    assert d.due == due(30)
    assert d.unit_id == org.boiler.pk
    assert d.url == f"/supervision/rectifications/{item.pk}/"
    assert "锅炉分场公开栏十月未更新" in d.title
    assert d.people == holder_ids(Action.RECTIFICATION_REPORT, org.boiler)
    assert org["depthead"].pk in d.people and org["supervisor"].pk not in d.people
    assert d.group and d.escalate and not d.private
    assert collect("rectification", due(31), due(60)) == {}
    assert collect("rectification", due(0), due(29)) == {}


def test_a_reported_rectification_is_met_until_sent_back(org: Org):
    item = finding_in(org, due_on=due(30)).rectification
    rect.rectification_report(actor=org["depthead"], rectification=item, report="已按月公开")
    assert collect("rectification", *around(due(30), 5)) == {}
    rect.rectification_send_back(actor=org["supervisor"], rectification=item, reasons="缺少照片")
    assert str(item.pk) in collect("rectification", *around(due(30), 5))
    rect.rectification_report(actor=org["depthead"], rectification=item, report="补充照片")
    rect.rectification_accept(actor=org["supervisor"], rectification=item)
    assert Rectification.objects.get(pk=item.pk).status == "accepted"
    assert collect("rectification", *around(due(30), 5)) == {}


def test_a_rectification_from_a_patrol_is_due_for_the_visited_unit(org: Org):
    turbine_head = person_with(Role.UNIT_HEAD, org.turbine)
    patrol = records.patrol_record(
        actor=org["rep"],
        company=org.company,
        patrolled_on=due(-2),
        units=[org.turbine],
        findings="汽机房现场通风不良",
        suggestions="加装通风设施",
    )
    records.patrol_send(actor=org["union"], patrol=patrol)
    item = rect.rectification_open_from_patrol(
        actor=org["supervisor"],
        patrol=patrol,
        unit=org.turbine,
        problem="除尘器漏灰",
        due_on=due(20),
    )
    finding_in(org, due_on=due(21))
    first, last = around(due(20), 5)
    found = collect("rectification", first, last)
    d = found[str(item.pk)]
    assert d.unit_id == org.turbine.pk and "除尘器漏灰" in d.title
    assert d.people == holder_ids(Action.RECTIFICATION_REPORT, org.turbine)
    assert turbine_head.pk in d.people and org["depthead"].pk not in d.people
    assert len(found) == 2
    assert count_queries("rectification", first, last) == 2


# --- Surveys ---------------------------------------------------------------------------------

TODAY = date(2026, 11, 24)


@pytest.fixture
def survey_day():
    with time_machine.travel(noon(TODAY), tick=False):
        yield


def survey(
    org: Org,
    unit: OrgUnit | None = None,
    *,
    starts_on: date = TODAY,
    ends_on: date = TODAY + timedelta(days=7),
    opened: bool = True,
    title: str = "2026年度厂务公开满意度测评",
) -> Survey:
    s = survey_services.survey_create(
        actor=org["union"],
        title=title,
        intro="请如实填写。",
        unit=unit or org.company,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    survey_services.question_add(
        actor=org["union"], survey=s, kind=QuestionKind.RATING, text="公开内容是否及时"
    )
    if opened:
        survey_services.survey_open(actor=org["union"], survey=s)
    return Survey.objects.get(pk=s.pk)


def answer(s: Survey, user: User) -> None:
    data = {f"q{q.pk}": "satisfied" for q in s.questions.all()}
    survey_services.survey_answer(actor=user, survey=s, answers=data)


def employees_of(unit: OrgUnit) -> frozenset[int]:
    return frozenset(
        User.objects.filter(is_active=True, unit__path__startswith=unit.path).values_list(
            "pk", flat=True
        )
    )


WEEK = (TODAY, TODAY + timedelta(days=14))


@pytest.mark.usefixtures("survey_day")
def test_an_open_survey_is_due_on_its_last_day_for_those_who_have_not_answered(org: Org):
    s = survey(org)
    d = collect("survey", *WEEK, today=TODAY)[str(s.pk)]
    assert d.due == TODAY + timedelta(days=7)
    assert d.unit_id == org.company.pk
    assert d.url == f"/surveys/{s.pk}/"
    assert "2026年度厂务公开满意度测评" in d.title
    assert d.people == employees_of(org.company)
    assert org["outsider"].pk not in d.people  # another company's employee is not asked
    assert not d.escalate and not d.private
    answer(s, org["employee"])
    answer(s, org["union"])
    d = collect("survey", *WEEK, today=TODAY)[str(s.pk)]
    assert d.people == employees_of(org.company) - ids([org["employee"], org["union"]])
    org["depthead"].is_active = False
    org["depthead"].save()
    assert org["depthead"].pk not in collect("survey", *WEEK, today=TODAY)[str(s.pk)].people


@pytest.mark.usefixtures("survey_day")
def test_a_survey_of_a_department_asks_only_its_employees(org: Org):
    s = survey(org, org.boiler)
    d = collect("survey", *WEEK, today=TODAY)[str(s.pk)]
    assert d.people == employees_of(org.boiler)
    assert {org["employee"].pk, org["teamlead"].pk, org["depthead"].pk} <= d.people
    assert org["turbine_worker"].pk not in d.people and org["union"].pk not in d.people


@pytest.mark.usefixtures("survey_day")
def test_surveys_not_open_or_not_due_in_the_dates_are_not_due(org: Org):
    survey(org, opened=False, title="草稿")
    survey(
        org, starts_on=TODAY + timedelta(days=2), ends_on=TODAY + timedelta(days=5), title="未开始"
    )
    closed = survey(org, title="已结束")
    survey_services.survey_close(actor=org["union"], survey=closed)
    later = survey(org, ends_on=TODAY + timedelta(days=30), title="下月截止")
    assert collect("survey", *WEEK, today=TODAY) == {}
    assert list(collect("survey", TODAY, TODAY + timedelta(days=30), today=TODAY)) == [
        str(later.pk)
    ]
    # once it has started, the scheduled one is due too
    started = TODAY + timedelta(days=2)
    assert {d.title for d in collect("survey", *WEEK, today=started).values()} == {
        "Answering the survey “未开始”"
    }


@pytest.mark.usefixtures("survey_day")
def test_survey_queries_do_not_grow_with_surveys_units_or_people(org: Org):
    survey(org)
    one = count_queries("survey", *WEEK, today=TODAY)
    for n, unit in enumerate([org.boiler, org.turbine_team, org.boiler_team]):
        for i in range(3):
            UserFactory(employee_no=f"S{n}{i}", unit=unit)
        s = survey(org, unit, title=f"测评{n}")
        answer(s, User.objects.get(employee_no=f"S{n}0"))
    many = count_queries("survey", *WEEK, today=TODAY)
    assert many == one == 3  # the surveys, their employees, who answered
    found = collect("survey", *WEEK, today=TODAY)
    assert len(found) == 4
    team = next(d for d in found.values() if d.title.endswith("测评1”"))
    assert team.people == employees_of(org.turbine_team) - {User.objects.get(employee_no="S10").pk}
