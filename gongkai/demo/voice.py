"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures.

Suggestions in every state across several units, some with the name hidden. The "employee"
login has an answered one to rate; the "depthead" login has some to accept, assign and
answer; the union office has a reopened one to review. Past steps are entered with the
services' ``at`` so that the timeline, the audit log and the dates agree. Deterministic.

The reminder engine has work on the day the reminders go (``ReminderDays.scan_on``): the
overdue suggestion fell due three working days before, so it is escalated to the union
office that day; and when no item of the boiler team's catalog falls due three working days
after it, the team has a suggestion to answer by then, so that "teamlead" is reminded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.satisfaction import Satisfaction
from gongkai.demo.calendar import ReminderDays, at_day, reminder_days
from gongkai.demo.disclosure import DEFAULT_MISSES, MISSES, team_reminded
from gongkai.demo.org import BOILER_TEAM, DEMO_LOGINS
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.voice import services
from gongkai.voice.deadlines import KIND as SUGGESTION
from gongkai.voice.models import Suggestion, SuggestionCategory, SuggestionStatus

C = SuggestionCategory
S = SuggestionStatus


@dataclass(frozen=True)
class Scenario:
    author: str  # a demo login, or "" for a member of the unit picked by the seeded rng
    unit: str
    category: str
    title: str
    body: str
    end: str  # the state to take it to; "late" / "overdue" / "review_close" / "second" too
    days_ago: int
    hidden: bool = False
    responsible: str = ""  # defaults to the receiving unit
    rating: str = Satisfaction.SATISFIED
    reason: str = ""  # why the author was dissatisfied (the first rating of a reopened one)


