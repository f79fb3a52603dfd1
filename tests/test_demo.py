"""`manage.py seed_demo` builds the demo company that `make run` serves, and it tells the
story the README promises on any day of the year.

The demo is loaded once per date below, with the clock started at that moment (Asia/Shanghai),
and every promise the README makes about a demo login is checked on it. The dates are the
ones where a calendar goes wrong: New Year's Day before 08:00 (the server's UTC date is still
31 December), the last day of a half-year late at night, the first day of the next one just
after midnight (UTC date: the day before), New Year's Eve, 29 February, and the real today.
On PostgreSQL the two moments whose UTC date is the day before, and today
(``tests.conftest.walked_here``).
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.assessment.models import Ranking, Scheme
from gongkai.audit.actions import ACTION_LABELS, key_label, target_model
from gongkai.audit.models import AuditEvent
from gongkai.ballots import permissions as ballot_policy
from gongkai.ballots.models import Participation, Poll, PollKind, PollStatus
from gongkai.ballots.services import poll_recount
from gongkai.congress.models import Attendance, Meeting, Motion, MotionStatus
from gongkai.core.periods import Period
from gongkai.demo.calendar import DemoCalendar
from gongkai.demo.congress import demo_open_session
from gongkai.disclosure.models import Disclosure, Rating
from gongkai.ledger.verification import ledger_verify
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.publicity.models import Publicity
from gongkai.reporting.models import Report
from gongkai.supervision.circulars import is_good_practice
from gongkai.supervision.models import (
    AccountabilityDecision,
    Circular,
    CircularStatus,
    Finding,
    InspectionRound,
    Rectification,
    RectificationStatus,
)
from gongkai.supervision.rectification import Timeliness, state_of
from gongkai.supervision.selectors import ranking as ranking_of
from gongkai.supervision.selectors import round_departments
from gongkai.surveys.models import Survey, SurveyStatus
from gongkai.voice.models import Suggestion, SuggestionStatus
from gongkai.voice.selectors import work_queue
from gongkai.voice.services import available_steps
from tests.conftest import as_user, ensure_catalog, page, walked_here

SH = ZoneInfo("Asia/Shanghai")
LOGINS = ["union", "leader", "supervisor", "discipline", "depthead", "teamlead", "rep", "employee"]
# The README's receipt codes of the demo reports.
RECEIPTS = {
    "B028-XZAW-VF40-39WJ-1PG4": "concluded",
    "4GAW-MEGG-HQ8N-1K29-1JXS": "under_review",
    "YSVD-MCB7-CZSC-4TAV-RZ6X": "received",
}
MOMENTS = {
    "new-year-before-8am": datetime(2027, 1, 1, 0, 30, tzinfo=SH),
    "june-30-late": datetime(2026, 6, 30, 22, 0, tzinfo=SH),
    "july-1-after-midnight": datetime(2026, 7, 1, 0, 10, tzinfo=SH),
    "new-years-eve": datetime(2026, 12, 31, 18, 0, tzinfo=SH),
    "leap-day": datetime(2028, 2, 29, 9, 0, tzinfo=SH),
    "today": None,
}


# PostgreSQL walks the moments where the UTC date differs from Shanghai's, and today.
PG_MOMENTS = ("new-year-before-8am", "july-1-after-midnight", "today")


@pytest.fixture(
    scope="module",
    params=walked_here(MOMENTS, PG_MOMENTS),
    ids=walked_here(MOMENTS, PG_MOMENTS),
)
def demo(request, django_db_setup, django_db_blocker):
    """Seeded once per moment, outside the per-test transactions, with the clock running from
    that moment; flushed afterwards so the other tests start from the migrated state."""
    moment = MOMENTS[request.param]
    clock = time_machine.travel(moment, tick=True) if moment else None
    if clock:
        clock.start()
    try:
        with django_db_blocker.unblock():
            ensure_catalog()
            call_command("seed_demo")
            yield DemoCalendar(timezone.localdate())
            call_command("flush", "--noinput")
            ensure_catalog()
    finally:
        if clock:
            clock.stop()


@pytest.mark.django_db
def test_the_demo_company_is_modelled_on_the_article(demo):
    company = OrgUnit.objects.get(code="rd")
    assert "1015MW" in company.description
    departments = OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT)
    assert {"运行部", "锅炉分场", "汽机分场", "工会"} <= set(
        departments.values_list("name", flat=True)
    )
    assert departments.count() >= 12
    for dept in departments:
        assert 3 <= dept.children.count() <= 6
    employees = User.objects.filter(is_active=True).count()
    reps = User.objects.filter(role_assignments__role=Role.REPRESENTATIVE).distinct().count()
    assert 350 <= employees <= 450
    assert 0.08 <= reps / employees <= 0.12


@pytest.mark.django_db
def test_last_year_is_complete_and_the_ledger_verifies(demo):
    published = Disclosure.objects.filter(published_revision__isnull=False)
    assert published.count() > 300
    assert published.filter(scope="public").exists()
    assert published.filter(is_nil=True).exists()
    assert Disclosure.objects.filter(status="withdrawn").count() == 1
    assert Disclosure.objects.filter(revisions__number=2).exists()
    assert Rating.objects.exists()
    # Every month of last year is covered at every level, whatever today's month.
    for kind in (UnitKind.COMPANY, UnitKind.DEPARTMENT, UnitKind.TEAM):
        keys = Disclosure.objects.filter(unit__kind=kind, period__startswith=str(demo.last_year))
        periods = [Period.parse(k) for k in set(keys.values_list("period", flat=True))]
        for month in range(1, 13):
            first = date(demo.last_year, month, 1)
            assert any(p.start <= first <= p.end for p in periods), (kind, month)
    # Nothing was entered with a time still to come.
    assert not published.filter(first_published_at__gt=timezone.now()).exists()
    assert ledger_verify() == []


@pytest.mark.django_db
@pytest.mark.parametrize("login", LOGINS)
def test_every_demo_login_works_and_sees_its_home_and_board(demo, login):
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": login, "password": "gongkai-demo"}
    )
    assert response.status_code == 302, login
    home = client.get("/")
    assert home.status_code == 200
    user = User.objects.get(employee_no=login)
    assert user.name in home.content.decode()
    assert client.get(reverse("boards:board", args=[user.unit.code])).status_code == 200


@pytest.mark.django_db
def test_employee_reads_the_linked_boards_rates_objects_and_answers(demo):
    employee = User.objects.get(employee_no="employee")
    for code in ("rd", "rd-boiler", employee.unit.code):
        page("employee", reverse("boards:board", args=[code]))
    # An answered suggestion waits for the employee's rating.
    answered = Suggestion.objects.filter(author=employee, status=SuggestionStatus.ANSWERED)
    assert answered and "rate" in available_steps(employee, answered[0])
    # The cadre publicity window is open today: the employee can object.
    window = Publicity.objects.get(disclosure__title="关于拟任锅炉检修班班长人选的任前公示")
    assert window.starts_on <= demo.today <= window.ends_on
    assert "关于拟任锅炉检修班班长人选的任前公示" in page("employee", reverse("publicity:index"))
    page("employee", reverse("publicity:object", args=[window.pk]))
    # This year's survey is open and not yet answered by the employee.
    survey = Survey.objects.get(title=f"{demo.this_year}年度厂务公开工作满意度测评")
    assert survey.status == SurveyStatus.OPEN
    assert survey.starts_on <= demo.today <= survey.ends_on
    assert survey.starts_on.year == demo.this_year
    assert survey.title in page("employee", reverse("surveys:index"))
    # The issued circular is on the company board.
    circular = Circular.objects.get(status=CircularStatus.ISSUED)
    page("employee", reverse("disclosure:detail", args=[circular.disclosure.pk]))


@pytest.mark.django_db
def test_rep_is_checked_in_at_todays_open_session_and_can_vote_and_rate(demo):
    rep = User.objects.get(employee_no="rep")
    session = demo_open_session()
    assert session is not None and session.held_on == demo.today
    assert Attendance.objects.filter(session=session, representative__user=rep).exists()
    page("rep", reverse("congress:session_detail", args=[session.pk]))
    # The open wage-adjustment resolution: rep may vote and has not yet.
    live = Poll.objects.get(status=PollStatus.OPEN)
    assert live.title == f"关于{demo.this_year}年工资调整方案的表决"
    assert ballot_policy.may_cast(rep, live)
    assert not Participation.objects.filter(poll=live, user=rep).exists()
    assert live.title in page("rep", reverse("ballots:list"))
    # Last year's session holds rep's answered motion, to rate.
    motion = Motion.objects.filter(proposer=rep, status=MotionStatus.ANSWERED).first()
    assert motion is not None and motion.session.held_on.year == demo.last_year
    page("rep", reverse("congress:motion_detail", args=[motion.pk]))


@pytest.mark.django_db
def test_union_office_pages_and_last_years_survey(demo):
    for name in ("org:roster_import", "audit:event_list", "congress:tracking", "voice:queue"):
        page("union", reverse(name))
    past = Survey.objects.get(title=f"{demo.last_year}年度厂务公开工作满意度测评")
    assert past.status == SurveyStatus.CLOSED
    assert 250 <= past.participations.count() <= 350
    for login in ("union", "leader"):
        page(login, reverse("surveys:results", args=[past.pk]))
    assert work_queue(User.objects.get(employee_no="union")).to_review


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["union", "leader", "supervisor"])
def test_the_compliance_dashboard_shows_late_and_overdue_items(demo, login):
    response = as_user(login).get(reverse("assessment:compliance"))
    assert response.status_code == 200
    subtree = response.context["board"].total.subtree
    assert subtree.total > 100 and subtree.late > 0 and subtree.overdue > 0


@pytest.mark.django_db
def test_supervisor_has_two_settled_rounds_with_rectifications_in_every_state(demo):
    p1, p2 = demo.rounds
    assert p2.end < demo.today - timedelta(days=60)
    rounds = list(InspectionRound.objects.order_by("period_start"))
    assert [(r.period_start, r.period_end) for r in rounds] == [
        (p1.start, p1.end),
        (p2.start, p2.end),
    ]
    assert all(r.status == "closed" for r in rounds)
    assert set(Rectification.objects.values_list("status", flat=True)) == set(
        RectificationStatus.values
    )
    states = {state_of(r) for r in Rectification.objects.all()}
    assert {Timeliness.OVERDUE, Timeliness.OPEN, Timeliness.ON_TIME, Timeliness.LATE} <= states
    repeat = Finding.objects.get(repeat_of__isnull=False)
    assert repeat.inspected.department.code == "rd-boiler"
    assert state_of(repeat.rectification) == Timeliness.OVERDUE
    fuel = Rectification.objects.get(
        finding__inspected__round=rounds[1], finding__inspected__department__code="rd-fuel"
    )
    assert fuel.status == RectificationStatus.REPORTED
    electric = Rectification.objects.get(finding__inspected__department__code="rd-electric")
    assert electric.status == RectificationStatus.SENT_BACK
    issued = Circular.objects.get(status=CircularStatus.ISSUED)
    assert issued.round == rounds[0] and issued.disclosure.is_published
    assert issued.issued_at <= timezone.now()
    assert Circular.objects.get(status=CircularStatus.DRAFT).round == rounds[1]
    assert AccountabilityDecision.objects.get().finding == repeat
    assert AccountabilityDecision.objects.get().decided_on < demo.today
    for name in ("supervision:round_list", "supervision:rectification_list"):
        page("supervisor", reverse(name))
    page("depthead", reverse("supervision:rectification_list"))


@pytest.mark.django_db
def test_last_years_rankings_are_published_with_satisfaction_scores(demo):
    last = demo.last_year
    assert Scheme.objects.filter(company__code="rd").count() == 1
    assert set(Ranking.objects.values_list("period", flat=True)) == {f"{last}-H2", str(last)}
    for ranking in Ranking.objects.all():
        assert ranking.disclosure.entry.code == "assessment-ranking"
        scored = [row for row in ranking.rows if row["total"] is not None]
        assert len(scored) >= 10
        assert all(0 <= row["total"] <= 100 for row in scored)
        # Satisfaction comes first: the board ratings of last year's items are counted.
        assert any(
            line["criterion"] == "satisfaction_board" and line["value"] is not None
            for row in scored
            for line in row["lines"]
        ), ranking.period
    for login in ("employee", "depthead", "supervisor"):
        page(login, reverse("assessment:assessment"))
        page(login, reverse("assessment:ranking", args=[Ranking.objects.get(period=str(last)).pk]))
        page(login, reverse("assessment:report", args=[last]))


@pytest.mark.django_db
def test_the_departments_are_mostly_on_time_and_the_ranking_and_praise_follow_it(demo):
    """Every department publishes most of what falls due on time, with a few late or
    overdue items spread across them (the boiler department's story: a quarter late or
    missing); a department with a poor on-time rate neither tops last year's ranking nor
    is praised in a circular."""
    for ranking in Ranking.objects.all():
        lines = {
            row["unit_code"]: line
            for row in ranking.rows
            for line in row["lines"]
            if line["criterion"] == "disclosure_on_time"
        }
        rates = {code: line["value"] for code, line in lines.items() if line["value"] is not None}
        assert len(rates) >= 10, ranking.period
        median = statistics.median(rates.values())
        first = [row["unit_code"] for row in ranking.rows if row["rank"] == 1]
        assert first and all(rates[code] >= median for code in first), (ranking.period, rates)
        assert rates["rd-boiler"] < median
        if ranking.period == str(demo.last_year):
            others = {code: rate for code, rate in rates.items() if code != "rd-boiler"}
            assert all(80 <= rate <= 100 for rate in others.values()), others
            assert 65 <= rates["rd-boiler"] < 80
            missed = [
                code
                for code, line in lines.items()
                if line["figure"]["on_time"] < line["figure"]["due"]
            ]
            assert len(missed) >= len(lines) // 2, missed
    praised = 0
    for inspection_round in InspectionRound.objects.all():
        rows = ranking_of(round_departments(inspection_round))
        rates = [row.on_time_rate for row in rows if row.on_time_rate is not None]
        median = statistics.median(rates)
        for row in rows:
            if is_good_practice(row):
                praised += 1
                assert row.on_time_rate is not None and row.on_time_rate >= median, row
    assert praised  # a circular has good practice to cite


@pytest.mark.django_db
def test_last_years_evaluation_is_published_and_recounts_equal(demo):
    evaluation = Poll.objects.get(kind=PollKind.EVALUATION)
    assert evaluation.status == PollStatus.PUBLISHED
    assert evaluation.title == f"{demo.last_year}年度中层干部民主评议"
    assert any(row["flag"] for row in evaluation.result["items"])
    supervisor = User.objects.get(employee_no="supervisor")
    assert poll_recount(actor=supervisor, poll=evaluation).equal


@pytest.mark.django_db
def test_discipline_reads_the_inbox_and_the_readme_receipt_codes_work(demo):
    assert Report.objects.count() == 3
    page("discipline", reverse("reporting:inbox"))
    for code, status in RECEIPTS.items():
        response = Client().post(reverse("reporting:receipt"), {"code": code})
        assert response.status_code == 200
        assert response.context["report"].status == status


@pytest.mark.django_db
def test_depthead_and_teamlead_have_work_waiting(demo):
    depthead = User.objects.get(employee_no="depthead")
    queue = work_queue(depthead)
    assert queue.to_handle and queue.to_answer
    boiler_motions = Motion.objects.filter(
        lead_unit__code="rd-boiler", status=MotionStatus.ASSIGNED
    )
    assert boiler_motions.exists()
    page("depthead", reverse("congress:motion_detail", args=[boiler_motions[0].pk]))
    unpublished = Meeting.objects.filter(unit__code="rd-boiler-1", disclosure__isnull=True)
    assert unpublished.exists() and unpublished[0].held_on <= demo.today
    page("teamlead", reverse("congress:meeting_list"))


@pytest.mark.django_db
def test_the_audit_log_names_every_action_and_key_of_the_demo(demo):
    """The audit page shows each action and each key of before/after in the reader's
    language: none of the demo's events falls back to its raw code or key."""
    raw = set()
    for event in AuditEvent.objects.all().iterator():
        if event.action not in ACTION_LABELS:
            raw.add(("action", event.action))
        model = target_model(event.target_type)
        for data in (event.before, event.after):
            for key in data if isinstance(data, dict) else ():
                if key_label(model, key)[0] == key:
                    raw.add((event.action, key))
    assert not raw, sorted(raw)


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_data(demo):
    with pytest.raises(CommandError):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")  # and succeeds quietly with the flag


def test_the_moments_cover_the_calendar_edges():
    """The dates the issue names, and a UTC date behind the Shanghai date."""
    days = {m.date() for m in MOMENTS.values() if m}
    assert {
        date(2027, 1, 1),
        date(2026, 6, 30),
        date(2026, 7, 1),
        date(2026, 12, 31),
        date(2028, 2, 29),
    } <= days
    assert any(m.astimezone(ZoneInfo("UTC")).date() < m.date() for m in MOMENTS.values() if m)
