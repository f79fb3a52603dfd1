"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures: the two
latest settled half-year inspection rounds (see ``gongkai.demo.calendar``) of every
department (the story is told in six of them), with findings (one a repeat of the earlier
round's), rectifications in every state (pending, overdue, reported, accepted, sent back),
the earlier round's circular issued and published as a disclosure, the later round's
circular as a draft to review, and an accountability decision for the repeat finding.

Deterministic; past steps are entered with the services' ``at`` (the way records from the
paper files would be entered), so the audit log and the derived states stay consistent.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from gongkai.accounts.models import User
from gongkai.core.periods import Period
from gongkai.demo.calendar import at_day, demo_calendar
from gongkai.demo.disclosure import on_time_rates
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.supervision.accountability import accountability_record
from gongkai.supervision.circulars import circular_draft, circular_issue, circular_update
from gongkai.supervision.models import (
    Answer,
    Finding,
    InspectedDepartment,
    InspectionRound,
    Measure,
    Rectification,
)
from gongkai.supervision.rectification import (
    rectification_accept,
    rectification_report,
    rectification_send_back,
)
from gongkai.supervision.services import (
    finding_record,
    inspection_record,
    round_close,
    round_open,
)

ON_TIME_ITEM = "目录规定事项按时公开"
ON_TIME_MET = 90  # the on-time rate at which the group counts the item as met
CHECKLIST = [
    "公开栏当月内更新",
    "既公开办事程序，又公开办事结果",
    "职工意见建议按期答复",
    ON_TIME_ITEM,
    "公示期异议及时处理并答复",
    "职工对公开事项的评价有回应",
]
DEPARTMENTS = ["boiler", "turbine", "electric", "fuel", "chemistry", "finance"]
REPORTS = [
    "本半年按《公司及部门司务公开制度及内容》公开各类事项，公开栏由专人负责更新。",
    "坚持班务公开，每月召开班组民主管理会，公开奖金分配和考勤情况。",
    "材料费、车辆使用费按月公开，职工对公开内容总体满意。",
]
NOTES = [
    "职工代表反映：奖金分配公开及时，但材料费明细不够具体。",
    "职工代表反映：公开栏内容更新及时，希望增加合理化建议处理情况。",
    "职工代表反映：部分班组公开栏照片未及时上传，夜班职工看不到。",
]


def head_of(unit: OrgUnit) -> User:
    return (
        RoleAssignment.objects.filter(unit=unit, role=Role.UNIT_HEAD)
        .select_related("user")
        .order_by("id")
        .first()
        .user  # type: ignore[union-attr]
    )


def inspect(
    round: InspectionRound, units: list[OrgUnit], day: date, rng: random.Random, actor: User
) -> dict[str, InspectedDepartment]:
    items = list(round.checklist.all())
    rates = on_time_rates(units, round.period_start, round.period_end)
    done = {}
    for unit in units:
        record = round.departments.get(department=unit)
        answers = {
            item.pk: (
                Answer.MET if rng.random() < 0.78 else Answer.NOT_MET,
                "",
            )
            for item in items
        }
        # The checklist's on-time item is answered from the records, as the group checks it.
        on_time = next(item for item in items if item.text == ON_TIME_ITEM)
        punctual = rates.get(unit.pk, 0) >= ON_TIME_MET
        answers[on_time.pk] = (Answer.MET if punctual else Answer.NOT_MET, "")
        done[unit.code.split("-")[-1]] = inspection_record(
            actor=actor,
            inspected=record,
            inspected_on=day,
            self_report=rng.choice(REPORTS),
            representative_notes=rng.choice(NOTES),
            answers=answers,
        )
    return done


def half_label(period: Period) -> str:
    return f"{period.year}年{'上' if period.index == 1 else '下'}半年"


