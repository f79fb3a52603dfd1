"""Satisfaction surveys: the one-answer rule, eligibility, the window, bad input, sealing,
results against a hand-computed example, small units withheld, and the .xlsx."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, Role
from gongkai.policy.rules import Action, can
from gongkai.surveys import selectors, services
from gongkai.surveys.models import (
    MAX_TEXT_ANSWER,
    Answer,
    BoxedAnswer,
    Participation,
    Phase,
    QuestionKind,
    Survey,
    SurveyStatus,
)
from tests.conftest import PERSONAS, Org
from tests.factories import UserFactory

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")

TODAY = date(2026, 11, 24)
QUESTIONS = (
    (QuestionKind.RATING, "公开内容是否及时"),
    (QuestionKind.RATING, "公开内容是否真实"),
    (QuestionKind.TEXT, "意见和建议"),
)


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(f"{TODAY.isoformat()} 10:00 +0800", tick=True):
        yield


def make_survey(
    o: Org,
    *,
    unit: OrgUnit | None = None,
    starts_on: date = TODAY,
    ends_on: date = TODAY + timedelta(days=7),
    questions=QUESTIONS,
    opened: bool = True,
) -> Survey:
    survey = services.survey_create(
        actor=o["union"],
        title="2026年度厂务公开满意度测评",
        intro="请如实填写。",
        unit=unit or o.company,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    for kind, text in questions:
        services.question_add(actor=o["union"], survey=survey, kind=kind, text=text)
    if opened:
        services.survey_open(actor=o["union"], survey=survey)
    survey.refresh_from_db()
    return survey


def answers_for(survey: Survey, *ratings: str, text: str = "") -> dict[str, str]:
    data: dict[str, str] = {}
    values = iter(ratings)
    for q in survey.questions.order_by("order"):
        data[f"q{q.pk}"] = next(values, "satisfied") if q.is_rating else text
    return data


def boxed_answers(survey: Survey) -> list[tuple[int, int, str, str]]:
    """(question id, unit id, rating, text) of every answer still in the survey's ballot box,
    opened with the key (nothing in the table is readable without it)."""
    boxes = BoxedAnswer.objects.filter(survey=survey).values_list("box", flat=True)
    return [services.opened_answer(survey.pk, bytes(box)) for box in boxes]


def staff(unit: OrgUnit, n: int, prefix: str) -> list:
    return [UserFactory(employee_no=f"{prefix}{i:03d}", unit=unit) for i in range(n)]


# --- answering ---------------------------------------------------------------------------


def test_employee_answers_once_and_a_second_answer_is_refused(org: Org):
    survey = make_survey(org)
    services.survey_answer(actor=org["employee"], survey=survey, answers=answers_for(survey))
    with pytest.raises(ServiceError, match="already answered"):
        services.survey_answer(
            actor=org["employee"], survey=survey, answers=answers_for(survey, "dissatisfied")
        )
    assert Participation.objects.filter(survey=survey).count() == 1
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3
    assert "dissatisfied" not in {rating for _q, _u, rating, _t in boxed_answers(survey)}


def test_answer_page_thanks_then_shows_answered_state(org: Org, login, client):
    survey = make_survey(org)
    login(org["employee"])
    url = reverse("surveys:detail", args=[survey.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"survey-answer" in page.content
    response = client.post(url, answers_for(survey, text="希望公开更及时"))
    assert response.status_code == 302
    page = client.get(url)
    assert b"survey-answer" not in page.content and b"survey-state done" in page.content
    # a second POST (e.g. an old tab) is refused with a message, nothing is added
    again = client.post(url, answers_for(survey, "dissatisfied"), follow=True)
    assert (
        "您已参加过本次测评" in again.content.decode()
        or "already answered" in again.content.decode()
    )
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3


def test_employee_outside_the_addressed_subtree_is_refused(org: Org, login, client):
    survey = make_survey(org, unit=org.boiler)
    for who in ("turbine_worker", "outsider", "union"):
        with pytest.raises(ServiceError):
            services.survey_answer(actor=org[who], survey=survey, answers=answers_for(survey))
    assert not Participation.objects.exists() and not BoxedAnswer.objects.exists()
    login(org["turbine_worker"])
    assert client.get(reverse("surveys:detail", args=[survey.pk])).status_code == 404
    assert client.post(reverse("surveys:detail", args=[survey.pk]), {}).status_code == 404


def test_inactive_employee_is_refused(org: Org):
    survey = make_survey(org)
    user = org["employee"]
    user.is_active = False
    user.save()
    with pytest.raises(ServiceError):
        services.survey_answer(actor=user, survey=survey, answers=answers_for(survey))
    assert not Participation.objects.exists()


def test_answers_before_the_first_day_and_after_the_last_are_refused(org: Org):
    survey = make_survey(org, starts_on=TODAY + timedelta(days=1))
    with pytest.raises(ServiceError, match="opens on"):
        services.survey_answer(actor=org["employee"], survey=survey, answers=answers_for(survey))
    with time_machine.travel("2026-12-05 10:00 +0800"):
        assert survey.phase() == Phase.ENDED
        with pytest.raises(ServiceError, match="closed"):
            services.survey_answer(
                actor=org["employee"], survey=survey, answers=answers_for(survey)
            )
    assert not Participation.objects.exists() and not BoxedAnswer.objects.exists()


def test_draft_and_closed_surveys_take_no_answers(org: Org):
    draft = make_survey(org, opened=False)
    with pytest.raises(ServiceError):
        services.survey_answer(actor=org["employee"], survey=draft, answers=answers_for(draft))
    survey = make_survey(org)
    services.survey_close(actor=org["union"], survey=survey)
    with pytest.raises(ServiceError, match="closed"):
        services.survey_answer(actor=org["employee"], survey=survey, answers=answers_for(survey))
    assert not Participation.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", "every rating question"),
        ("out_of_range", "one of the answers"),
        ("huge_text", "too long"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(org: Org, change: str, message: str):
    survey = make_survey(org)
    data = answers_for(survey, text="好")
    first, _second, text_q = list(survey.questions.order_by("order"))
    if change == "missing":
        data.pop(f"q{first.pk}")
    elif change == "out_of_range":
        data[f"q{first.pk}"] = "5"
    else:
        data[f"q{text_q.pk}"] = "长" * (MAX_TEXT_ANSWER + 1)
    with pytest.raises(ServiceError, match=message) as error:
        services.survey_answer(actor=org["employee"], survey=survey, answers=data)
    assert error.value.field in {f"q{first.pk}", f"q{text_q.pk}"}
    assert not Participation.objects.exists() and not BoxedAnswer.objects.exists()


def test_bad_answer_page_keeps_what_was_typed(org: Org, login, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    survey = make_survey(org)
    login(org["employee"])
    data = answers_for(survey, text="我的建议是多开会")
    data.pop(next(k for k in data if data[k] == "satisfied"))
    response = client.post(reverse("surveys:detail", args=[survey.pk]), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Answer every rating question." in body and "我的建议是多开会" in body
    assert not Participation.objects.exists()


# --- managing ----------------------------------------------------------------------------


def test_union_office_builds_and_opens_a_survey_with_a_roster_snapshot(org: Org):
    survey = make_survey(org, opened=False)
    assert survey.phase() == Phase.DRAFT
    questions = list(survey.questions.order_by("order"))
    services.question_move(actor=org["union"], survey=survey, question=questions[2], up=True)
    assert [q.text for q in survey.questions.order_by("order")] == [
        QUESTIONS[0][1],
        QUESTIONS[2][1],
        QUESTIONS[1][1],
    ]
    services.survey_open(actor=org["union"], survey=survey)
    rates = {r.unit.code: r for r in selectors.response_rates(survey)}
    # the company's active employees: all personas but the outsider
    assert rates["rd"].eligible == 9
    assert rates["rd-boiler"].eligible == 4  # depthead, teamlead, rep, employee
    assert rates["rd-boiler-1"].eligible == 3
    assert AuditEvent.objects.filter(action="survey.opened").count() == 1


def test_cannot_open_without_questions_or_with_bad_dates(org: Org):
    survey = make_survey(org, questions=(), opened=False)
    with pytest.raises(ServiceError, match="at least one question"):
        services.survey_open(actor=org["union"], survey=survey)
    with pytest.raises(ServiceError, match="end before"):
        services.survey_update(
            actor=org["union"],
            survey=survey,
            title="x",
            unit=org.company,
            starts_on=TODAY,
            ends_on=TODAY - timedelta(days=1),
        )
    with pytest.raises(ServiceError, match="title"):
        services.survey_create(
            actor=org["union"], title="  ", unit=org.company, starts_on=TODAY, ends_on=TODAY
        )
    with pytest.raises(ServiceError, match="too long"):
        services.survey_create(
            actor=org["union"], title="题" * 201, unit=org.company, starts_on=TODAY, ends_on=TODAY
        )
    with pytest.raises(ServiceError, match="kind"):
        services.question_add(actor=org["union"], survey=survey, kind="stars", text="?")
    assert Survey.objects.count() == 1 and survey.questions.count() == 0


def test_a_started_survey_can_no_longer_be_edited(org: Org):
    survey = make_survey(org)
    assert survey.phase() == Phase.RUNNING
    with pytest.raises(ServiceError, match="no longer be changed"):
        services.question_add(actor=org["union"], survey=survey, kind="rating", text="新问题")
    with pytest.raises(ServiceError, match="no longer be changed"):
        services.survey_update(
            actor=org["union"],
            survey=survey,
            title="改",
            unit=org.company,
            starts_on=TODAY,
            ends_on=TODAY,
        )
    scheduled = make_survey(org, starts_on=TODAY + timedelta(days=3))
    services.question_add(actor=org["union"], survey=scheduled, kind="text", text="补充")
    assert scheduled.questions.count() == 4


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "union"])
def test_only_the_union_office_manages_surveys(org: Org, who: str):
    with pytest.raises(ServiceError):
        services.survey_create(
            actor=org[who], title="t", unit=org.company, starts_on=TODAY, ends_on=TODAY
        )
    survey = make_survey(org, opened=False)
    with pytest.raises(ServiceError):
        services.survey_open(actor=org[who], survey=survey)
    with pytest.raises(ServiceError):
        services.question_add(actor=org[who], survey=survey, kind="text", text="?")
    opened = make_survey(org)
    with pytest.raises(ServiceError):
        services.survey_close(actor=org[who], survey=opened)
    assert Survey.objects.filter(status=SurveyStatus.CLOSED).count() == 0


POLICY_MATRIX = {
    # action → personas allowed on the company
    Action.SURVEY_MANAGE: {"union"},
    Action.SURVEY_RESULTS: {"union", "leader", "supervisor"},
}


@pytest.mark.parametrize("action", list(POLICY_MATRIX))
@pytest.mark.parametrize("who", [*PERSONAS, "outsider"])
def test_policy_matrix(org: Org, action: Action, who: str):
    assert can(org[who], action, org.company) == (who in POLICY_MATRIX[action])


# --- sealing and results -----------------------------------------------------------------


def fill(o: Org, survey: Survey) -> dict[str, list]:
    """The hand-computed example: 6 in the boiler team, 5 in the turbine team, 2 in the union
    department. Ratings of question 1 / question 2 per group are chosen below."""
    groups = {
        "boiler": staff(o.boiler_team, 6, "B"),
        "turbine": staff(o.turbine_team, 5, "T"),
        "union": staff(o.union_dept, 2, "U"),
    }
    if survey.status == SurveyStatus.DRAFT:  # opened after hiring: they are in the snapshot
        services.survey_open(actor=o["union"], survey=survey)
        survey.refresh_from_db()
    plan = {
        # (q1, q2) for each respondent in order
        "boiler": [("satisfied", "satisfied")] * 3
        + [("basic", "satisfied"), ("basic", "dissatisfied"), ("dissatisfied", "basic")],
        "turbine": [("satisfied", "basic")] * 5,
        "union": [("dissatisfied", "dissatisfied"), ("satisfied", "satisfied")],
    }
    for name, users in groups.items():
        for i, (user, (a, b)) in enumerate(zip(users, plan[name], strict=True)):
            services.survey_answer(
                actor=user, survey=survey, answers=answers_for(survey, a, b, text=f"{name}-{i}")
            )
    return groups


def test_results_match_the_hand_computed_example(org: Org):
    survey = make_survey(org, opened=False)
    fill(org, survey)
    assert selectors.survey_results(survey).overall is None  # nothing before close
    services.survey_close(actor=org["union"], survey=survey)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED and survey.closed_on == TODAY
    assert not BoxedAnswer.objects.exists()
    assert Answer.objects.filter(survey=survey).count() == 13 * 3
    result = selectors.survey_results(survey)
    assert result.respondents == 13
    assert result.eligible == 9 + 13
    q1, q2 = result.overall.questions
    # q1: S = 3+5+1 = 9, B = 2, D = 1+1 = 2 → (900 + 120) / 13
    assert q1.counts == {"satisfied": 9, "basic": 2, "dissatisfied": 2}
    assert q1.score == pytest.approx(1020 / 13)
    # q2: S = 4+1 = 5, B = 1+5 = 6, D = 1+1 = 2 → (500 + 360) / 13
    assert q2.counts == {"satisfied": 5, "basic": 6, "dissatisfied": 2}
    assert q2.score == pytest.approx(860 / 13)
    assert q2.content_pct == pytest.approx(100 * 11 / 13)
    # pooling: union dept (2) → company (2 < 5) → takes the smallest row ≥ 5: turbine team
    rows = {b.unit.code: b for b in result.buckets}
    assert set(rows) == {"rd", "rd-boiler-1"}
    assert rows["rd-boiler-1"].respondents == 6
    assert rows["rd-boiler-1"].questions[0].counts == {
        "satisfied": 3,
        "basic": 2,
        "dissatisfied": 1,
    }
    assert rows["rd"].respondents == 7
    assert {u.code for u in rows["rd"].pooled} == {"rd-union", "rd-turbine-1"}
    # the units right below the company: only the boiler department has a row inside it
    assert [(b.unit.code, b.respondents) for b in result.branches] == [("rd-boiler", 6)]
    assert result.branches[0].questions[1].counts == {
        "satisfied": 4,
        "basic": 1,
        "dissatisfied": 1,
    }
    rates = {r.unit.code: r for r in result.rates}
    assert rates["rd-boiler"].respondents == 6 and rates["rd-boiler"].eligible == 4 + 6
    assert rates["rd-union"].rate == pytest.approx(100 * 2 / (2 + 2))
    # free text: all 13, in the sealed order
    (_question, texts, count) = result.texts[0]
    assert count == 13 and sorted(texts) == sorted(
        [f"boiler-{i}" for i in range(6)]
        + [f"turbine-{i}" for i in range(5)]
        + ["union-0", "union-1"]
    )
    # the stored unit of a sealed answer is the pooled row's unit, never a small unit
    assert set(Answer.objects.filter(survey=survey).values_list("unit__code", flat=True)) == {
        "rd",
        "rd-boiler-1",
    }
    # the contract with the assessment
    scores = selectors.satisfaction_by_unit(survey)
    assert scores[org.company.pk].score == pytest.approx(round((1020 + 860) / 26, 2))
    assert scores[org.company.pk].respondents == 13
    assert scores[org.boiler.pk].respondents == 6
    assert scores[org.boiler.pk].score == pytest.approx(round((300 + 120 + 0 + 400 + 60) / 12, 2))
    assert org.turbine.pk not in scores and org.union_dept.pk not in scores
    assert selectors.satisfaction_by_unit(2026) == scores
    assert selectors.satisfaction_by_unit(2025) == {}


def test_results_of_fewer_than_five_respondents_are_withheld(org: Org, login, client):
    survey = make_survey(org)
    for user in staff(org.boiler_team, 4, "S"):
        services.survey_answer(actor=user, survey=survey, answers=answers_for(survey, text="秘密"))
    services.survey_close(actor=org["union"], survey=survey)
    result = selectors.survey_results(survey)
    assert result.withheld and result.buckets == [] and result.respondents == 4
    assert selectors.satisfaction_by_unit(survey) == {}
    login(org["leader"])
    page = client.get(reverse("surveys:results", args=[survey.pk]))
    assert page.status_code == 200
    assert "秘密" not in page.content.decode() and b"withheld" in page.content
    assert client.get(reverse("surveys:results_xlsx", args=[survey.pk])).status_code == 200


def test_results_after_the_last_day_wait_for_the_sealing_task(org: Org, login, client):
    # A GET never seals (it used to: the first results view after the last day did); the
    # periodic task does (tests/test_periodic_tasks.py has more).
    from gongkai.surveys.tasks import seal_ended_surveys

    survey = make_survey(org, opened=False)
    fill(org, survey)
    login(org["supervisor"])
    url = reverse("surveys:results", args=[survey.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"chart-questions" not in page.content
    assert BoxedAnswer.objects.count() == 39
    with time_machine.travel("2026-12-02 09:03 +0800"):
        login(org["supervisor"])  # a new day's session
        page = client.get(url)
        assert page.status_code == 200 and b"chart-questions" not in page.content
        assert b"survey-sealing" in page.content and b"09:10" in page.content
        assert BoxedAnswer.objects.count() == 39 and not Answer.objects.exists()
        seal_ended_surveys()
        page = client.get(url)
    assert page.status_code == 200 and b"chart-questions" in page.content
    assert b'id="survey-chart-data"' in page.content and b"survey-sealing" not in page.content
    assert BoxedAnswer.objects.count() == 0 and Answer.objects.count() == 39
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    event = AuditEvent.objects.get(action="survey.closed")
    assert event.actor is None


def test_xlsx_holds_the_figures(org: Org, login, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    survey = make_survey(org, opened=False)
    fill(org, survey)
    services.survey_close(actor=org["union"], survey=survey)
    login(org["leader"])
    response = client.get(reverse("surveys:results_xlsx", args=[survey.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    rates, ratings, texts = book.worksheets
    assert rates["A1"].value == survey.title
    rows = {r[0].strip("　"): r for r in rates.iter_rows(min_row=6, values_only=True)}
    assert rows["锅炉运行一班"][1:3] == (9, 6)
    rating_rows = list(ratings.iter_rows(min_row=2, values_only=True))
    overall_q1 = rating_rows[0]
    assert overall_q1[0] == "All respondents" and overall_q1[2] == 13
    assert overall_q1[4:7] == (9, 2, 2)
    assert overall_q1[8] == pytest.approx(round(1020 / 13, 1))
    answers = [r[1] for r in texts.iter_rows(min_row=2, values_only=True)]
    assert len(answers) == 13 and "union-1" in answers


def test_xlsx_quotes_text_that_looks_like_a_formula(org: Org):
    from gongkai.surveys.exports import results_workbook

    survey = make_survey(org)
    for user in staff(org.boiler_team, 5, "F"):
        services.survey_answer(
            actor=user, survey=survey, answers=answers_for(survey, text="=HYPERLINK(1)")
        )
    services.survey_close(actor=org["union"], survey=survey)
    book = load_workbook(BytesIO(results_workbook(selectors.survey_results(survey))))
    values = [r[1] for r in book.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert values == ["'=HYPERLINK(1)"] * 5


def test_results_page_needs_the_results_role(org: Org, login, client):
    survey = make_survey(org, opened=False)
    fill(org, survey)
    services.survey_close(actor=org["union"], survey=survey)
    login(org["employee"])
    assert client.get(reverse("surveys:results", args=[survey.pk])).status_code == 403
    assert client.get(reverse("surveys:results_xlsx", args=[survey.pk])).status_code == 403


def test_list_shows_open_and_past_surveys(org: Org, login, client, django_assert_max_num_queries):
    open_survey = make_survey(org)
    past = make_survey(org)
    services.survey_close(actor=org["union"], survey=past)
    make_survey(org, opened=False)  # a draft: not for employees
    login(org["employee"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("surveys:index"))
    body = page.content.decode()
    assert body.count(reverse("surveys:detail", args=[open_survey.pk])) == 1
    assert body.count(reverse("surveys:detail", args=[past.pk])) == 1
    assert Survey.objects.count() == 3
    assert len(selectors.visible_surveys(org["employee"])) == 2
    assert len(selectors.visible_surveys(org["union"])) == 3
    assert len(selectors.visible_surveys(org["outsider"])) == 0


def test_manage_pages_work_end_to_end(org: Org, login, client):
    login(org["union"])
    response = client.post(
        reverse("surveys:create"),
        {
            "title": "测评",
            "intro": "",
            "unit": org.boiler.pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 302
    survey = Survey.objects.get()
    add = reverse("surveys:question_add", args=[survey.pk])
    assert client.post(add, {"kind": "rating", "text": "满意吗"}).status_code == 302
    assert client.post(add, {"kind": "text", "text": "  "}).status_code == 400
    assert client.get(reverse("surveys:open", args=[survey.pk])).status_code == 200
    assert client.post(reverse("surveys:open", args=[survey.pk])).status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN
    assert client.get(reverse("surveys:close", args=[survey.pk])).status_code == 200
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN  # GET only asks
    assert client.post(reverse("surveys:close", args=[survey.pk])).status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "survey.created",
        "survey.question_added",
        "survey.opened",
        "survey.closed",
    }


def test_role_holders_see_only_results_not_manage(org: Org, login, client):
    survey = make_survey(org)
    login(org["leader"])
    assert client.get(reverse("surveys:manage", args=[survey.pk])).status_code == 403
    assert client.get(reverse("surveys:results", args=[survey.pk])).status_code == 200
    assert Role.LEADERSHIP in {r.role for r in org["leader"].role_assignments.all()}
