"""The supervision pages: forms keep input and show clear errors, steps go through the
services, overdue and repeat findings stand out, and downloads are real documents."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdf
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.supervision.models import (
    AccountabilityDecision,
    Circular,
    CircularStatus,
    InspectionRound,
    Rectification,
    RectificationStatus,
)
from gongkai.supervision.services import finding_record, round_close
from tests.conftest import Org
from tests.test_supervision import (
    closed_round_with_findings,
    finding_in,
    inspected,
    open_round,
    rectification_of,
)

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_open_a_round_through_the_form(org: Org, login, en):
    login(org["supervisor"])
    page = en.get(reverse("supervision:round_create"))
    assert page.status_code == 200
    assert org.boiler.name in page.content.decode()
    response = en.post(
        reverse("supervision:round_create"),
        {
            "company": org.company.pk,
            "title": "2026年上半年",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "departments": [org.boiler.pk, org.turbine.pk],
            "checklist": "公开栏当月更新\n程序和结果均公开\n",
        },
    )
    round = InspectionRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:round_detail", args=[round.pk])
    assert [i.text for i in round.checklist.all()] == ["公开栏当月更新", "程序和结果均公开"]


def test_a_round_without_departments_shows_the_error_and_keeps_the_input(org: Org, login, en):
    login(org["supervisor"])
    response = en.post(
        reverse("supervision:round_create"),
        {
            "company": org.company.pk,
            "title": "2026年上半年检查",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "checklist": "公开栏当月更新",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose at least one department" in body
    assert "2026年上半年检查" in body
    assert not InspectionRound.objects.exists()


def test_record_inspection_and_finding_through_the_pages(org: Org, login, en):
    round = open_round(org)
    record = inspected(round, org.boiler)
    item = round.checklist.first()
    login(org["supervisor"])
    response = en.post(
        reverse("supervision:inspection_edit", args=[record.pk]),
        {
            "inspected_on": timezone.localdate().isoformat(),
            "self_report": "本期按目录公开",
            "representative_notes": "代表反映公开栏更新不及时",
            f"answer_{item.pk}": "not_met",
            f"note_{item.pk}": "十月未更新",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.compliance_snapshot is not None
    assert record.answers.get().note == "十月未更新"
    bad = en.post(
        reverse("supervision:finding_create", args=[record.pk]),
        {"text": "", "severity": "major", "due_on": "2026-12-31"},
    )
    assert bad.status_code == 400
    response = en.post(
        reverse("supervision:finding_create", args=[record.pk]),
        {"text": "公开栏十月未更新", "severity": "major", "due_on": "2026-12-31"},
    )
    assert response.status_code == 302
    page = en.get(reverse("supervision:inspection_detail", args=[record.pk]))
    assert "公开栏十月未更新" in page.content.decode()


def test_self_report_upload_refuses_a_disguised_file(org: Org, login, en, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    record = inspected(open_round(org), org.boiler)
    login(org["supervisor"])
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 an executable", "application/pdf")
    response = en.post(
        reverse("supervision:inspection_file", args=[record.pk]), {"file": fake}, follow=True
    )
    assert response.status_code == 200
    record.refresh_from_db()
    assert not record.self_report_file


def test_head_reports_and_supervisor_sends_back_then_accepts(org: Org, login, en):
    rectification = rectification_of(org)
    url = reverse("supervision:rectification_detail", args=[rectification.pk])
    login(org["depthead"])
    page = en.get(url)
    assert b"Report what was done" in page.content
    empty = en.post(reverse("supervision:rectification_report", args=[rectification.pk]), {})
    assert empty.status_code == 400
    response = en.post(
        reverse("supervision:rectification_report", args=[rectification.pk]),
        {"report": "已补发十月公开"},
    )
    assert response.status_code == 302
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["supervisor"])
    response = en.post(
        reverse("supervision:rectification_verify", args=[rectification.pk]),
        {"decision": "send_back", "reasons": ""},
    )
    assert response.status_code == 400
    assert b"Give the reasons" in response.content
    en.post(
        reverse("supervision:rectification_verify", args=[rectification.pk]),
        {"decision": "send_back", "reasons": "缺照片"},
    )
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.SENT_BACK
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["depthead"])
    page = en.get(url)
    assert "缺照片" in page.content.decode()
    en.post(
        reverse("supervision:rectification_report", args=[rectification.pk]),
        {"report": "已补充照片"},
    )
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["supervisor"])
    en.post(
        reverse("supervision:rectification_verify", args=[rectification.pk]),
        {"decision": "accept"},
    )
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.ACCEPTED


def test_posting_a_step_one_may_not_take_changes_nothing(org: Org, login, en):
    rectification = rectification_of(org)
    login(org["employee"])
    response = en.post(
        reverse("supervision:rectification_report", args=[rectification.pk]),
        {"report": "我来报"},
    )
    assert response.status_code == 403
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["depthead"])
    response = en.post(
        reverse("supervision:rectification_verify", args=[rectification.pk]),
        {"decision": "accept"},
        follow=True,
    )
    assert response.status_code == 200
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.PENDING


def test_a_supervisor_who_reported_sees_why_they_cannot_verify(org: Org, login, en):
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant

    role_grant(actor=None, user=org["supervisor"], role=Role.UNIT_HEAD, unit=org.boiler)
    rectification = rectification_of(org)
    login(org["supervisor"])
    en.post(
        reverse("supervision:rectification_report", args=[rectification.pk]),
        {"report": "自己整改"},
    )
    page = en.get(reverse("supervision:rectification_detail", args=[rectification.pk]))
    assert b"another member of the supervision group must verify it" in page.content
    response = en.post(
        reverse("supervision:rectification_verify", args=[rectification.pk]),
        {"decision": "accept"},
        follow=True,
    )
    assert b"someone else must verify it" in response.content
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.REPORTED


def test_overdue_and_repeat_findings_stand_out_on_my_rectifications(org: Org, login, en):
    earlier = open_round(org, title="2025年下半年", start=date(2025, 7, 1), end=date(2025, 12, 31))
    old = finding_in(org, earlier)
    now = open_round(org, title="2026年上半年", start=date(2026, 1, 1))
    finding_in(org, now, repeat_of=old, due_on=timezone.localdate() + timedelta(days=10))
    finding_record(
        actor=org["supervisor"],
        inspected=inspected(now, org.boiler),
        text="逾期未整改的问题",
        severity="serious",
        due_on=timezone.localdate() - timedelta(days=3),
    )
    login(org["depthead"])
    page = en.get(reverse("supervision:rectification_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count('class="is-overdue') == 1
    assert body.count("Repeat finding") == 1
    assert "逾期未整改的问题" in body
    open_only = en.get(reverse("supervision:rectification_list") + "?status=accepted")
    assert "逾期未整改的问题" not in open_only.content.decode()


def test_list_pages_use_a_fixed_number_of_queries(
    org: Org, login, client, django_assert_max_num_queries
):
    round = open_round(org)
    for i in range(5):
        finding_record(
            actor=org["supervisor"],
            inspected=inspected(round, org.boiler),
            text=f"问题{i}",
            severity="minor",
        )
    login(org["supervisor"])
    with django_assert_max_num_queries(14):
        assert client.get(reverse("supervision:rectification_list")).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("supervision:round_detail", args=[round.pk])).status_code == 200


def download_through_job(client, url: str, capture):
    """Press a document button: it starts a background job (run at once in tests) and goes to
    the job's page, which offers the download."""
    with capture(execute=True):
        response = client.post(url)  # the page's button
    assert response.status_code == 302 and response.url.startswith("/jobs/")
    page = client.get(response.url)
    assert page.status_code == 200
    download = client.get(response.url + "download/")
    assert download.status_code == 200
    return download


