"""Satisfaction surveys (满意度测评): the surveys the caller may see, one survey with its
questions, and answering it. The same permission functions, selectors and service as the
pages (gongkai.surveys).

Answers go into the same sealed ballot box as the page's (``services.survey_answer``): the
response says only that they are in; nothing of anybody's answers is ever read back, and
results stay on the pages. Answering is not recorded as a use of the token
(``auth_methods(record_use=False)``): the ballot box keeps no time, and neither may the
audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from gongkai.api.auth import auth_methods, caller, require_in_scope, scope_q
from gongkai.api.endpoints.me import unit_ref
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.surveys import permissions as survey_policy
from gongkai.surveys import selectors, services
from gongkai.surveys.models import (
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
    Phase,
    QuestionKind,
    Survey,
    SurveyStatus,
)

router = Router(tags=["surveys"])


class SurveyOut(Schema):
    id: int
    title: str
    unit: UnitRef = Field(description="Addressed to the employees of this unit and below")
    starts_on: date
    ends_on: date
    phase: Phase
    phase_name: str
    addressed: bool = Field(description="The survey asks the caller")
    answered: bool = Field(description="The caller has answered it")
    may_answer: bool = Field(description="The caller may answer it now")
    results_published: bool = Field(
        description="Its figures are shown to the employees asked once it is closed"
    )
    url: str


class ChoiceOut(Schema):
    value: Satisfaction
    label: str


class QuestionOut(Schema):
    id: int
    number: int
    kind: QuestionKind
    text: str
    field: str = Field(description="Its key in the answers: q<id>")
    required: bool
    choices: list[ChoiceOut] = Field(description="For a rating: the values offered")
    max_length: int | None = Field(description="For free text: the most characters")


class SurveyDetail(SurveyOut):
    intro: str
    questions: list[QuestionOut]


class SurveyFilter(Schema):
    open: bool = Field(False, description="Only those open for answers today")


AnswerKey = Annotated[str, StringConstraints(pattern=r"^q[1-9][0-9]{0,17}$")]
AnswerValue = Annotated[str, StringConstraints(max_length=MAX_TEXT_ANSWER)]


class AnswersIn(Schema):
    answers: dict[AnswerKey, AnswerValue] = Field(
        max_length=MAX_QUESTIONS,
        json_schema_extra={"additionalProperties": False},  # only q<id> keys
        description=(
            "q<question id> → for a rating question one of its choices (required), for a "
            "free-text question the text (optional). Keys of other questions are ignored."
        ),
    )


class Answered(Schema):
    answered: bool
    message: str


def survey_row(survey: Survey, user: Any, answered: bool, today: date) -> dict[str, Any]:
    phase = survey.phase(today)
    addressed = survey_policy.is_addressed(user, survey)
    return {
        "id": survey.pk,
        "title": survey.title,
        "unit": unit_ref(survey.unit),
        "starts_on": survey.starts_on,
        "ends_on": survey.ends_on,
        "phase": phase,
        "phase_name": str(phase.label),
        "addressed": addressed,
        "answered": answered,
        "may_answer": not answered and survey_policy.can_answer(user, survey, today),
        "results_published": survey.results_published,
        "url": reverse("surveys:detail", args=[survey.pk]),
    }


def survey_for(request: HttpRequest, pk: int) -> Survey:
    """The survey if the caller may see it (as the page: the same 404 when missing or not
    theirs), within the token's units."""
    survey = get_object_or_404(Survey.objects.select_related("unit"), pk=pk)
    if not survey_policy.can_view(caller(request), survey):
        raise Http404
    require_in_scope(request, survey.unit)
    return survey


@router.get("/surveys", response=responses(Page[SurveyOut]), summary="Surveys I may see")
def survey_list(
    request: HttpRequest, paging: Query[PageQuery], where: Query[SurveyFilter]
) -> dict[str, Any]:
    user = caller(request)
    today = timezone.localdate()
    qs = selectors.visible_surveys(user).filter(scope_q(request))
    if where.open:
        qs = qs.filter(status=SurveyStatus.OPEN, starts_on__lte=today, ends_on__gte=today)
    page = page_of(qs.order_by("-starts_on", "-pk"), paging)
    answered = selectors.answered_ids(user, [s.pk for s in page["items"]])
    page["items"] = [survey_row(s, user, s.pk in answered, today) for s in page["items"]]
    return page


@router.get(
    "/surveys/{pk}",
    response=responses(SurveyDetail),
    summary="A survey: its questions, and whether I have answered",
)
def survey_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    survey = survey_for(request, pk)
    user = caller(request)
    questions = []
    for number, question in enumerate(survey.questions.order_by("order"), start=1):
        rating = question.kind == QuestionKind.RATING
        questions.append(
            {
                "id": question.pk,
                "number": number,
                "kind": question.kind,
                "text": question.text,
                "field": f"q{question.pk}",
                "required": rating,
                "choices": [{"value": v, "label": str(v.label)} for v in Satisfaction]
                if rating
                else [],
                "max_length": None if rating else MAX_TEXT_ANSWER,
            }
        )
    answered = selectors.has_answered(user, survey)
    return {
        **survey_row(survey, user, answered, timezone.localdate()),
        "intro": survey.intro,
        "questions": questions,
    }


@router.post(
    "/surveys/{pk}/answers",
    response=responses(Answered, 201),
    auth=auth_methods(record_use=False),
    summary="Answer a survey, once, into its sealed ballot box",
)
def survey_answer(request: HttpRequest, pk: int, body: AnswersIn) -> Status[dict[str, Any]]:
    survey = survey_for(request, pk)
    user = caller(request)
    if not survey_policy.is_addressed(user, survey):
        raise PermissionDenied
    if selectors.has_answered(user, survey):  # as the page: refused whatever was sent
        raise ServiceError(services.already_answered())
    services.survey_answer(actor=user, survey=survey, answers=body.answers)
    message = _("Thank you: your answers are in the ballot box.")
    return Status(201, {"answered": True, "message": message})
