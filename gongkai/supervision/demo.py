"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures: last year's
two inspection rounds (first and second half) of six departments, with findings (one a repeat
of the first half's), rectifications in every state (pending, overdue, reported, accepted,
sent back), the first half's circular issued and published as a disclosure, the second half's
circular as a draft to review, and an accountability decision for the repeat finding.

Deterministic; past steps are entered with the services' ``at`` (the way records from the
paper files would be entered), so the audit log and the derived states stay consistent.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, Role, RoleAssignment
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

CHECKLIST = [
    "公开栏当月内更新",
    "既公开办事程序，又公开办事结果",
    "职工意见建议按期答复",
    "目录规定事项按时公开",
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


def at_day(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


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
        done[unit.code.split("-")[-1]] = inspection_record(
            actor=actor,
            inspected=record,
            inspected_on=day,
            self_report=rng.choice(REPORTS),
            representative_notes=rng.choice(NOTES),
            answers=answers,
        )
    return done


def seed() -> dict[str, int]:
    rng = random.Random(20251231)  # noqa: S311 - demo data
    today = timezone.localdate()
    year = today.year - 1
    company = OrgUnit.objects.get(code="rd")
    supervisor = User.objects.get(employee_no="supervisor")
    units = [OrgUnit.objects.get(code=f"rd-{code}") for code in DEPARTMENTS]

    def clamp(day: date) -> date:
        return min(day, today)

    # --- First half: every finding rectified; the circular issued. ------------------------
    first = round_open(
        actor=supervisor,
        company=company,
        title=f"{year}年上半年司务公开监督检查",
        period_start=date(year, 1, 1),
        period_end=date(year, 6, 30),
        departments=units,
        checklist=CHECKLIST,
    )
    h1 = inspect(first, units, clamp(date(year, 7, 10)), rng, supervisor)
    found_h1 = {
        "boiler": ("材料费公开明细不全，未列明审批人和收款单位。", "major"),
        "turbine": ("汽机检修班公开栏连续两个月未更新。", "minor"),
        "fuel": ("职工合理化建议未在规定期限内答复。", "major"),
    }
    due_h1 = date(year, 8, 31)
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
            at=at_day(clamp(day)),
        )

    report(
        "boiler",
        findings_h1["boiler"],
        "已按要求补充材料费明细，列明审批人和收款单位。",
        date(year, 8, 20),
    )
    rectification_accept(
        actor=supervisor,
        rectification=rect(findings_h1["boiler"]),
        at=at_day(clamp(date(year, 8, 25))),
    )
    report(
        "turbine", findings_h1["turbine"], "已指定专人每月更新公开栏并拍照留存。", date(year, 9, 10)
    )
    rectification_accept(
        actor=supervisor,
        rectification=rect(findings_h1["turbine"]),
        at=at_day(clamp(date(year, 9, 12))),
    )
    report("fuel", findings_h1["fuel"], "已答复全部建议。", date(year, 8, 15))
    rectification_send_back(
        actor=supervisor,
        rectification=rect(findings_h1["fuel"]),
        reasons="答复情况未在公开栏公开，请补充公开并附照片。",
        at=at_day(clamp(date(year, 8, 18))),
    )
    report("fuel", findings_h1["fuel"], "已在公开栏公开答复情况，附公开栏照片。", date(year, 8, 28))
    rectification_accept(
        actor=supervisor,
        rectification=rect(findings_h1["fuel"]),
        at=at_day(clamp(date(year, 8, 30))),
    )
    circular = circular_draft(actor=supervisor, round=first)
    circular_update(
        actor=supervisor,
        circular=circular,
        title=f"关于{year}年上半年司务公开监督检查情况的通报",
        number=f"监督通报〔{year}〕1号",
        sections=circular.sections,
    )
    circular_issue(actor=supervisor, circular=circular, at=at_day(clamp(date(year, 7, 25))))

    # --- Second half: a repeat finding, and rectifications in every open state. ------------
    second = round_open(
        actor=supervisor,
        company=company,
        title=f"{year}年下半年司务公开监督检查",
        period_start=date(year, 7, 1),
        period_end=date(year, 12, 31),
        departments=units,
        checklist=CHECKLIST,
    )
    h2 = inspect(second, units, clamp(date(year + 1, 1, 12)), rng, supervisor)
    repeat = finding_record(
        actor=supervisor,
        inspected=h2["boiler"],
        text="材料费公开仍未列明审批人，上半年检查指出的问题没有整改到位。",
        severity="serious",
        due_on=clamp(date(year + 1, 2, 28)),
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
        due_on=clamp(date(year + 1, 3, 31)),
    )
    report(
        "fuel", reported, "已补传全部班组公开栏照片，并建立每月上传制度。", date(year + 1, 3, 20)
    )
    sent_back = finding_record(
        actor=supervisor,
        inspected=h2["electric"],
        text="职代会提案办理情况未在部门公开栏公开。",
        severity="major",
        due_on=clamp(date(year + 1, 3, 31)),
    )
    report("electric", sent_back, "已公开。", date(year + 1, 3, 15))
    rectification_send_back(
        actor=supervisor,
        rectification=rect(sent_back),
        reasons="只写“已公开”不够：请说明公开的时间、内容，并附公开栏照片。",
        at=at_day(clamp(date(year + 1, 3, 18))),
    )
    round_close(actor=supervisor, round=second)
    circular_draft(actor=supervisor, round=second)  # a draft for the group to review

    # Opening and closing dates as they happened (these rows are not frozen).
    InspectionRound.objects.filter(pk=first.pk).update(
        opened_at=at_day(clamp(date(year, 7, 1))), closed_at=at_day(clamp(date(year, 7, 20)))
    )
    InspectionRound.objects.filter(pk=second.pk).update(
        opened_at=at_day(clamp(date(year + 1, 1, 5))),
        closed_at=at_day(clamp(date(year + 1, 1, 20))),
    )

    accountability_record(
        actor=supervisor,
        person=head_of(repeat.inspected.department),
        measure=Measure.ADMONITION,
        decided_on=clamp(date(year + 1, 3, 5)),
        finding=repeat,
        details="对同一问题整改不到位，由监督小组组长进行诫勉谈话，限期整改。",
    )
    return {
        "inspection rounds": 2,
        "findings": Finding.objects.count(),
        "circulars": 2,
        "accountability decisions": 1,
    }
