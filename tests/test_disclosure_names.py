"""Names: a published item shows who drafted it, who took each approval step and who
published it (name and role); a "nothing to report" attestation shows its signer and reason
on the board. A withdrawn item stays readable, with its history, by the supervision group."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongkai.disclosure.models import CatalogEntry
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_create,
    disclosure_transition,
)
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.factories import UserFactory


@pytest.fixture
def officer(org):
    user = UserFactory(employee_no="officer", name="公开员钱进", unit=org.boiler_team)
    role_grant(actor=None, user=user, role=Role.TEAM_OFFICER, unit=org.boiler_team)
    return user


def published_team_item(org, officer, result="<p>人均 3,200 元</p>"):
    d = disclosure_create(
        actor=officer,
        unit=org.boiler_team,
        entry=CatalogEntry.objects.get(code="team-bonus"),
        title="十月班组奖金分配",
        procedure="<p>班组民主评议</p>",
        result=result,
        period="2026-10",
    )
    for actor, step in (
        (officer, Transition.SUBMIT),
        (org["teamlead"], Transition.APPROVE),
        (org["depthead"], Transition.APPROVE),
        (officer, Transition.PUBLISH),
    ):
        d = disclosure_transition(actor=actor, disclosure=d, transition=step)
    return d


def text_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_published_item_names_its_drafter_approvers_and_publisher(org, officer, login):
    d = published_team_item(org, officer)
    page = text_of(login(org["employee"]), reverse("disclosure:detail", args=[d.pk]))
    for name in ("公开员钱进", "teamlead的姓名", "depthead的姓名"):
        assert name in page
    assert "锅炉运行一班" in page and "锅炉分场" in page
    assert str(Role.TEAM_OFFICER.label) in page and str(Role.UNIT_HEAD.label) in page


def test_an_attestation_shows_its_signer_and_reason_on_the_board(org, officer, login):
    attestation_file(
        actor=officer,
        unit=org.boiler_team,
        entry=CatalogEntry.objects.get(code="team-materials"),
        period="2026-Q3",
        reason="本季度未领用材料",
    )
    board = text_of(login(org["employee"]), reverse("boards:board", args=[org.boiler_team.code]))
    assert "公开员钱进" in board and "本季度未领用材料" in board


def test_a_withdrawn_item_stays_readable_by_the_supervision_group_only(org, officer, login, client):
    d = published_team_item(org, officer, result="<p>撤回前的结果</p>")
    disclosure_transition(
        actor=org["depthead"], disclosure=d, transition=Transition.WITHDRAW, reason="口径错误"
    )
    url = reverse("disclosure:detail", args=[d.pk])
    page = text_of(login(org["supervisor"]), url)
    assert "撤回前的结果" in page and "口径错误" in page
    assert "公开员钱进" in page and "depthead的姓名" in page  # the history, with names
    assert client.get(reverse("disclosure:history", args=[d.pk])).status_code == 200
    client.logout()
    page = text_of(login(org["employee"]), url)
    assert "口径错误" in page and "撤回前的结果" not in page  # the tombstone only
