"""Anonymous reporting (举报): nothing links a report to its sender; only discipline
inspectors read reports; receipt codes open their own report only."""

from __future__ import annotations

import io
import logging
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from gongkai.audit.models import AuditEvent
from gongkai.core import limits
from gongkai.core.errors import ServiceError
from gongkai.notify.models import Notification
from gongkai.policy.rules import Action, can
from gongkai.reporting import receipts, release, tokens
from gongkai.reporting.board import section
from gongkai.reporting.models import (
    Evidence,
    HeldSubmission,
    Report,
    ReportingChannel,
    ReportMessage,
    ReportSource,
    SpentToken,
)
from gongkai.reporting.services import (
    BODY_MAX,
    Filed,
    channel_save,
    report_add_information,
    report_enter,
    report_find,
    report_mark_duplicate,
    report_reply,
    report_submit,
    report_transition,
)
from gongkai.reporting.tasks import release_due
from tests.conftest import PERSONAS, Org
from tests.test_attachments import jpeg_with_gps_and_orientation

IP = "203.0.113.77"
UA = "DistinctiveAgent/9.9 (whistle)"
SUBJECT = "食堂采购虚报"
BODY = "二〇二六年十月食堂采购单价高于市场价三成。"
CODE_RE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    limits.store().clear()
    yield
    cache.clear()
    limits.store().clear()


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def form(**extra):
    """The report form as the page sends it, with a fresh one-time token."""
    return {
        "company": "rd",
        "subject": SUBJECT,
        "body": BODY,
        tokens.FIELD: tokens.issue(),
        **extra,
    }


def deliver() -> release.Released:
    """What the release task does at the start of each window (here: everything held now)."""
    return release.deliver(everything=True)


def code_in(response) -> str:
    found = CODE_RE.findall(response.content.decode())
    assert len(found) == 1, "the receipt code is shown exactly once"
    return found[0]


def sent(org: Org, subject: str = SUBJECT, body: str = BODY, **kwargs) -> Filed:
    """A report sent online and released to the inspectors: (report, code)."""
    code = report_submit(company=org.company, subject=subject, body=body, **kwargs).code
    deliver()
    report = report_find(code=code)
    assert report is not None
    return Filed(report=report, code=code)


def filed(org: Org, subject: str = SUBJECT) -> Filed:
    return sent(org, subject)


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())


# --- Submission: what is kept --------------------------------------------------------------


def test_anonymous_reporter_gets_a_code_once_and_no_session_cookie(org: Org, client: Client):
    page = client.get(reverse("reporting:submit"))
    assert page.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in page.cookies
    response = client.post(reverse("reporting:submit"), form())
    assert response.status_code == 200
    code = code_in(response)
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert "messages" not in response.cookies
    assert not Session.objects.exists()
    assert not Report.objects.exists() and HeldSubmission.objects.count() == 1  # held
    deliver()
    assert not HeldSubmission.objects.exists()
    report = Report.objects.get()
    assert (report.subject, report.body, report.status) == (SUBJECT, BODY, "received")
    assert report.source == ReportSource.ONLINE
    assert report.receipt_digest == receipts.digest(code)
    stored = str(list(Report.objects.values_list()))
    assert code not in stored and code.replace("-", "") not in stored
    # Grouped 20 characters of base32 = 100 bits.
    assert len(code.replace("-", "")) == receipts.LENGTH and receipts.LENGTH * 5 >= 80


def test_a_report_has_no_field_that_could_hold_who_or_when():
    names = {f.name for f in Report._meta.get_fields()}
    assert names == {
        "id", "company", "source", "subject", "body", "status", "summary", "received_on",
        "updated_on", "concluded_on", "receipt_digest", "duplicate_of", "messages", "evidence",
    }  # fmt: skip
    # The holding table: a box, two digests and the end of the release window.
    held = {f.name for f in HeldSubmission._meta.get_fields()}
    assert held == {"id", "lookup", "token", "release_after", "box"}
    assert {f.name for f in SpentToken._meta.get_fields()} == {"digest", "expires_on"}
    for model in (Report, ReportMessage, Evidence):
        for f in model._meta.concrete_fields:
            assert f.get_internal_type() != "DateTimeField", (model, f.name)


@pytest.mark.parametrize("debug_sql", [False, True], ids=["logs", "logs+sql"])
def test_a_signed_in_reporter_leaves_no_trace(org: Org, login, caplog, debug_sql: bool):
    employee = org["employee"]
    client = login(employee, Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA))
    session_before = list(Session.objects.values_list("session_key", "session_data"))
    audit_before = AuditEvent.objects.count()
    notes_before = Notification.objects.count()
    client.get(reverse("reporting:submit"))
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "django.security"):
        caplog.set_level(logging.DEBUG, logger=name)
    connection.force_debug_cursor = debug_sql
    try:
        response = client.post(
            reverse("reporting:submit"),
            form(evidence=[SimpleUploadedFile("张三的材料.jpg", jpeg_with_gps_and_orientation())]),
        )
    finally:
        connection.force_debug_cursor = False
    assert response.status_code == 200
    held = " ".join(str(v) for v in HeldSubmission.objects.values().get().values())
    deliver()
    report = Report.objects.get()
    forbidden = {IP, UA, employee.employee_no, employee.name, "张三"}
    for needle in (*forbidden, SUBJECT, BODY):
        assert needle not in held  # the held row: a sealed box and digests
    row = " ".join(str(v) for v in Report.objects.values().get().values())
    evidence = Evidence.objects.values("content_type", "extension", "size", "sha256").get()
    for needle in forbidden:
        assert needle not in row
        assert needle not in str(evidence)
    assert not any(f.name in ("user", "author", "ip", "user_agent") for f in Report._meta.fields)
    # Every log line of the submission: nothing about the person, their address or browser.
    lines = [f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records]
    if debug_sql:
        assert any("reporting_heldsubmission" in line for line in lines), "SQL was captured"
        assert not any("reporting_report" in line for line in lines), "held, not filed"
        assert not any("accounts_user" in line for line in lines), "the user was not loaded"
        assert not any("django_session" in line for line in lines), "the session was not read"
    for line in lines:
        for needle in forbidden:
            assert needle not in line
        assert f"'user_id': {employee.pk}" not in line
    # Nothing new in the audit log, the notifications or the sessions.
    assert AuditEvent.objects.count() == audit_before
    assert not AuditEvent.objects.filter(target_id=str(report.pk)).exists()
    assert Notification.objects.count() == notes_before
    assert list(Session.objects.values_list("session_key", "session_data")) == session_before
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert employee.name.encode() not in response.content  # the page did not look


