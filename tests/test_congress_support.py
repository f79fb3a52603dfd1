"""Builders shared by the congress tests (no tests here): a term with delegations, seated
representatives and a session that is open today and collecting motions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.congress import motions as motion_services
from gongkai.congress import services
from gongkai.congress.models import Motion, Session, SessionStatus, Term
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory


@dataclass
class Congress:
    term: Term
    session: Session
    reps: list[User]  # org["rep"] first, then rep2, rep3, rep4


def representative_user(org: Org, login: str, unit=None) -> User:
    user = UserFactory(employee_no=login, name=f"{login}的姓名", unit=unit or org.turbine_team)
    role_grant(actor=None, user=user, role=Role.REPRESENTATIVE, unit=org.company)
    return User.objects.get(pk=user.pk)


def build_congress(org: Org, *, extra_reps: int = 3, seconds: int = 2) -> Congress:
    today = timezone.localdate()
    union = org["union"]
    extra = [
        representative_user(org, f"rep{n}", org.turbine_team if n % 2 else org.boiler)
        for n in range(2, 2 + extra_reps)
    ]
    term = services.term_create(
        actor=union,
        company=org.company,
        number=5,
        starts_on=today - datetime.timedelta(days=400),
        ends_on=today + datetime.timedelta(days=1000),
        motion_seconds_required=seconds,
    )
    services.delegation_create(actor=union, term=term, name="锅炉代表团", unit=org.boiler)
    services.delegation_create(actor=union, term=term, name="汽机代表团", unit=org.turbine)
    services.roster_seed(actor=union, term=term)
    session = services.session_create(
        actor=union,
        term=term,
        number=2,
        title="五届二次职代会",
        held_on=today,
        motions_open_on=today - datetime.timedelta(days=10),
        motions_close_on=today + datetime.timedelta(days=5),
        agenda="一、审议工作报告",
    )
    services.session_set_status(actor=union, session=session, step="open")
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    return Congress(term=term, session=session, reps=[org["rep"], *extra])


def seconded_motion(org: Org, c: Congress, *, title: str = "改善食堂伙食") -> Motion:
    """A motion by ``rep`` with two seconds, ready for the committee."""
    motion = motion_services.motion_draft(
        actor=org["rep"],
        session=c.session,
        title=title,
        reasons="午餐品种单一",
        measures="增加菜品",
    )
    motion_services.motion_seek_seconds(actor=org["rep"], motion=motion)
    for rep in c.reps[1:3]:
        motion_services.motion_second(actor=rep, motion=motion)
    return motion


def submitted_motion(org: Org, c: Congress, *, title: str = "改善食堂伙食") -> Motion:
    motion = seconded_motion(org, c, title=title)
    motion_services.motion_submit(actor=org["rep"], motion=motion)
    return Motion.objects.get(pk=motion.pk)


def assigned_motion(org: Org, c: Congress, *, due_in: int = 10) -> Motion:
    motion = submitted_motion(org, c)
    motion_services.motion_register(actor=org["union"], motion=motion)
    motion_services.motion_assign(
        actor=org["union"],
        motion=motion,
        lead_unit=org.boiler,
        due_on=timezone.localdate() + datetime.timedelta(days=due_in),
    )
    return Motion.objects.get(pk=motion.pk)
