"""Inspections, rectification, circulars and accountability (gongkai.supervision): services,
policy and the database's own guarantees."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pypdf
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.core.documents import Document, Para
from gongkai.core.documents.pdf import render_pdf
from gongkai.core.documents.word import render_docx
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.disclosure.permissions import can_read_published
from gongkai.notify.models import Notification
from gongkai.policy.rules import Action, can
from gongkai.supervision.accountability import accountability_record
from gongkai.supervision.circulars import (
    circular_document,
    circular_draft,
    circular_issue,
    circular_text,
    circular_update,
)
from gongkai.supervision.models import (
    AccountabilityDecision,
    Answer,
    Circular,
    CircularStatus,
    Finding,
    InspectedDepartment,
    InspectionRound,
    Measure,
    Rectification,
    RectificationStatus,
    RoundStatus,
    Severity,
)
from gongkai.supervision.permissions import (
    accountability_q,
    can_read_circular,
    can_view_accountability,
)
from gongkai.supervision.rectification import (
    Step,
    Timeliness,
    may_take,
    rectification_accept,
    rectification_report,
    rectification_send_back,
    state_of,
)
from gongkai.supervision.selectors import inspection_stats
from gongkai.supervision.services import (
    checklist_update,
    finding_record,
    inspection_record,
    round_close,
    round_open,
)
from tests.conftest import Org

# --- Helpers ---------------------------------------------------------------------------------


def open_round(o: Org, *, title="2026年上半年司务公开监督检查", start=None, end=None, units=None):
    today = timezone.localdate()
    return round_open(
        actor=o["supervisor"],
        company=o.company,
        title=title,
        period_start=start or today - timedelta(days=150),
        period_end=end or today,
        departments=units if units is not None else [o.boiler, o.turbine],
    )


def inspected(round: InspectionRound, unit) -> InspectedDepartment:
    return round.departments.get(department=unit)


def finding_in(o: Org, round=None, *, severity=Severity.MAJOR, due_on=None, repeat_of=None):
    round = round or open_round(o)
    return finding_record(
        actor=o["supervisor"],
        inspected=inspected(round, o.boiler),
        text="锅炉分场公开栏十月未更新，材料费未按月公开。",
        severity=severity,
        due_on=due_on or timezone.localdate() + timedelta(days=30),
        repeat_of=repeat_of,
    )


def rectification_of(o: Org, **kwargs) -> Rectification:
    return finding_in(o, **kwargs).rectification


def closed_round_with_findings(o: Org) -> InspectionRound:
    round = open_round(o)
    today = timezone.localdate()
    for unit in (o.boiler, o.turbine):
        record = inspected(round, unit)
        items = list(round.checklist.all())
        inspection_record(
            actor=o["supervisor"],
            inspected=record,
            inspected_on=today,
            self_report="<p>本半年按目录公开各类事项。</p>",
            representative_notes="职工代表反映材料费公开不够详细。",
            answers={
                item.pk: (Answer.MET if unit == o.turbine or i else Answer.NOT_MET, "")
                for i, item in enumerate(items)
            },
        )
    finding_in(o, round)
    return round_close(actor=o["supervisor"], round=round)


# --- Rounds ----------------------------------------------------------------------------------


def test_supervisor_opens_a_round_with_departments_and_default_checklist(org: Org):
    round = open_round(org)
    assert round.status == RoundStatus.OPEN
    assert {d.department for d in round.departments.all()} == {org.boiler, org.turbine}
    assert round.checklist.count() == 6
    assert AuditEvent.objects.filter(action="inspection.round_opened").count() == 1


def test_a_round_with_no_departments_is_refused_and_nothing_is_created(org: Org):
    with pytest.raises(ServiceError) as error:
        open_round(org, units=[])
    assert error.value.field == "departments"
    assert not InspectionRound.objects.exists()
    assert not AuditEvent.objects.filter(action="inspection.round_opened").exists()


@pytest.mark.parametrize("who", ["union", "leader", "depthead", "employee", "discipline"])
def test_only_the_supervision_group_opens_rounds(org: Org, who: str):
    with pytest.raises(ServiceError):
        round_open(
            actor=org[who],
            company=org.company,
            title="x",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30),
            departments=[org.boiler],
        )
    assert not InspectionRound.objects.exists()


def test_a_round_refuses_another_companys_department_and_a_reversed_period(org: Org):
    with pytest.raises(ServiceError):
        open_round(org, units=[org.other_dept])
    with pytest.raises(ServiceError) as error:
        open_round(org, start=date(2026, 6, 30), end=date(2026, 1, 1))
    assert error.value.field == "period_end"
    with pytest.raises(ServiceError) as error:
        open_round(org, title="   ")
    assert error.value.field == "title"
    assert not InspectionRound.objects.exists()


def test_checklist_is_configurable_and_keeps_answers_of_kept_items(org: Org):
    round = open_round(org)
    first = round.checklist.first()
    inspection_record(
        actor=org["supervisor"],
        inspected=inspected(round, org.boiler),
        inspected_on=timezone.localdate(),
        answers={first.pk: (Answer.MET, "")},
    )
    checklist_update(
        actor=org["supervisor"], round=round, items=[first.text, "班组公开栏照片已上传"]
    )
    assert [i.text for i in round.checklist.all()] == [first.text, "班组公开栏照片已上传"]
    assert inspected(round, org.boiler).answers.get().item_id == first.pk
    with pytest.raises(ServiceError):
        checklist_update(actor=org["supervisor"], round=round, items=["", "  "])


def test_inspection_freezes_compliance_and_satisfaction_at_the_time(org: Org):
    round = open_round(org)
    record = inspection_record(
        actor=org["supervisor"],
        inspected=inspected(round, org.boiler),
        inspected_on=timezone.localdate(),
        self_report="<p>自查报告<script>alert(1)</script></p>",
        representative_notes="代表意见",
    )
    assert record.compliance_snapshot["unit"]["code"] == org.boiler.code
    assert "disclosure" in record.compliance_snapshot
    assert record.board_satisfaction["total"] == 0
    assert "<script>" not in record.self_report
    frozen = record.compliance_snapshot
    # A later change of the inspection does not recompute the frozen figures.
    again = inspection_record(
        actor=org["supervisor"],
        inspected=record,
        inspected_on=timezone.localdate(),
        representative_notes="补充",
    )
    assert again.compliance_snapshot == frozen


def test_inspection_refuses_a_future_date_and_a_closed_round(org: Org):
    round = open_round(org)
    with pytest.raises(ServiceError) as error:
        inspection_record(
            actor=org["supervisor"],
            inspected=inspected(round, org.boiler),
            inspected_on=timezone.localdate() + timedelta(days=1),
        )
    assert error.value.field == "inspected_on"
    reasons = {org.boiler.pk: "停机检修", org.turbine.pk: "停机检修"}
    round_close(actor=org["supervisor"], round=round, reasons=reasons)
    with pytest.raises(ServiceError):
        finding_in(org, round)
    with pytest.raises(ServiceError):
        round_close(actor=org["supervisor"], round=round, reasons=reasons)


# --- Findings and repeat findings ------------------------------------------------------------


def test_a_finding_becomes_a_rectification_for_the_department_head(org: Org):
    finding = finding_in(org)
    rectification = finding.rectification
    assert rectification.status == RectificationStatus.PENDING
    note = Notification.objects.get(user=org["depthead"])
    assert f"/supervision/rectifications/{rectification.pk}/" == note.url
    assert not Notification.objects.filter(user=org["teamlead"]).exists()


def test_a_repeat_finding_must_repeat_an_earlier_round_of_the_same_department(org: Org):
    earlier = open_round(org, title="2025年下半年", start=date(2025, 7, 1), end=date(2025, 12, 31))
    old = finding_in(org, earlier)
    now = open_round(org, title="2026年上半年", start=date(2026, 1, 1))
    repeat = finding_in(org, now, repeat_of=old)
    assert repeat.is_repeat and repeat.repeat_of == old
    turbine_old = finding_record(
        actor=org["supervisor"],
        inspected=inspected(earlier, org.turbine),
        text="汽机问题",
        severity=Severity.MINOR,
    )
    with pytest.raises(ServiceError) as error:
        finding_in(org, now, repeat_of=turbine_old)
    assert error.value.field == "repeat_of"
    with pytest.raises(ServiceError):
        finding_in(org, now, repeat_of=repeat)  # same round


def test_bad_finding_input_changes_nothing(org: Org):
    round = open_round(org)
    for text, severity in (("", Severity.MINOR), ("问题", "catastrophic"), ("x" * 5001, "minor")):
        with pytest.raises(ServiceError):
            finding_record(
                actor=org["supervisor"],
                inspected=inspected(round, org.boiler),
                text=text,
                severity=severity,
            )
    assert not Finding.objects.exists() and not Rectification.objects.exists()


# --- Rectification lifecycle -----------------------------------------------------------------

# persona → may take the step in the state that allows it
LIFECYCLE_MATRIX = {
    Step.REPORT: {"depthead"},
    Step.ACCEPT: {"supervisor"},
    Step.SEND_BACK: {"supervisor"},
}
ALL = ("union", "leader", "supervisor", "discipline", "depthead", "teamlead", "rep", "employee")


@pytest.mark.parametrize("step", list(Step))
def test_rectification_step_matrix(org: Org, step: Step):
    rectification = rectification_of(org)
    if step != Step.REPORT:
        rectification = rectification_report(
            actor=org["depthead"], rectification=rectification, report="已更新公开栏"
        )
    for who in (*ALL, "turbine_worker", "outsider"):
        assert may_take(org[who], rectification, step) == (who in LIFECYCLE_MATRIX[step]), who


@pytest.mark.parametrize("who", [p for p in ALL if p != "depthead"])
def test_only_the_department_head_reports(org: Org, who: str):
    rectification = rectification_of(org)
    with pytest.raises(ServiceError):
        rectification_report(actor=org[who], rectification=rectification, report="做了")
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.PENDING and not rectification.report


@pytest.mark.parametrize("who", [p for p in ALL if p != "supervisor"])
def test_only_the_supervision_group_verifies(org: Org, who: str):
    rectification = rectification_report(
        actor=org["depthead"], rectification=rectification_of(org), report="已整改"
    )
    with pytest.raises(ServiceError):
        rectification_accept(actor=org[who], rectification=rectification)
    with pytest.raises(ServiceError):
        rectification_send_back(actor=org[who], rectification=rectification, reasons="不行")
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.REPORTED


def test_full_lifecycle_report_send_back_report_accept(org: Org):
    rectification = rectification_of(org)
    rectification = rectification_report(
        actor=org["depthead"], rectification=rectification, report="已补发十月材料费公开"
    )
    assert rectification.status == RectificationStatus.REPORTED
    assert Notification.objects.filter(user=org["supervisor"]).exists()
    with pytest.raises(ServiceError) as error:
        rectification_send_back(actor=org["supervisor"], rectification=rectification, reasons=" ")
    assert error.value.field == "reasons"
    rectification = rectification_send_back(
        actor=org["supervisor"], rectification=rectification, reasons="缺少公开栏照片"
    )
    assert rectification.status == RectificationStatus.SENT_BACK
    assert rectification.times_sent_back == 1
    with pytest.raises(ServiceError):
        rectification_accept(actor=org["supervisor"], rectification=rectification)
    rectification = rectification_report(
        actor=org["depthead"], rectification=rectification, report="已补充照片"
    )
    rectification = rectification_accept(actor=org["supervisor"], rectification=rectification)
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.ACCEPTED
    assert rectification.verified_by == org["supervisor"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="rectification.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "rectification.report",
        "rectification.send_back",
        "rectification.report",
        "rectification.accept",
    ]
    with pytest.raises(ServiceError):
        rectification_report(actor=org["depthead"], rectification=rectification, report="再")


def test_verifying_ones_own_rectification_is_refused(org: Org):
    """A supervisor who is also the department's head reports; they may not verify it."""
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant

    role_grant(actor=None, user=org["supervisor"], role=Role.UNIT_HEAD, unit=org.boiler)
    rectification = rectification_of(org)
    rectification = rectification_report(
        actor=org["supervisor"], rectification=rectification, report="我自己整改了"
    )
    assert not may_take(org["supervisor"], rectification, Step.ACCEPT)
    with pytest.raises(ServiceError) as error:
        rectification_accept(actor=org["supervisor"], rectification=rectification)
    assert "verify" in error.value.message or "核" in error.value.message
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.REPORTED


