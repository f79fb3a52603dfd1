"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures.

The demo company's congress: a term (two years ago → two years ahead, i.e. 2024–2028 in
2026) with one delegation per department and the flagged representatives seated (``rep``
among them); last year's plenary session (closed) with motions in every state; a joint
meeting; patrols; an employee director's report and meetings with published decisions; and
the current session, OPEN and held today, with attendance above the quorum including ``rep``
(the sign-in sheet shows check-in times between 08:00 and 08:50 and three leaves of absence,
请假, with their reasons) — ballots opens its demo votes in it (see :func:`demo_open_session`)
and checks one more representative in after its vote opened. The boiler department's overdue
motion fell due one working day before the day the reminders go
(``ReminderDays.scan_on``), so that "depthead" is told of it then. Deterministic.

Past motions are entered as history (rows with their dates), not replayed through the
services, whose checks are about "now" (the collection period, due dates in the future).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.congress import records, services
from gongkai.congress.models import (
    AnswerRole,
    Attendance,
    LeaveOfAbsence,
    Motion,
    MotionAnswer,
    MotionSecond,
    MotionStatus,
    Patrol,
    Representative,
    Session,
    SessionKind,
    SessionStatus,
    Term,
)
from gongkai.core.satisfaction import Satisfaction
from gongkai.demo.calendar import at_day, reminder_days
from gongkai.demo.disclosure import approve_through
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.services import Transition, disclosure_transition
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.supervision import rectification
from gongkai.voice.models import SuggestionCategory
from gongkai.voice.services import suggestion_submit

COMPANY_CODE = "rd"
M = MotionStatus


def demo_open_session(company_code: str = COMPANY_CODE) -> Session | None:
    """The demo's current session: open, held today, quorum reached, ``rep`` present."""
    return (
        Session.objects.filter(term__company__code=company_code, status=SessionStatus.OPEN)
        .order_by("-held_on", "-id")
        .first()
    )


def _login(employee_no: str) -> User:
    return User.objects.get(employee_no=employee_no)


@dataclass(frozen=True)
class Story:
    status: str
    title: str
    reasons: str
    measures: str
    lead: str = ""  # department code suffix of the lead unit
    rating: str = ""
    proposer: str = ""  # a demo login, or "" for a representative picked by the rng


STORIES = [
    Story(M.DRAFT, "关于增设夜班休息室的建议", "夜班人员无固定休息场所。", "在集控楼增设休息室。"),
    Story(
        M.SEEKING,
        "关于更新劳保用品标准的提案",
        "现行劳保标准已执行八年。",
        "按新国标修订发放标准。",
    ),
    Story(M.SUBMITTED, "关于职工食堂延长供餐时间的提案", "倒班职工错过饭点。", "晚餐延长至20:30。"),
    Story(M.SUBMITTED, "关于食堂增加夜宵的提案", "夜班无热食供应。", "夜班增设夜宵窗口。"),
    Story(
        M.REGISTERED,
        "关于改善职工食堂伙食的提案",
        "菜品单一，价格偏高。",
        "成立伙委会，每月公开成本。",
    ),
    Story(M.MERGED, "关于食堂饭菜质量的提案", "饭菜质量下降。", "加强食堂监督。"),
    Story(M.DECLINED, "关于个人岗位调整的请求", "本人希望调整岗位。", "调至检修岗位。"),
    Story(
        M.ASSIGNED,
        "关于锅炉房通风降温的提案",
        "夏季锅炉房温度超过40℃。",
        "加装轴流风机和冷风机。",
        "boiler",
    ),
    Story(
        M.ASSIGNED,
        "关于除灰班作业防尘的提案",
        "除灰作业粉尘大。",
        "配发防尘口罩，加装喷淋。",
        "boiler",
        proposer="rep",
    ),
    Story(
        M.ANSWERED,
        "关于班组学习室配置电脑的提案",
        "学习室无电脑。",
        "每个学习室配两台电脑。",
        "hr",
        proposer="rep",
    ),
    Story(
        M.CLOSED,
        "关于开通厂区班车的提案",
        "职工上下班不便。",
        "开通两条班车线路。",
        "safety",
        Satisfaction.SATISFIED,
    ),
    Story(
        M.CLOSED,
        "关于提高高温津贴的提案",
        "高温津贴标准偏低。",
        "按省标上限执行。",
        "hr",
        Satisfaction.BASIC,
    ),
    Story(
        M.SENT_BACK,
        "关于汽机房噪声治理的提案",
        "汽机房噪声超标。",
        "加装隔音罩。",
        "turbine",
        Satisfaction.DISSATISFIED,
    ),
    Story(
        M.CLOSED,
        "关于输煤栈桥照明改造的提案",
        "栈桥照明不足。",
        "更换LED灯具。",
        "fuel",
        Satisfaction.SATISFIED,
    ),
    Story(
        M.CLOSED,
        "关于职工体检增加项目的提案",
        "体检项目偏少。",
        "增加肿瘤筛查。",
        "hr",
        Satisfaction.DISSATISFIED,
    ),
]