def seed() -> dict[str, int]:
    rng = random.Random(20251231)  # noqa: S311 - demo data
    calendar = demo_calendar()
    today = calendar.today
    p1, p2 = calendar.rounds
    # Every step is dated from the end of its round's half-year; the later round ended at
    # least ROUND_SETTLED_DAYS ago, so all of them lie in the past.
    e1, e2 = p1.end, p2.end

    def after(end: date, days: int) -> date:
        return end + timedelta(days=days)

    company = OrgUnit.objects.get(code="rd")
    supervisor = User.objects.get(employee_no="supervisor")
    named = [OrgUnit.objects.get(code=f"rd-{code}") for code in DEPARTMENTS]
    # Every department of the company is inspected in both rounds (the story's six first), so
    # the assessment has the inspection figures of each and no department goes unranked.
    others = list(
        OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT, is_active=True)
        .exclude(pk__in=[u.pk for u in named])
        .order_by("path")
    )
    units = named + others

    # --- The earlier round: every finding rectified; the circular issued. -----------------
    first = round_open(
        actor=supervisor,
        company=company,
        title=f"{half_label(p1)}司务公开监督检查",
        period_start=p1.start,
        period_end=p1.end,
        departments=units,
        checklist=CHECKLIST,
    )
    h1 = inspect(first, units, after(e1, 10), rng, supervisor)
    found_h1 = {
        "boiler": ("材料费公开明细不全，未列明审批人和收款单位。", "major"),
        "turbine": ("汽机检修班公开栏连续两个月未更新。", "minor"),
        "fuel": ("职工合理化建议未在规定期限内答复。", "major"),
    }
    due_h1 = after(e1, 62)
    findings_h1: dict[str, Finding] = {}
    for code, (text, severity) in found_h1.items():
        findings_h1[code] = finding_record(
            actor=supervisor, inspected=h1[code], text=text, severity=severity, due_on=due_h1
        )
    round_close(actor=supervisor, round=first)

    def rect(finding: Finding) -> Rectification:
        return Rectification.objects.get(finding=finding)

    def report(code: str, finding: Finding, text: str, day: date) -> None:
        rectification_report(
            actor=head_of(finding.inspected.department),
            rectification=rect(finding),
            report=text,
            at=at_day(day),
        )

    report(
        "boiler",
        findings_h1["boiler"],
        "已按要求补充材料费明细，列明审批人和收款单位。",
        after(e1, 51),
    )
    rectification_accept(
        actor=supervisor, rectification=rect(findings_h1["boiler"]), at=at_day(after(e1, 56))
    )
    report("turbine", findings_h1["turbine"], "已指定专人每月更新公开栏并拍照留存。", after(e1, 72))
    rectification_accept(
        actor=supervisor, rectification=rect(findings_h1["turbine"]), at=at_day(after(e1, 74))
    )
    report("fuel", findings_h1["fuel"], "已答复全部建议。", after(e1, 46))
    rectification_send_back(
        actor=supervisor,
        rectification=rect(findings_h1["fuel"]),
        reasons="答复情况未在公开栏公开，请补充公开并附照片。",
        at=at_day(after(e1, 49)),
    )
    report("fuel", findings_h1["fuel"], "已在公开栏公开答复情况，附公开栏照片。", after(e1, 59))
    rectification_accept(
        actor=supervisor, rectification=rect(findings_h1["fuel"]), at=at_day(after(e1, 61))
    )
    circular = circular_draft(actor=supervisor, round=first)
    circular_update(
        actor=supervisor,
        circular=circular,
        title=f"关于{half_label(p1)}司务公开监督检查情况的通报",
        number=f"监督通报〔{after(e1, 25).year}〕{p1.index}号",
        sections=circular.sections,
    )
    circular_issue(actor=supervisor, circular=circular, at=at_day(after(e1, 25)))

    # --- The later round: a repeat finding, and rectifications in every open state. -------
    second = round_open(
        actor=supervisor,
        company=company,
        title=f"{half_label(p2)}司务公开监督检查",
        period_start=p2.start,
        period_end=p2.end,
        departments=units,
        checklist=CHECKLIST,
    )
    h2 = inspect(second, units, after(e2, 12), rng, supervisor)
    repeat = finding_record(
        actor=supervisor,
        inspected=h2["boiler"],
        text=f"材料费公开仍未列明审批人，{half_label(p1)}检查指出的问题没有整改到位。",
        severity="serious",
        due_on=after(e2, 40),
        repeat_of=findings_h1["boiler"],
    )  # pending and overdue
    finding_record(
        actor=supervisor,
        inspected=h2["turbine"],
        text="部分事项只公开结果，未公开办事程序。",
        severity="major",
        due_on=today + timedelta(days=20),
    )  # pending, not yet due
    reported = finding_record(
        actor=supervisor,
        inspected=h2["fuel"],
        text="班组公开栏照片未按月上传，夜班职工无法查看。",
        severity="minor",
        due_on=after(e2, 90),
    )
    report("fuel", reported, "已补传全部班组公开栏照片，并建立每月上传制度。", after(e2, 50))
    sent_back = finding_record(
        actor=supervisor,
        inspected=h2["electric"],
        text="职代会提案办理情况未在部门公开栏公开。",
        severity="major",
        due_on=after(e2, 90),
    )
    report("electric", sent_back, "已公开。", after(e2, 45))
    rectification_send_back(
        actor=supervisor,
        rectification=rect(sent_back),
        reasons="只写“已公开”不够：请说明公开的时间、内容，并附公开栏照片。",
        at=at_day(after(e2, 48)),
    )
    round_close(actor=supervisor, round=second)
    circular_draft(actor=supervisor, round=second)  # a draft for the group to review

    # Opening and closing dates as they happened (these rows are not frozen).
    InspectionRound.objects.filter(pk=first.pk).update(
        opened_at=at_day(after(e1, 1)), closed_at=at_day(after(e1, 20))
    )
    InspectionRound.objects.filter(pk=second.pk).update(
        opened_at=at_day(after(e2, 5)), closed_at=at_day(after(e2, 20))
    )

    accountability_record(
        actor=supervisor,
        person=head_of(repeat.inspected.department),
        measure=Measure.ADMONITION,
        decided_on=after(e2, 55),
        finding=repeat,
        details="对同一问题整改不到位，由监督小组组长进行诫勉谈话，限期整改。",
    )
    return {
        "inspection rounds": 2,
        "findings": Finding.objects.count(),
        "circulars": 2,
        "accountability decisions": 1,
    }
