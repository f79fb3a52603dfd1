"""One disclosure per obligation and period (issue 13, item 4): a second full disclosure for a
period that already has one published, or one in review, is refused with a link to the
existing one; a correction of the existing one goes on as before."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus
from gongkai.disclosure.obligations import DuplicateDisclosure
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_create,
    disclosure_transition,
)
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.factories import UserFactory
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
OCTOBER = datetime(2026, 10, 12, 10, tzinfo=SH)


@pytest.fixture
def officer(org):
    user = UserFactory(unit=org.boiler)
    role_grant(actor=None, user=user, role=Role.DEPT_OFFICER, unit=org.boiler)
    return user


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(OCTOBER, tick=False):
        yield


def draft(officer, org, period="2026-Q3", **extra):
    return disclosure_create(
        actor=officer,
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="entertainment"),
        title=f"三季度业务招待费 {period}",
        procedure="<p>按制度审批</p>",
        result="<p>共计 1,234.50 元</p>",
        period=period,
        **extra,
    )


def test_a_second_disclosure_for_a_published_period_is_refused_with_a_link(org, officer, client):
    existing = record(org, org.boiler, "entertainment", period="2026-Q3", published=OCTOBER)
    with pytest.raises(DuplicateDisclosure) as refused:
        draft(officer, org)
    assert refused.value.existing == existing
    client.force_login(officer)
    response = client.post(
        reverse("disclosure:create"),
        {
            "unit": org.boiler.pk,
            "entry": CatalogEntry.objects.get(code="entertainment").pk,
            "period": "2026-Q3",
            "title": "第二份",
            "procedure": "<p>x</p>",
            "result": "<p>y</p>",
            "scope": "",
        },
    )
    assert response.status_code == 400
    assert reverse("disclosure:detail", args=[existing.pk]) in response.content.decode()
    assert Disclosure.objects.filter(unit=org.boiler, period="2026-Q3").count() == 1


def test_a_second_draft_for_a_period_in_review_is_refused(org, officer):
    first = draft(officer, org)
    disclosure_transition(actor=officer, disclosure=first, transition=Transition.SUBMIT)
    with pytest.raises(DuplicateDisclosure):
        draft(officer, org)
    # Nor can "nothing to report" be signed for it.
    with pytest.raises(DuplicateDisclosure):
        attestation_file(
            actor=officer,
            unit=org.boiler,
            entry=CatalogEntry.objects.get(code="entertainment"),
            reason="无",
            period="2026-Q3",
        )


def test_drafts_withdrawn_items_and_other_periods_do_not_block(org, officer):
    draft(officer, org)  # a draft only: a second draft is allowed (one may be abandoned)
    assert draft(officer, org).status == DisclosureStatus.DRAFT
    record(
        org,
        org.boiler,
        "entertainment",
        period="2026-Q2",
        published=datetime(2026, 7, 5, 10, tzinfo=SH),
        status=DisclosureStatus.WITHDRAWN,
    )
    assert draft(officer, org, period="2026-Q2").period == "2026-Q2"
    record(org, org.turbine, "entertainment", period="2026-Q1", published=OCTOBER)
    assert draft(officer, org, period="2026-Q1").period == "2026-Q1"  # another unit's


def test_a_correction_of_the_published_one_is_not_a_second_disclosure(org, officer):
    existing = record(org, org.boiler, "entertainment", period="2026-Q3", published=OCTOBER)
    Disclosure.objects.filter(pk=existing.pk).update(author=officer)
    disclosure_transition(
        actor=officer, disclosure=existing, transition=Transition.CORRECT, reason="金额有误"
    )
    # While the correction is open, the published revision still holds the period.
    with pytest.raises(DuplicateDisclosure):
        draft(officer, org)
    assert Disclosure.objects.filter(unit=org.boiler, period="2026-Q3").count() == 1
