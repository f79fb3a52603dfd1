"""Anonymous reporting (举报): nothing links a report to its sender; only discipline
inspectors read reports; receipt codes open their own report only."""

from __future__ import annotations

import io
import logging
import re

import pytest
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
from gongkai.core.errors import ServiceError
from gongkai.core.models import Notification
from gongkai.policy import Action, can
from gongkai.reporting import receipts
from gongkai.reporting.board import section
from gongkai.reporting.models import (
    Evidence,
    Report,
    ReportingChannel,
    ReportMessage,
    ReportSource,
)
from gongkai.reporting.services import (
    BODY_MAX,
    channel_save,
    report_add_information,
    report_enter,
    report_find,
    report_reply,
    report_submit,
    report_transition,
)
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
    yield
    cache.clear()


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def form(**extra):
    return {"company": "rd", "subject": SUBJECT, "body": BODY, **extra}


def code_in(response) -> str:
    found = CODE_RE.findall(response.content.decode())
    assert len(found) == 1, "the receipt code is shown exactly once"
    return found[0]


def filed(org: Org, subject: str = SUBJECT):
    return report_submit(company=org.company, subject=subject, body=BODY)


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
        "updated_on", "concluded_on", "receipt_digest", "messages", "evidence",
    }  # fmt: skip
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
    report = Report.objects.get()
    forbidden = {IP, UA, employee.employee_no, employee.name, "张三"}
    row = " ".join(str(v) for v in Report.objects.values().get().values())
    evidence = Evidence.objects.values("content_type", "extension", "size", "sha256").get()
    for needle in forbidden:
        assert needle not in row
        assert needle not in str(evidence)
    assert not any(f.name in ("user", "author", "ip", "user_agent") for f in Report._meta.fields)
    # Every log line of the submission: nothing about the person, their address or browser.
    lines = [f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records]
    if debug_sql:
        assert any("reporting_report" in line for line in lines), "SQL was captured"
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
    assert Report.objects.count() == 1
    assert list(Session.objects.values_list("session_key", "session_data")) == sessions
    assert client.get(reverse("core:home")).status_code == 302  # elsewhere the rule holds


def test_evidence_is_stored_without_metadata_or_file_name(org: Org):
    upload = SimpleUploadedFile("IMG_张三_home.jpg", jpeg_with_gps_and_orientation())
    result = report_submit(company=org.company, subject=SUBJECT, body=BODY, uploads=[upload])
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
    if data["subject"] and field != "subject":
        assert data["subject"] in html  # what was typed is kept


def test_a_huge_upload_is_refused_before_it_is_read(org: Org, client: Client):
    response = client.post(
        reverse("reporting:submit"), form(), CONTENT_LENGTH=str(200 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert Report.objects.count() == 0


def test_submissions_are_rate_limited_per_client(org: Org, settings):
    settings.REPORTING_SUBMIT_PER_CLIENT = 2
    one, other = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(2):
        assert one.post(reverse("reporting:submit"), form()).status_code == 200
    refused = one.post(reverse("reporting:submit"), form())
    assert refused.status_code == 429
    assert Report.objects.count() == 2
    assert other.post(reverse("reporting:submit"), form()).status_code == 200
    # Nothing in the cache names the address.
    keys = list(cache._cache.keys())  # type: ignore[attr-defined]
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
    assert Report.objects.count() == 3


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
        },
    )
    assert response.status_code == 200
    assert "补充：经手人为采购员。" in response.content.decode()
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
        {"company": "rd", "source": "hotline", "subject": "电话举报", "body": "来电反映加班费未发"},
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
        {"company": "rd", "source": "online", "subject": "s", "body": "b"},
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
    result = report_submit(company=org.company, subject="s", body="b", uploads=[upload])
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
    ("reporting:evidence", "get", "discipline"),
]


@pytest.mark.parametrize(("name", "method", "who"), PAGES)
def test_every_reporting_page_is_no_store_and_no_referrer(
    org: Org, login, client: Client, name: str, method: str, who: str | None
):
    result = report_submit(
        company=org.company,
        subject="s",
        body="b",
        uploads=[SimpleUploadedFile("a.png", _png())],
    )
    args: list = []
    if name in ("reporting:detail", "reporting:transition", "reporting:reply"):
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
    from gongkai.reporting.demo import DEMO_CODES, seed

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
    assert Report.objects.count() == (1 if accepted else 0)


# --- Database stamps ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_blurring_replaces_the_transaction_stamps(org_tx):
    """On PostgreSQL a row's xmin dates it; reporting_blur gives recent rows a new one."""
    from django.core.management import call_command

    result = report_submit(company=org_tx.company, subject=SUBJECT, body=BODY)
    report_add_information(report=result.report, body="补充")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM reporting_report")
            before = cursor.fetchone()[0]
    out = io.StringIO()
    call_command("reporting_blur", stdout=out)
    assert "Rewrote 1 reports, 1 messages, 0 files." in out.getvalue()
    assert Report.objects.get().subject == SUBJECT
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM reporting_report")
            assert cursor.fetchone()[0] != before


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
