"""Disclosures of the demo company from the start of its history (1 January last year, or
the start of the earlier inspection round if that is earlier; see
``gongkai.demo.calendar``) to today, so that last year is complete on whatever day the
demo is loaded: every level, some late, some overdue (simply missing), one corrected, one
withdrawn, a few public, and the rules library.

Deterministic; past publication dates are entered with the services' ``at`` (the way records
from the paper boards would be entered), so the ledger and the audit log stay consistent.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.periods import (
    KIND_BY_FREQUENCY,
    Frequency,
    Period,
    deadline,
    periods_between,
)
from gongkai.core.workdays import calendar_spanning
from gongkai.demo.calendar import at_day, demo_calendar
from gongkai.disclosure.catalog import entries_for_unit
from gongkai.disclosure.engagement import rating_submit, receipt_record
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.regulations import regulation_create
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_create,
    disclosure_transition,
    disclosure_update,
)
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind

PAYEES = ["市热力公司", "华电物资公司", "城东宾馆", "机电维修中心", "劳保用品商店", "出租车公司"]
ITEMS = {
    "entertainment": ["兄弟单位技术交流工作餐", "上级检查接待", "用户座谈会"],
    "vehicles": ["生产用车燃油", "车辆年检", "轮胎更换", "过路费"],
    "materials": ["阀门备件", "电缆", "劳保手套", "润滑油", "密封垫"],
    "team-materials": ["扳手", "手电", "绝缘手套", "记录本"],
}
REGULATIONS = [
    ("implementation", "司务公开与民主监督制度实施办法"),
    ("organisation", "司务公开组织机构及工作责任制度"),
    ("evaluation", "司务公开监督评议制度实施办法"),
    ("directors", "职工董事、监事制度"),
    ("patrols", "职工代表巡视制度"),
    ("content", "公司及部门司务公开制度及内容"),
    ("team-rules", "班务公开规定"),
    ("team-content", "班务公开内容"),
]


def expense_table(rng: random.Random, code: str, period: Period) -> dict[str, Any]:
    rows = []
    total = Decimal("0")
    for _ in range(rng.randint(2, 5)):
        amount = Decimal(rng.randint(8000, 480000)) / 100
        total += amount
        day = period.start + timedelta(days=rng.randint(0, (period.end - period.start).days))
        rows.append(
            [
                day.isoformat(),
                rng.choice(ITEMS[code]),
                rng.choice(PAYEES),
                f"{amount:.2f}",
                "分管领导",
            ]
        )
    return {
        "columns": ["日期", "事项", "收款单位", "金额(元)", "审批人"],
        "rows": rows,
        "money_columns": [3],
        "totals": {"3": f"{total:.2f}"},
    }


def content(
    rng: random.Random, entry: CatalogEntry, unit: OrgUnit, period: Period | None
) -> tuple[str, str, str, dict[str, object] | None]:
    when = period.label() if period else "本次"
    title = f"{unit.name}{when}{entry.name}公开"
    procedure = (
        f"<p>依据《司务公开与民主监督制度实施办法》，{entry.name}事项经{unit.name}"
        f"民主管理小组讨论，负责人审核，按规定程序办理。</p>"
    )
    table = expense_table(rng, entry.code, period) if (period and entry.code in ITEMS) else None
    if table:
        result = f"<p>本期{entry.name}合计 {table['totals']['3']} 元，明细见下表。</p>"
    elif entry.code in {"pay", "team-bonus"}:
        result = (
            f"<p>本期{entry.name}按考核结果发放，人均 {rng.randint(3200, 6800)} 元，"
            "最高与最低差额在规定范围内。</p>"
        )
    else:
        result = f"<p>{entry.name}办理完毕，结果如下：符合规定，无异议。</p>"
    return title, procedure, result, table


@functools.cache
def login(employee_no: str) -> User:
    return User.objects.get(employee_no=employee_no)


@functools.cache
def officer_for(unit: OrgUnit) -> User:
    """The unit's disclosure officer; the union office drafts the company's items."""
    assignment = (
        RoleAssignment.objects.filter(unit=unit, role__in=[Role.TEAM_OFFICER, Role.DEPT_OFFICER])
        .select_related("user")
        .first()
    )
    if assignment is not None:
        return assignment.user
    if unit.kind == UnitKind.COMPANY:
        return login("union")
    head = RoleAssignment.objects.filter(unit=unit, role=Role.UNIT_HEAD).select_related("user")
    first = head.first()
    return first.user if first is not None else login("union")


@functools.cache
def head_for(unit: OrgUnit, author: User) -> User:
    heads = RoleAssignment.objects.filter(role=Role.UNIT_HEAD, unit_id__in=unit.path_ids)
    for assignment in heads.select_related("user").order_by("-unit__depth"):
        if assignment.user_id != author.pk:
            return assignment.user
    raise LookupError(unit)


def publish(
    *,
    unit: OrgUnit,
    entry: CatalogEntry,
    period: Period | None,
    event: date | None,
    when: date,
    rng: random.Random,
    scope: str | None = None,
) -> Disclosure:
    author = officer_for(unit)
    title, procedure, result, table = content(rng, entry, unit, period)
    d = disclosure_create(
        actor=author,
        unit=unit,
        entry=entry,
        title=title,
        procedure=procedure,
        result=result,
        period=period.key if period else "",
        event_date=event,
        table=table,
        scope=scope,
    )
    return walk_to_published(d, author=author, head=head_for(unit, author), day=when)


def walk_to_published(
    d: Disclosure,
    *,
    author: User,
    head: User,
    day: date,
    hours: tuple[int, int, int, int] = (9, 11, 14, 16),
) -> Disclosure:
    """Submit, approve (and endorse, for a company), publish: the workflow on ``day``."""
    submit, approve, endorse, publish = hours
    steps = [(Transition.SUBMIT, author, submit), (Transition.APPROVE, head, approve)]
    if d.unit.kind == UnitKind.COMPANY:
        steps.append((Transition.ENDORSE, login("leader"), endorse))
    steps.append((Transition.PUBLISH, author, publish))
    done = d
    for transition, actor, hour in steps:
        done = disclosure_transition(
            actor=actor, disclosure=d, transition=transition, at=at_day(day, hour)
        )
    return done


def forget_people() -> None:
    """Empty the caches of people: a seeder starts from the database it is given (a test
    database is emptied between tests, and PostgreSQL never reuses an id)."""
    for cached in (officer_for, head_for, login):
        cached.cache_clear()


def seed_disclosures(*, today: date | None = None) -> dict[str, int]:
    rng = random.Random(20261124)  # noqa: S311 - demo data
    forget_people()
    today = today or timezone.localdate()
    start = demo_calendar(today).history_start
    company = OrgUnit.objects.get(code="rd")
    boiler = OrgUnit.objects.get(code="rd-boiler")
    # Every level is lived in: the company, all departments, and the boiler teams in full;
    # the other teams for the last quarter.
    units = [company, *OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT, parent=company)]
    units += list(OrgUnit.objects.filter(parent=boiler))
    recent_teams = OrgUnit.objects.filter(kind=UnitKind.TEAM).exclude(parent=boiler)
    published = late = attested = 0
    workdays = calendar_spanning(start, date(today.year + 1, 12, 31))
    for unit in [*units, *recent_teams]:
        first = start if unit in units else today - timedelta(days=75)
        for entry, rule in entries_for_unit(unit, today):
            if rule.frequency == Frequency.PER_EVENT:
                continue
            kind = KIND_BY_FREQUENCY[Frequency(rule.frequency)]
            for period in periods_between(kind, first, today):
                due = deadline(period.end, rule.deadline_days, workdays)
                if period.end >= today:
                    continue  # not over yet
                roll = rng.random()
                if roll < 0.08 and due < today:
                    continue  # never published: shows as overdue
                if roll < 0.12:
                    attestation_file(
                        actor=officer_for(unit),
                        unit=unit,
                        entry=entry,
                        period=period.key,
                        reason="本期未发生相关事项。",
                        at=at_day(min(due, today)),
                    )
                    attested += 1
                    continue
                lateness = rng.randint(1, 20) if roll < 0.25 else -rng.randint(0, 8)
                when = min(due + timedelta(days=lateness), today)
                publish(unit=unit, entry=entry, period=period, event=None, when=when, rng=rng)
                published += 1
                late += when > due
    # Events: tenders and recruitment are public; housing internal.
    for code, count in (("tendering", 4), ("recruitment", 2), ("hiring", 1), ("housing", 1)):
        entry = CatalogEntry.objects.get(code=code)
        for i in range(count):
            event = today - timedelta(days=30 * (i + 1) + rng.randint(0, 20))
            publish(
                unit=company,
                entry=entry,
                period=None,
                event=event,
                when=event + timedelta(days=rng.randint(1, 4)),
                rng=rng,
            )
            published += 1
    revise_and_withdraw(company, boiler, today)
    seed_ratings(rng)
    seed_regulations(company)
    return {"disclosures": published, "late": late, "attestations": attested}


def revise_and_withdraw(company: OrgUnit, boiler: OrgUnit, today: date) -> None:
    """One corrected item and one withdrawn item, so boards show history and a tombstone."""
    item = (
        Disclosure.objects.filter(
            unit=boiler, entry__code="entertainment", is_nil=False, status="published"
        )
        .order_by("-first_published_at")
        .first()
    )
    if item is not None:
        author = officer_for(boiler)
        disclosure_transition(
            actor=author,
            disclosure=item,
            transition=Transition.CORRECT,
            reason="第二笔招待费金额录入有误，更正为发票金额。",
        )
        item.refresh_from_db()
        disclosure_update(
            actor=author, disclosure=item, result=item.result.replace("合计", "更正后合计")
        )
        disclosure_transition(actor=author, disclosure=item, transition=Transition.SUBMIT)
        disclosure_transition(
            actor=head_for(boiler, author), disclosure=item, transition=Transition.APPROVE
        )
        disclosure_transition(actor=author, disclosure=item, transition=Transition.PUBLISH)
    tender = (
        Disclosure.objects.filter(unit=company, entry__code="tendering")
        .order_by("first_published_at")
        .first()
    )
    if tender is not None:
        disclosure_transition(
            actor=login("union"),
            disclosure=tender,
            transition=Transition.WITHDRAW,
            reason="招标项目因设计变更取消，将重新组织招标。",
        )


def seed_regulations(company: OrgUnit) -> None:
    for order, (code, title) in enumerate(REGULATIONS, start=1):
        regulation_create(
            actor=None,
            company=company,
            code=code,
            title=f"《{title}》",
            order=order,
            body=(
                f"<h3>第一条 目的</h3><p>为规范{title.rstrip('度法定容')}相关工作，保障职工的"
                "知情权、参与权、表达权和监督权，制定本办法。</p>"
                "<h3>第二条 适用范围</h3><p>本办法适用于公司各部门、分场及班组。</p>"
                "<h3>第三条 职责</h3>"
                "<p>党委统领、工会牵头、行政助推，各单位负责人为第一责任人。</p>"
            ),
        )


def seed_ratings(rng: random.Random) -> None:
    """Employees of the boiler department read and rate their boards' items, mostly
    satisfied, so the barometers move."""

    boiler = OrgUnit.objects.get(code="rd-boiler")
    people = list(User.objects.filter(unit__path__startswith=boiler.path, is_active=True))
    items = list(
        Disclosure.objects.filter(
            unit_id__in=[boiler.pk, boiler.parent_id], is_nil=False, status="published"
        )
        .select_related("unit")
        .order_by("-first_published_at")[:25]
    )
    items += list(
        Disclosure.objects.filter(unit__parent=boiler, is_nil=False, status="published")
        .select_related("unit")
        .order_by("-first_published_at")[:25]
    )
    comments = ["公开及时，清楚明白。", "希望附上明细。", "金额口径请再说明。", ""]
    for item in items:
        readers = [p for p in people if p.unit is not None and item.unit_id in p.unit.path_ids]
        for person in rng.sample(readers, k=min(len(readers), rng.randint(3, 12))):
            receipt_record(user=person, disclosure=item)
            if rng.random() < 0.6:
                value = rng.choices(["satisfied", "basic", "dissatisfied"], [70, 22, 8])[0]
                rating_submit(
                    actor=person, disclosure=item, value=value, comment=rng.choice(comments)
                )