SCENARIOS = [
    Scenario(
        "employee",
        "rd-boiler-1",
        C.WORKING_CONDITIONS,
        "班组休息室空调制冷效果差",
        "锅炉运行一班休息室空调使用多年，夏季制冷效果明显下降，交接班时室内闷热，建议检修或更换。",
        S.ANSWERED,
        12,
    ),
    Scenario(
        "employee",
        "rd-boiler",
        C.PRODUCTION_SAFETY,
        "锅炉零米层照明不足",
        "锅炉零米层部分照明灯具损坏，夜间巡检存在滑倒风险，建议尽快更换并增加应急照明。",
        S.SUBMITTED,
        2,
        hidden=True,
    ),
    Scenario(
        "rep",
        "rd-boiler",
        C.MANAGEMENT,
        "建议优化夜班交接班记录格式",
        "现有交接班记录项目重复，填写耗时，建议按设备系统分栏，并增加遗留缺陷一栏。",
        S.ACCEPTED,
        4,
    ),
    Scenario(
        "",
        "rd-boiler",
        C.PAY_WELFARE,
        "高温补贴发放时间建议提前",
        "高温补贴每年九月才发放，建议在七月、八月按月发放，与高温作业时间一致。",
        S.ASSIGNED,
        6,
    ),
    Scenario(
        "",
        "rd-boiler",
        C.PRODUCTION_SAFETY,
        "除灰系统检修平台护栏松动",
        "除灰系统二号检修平台护栏有两处螺栓松动，建议列入本周缺陷处理计划。",
        "overdue",
        25,
        responsible="rd-boiler-4",
    ),
    Scenario(
        "",
        "rd",
        C.PAY_WELFARE,
        "建议恢复职工疗休养",
        "近三年未组织职工疗休养，建议恢复，并优先安排一线倒班职工。",
        S.DECLINED,
        40,
    ),
    Scenario(
        "",
        "rd-turbine",
        C.WORKING_CONDITIONS,
        "汽机房噪声区增设耳塞发放点",
        "汽机房高噪声区域巡检频繁，建议在入口处设置耳塞发放箱。",
        S.CLOSED,
        60,
    ),
    Scenario(
        "",
        "rd-boiler",
        C.DISCLOSURE_WORK,
        "班组奖金分配公开应列明考核扣分依据",
        "目前班组奖金公开只有金额，没有扣分依据，建议同时公开考核记录。",
        "late",
        50,
        hidden=True,
        rating=Satisfaction.BASIC,
    ),
    Scenario(
        "",
        "rd",
        C.MANAGEMENT,
        "职工食堂夜班供餐时间调整",
        "夜班职工零点后无法就餐，建议食堂夜宵供应延长至凌晨一点。",
        S.REOPENED,
        30,
        responsible="rd-union",
        reason="答复只说“研究后再定”，没有说明夜宵延长到几点、何时开始执行。",
    ),
    Scenario(
        "",
        "rd-fuel",
        C.PRODUCTION_SAFETY,
        "输煤栈桥粉尘治理",
        "输煤栈桥粉尘浓度大，喷淋装置经常停用，建议检修喷淋并定期检测粉尘浓度。",
        "review_close",
        70,
        reason="喷淋装置仍然时开时停，答复没有附粉尘检测结果。",
    ),
    Scenario(
        "",
        "rd-electric",
        C.OTHER,
        "电气检修工具借用登记电子化",
        "工具借用仍为纸质登记，建议使用扫码登记，方便追溯。",
        "second",
        80,
        rating=Satisfaction.DISSATISFIED,
        reason="答复没有说明电子化登记何时上线。",
    ),
    Scenario(
        "employee",
        "rd",
        C.DISCLOSURE_WORK,
        "公开栏内容更新不及时",
        "厂区公开栏部分内容为上季度信息，建议明确更新责任人和时限。",
        S.CLOSED,
        90,
        hidden=True,
    ),
    Scenario(
        "",
        "rd-chemistry",
        C.WORKING_CONDITIONS,
        "化验室通风柜维修",
        "化验室一号通风柜风量不足，建议尽快维修。",
        S.ASSIGNED,
        3,
    ),
    Scenario(
        "",
        "rd-maintenance",
        C.PAY_WELFARE,
        "检修加班调休安排",
        "大修期间加班较多，建议大修结束后统一安排调休。",
        S.CLOSED,
        35,
        rating=Satisfaction.BASIC,
    ),
    Scenario(
        "",
        "rd-turbine",
        C.MANAGEMENT,
        "培训课程安排在白班时段",
        "倒班职工难以参加安排在下午的培训，建议录制课程或分班次安排。",
        S.SUBMITTED,
        1,
        hidden=True,
    ),
]


# The team's suggestion to answer in three working days, when its catalog has nothing due
# then (see seed_due_soon).
DUE_SOON = Scenario(
    "",
    BOILER_TEAM,
    C.PRODUCTION_SAFETY,
    "夜间巡检手电筒亮度不足",
    "班组巡检用手电筒使用多年，亮度不足，夜间看不清就地表计，建议更换为防爆强光手电。",
    S.ASSIGNED,
    2,
)


def _at(today: date, days_ago: float, hour: int = 9) -> datetime:
    return at_day(today - timedelta(days=int(days_ago)), hour)


def _holder(unit: OrgUnit, roles: list[str]) -> User | None:
    """The holder of one of ``roles`` nearest to ``unit`` (on it or above)."""
    found = (
        RoleAssignment.objects.filter(unit_id__in=unit.path_ids, role__in=roles)
        .select_related("user", "unit")
        .order_by("-unit__depth", "user__employee_no")
        .first()
    )
    return found.user if found is not None else None


LAST_YEAR = [
    (C.WORKING_CONDITIONS, "更衣室储物柜更换", "更衣室储物柜锈蚀损坏较多，建议统一更换。"),
    (C.PRODUCTION_SAFETY, "巡检通道增设防滑条", "雨雪天巡检通道湿滑，建议加装防滑条。"),
    (C.PAY_WELFARE, "夜班补贴按月随工资发放", "夜班补贴按季度发放，建议改为按月随工资发放。"),
    (C.MANAGEMENT, "班前会记录简化", "班前会记录表项目重复，建议简化为一页。"),
]


