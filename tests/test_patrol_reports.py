"""Patrols (职工代表巡视): the report goes to each visited unit's board through that unit's
normal approval (not published at once), the unit is told, and the supervision group can open
rectification items from a patrol that are followed to verification."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.congress import records, selectors
from gongkai.congress.models import Patrol, PatrolReport
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import DisclosureStatus
from gongkai.disclosure.services import Transition, disclosure_transition
from gongkai.notify.models import Notification
from gongkai.supervision import rectification as rect
from gongkai.supervision.models import Rectification, RectificationStatus
from tests.conftest import Org

pytestmark = pytest.mark.usefixtures("english")

R = RectificationStatus


@pytest.fixture
def login(login, client):
    def switch(user):
        client.logout()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return login(user)

    return switch


def patrol(org: Org, *units) -> Patrol:
    return records.patrol_record(
        actor=org["rep"],
        company=org.company,
        patrolled_on=timezone.localdate() - datetime.timedelta(days=2),
        units=list(units or [org.boiler]),
        findings="锅炉分场现场通风不良",
        suggestions="加装通风设施",
    )


def test_a_recorded_patrol_is_not_published_at_once(org: Org, client, login):
    p = patrol(org)
    assert list(selectors.published_patrols(org.company)) == []
    login(org["employee"])
    assert client.get(reverse("congress:patrol_detail", args=[p.pk])).status_code == 404
    assert (
        "锅炉分场现场通风不良" not in client.get(reverse("congress:patrol_list")).content.decode()
    )
    login(org["rep"])  # the author sees it
    assert client.get(reverse("congress:patrol_detail", args=[p.pk])).status_code == 200


def test_the_report_goes_through_the_visited_units_approval(org: Org, client, login):
    p = patrol(org, org.boiler)
    reports = records.patrol_send(actor=org["union"], patrol=p)
    assert [r.unit for r in reports] == [org.boiler]
    disclosure = reports[0].disclosure
    assert disclosure.unit == org.boiler
    assert disclosure.status == DisclosureStatus.SUBMITTED  # waits for the unit head
    assert "锅炉分场现场通风不良" in disclosure.result
    assert AuditEvent.objects.filter(action="congress.patrol_sent").count() == 1
    # the patrolled unit is told
    assert Notification.objects.filter(user=org["depthead"], message__contains="patrol").exists()
    # still not on the lists until approved and published
    assert list(selectors.published_patrols(org.company)) == []
    disclosure_transition(
        actor=org["depthead"], disclosure=disclosure, transition=Transition.APPROVE
    )
    disclosure_transition(actor=org["union"], disclosure=disclosure, transition=Transition.PUBLISH)
    disclosure.refresh_from_db()
    assert disclosure.status == DisclosureStatus.PUBLISHED
    assert list(selectors.published_patrols(org.company)) == [p]
    login(org["employee"])
    assert client.get(reverse("congress:patrol_detail", args=[p.pk])).status_code == 200
    board = client.get(reverse("boards:board", args=[org.boiler.code])).content.decode()
    assert disclosure.title in board


def test_company_board_section_shows_only_published_patrols(org: Org, client, login):
    p = patrol(org)
    login(org["employee"])
    board = reverse("boards:board", args=[org.company.code])
    assert "锅炉分场现场通风不良" not in client.get(board).content.decode()
    (report,) = records.patrol_send(actor=org["union"], patrol=p)
    disclosure_transition(
        actor=org["depthead"], disclosure=report.disclosure, transition=Transition.APPROVE
    )
    disclosure_transition(
        actor=org["union"], disclosure=report.disclosure, transition=Transition.PUBLISH
    )
    assert reverse("congress:patrol_detail", args=[p.pk]) in client.get(board).content.decode()


@pytest.mark.parametrize("who", ["rep", "depthead", "employee", "supervisor"])
def test_only_the_union_office_sends_a_patrol_report(org: Org, who: str):
    p = patrol(org)
    with pytest.raises(ServiceError):
        records.patrol_send(actor=org[who], patrol=p)
    assert not PatrolReport.objects.exists()


def test_a_patrol_report_is_sent_once(org: Org):
    p = patrol(org)
    records.patrol_send(actor=org["union"], patrol=p)
    with pytest.raises(ServiceError, match="already"):
        records.patrol_send(actor=org["union"], patrol=p)
    assert PatrolReport.objects.count() == 1


def test_send_page(org: Org, client, login):
    p = patrol(org)
    url = reverse("congress:patrol_send", args=[p.pk])
    login(org["rep"])
    assert client.get(url).status_code == 403
    login(org["union"])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert PatrolReport.objects.filter(patrol=p).count() == 1


# --- Rectification from a patrol --------------------------------------------------------------


def sent_patrol(org: Org) -> Patrol:
    p = patrol(org)
    records.patrol_send(actor=org["union"], patrol=p)
    return p


def test_rectification_from_a_patrol_is_followed_to_verification(org: Org):
    p = sent_patrol(org)
    due = timezone.localdate() + datetime.timedelta(days=30)
    item = rect.rectification_open_from_patrol(
        actor=org["supervisor"], patrol=p, unit=org.boiler, problem="除尘器漏灰", due_on=due
    )
    assert item.status == R.PENDING and item.patrol == p
    assert Notification.objects.filter(
        user=org["depthead"], message__contains="除尘器漏灰"
    ).exists()
    with pytest.raises(ServiceError):  # only the unit reports
        rect.rectification_report(actor=org["supervisor"], rectification=item, report="已修")
    rect.rectification_report(actor=org["depthead"], rectification=item, report="已更换滤袋")
    item.refresh_from_db()
    assert item.status == R.REPORTED
    rect.rectification_send_back(actor=org["supervisor"], rectification=item, reasons="未见照片")
    rect.rectification_report(actor=org["depthead"], rectification=item, report="补充照片")
    rect.rectification_accept(actor=org["supervisor"], rectification=item)
    item.refresh_from_db()
    assert item.status == R.ACCEPTED and item.verified_by == org["supervisor"]
    events = AuditEvent.objects.filter(action__startswith="rectification.")
    actions = list(events.order_by("id").values_list("action", flat=True))
    assert actions == [
        "rectification.opened",
        "rectification.report",
        "rectification.send_back",
        "rectification.report",
        "rectification.accept",
    ]


@pytest.mark.parametrize("who", ["rep", "depthead", "employee"])
def test_only_the_supervision_group_opens_rectification_from_a_patrol(org: Org, who: str):
    p = sent_patrol(org)
    with pytest.raises(ServiceError):
        rect.rectification_open_from_patrol(
            actor=org[who],
            patrol=p,
            unit=org.boiler,
            problem="x",
            due_on=timezone.localdate() + datetime.timedelta(days=5),
        )
    assert not Rectification.objects.exists()


def test_rectification_only_for_a_visited_unit_of_a_sent_patrol(org: Org):
    p = patrol(org)
    due = timezone.localdate() + datetime.timedelta(days=5)
    with pytest.raises(ServiceError, match="sent"):
        rect.rectification_open_from_patrol(
            actor=org["supervisor"], patrol=p, unit=org.boiler, problem="x", due_on=due
        )
    records.patrol_send(actor=org["union"], patrol=p)
    with pytest.raises(ServiceError):
        rect.rectification_open_from_patrol(
            actor=org["supervisor"], patrol=p, unit=org.turbine, problem="x", due_on=due
        )
    assert not Rectification.objects.exists()


def test_the_reporter_does_not_verify_their_own_report(org: Org):
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant

    p = sent_patrol(org)
    item = rect.rectification_open_from_patrol(
        actor=org["supervisor"],
        patrol=p,
        unit=org.boiler,
        problem="除尘器漏灰",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    role_grant(actor=None, user=org["depthead"], role=Role.SUPERVISION, unit=org.boiler)
    rect.rectification_report(actor=org["depthead"], rectification=item, report="已修")
    with pytest.raises(ServiceError):
        rect.rectification_accept(actor=org["depthead"], rectification=item)


def test_patrol_rectification_pages(org: Org, client, login):
    p = sent_patrol(org)
    login(org["supervisor"])
    url = reverse("supervision:rectification_from_patrol", args=[p.pk])
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = client.post(
        url, {"unit": org.boiler.pk, "problem": "除尘器漏灰", "due_on": due}, follow=True
    )
    assert response.status_code == 200
    item = Rectification.objects.get()
    assert item.patrol == p and item.finding is None and item.opened_by == org["supervisor"]
    assert "除尘器漏灰" in response.content.decode()
    login(org["depthead"])
    detail = reverse("supervision:rectification_detail", args=[item.pk])
    page = client.get(detail).content.decode()
    assert "除尘器漏灰" in page
    assert reverse("congress:patrol_detail", args=[p.pk]) in page  # the source: the patrol
    response = client.post(
        reverse("supervision:rectification_report", args=[item.pk]),
        {"report": "已更换滤袋"},
        follow=True,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == R.REPORTED
    assert client.get(url).status_code == 403  # a unit head does not open rectifications
    login(org["supervisor"])
    response = client.post(
        reverse("supervision:rectification_verify", args=[item.pk]),
        {"decision": "accept"},
        follow=True,
    )
    item.refresh_from_db()
    assert item.status == R.ACCEPTED
    login(org["employee"])
    assert client.get(detail).status_code == 403


def test_the_open_page_refuses_a_unit_the_patrol_did_not_visit(org: Org, client, login):
    p = sent_patrol(org)
    login(org["supervisor"])
    url = reverse("supervision:rectification_from_patrol", args=[p.pk])
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = client.post(url, {"unit": org.turbine.pk, "problem": "x", "due_on": due})
    assert response.status_code == 400
    assert not Rectification.objects.exists()


def finding_rectification(org: Org) -> Rectification:
    from gongkai.supervision.services import finding_record, round_open

    round = round_open(
        actor=org["supervisor"],
        company=org.company,
        title="2026年上半年",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 30),
        departments=[org.boiler],
    )
    finding = finding_record(
        actor=org["supervisor"],
        inspected=round.departments.get(),
        text="公开栏未按月更新",
        severity="major",
    )
    return finding.rectification


def test_one_list_shows_rectifications_from_findings_and_from_patrols(org: Org, client, login):
    from_finding = finding_rectification(org)
    p = sent_patrol(org)
    from_patrol = rect.rectification_open_from_patrol(
        actor=org["supervisor"],
        patrol=p,
        unit=org.boiler,
        problem="除尘器漏灰",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    for who in ("supervisor", "depthead"):
        login(org[who])
        page = client.get(reverse("supervision:rectification_list")).content.decode()
        assert "公开栏未按月更新" in page and "除尘器漏灰" in page
        for r in (from_finding, from_patrol):
            assert reverse("supervision:rectification_detail", args=[r.pk]) in page
    login(org["supervisor"])
    only_patrol = client.get(reverse("supervision:rectification_list"), {"patrol": p.pk})
    text = only_patrol.content.decode()
    assert "除尘器漏灰" in text and "公开栏未按月更新" not in text
    assert reverse("supervision:rectification_from_patrol", args=[p.pk]) in text
    by_source = client.get(reverse("supervision:rectification_list"), {"source": "finding"})
    assert "除尘器漏灰" not in by_source.content.decode()
    login(org["depthead"])  # a unit head sees the items, without the button to open one
    # the patrol's page links to its rectifications
    patrol_page = client.get(reverse("congress:patrol_detail", args=[p.pk])).content.decode()
    assert f"{reverse('supervision:rectification_list')}?patrol={p.pk}" in patrol_page
    text = client.get(reverse("supervision:rectification_list"), {"patrol": p.pk}).content
    assert "除尘器漏灰" in text.decode()
    assert reverse("supervision:rectification_from_patrol", args=[p.pk]) not in text.decode()


def test_a_patrol_rectification_past_due_is_overdue_on_the_list(org: Org, client, login):
    p = sent_patrol(org)
    item = rect.rectification_open_from_patrol(
        actor=org["supervisor"],
        patrol=p,
        unit=org.boiler,
        problem="除尘器漏灰",
        due_on=timezone.localdate(),
    )
    assert rect.state_of(item) == rect.Timeliness.OPEN
    login(org["depthead"])
    assert "Overdue" not in client.get(reverse("supervision:rectification_list")).content.decode()
    Rectification.objects.filter(pk=item.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    item.refresh_from_db()
    assert rect.state_of(item) == rect.Timeliness.OVERDUE
    assert "Overdue" in client.get(reverse("supervision:rectification_list")).content.decode()


def test_a_rectification_has_exactly_one_source(org: Org):
    from django.db import IntegrityError, transaction

    p = sent_patrol(org)
    from_finding = finding_rectification(org)
    due = timezone.localdate()
    with pytest.raises(IntegrityError), transaction.atomic():  # neither
        Rectification.objects.create(due_on=due)
    with pytest.raises(IntegrityError), transaction.atomic():  # both
        Rectification.objects.filter(pk=from_finding.pk).update(
            patrol=p, unit=org.boiler, problem="x", opened_by=org["supervisor"]
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # a patrol without its problem
        Rectification.objects.create(
            patrol=p, unit=org.boiler, opened_by=org["supervisor"], due_on=due
        )


def test_inspection_figures_count_only_rectifications_of_findings(org: Org):
    """The inspection criterion of the assessment and the annual report judge inspection
    rounds: a rectification opened from a patrol is not one of a round's findings."""
    from gongkai.supervision.selectors import inspection_stats

    from_finding = finding_rectification(org)
    rect.rectification_open_from_patrol(
        actor=org["supervisor"],
        patrol=sent_patrol(org),
        unit=org.boiler,
        problem="除尘器漏灰",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    stats = inspection_stats(
        [org.company.path], datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
    )
    assert stats[org.boiler.pk].rectifications == 1
    assert from_finding.finding is not None
