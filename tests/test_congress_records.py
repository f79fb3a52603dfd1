"""Patrols, employee directors' reports and meetings, published through the disclosures."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.congress import records, selectors
from gongkai.congress.models import DirectorReport, Meeting, MeetingKind, Patrol
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.conftest import PERSONAS, Org
from tests.factories import UserFactory

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")


def director(org: Org):
    user = UserFactory(employee_no="director", name="职工董事", unit=org.union_dept)
    role_grant(actor=None, user=user, role=Role.EMPLOYEE_DIRECTOR, unit=org.company)
    return type(user).objects.get(pk=user.pk)


# --- Patrols ------------------------------------------------------------------------------------


def test_rep_records_a_patrol_not_published_until_sent_and_approved(org: Org):
    today = timezone.localdate()
    patrol = records.patrol_record(
        actor=org["rep"],
        company=org.company,
        patrolled_on=today,
        units=[org.boiler, org.turbine_team],
        findings="锅炉房通风不良",
        suggestions="加装风机",
        participants="张三、李四",
    )
    assert list(selectors.patrols_of(org.company)) == [patrol]
    assert list(selectors.published_patrols(org.company)) == []  # see test_patrol_reports
    assert set(patrol.units.all()) == {org.boiler, org.turbine_team}
    assert AuditEvent.objects.filter(action="congress.patrol_recorded").count() == 1


@pytest.mark.parametrize("who", [p for p in PERSONAS if p not in ("rep", "union")])
def test_only_reps_and_union_record_patrols(org: Org, who: str):
    with pytest.raises(ServiceError):
        records.patrol_record(
            actor=org[who],
            company=org.company,
            patrolled_on=timezone.localdate(),
            units=[org.boiler],
            findings="x",
        )
    assert not Patrol.objects.exists()


def test_patrol_bad_input(org: Org):
    today = timezone.localdate()
    base = {"actor": org["rep"], "company": org.company, "patrolled_on": today}
    with pytest.raises(ServiceError) as e:
        records.patrol_record(**base, units=[], findings="x")
    assert e.value.field == "units"
    with pytest.raises(ServiceError):
        records.patrol_record(**base, units=[org.other_dept], findings="x")
    with pytest.raises(ServiceError) as e:
        records.patrol_record(**base, units=[org.boiler], findings="   ")
    assert e.value.field == "findings"
    with pytest.raises(ServiceError) as e:
        records.patrol_record(
            actor=org["rep"],
            company=org.company,
            patrolled_on=today + datetime.timedelta(days=1),
            units=[org.boiler],
            findings="x",
        )
    assert e.value.field == "patrolled_on"
    assert not Patrol.objects.exists()


# --- Directors' reports ------------------------------------------------------------------------


def test_director_writes_and_union_sends_for_publication(org: Org):
    d = director(org)
    year = timezone.localdate().year - 1
    report = records.director_report_write(
        actor=d, company=org.company, year=year, title="履职报告", text="参加董事会六次"
    )
    records.director_report_write(
        actor=d, company=org.company, year=year, title="履职报告", text="参加董事会七次"
    )
    report.refresh_from_db()
    assert report.text == "参加董事会七次"
    assert DirectorReport.objects.count() == 1
    with pytest.raises(ServiceError):
        records.director_report_publish(actor=d, report=report)
    disclosure = records.director_report_publish(actor=org["union"], report=report)
    assert disclosure.entry.code == "director-performance"
    assert disclosure.period == str(year)
    assert disclosure.status == DisclosureStatus.SUBMITTED
    assert "参加董事会七次" in disclosure.result
    report.refresh_from_db()
    assert report.disclosure_id == disclosure.pk
    with pytest.raises(ServiceError):
        records.director_report_publish(actor=org["union"], report=report)
    with pytest.raises(ServiceError, match="sent for publication"):
        records.director_report_write(actor=d, company=org.company, year=year, title="x", text="y")


@pytest.mark.parametrize("who", PERSONAS)
def test_only_employee_directors_write_reports(org: Org, who: str):
    with pytest.raises(ServiceError):
        records.director_report_write(
            actor=org[who], company=org.company, year=2025, title="t", text="x"
        )


def test_director_report_year_cannot_be_in_the_future(org: Org):
    d = director(org)
    with pytest.raises(ServiceError) as e:
        records.director_report_write(
            actor=d, company=org.company, year=timezone.localdate().year + 1, title="t", text="x"
        )
    assert e.value.field == "year"


def test_report_text_is_escaped_in_the_disclosure(org: Org):
    d = director(org)
    report = records.director_report_write(
        actor=d,
        company=org.company,
        year=timezone.localdate().year - 1,
        title="t",
        text="<script>alert(1)</script> 正文",
    )
    disclosure = records.director_report_publish(actor=org["union"], report=report)
    assert "<script>" not in disclosure.result


# --- Meetings -----------------------------------------------------------------------------------


def meeting(org: Org, **kw) -> Meeting:
    fields = {
        "actor": org["teamlead"],
        "unit": org.boiler_team,
        "kind": MeetingKind.TEAM_DEMOCRATIC,
        "title": "班组民主管理会",
        "held_on": timezone.localdate(),
        "minutes": "讨论了奖金分配",
        "decisions": "按考核分配",
        "concerns_employees": True,
        "attendees": [org["employee"], org["rep"]],
        "agenda": "奖金分配",
    } | kw
    return records.meeting_record(**fields)


def test_meeting_decisions_are_published_as_a_disclosure_of_the_unit(org: Org):
    m = meeting(org)
    assert list(selectors.meetings_needing_publication(org.company)) == [m]
    disclosure = records.meeting_publish(actor=org["teamlead"], meeting=m)
    assert disclosure.unit == org.boiler_team
    assert disclosure.entry.code == "meeting-decisions"
    assert disclosure.event_date == m.held_on
    assert disclosure.status == DisclosureStatus.SUBMITTED
    assert "按考核分配" in disclosure.result
    assert "employee的姓名" in disclosure.procedure
    assert not selectors.meetings_needing_publication(org.company).exists()
    with pytest.raises(ServiceError):
        records.meeting_publish(actor=org["teamlead"], meeting=m)
    assert Disclosure.objects.count() == 1


def test_decisions_concerning_employees_must_be_recorded(org: Org):
    with pytest.raises(ServiceError) as e:
        meeting(org, decisions="")
    assert e.value.field == "decisions"
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("who", ["rep", "employee", "leader", "supervisor"])
def test_only_unit_officers_record_meetings(org: Org, who: str):
    with pytest.raises(ServiceError):
        meeting(org, actor=org[who])


def test_turbine_cannot_record_for_boiler(org: Org):
    with pytest.raises(ServiceError):
        meeting(org, actor=org["teamlead"], unit=org.turbine_team)


def test_meeting_kind_must_fit_the_unit(org: Org):
    with pytest.raises(ServiceError):
        meeting(org, actor=org["union"], unit=org.boiler, kind=MeetingKind.TEAM_DEMOCRATIC)
    with pytest.raises(ServiceError):
        meeting(org, actor=org["union"], unit=org.boiler, kind=MeetingKind.BOARD)
    with pytest.raises(ServiceError):
        meeting(org, kind="picnic")
    with pytest.raises(ServiceError):
        meeting(org, held_on=timezone.localdate() + datetime.timedelta(days=2))
    assert not Meeting.objects.exists()