def seed_last_year(rng: random.Random, today: date, union: User) -> int:
    """Last year's handled suggestions: one per department, sent in the autumn, answered
    on time and rated by its author (the departments that kept their boards late less
    warmly), so each department's handling and satisfaction of last year have figures."""
    company = OrgUnit.objects.get(code="rd")
    departments = OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT).order_by(
        "order", "code"
    )
    count = 0
    for n, dept in enumerate(departments):
        members = list(
            User.objects.filter(unit__path__startswith=dept.path, is_active=True)
            .exclude(role_assignments__isnull=False)
            .order_by("employee_no")
        )
        handler = _holder(dept, [Role.UNIT_HEAD])
        answerer = _holder(dept, [Role.UNIT_HEAD, Role.DEPT_OFFICER])
        if not members or handler is None or answerer is None:
            continue
        author = rng.choice(members)
        category, title, body = LAST_YEAR[n % len(LAST_YEAR)]
        sent = date(today.year - 1, 9, 8) + timedelta(days=5 * n)
        s = services.suggestion_submit(
            actor=author,
            unit=dept,
            category=category,
            title=title,
            body=body,
            at=at_day(sent, 9),
        )
        services.suggestion_accept(actor=handler, suggestion=s, at=at_day(sent, 15))
        services.suggestion_assign(
            actor=handler,
            suggestion=s,
            responsible_unit=dept,
            due_on=sent + timedelta(days=15),
            at=at_day(sent + timedelta(days=1), 10),
        )
        services.suggestion_answer(
            actor=answerer,
            suggestion=s,
            answer=f"关于“{title}”：已研究并落实。",
            action_taken="已安排专人负责，相关措施已实施并纳入日常检查。",
            at=at_day(sent + timedelta(days=8), 15),
        )
        share = MISSES.get(dept.code.removeprefix("rd-"), DEFAULT_MISSES)
        services.suggestion_rate(
            actor=author,
            suggestion=s,
            rating=Satisfaction.BASIC if share >= 0.12 else Satisfaction.SATISFIED,
            at=at_day(sent + timedelta(days=11), 16),
        )
        count += 1
    return count


def seed_due_soon(rng: random.Random, today: date, days: ReminderDays) -> Suggestion | None:
    """Unless an item of the boiler team's catalog is due three working days after the day
    the reminders go (and its officer "teamlead" is reminded of it then), a suggestion
    assigned to the team to answer by that day, so that he is reminded of it."""
    team = OrgUnit.objects.get(code=BOILER_TEAM)
    teamlead = User.objects.get(employee_no="teamlead")
    if team_reminded(team, teamlead, days.scan_on):
        return None
    sc = DUE_SOON
    members = list(
        User.objects.filter(unit=team, is_active=True)
        .exclude(role_assignments__isnull=False)
        .exclude(employee_no__in=[d.login for d in DEMO_LOGINS])
        .order_by("employee_no")
    )
    s = services.suggestion_submit(
        actor=rng.choice(members),
        unit=team,
        category=sc.category,
        title=sc.title,
        body=sc.body,
        at=_at(today, sc.days_ago, 20),
    )
    services.suggestion_accept(actor=teamlead, suggestion=s, at=_at(today, sc.days_ago - 1, 8))
    return services.suggestion_assign(
        actor=teamlead,
        suggestion=s,
        responsible_unit=team,
        due_on=days.reminded(SUGGESTION),
        at=_at(today, sc.days_ago - 1, 9),
    )


