"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures.

The demo company's reporting channel, a concluded report (with its conclusion), one under
review and one that came by the hotline. Receipt codes are normally random and never
stored; the demo ones are fixed (and public, here) so that the walk-through can open them
at /report/receipt/.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.policy.rules import company_of
from gongkai.reporting import receipts, release
from gongkai.reporting.models import Report, ReportMessage, ReportSource, ReportStatus
from gongkai.reporting.services import (
    channel_save,
    report_add_information,
    report_enter,
    report_find,
    report_reply,
    report_submit,
    report_transition,
)

# Drawn once with random.Random(20261124) from the receipt alphabet.
DEMO_CODES = {
    "concluded": "B028-XZAW-VF40-39WJ-1PG4",
    "under_review": "4GAW-MEGG-HQ8N-1K29-1JXS",
    "hotline": "YSVD-MCB7-CZSC-4TAV-RZ6X",
}


def _backdate(report: Report, *, code: str, received: int, changed: int) -> None:
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    Report.objects.filter(pk=report.pk).update(
        receipt_digest=receipts.digest(code),
        received_on=today - timedelta(days=received),
        updated_on=today - timedelta(days=changed),
        concluded_on=(today - timedelta(days=changed))
        if report.status == ReportStatus.CONCLUDED
        else None,
    )
    ReportMessage.objects.filter(report=report).update(written_on=today - timedelta(days=changed))


def _released(code: str) -> Report:
    """A report sent online reaches the inspectors at the release: release it now."""
    release.deliver(everything=True)
    report = report_find(code=code)
    if report is None:  # pragma: no cover - the release just ran
        raise RuntimeError("the demo report was not released")
    return report


def seed() -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    inspector = User.objects.select_related("unit").get(employee_no="discipline")
    company = company_of(inspector.unit) if inspector.unit else None
    if company is None:
        return {}
    channel_save(
        actor=inspector,
        company=company,
        hotline="0311-8666 1234",
        postal_address="示范热电有限责任公司纪委（综合楼 305 室），邮编 050000",
        email="jiwei@example.com",
    )

    sent = report_submit(
        company=company,
        subject="燃料分场煤质化验数据疑似被改",
        body=(
            "今年九月以来，燃料分场入厂煤化验报告上的热值多次在复检前被改高，"
            "与电厂自测数据相差较大。涉及九月十二日、九月二十日两批次来煤。"
        ),
    )
    concluded = _released(sent.code)
    report_add_information(
        report=concluded, body="补充：两批次来煤的供应商相同，化验原始记录本有涂改痕迹。"
    )
    release.deliver(everything=True)
    report_transition(actor=inspector, report=concluded, to=ReportStatus.UNDER_REVIEW)
    report_reply(actor=inspector, report=concluded, body="已收到，纪委已调取两批次的化验原始记录。")
    report_transition(
        actor=inspector,
        report=concluded,
        to=ReportStatus.CONCLUDED,
        summary=(
            "经核查，九月十二日批次化验记录存在违规改动，反映问题属实。已责令燃料分场整改，"
            "对相关责任人给予诫勉谈话，并将两批次煤款按复检结果结算。感谢您的监督。"
        ),
    )
    concluded.refresh_from_db()
    _backdate(concluded, code=DEMO_CODES["concluded"], received=40, changed=12)

    review = _released(
        report_submit(
            company=company,
            subject="检修部外委项目疑似拆分发包规避招标",
            body="检修部十月的三项外委检修合同金额均略低于招标限额，内容高度相近，疑似拆分。",
        ).code
    )
    report_transition(actor=inspector, report=review, to=ReportStatus.UNDER_REVIEW)
    review.refresh_from_db()
    _backdate(review, code=DEMO_CODES["under_review"], received=9, changed=6)

    hotline = report_enter(
        actor=inspector,
        company=company,
        source=ReportSource.HOTLINE,
        subject="电话举报：班组加班费未按规定发放",
        body="来电反映某运行班组十月加班费未按考勤发放，来电人未留姓名。",
    ).report
    if hotline is None:  # pragma: no cover - entered reports are never held
        raise RuntimeError("the hotline report was not entered")
    _backdate(hotline, code=DEMO_CODES["hotline"], received=2, changed=2)
    return {"reports": 3, "reporting channels": 1}
