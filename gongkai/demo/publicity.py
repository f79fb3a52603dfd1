"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures: a company
cadre pre-appointment publicity that closed with an anonymous objection, its finding and the
outcome; and a department one open today, to which the "employee" login can object."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.core.workdays import add_working_days
from gongkai.demo.calendar import at_day
from gongkai.demo.disclosure import forget_people, head_for, login, walk_to_published
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.services import disclosure_create
from gongkai.org.models import OrgUnit, Role, RoleAssignment
from gongkai.publicity.models import Finding, Outcome, PublicityKind
from gongkai.publicity.services import (
    objection_file,
    objection_finding_record,
    publicity_open,
    publicity_outcome_publish,
)


def officer_for(unit: OrgUnit) -> User:
    """The unit's disclosure officer, else its head (as in gongkai.demo.disclosure)."""
    for roles in ([Role.TEAM_OFFICER, Role.DEPT_OFFICER], [Role.UNIT_HEAD]):
        found = RoleAssignment.objects.filter(unit=unit, role__in=roles).select_related("user")
        assignment = found.order_by("pk").first()
        if assignment is not None:
            return assignment.user
    return login("union")


def cadre_disclosure(
    *, unit: OrgUnit, author: User, title: str, result: str, day: date
) -> Disclosure:
    entry = CatalogEntry.objects.get(code="cadre-appointment")
    disclosure = disclosure_create(
        actor=author,
        unit=unit,
        entry=entry,
        title=title,
        procedure=(
            "<p>经民主推荐、组织考察、党委会集体研究，确定拟任人选。依据"
            "《司务公开与民主监督制度实施办法》进行任前公示。</p>"
        ),
        result=result,
        period="",
        event_date=day,
    )
    head = head_for(unit, author)
    return walk_to_published(disclosure, author=author, head=head, day=day, hours=(9, 10, 11, 14))


def seed(*, today: date | None = None) -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    forget_people()
    rng = random.Random(20261124)  # noqa: S311 - demo data
    today = today or timezone.localdate()
    load_year(CalendarDay, today.year)  # the migration's data, in case a flush emptied it
    company = OrgUnit.objects.get(code="rd")
    boiler = OrgUnit.objects.get(code="rd-boiler")
    union = login("union")

    # A closed window: published five weeks ago, one anonymous objection, found unfounded.
    start = today - timedelta(days=35)
    closed = cadre_disclosure(
        unit=company,
        author=union,
        title="关于拟任锅炉分场副主任人选的任前公示",
        result=(
            "<p>拟任人选：李建华，男，1982年生，现任锅炉分场专工，拟任锅炉分场副主任。</p>"
            "<p>公示期间，职工可通过本平台对拟任人选提出异议，请提供具体事实。</p>"
        ),
        day=start,
    )
    window = publicity_open(
        actor=union,
        disclosure=closed,
        kind=PublicityKind.CADRE,
        starts_on=start,
        at=at_day(start, 15),
    )
    people = list(
        User.objects.filter(unit__path__startswith=boiler.path, is_active=True)
        .exclude(employee_no__in=["depthead", "teamlead", "rep", "employee"])
        .order_by("employee_no")
    )
    filer = rng.choice(people)
    filed_on = add_working_days(start, 2)
    objection = objection_file(
        actor=filer,
        publicity=window,
        text=(
            f"拟任人选在{start.year - 1}年锅炉检修期间曾有一次违章作业被通报，公示材料中"
            "“无违章记录”的表述与事实不符，请核实。"
        ),
        anonymous=True,
        at=at_day(filed_on, 20),
    )
    found_on = add_working_days(window.ends_on, 2)
    objection_finding_record(
        actor=login("supervisor"),
        objection=objection,
        finding=Finding.UNFOUNDED,
        text=(
            f"经查阅安全监察部记录，{start.year - 1}年的通报对象为同班组另一名职工，拟任人选无违章"
            "记录。异议不属实。"
        ),
        at=at_day(found_on, 16),
    )
    publicity_outcome_publish(
        actor=union,
        publicity=window,
        outcome=Outcome.UNFOUNDED,
        text="公示期内收到异议一件，经监督小组核查不属实。按程序办理任职手续。",
        at=at_day(add_working_days(found_on, 1), 10),
    )

    # A window open today on a department item, for the "employee" login to object to.
    opened = cadre_disclosure(
        unit=boiler,
        author=officer_for(boiler),
        title="关于拟任锅炉检修班班长人选的任前公示",
        result="<p>拟任人选：赵志强，现任锅炉检修班副班长，拟任锅炉检修班班长。</p>",
        day=today,
    )
    publicity_open(
        actor=login("depthead"), disclosure=opened, kind=PublicityKind.CADRE, starts_on=today
    )
    return {"publicity windows": 2, "objections": 1}