def seed(*, today: date | None = None) -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    rng = random.Random(20261124)  # noqa: S311 - demo data
    today = today or timezone.localdate()
    union = User.objects.get(employee_no="union")
    days = reminder_days(today)
    made: list[Suggestion] = []
    for n, sc in enumerate(SCENARIOS):
        unit = OrgUnit.objects.get(code=sc.unit)
        if sc.author:
            author = User.objects.get(employee_no=sc.author)
        else:
            members = list(
                User.objects.filter(unit__path__startswith=unit.path, is_active=True)
                .exclude(role_assignments__isnull=False)
                .order_by("employee_no")
            )
            author = rng.choice(members)
        responsible = OrgUnit.objects.get(code=sc.responsible) if sc.responsible else unit
        handler = _holder(unit, [Role.UNIT_HEAD]) or union
        if handler.pk == author.pk:
            handler = union
        answerer = _holder(responsible, [Role.UNIT_HEAD, Role.DEPT_OFFICER, Role.TEAM_OFFICER])
        start = sc.days_ago
        s = services.suggestion_submit(
            actor=author,
            unit=unit,
            category=sc.category,
            title=sc.title,
            body=sc.body,
            name_hidden=sc.hidden,
            at=_at(today, start, 8 + n % 8),
        )
        made.append(s)
        if sc.end == S.SUBMITTED:
            continue
        if sc.end == S.DECLINED:
            services.suggestion_decline(
                actor=handler,
                suggestion=s,
                reason="疗休养安排已列入明年职代会集体合同协商议题，届时统一研究。",
                at=_at(today, start - 2),
            )
            continue
        services.suggestion_accept(actor=handler, suggestion=s, at=_at(today, start - 1))
        if sc.end == S.ACCEPTED or answerer is None:
            continue
        window = 10
        due_on = today - timedelta(days=start - 2 - window)
        if sc.end == "overdue":
            # Overdue by three working days when the reminders go: escalated to the union
            # office that day.
            due_on = days.union_overdue
        services.suggestion_assign(
            actor=handler,
            suggestion=s,
            responsible_unit=responsible,
            due_on=due_on,
            at=_at(today, start - 2),
        )
        if sc.end in (S.ASSIGNED, "overdue"):
            continue
        answer_day = start - (window + 6 if sc.end == "late" else 7)
        services.suggestion_answer(
            actor=answerer,
            suggestion=s,
            answer=f"关于“{sc.title}”：已研究并落实，具体措施见下。",
            action_taken="已安排专人负责，相关措施已实施并纳入日常检查。",
            at=_at(today, max(answer_day, 0), 15),
        )
        if sc.end == S.ANSWERED:
            continue
        rate_day = max(answer_day - 2, 0)
        first = (
            Satisfaction.DISSATISFIED
            if sc.end in ("review_close", "second", S.REOPENED)
            else (sc.rating)
        )
        services.suggestion_rate(
            actor=author,
            suggestion=s,
            rating=first,
            reason=sc.reason if first == Satisfaction.DISSATISFIED else "",
            at=_at(today, rate_day, 16),
        )
        if sc.end == "review_close":
            services.suggestion_review_close(
                actor=union,
                suggestion=s,
                note="经复核，分场已检修喷淋装置并委托检测，答复属实，予以办结。",
                at=_at(today, max(rate_day - 2, 0), 17),
            )
        elif sc.end == "second":
            review_day = max(rate_day - 2, 0)
            services.suggestion_review_return(
                actor=union,
                suggestion=s,
                due_on=today - timedelta(days=review_day - 10),
                note="请说明电子化登记的具体时间安排。",
                at=_at(today, review_day, 17),
            )
            services.suggestion_answer(
                actor=answerer,
                suggestion=s,
                answer="扫码登记系统已完成选型，计划下季度上线。",
                at=_at(today, max(review_day - 5, 0), 10),
            )
            services.suggestion_rate(
                actor=author,
                suggestion=s,
                rating=sc.rating,
                reason="扫码登记仍要等到下季度，答复没有给出过渡办法。",
                at=_at(today, max(review_day - 6, 0), 11),
            )
    history = seed_last_year(rng, today, union)
    seed_due_soon(rng, today, days)
    states = Suggestion.objects.values_list("status", flat=True)
    return {
        "suggestions": len(made),
        "suggestions of last year": history,
        "open": sum(1 for status in states if status not in (S.CLOSED, S.DECLINED)),
    }