def test_a_user_who_must_change_password_can_still_report(org: Org, login):
    employee = org["employee"]
    client = login(employee)
    employee.must_change_password = True
    employee.save(update_fields=["must_change_password"])
    sessions = list(Session.objects.values_list("session_key", "session_data"))
    assert client.get(reverse("reporting:submit")).status_code == 200
    assert client.post(reverse("reporting:submit"), form()).status_code == 200
    assert HeldSubmission.objects.count() == 1
    assert list(Session.objects.values_list("session_key", "session_data")) == sessions
    assert client.get(reverse("home")).status_code == 302  # elsewhere the rule holds


def test_evidence_is_stored_without_metadata_or_file_name(org: Org):
    upload = SimpleUploadedFile("IMG_张三_home.jpg", jpeg_with_gps_and_orientation())
    result = sent(org, uploads=[upload])
    item = Evidence.objects.get(report=result.report)
    data = bytes(item.data)
    with Image.open(io.BytesIO(data)) as image:
        assert len(image.getexif()) == 0
        assert "comment" not in image.info and "icc_profile" not in image.info
    assert b"Canon" not in data and b"taken at home" not in data
    assert item.name == "evidence-1.jpg"
    assert "张三" not in str(Evidence.objects.values("content_type", "extension", "sha256").get())


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (form(subject=""), "subject"),
        (form(body="   "), "body"),
        (form(body="举" * (BODY_MAX + 1)), "body"),
        (form(subject="x" * 201), "subject"),
        (form(evidence=[SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo")]), "evidence"),
        (form(evidence=[SimpleUploadedFile("a.jpg", b"")]), "evidence"),
        (form(company="other-fin"), "company"),
    ],
    ids=["empty-subject", "blank-body", "huge-body", "long-subject", "exe", "empty-file", "dept"],
)
def test_bad_input_is_refused_keeps_the_text_and_changes_nothing(
    org: Org, client: Client, data, field
):
    response = client.post(reverse("reporting:submit"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field invalid"' in html or 'class="errors"' in html
    assert not CODE_RE.search(html)
    assert Report.objects.count() == 0 and Evidence.objects.count() == 0
    assert not HeldSubmission.objects.exists()
    if data["subject"] and field != "subject":
        assert data["subject"] in html  # what was typed is kept


def test_a_huge_upload_is_refused_before_it_is_read(org: Org, client: Client):
    response = client.post(
        reverse("reporting:submit"), form(), CONTENT_LENGTH=str(200 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert Report.objects.count() == 0 and not HeldSubmission.objects.exists()


def test_submissions_are_rate_limited_per_client(org: Org, settings):
    settings.REPORTING_SUBMIT_PER_CLIENT = 2
    one, other = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(2):
        assert one.post(reverse("reporting:submit"), form()).status_code == 200
    refused = one.post(reverse("reporting:submit"), form())
    assert refused.status_code == 429
    assert HeldSubmission.objects.count() == 2
    assert other.post(reverse("reporting:submit"), form()).status_code == 200
    # Nothing in the shared limits store names the address.
    keys = limits.store().keys()
    assert keys and not any("198.51.100" in k for k in keys)


def test_submissions_are_rate_limited_in_all(org: Org, settings):
    settings.REPORTING_SUBMIT_GLOBAL = 3
    for i in range(3):
        assert (
            Client(REMOTE_ADDR=f"198.51.100.{i}")
            .post(reverse("reporting:submit"), form())
            .status_code
            == 200
        )
    assert (
        Client(REMOTE_ADDR="198.51.100.9").post(reverse("reporting:submit"), form()).status_code
        == 429
    )
    assert HeldSubmission.objects.count() == 3


# --- Receipt codes ----------------------------------------------------------------------------


def test_the_code_opens_its_own_report_only(org: Org, client: Client):
    mine = filed(org, "我的举报")
    theirs = filed(org, "别人的举报")
    report_reply(actor=org["discipline"], report=theirs.report, body="仅对另一位举报人的答复")
    response = client.post(reverse("reporting:receipt"), {"code": mine.code})
    html = response.content.decode()
    assert response.status_code == 200
    assert "我的举报" in html
    assert "别人的举报" not in html and "仅对另一位举报人的答复" not in html
    other = client.post(reverse("reporting:receipt"), {"code": theirs.code}).content.decode()
    assert "仅对另一位举报人的答复" in other and "我的举报" not in other
    assert report_find(code=mine.code.lower().replace("-", " ")) == mine.report


def test_the_code_never_appears_in_a_url_or_cookie(org: Org, client: Client):
    result = filed(org)
    response = client.post(reverse("reporting:receipt"), {"code": result.code})
    html = response.content.decode()
    for url in re.findall(r'(?:href|action)="([^"]*)"', html):
        assert result.code not in url
    assert all(result.code not in m.value for m in response.cookies.values())
    assert (
        client.get(reverse("reporting:receipt") + f"?code={result.code}").content.count(
            SUBJECT.encode()
        )
        == 0
    )


@pytest.mark.parametrize(
    "forged",
    ["' OR 1=1 --", "x" * 5000, "", "ZZZZ", "ÄÖÜ-举报-🙂", "0000-0000-0000-0000-000"],
    ids=["sql", "huge", "empty", "short", "unicode", "short-group"],
)
def test_forged_and_wrong_codes_get_the_same_answer(org: Org, client: Client, forged: str):
    real = filed(org)
    wrong = receipts.new_code()
    assert wrong != real.code
    a = client.post(reverse("reporting:receipt"), {"code": wrong})
    b = client.post(reverse("reporting:receipt"), {"code": forged})
    assert a.status_code == b.status_code == 200
    assert without_csrf(a.content) == without_csrf(b.content)
    assert SUBJECT.encode() not in a.content
    english(client)
    assert (
        b"No report matches this code"
        in client.post(reverse("reporting:receipt"), {"code": forged}).content
    )


def test_repeated_wrong_codes_lock_out_the_client(org: Org, settings):
    settings.REPORTING_RECEIPT_FAILURES_PER_CLIENT = 3
    real = filed(org)
    guesser = english(Client(REMOTE_ADDR="198.51.100.66"))
    for _ in range(3):
        assert guesser.post(reverse("reporting:receipt"), {"code": "nope"}).status_code == 200
    locked = guesser.post(reverse("reporting:receipt"), {"code": real.code})
    assert locked.status_code == 429
    assert SUBJECT.encode() not in locked.content
    assert b"Too many wrong receipt codes" in locked.content
    # Another client is not locked out by this one.
    other = Client(REMOTE_ADDR="198.51.100.67")
    assert SUBJECT.encode() in other.post(reverse("reporting:receipt"), {"code": real.code}).content
    # Adding information goes through the same check.
    add = guesser.post(reverse("reporting:receipt_add"), {"code": real.code, "body": "更多"})
    assert add.status_code == 429 and not ReportMessage.objects.exists()


def test_many_wrong_codes_in_all_lock_out_everyone(org: Org, settings):
    settings.REPORTING_RECEIPT_FAILURES_GLOBAL = 4
    real = filed(org)
    for i in range(4):
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(reverse("reporting:receipt"), {"code": "x"})
    response = Client(REMOTE_ADDR="198.51.100.200").post(
        reverse("reporting:receipt"), {"code": real.code}
    )
    assert response.status_code == 429


def test_a_right_code_does_not_count_as_a_failure(org: Org, settings):
    settings.REPORTING_RECEIPT_FAILURES_PER_CLIENT = 2
    real = filed(org)
    client = Client()
    for _ in range(5):
        assert client.post(reverse("reporting:receipt"), {"code": real.code}).status_code == 200


# --- The reporter follows up ------------------------------------------------------------------


def test_the_reporter_adds_information_and_reads_the_answer(org: Org, client: Client):
    result = filed(org)
    response = client.post(
        reverse("reporting:receipt_add"),
        {
            "code": result.code,
            "body": "补充：经手人为采购员。",
            "evidence": [SimpleUploadedFile("x.png", _png())],
            tokens.FIELD: tokens.issue(),
        },
    )
    assert response.status_code == 200
    assert not ReportMessage.objects.exists()  # held until the release, like a report
    assert release.window_end().strftime("%M") in response.content.decode()
    deliver()
    page = client.post(reverse("reporting:receipt"), {"code": result.code}).content.decode()
    assert "补充：经手人为采购员。" in page
    message = ReportMessage.objects.get(report=result.report)
    assert message.side == "reporter"
    assert Evidence.objects.filter(report=result.report).count() == 1
    report_reply(actor=org["discipline"], report=result.report, body="已收到，正在核实。")
    page = client.post(reverse("reporting:receipt"), {"code": result.code}).content.decode()
    assert "已收到，正在核实。" in page
    assert not AuditEvent.objects.filter(action__startswith="report.", actor=None).exists()


def test_adding_nothing_is_refused_and_changes_nothing(org: Org, client: Client):
    result = filed(org)
    response = client.post(reverse("reporting:receipt_add"), {"code": result.code, "body": " "})
    assert response.status_code == 200
    assert b'class="field invalid"' in response.content
    assert not ReportMessage.objects.exists()


def test_nothing_can_be_added_to_a_concluded_report(org: Org):
    result = filed(org)
    report_transition(actor=org["discipline"], report=result.report, to="concluded", summary="属实")
    with pytest.raises(ServiceError):
        report_add_information(report=result.report, body="还有")
    assert not ReportMessage.objects.exists()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, "PNG")
    return out.getvalue()


# --- Inspectors -------------------------------------------------------------------------------

POLICY_MATRIX = [
    (Action.REPORT_HANDLE, "company", {"discipline"}),
    (Action.REPORT_HANDLE, "boiler", {"discipline"}),
    (Action.REPORT_HANDLE, "other_company", set()),
]
CASES = [(a, u, who, who in allowed) for a, u, allowed in POLICY_MATRIX for who in PERSONAS]


@pytest.mark.parametrize(("action", "unit", "who", "allowed"), CASES)
def test_policy_matrix(org: Org, action, unit, who, allowed):
    assert can(org[who], action, getattr(org, unit)) is allowed


@pytest.mark.parametrize("who", [*PERSONAS, "turbine_worker", "outsider"])
def test_only_discipline_inspectors_read_reports(org: Org, login, client: Client, who: str):
    result = filed(org)
    login(org[who])
    detail = client.get(reverse("reporting:detail", args=[result.report.pk]))
    inbox = client.get(reverse("reporting:inbox"))
    if who == "discipline":
        assert detail.status_code == 200 and SUBJECT.encode() in detail.content
        assert inbox.status_code == 200 and SUBJECT.encode() in inbox.content
    else:
        assert detail.status_code == 403 and SUBJECT.encode() not in detail.content
        assert inbox.status_code == 403
        for name in ("transition", "reply"):
            post = client.post(reverse(f"reporting:{name}", args=[result.report.pk]), {})
            assert post.status_code == 403
        assert Report.objects.get().status == "received"


def test_an_inspector_of_another_company_gets_404(org: Org, login, client: Client):
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant
    from tests.factories import UserFactory

    foreign = UserFactory(employee_no="foreign", unit=org.other_dept)
    role_grant(actor=None, user=foreign, role=Role.DISCIPLINE, unit=org.other_company)
    result = filed(org)
    login(foreign)
    assert client.get(reverse("reporting:detail", args=[result.report.pk])).status_code == 404
    assert SUBJECT.encode() not in client.get(reverse("reporting:inbox")).content
    with pytest.raises(ServiceError):
        report_reply(actor=foreign, report=result.report, body="越权")


LIFECYCLE = [
    ("received", "under_review", True),
    ("received", "concluded", True),
    ("under_review", "concluded", True),
    ("under_review", "received", False),
    ("concluded", "under_review", False),
    ("concluded", "received", False),
    ("received", "received", False),
]


@pytest.mark.parametrize(("start", "to", "allowed"), LIFECYCLE)
def test_status_lifecycle(org: Org, start: str, to: str, allowed: bool):
    result = filed(org)
    Report.objects.filter(pk=result.report.pk).update(status=start)
    report = Report.objects.get()
    if allowed:
        report_transition(actor=org["discipline"], report=report, to=to, summary="核实属实，已处理")
        assert Report.objects.get().status == to
    else:
        with pytest.raises(ServiceError):
            report_transition(actor=org["discipline"], report=report, to=to, summary="x")
        assert Report.objects.get().status == start


def test_concluding_needs_a_summary_the_reporter_reads(org: Org, login, client: Client):
    result = filed(org)
    login(org["discipline"])
    url = reverse("reporting:transition", args=[result.report.pk])
    refused = client.post(url, {"to": "concluded", "summary": ""})
    assert refused.status_code == 400
    assert Report.objects.get().status == "received"
    asked = client.post(url, {"to": "concluded", "summary": "经查，部分属实，已责令整改。"})
    assert asked.status_code == 200 and b'name="confirm" value="yes"' in asked.content
    assert "经查，部分属实，已责令整改。" in asked.content.decode()
    assert Report.objects.get().status == "received"  # nothing happens before confirming
    ok = client.post(
        url, {"to": "concluded", "summary": "经查，部分属实，已责令整改。", "confirm": "yes"}
    )
    assert ok.status_code == 302
    report = Report.objects.get()
    assert report.status == "concluded" and report.concluded_on is not None
    page = Client().post(reverse("reporting:receipt"), {"code": result.code}).content.decode()
    assert "经查，部分属实，已责令整改。" in page
    event = AuditEvent.objects.get(action="report.status_changed")
    assert event.actor == org["discipline"]
    assert event.after == {"status": "concluded"}
    # The audit log (read by others) carries no content of the report.
    for e in AuditEvent.objects.filter(action__startswith="report."):
        text = f"{e.target_label} {e.before} {e.after}"
        assert SUBJECT not in text and BODY not in text and "整改" not in text


def test_inspector_replies_are_audited_with_the_inspector(org: Org, login, client: Client):
    result = filed(org)
    login(org["discipline"])
    url = reverse("reporting:reply", args=[result.report.pk])
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "请补充时间地点"}).status_code == 302
    assert ReportMessage.objects.get().side == "inspectors"
    assert AuditEvent.objects.get(action="report.replied").actor == org["discipline"]


def test_inspector_enters_a_hotline_report_with_a_code_to_hand_over(
    org: Org, login, client: Client
):
    login(org["discipline"])
    assert client.get(reverse("reporting:enter")).status_code == 200
    response = client.post(
        reverse("reporting:enter"),
        {
            "company": "rd",
            "source": "hotline",
            "subject": "电话举报",
            "body": "来电反映加班费未发",
            tokens.FIELD: tokens.issue(),
        },
    )
    assert response.status_code == 200
    code = code_in(response)
    report = Report.objects.get()
    assert report.source == ReportSource.HOTLINE
    assert report_find(code=code) == report
    event = AuditEvent.objects.get(action="report.entered")
    assert event.actor == org["discipline"] and event.after == {"source": "hotline"}
    # The online channel is not for inspectors to pick here.
    bad = client.post(
        reverse("reporting:enter"),
        {
            "company": "rd",
            "source": "online",
            "subject": "s",
            "body": "b",
            **{tokens.FIELD: tokens.issue()},
        },
    )
    assert bad.status_code == 400 and Report.objects.count() == 1


def test_others_cannot_enter_reports(org: Org):
    with pytest.raises(ServiceError):
        report_enter(
            actor=org["supervisor"],
            company=org.company,
            source="hotline",
            subject="s",
            body="b",
        )
    assert not Report.objects.exists()


def test_inbox_filters_and_paginates(org: Org, login, client: Client):
    for i in range(27):
        filed(org, f"举报{i:02d}")
    first = Report.objects.order_by("id").first()
    report_transition(actor=org["discipline"], report=first, to="under_review")
    login(org["discipline"])
    page1 = client.get(reverse("reporting:inbox"))
    assert page1.content.count(b'class="badge report-') == 25
    page2 = client.get(reverse("reporting:inbox") + "?page=2")
    assert page2.content.count(b'class="badge report-') == 2
    review = client.get(reverse("reporting:inbox") + "?status=under_review")
    assert review.content.count(b'class="badge report-') == 1


def test_inspector_downloads_evidence_under_a_generic_name(org: Org, login, client: Client):
    upload = SimpleUploadedFile("张三.png", _png())
    result = sent(org, subject="s", body="b", uploads=[upload])
    item = Evidence.objects.get()
    login(org["discipline"])
    response = client.get(reverse("reporting:evidence", args=[result.report.pk, item.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="evidence-1.png"'
    assert response.content == bytes(item.data)
    other = login(org["supervisor"], Client())
    assert (
        other.get(reverse("reporting:evidence", args=[result.report.pk, item.pk])).status_code
        == 403
    )


# --- The channel: hotline and address on /report/ and every board ------------------------------


def test_the_hotline_shows_on_the_report_page_and_every_board(
    org: Org, login, client: Client, django_assert_max_num_queries
):
    login(org["discipline"])
    response = client.post(
        reverse("reporting:channel"),
        {"company": "rd", "hotline": "0311-8888 1234", "postal_address": "纪委信箱 100号"},
    )
    assert response.status_code == 302
    channel = ReportingChannel.objects.get(company=org.company)
    assert AuditEvent.objects.get(action="report.channel_changed").actor == org["discipline"]
    assert b"0311-8888 1234" in Client().get(reverse("reporting:submit")).content
    board = client.get(reverse("boards:board", args=[org.boiler_team.code]))
    assert b"0311-8888 1234" in board.content and reverse("reporting:submit").encode() in (
        board.content
    )
    section(unit=org.boiler_team, user=None)
    with django_assert_max_num_queries(0):
        box = section(unit=org.turbine_team, user=None)
    assert box is not None and box.context["channel"]["hotline"] == channel.hotline
    assert reverse("reporting:inbox").encode() in board.content  # the inspector's way in
    other = login(org["employee"], Client()).get(reverse("boards:board", args=[org.boiler.code]))
    assert reverse("reporting:inbox").encode() not in other.content
    channel_save(
        actor=org["discipline"],
        company=org.company,
        hotline="12388",
        postal_address="纪委信箱 100号",
    )
    assert b"12388" in client.get(reverse("boards:board", args=[org.boiler.code])).content


def test_only_inspectors_edit_the_channel(org: Org, login, client: Client):
    login(org["union"])
    assert client.get(reverse("reporting:channel")).status_code == 403
    post = client.post(
        reverse("reporting:channel"), {"company": "rd", "hotline": "1", "postal_address": "a"}
    )
    assert post.status_code == 403
    assert not ReportingChannel.objects.exists()


# --- Headers on every page ----------------------------------------------------------------------

PAGES = [
    ("reporting:submit", "get", None),
    ("reporting:submit", "post", None),
    ("reporting:receipt", "get", None),
    ("reporting:receipt", "post", None),
    ("reporting:receipt_add", "get", None),
    ("reporting:receipt_add", "post", None),
    ("reporting:language", "post", None),
    ("reporting:inbox", "get", "discipline"),
    ("reporting:inbox", "get", "employee"),
    ("reporting:inbox", "get", None),
    ("reporting:enter", "get", "discipline"),
    ("reporting:channel", "get", "discipline"),
    ("reporting:detail", "get", "discipline"),
    ("reporting:detail", "get", "union"),
    ("reporting:transition", "get", "discipline"),
    ("reporting:reply", "post", "discipline"),
    ("reporting:duplicate", "post", "discipline"),
    ("reporting:duplicate", "post", "employee"),
    ("reporting:evidence", "get", "discipline"),
]


@pytest.mark.parametrize(("name", "method", "who"), PAGES)
def test_every_reporting_page_is_no_store_and_no_referrer(
    org: Org, login, client: Client, name: str, method: str, who: str | None
):
    result = sent(org, subject="s", body="b", uploads=[SimpleUploadedFile("a.png", _png())])
    args: list = []
    if name in (
        "reporting:detail",
        "reporting:transition",
        "reporting:reply",
        "reporting:duplicate",
    ):
        args = [result.report.pk]
    if name == "reporting:evidence":
        args = [result.report.pk, Evidence.objects.get().pk]
    if who:
        login(org[who])
    url = reverse(name, args=args)
    response = getattr(client, method)(url, {"code": result.code} if method == "post" else {})
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    if who is None:
        assert settings.SESSION_COOKIE_NAME not in response.cookies


# --- Demo -----------------------------------------------------------------------------------


def test_demo_reports_open_with_their_documented_codes(org: Org, client: Client):
    from gongkai.demo.reporting import DEMO_CODES, seed

    assert seed() == {"reports": 3, "reporting channels": 1}
    statuses = dict(Report.objects.values_list("source", "status").filter(source="hotline"))
    assert statuses == {"hotline": "received"}
    concluded = client.post(reverse("reporting:receipt"), {"code": DEMO_CODES["concluded"]})
    assert "反映问题属实" in concluded.content.decode()
    review = client.post(reverse("reporting:receipt"), {"code": DEMO_CODES["under_review"]})
    assert "拆分" in review.content.decode()
    assert b"0311-8666 1234" in client.get(reverse("reporting:submit")).content


# --- CSRF with Referrer-Policy: no-referrer ----------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "with_token", "accepted"),
    [
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "same-origin"}, True, True),
        ({"HTTP_ORIGIN": "http://testserver"}, True, True),
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "cross-site"}, True, False),
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "same-site"}, True, False),
        ({"HTTP_ORIGIN": "https://evil.example"}, True, False),
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "same-origin"}, False, False),
        ({"HTTP_ORIGIN": "null", "secure": True}, True, False),
    ],
    ids=["null-same-origin", "own-origin", "cross-site", "same-site", "evil", "no-token", "https"],
)
def test_csrf_accepts_a_null_origin_only_from_this_site(
    org: Org, csrf_client: Client, headers: dict, with_token: bool, accepted: bool
):
    csrf_client.get(reverse("reporting:submit"))
    token = csrf_client.cookies[settings.CSRF_COOKIE_NAME].value if with_token else ""
    response = csrf_client.post(
        reverse("reporting:submit"), form(csrfmiddlewaretoken=token), **headers
    )
    assert (response.status_code == 200) is accepted
    assert HeldSubmission.objects.count() == (1 if accepted else 0)


