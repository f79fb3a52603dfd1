"""An inspection round is closed only when every department in it was inspected, or the
supervision group recorded, per department and audited, why it was not (issue 13, item 13)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.supervision.models import Answer, InspectionRound, RoundStatus
from gongkai.supervision.services import inspection_record, round_close
from tests.conftest import Org
from tests.test_supervision import inspected, open_round

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def record(o: Org, round: InspectionRound, unit) -> None:
    inspection_record(
        actor=o["supervisor"],
        inspected=inspected(round, unit),
        inspected_on=timezone.localdate(),
        answers={item.pk: (Answer.MET, "") for item in round.checklist.all()},
    )


def test_a_round_with_an_uninspected_department_is_not_closed(org: Org):
    round = open_round(org)  # boiler and turbine
    record(org, round, org.boiler)
    with pytest.raises(ServiceError) as error:
        round_close(actor=org["supervisor"], round=round)
    assert org.turbine.name in error.value.message
    assert org.boiler.name not in error.value.message
    round.refresh_from_db()
    assert round.status == RoundStatus.OPEN
    assert not AuditEvent.objects.filter(action="inspection.round_closed").exists()


def test_a_blank_reason_is_no_reason(org: Org):
    round = open_round(org)
    record(org, round, org.boiler)
    with pytest.raises(ServiceError):
        round_close(actor=org["supervisor"], round=round, reasons={org.turbine.pk: "   "})
    round.refresh_from_db()
    assert round.status == RoundStatus.OPEN


def test_a_recorded_reason_closes_the_round_and_is_audited(org: Org):
    round = open_round(org)
    record(org, round, org.boiler)
    round_close(
        actor=org["supervisor"],
        round=round,
        reasons={org.turbine.pk: "汽机分场大修停机，检查改在下一轮进行。"},
    )
    round.refresh_from_db()
    assert round.status == RoundStatus.CLOSED
    turbine = inspected(round, org.turbine)
    assert turbine.not_inspected_reason == "汽机分场大修停机，检查改在下一轮进行。"
    assert turbine.not_inspected_recorded_by == org["supervisor"]
    event = AuditEvent.objects.get(action="inspection.not_inspected")
    assert event.after == {"reason": "汽机分场大修停机，检查改在下一轮进行。"}
    assert event.actor == org["supervisor"]
    closed = AuditEvent.objects.get(action="inspection.round_closed")
    assert closed.after["not_inspected"] == [org.turbine.code]
    # the inspected department keeps no reason
    assert inspected(round, org.boiler).not_inspected_reason == ""


def test_every_department_inspected_closes_without_reasons(org: Org):
    round = open_round(org)
    record(org, round, org.boiler)
    record(org, round, org.turbine)
    round_close(actor=org["supervisor"], round=round)
    round.refresh_from_db()
    assert round.status == RoundStatus.CLOSED
    assert not AuditEvent.objects.filter(action="inspection.not_inspected").exists()


def test_the_close_page_asks_for_the_reason_and_refuses_without_it(org: Org, login, en):
    round = open_round(org)
    record(org, round, org.boiler)
    login(org["supervisor"])
    url = reverse("supervision:round_close", args=[round.pk])
    page = en.get(url)
    assert page.status_code == 200
    assert f'name="reason_{org.turbine.pk}"'.encode() in page.content
    assert f'name="reason_{org.boiler.pk}"'.encode() not in page.content
    refused = en.post(url, {})
    assert refused.status_code == 400
    assert b"were not inspected" in refused.content
    round.refresh_from_db()
    assert round.status == RoundStatus.OPEN
    done = en.post(url, {f"reason_{org.turbine.pk}": "停机检修"})
    assert done.status_code == 302
    round.refresh_from_db()
    assert round.status == RoundStatus.CLOSED
    detail = en.get(reverse("supervision:round_detail", args=[round.pk]))
    assert "停机检修" in detail.content.decode()


@pytest.mark.parametrize("who", ["union", "leader", "depthead", "employee"])
def test_only_the_supervision_group_closes_a_round(org: Org, login, en, who: str):
    round = open_round(org)
    record(org, round, org.boiler)
    login(org[who])
    response = en.post(
        reverse("supervision:round_close", args=[round.pk]), {f"reason_{org.turbine.pk}": "x"}
    )
    assert response.status_code == 403
    round.refresh_from_db()
    assert round.status == RoundStatus.OPEN
    with pytest.raises(ServiceError):
        round_close(actor=org[who], round=round, reasons={org.turbine.pk: "x"})
