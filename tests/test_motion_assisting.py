"""Assisting units (协办) of a motion have their own step: they answer for their unit, the
lead unit sees their answers on its answer page, and every answer stays on the motion's page
as its history (a second answer after a send-back does not hide the first)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.congress import motions as m
from gongkai.congress.models import Motion, MotionStatus
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.notify.models import Notification
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory
from tests.test_congress_support import build_congress, submitted_motion

pytestmark = pytest.mark.usefixtures("english")

S = MotionStatus


@pytest.fixture
def login(login, client):
    def switch(user):
        client.logout()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return login(user)

    return switch


def turbine_head(org: Org) -> User:
    user = UserFactory(employee_no="turbhead", name="汽机主任", unit=org.turbine)
    role_grant(actor=None, user=user, role=Role.UNIT_HEAD, unit=org.turbine)
    return User.objects.get(pk=user.pk)


def assisted_motion(org: Org) -> Motion:
    """Lead: 锅炉分场 (depthead); assisting: 汽机分场."""
    c = build_congress(org)
    motion = submitted_motion(org, c)
    m.motion_register(actor=org["union"], motion=motion)
    m.motion_assign(
        actor=org["union"],
        motion=motion,
        lead_unit=org.boiler,
        due_on=timezone.localdate() + datetime.timedelta(days=10),
        assisting_units=[org.turbine],
    )
    return Motion.objects.get(pk=motion.pk)


def test_assisting_unit_is_told_and_answers_for_its_unit(org: Org):
    head = turbine_head(org)
    motion = assisted_motion(org)
    note = Notification.objects.get(user=head)
    assert "assist" in note.message
    answer = m.motion_assist(actor=head, motion=motion, unit=org.turbine, text="汽机分场可调配风机")
    assert answer.unit == org.turbine
    motion.refresh_from_db()
    assert motion.status == S.ASSIGNED  # the lead unit still owes the answer
    assert AuditEvent.objects.filter(action="motion.assisted").count() == 1
    # the lead unit's head hears of it
    assert Notification.objects.filter(user=org["depthead"], message__contains="汽机分场").exists()


@pytest.mark.parametrize("who", ["depthead", "union", "rep", "employee", "supervisor"])
def test_only_the_assisting_units_holders_answer_for_it(org: Org, who: str):
    turbine_head(org)
    motion = assisted_motion(org)
    with pytest.raises(ServiceError):
        m.motion_assist(actor=org[who], motion=motion, unit=org.turbine, text="代答")
    assert not motion.answers.exists()


def test_an_assisting_head_cannot_answer_for_another_unit_or_as_lead(org: Org):
    head = turbine_head(org)
    motion = assisted_motion(org)
    with pytest.raises(ServiceError):  # 锅炉分场 is the lead, not an assisting unit
        m.motion_assist(actor=head, motion=motion, unit=org.boiler, text="x")
    with pytest.raises(ServiceError):
        m.motion_answer(actor=head, motion=motion, measures="x", result="y")
    assert not motion.answers.exists()


def test_assisting_after_the_answer_is_refused(org: Org):
    head = turbine_head(org)
    motion = assisted_motion(org)
    m.motion_answer(actor=org["depthead"], motion=motion, measures="加装风机", result="已完成")
    with pytest.raises(ServiceError, match="Answered"):
        m.motion_assist(actor=head, motion=motion, unit=org.turbine, text="迟到的协办意见")


def test_lead_answer_page_shows_the_assisting_answers(org: Org, client, login):
    head = turbine_head(org)
    motion = assisted_motion(org)
    login(org["depthead"])
    page = client.get(reverse("congress:motion_step", args=[motion.pk, "answer"])).content
    assert "has not answered yet" in page.decode()
    m.motion_assist(actor=head, motion=motion, unit=org.turbine, text="汽机分场可调配风机两台")
    page = client.get(reverse("congress:motion_step", args=[motion.pk, "answer"])).content
    assert "汽机分场可调配风机两台" in page.decode()
    assert "has not answered yet" not in page.decode()


def test_assisting_head_answers_through_the_page(org: Org, client, login):
    head = turbine_head(org)
    motion = assisted_motion(org)
    url = reverse("congress:motion_step", args=[motion.pk, "assist"])
    login(org["depthead"])  # the lead unit has no assisting step
    assert client.get(url).status_code == 403
    login(head)
    detail = client.get(reverse("congress:motion_detail", args=[motion.pk])).content.decode()
    assert url in detail
    response = client.post(url, {"unit": org.turbine.pk, "text": "协办：提供备用风机"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "协办：提供备用风机" in page
    assert url not in page or motion.answers.count() == 1


def test_a_second_answer_keeps_the_first_on_the_page(org: Org, client, login):
    motion = assisted_motion(org)
    lead = org["depthead"]
    m.motion_answer(actor=lead, motion=motion, measures="第一次措施：研究中", result="第一次结果")
    m.motion_rate(actor=org["rep"], motion=motion, value=Satisfaction.DISSATISFIED)
    m.motion_answer(actor=lead, motion=motion, measures="第二次措施：已加装", result="第二次结果")
    motion.refresh_from_db()
    assert motion.answer_measures == "第二次措施：已加装"
    login(org["employee"])
    page = client.get(reverse("congress:motion_detail", args=[motion.pk])).content.decode()
    assert "第一次措施：研究中" in page
    assert "第二次措施：已加装" in page
    assert page.index("第一次措施") < page.index("第二次措施")