def seed() -> dict[str, int]:
    company = OrgUnit.objects.filter(code=COMPANY_CODE).first()
    if company is None:
        return {}
    rng = random.Random(20261105)  # noqa: S311 - demo data
    today = timezone.localdate()
    union = _login("union")
    term = services.term_create(
        actor=union,
        company=company,
        number=5,
        starts_on=date(today.year - 2, 3, 1),
        ends_on=date(today.year + 2, 2, 28),
    )
    departments = OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT).order_by(
        "order", "code"
    )
    for dept in departments:
        services.delegation_create(actor=union, term=term, name=f"{dept.name}代表团", unit=dept)
    seats = services.roster_seed(actor=None, term=term)
    _heads(term)
    last = _sessions(term, union, today)
    current = _current_session(term, union, today, rng)
    motions = _motions(last, rng, today)
    patrols = _patrols(company, today, rng)
    _director_report(company, union, today)
    meetings = _meetings(company, union, today)
    return {
        "representatives": len(seats),
        "sessions": Session.objects.filter(term=term).count(),
        "motions": motions,
        "present today": Attendance.objects.filter(session=current).count(),
        "patrols": patrols,
        "meetings": meetings,
    }


def _heads(term: Term) -> None:
    for delegation in term.delegations.all():
        first = (
            Representative.objects.filter(delegation=delegation)
            .order_by("user__employee_no")
            .first()
        )
        if first is not None:
            delegation.head = first.user
            delegation.save(update_fields=["head"])


