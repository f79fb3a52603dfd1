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
from gongkai.supervision.models import PatrolRectification, RectificationStatus
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
    item = rect.patrol_rectification_open(
        actor=org["supervisor"], patrol=p, unit=org.boiler, problem="除尘器漏灰", due_on=due
    )
    assert item.status == R.PENDING and item.patrol == p
    assert Notification.objects.filter(
        user=org["depthead"], message__contains="除尘器漏灰"
    ).exists()
    with pytest.raises(ServiceError):  # only the unit reports
        rect.patrol_rectification_report(actor=org["supervisor"], item=item, report="已修")
    rect.patrol_rectification_report(actor=org["depthead"], item=item, report="已更换滤袋")
    item.refresh_from_db()
    assert item.status == R.REPORTED
    rect.patrol_rectification_send_back(actor=org["supervisor"], item=item, reasons="未见照片")
    rect.patrol_rectification_report(actor=org["depthead"], item=item, report="补充照片")
    rect.patrol_rectification_accept(actor=org["supervisor"], item=item)
    item.refresh_from_db()
    assert item.status == R.ACCEPTED and item.verified_by == org["supervisor"]
    events = AuditEvent.objects.filter(action__startswith="patrol_rectification.")
    actions = list(events.order_by("id").values_list("action", flat=True))
    assert actions == [
        "patrol_rectification.opened",
        "patrol_rectification.report",
        "patrol_rectification.send_back",
        "patrol_rectification.report",
        "patrol_rectification.accept",
    ]


@pytest.mark.parametrize("who", ["rep", "depthead", "employee"])
def test_only_the_supervision_group_opens_rectification_from_a_patrol(org: Org, who: str):
    p = sent_patrol(org)
    with pytest.raises(ServiceError):
        rect.patrol_rectification_open(
            actor=org[who],
            patrol=p,
            unit=org.boiler,
            problem="x",
            due_on=timezone.localdate() + datetime.timedelta(days=5),
        )
    assert not PatrolRectification.objects.exists()


def test_rectification_only_for_a_visited_unit_of_a_sent_patrol(org: Org):
    p = patrol(org)
    due = timezone.localdate() + datetime.timedelta(days=5)
    with pytest.raises(ServiceError, match="sent"):
        rect.patrol_rectification_open(
            actor=org["supervisor"], patrol=p, unit=org.boiler, problem="x", due_on=due
        )
    records.patrol_send(actor=org["union"], patrol=p)
    with pytest.raises(ServiceError):
        rect.patrol_rectification_open(
            actor=org["supervisor"], patrol=p, unit=org.turbine, problem="x", due_on=due
        )
    assert not PatrolRectification.objects.exists()


def test_the_reporter_does_not_verify_their_own_report(org: Org):
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant

    p = sent_patrol(org)
    item = rect.patrol_rectification_open(
        actor=org["supervisor"],
        patrol=p,
        unit=org.boiler,
        problem="除尘器漏灰",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    role_grant(actor=None, user=org["depthead"], role=Role.SUPERVISION, unit=org.boiler)
    rect.patrol_rectification_report(actor=org["depthead"], item=item, report="已修")
    with pytest.raises(ServiceError):
        rect.patrol_rectification_accept(actor=org["depthead"], item=item)


def test_patrol_rectification_pages(org: Org, client, login):
    p = sent_patrol(org)
    login(org["supervisor"])
    url = reverse("supervision:patrol_rectification_open", args=[p.pk])
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = client.post(
        url, {"unit": org.boiler.pk, "problem": "除尘器漏灰", "due_on": due}, follow=True
    )
    assert response.status_code == 200
    item = PatrolRectification.objects.get()
    assert "除尘器漏灰" in response.content.decode()
    login(org["depthead"])
    detail = reverse("supervision:patrol_rectification_detail", args=[item.pk])
    page = client.get(detail).content.decode()
    assert "除尘器漏灰" in page
    response = client.post(
        reverse("supervision:patrol_rectification_step", args=[item.pk, "report"]),
        {"text": "已更换滤袋"},
        follow=True,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == R.REPORTED
    assert client.get(url).status_code == 403  # a unit head does not open rectifications
    login(org["employee"])
    assert client.get(detail).status_code == 404
