"""Disclosures of the demo company from the start of its history (1 January last year, or
the start of the earlier inspection round if that is earlier; see
``gongkai.demo.calendar``) to today, so that last year is complete on whatever day the
demo is loaded: every level, some late, some overdue (simply missing), one corrected, one
withdrawn, a few public, and the rules library. When one of the boiler team's items falls
due three working days after the day the reminders go (``ReminderDays.scan_on``), it is
left as the team lead's draft, so that he is reminded of it.

Deterministic; past publication dates are entered with the services' ``at`` (the way records
from the paper boards would be entered), so the ledger and the audit log stay consistent.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.periods import (
    KIND_BY_FREQUENCY,
    Frequency,
    Period,
    PeriodKind,
    deadline,
    periods_between,
)
from gongkai.core.workdays import calendar_spanning
from gongkai.demo.calendar import at_day, demo_calendar, reminder_days
from gongkai.demo.org import BOILER_TEAM
from gongkai.disclosure.approvals import pending
from gongkai.disclosure.catalog import entries_for_unit
from gongkai.disclosure.compliance import Tally, unit_tallies
from gongkai.disclosure.deadlines import KIND as OBLIGATION
from gongkai.disclosure.engagement import rating_submit, receipt_record
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.regulations import regulation_create
from gongkai.disclosure.services import (
    Transition,
    approval_transition,
    attestation_file,
    disclosure_create,
    disclosure_transition,
    disclosure_update,
)
from gongkai.notify import reminders
from gongkai.notify.models import Reminder
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
    """The unit's disclosure officer; the union office drafts the company's items, and a
    department's officer those of its teams that have none but their head (so that the team's
    head approves them first, then the department's: level by level)."""
    if unit.kind == UnitKind.TEAM and unit.parent is not None:
        heads = RoleAssignment.objects.filter(unit=unit, role=Role.UNIT_HEAD).values("user_id")
        own = RoleAssignment.objects.filter(unit=unit, role=Role.TEAM_OFFICER).exclude(
            user_id__in=heads
        )
        if not own.exists():
            return officer_for(unit.parent)
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
    if unit.code == BOILER_TEAM and entry.code == "team-materials":
        # The team's head drafts these himself: the department's head approves them for the
        # team's level too, acting for it (the timeline says so, with the reason).
        author = login("teamlead")
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


def draft(*, unit: OrgUnit, entry: CatalogEntry, period: Period, rng: random.Random) -> Disclosure:
    """The team lead's draft of the item, not yet sent for approval (the same content, and
    the same draws of ``rng``, as :func:`publish`)."""
    title, procedure, result, table = content(rng, entry, unit, period)
    return disclosure_create(
        actor=login("teamlead"),
        unit=unit,
        entry=entry,
        title=title,
        procedure=procedure,
        result=result,
        period=period.key,
        table=table,
    )


def team_reminded(team: OrgUnit, person: User, day: date) -> bool:
    """Whether the reminder engine reminds ``person``, on ``day``, of an obligation of
    ``team`` before its deadline (its "before" stage: three working days ahead with the
    default settings)."""
    return any(
        planned.deadline.kind == OBLIGATION
        and planned.deadline.unit_id == team.pk
        and planned.stage == Reminder.Stage.BEFORE
        and person.pk in planned.people
        for batch in reminders.plan(day)
        for planned in batch
    )


ACTING_FOR = "本级负责人即起草人，由上一级负责人代为审核。"


def approve_through(
    d: Disclosure, *, head: User | None, day: date | None, hours: tuple[int, ...] = (11, 14)
) -> Disclosure:
    """Take every approval of the item's chain on ``day``, level by level, each by one of
    the people the chain names (``head`` when it is one of them); a level with nobody but
    the author is taken by the level above, acting for it with the reason. ``day`` None:
    now."""
    done = Disclosure.objects.get(pk=d.pk)
    for hour in hours:
        found = pending(done)
        if found is None:
            break
        people = sorted(found.people)
        actor = head if head is not None and head.pk in found.people else None
        actor = actor or User.objects.get(pk=people[0])
        done = disclosure_transition(
            actor=actor,
            disclosure=done,
            transition=approval_transition(found.step),
            acting_for=ACTING_FOR if found.acting_for else "",
            at=at_day(day, hour) if day is not None else None,
        )
    return done


def walk_to_published(
    d: Disclosure,
    *,
    author: User,
    head: User | None,
    day: date,
    hours: tuple[int, int, int, int] = (9, 11, 14, 16),
) -> Disclosure:
    """Submit, take the approvals of the item's chain (``head`` first when the chain names
    them), publish: the workflow on ``day``."""
    submit, approve, endorse, publish = hours
    disclosure_transition(
        actor=author, disclosure=d, transition=Transition.SUBMIT, at=at_day(day, submit)
    )
    approve_through(d, head=head, day=day, hours=(approve, endorse))
    return disclosure_transition(
        actor=author, disclosure=d, transition=Transition.PUBLISH, at=at_day(day, publish)
    )