def _sessions(term: Term, union: User, today: date) -> Session:
    year = today.year - 1
    first = services.session_create(
        actor=union,
        term=term,
        number=1,
        title=f"第五届职工代表大会第一次会议（{year - 1}年）",
        held_on=date(year - 1, 3, 20),
        motions_open_on=date(year - 1, 2, 20),
        motions_close_on=date(year - 1, 3, 10),
        agenda="一、审议总经理工作报告\n二、审议财务工作报告\n三、选举职工董事、职工监事",
    )
    last = services.session_create(
        actor=union,
        term=term,
        number=2,
        title=f"第五届职工代表大会第二次会议（{year}年）",
        held_on=date(year, 3, 18),
        motions_open_on=date(year, 2, 15),
        motions_close_on=date(year, 3, 8),
        agenda=(
            "一、审议总经理工作报告和年度目标\n二、审议财务工作报告\n"
            "三、审议党风廉政建设情况和业务招待费使用情况\n四、民主评议领导干部\n五、提案工作"
        ),
    )
    joint = services.session_create(
        actor=union,
        term=term,
        number=1,
        kind=SessionKind.JOINT,
        title=f"{year}年第一次职代会联席会议",
        held_on=date(year, 9, 12),
        agenda="审议《职工带薪休假实施细则》",
    )
    reps = list(Representative.objects.filter(term=term, is_active=True).order_by("id"))
    for session in (first, last, joint):
        services.session_set_status(actor=union, session=session, step="open")
        present = reps[: max(len(reps) * 9 // 10, 1)]
        Attendance.objects.bulk_create(
            [
                Attendance(
                    session=session,
                    representative=r,
                    checked_in_at=at_day(session.held_on, 8),
                    checked_in_by=union,
                )
                for r in present
            ]
        )
        services.session_set_status(actor=union, session=session, step="close")
    return last


def _current_session(term: Term, union: User, today: date, rng: random.Random) -> Session:
    session = services.session_create(
        actor=union,
        term=term,
        number=3,
        title=f"第五届职工代表大会第三次会议（{today.year}年）",
        held_on=today,
        motions_open_on=today - timedelta(days=20),
        motions_close_on=today,
        agenda=(
            "一、审议总经理工作报告和年度目标\n二、审议财务工作报告\n"
            "三、审议党风廉政建设情况和业务招待费使用情况\n四、表决《职工福利费使用办法》\n"
            "五、民主评议领导干部"
        ),
    )
    services.session_set_status(actor=union, session=session, step="open")
    reps = list(Representative.objects.filter(term=term, is_active=True).select_related("user"))
    rep = next(r for r in reps if r.user.employee_no == "rep")
    others = [r for r in reps if r.pk != rep.pk]
    present = rng.sample(others, k=len(reps) * 85 // 100)
    now = timezone.now()
    # The sign-in sheet's times: the hall fills between 08:00 and 08:50 (never after now).
    start = at_day(today, 8)
    Attendance.objects.bulk_create(
        [Attendance(session=session, representative=rep, checked_in_at=now)]
        + [
            Attendance(
                session=session,
                representative=r,
                checked_in_at=min(start + timedelta(minutes=rng.randrange(50)), now),
                checked_in_by=union,
            )
            for r in present
        ]
    )
    # Leave of absence (请假) of a few of the others, with their reasons.
    chosen = {r.pk for r in present}
    absent = sorted((r for r in others if r.pk not in chosen), key=lambda r: r.pk)
    reasons = ["出差（外地检修支援）", "病假", "倒班（值夜班）"]
    LeaveOfAbsence.objects.bulk_create(
        LeaveOfAbsence(
            session=session,
            representative=r,
            reason=reason,
            recorded_at=min(start, now),
            recorded_by=union,
        )
        for r, reason in zip(absent, reasons, strict=False)
    )
    return session


def _motions(session: Session, rng: random.Random, today: date) -> int:
    reps = list(
        Representative.objects.filter(term=session.term, is_active=True)
        .select_related("user")
        .order_by("id")
    )
    users = [r.user for r in reps]
    by_login = {u.employee_no: u for u in users}
    company = session.term.company
    units = {
        u.code.removeprefix(f"{COMPANY_CODE}-"): u for u in OrgUnit.objects.filter(parent=company)
    }
    heads = {
        a.unit_id: a.user
        for a in RoleAssignment.objects.filter(
            role=Role.UNIT_HEAD, unit__parent=company
        ).select_related("user")
    }
    union = _login("union")
    held = session.held_on
    days = reminder_days(today)
    number = 0
    registered: Motion | None = None
    for i, story in enumerate(STORIES):
        proposer = by_login.get(story.proposer) or rng.choice(
            [u for u in users if u.employee_no != "rep"]
        )
        created = at_day(session.motions_open_on or held, 9) + timedelta(days=i % 10)
        motion = Motion.objects.create(
            session=session,
            proposer=proposer,
            title=story.title,
            reasons=story.reasons,
            measures=story.measures,
            status=story.status,
        )
        changes: dict[str, object] = {"created_at": created, "updated_at": created}
        if story.status != M.DRAFT:
            seconders = rng.sample([u for u in users if u.pk != proposer.pk], k=2)
            count = 1 if story.status == M.SEEKING else 2
            MotionSecond.objects.bulk_create(
                [MotionSecond(motion=motion, user=u) for u in seconders[:count]]
            )
        if story.status not in (M.DRAFT, M.SEEKING):
            changes["submitted_at"] = created + timedelta(days=1)
        if story.status in (M.REGISTERED, M.ASSIGNED, M.ANSWERED, M.CLOSED, M.SENT_BACK):
            number += 1
            changes |= {"number": number, "registered_at": at_day(held + timedelta(days=5))}
        if story.status == M.MERGED:
            changes["merged_into"] = registered
        if story.status == M.DECLINED:
            reasons = "属于个人岗位诉求，不符合提案立案条件，转为合理化建议由人力资源部答复。"
            suggestion = suggestion_submit(
                actor=proposer,
                unit=units["hr"],
                category=SuggestionCategory.MANAGEMENT,
                title=story.title,
                body=f"理由：{story.reasons}\n\n建议措施：{story.measures}",
                at=at_day(held + timedelta(days=5)),
            )
            changes |= {"decline_reasons": reasons, "suggestion": suggestion}
        if story.lead:
            lead = units[story.lead]
            assigned = held + timedelta(days=7)
            overdue = story.status == M.ASSIGNED and story.proposer == ""
            # The overdue one fell due one working day before the reminders go: escalated to
            # the lead unit's head that day (and chased by the union office today).
            due = days.head_overdue if overdue else assigned + timedelta(days=60)
            if story.status == M.ASSIGNED and not overdue:
                due = today + timedelta(days=15)
            changes |= {"lead_unit": lead, "assigned_at": at_day(assigned), "due_on": due}
            if overdue:
                changes |= {"chase_count": 1, "last_chased_at": at_day(today, 9)}
            if story.status in (M.ANSWERED, M.CLOSED, M.SENT_BACK):
                answered = at_day(assigned + timedelta(days=rng.randint(20, 70)))
                changes |= {
                    "answer_measures": f"{lead.name}已研究落实：{story.measures}",
                    "answer_result": "已完成并经职工代表验收。",
                    "answered_at": answered,
                    "first_answered_at": answered,
                    "answered_by": heads.get(lead.pk),
                }
            if story.rating:
                rated = changes["answered_at"] + timedelta(days=5)  # type: ignore[operator]
                changes |= {"rating": story.rating, "rated_at": rated, "first_rating": story.rating}
                if story.rating == Satisfaction.DISSATISFIED:
                    changes |= {"sent_back_at": rated, "due_on": today + timedelta(days=10)}
                if story.status == M.CLOSED and story.rating == Satisfaction.DISSATISFIED:
                    # Sent back once, answered again, rated again: closed.
                    changes |= {
                        "rating": Satisfaction.BASIC,
                        "answered_at": rated + timedelta(days=20),
                    }
        Motion.objects.filter(pk=motion.pk).update(**changes)
        if story.status == M.REGISTERED:
            registered = motion
        if story.lead == "boiler" and story.status == M.ASSIGNED:
            motion.assisting_units.set([units["safety"]])
            if story.proposer == "rep":  # the assisting unit has answered; the lead still owes
                MotionAnswer.objects.create(
                    motion=motion,
                    unit=units["safety"],
                    role=AnswerRole.ASSISTING,
                    measures="安全监察部已核定除灰作业防尘用品标准，可随时配发防尘口罩并指导喷淋安装。",
                    answered_by=heads.get(units["safety"].pk),
                    answered_at=at_day(today - timedelta(days=3)),
                )
        _answers(motion, story, changes)
    del union
    return len(STORIES)


def _answers(motion: Motion, story: Story, changes: dict[str, object]) -> None:
    """The answers of an answered motion as its history: the first answer, and for a
    motion closed after a send-back the second one too (the first stays on the page)."""
    if "answered_at" not in changes or motion.pk is None:
        return
    lead = changes["lead_unit"]
    assert isinstance(lead, OrgUnit)  # noqa: S101 - set with answered_at
    by = changes["answered_by"]
    first = changes["first_answered_at"]
    second = changes["answered_at"]
    assert isinstance(first, datetime) and isinstance(second, datetime)  # noqa: S101
    rows = [
        MotionAnswer(
            motion=motion,
            unit=lead,
            role=AnswerRole.LEAD,
            round=1,
            measures=(
                f"{lead.name}已列入计划，正在研究方案：{story.measures}"
                if first != second
                else str(changes["answer_measures"])
            ),
            result="方案论证中，预计下季度实施。"
            if first != second
            else "已完成并经职工代表验收。",
            answered_by=by if isinstance(by, User) else None,
            answered_at=first,
        )
    ]
    if first != second:
        rows.append(
            MotionAnswer(
                motion=motion,
                unit=lead,
                role=AnswerRole.LEAD,
                round=2,
                measures=str(changes["answer_measures"]),
                result=str(changes["answer_result"]),
                answered_by=by if isinstance(by, User) else None,
                answered_at=second,
            )
        )
    MotionAnswer.objects.bulk_create(rows)


def _patrols(company: OrgUnit, today: date, rng: random.Random) -> int:
    reps = list(
        User.objects.filter(
            role_assignments__role=Role.REPRESENTATIVE, role_assignments__unit=company
        ).order_by("employee_no")
    )
    rep = _login("rep")
    depts = list(OrgUnit.objects.filter(parent=company).order_by("code"))
    findings = [
        ("锅炉分场、除灰班现场通风不良，个别除尘器漏灰。", "尽快检修除尘器并加装通风设施。"),
        ("食堂后厨排风系统噪声大，卫生死角较多。", "更换排风机，建立每周卫生检查制度。"),
        ("输煤栈桥照明不足，夜间巡检存在安全隐患。", "更换LED照明，增设应急灯。"),
        ("职工浴室热水供应时间短，交接班时拥挤。", "延长供水时间至晚十点。"),
    ]
    patrols = []
    for i, (finding, suggestion) in enumerate(findings):
        author = rep if i == 0 else rng.choice(reps)
        patrol = records.patrol_record(
            actor=author,
            company=company,
            patrolled_on=today - timedelta(days=30 * (i + 1)),
            units=rng.sample(depts, k=2),
            findings=finding,
            suggestions=suggestion,
            participants="、".join(u.name for u in rng.sample(reps, k=3)),
        )
        patrols.append(patrol)
    _patrol_reports(company, patrols[::-1], today)
    return len(findings)


def _patrol_reports(company: OrgUnit, patrols: list[Patrol], today: date) -> None:
    """The oldest three patrols' reports are sent, approved by each visited unit's head and
    published on its board; the newest is sent and waits for the units' approval. From the
    oldest the supervision group opened two rectification items: one reported and accepted,
    one still open. (Skipped when the catalog lacks the patrol-report entry.)"""
    if not CatalogEntry.objects.filter(code=records.PATROL_ENTRY).exists():
        return
    union = _login("union")
    heads = {
        a.unit_id: a.user
        for a in RoleAssignment.objects.filter(
            role=Role.UNIT_HEAD, unit__parent=company
        ).select_related("user")
    }
    for n, patrol in enumerate(patrols):
        day = patrol.patrolled_on
        reports = records.patrol_send(
            actor=union, patrol=patrol, at=at_day(day + timedelta(days=2), 10)
        )
        if n == len(patrols) - 1:
            continue  # the latest waits for approval
        for report in reports:
            approve_through(
                report.disclosure,
                head=heads.get(report.unit_id),
                day=day + timedelta(days=4),
                hours=(9, 10),
            )
            disclosure_transition(
                actor=union,
                disclosure=report.disclosure,
                transition=Transition.PUBLISH,
                at=at_day(day + timedelta(days=5), 9),
            )
    supervisor = User.objects.filter(employee_no="supervisor").first()
    oldest = patrols[0]
    units = list(oldest.units.order_by("path"))
    if supervisor is None or not units:
        return
    done = rectification.rectification_open_from_patrol(
        actor=supervisor,
        patrol=oldest,
        unit=units[0],
        problem="除尘器漏灰：更换滤袋并加装通风设施，报送整改照片。",
        due_on=today + timedelta(days=10),
    )
    head = heads.get(units[0].pk)
    if head is not None:
        rectification.rectification_report(
            actor=head, rectification=done, report="已更换全部滤袋，加装轴流风机两台，附现场照片。"
        )
        rectification.rectification_accept(actor=supervisor, rectification=done)
    rectification.rectification_open_from_patrol(
        actor=supervisor,
        patrol=oldest,
        unit=units[-1],
        problem="现场通风不良：制定通风改造方案并报送。",
        due_on=today + timedelta(days=30),
    )


def _complete(disclosure: Disclosure, *, author: User, approver: User) -> None:
    """Take the item's approvals level by level (``approver`` first where the chain names
    them; see :func:`gongkai.demo.disclosure.approve_through`), then publish it."""
    approve_through(disclosure, head=approver, day=None)
    disclosure_transition(actor=author, disclosure=disclosure, transition=Transition.PUBLISH)


def _director_report(company: OrgUnit, union: User, today: date) -> None:
    director = (
        RoleAssignment.objects.filter(role=Role.EMPLOYEE_DIRECTOR, unit=company)
        .select_related("user")
        .first()
    )
    if director is None:
        return
    report = records.director_report_write(
        actor=director.user,
        company=company,
        year=today.year - 1,
        title=f"职工董事{today.year - 1}年度履职情况报告",
        text=(
            "一、出席董事会会议六次，对涉及职工切身利益的三项议题发表意见。\n\n"
            "二、深入基层班组调研十二次，收集职工意见建议二十四条，已反馈公司采纳十五条。\n\n"
            "三、参与制定《职工福利费使用办法》，维护职工合法权益。"
        ),
    )
    disclosure = records.director_report_publish(actor=union, report=report)
    _complete(disclosure, author=union, approver=_login("100000"))


def _meetings(company: OrgUnit, union: User, today: date) -> int:
    boiler_team = OrgUnit.objects.get(code=f"{COMPANY_CODE}-boiler-1")
    teamlead = _login("teamlead")
    # Titles follow the dates they are held on, whatever the day the demo is loaded.
    joint_on, team_on, next_on, analysis_on = (today - timedelta(days=d) for d in (40, 25, 2, 15))
    quarter = "一二三四"[(joint_on.month - 1) // 3]
    joint = records.meeting_record(
        actor=union,
        unit=company,
        kind="party_admin_union",
        title=f"{joint_on.year}年第{quarter}季度党政工联席会",
        held_on=joint_on,
        attendees=[_login("leader"), _login("100000"), union],
        attendees_text="党委书记、工会主席",
        agenda="一、研究职工带薪休假安排\n二、研究冬季取暖补贴发放",
        minutes="会议听取了人力资源部关于带薪休假安排的汇报，讨论了冬季取暖补贴发放方案。",
        decisions="一、带薪休假按《实施细则》执行，各部门于月底前报送计划。\n二、取暖补贴按每人每月200元标准于12月发放。",
        concerns_employees=True,
    )
    disclosure = records.meeting_publish(actor=union, meeting=joint)
    _complete(disclosure, author=union, approver=_login("100000"))
    team = records.meeting_record(
        actor=teamlead,
        unit=boiler_team,
        kind="team_democratic",
        title=f"锅炉运行一班{team_on.month}月班组民主管理会",
        held_on=team_on,
        attendees=list(User.objects.filter(unit=boiler_team, is_active=True)[:8]),
        agenda=f"一、{team_on.month}月奖金分配方案\n二、安全生产合理化建议",
        minutes=f"全班讨论了{team_on.month}月奖金分配方案，收集合理化建议三条。",
        decisions=f"{team_on.month}月奖金按考核得分分配，分配结果在班组公开栏公示三天。",
        concerns_employees=True,
    )
    disclosure = records.meeting_publish(actor=teamlead, meeting=team)
    _complete(disclosure, author=teamlead, approver=_login("depthead"))
    records.meeting_record(
        actor=teamlead,
        unit=boiler_team,
        kind="team_democratic",
        title=f"锅炉运行一班{next_on.month}月第二次班组民主管理会"
        if next_on.month == team_on.month
        else f"锅炉运行一班{next_on.month}月班组民主管理会",
        held_on=next_on,
        attendees_text="全班12人",
        minutes="讨论下月排班和安全生产措施。",
        decisions="夜班增配劳保用品。",
        concerns_employees=True,
    )  # not yet published: shows in the "must be published" list
    records.meeting_record(
        actor=union,
        unit=company,
        kind="economic_analysis",
        title=f"{analysis_on.year}年{analysis_on.month}月经济活动分析会",
        held_on=analysis_on,
        minutes="发电量完成计划的102%，供热量完成计划的98%，燃料成本同比下降3%。",
    )
    return 4