def test_circular_draft_edit_issue_and_download(
    org: Org, login, en, django_capture_on_commit_callbacks
):
    round = closed_round_with_findings(org)
    login(org["supervisor"])
    response = en.post(reverse("supervision:circular_create", args=[round.pk]))
    circular = Circular.objects.get()
    assert response["Location"] == reverse("supervision:circular_edit", args=[circular.pk])
    form = en.get(response["Location"])
    assert form.status_code == 200
    data = {"number": "监督通报〔2026〕1号", "title": "关于2026年上半年检查情况的通报"}
    for i, section in enumerate(circular.sections):
        data[f"heading_{i}"] = section["heading"]
        data[f"text_{i}"] = "\n\n".join(section["paragraphs"])
    data[f"heading_{len(circular.sections)}"] = "七、附则"
    data[f"text_{len(circular.sections)}"] = "本通报自印发之日起执行。"
    response = en.post(reverse("supervision:circular_edit", args=[circular.pk]), data)
    assert response.status_code == 302
    circular.refresh_from_db()
    assert circular.sections[-1]["paragraphs"] == ["本通报自印发之日起执行。"]
    confirm = en.get(reverse("supervision:circular_issue", args=[circular.pk]))
    assert b"can never be changed again" in confirm.content
    en.post(reverse("supervision:circular_issue", args=[circular.pk]))
    circular.refresh_from_db()
    assert circular.status == CircularStatus.ISSUED
    edit = en.get(reverse("supervision:circular_edit", args=[circular.pk]), follow=True)
    assert b"cannot be changed" in edit.content
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["employee"])
    capture = django_capture_on_commit_callbacks
    pdf = download_through_job(en, reverse("supervision:circular_pdf", args=[circular.pk]), capture)
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(
        "".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "本通报自印发之日起执行。" in text and "关于2026年上半年检查情况的通报" in text
    docx = download_through_job(
        en, reverse("supervision:circular_docx", args=[circular.pk]), capture
    )
    assert docx.content[:2] == b"PK"
    board = en.get(reverse("disclosure:detail", args=[circular.disclosure_id]))
    assert board.status_code == 200 and "本通报自印发之日起执行。" in board.content.decode()


def test_draft_circular_cannot_be_drafted_for_an_open_round(org: Org, login, en):
    round = open_round(org)
    login(org["supervisor"])
    response = en.post(reverse("supervision:circular_create", args=[round.pk]), follow=True)
    assert b"Close the round" in response.content
    assert not Circular.objects.exists()
    round_close(
        actor=org["supervisor"],
        round=round,
        reasons={org.boiler.pk: "停机检修", org.turbine.pk: "停机检修"},
    )


def test_accountability_form_and_visibility(org: Org, login, en):
    finding = finding_in(org)
    login(org["supervisor"])
    bad = en.post(
        reverse("supervision:accountability_create"),
        {"employee_no": "nobody", "measure": "criticism", "decided_on": "2026-01-05"},
    )
    assert bad.status_code == 400 and b"No person has this employee number" in bad.content
    no_cause = en.post(
        reverse("supervision:accountability_create"),
        {"employee_no": "depthead", "measure": "criticism", "decided_on": "2026-01-05"},
    )
    assert no_cause.status_code == 400
    assert not AccountabilityDecision.objects.exists()
    response = en.post(
        reverse("supervision:accountability_create"),
        {
            "employee_no": "depthead",
            "finding": finding.pk,
            "measure": "criticism",
            "decided_on": timezone.localdate().isoformat(),
        },
    )
    decision = AccountabilityDecision.objects.get()
    assert response.status_code == 302
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["depthead"])
    mine = en.get(reverse("supervision:accountability_list"))
    assert reverse("supervision:accountability_detail", args=[decision.pk]) in mine.content.decode()
    en.logout()  # forgets every cookie, the language too
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(org["employee"])
    theirs = en.get(reverse("supervision:accountability_list"))
    assert reverse("supervision:accountability_detail", args=[decision.pk]) not in (
        theirs.content.decode()
    )
    assert (
        en.get(reverse("supervision:accountability_detail", args=[decision.pk])).status_code == 404
    )


def test_rectification_evidence_download(org: Org, login, client, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongkai.core.documents import Document
    from gongkai.core.documents.pdf import render_pdf
    from gongkai.supervision.rectification import rectification_report

    settings.MEDIA_ROOT = tmp_path
    rectification = rectification_report(
        actor=org["depthead"],
        rectification=rectification_of(org),
        report="见附件",
        evidence=SimpleUploadedFile(
            "证据.pdf", render_pdf(Document("证据", [])), "application/pdf"
        ),
    )
    login(org["supervisor"])
    response = client.get(reverse("supervision:rectification_evidence", args=[rectification.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Rectification.objects.get().evidence_name == "证据.pdf"
