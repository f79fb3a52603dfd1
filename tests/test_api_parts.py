"""The JSON API's publicity, survey and roster endpoints: what each may do with a token, what
it may not (another company, a read-only token, a token of another unit), hostile input, the
anonymity of objections and survey answers, and the roster sync against the Excel import."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.api.services import (
    personal_token_create,
    service_account_create,
    service_token_create,
)
from gongkai.audit.models import AuditEvent
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.disclosure.models import Scope
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.org.roster import roster_import, roster_import_parsed
from gongkai.org.roster_parse import roster_from_records
from gongkai.publicity.models import Objection, Outcome, Publicity, PublicityKind
from gongkai.publicity.services import (
    publicity_open,
    publicity_outcome_publish,
)
from gongkai.surveys import services as survey_services
from gongkai.surveys.models import (
    Answer,
    BoxedAnswer,
    Participation,
    QuestionKind,
    Survey,
)
from tests.conftest import Org
from tests.factories import make_unit, published_disclosure

pytestmark = pytest.mark.django_db

API = "/api/v1"
TODAY = date(2026, 11, 24)  # a Tuesday
FACTS = "拟任人选在2025年安全考核中有违章记录，与公示材料不符。"


@pytest.fixture(autouse=True)
def fixed_day(db):
    """Windows and surveys are open or not by today's date: today is pinned, and the
    working-day calendar of the year is loaded (a flushed database lacks it)."""
    load_year(CalendarDay, 2026)
    with time_machine.travel(f"{TODAY.isoformat()} 10:00 +0800", tick=True):
        yield


def token(user: User, *, scope: str = "write", units=()) -> str:
    _token, raw = personal_token_create(
        actor=user,
        name="test",
        scope=scope,
        units=list(units),
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def get(path: str, raw: str, **extra):
    return Client().get(API + path, **bearer(raw), **extra)


def post(path: str, raw: str, data, **extra):
    body = data if isinstance(data, bytes | str) else json.dumps(data)
    return Client().post(
        API + path, data=body, content_type="application/json", **bearer(raw), **extra
    )


def in_en(response_getter, *args, **kwargs):
    return response_getter(*args, HTTP_ACCEPT_LANGUAGE="en", **kwargs)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert {"code", "message", "fields"} <= set(body)
    assert body["message"]
    if code:
        assert body["code"] == code
    return body


def events_since(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark).order_by("pk"))


def last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- Publicity -----------------------------------------------------------------------------------


def open_window(org: Org, *, unit=None, scope=None, starts_on=TODAY, days=6, title=None):
    """A general publicity window on a published item of ``unit`` (the boiler department)."""
    disclosure = published_disclosure(
        unit=unit or org.boiler, scope=scope, title=title or "锅炉分场物资采购结果公示"
    )
    return publicity_open(
        actor=org["union"],
        disclosure=disclosure,
        kind=PublicityKind.GENERAL,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days),
    )


def closed_window(org: Org) -> Publicity:
    """A window on a company item that ran in October, its outcome published."""
    disclosure = published_disclosure(unit=org.company, title="公司业务招待费公示")
    start = date(2026, 10, 12)
    with time_machine.travel(f"{start.isoformat()} 09:00 +0800", tick=False):
        publicity = publicity_open(
            actor=org["union"],
            disclosure=disclosure,
            kind=PublicityKind.GENERAL,
            starts_on=start,
            ends_on=start + timedelta(days=5),
        )
    with time_machine.travel("2026-10-20 09:00 +0800", tick=False):
        return publicity_outcome_publish(
            actor=org["union"], publicity=publicity, outcome=Outcome.NO_OBJECTION, text=""
        )


def test_the_windows_are_those_the_page_shows_with_their_state_and_outcome(org):
    current = open_window(org)
    done = closed_window(org)
    raw = token(org["employee"])
    listed = get("/publicity/windows", raw).json()
    assert [w["id"] for w in listed["items"]] == [current.pk, done.pk]  # newest first
    assert listed["count"] == 2
    assert [w["id"] for w in get("/publicity/windows?state=open", raw).json()["items"]] == [
        current.pk
    ]
    assert [w["id"] for w in get("/publicity/windows?state=closed", raw).json()["items"]] == [
        done.pk
    ]
    assert get("/publicity/windows?state=upcoming", raw).json()["items"] == []

    window = get(f"/publicity/windows/{current.pk}", raw).json()
    assert window["state"] == "open" and window["may_file"] is True
    assert window["disclosure"]["title"] == "锅炉分场物资采购结果公示"
    assert window["disclosure"]["unit"]["code"] == "rd-boiler"
    assert window["starts_on"] == TODAY.isoformat()
    assert window["outcome"] is None and window["objection_count"] == 0
    assert window["url"] == f"/publicity/{current.pk}/" and window["mine"] == []

    closed = in_en(get, f"/publicity/windows/{done.pk}", raw).json()
    assert closed["state"] == "closed" and closed["may_file"] is False
    assert closed["outcome"] == "no_objection"
    assert closed["outcome_name"] == "No objection was raised"
    assert closed["outcome_published_at"].startswith("2026-10-20")


def test_an_objection_filed_by_token_is_the_pages_objection(org):
    publicity = open_window(org)
    raw = token(org["employee"])
    sent = post(
        f"/publicity/windows/{publicity.pk}/objections",
        raw,
        {"text": FACTS, "anonymous": False},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert sent.status_code == 201, sent.content
    filed = sent.json()
    objection = Objection.objects.get()
    assert filed["id"] == objection.pk and filed["window"] == publicity.pk
    assert filed["text"] == FACTS and filed["filed_on"] == TODAY.isoformat()
    assert filed["message"].startswith("Your objection is filed.")
    assert objection.filed_by == org["employee"] and not objection.anonymous
    event = AuditEvent.objects.get(action="objection.filed")
    assert event.actor_id == org["employee"].pk  # a named objection: as on the page
    mine = get(f"/publicity/windows/{publicity.pk}", raw).json()
    assert [o["id"] for o in mine["mine"]] == [objection.pk] and mine["objection_count"] == 1


def test_an_anonymous_objections_filer_appears_nowhere(org):
    publicity = open_window(org, scope=Scope.PUBLIC)
    filer = org["employee"]
    raw = token(filer)
    mark = last_event()
    sent = post(
        f"/publicity/windows/{publicity.pk}/objections", raw, {"text": FACTS, "anonymous": True}
    )
    assert sent.status_code == 201, sent.content
    objection = Objection.objects.get()
    assert objection.anonymous and objection.filed_by == filer  # kept for the supervision group
    # Nothing written names the filer: the objection's audit event has no actor, and the
    # token's use is not recorded (it would say who called, and when).
    written = events_since(mark)
    assert [e.action for e in written] == ["objection.filed"]
    assert written[0].actor_id is None
    assert filer.name not in str(written[0].__dict__)
    # Nobody else's response names them: not the union office, the supervision group, the
    # leadership, another employee or someone of another company.
    for login in ("union", "supervisor", "leader", "turbine_worker", "outsider", "depthead"):
        raw = token(org[login])
        for path in ("/publicity/windows", f"/publicity/windows/{publicity.pk}"):
            response = get(path, raw)
            assert response.status_code == 200, (login, path)
            text = response.content.decode()
            assert filer.name not in text and '"employee"' not in text, (login, path)
            assert FACTS not in text
        assert get(f"/publicity/windows/{publicity.pk}", raw).json()["mine"] == []
    counted = get(f"/publicity/windows/{publicity.pk}", token(org["outsider"])).json()
    assert counted["objection_count"] == 1  # counted, as the page counts it


def test_who_may_not_file_or_see_a_window(org):
    internal = open_window(org)  # the boiler department's internal item
    public = open_window(org, unit=org.company, scope=Scope.PUBLIC, title="公司公开事项公示")
    outsider = token(org["outsider"])
    # Another company's employee: the internal window is missing to them (the same 404 as a
    # window that does not exist); the public one is visible but not theirs to object to.
    assert_error(get(f"/publicity/windows/{internal.pk}", outsider), 404, "not_found")
    assert_error(get("/publicity/windows/999999", outsider), 404, "not_found")
    body = {"text": FACTS}
    assert_error(post(f"/publicity/windows/{internal.pk}/objections", outsider, body), 404)
    assert [w["id"] for w in get("/publicity/windows", outsider).json()["items"]] == [public.pk]
    assert get(f"/publicity/windows/{public.pk}", outsider).json()["may_file"] is False
    assert_error(
        post(f"/publicity/windows/{public.pk}/objections", outsider, body), 403, "forbidden"
    )
    # A read-only token.
    read_only = token(org["employee"], scope="read")
    assert get(f"/publicity/windows/{internal.pk}", read_only).status_code == 200
    assert_error(
        post(f"/publicity/windows/{internal.pk}/objections", read_only, body),
        403,
        "read_only_token",
    )
    # A token limited to another unit (the turbine shop).
    elsewhere = token(org["employee"], units=[org.turbine])
    assert_error(get(f"/publicity/windows/{internal.pk}", elsewhere), 403, "outside_token_units")
    assert_error(
        post(f"/publicity/windows/{internal.pk}/objections", elsewhere, body),
        403,
        "outside_token_units",
    )
    assert get("/publicity/windows", elsewhere).json()["items"] == []
    assert not Objection.objects.exists()


def test_a_window_not_open_refuses_with_the_pages_message(org):
    upcoming = open_window(org, starts_on=TODAY + timedelta(days=3))
    done = closed_window(org)
    raw = token(org["employee"])
    early = assert_error(
        in_en(post, f"/publicity/windows/{upcoming.pk}/objections", raw, {"text": FACTS}),
        400,
        "refused",
    )
    assert "opens on" in early["message"]
    late = assert_error(
        in_en(post, f"/publicity/windows/{done.pk}/objections", raw, {"text": FACTS}),
        400,
        "refused",
    )
    assert "closed on" in late["message"]
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "太短"}, 400),  # the service's minimum: its message on the field
        ({"text": "   \x00\x00\x00   "}, 400),
        ({"text": "事" * 10_000}, 422),
        ({"text": 12345}, 422),
        ({"text": None}, 422),
        ({"text": FACTS, "anonymous": [1]}, 422),
        ({}, 422),
        ([FACTS], 422),
        ("not json at all {", 400),
    ],
)
def test_hostile_objections_get_a_clear_error(org, body, status):
    publicity = open_window(org)
    response = post(f"/publicity/windows/{publicity.pk}/objections", token(org["employee"]), body)
    if status == 400 and isinstance(body, str):
        assert response.status_code in (400, 422)
        assert_error(response, response.status_code)
    else:
        found = assert_error(response, status)
        if status == 400:
            assert "text" in found["fields"]
    assert not Objection.objects.exists()


def test_nul_bytes_are_cleaned_from_an_objection(org):
    publicity = open_window(org)
    sent = post(
        f"/publicity/windows/{publicity.pk}/objections",
        token(org["employee"]),
        {"text": "\x00" + FACTS + "\x00"},
    )
    assert sent.status_code == 201, sent.content
    assert Objection.objects.get().text == FACTS


@pytest.mark.parametrize(
    "path",
    [
        "/publicity/windows/-1",
        "/publicity/windows/0",
        "/publicity/windows/99999999999999999999999",
        "/publicity/windows/abc",
        "/publicity/windows/%00",
        "/publicity/windows?state=nonsense",
        "/publicity/windows?page=-3",
        "/publicity/windows?per_page=100000",
        "/publicity/windows?page=99999999999999999999",
    ],
)
def test_hostile_window_addresses_never_crash(org, path):
    response = get(path, token(org["employee"]))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert_error(response, response.status_code)


# --- Surveys --------------------------------------------------------------------------------------


QUESTIONS = (
    (QuestionKind.RATING, "公开内容是否及时"),
    (QuestionKind.RATING, "公开内容是否真实"),
    (QuestionKind.TEXT, "意见和建议"),
)


def make_survey(org: Org, *, unit=None, opened: bool = True) -> Survey:
    survey = survey_services.survey_create(
        actor=org["union"],
        title="2026年度厂务公开满意度测评",
        intro="请如实填写。",
        unit=unit or org.company,
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=7),
    )
    for kind, text in QUESTIONS:
        survey_services.question_add(actor=org["union"], survey=survey, kind=kind, text=text)
    if opened:
        survey_services.survey_open(actor=org["union"], survey=survey)
    survey.refresh_from_db()
    return survey


def answers(survey: Survey, *ratings: str, text: str = "") -> dict[str, dict[str, str]]:
    values = iter(ratings)
    found: dict[str, str] = {}
    for q in survey.questions.order_by("order"):
        found[f"q{q.pk}"] = next(values, "satisfied") if q.is_rating else text
    return {"answers": found}


def test_a_survey_lists_and_shows_its_questions(org):
    survey = make_survey(org)
    draft = make_survey(org, opened=False)
    raw = token(org["employee"])
    listed = get("/surveys", raw).json()
    assert [s["id"] for s in listed["items"]] == [survey.pk]  # a draft is the managers'
    row = listed["items"][0]
    assert row["phase"] == "running" and row["may_answer"] and not row["answered"]
    assert row["addressed"] and row["unit"]["code"] == "rd"
    assert get("/surveys?open=true", raw).json()["count"] == 1
    detail = in_en(get, f"/surveys/{survey.pk}", raw).json()
    assert detail["intro"] == "请如实填写。"
    kinds = [(q["kind"], q["required"], q["number"]) for q in detail["questions"]]
    assert kinds == [("rating", True, 1), ("rating", True, 2), ("text", False, 3)]
    assert [c["value"] for c in detail["questions"][0]["choices"]] == [
        "satisfied",
        "basic",
        "dissatisfied",
    ]
    assert detail["questions"][0]["choices"][1]["label"] == "Basically satisfied"
    assert detail["questions"][2]["max_length"] == 2000
    assert detail["questions"][0]["field"] == f"q{detail['questions'][0]['id']}"
    assert_error(get(f"/surveys/{draft.pk}", raw), 404, "not_found")
    managers = [s["id"] for s in get("/surveys", token(org["union"])).json()["items"]]
    assert set(managers) == {survey.pk, draft.pk}


def test_answering_goes_into_the_ballot_box_once(org):
    survey = make_survey(org)
    raw = token(org["employee"])
    mark = last_event()
    sent = in_en(post, f"/surveys/{survey.pk}/answers", raw, answers(survey, text="多公开"))
    assert sent.status_code == 201, sent.content
    assert sent.json() == {
        "answered": True,
        "message": "Thank you: your answers are in the ballot box.",
    }
    assert Participation.objects.filter(survey=survey, user=org["employee"]).count() == 1
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3
    # No trace beside the ballot box: no audit event, no record of the token's use.
    assert events_since(mark) == []
    detail = get(f"/surveys/{survey.pk}", raw).json()
    assert detail["answered"] and not detail["may_answer"]
    again = assert_error(
        in_en(post, f"/surveys/{survey.pk}/answers", raw, {"answers": {}}), 400, "refused"
    )
    assert again["message"] == (
        "You have already answered this survey. Each employee answers once."
    )
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3


def test_the_forms_checks_apply(org):
    survey = make_survey(org)
    raw = token(org["employee"])
    first, second, text = survey.questions.order_by("order")
    missing = assert_error(
        in_en(post, f"/surveys/{survey.pk}/answers", raw, {"answers": {f"q{first.pk}": "basic"}}),
        400,
        "refused",
    )
    assert missing["fields"] == {f"q{second.pk}": ["Answer every rating question."]}
    wrong = answers(survey)
    wrong["answers"][f"q{first.pk}"] = "very satisfied"
    refused = assert_error(in_en(post, f"/surveys/{survey.pk}/answers", raw, wrong), 400)
    assert refused["fields"] == {f"q{first.pk}": ["Choose one of the answers offered."]}
    long = answers(survey, text="字" * 2001)
    assert_error(post(f"/surveys/{survey.pk}/answers", raw, long), 422, "invalid")
    for body in (
        {"answers": {"x1": "satisfied"}},
        {"answers": {"q0": "satisfied"}},
        {"answers": {"q" + "9" * 30: "satisfied"}},
        {"answers": {f"q{first.pk}": 5}},
        {"answers": [["q1", "satisfied"]]},
        {"answers": {f"q{i}": "basic" for i in range(1, 60)}},
        {},
    ):
        assert_error(post(f"/surveys/{survey.pk}/answers", raw, body), 422, "invalid")
    assert not Participation.objects.exists() and not BoxedAnswer.objects.exists()
    # Answers to questions of other surveys are ignored, as the form ignores other fields;
    # NUL characters are removed from text, as from every text.
    body = answers(survey, text="\x00建议\x00")
    body["answers"]["q999999"] = "satisfied"
    assert post(f"/surveys/{survey.pk}/answers", raw, body).status_code == 201
    survey_services.survey_close(actor=org["union"], survey=survey)
    assert Answer.objects.filter(survey=survey, question=text).get().text == "建议"


def test_who_may_not_answer(org):
    survey = make_survey(org)
    turbine = make_survey(org, unit=org.turbine)
    body = answers(survey)
    # Another company: the survey is missing to them.
    assert_error(get(f"/surveys/{survey.pk}", token(org["outsider"])), 404, "not_found")
    assert_error(post(f"/surveys/{survey.pk}/answers", token(org["outsider"]), body), 404)
    # Not addressed: the boiler employee does not see the turbine shop's survey; the union
    # office (which manages it) sees it but may not answer it.
    assert_error(get(f"/surveys/{turbine.pk}", token(org["employee"])), 404)
    assert_error(
        post(f"/surveys/{turbine.pk}/answers", token(org["union"]), answers(turbine)),
        403,
        "forbidden",
    )
    # A read-only token; a token limited to another unit.
    assert_error(
        post(f"/surveys/{survey.pk}/answers", token(org["employee"], scope="read"), body),
        403,
        "read_only_token",
    )
    elsewhere = token(org["employee"], units=[org.turbine])
    assert_error(post(f"/surveys/{survey.pk}/answers", elsewhere, body), 403, "outside_token_units")
    assert_error(get(f"/surveys/{survey.pk}", elsewhere), 403, "outside_token_units")
    assert get("/surveys", elsewhere).json()["items"] == []
    assert not Participation.objects.exists()


def test_a_closed_survey_refuses_answers_as_the_service_says(org):
    survey = make_survey(org)
    survey_services.survey_close(actor=org["union"], survey=survey)
    refused = assert_error(
        in_en(post, f"/surveys/{survey.pk}/answers", token(org["employee"]), answers(survey)),
        400,
        "refused",
    )
    assert refused["message"] == "This survey is closed: answers are no longer accepted."


def test_no_survey_answer_can_be_linked_to_its_author(org):
    survey = make_survey(org)
    texts = {}
    for login in ("employee", "rep", "teamlead", "depthead", "turbine_worker"):
        texts[login] = f"{login}的意见"
        sent = post(
            f"/surveys/{survey.pk}/answers", token(org[login]), answers(survey, text=texts[login])
        )
        assert sent.status_code == 201
        assert set(sent.json()) == {"answered", "message"}
    survey_services.survey_close(actor=org["union"], survey=survey, results_published=True)
    used = AuditEvent.objects.filter(action="api.token_used").values_list("after", flat=True)
    assert not [u for u in used if u["path"].endswith("/answers")]
    # Nothing of any answer is read back by the API, to anyone.
    for login in ("union", "leader", "supervisor", "employee", "rep"):
        raw = token(org[login])
        for path in ("/surveys", f"/surveys/{survey.pk}"):
            text = get(path, raw).content.decode()
            assert not any(t in text for t in texts.values()), (login, path)
    # The answers themselves carry no author (the ballot box's promise).
    assert Answer.objects.filter(survey=survey).count() == 15
    assert not {f.name for f in Answer._meta.get_fields()} & {"user", "created_at", "answered_at"}


@pytest.mark.parametrize(
    "path",
    ["/surveys/-1", "/surveys/99999999999999999999999", "/surveys/x", "/surveys?open=maybe"],
)
def test_hostile_survey_addresses_never_crash(org, path):
    response = get(path, token(org["employee"]))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert_error(response, response.status_code)


# --- Roster sync ----------------------------------------------------------------------------------


RECORDS = [
    {"employee_no": "10001", "name": "张伟", "department": "锅炉分场", "team": "锅炉运行一班",
     "position": "值长", "representative": True},
    {"employee_no": "10002", "name": "王芳", "department": "锅炉分场", "team": "锅炉运行二班",
     "position": "巡检工", "representative": False},
    {"employee_no": "10003", "name": "李娜", "department": "化学分场", "team": "水处理班",
     "position": "化验员", "representative": None},
    {"employee_no": "10004", "name": "刘洋", "department": "化学分场", "team": "",
     "position": "主任", "representative": False},
    {"employee_no": "10005", "name": "陈静", "department": "", "team": "", "position": "总经理",
     "representative": True},
]  # fmt: skip
# Rows with every kind of row error the Excel import finds.
BAD_RECORDS = [
    {"employee_no": "", "name": "无工号", "department": "锅炉分场"},
    {"employee_no": "10 01", "name": "空格工号", "department": "锅炉分场"},
    {"employee_no": "20001", "name": "", "department": "锅炉分场"},
    {"employee_no": "20002", "name": "有班组无部门", "department": "", "team": "某班"},
    {"employee_no": "20003", "name": "名" * 65, "department": "锅炉分场"},
    {"employee_no": "20004", "name": "岗位太长", "department": "锅炉分场", "position": "岗" * 65},
    {"employee_no": "outsider", "name": "别家的人", "department": "锅炉分场"},
    {"employee_no": "20005", "name": "撤销的部门", "department": "已撤销分场"},
    {"employee_no": "20006", "name": "同上", "department": "已撤销分场", "team": "某班"},
]


def inactive_department(org: Org) -> None:
    unit = make_unit("已撤销分场", UnitKind.DEPARTMENT, org.company, code="rd-old")
    OrgUnit.objects.filter(pk=unit.pk).update(is_active=False)


def snapshot() -> dict[str, object]:
    """Everything a roster import could write."""
    return {
        "users": sorted(User.objects.values_list("employee_no", "name", "unit_id", "position")),
        "units": sorted(OrgUnit.objects.values_list("code", "name", "parent_id", "path")),
        "roles": sorted(RoleAssignment.objects.values_list("user_id", "role", "unit_id")),
    }


def csv_of(records: list[dict]) -> bytes:
    """The same records as a CSV file with the fields as headers (the English aliases)."""
    fields = ["employee_no", "name", "department", "team", "position", "representative"]
    present = [
        f
        for f in fields
        if f in {"employee_no", "name", "department"} or any(f in r for r in records)
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(present)
    for record in records:
        cells = []
        for f in present:
            value = record.get(f)
            cells.append(
                {True: "是", False: "否", None: ""}.get(value, value)
                if not isinstance(value, str)
                else value
            )
        writer.writerow(cells)
    return out.getvalue().encode()


def sync(org_or_company: str, raw: str, rows, *, dry_run: bool, **extra):
    return post(f"/roster/{org_or_company}/sync", raw, {"dry_run": dry_run, "rows": rows}, **extra)


def test_a_dry_run_plans_and_changes_nothing(org):
    before = snapshot()
    raw = token(org["union"])
    mark = last_event()
    response = sync("rd", raw, RECORDS, dry_run=True)
    assert response.status_code == 200, response.content
    found = response.json()
    assert found["ok"] and not found["done"] and found["dry_run"] and found["errors"] == []
    counts = found["plan"]["counts"]
    assert counts["employees_created"] == 5 and counts["departments_created"] == 1
    assert counts["teams_created"] == 2  # 锅炉运行二班 under 锅炉分场, 水处理班 under 化学分场
    assert counts["representatives_granted"] == 2
    assert found["plan"]["new_departments"] == ["化学分场"]
    assert {e["employee_no"] for e in found["plan"]["new_employees"]} == {
        r["employee_no"] for r in RECORDS
    }
    assert snapshot() == before
    assert [e.action for e in events_since(mark)] == ["api.token_used"]


def test_a_real_run_imports_as_the_excel_import_does(org):
    response = sync("rd", token(org["union"]), RECORDS, dry_run=False)
    assert response.status_code == 200, response.content
    found = response.json()
    assert found["ok"] and found["done"]
    assert User.objects.get(employee_no="10001").unit == org.boiler_team
    assert User.objects.get(employee_no="10005").unit == org.company
    assert OrgUnit.objects.get(name="水处理班").parent.name == "化学分场"
    reps = set(
        RoleAssignment.objects.filter(role=Role.REPRESENTATIVE, unit=org.company).values_list(
            "user__employee_no", flat=True
        )
    )
    assert {"10001", "10005"} <= reps
    event = AuditEvent.objects.get(action="org.roster_imported")
    assert event.actor_id == org["union"].pk and event.after["file"] == "API"
    # The same records again: nothing to change. A change of team and name is planned as the
    # import plans it.
    again = sync("rd", token(org["union"]), RECORDS, dry_run=True).json()
    assert again["plan"]["counts"]["employees_unchanged"] == 5 and not again["plan"]["has_changes"]
    moved = [dict(RECORDS[0], team="锅炉运行二班", name="张伟伟")]
    changed = in_en(sync, "rd", token(org["union"]), moved, dry_run=True).json()
    assert changed["plan"]["counts"]["employees_changed"] == 1
    # the 4 other imported and the 9 people of the fixture's company: listed, left unchanged
    assert changed["plan"]["counts"]["employees_not_in_file"] == 13
    changes = {
        c["field"]: (c["before"], c["after"])
        for c in changed["plan"]["changed_employees"][0]["changes"]
    }
    assert changes["name"] == ("张伟", "张伟伟")
    assert changes["unit"] == ("锅炉分场 / 锅炉运行一班", "锅炉分场 / 锅炉运行二班")


def test_the_row_errors_are_the_excel_imports(org, english):
    """The same rows give the same errors as a spreadsheet: through the records' reader
    numbered as the spreadsheet numbers them (header in row 1), exactly; through the API,
    numbered from 1 in ``rows``."""
    inactive_department(org)
    records = [*RECORDS, *BAD_RECORDS]
    sheet = roster_import(
        actor=org["union"],
        company=org.company,
        data=csv_of(records),
        filename="r.csv",
        dry_run=True,
    )
    as_sheet = roster_import_parsed(
        actor=org["union"],
        company=org.company,
        parsed=roster_from_records(records, first_row=2),
        filename="r",
        dry_run=True,
    )
    expected = [(e.row, e.column, e.message) for e in sheet.errors]
    assert [(e.row, e.column, e.message) for e in as_sheet.errors] == expected
    # one per bad record; the inactive department once, for both of its rows
    assert len(expected) == len(BAD_RECORDS) - 1
    assert expected[-1][2].endswith("(The same in 1 more rows.)")
    assert as_sheet.plan.counts == sheet.plan.counts
    response = sync("rd", token(org["union"]), records, dry_run=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    found = response.json()
    assert not found["ok"] and not found["done"] and found["error_count"] == len(expected)
    assert [(e["row"], e["column"], e["message"]) for e in found["errors"]] == [
        (row - 1, column, message) for row, column, message in expected
    ]
    fields = [e["field"] for e in found["errors"]]
    assert fields == [
        "employee_no", "employee_no", "name", "team", "name", "position", "employee_no",
        "department",
    ]  # fmt: skip
    assert found["errors"][4]["message"] == "The value is too long (at most 64 characters)."


def test_a_repeated_employee_number_names_the_first_record(org):
    rows = [RECORDS[0], RECORDS[1], dict(RECORDS[2], employee_no="10001")]
    found = in_en(sync, "rd", token(org["union"]), rows, dry_run=True).json()
    assert found["errors"] == [
        {
            "row": 3,
            "field": "employee_no",
            "column": "employee_no",
            "message": "The employee number 10001 appears twice in the file (also in row 1).",
        }
    ]


def test_one_bad_row_and_nothing_changes(org):
    before = snapshot()
    raw = token(org["union"])
    mark = last_event()
    rows = [*RECORDS, dict(RECORDS[0], employee_no="10006", name="")]
    response = in_en(sync, "rd", raw, rows, dry_run=False)
    body = assert_error(response, 400, "roster_invalid")
    assert body["message"] == "The roster has 1 problem. Nothing was imported."
    assert body["fields"] == {"rows.5.name": ["The name is empty."]}
    assert body["error_count"] == 1
    assert body["errors"] == [
        {"row": 6, "field": "name", "column": "name", "message": "The name is empty."}
    ]
    assert snapshot() == before
    assert [e.action for e in events_since(mark)] == ["api.token_used"]
    # A conflict found only when planning (an employee number of another company) too.
    taken = [*RECORDS, dict(RECORDS[0], employee_no="outsider")]
    refused = in_en(sync, "rd", raw, taken, dry_run=False)
    assert assert_error(refused, 400, "roster_invalid")["fields"] == {
        "rows.5.employee_no": [
            "The employee number outsider belongs to an account outside this company."
        ]
    }
    assert snapshot() == before


def test_positions_and_flags_left_out_stay_as_they_are(org):
    sync("rd", token(org["union"]), RECORDS, dry_run=False)
    bare = [{k: r[k] for k in ("employee_no", "name", "department", "team")} for r in RECORDS]
    found = sync("rd", token(org["union"]), bare, dry_run=True).json()
    assert found["plan"]["counts"]["employees_unchanged"] == 5
    # Given in one record, the column is there: a record without it clears the position.
    mixed = [*bare[:4], dict(bare[4], position="副总经理")]
    planned = sync("rd", token(org["union"]), mixed, dry_run=True).json()["plan"]["counts"]
    assert planned["employees_changed"] == 5


def test_a_service_account_of_the_hr_system_syncs(org):
    account = service_account_create(
        actor=org["union"],
        name="人力资源系统",
        description="花名册同步",
        role=Role.UNION_OFFICE,
        unit=org.company,
    )
    _token, raw = service_token_create(
        actor=org["union"],
        account=account,
        name="nightly",
        scope="write",
        units=[],
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    response = sync("rd", raw, RECORDS, dry_run=False)
    assert response.status_code == 200, response.content
    assert response.json()["done"]
    assert AuditEvent.objects.get(action="org.roster_imported").actor_id == account.user_id
    _token, read_only = service_token_create(
        actor=org["union"],
        account=account,
        name="reader",
        scope="read",
        units=[],
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    assert_error(sync("rd", read_only, RECORDS, dry_run=True), 403, "read_only_token")


def test_who_may_not_sync(org):
    before = snapshot()
    for login in ("employee", "depthead", "leader", "supervisor", "outsider"):
        assert_error(sync("rd", token(org[login]), RECORDS, dry_run=True), 403, "forbidden")
    assert_error(
        sync("rd", token(org["union"], scope="read"), RECORDS, dry_run=False),
        403,
        "read_only_token",
    )
    assert_error(
        sync("rd", token(org["union"], units=[org.boiler]), RECORDS, dry_run=False),
        403,
        "outside_token_units",
    )
    assert_error(sync("other", token(org["union"]), RECORDS, dry_run=False), 403, "forbidden")
    assert_error(sync("rd-boiler", token(org["union"]), RECORDS, dry_run=False), 404, "not_found")
    assert_error(sync("nope", token(org["union"]), RECORDS, dry_run=False), 404, "not_found")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("rows", "status"),
    [
        ([], 422),
        ("not a list", 422),
        ([{"employee_no": 10001, "name": "数字工号"}], 422),
        ([{"name": "没有工号"}], 422),
        ([{"employee_no": "1", "name": "名" * 10_000}], 422),
        ([{"employee_no": "1", "name": "代表", "representative": "是"}], 422),
        ([{"employee_no": "1", "name": "代表", "representative": 7}], 422),
        ([None], 422),
        ([{"employee_no": "1", "name": "多余的键", "salary": 1}], 200),  # ignored, as columns are
        ([{"employee_no": "\x00", "name": "\x00"}], 200),  # nothing left: no rows at all
        ([{"employee_no": "", "name": "", "department": ""}], 200),
        ([{"employee_no": "../1", "name": "<script>", "department": "'; DROP TABLE x;--"}], 200),
    ],
)
def test_hostile_rosters_get_a_clear_answer(org, rows, status):
    before = snapshot()
    response = post("/roster/rd/sync", token(org["union"]), {"dry_run": True, "rows": rows})
    if status == 200:
        assert response.status_code == 200, response.content
        found = response.json()
        assert found["ok"] == (found["errors"] == []) and not found["done"]
    else:
        assert_error(response, status, "invalid")
    assert snapshot() == before


def test_a_body_over_the_limit_is_refused_not_a_crash(org, settings):
    """The request body's limit (DATA_UPLOAD_MAX_MEMORY_SIZE) applies to a roster too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    rows = [dict(RECORDS[0], employee_no=str(40_000 + i)) for i in range(1_000)]
    response = in_en(sync, "rd", token(org["union"]), rows, dry_run=True)
    body = assert_error(response, 400, "too_large")
    assert body["message"] == "The request is larger than 48.8\xa0KB. Send less at once."


