"""Published survey results: when a survey says its results are published, the employees it
addressed read them once it is closed — the figures only (never a free-text answer, never the
.xlsx), and nothing for groups below the minimum number of respondents."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.surveys import selectors, services
from gongkai.surveys.models import Survey, SurveyStatus
from tests.conftest import Org
from tests.test_surveys import TODAY, answers_for, fill, make_survey, staff

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(f"{TODAY.isoformat()} 10:00 +0800", tick=True):
        yield


def published_and_closed(org: Org, *, published: bool = True) -> Survey:
    survey = make_survey(org, opened=False)
    fill(org, survey)  # 13 respondents, free-text answers "boiler-0" …
    services.survey_close(actor=org["union"], survey=survey, results_published=published)
    survey.refresh_from_db()
    return survey


def results_url(survey: Survey) -> str:
    return reverse("surveys:results", args=[survey.pk])


def test_employees_read_the_figures_of_a_closed_survey_with_published_results(
    org: Org, login, client
):
    survey = published_and_closed(org)
    assert survey.results_published
    login(org["employee"])
    detail = client.get(reverse("surveys:detail", args=[survey.pk])).content.decode()
    assert results_url(survey) in detail  # the survey's page links to its results
    page = client.get(results_url(survey))
    assert page.status_code == 200
    html = page.content.decode()
    overall = selectors.survey_results(survey).overall
    assert overall is not None
    assert f"{overall.score:.1f}" in html  # the satisfaction score
    assert '<dd class="respondents">13</dd>' in html
    assert "锅炉运行一班" in html  # the pooled rows by unit (each of at least five people)
    # never an individual answer: no free text, no download with them
    for text in ("boiler-0", "turbine-1", "union-0"):
        assert text not in html
    assert reverse("surveys:results_xlsx", args=[survey.pk]) not in html
    xlsx = client.get(reverse("surveys:results_xlsx", args=[survey.pk]))
    assert xlsx.status_code == 403


def test_result_readers_still_see_everything(org: Org, login, client):
    survey = published_and_closed(org)
    login(org["leader"])
    html = client.get(results_url(survey)).content.decode()
    assert "boiler-0" in html
    assert reverse("surveys:results_xlsx", args=[survey.pk]) in html


def test_unpublished_results_stay_closed_to_employees(org: Org, login, client):
    survey = published_and_closed(org, published=False)
    login(org["employee"])
    assert (
        results_url(survey)
        not in client.get(reverse("surveys:detail", args=[survey.pk])).content.decode()
    )
    assert client.get(results_url(survey)).status_code == 403


def test_published_results_are_not_shown_before_the_survey_is_closed(org: Org, login, client):
    survey = make_survey(org, opened=False)
    survey = services.survey_update(
        actor=org["union"],
        survey=survey,
        title=survey.title,
        intro=survey.intro,
        unit=survey.unit,
        starts_on=survey.starts_on,
        ends_on=survey.ends_on,
        results_published=True,
    )
    fill(org, survey)
    login(org["employee"])
    assert client.get(results_url(survey)).status_code == 403  # running
    with time_machine.travel(f"{(TODAY + timedelta(days=8)).isoformat()} 10:00 +0800"):
        # ended but not sealed: an employee's visit neither shows nor seals anything
        login(org["employee"])  # (a session lasts at most 12 hours)
        assert client.get(results_url(survey)).status_code == 403
        survey.refresh_from_db()
        assert survey.status == SurveyStatus.OPEN


def test_published_results_of_too_few_respondents_are_withheld(org: Org, login, client):
    survey = make_survey(org)
    for user in staff(org.boiler_team, 4, "S"):
        services.survey_answer(actor=user, survey=survey, answers=answers_for(survey, text="秘密"))
    services.survey_close(actor=org["union"], survey=survey, results_published=True)
    login(org["employee"])
    page = client.get(results_url(survey))
    assert page.status_code == 200
    html = page.content.decode()
    assert b"withheld" in page.content and "秘密" not in html
    assert 'class="score"' not in html


def test_employees_outside_the_addressed_unit_do_not_see_published_results(org: Org, login, client):
    survey = make_survey(org, unit=org.turbine, opened=False)
    staff_turbine = staff(org.turbine_team, 5, "T")
    services.survey_open(actor=org["union"], survey=survey)
    for user in staff_turbine:
        services.survey_answer(actor=user, survey=survey, answers=answers_for(survey))
    services.survey_close(actor=org["union"], survey=survey, results_published=True)
    login(org["employee"])  # the boiler team: not addressed
    assert client.get(results_url(survey)).status_code == 404
    login(org["outsider"])
    assert client.get(results_url(survey)).status_code == 404


def test_the_union_office_publishes_the_results_when_closing_and_it_is_audited(
    org: Org, login, client
):
    survey = make_survey(org)
    login(org["union"])
    confirm = client.get(reverse("surveys:close", args=[survey.pk])).content.decode()
    assert 'name="results_published"' in confirm
    response = client.post(reverse("surveys:close", args=[survey.pk]), {"results_published": "on"})
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED and survey.results_published
    event = AuditEvent.objects.get(action="survey.closed", target_id=str(survey.pk))
    assert event.after["results_published"] is True


def test_the_choice_is_made_in_the_survey_form_too(org: Org, login, client):
    login(org["union"])
    response = client.post(
        reverse("surveys:create"),
        {
            "title": "食堂满意度测评",
            "unit": org.company.pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=3)).isoformat(),
            "results_published": "on",
        },
    )
    assert response.status_code == 302
    survey = Survey.objects.get(title="食堂满意度测评")
    assert survey.results_published
    assert AuditEvent.objects.get(action="survey.created").after["results_published"] is True


def test_employees_may_not_publish_results(org: Org, login, client):
    survey = make_survey(org)
    with pytest.raises(ServiceError):
        services.survey_close(actor=org["employee"], survey=survey, results_published=True)
    login(org["employee"])
    response = client.post(reverse("surveys:close", args=[survey.pk]), {"results_published": "on"})
    assert response.status_code == 403
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN and not survey.results_published


def test_the_demo_shows_a_closed_survey_with_published_results(db, client):
    from gongkai.accounts.models import User
    from gongkai.demo import surveys as demo
    from gongkai.demo.org import seed_org

    seed_org(employees_per_team=3)
    demo.seed()
    past = Survey.objects.get(status=SurveyStatus.CLOSED)
    assert past.results_published
    client.force_login(User.objects.get(employee_no="employee"))
    page = client.get(results_url(past))
    assert page.status_code == 200 and b'class="score"' in page.content