def on_time_rates(departments: list[OrgUnit], start: date, end: date) -> dict[int, float]:
    """Each department's on-time rate over [start, end], its teams included (as the
    inspections and the assessment count it); departments with nothing due are left out."""
    if not departments:
        return {}
    paths = Q()
    for dept in departments:
        paths |= Q(path__startswith=dept.path)
    units = list(OrgUnit.objects.filter(paths))
    tallies = unit_tallies(units, start, end)
    rates: dict[int, float] = {}
    for dept in departments:
        total = Tally()
        for unit in units:
            if unit.path.startswith(dept.path):
                total.merge(tallies[unit.pk])
        if total.rate is not None:
            rates[dept.pk] = total.rate
    return rates


def forget_people() -> None:
    """Empty the caches of people: a seeder starts from the database it is given (a test
    database is emptied between tests, and PostgreSQL never reuses an id)."""
    for cached in (officer_for, head_for, login):
        cached.cache_clear()


# The share of each department's due obligations (its teams' too) published late or never;
# the rest are on time, or attested as having nothing to report. The boiler department
# misses about a quarter (its story: late and missing items, a repeat finding in the
# inspections); the departments with findings miss more than the others; the finance
# department, whose employees are the most satisfied, hardly ever. So each department is on
# time for roughly 75-97% of what fell due, and a ranking on it can be defended.
MISSES = {
    "boiler": 0.25,
    "turbine": 0.16,
    "fuel": 0.14,
    "electric": 0.12,
    "maintenance": 0.11,
    "run": 0.09,
    "hr": 0.08,
    "chemistry": 0.07,
    "instrument": 0.06,
    "safety": 0.06,
    "union": 0.05,
    "finance": 0.03,
}
DEFAULT_MISSES = 0.08  # the company's own items, and any department not named above
OVERDUE_OF_MISSES = 0.4  # of the missed ones, never published (the rest published late)
NOTHING_TO_REPORT = 0.04  # of the others, attested "nothing to report" instead


def miss_share(unit: OrgUnit, departments: dict[int, str]) -> float:
    """The share of ``unit``'s due obligations its department misses (``departments``:
    department id → code suffix)."""
    for pk in unit.path_ids:
        if pk in departments:
            return MISSES.get(departments[pk], DEFAULT_MISSES)
    return DEFAULT_MISSES


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
    departments = {
        u.pk: u.code.removeprefix(f"{company.code}-")
        for u in units
        if u.kind == UnitKind.DEPARTMENT
    }
    published = late = attested = 0
    workdays = calendar_spanning(start, date(today.year + 1, 12, 31))
    joined = demo_calendar(today).teams_joined
    # One obligation of the boiler team is still a draft when the reminder engine reminds
    # its officer of it, three working days before it is due (when one falls due then).
    reminded = reminder_days(today).reminded(OBLIGATION)
    drafted = False
    for unit in [*units, *recent_teams]:
        first = start if unit in units else joined
        obligations = [
            (deadline(period.end, rule.deadline_days, workdays), entry, period)
            for entry, rule in entries_for_unit(unit, today)
            # events; the directors' yearly report is the congress demo's
            if rule.frequency != Frequency.PER_EVENT and entry.code != "director-performance"
            for period in periods_between(
                KIND_BY_FREQUENCY[Frequency(rule.frequency)], first, today
            )
            if period.end < today  # over
        ]
        obligations.sort(key=lambda o: (o[0], o[1].pk, o[2].key))
        # Spread the unit's misses evenly over its history (so any half-year shows about
        # the same rate): one each time the running share passes a whole obligation.
        share = miss_share(unit, departments)
        running = rng.random()
        for due, entry, period in obligations:
            missed = False
            if due < today:
                running += share
                missed = running >= 1
                running -= int(missed)
            if missed and rng.random() < OVERDUE_OF_MISSES:
                continue  # never published: shows as overdue
            if not missed and rng.random() < NOTHING_TO_REPORT:
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
            lateness = rng.randint(1, 20) if missed else -rng.randint(0, 8)
            when = min(due + timedelta(days=lateness), today)
            if not drafted and unit.code == BOILER_TEAM and due == reminded:
                drafted = bool(draft(unit=unit, entry=entry, period=period, rng=rng))
                continue
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
    seed_reviews(rng, today)
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
        approve_through(item, head=head_for(boiler, author), day=None)
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


def seed_reviews(rng: random.Random, today: date) -> None:
    """Two items of the boiler team in review this period, level by level: one waits for
    the team's head ("teamlead"), one approved by him waits for the department's head
    ("depthead"). Nobody else is told of them or sees them in their queue."""
    team = OrgUnit.objects.get(code=BOILER_TEAM)
    author = officer_for(team)
    for code, kind, approvals in (("team-bonus", "month", 0), ("team-materials", "quarter", 1)):
        entry = CatalogEntry.objects.get(code=code)
        period = Period.containing(today, PeriodKind(kind))
        title, procedure, result, table = content(rng, entry, team, period)
        d = disclosure_create(
            actor=author,
            unit=team,
            entry=entry,
            title=title,
            procedure=procedure,
            result=result,
            period=period.key,
            table=table,
        )
        disclosure_transition(actor=author, disclosure=d, transition=Transition.SUBMIT)
        if approvals:
            approve_through(d, head=login("teamlead"), day=None, hours=(0,))


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