def test_nul_characters_never_reach_the_database(org):
    rows = [{"employee_no": "30001", "name": "张\x00三", "department": "锅炉\x00分场"}]
    response = sync("rd", token(org["union"]), rows, dry_run=False)
    assert response.status_code == 200, response.content
    user = User.objects.get(employee_no="30001")
    assert user.name == "张三" and user.unit == org.boiler


@pytest.mark.parametrize(
    "path",
    ["/roster/%00/sync", "/roster/" + "x" * 5000 + "/sync", "/roster/<script>/sync"],
)
def test_hostile_company_codes_never_crash(org, path):
    response = post(path, token(org["union"]), {"dry_run": True, "rows": RECORDS})
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert_error(response, response.status_code)


# --- The document ---------------------------------------------------------------------------------


def test_every_status_is_documented(org):
    schema = Client().get(API + "/openapi.json").json()
    operations = {
        ("get", "/api/v1/publicity/windows"): "200",
        ("get", "/api/v1/publicity/windows/{pk}"): "200",
        ("post", "/api/v1/publicity/windows/{pk}/objections"): "201",
        ("get", "/api/v1/surveys"): "200",
        ("get", "/api/v1/surveys/{pk}"): "200",
        ("post", "/api/v1/surveys/{pk}/answers"): "201",
        ("post", "/api/v1/roster/{company_code}/sync"): "200",
    }
    for (method, path), ok in operations.items():
        documented = set(schema["paths"][path][method]["responses"])
        assert documented == {ok, "400", "401", "403", "404", "422"}, (method, path)
    refused = schema["paths"]["/api/v1/roster/{company_code}/sync"]["post"]["responses"]["400"]
    assert refused["content"]["application/json"]["schema"]["$ref"].endswith("/RosterInvalid")


def test_schemathesis_reaches_windows_and_surveys(org, live_server, tmp_path):
    """The API-wide run (test_api_fuzz) finds no window or survey, so these operations answer
    404 there; here they exist, and an employee (who may file and answer) calls them."""
    from tests.test_api_fuzz import CHECKS, schemathesis

    for _ in range(3):
        open_window(org, unit=org.company, scope=Scope.PUBLIC)
    make_survey(org)
    make_survey(org)
    result = subprocess.run(
        [
            schemathesis(),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token(org['employee'])}",
            "--include-path-regex",
            "^/api/v1/(publicity|surveys|roster)",
            "--checks",
            CHECKS,
            "--max-examples",
            os.environ.get("API_FUZZ_EXAMPLES", "20"),
            "--seed",
            "20261124",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        cwd=tmp_path,  # its caches stay out of the checkout
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "Selected: 7/" in output, output[-3000:]