def test_report_needs_text_and_a_real_file(org: Org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rectification = rectification_of(org)
    with pytest.raises(ServiceError) as error:
        rectification_report(actor=org["depthead"], rectification=rectification, report="  ")
    assert error.value.field == "report"
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image", "image/jpeg")
    with pytest.raises(ServiceError):
        rectification_report(
            actor=org["depthead"], rectification=rectification, report="有", evidence=fake
        )
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.PENDING and not rectification.evidence


def test_report_with_a_pdf_evidence_file(org: Org, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    data = render_pdf(Document("证据", []))
    rectification = rectification_report(
        actor=org["depthead"],
        rectification=rectification_of(org),
        report="见附件",
        evidence=SimpleUploadedFile("证据.pdf", data, "application/pdf"),
    )
    assert rectification.evidence_content_type == "application/pdf"
    assert rectification.evidence_name.endswith(".pdf")


def test_overdue_is_derived_from_the_dates(org: Org):
    today = timezone.localdate()
    rectification = rectification_of(org, due_on=today - timedelta(days=1))
    assert state_of(rectification, today) == Timeliness.OVERDUE
    assert state_of(rectification, today - timedelta(days=2)) == Timeliness.OPEN
    rectification = rectification_report(
        actor=org["depthead"], rectification=rectification, report="晚了"
    )
    assert state_of(rectification, today) == Timeliness.LATE
    on_time = rectification_of(org, due_on=today + timedelta(days=3))
    on_time = rectification_report(actor=org["depthead"], rectification=on_time, report="按时")
    assert state_of(on_time, today + timedelta(days=10)) == Timeliness.ON_TIME


def test_inspection_stats_per_department(org: Org):
    today = timezone.localdate()
    earlier = open_round(org, title="上一轮", start=date(2025, 7, 1), end=date(2025, 12, 31))
    old = finding_in(org, earlier, severity=Severity.MINOR)
    round = open_round(org, start=date(2026, 1, 1))
    finding_in(org, round, severity=Severity.SERIOUS, repeat_of=old)
    late = finding_in(org, round, due_on=today - timedelta(days=5)).rectification
    accepted = finding_in(org, round).rectification
    rectification_report(actor=org["depthead"], rectification=accepted, report="好")
    rectification_accept(actor=org["supervisor"], rectification=accepted)
    stats = inspection_stats([org.company.path], date(2026, 1, 1), today)
    boiler = stats[org.boiler.pk]
    assert (boiler.findings, boiler.serious, boiler.major, boiler.minor) == (3, 1, 2, 0)
    assert boiler.repeats == 1
    assert (boiler.on_time, boiler.overdue, boiler.open, boiler.accepted) == (1, 1, 1, 1)
    assert stats[org.turbine.pk].findings == 0
    assert late.pk
    assert inspection_stats([org.other_company.path], date(2026, 1, 1), today) == {}


# --- Circulars -------------------------------------------------------------------------------


def test_circular_needs_a_closed_round(org: Org):
    round = open_round(org)
    with pytest.raises(ServiceError):
        circular_draft(actor=org["supervisor"], round=round)
    assert not Circular.objects.exists()


def test_draft_circular_is_generated_from_the_round(org: Org):
    round = closed_round_with_findings(org)
    circular = circular_draft(actor=org["supervisor"], round=round)
    text = "\n".join(circular_text(circular))
    assert org.boiler.name in text and org.turbine.name in text
    assert "锅炉分场公开栏十月未更新" in text
    ranking = circular.sections[4]["table"]["rows"]
    assert [row[1] for row in ranking] == [org.turbine.name, org.boiler.name]
    with pytest.raises(ServiceError):
        circular_draft(actor=org["supervisor"], round=round)  # one draft at a time


def test_issuing_publishes_a_disclosure_to_the_departments(org: Org):
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    issued = circular_issue(actor=org["supervisor"], circular=circular)
    assert issued.status == CircularStatus.ISSUED
    disclosure = issued.disclosure
    assert disclosure.status == DisclosureStatus.PUBLISHED
    assert disclosure.entry.code == "inspection-circular" and disclosure.unit == org.company
    assert disclosure.published_revision is not None
    assert "锅炉分场公开栏十月未更新" in disclosure.published_revision.result
    for who in ("employee", "depthead", "turbine_worker", "rep"):
        assert can_read_published(org[who], disclosure)
        assert can_read_circular(org[who], issued)
    assert not can_read_published(org["outsider"], disclosure)
    assert not can_read_circular(org["outsider"], issued)
    assert Notification.objects.filter(user=org["depthead"], message__contains=issued.title)


def test_drafts_are_for_the_supervision_group_only(org: Org):
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    assert can_read_circular(org["supervisor"], circular)
    for who in ("employee", "depthead", "union", "leader", "outsider"):
        assert not can_read_circular(org[who], circular)
        with pytest.raises(ServiceError):
            circular_issue(actor=org[who], circular=circular)
    assert not Disclosure.objects.filter(entry__code="inspection-circular").exists()


def test_issued_circular_is_immutable_in_service_model_and_database(org: Org):
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    circular = circular_issue(actor=org["supervisor"], circular=circular)
    with pytest.raises(ServiceError):
        circular_update(
            actor=org["supervisor"],
            circular=circular,
            title="改过的标题",
            number="",
            sections=circular.sections,
        )
    with pytest.raises(ServiceError):
        circular_issue(actor=org["supervisor"], circular=circular)
    circular.title = "改过的标题"
    with pytest.raises(ValueError, match="never changed"):
        circular.save()
    with pytest.raises(ValueError, match="never changed"):
        circular.delete()
    with (
        pytest.raises(Exception, match="never changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE supervision_circular SET title = %s WHERE id = %s", ["篡改", circular.pk]
        )
    circular.refresh_from_db()
    assert circular.title != "篡改" and circular.title != "改过的标题"
    with (
        pytest.raises(Exception, match="never changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM supervision_circular WHERE id = %s", [circular.pk])
    assert Circular.objects.filter(pk=circular.pk, status=CircularStatus.ISSUED).exists()


def test_drafts_stay_editable_in_the_database(org: Org):
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE supervision_circular SET title = %s WHERE id = %s", ["草稿", circular.pk]
        )
    circular.refresh_from_db()
    assert circular.title == "草稿"


def test_editing_a_draft_and_bad_input(org: Org):
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    sections = [*circular.sections, {"heading": "七、其他", "paragraphs": ["补充说明"]}]
    circular = circular_update(
        actor=org["supervisor"],
        circular=circular,
        title="关于检查情况的通报",
        number="监督通报〔2026〕1号",
        sections=sections,
    )
    assert circular.sections[-1]["heading"] == "七、其他"
    for title, sections, field in (
        ("", circular.sections, "title"),
        ("标题", [{"heading": "", "paragraphs": []}], "sections"),
        ("标题", [{"heading": "一", "paragraphs": ["长" * 20_001]}], "sections"),
    ):
        with pytest.raises(ServiceError) as error:
            circular_update(
                actor=org["supervisor"],
                circular=circular,
                title=title,
                number="",
                sections=sections,
            )
        assert error.value.field == field
    circular.refresh_from_db()
    assert circular.title == "关于检查情况的通报"


def test_superseding_an_issued_circular(org: Org):
    round = closed_round_with_findings(org)
    first = circular_issue(
        actor=org["supervisor"], circular=circular_draft(actor=org["supervisor"], round=round)
    )
    second = circular_draft(actor=org["supervisor"], round=round, supersedes=first)
    assert second.supersedes == first and second.sections == first.sections
    with pytest.raises(ServiceError) as error:
        circular_issue(actor=org["supervisor"], circular=second)
    assert error.value.field == "supersede_reason"
    circular_update(
        actor=org["supervisor"],
        circular=second,
        title=second.title,
        number=second.number,
        sections=second.sections,
        supersede_reason="更正汽机分场排名数据",
    )
    second = circular_issue(actor=org["supervisor"], circular=second)
    assert first.superseded_by.get() == second
    assert "更正汽机分场排名数据" in second.disclosure.procedure
    with pytest.raises(ServiceError):
        circular_draft(actor=org["supervisor"], round=round, supersedes=first)
    # The database refuses a second issued circular superseding the same one.
    third = Circular.objects.create(
        round=round, title="x", sections=second.sections, supersedes=first
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Circular.objects.filter(pk=third.pk).update(status=CircularStatus.ISSUED)


def test_circular_pdf_renders_the_chinese_text(org: Org):
    round = closed_round_with_findings(org)
    circular = circular_issue(
        actor=org["supervisor"], circular=circular_draft(actor=org["supervisor"], round=round)
    )
    data = render_pdf(circular_document(circular))
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    extracted = "".join(page.extract_text() for page in reader.pages)
    # Page numbers ("— 2 —") stand between the pages' text, sometimes inside a sentence.
    flat = re.sub(r"—\d+—", "", "".join(extracted.split()))
    for line in circular_text(circular):
        assert "".join(line.split()) in flat, line
    assert reader.metadata.title == circular.title
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("GongkaiSans" in name or "Noto" in name for name in fonts), fonts


def test_rare_characters_fall_back_and_still_extract():
    data = render_pdf(Document("生僻字", [Para("职工龑先生与䶮女士反映情况。")]))
    text = "".join(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "职工龑先生与䶮女士反映情况。" in text


def test_circular_docx_carries_the_text(org: Org):
    import docx

    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    document = docx.Document(io.BytesIO(render_docx(circular_document(circular))))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert circular.title in text
    assert org.boiler.name in cells


# --- Accountability --------------------------------------------------------------------------


def record_decision(o: Org, **kwargs) -> AccountabilityDecision:
    fields = {
        "actor": o["supervisor"],
        "person": o["depthead"],
        "measure": Measure.CRITICISM,
        "decided_on": timezone.localdate(),
        "cause": "材料费连续两个月未公开",
    } | kwargs
    return accountability_record(**fields)


def test_accountability_decision_is_recorded_and_audited(org: Org):
    finding = finding_in(org)
    decision = record_decision(org, finding=finding, cause="")
    assert decision.unit == org.boiler and decision.finding == finding
    event = AuditEvent.objects.get(action="accountability.recorded")
    assert event.after["person"] == "depthead"
    assert Notification.objects.filter(user=org["depthead"], url__contains="accountability")


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("supervisor", True),
        ("discipline", True),
        ("leader", True),
        ("union", True),
        ("depthead", True),  # the person concerned
        ("teamlead", False),
        ("rep", False),
        ("employee", False),
        ("turbine_worker", False),
        ("outsider", False),
    ],
)
def test_accountability_visibility(org: Org, who: str, sees: bool):
    decision = record_decision(org)
    assert can_view_accountability(org[who], decision) == sees
    visible = AccountabilityDecision.objects.filter(accountability_q(org[who]))
    assert (decision in visible) == sees


def test_accountability_bad_input_changes_nothing(org: Org):
    for kwargs in (
        {"cause": ""},
        {"measure": "execution"},
        {"decided_on": timezone.localdate() + timedelta(days=1)},
        {"actor": org["leader"]},
        {"actor": org["discipline"]},
        {"person": org["outsider"]},
    ):
        with pytest.raises(ServiceError):
            record_decision(org, **kwargs)
    assert not AccountabilityDecision.objects.exists()


POLICY_MATRIX = {
    Action.INSPECTION_MANAGE: {"supervisor"},
    Action.RECTIFICATION_REPORT: {"depthead"},
    Action.RECTIFICATION_VERIFY: {"supervisor"},
    Action.ACCOUNTABILITY_RECORD: {"supervisor"},
    Action.ACCOUNTABILITY_VIEW: {"supervisor", "discipline", "leader", "union"},
}


@pytest.mark.parametrize("action", list(POLICY_MATRIX))
def test_policy_matrix_on_the_boiler_department(org: Org, action: Action):
    for who in (*ALL, "turbine_worker", "outsider"):
        assert can(org[who], action, org.boiler) == (who in POLICY_MATRIX[action]), who


@pytest.mark.django_db(transaction=True)
def test_two_verifiers_racing_one_wins(org: Org):
    """Accept and send back at the same moment: the conditional UPDATE lets exactly one
    through, and only that one is audited."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite serialises writers)")
    import threading

    from django.db import connections

    from gongkai.org.models import Role
    from gongkai.org.services import role_grant
    from tests.factories import UserFactory

    second = UserFactory(employee_no="supervisor2", unit=org.union_dept)
    role_grant(actor=None, user=second, role=Role.SUPERVISION, unit=org.company)
    rectification = rectification_report(
        actor=org["depthead"], rectification=rectification_of(org), report="已整改"
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def verify(who: str) -> None:
        try:
            barrier.wait()
            current = Rectification.objects.get(pk=rectification.pk)
            actor = org["supervisor"] if who == "supervisor" else second
            if who == "supervisor":
                rectification_accept(actor=actor, rectification=current)
            else:
                rectification_send_back(actor=actor, rectification=current, reasons="不行")
            outcomes.append("ok")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=verify, args=(w,)) for w in ("supervisor", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    verified = AuditEvent.objects.filter(
        action__in=["rectification.accept", "rectification.send_back"]
    )
    assert verified.count() == 1
    rectification.refresh_from_db()
    assert rectification.status in (RectificationStatus.ACCEPTED, RectificationStatus.SENT_BACK)
