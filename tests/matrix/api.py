"""Access-matrix rows of the JSON API (asked with the signed-in session, as a browser would)
and of the token and service account pages. Visitors get the API's 401 (JSON), not the
login page; the OpenAPI document and its interactive page are public (they hold no data).
Operations that only write answer a GET with 405."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.conftest import Org
from tests.matrix.helpers import ANON, PERSONAS, Row, everyone, only

API = "/api/v1"
READ_ALL_COMPANY = {"union": 200, "leader": 200, "supervisor": 200, "discipline": 200}


def api_everyone(code: int = 200) -> dict[str, int]:
    return everyone(code, anon=401)


def api_only(allowed: dict[str, int], others: int = 404) -> dict[str, int]:
    return only(allowed, others=others, anon=401)


def write_only() -> dict[str, int]:
    return {ANON: 405, **dict.fromkeys(PERSONAS, 405)}


def public(code: int = 200) -> dict[str, int]:
    return {ANON: code, **dict.fromkeys(PERSONAS, code)}


def turbine_item(o: Org):
    """An internal item of the turbine team: none of the boiler personas reads it."""
    from tests.factories import published_disclosure

    return published_disclosure(unit=o.turbine_team, entry_code="team-bonus", period="2026-10")


def suggestion(o: Org):
    from gongkai.voice.services import suggestion_submit

    return suggestion_submit(
        actor=o["employee"], unit=o.company, category="management", title="建议", body="内容"
    )


def own_token(o: Org):
    from gongkai.api.services import personal_token_create

    token, _raw = personal_token_create(
        actor=o["employee"],
        name="矩阵",
        scope="read",
        units=[],
        expires_on=timezone.localdate() + timedelta(days=5),
    )
    return token


def service(o: Org):
    from gongkai.api.services import service_account_create

    return service_account_create(
        actor=o["union"], name="人力资源系统", description="", role="union_office", unit=o.company
    )


def turbine_window(o: Org):
    """A publicity window, open today, on an internal item of the turbine team."""
    from gongkai.publicity.models import PublicityKind
    from gongkai.publicity.services import publicity_open

    today = timezone.localdate()
    return publicity_open(
        actor=o["union"],
        disclosure=turbine_item(o),
        kind=PublicityKind.GENERAL,
        starts_on=today,
        ends_on=today + timedelta(days=5),
    )


def turbine_survey(o: Org):
    """An opened survey addressed to the turbine shop: its managers and result readers see
    it, the boiler personas are not asked."""
    from gongkai.surveys import services as surveys

    today = timezone.localdate()
    survey = surveys.survey_create(
        actor=o["union"],
        title="满意度测评",
        unit=o.turbine,
        starts_on=today,
        ends_on=today + timedelta(days=5),
    )
    surveys.question_add(actor=o["union"], survey=survey, kind="rating", text="是否满意")
    return surveys.survey_open(actor=o["union"], survey=survey)


ROWS: dict[str, list[Row]] = {
    "api-1:api-root": [(lambda o: API + "/", public(404))],
    "api-1:openapi-json": [(lambda o: API + "/openapi.json", public())],
    "api-1:openapi-view": [(lambda o: API + "/docs", public())],
    "api-1:me": [(lambda o: API + "/me", api_everyone())],
    "api-1:units": [(lambda o: API + "/units", api_everyone())],
    "api-1:unit": [
        (lambda o: API + "/units/rd-boiler", api_everyone()),
        (lambda o: API + "/units/no-such-unit", api_everyone(404)),
    ],
    "api-1:board_items": [
        (lambda o: API + "/boards/rd-boiler-1/items", api_everyone()),
        (lambda o: API + "/boards/other-fin/items", api_everyone(403)),
    ],
    "api-1:disclosure": [
        (lambda o: f"{API}/disclosures/{turbine_item(o).pk}", api_only(READ_ALL_COMPANY)),
    ],
    "api-1:proof": [
        (lambda o: f"{API}/disclosures/{turbine_item(o).pk}/proof", api_only(READ_ALL_COMPANY)),
    ],
    "api-1:search": [(lambda o: API + "/search?q=公开", api_everyone())],
    "api-1:catalog": [(lambda o: API + "/catalog", api_everyone())],
    "api-1:obligations": [(lambda o: API + "/units/rd/obligations", api_everyone())],
    "api-1:suggestion_list": [(lambda o: API + "/suggestions", api_everyone())],
    "api-1:suggestion_submit": [(lambda o: API + "/suggestions", api_everyone())],
    "api-1:suggestion_detail": [
        (lambda o: f"{API}/suggestions/{suggestion(o).pk}", api_everyone()),
    ],
    "api-1:follow": [(lambda o: f"{API}/suggestions/{suggestion(o).pk}/following", write_only())],
    "api-1:unfollow": [(lambda o: f"{API}/suggestions/{suggestion(o).pk}/following", write_only())],
    "api-1:notifications": [(lambda o: API + "/notifications", api_everyone())],
    "api-1:mark_read": [(lambda o: API + "/notifications/read", write_only())],
    "api-1:window_list": [(lambda o: API + "/publicity/windows", api_everyone())],
    "api-1:window_detail": [
        (lambda o: f"{API}/publicity/windows/{turbine_window(o).pk}", api_only(READ_ALL_COMPANY)),
    ],
    "api-1:objection_file": [(lambda o: API + "/publicity/windows/1/objections", write_only())],
    "api-1:survey_list": [(lambda o: API + "/surveys", api_everyone())],
    "api-1:survey_detail": [
        (
            lambda o: f"{API}/surveys/{turbine_survey(o).pk}",
            api_only({"union": 200, "leader": 200, "supervisor": 200}),
        ),
    ],
    "api-1:survey_answer": [(lambda o: API + "/surveys/1/answers", write_only())],
    "api-1:roster_sync": [(lambda o: API + "/roster/rd/sync", write_only())],
    "api:tokens": [(lambda o: reverse("api:tokens"), everyone(200))],
    "api:token_revoke": [
        (
            lambda o: reverse("api:token_revoke", args=[own_token(o).pk]),
            only({"employee": 200}, 404),
        )
    ],
    "api:services": [(lambda o: reverse("api:services"), only({"union": 200}))],
    "api:service": [
        (lambda o: reverse("api:service", args=[service(o).pk]), only({"union": 200}, 404))
    ],
    "api:service_disable": [
        (lambda o: reverse("api:service_disable", args=[service(o).pk]), only({"union": 200}, 404))
    ],
}
