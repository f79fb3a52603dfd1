"""Access-matrix rows for the surveys app's URL patterns (see tests/test_access_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

RESULTS = {"union": 200, "leader": 200, "supervisor": 200}


def survey(o: Org, *, unit=None, state: str = "open"):
    """A survey of the company (or ``unit``) with two questions: a draft, opened and running
    today, or closed."""
    from django.utils import timezone

    from gongkai.surveys import services

    today = timezone.localdate()
    s = services.survey_create(
        actor=o["union"],
        title="满意度测评",
        unit=getattr(o, unit) if unit else o.company,
        starts_on=today,
        ends_on=today + timedelta(days=7),
    )
    services.question_add(actor=o["union"], survey=s, kind="rating", text="满意吗")
    services.question_add(actor=o["union"], survey=s, kind="text", text="建议")
    if state != "draft":
        services.survey_open(actor=o["union"], survey=s)
    if state == "closed":
        services.survey_close(actor=o["union"], survey=s)
    return s


def url(name: str, **kw):
    def build(o: Org) -> str:
        s = survey(o, **kw)
        return reverse(f"surveys:{name}", args=[s.pk])

    return build


def question_url(name: str, state: str = "draft"):
    def build(o: Org) -> str:
        s = survey(o, state=state)
        return reverse(f"surveys:{name}", args=[s.pk, s.questions.first().pk])

    return build


DRAFT_ONLY_UNION = {"union": 200}
BOILER_VIEWERS = {
    "union": 200,
    "leader": 200,
    "supervisor": 200,
    "depthead": 200,
    "teamlead": 200,
    "rep": 200,
    "employee": 200,
}

ROWS: dict[str, list[Row]] = {
    "surveys:index": [(lambda o: reverse("surveys:index"), everyone(200))],
    "surveys:create": [(lambda o: reverse("surveys:create"), only({"union": 200}))],
    "surveys:detail": [
        (url("detail"), everyone(200)),
        (url("detail", state="draft"), only(DRAFT_ONLY_UNION, others=404)),
        (url("detail", state="closed"), everyone(200)),
        (url("detail", unit="boiler"), only(BOILER_VIEWERS, others=404)),
        (lambda o: reverse("surveys:detail", args=[999999]), everyone(404)),
    ],
    "surveys:manage": [
        (url("manage"), only({"union": 200})),
        (url("manage", state="draft"), only(DRAFT_ONLY_UNION, others=404)),
    ],
    "surveys:edit": [
        (url("edit", state="draft"), only(DRAFT_ONLY_UNION, others=404)),
        (url("edit"), only({"union": 302})),  # started: back to the manage page
    ],
    "surveys:question_add": [(url("question_add", state="draft"), everyone(405))],
    "surveys:question_delete": [
        (question_url("question_delete"), only(DRAFT_ONLY_UNION, others=404)),
    ],
    "surveys:question_move": [(question_url("question_move"), everyone(405))],
    "surveys:open": [(url("open", state="draft"), only(DRAFT_ONLY_UNION, others=404))],
    "surveys:close": [(url("close"), only({"union": 200}))],
    "surveys:results": [
        (url("results"), only(RESULTS)),
        (url("results", state="closed"), only(RESULTS)),
        (url("results", state="draft"), only({"union": 404}, others=404)),
    ],
    "surveys:results_xlsx": [
        (url("results_xlsx", state="closed"), only(RESULTS)),
        (url("results_xlsx"), only({"union": 404, "leader": 404, "supervisor": 404})),
    ],
}
