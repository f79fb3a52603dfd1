"""Approval goes level by level (层层把关): a team's item is approved by its team's head, then
its department's head; a department's by its head; a company's by its head, then the
leadership group. A higher head acts for a lower level only when it has nobody to approve
it, explicitly, with a reason that is recorded. Only the people of the next step are told
and find the item in their queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.disclosure.approvals import awaiting_approval
from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus, DisclosureStep
from gongkai.disclosure.services import (
    Transition,
    disclosure_create,
    disclosure_transition,
    may_transition,
)
from gongkai.notify.models import Notification
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.factories import UserFactory

S = DisclosureStatus


def person(login, unit, role):
    user = UserFactory(employee_no=login, unit=unit)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return user


@pytest.fixture
def people(org):
    return {
        "officer": person("officer", org.boiler_team, Role.TEAM_OFFICER),
        "deputy_gm": person("deputy_gm", org.company, Role.UNIT_HEAD),  # the company's head
    }


def team_item(org, author, entry="team-bonus", period="2026-10"):
    d = disclosure_create(
        actor=author,
        unit=org.boiler_team,
        entry=CatalogEntry.objects.get(code=entry),
        title="十月班组奖金分配",
        procedure="<p>班组民主评议</p>",
        result="<p>人均 3,200 元</p>",
        period=period,
    )
    return disclosure_transition(actor=author, disclosure=d, transition=Transition.SUBMIT)


def told(disclosure=None):
    return set(Notification.objects.values_list("user__employee_no", flat=True))


def test_the_company_head_may_not_skip_the_team_and_the_department(org, people):
    d = team_item(org, people["officer"])
    for who in (people["deputy_gm"], org["depthead"]):
        assert not may_transition(who, d, Transition.APPROVE)
        with pytest.raises(ServiceError):
            disclosure_transition(actor=who, disclosure=d, transition=Transition.APPROVE)
    assert Disclosure.objects.get(pk=d.pk).status == S.SUBMITTED
    assert not AuditEvent.objects.filter(action="disclosure.approve").exists()


def test_a_team_item_goes_team_then_department_and_each_is_told_in_turn(org, people):
    d = team_item(org, people["officer"])
    assert told() == {"teamlead"}  # not the department's head, not the company's
    assert list(awaiting_approval(org["teamlead"])) == [d]
    assert not awaiting_approval(org["depthead"]).exists()
    assert not awaiting_approval(people["deputy_gm"]).exists()

    Notification.objects.all().delete()
    d = disclosure_transition(actor=org["teamlead"], disclosure=d, transition=Transition.APPROVE)
    assert d.status == S.HEAD_APPROVED
    assert not may_transition(people["officer"], d, Transition.PUBLISH)
    assert told() == {"depthead"}
    assert not awaiting_approval(org["teamlead"]).exists()
    assert list(awaiting_approval(org["depthead"])) == [d]
    assert not may_transition(people["deputy_gm"], d, Transition.APPROVE)
    assert not may_transition(org["teamlead"], d, Transition.APPROVE)  # once is enough

    d = disclosure_transition(actor=org["depthead"], disclosure=d, transition=Transition.APPROVE)
    assert d.status == S.APPROVED
    steps = list(
        DisclosureStep.objects.filter(disclosure=d, kind="approve").values_list(
            "level", "unit__code", "actor__employee_no", "role", "acting_for"
        )
    )
    assert steps == [
        (0, "rd-boiler-1", "teamlead", "unit_head", ""),
        (1, "rd-boiler", "depthead", "unit_head", ""),
    ]


def test_a_company_item_goes_to_its_head_then_the_leadership_group(org, people):
    d = disclosure_create(
        actor=org["union"],
        unit=org.company,
        entry=CatalogEntry.objects.get(code="vehicles"),
        title="三季度车辆使用费",
        procedure="<p>按制度审批</p>",
        result="<p>合计 1 元</p>",
        period="2026-Q3",
    )
    d = disclosure_transition(actor=org["union"], disclosure=d, transition=Transition.SUBMIT)
    assert told() == {"deputy_gm"}
    assert not may_transition(org["leader"], d, Transition.ENDORSE)
    d = disclosure_transition(
        actor=people["deputy_gm"], disclosure=d, transition=Transition.APPROVE
    )
    assert told() == {"deputy_gm", "leader"}
    assert list(awaiting_approval(org["leader"])) == [d]
    d = disclosure_transition(actor=org["leader"], disclosure=d, transition=Transition.ENDORSE)
    assert d.status == S.APPROVED


def test_a_level_with_no_holder_is_taken_by_the_level_above_with_a_reason(org, people, client):
    """The turbine team has no head: its department has none either, so the company's head
    is told, sees it in the queue and acts for the team, explicitly and with a reason."""
    officer = person("t-officer", org.turbine_team, Role.TEAM_OFFICER)
    d = disclosure_create(
        actor=officer,
        unit=org.turbine_team,
        entry=CatalogEntry.objects.get(code="team-bonus"),
        title="十月奖金",
        procedure="<p>评议</p>",
        result="<p>结果</p>",
        period="2026-10",
    )
    d = disclosure_transition(actor=officer, disclosure=d, transition=Transition.SUBMIT)
    assert told() == {"deputy_gm"}
    assert list(awaiting_approval(people["deputy_gm"])) == [d]
    with pytest.raises(ServiceError) as error:
        disclosure_transition(
            actor=people["deputy_gm"], disclosure=d, transition=Transition.APPROVE
        )
    assert error.value.field == "acting_for"
    assert Disclosure.objects.get(pk=d.pk).status == S.SUBMITTED

    client.post(
        "/accounts/login/", {"username": "deputy_gm", "password": "gongkai-demo"}, follow=True
    )
    url = reverse("disclosure:step", args=[d.pk, "approve"])
    page = client.get(url)
    assert page.status_code == 200 and "汽机运行一班" in page.content.decode()
    assert client.post(url, {"acting_for": ""}).status_code == 400
    assert client.post(url, {"acting_for": "汽机运行一班班长空缺"}).status_code == 302
    d.refresh_from_db()
    assert d.status == S.HEAD_APPROVED
    step = DisclosureStep.objects.get(disclosure=d, kind="approve")
    assert (step.unit, step.acting_for) == (org.turbine_team, "汽机运行一班班长空缺")
    event = AuditEvent.objects.get(action="disclosure.approve")
    assert event.after["acting_for"] == "汽机运行一班班长空缺"
    # The department level has no head either: the company's head acts for it too.
    assert list(awaiting_approval(people["deputy_gm"])) == [d]


def test_two_holders_of_the_same_level_racing_get_one_success_and_one_refusal(org, people):
    second = person("teamlead2", org.boiler_team, Role.UNIT_HEAD)
    d = team_item(org, people["officer"])
    first_copy, second_copy = Disclosure.objects.get(pk=d.pk), Disclosure.objects.get(pk=d.pk)
    disclosure_transition(
        actor=org["teamlead"], disclosure=first_copy, transition=Transition.APPROVE
    )
    with pytest.raises(ServiceError):
        disclosure_transition(actor=second, disclosure=second_copy, transition=Transition.APPROVE)
    assert DisclosureStep.objects.filter(disclosure=d, kind="approve").count() == 1


def test_a_returned_item_starts_the_chain_again(org, people):
    d = team_item(org, people["officer"])
    d = disclosure_transition(actor=org["teamlead"], disclosure=d, transition=Transition.APPROVE)
    d = disclosure_transition(
        actor=org["depthead"], disclosure=d, transition=Transition.REJECT, reason="缺少记录"
    )
    assert (d.status, d.approvals) == (S.DRAFT, 0)
    d = disclosure_transition(actor=people["officer"], disclosure=d, transition=Transition.SUBMIT)
    assert not may_transition(org["depthead"], d, Transition.APPROVE)
    assert may_transition(org["teamlead"], d, Transition.APPROVE)