@pytest.fixture
def org_tx(transactional_db):
    from gongkai.org.models import UnitKind
    from tests.factories import make_unit

    class Company:
        company = make_unit("示范热电有限责任公司", UnitKind.COMPANY, code="rd")

    return Company


def test_inbox_query_count_does_not_grow_with_reports(org: Org, login, client: Client):
    login(org["discipline"])
    filed(org)
    client.get(reverse("reporting:inbox"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reporting:inbox"))
    for i in range(20):
        filed(org, f"举报{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("reporting:inbox"))
    assert len(many) == len(few) <= 12


def test_the_language_switch_of_the_reporting_pages_sets_only_the_language(client: Client):
    response = client.post(
        reverse("reporting:language"), {"language": "en", "next": reverse("reporting:receipt")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("reporting:receipt")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert response["Referrer-Policy"] == "no-referrer"


# --- One report per form: the one-time submission token ---------------------------------------

TOKEN_RE = re.compile(r'name="submission" value="([^"]+)"')


def token_in(response) -> str:
    found = TOKEN_RE.findall(response.content.decode())
    assert len(found) == 1
    return found[0]


def test_sending_the_same_form_twice_files_one_report(org: Org, client: Client):
    english(client)
    data = {**form(), tokens.FIELD: token_in(client.get(reverse("reporting:submit")))}
    first = client.post(reverse("reporting:submit"), data)
    assert first.status_code == 200
    code = code_in(first)
    # The browser refreshes the page that shows the code: it sends the same form again.
    again = client.post(reverse("reporting:submit"), data)
    assert again.status_code == 409
    assert not CODE_RE.search(again.content.decode())  # no new code, and not the old one
    assert b"This form was sent already" in again.content
    assert HeldSubmission.objects.count() == 1
    # Still refused after the release (the token is remembered, not the report).
    deliver()
    later = client.post(reverse("reporting:submit"), data)
    assert later.status_code == 409 and not CODE_RE.search(later.content.decode())
    assert Report.objects.count() == 1 and not HeldSubmission.objects.exists()
    assert report_find(code=code) == Report.objects.get()
    # The token is remembered only as a keyed digest, by the release; not linked to the report.
    spent = SpentToken.objects.get()
    assert spent.digest == tokens.digest_of(data[tokens.FIELD])
    assert data[tokens.FIELD] not in spent.digest
    assert spent.digest not in str(list(Report.objects.values_list()))


@pytest.mark.parametrize("token", ["missing", "", "forged", "tampered", "expired"])
def test_a_missing_forged_or_expired_token_is_refused_and_nothing_is_stored(
    org: Org, client: Client, settings, token: str
):
    english(client)
    valid = tokens.issue()
    data = form()
    if token == "missing":
        del data[tokens.FIELD]
    elif token == "forged":
        data[tokens.FIELD] = "x" * 30 + ":1abcde:" + "y" * 43
    elif token == "tampered":
        data[tokens.FIELD] = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    elif token == "expired":
        data[tokens.FIELD] = valid
        settings.REPORTING_FORM_TOKEN_MAX_AGE = -1
    else:
        data[tokens.FIELD] = token
    response = client.post(reverse("reporting:submit"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This form has expired or did not come from this site" in html
    assert not CODE_RE.search(html)
    assert SUBJECT in html and BODY in html  # what was typed is kept
    assert token_in(response) not in (data.get(tokens.FIELD), "")  # a fresh token to send it
    assert not HeldSubmission.objects.exists() and not Report.objects.exists()
    assert not SpentToken.objects.exists()


def test_showing_the_form_stores_nothing_and_each_form_gets_its_own_token(
    org: Org, login, client: Client
):
    login(org["employee"])
    sessions = list(Session.objects.values_list("session_key", "session_data"))
    first = token_in(client.get(reverse("reporting:submit")))
    second = token_in(Client(REMOTE_ADDR=IP).get(reverse("reporting:submit")))
    assert first != second
    assert not HeldSubmission.objects.exists() and not SpentToken.objects.exists()
    assert list(Session.objects.values_list("session_key", "session_data")) == sessions
    for value in (IP, org["employee"].employee_no, org["employee"].name):
        assert value not in first and value not in second


def test_the_same_addition_sent_twice_is_added_once(org: Org, client: Client):
    english(client)
    result = filed(org)
    page = client.post(reverse("reporting:receipt"), {"code": result.code})
    data = {"code": result.code, "body": "补充一次", tokens.FIELD: token_in(page)}
    assert client.post(reverse("reporting:receipt_add"), data).status_code == 200
    again = client.post(reverse("reporting:receipt_add"), data)
    assert again.status_code == 409 and b"sent already" in again.content
    deliver()
    assert client.post(reverse("reporting:receipt_add"), data).status_code == 409
    assert list(ReportMessage.objects.values_list("body", flat=True)) == ["补充一次"]


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_files_one_report(org):
    import threading

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite admits one writer)")
    token = tokens.issue()
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def send() -> None:
        try:
            barrier.wait()
            report_submit(company=org.company, subject=SUBJECT, body=BODY, token=token)
            outcomes.append("filed")
        except tokens.AlreadySent:
            outcomes.append("already")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 5 + ["filed"]
    assert HeldSubmission.objects.count() == 1


# --- Duplicates ---------------------------------------------------------------------------------


def test_an_inspector_marks_a_duplicate_and_the_reporter_sees_it(org: Org, login, client: Client):
    earlier = filed(org, "食堂采购虚报（第一次）")
    later = filed(org, "食堂采购虚报（第二次）")
    login(org["discipline"])
    detail = client.get(reverse("reporting:detail", args=[later.report.pk]))
    assert reverse("reporting:duplicate", args=[later.report.pk]).encode() in detail.content
    url = reverse("reporting:duplicate", args=[later.report.pk])
    assert client.post(url, {"of": earlier.report.reference.lower()}).status_code == 302
    later.report.refresh_from_db()
    assert later.report.duplicate_of == earlier.report
    event = AuditEvent.objects.get(action="report.duplicate_marked")
    assert event.actor == org["discipline"]
    assert (event.before, event.after) == (
        {"duplicate_of": ""},
        {"duplicate_of": earlier.report.reference},
    )
    assert "食堂" not in f"{event.target_label} {event.before} {event.after}"
    page = client.get(reverse("reporting:detail", args=[earlier.report.pk])).content.decode()
    assert later.report.reference in page  # listed as a duplicate of the earlier one
    # The reporter of the later report sees it with the code.
    reporter = english(Client())
    status = reporter.post(reverse("reporting:receipt"), {"code": later.code}).content.decode()
    assert f"Duplicate of report {earlier.report.reference}" in status
    assert "第一次" not in status  # not the other report's content
    other = reporter.post(reverse("reporting:receipt"), {"code": earlier.code}).content.decode()
    assert "Duplicate of report" not in other
    # Removing the mark is audited too.
    assert client.post(url, {"of": ""}).status_code == 302
    later.report.refresh_from_db()
    assert later.report.duplicate_of is None
    assert AuditEvent.objects.filter(action="report.duplicate_marked").count() == 2


@pytest.mark.parametrize(
    ("of", "message"),
    [
        ("nonsense", "8 characters"),
        ("00000000", "No other report of this company"),
        ("self", "No other report of this company"),
        ("cycle", "itself a duplicate of this one"),
        ("foreign", "No other report of this company"),
    ],
)
def test_a_wrong_duplicate_reference_is_refused(
    org: Org, login, client: Client, of: str, message: str
):
    first, second = filed(org, "一"), filed(org, "二")
    references = {
        "self": second.report.reference,
        "cycle": first.report.reference,
    }
    if of == "cycle":
        report_mark_duplicate(
            actor=org["discipline"], report=first.report, of=second.report.reference
        )
    if of == "foreign":
        foreign = Report.objects.create(
            company=org.other_company,
            subject="别家",
            body="b",
            received_on=first.report.received_on,
            updated_on=first.report.received_on,
            receipt_digest="f" * 64,
        )
        references["foreign"] = foreign.reference
    login(org["discipline"])
    english(client)
    response = client.post(
        reverse("reporting:duplicate", args=[second.report.pk]), {"of": references.get(of, of)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    second.report.refresh_from_db()
    assert second.report.duplicate_of is None


@pytest.mark.parametrize("who", [*PERSONAS, "outsider", "foreign"])
def test_only_discipline_inspectors_mark_duplicates(org: Org, login, client: Client, who: str):
    earlier, later = filed(org, "一"), filed(org, "二")
    url = reverse("reporting:duplicate", args=[later.report.pk])
    if who == "foreign":
        from gongkai.org.models import Role
        from gongkai.org.services import role_grant
        from tests.factories import UserFactory

        user = UserFactory(employee_no="foreign", unit=org.other_dept)
        role_grant(actor=None, user=user, role=Role.DISCIPLINE, unit=org.other_company)
    else:
        user = org[who]
    login(user)
    response = client.post(url, {"of": earlier.report.reference})
    later.report.refresh_from_db()
    if who == "discipline":
        assert response.status_code == 302 and later.report.duplicate_of == earlier.report
        return
    assert response.status_code == (404 if who == "foreign" else 403)
    assert later.report.duplicate_of is None
    assert not AuditEvent.objects.filter(action="report.duplicate_marked").exists()
    with pytest.raises(ServiceError):
        report_mark_duplicate(actor=user, report=later.report, of=earlier.report.reference)


def test_anonymous_visitors_cannot_mark_duplicates(org: Org, client: Client):
    earlier, later = filed(org, "一"), filed(org, "二")
    url = reverse("reporting:duplicate", args=[later.report.pk])
    assert client.post(url, {"of": earlier.report.reference}).status_code == 302
    later.report.refresh_from_db()
    assert later.report.duplicate_of is None


# --- Held until the release: what the reporter sees, and the order --------------------------------


def test_a_held_report_opens_with_its_code_and_takes_additions(org: Org, client: Client):
    english(client)
    code = report_submit(company=org.company, subject=SUBJECT, body=BODY).code
    page = client.post(reverse("reporting:receipt"), {"code": code})
    html = page.content.decode()
    assert page.status_code == 200 and SUBJECT in html and "Waiting for delivery" in html
    add = client.post(
        reverse("reporting:receipt_add"),
        {"code": code, "body": "再补充", tokens.FIELD: token_in(page)},
    )
    assert add.status_code == 200 and b"reaches the inspectors at" in add.content
    assert HeldSubmission.objects.count() == 2 and not Report.objects.exists()
    assert deliver().reports == 1
    report = Report.objects.get()
    assert list(report.messages.values_list("body", flat=True)) == ["再补充"]
    assert (
        "Waiting for delivery"
        not in client.post(reverse("reporting:receipt"), {"code": code}).content.decode()
    )


def test_reports_wait_for_the_end_of_their_window(org: Org, login, client: Client, settings):
    from datetime import timedelta

    settings.REPORTING_RELEASE_SECONDS = 3600
    report_submit(company=org.company, subject=SUBJECT, body=BODY)
    held = HeldSubmission.objects.get()
    end = held.release_after
    assert end.minute == end.second == 0 and end.microsecond == 0  # on the hour
    assert release.deliver(now=end - timedelta(seconds=1)).reports == 0
    assert not Report.objects.exists()
    assert release.deliver(now=end).reports == 1
    assert Report.objects.count() == 1 and not HeldSubmission.objects.exists()
    # Opening the inbox releases nothing, even when a report is due: the queue's task does,
    # at the start of the next window.
    report_submit(company=org.company, subject="第二件", body=BODY)
    due = HeldSubmission.objects.get().release_after
    login(org["discipline"])
    inbox = reverse("reporting:inbox")
    with time_machine.travel(due + timedelta(seconds=30), tick=False):
        assert "第二件" not in client.get(inbox).content.decode()
        assert HeldSubmission.objects.count() == 1 and Report.objects.count() == 1
        release.deliver()  # what the task runs (tests/test_periodic_tasks.py runs the task)
        assert "第二件" in client.get(inbox).content.decode()


INBOX = "2026-12-02 14:25 +0800"


@pytest.mark.parametrize(
    ("seconds", "says"),
    [
        (3600, "Reports sent since 14:00 reach this inbox at about 15:00."),
        (900, "Reports sent since 14:15 reach this inbox at about 14:30."),
        (0, "Reports sent online reach this inbox within a minute or two."),
    ],
)
def test_the_inbox_says_when_the_reports_sent_now_arrive(
    org: Org, login, client: Client, settings, seconds: int, says: str
):
    settings.REPORTING_RELEASE_SECONDS = seconds
    english(client)
    login(org["discipline"])
    with time_machine.travel(INBOX, tick=False):
        page = client.get(reverse("reporting:inbox")).content.decode()
    assert says in page
    assert "are late" not in page and "failed" not in page


@pytest.mark.django_db(transaction=True)  # the task checkpoints SQLite's log: no transaction
def test_the_inbox_says_when_the_last_release_failed_and_releases_nothing_itself(
    org: Org, login, client: Client, settings, monkeypatch
):
    from django.db import DatabaseError

    from gongkai.notify.models import TaskFailure

    settings.REPORTING_RELEASE_SECONDS = 3600
    settings.HOLDING_RETRY_PAUSE_SECONDS = 0
    with time_machine.travel("2026-12-02 13:40 +0800", tick=False):
        report_submit(company=org.company, subject=SUBJECT, body=BODY)
    english(client)
    login(org["discipline"])
    inbox = reverse("reporting:inbox")

    def failing(**kwargs):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(release, "release", failing)
    with time_machine.travel("2026-12-02 14:00:20 +0800", tick=False):
        release_due()  # the queue runs it, it fails, the queue records the failure
    assert TaskFailure.objects.filter(task__contains="release_due").count() == 1
    warning = (
        "The last delivery of reports sent online to this inbox failed, at 14:00. They are "
        "kept safe and delivered by the next run, at about 15:00"
    )
    with time_machine.travel("2026-12-02 14:35 +0800", tick=False):
        page = client.get(inbox).content.decode()
    assert warning in page and "are late" not in page
    assert SUBJECT not in page and HeldSubmission.objects.count() == 1
    assert "disk I/O" not in page  # the error is for the union office's failed-tasks page
    # The next window's run delivers; the failure of the window before is no longer news.
    monkeypatch.undo()
    with time_machine.travel("2026-12-02 15:00:20 +0800", tick=False):
        release_due()
        page = client.get(inbox).content.decode()
    assert SUBJECT in page and "failed" not in page and "are late" not in page
    assert not HeldSubmission.objects.exists()


def test_the_inbox_says_when_reports_are_late(org: Org, login, client: Client, settings):
    """The release task did not run (a stopped worker): nothing failed, yet a box is due."""
    settings.REPORTING_RELEASE_SECONDS = 3600
    with time_machine.travel("2026-12-02 13:40 +0800", tick=False):
        report_submit(company=org.company, subject=SUBJECT, body=BODY)
    english(client)
    login(org["discipline"])
    inbox = reverse("reporting:inbox")
    with time_machine.travel("2026-12-02 14:05 +0800", tick=False):  # the run may be under way
        assert "are late" not in client.get(inbox).content.decode()
    with time_machine.travel("2026-12-02 14:15 +0800", tick=False):
        page = client.get(inbox).content.decode()
    assert "Some reports sent online are late" in page and "at about 15:00" in page
    assert SUBJECT not in page and HeldSubmission.objects.count() == 1


def test_a_windows_reports_are_written_in_a_random_order(org: Org):
    subjects = [f"举报{i:02d}" for i in range(12)]
    for subject in subjects:
        report_submit(company=org.company, subject=subject, body=BODY)
    deliver()
    column = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT subject FROM reporting_report ORDER BY {column}")  # noqa: S608
        physical = [row[0] for row in cursor.fetchall()]
    assert sorted(physical) == subjects
    assert physical != subjects  # 1 chance in 12! of failing by luck
    by_id = list(Report.objects.order_by("id").values_list("subject", flat=True))
    assert by_id != subjects


# --- Every row version on PostgreSQL's pages (pageinspect) --------------------------------------
#
# The attack of the security issue: a signed-in reporter's report written by their own
# transaction sits, by transaction id, next to their own session and account rows. Read the
# pages — dead row versions included — right after sending, after the release, and after a
# release that failed and was retried.

REPORT_TABLES = (
    "reporting_report",
    "reporting_reportmessage",
    "reporting_evidence",
    "reporting_spenttoken",
    "reporting_heldsubmission",
)


def signed_in_sender(user, subject: str, *, evidence: bytes | None = None) -> str:
    """``user`` signs in (their session row and user row are written) and sends a report
    from the page; returns the receipt code."""
    from tests.factories import PASSWORD

    client = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    signed_in = client.post(
        "/accounts/login/", {"username": user.employee_no, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    page = client.get(reverse("reporting:submit"))
    data = {**form(subject=subject), tokens.FIELD: token_in(page)}
    if evidence is not None:
        data["evidence"] = [SimpleUploadedFile("张三.png", evidence)]
    response = client.post(reverse("reporting:submit"), data)
    assert response.status_code == 200
    return code_in(response)


def readable(text: str) -> list[bytes]:
    return [text.encode(), text[:6].encode()]


def assert_held_only(subjects: list[str]) -> set[int]:
    """Right after sending: only held boxes, nothing readable, nothing in the report tables.
    Returns the senders' transaction ids (the held rows' xmin)."""
    from tests import pageinspect

    held = [v for v in pageinspect.versions("reporting_heldsubmission") if v.has_data]
    assert len(held) == len(subjects)
    content = pageinspect.bytes_of("reporting_heldsubmission")
    for needle in [*readable(BODY), *(n for s in subjects for n in readable(s))]:
        assert needle not in content
    for table in ("reporting_report", "reporting_reportmessage", "reporting_evidence"):
        assert pageinspect.all_versions(table) == [], table
    return {v.xmin for v in held if v.xmin}


def assert_released_unlinkably(senders: set[int], reports: int) -> int:
    """After the release: no version of a box is left; every row version of the report
    tables carries the release's transaction id, which is on no page of the person tables;
    no sender's transaction id is on any page of the report tables. Returns the release's."""
    from tests import pageinspect

    assert pageinspect.all_versions("reporting_heldsubmission") == []
    written = [
        v
        for table in ("reporting_report", "reporting_evidence")
        for v in pageinspect.all_versions(table)
        if v.has_data
    ]
    assert len([v for v in pageinspect.versions("reporting_report") if v.has_data]) == reports
    releasers = {v.xmin for v in written}
    assert len(releasers) == 1
    (releaser,) = releasers
    # Never updated or deleted since (a report row is only key-share locked by the release's
    # own evidence rows).
    assert all(v.xmax in (None, 0, releaser) for v in written)
    assert releaser not in senders
    assert releaser not in pageinspect.stamps(pageinspect.PERSON_TABLES)
    assert not senders & pageinspect.stamps(REPORT_TABLES)
    return releaser


@pytest.mark.django_db(transaction=True)
def test_no_row_version_links_a_report_to_its_signed_in_sender(org):
    from tests import pageinspect

    pageinspect.enable()
    codes = [
        signed_in_sender(org["employee"], "第一件", evidence=_png()),
        signed_in_sender(org["turbine_worker"], "第二件"),
    ]
    senders = assert_held_only(["第一件", "第二件"])
    # The sender's transaction wrote the box only: not their session, not their user row.
    assert not senders & pageinspect.stamps(pageinspect.PERSON_TABLES)

    # The timer, at the end of the window: both reports in one release.
    call_command_at(HeldSubmission.objects.order_by("release_after").last().release_after)
    releaser = assert_released_unlinkably(senders, reports=2)
    assert {r.subject for r in Report.objects.all()} == {"第一件", "第二件"}
    assert Evidence.objects.count() == 1

    # An addition from the first reporter: held, then released the same way.
    client = Client()
    page = client.post(reverse("reporting:receipt"), {"code": codes[0]})
    added = client.post(
        reverse("reporting:receipt_add"),
        {"code": codes[0], "body": "补充材料一份", tokens.FIELD: token_in(page)},
    )
    assert added.status_code == 200
    later = assert_held_only_additions("补充材料一份")
    call_command_at(HeldSubmission.objects.get().release_after)
    message = pageinspect.versions("reporting_reportmessage")
    assert len(message) == 1 and message[0].xmin not in later | senders | {releaser}
    assert message[0].xmin not in pageinspect.stamps(pageinspect.PERSON_TABLES)
    assert pageinspect.all_versions("reporting_heldsubmission") == []


def assert_held_only_additions(text: str) -> set[int]:
    from tests import pageinspect

    held = [v for v in pageinspect.versions("reporting_heldsubmission") if v.has_data]
    assert len(held) == 1
    assert text.encode() not in pageinspect.bytes_of("reporting_heldsubmission")
    return {v.xmin for v in held if v.xmin}


def call_command_at(moment) -> str:
    """``manage.py reporting_release`` as the timer runs it, at ``moment`` (window end)."""
    import time_machine
    from django.core.management import call_command

    out = io.StringIO()
    with time_machine.travel(moment, tick=True):
        call_command("reporting_release", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_failed_release_is_logged_shown_and_retried_and_links_nothing_meanwhile(
    org, settings, caplog
):
    import psycopg
    import time_machine
    from django.core.management import CommandError

    from tests import pageinspect

    pageinspect.enable()
    settings.HOLDING_LOCK_TIMEOUT_MS = 200
    settings.HOLDING_ATTEMPTS = 2
    settings.HOLDING_RETRY_PAUSE_SECONDS = 0
    caplog.set_level(logging.WARNING)
    signed_in_sender(org["employee"], "第一件")
    senders = assert_held_only(["第一件"])
    due = HeldSubmission.objects.get().release_after
    params = connection.get_connection_params()
    blocker = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )
    blocker.execute("SELECT count(*) FROM reporting_heldsubmission").fetchone()
    try:
        with pytest.raises(CommandError, match="The release failed"):
            call_command_at(due)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors and "Releasing the held reports failed" in errors[0].getMessage()
        assert "55P03" in errors[0].getMessage()
        for record in caplog.records:
            assert "第一件" not in record.getMessage() and BODY not in record.getMessage()
        assert assert_held_only(["第一件"]) == senders  # meanwhile: still a box only
        # The release task fails the same way: the queue records the failure, and the
        # inspectors' inbox shows it from that record (the page itself releases nothing).
        inspector = english(Client())
        inspector.force_login(org["discipline"])
        with time_machine.travel(due, tick=True):
            release_due()
            inbox = inspector.get(reverse("reporting:inbox")).content.decode()
        assert "The last delivery of reports sent online to this inbox failed" in inbox
        assert not Report.objects.exists()
        assert assert_held_only(["第一件"]) == senders
    finally:
        blocker.close()
    assert "Released 1 reports" in call_command_at(due)
    assert_released_unlinkably(senders, reports=1)
