"""Survey pages: list, answer, manage (edit, questions, open, close), results, .xlsx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.core.spreadsheets import xlsx_response
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, visible_scope_paths
from gongkai.surveys import charts, exports, selectors, services
from gongkai.surveys import permissions as survey_policy
from gongkai.surveys.forms import AnswerForm, QuestionForm, SurveyForm
from gongkai.surveys.models import Phase, Question, Survey, SurveyStatus

PER_PAGE = 20


def survey_for(request: HttpRequest, pk: int) -> Survey:
    """The survey if this user may see it; the same 404 when missing or not theirs."""
    survey = get_object_or_404(Survey.objects.select_related("unit"), pk=pk)
    if not survey_policy.can_view(request.user, survey):
        raise Http404
    return survey


def managed_survey(request: HttpRequest, pk: int) -> Survey:
    survey = survey_for(request, pk)
    if not survey_policy.can_manage(request.user, survey):
        raise PermissionDenied
    return survey


@dataclass(frozen=True)
class Sealing:
    """An ended survey waiting for the sealing task: when it next runs, and how often."""

    at: datetime
    every_minutes: int


def sealing_expected(phase: Phase) -> Sealing | None:
    """For an ended survey not sealed yet: when the sealing task is next expected to run."""
    if phase != Phase.ENDED:
        return None
    return Sealing(at=services.next_sealing_run(), every_minutes=services.SEAL_EVERY_MINUTES)


def manageable_units(request: HttpRequest) -> QuerySet[OrgUnit]:

    roots = visible_scope_paths(request.user, Action.SURVEY_MANAGE)
    if not roots:
        return OrgUnit.objects.none()
    within = Q()
    for root in roots:
        within |= Q(path__startswith=root)
    return OrgUnit.objects.filter(within, is_active=True).order_by("path")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    surveys = list(selectors.visible_surveys(request.user))
    answered = selectors.answered_ids(request.user, [s.pk for s in surveys])
    current, past = [], []
    for survey in surveys:
        survey.my_answered = survey.pk in answered  # type: ignore[attr-defined]
        survey.my_phase = survey.phase()  # type: ignore[attr-defined]
        if survey.my_phase in (Phase.ENDED, Phase.CLOSED):  # type: ignore[attr-defined]
            past.append(survey)
        else:
            current.append(survey)
    return render(
        request,
        "surveys/index.html",
        {
            "current": current,
            "past": Paginator(past, PER_PAGE).get_page(request.GET.get("page")),
            "may_manage": can(request.user, Action.SURVEY_MANAGE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.SURVEY_MANAGE):
        raise PermissionDenied
    units = manageable_units(request)
    form = SurveyForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(actor=signed_in_user(request), **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Draft survey created. Now add its questions."))
            return redirect("surveys:manage", survey.pk)
    return render(request, "surveys/form.html", {"form": form, "survey": None})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    if not services.is_editable(survey):
        messages.error(
            request, _("This survey can no longer be changed: it has started or has answers.")
        )
        return redirect("surveys:manage", survey.pk)
    initial = {
        "title": survey.title,
        "intro": survey.intro,
        "unit": survey.unit,
        "starts_on": survey.starts_on,
        "ends_on": survey.ends_on,
        "results_published": survey.results_published,
    }
    form = SurveyForm(request.POST or None, initial=initial, units=manageable_units(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_update(
                actor=signed_in_user(request), survey=survey, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("surveys:manage", survey.pk)
    return render(request, "surveys/form.html", {"form": form, "survey": survey})


def manage_page(
    request: HttpRequest,
    survey: Survey,
    question_form: QuestionForm,
    rates: list[selectors.UnitRate],
    status: int = 200,
) -> HttpResponse:
    """The survey's management page: its questions, the form for one more, the response rates."""
    phase = survey.phase()
    return render(
        request,
        "surveys/manage.html",
        {
            "survey": survey,
            "phase": phase,
            "sealing": sealing_expected(phase),
            "questions": list(survey.questions.order_by("order")),
            "editable": services.is_editable(survey),
            "question_form": question_form,
            "rates": rates,
        },
        status=status,
    )


@login_required
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    rates = selectors.response_rates(survey) if survey.status != SurveyStatus.DRAFT else []
    return manage_page(request, survey, QuestionForm(), rates)


@login_required
@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_add(actor=signed_in_user(request), survey=survey, **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Question added."))
            return redirect("surveys:manage", survey.pk)
    return manage_page(request, survey, form, [], status=400)


def question_of(survey: Survey, question_pk: int) -> Question:
    return get_object_or_404(Question, pk=question_pk, survey=survey)


def confirmed(
    request: HttpRequest,
    survey: Survey,
    action: Callable[[], object],
    done: str,
    page: dict[str, object],
    then: str = "surveys:manage",
) -> HttpResponse:
    """The confirmation page (``page``: its heading, detail, button…); on POST, ``action()``,
    then the message ``done`` and the survey's ``then`` page, or the refusal's message and the
    survey's management page."""
    if request.method == "POST":
        try:
            action()
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("surveys:manage", survey.pk)
        messages.success(request, done)
        return redirect(then, survey.pk)
    return render(request, "surveys/confirm.html", {"survey": survey, **page})


@login_required
@require_http_methods(["GET", "POST"])
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    question = question_of(survey, question_pk)
    return confirmed(
        request,
        survey,
        lambda: services.question_remove(
            actor=signed_in_user(request), survey=survey, question=question
        ),
        _("Question removed."),
        {
            "heading": _("Remove this question?"),
            "detail": question.text,
            "button": _("Remove the question"),
        },
    )


@login_required
@require_POST
def question_move(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    question = question_of(survey, question_pk)
    try:
        services.question_move(
            actor=signed_in_user(request),
            survey=survey,
            question=question,
            up=request.POST.get("direction") != "down",
        )
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("surveys:manage", survey.pk)


@login_required
@require_http_methods(["GET", "POST"])
def open_survey(request: HttpRequest, pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    return confirmed(
        request,
        survey,
        lambda: services.survey_open(actor=signed_in_user(request), survey=survey),
        _("The survey is open to the addressed employees."),
        {
            "heading": _("Open this survey?"),
            "detail": _(
                "Every employee of %(unit)s and the units below it can answer from %(start)s to "
                "%(end)s. The questions can be changed until the first day."
            )
            % {"unit": survey.unit.name, "start": survey.starts_on, "end": survey.ends_on},
            "button": _("Open the survey"),
            "primary": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def close_survey(request: HttpRequest, pk: int) -> HttpResponse:
    survey = managed_survey(request, pk)
    publish = request.POST.get("results_published") == "on"
    return confirmed(
        request,
        survey,
        lambda: services.survey_close(
            actor=signed_in_user(request), survey=survey, results_published=publish
        ),
        _("The survey is closed and its answers are sealed."),
        {
            "heading": _("Close this survey?"),
            "detail": _(
                "Nobody can answer any more, even before the last day. The answers are shuffled "
                "and sealed, and the results are shown. This cannot be undone."
            ),
            "button": _("Close and seal"),
            "checkbox": {
                "name": "results_published",
                "checked": survey.results_published,
                "label": _(
                    "Publish the results to the employees asked: the figures only, never an "
                    "individual answer"
                ),
            },
        },
        then="surveys:results",
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The survey as an employee sees it: the answer form, or where things stand."""
    survey = survey_for(request, pk)
    phase = survey.phase()
    addressed = survey_policy.is_addressed(request.user, survey)
    answered = selectors.has_answered(request.user, survey)
    questions = list(survey.questions.order_by("order"))
    form = None
    if addressed and not answered and phase == Phase.RUNNING:
        form = AnswerForm(request.POST or None, questions=questions)
        if request.method == "POST":
            try:
                services.survey_answer(
                    actor=signed_in_user(request), survey=survey, answers=request.POST
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Thank you: your answers are in the ballot box."))
                return redirect("surveys:detail", survey.pk)
    elif request.method == "POST":
        if answered:
            messages.error(request, services.already_answered())
        elif not addressed:
            messages.error(request, _("This survey is not addressed to you."))
        else:
            messages.error(request, _("This survey is not open for answers."))
        return redirect("surveys:detail", survey.pk)
    return render(
        request,
        "surveys/detail.html",
        {
            "survey": survey,
            "phase": phase,
            "sealing": sealing_expected(phase),
            "addressed": addressed,
            "answered": answered,
            "form": form,
            "questions": questions,
            "may_manage": survey_policy.can_manage(request.user, survey),
            "may_results": survey_policy.can_see_results(request.user, survey)
            or survey_policy.can_read_published_results(request.user, survey),
        },
        status=400 if form is not None and form.errors else 200,
    )


def results_survey(request: HttpRequest, pk: int) -> tuple[Survey, bool]:
    """The survey whose results this user may read, and whether they may read everything
    (result readers and managers) or only the published figures (addressed employees)."""
    survey = survey_for(request, pk)
    if survey_policy.can_see_results(request.user, survey):
        if survey.status == SurveyStatus.DRAFT:
            raise Http404
        # Never sealed here: a GET changes nothing. An ended survey is sealed by the periodic
        # task (gongkai.surveys.tasks.seal_ended); until then the page says when to expect it.
        return survey, True
    if survey_policy.can_read_published_results(request.user, survey):
        return survey, False
    raise PermissionDenied


@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    survey, everything = results_survey(request, pk)
    found = selectors.survey_results(survey, texts_shown=selectors.TEXTS_SHOWN if everything else 0)
    if not everything:  # the figures only: never an individual (free-text) answer
        found.texts = []
    phase = survey.phase()
    return render(
        request,
        "surveys/results.html",
        {
            "survey": survey,
            "phase": phase,
            "sealing": sealing_expected(phase),
            "results": found,
            "chart_data": charts.chart_data(found),
            "may_manage": survey_policy.can_manage(request.user, survey),
            "everything": everything,
        },
    )


@login_required
def results_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    survey, everything = results_survey(request, pk)
    if not everything:  # the .xlsx holds every free-text answer
        raise PermissionDenied
    if survey.status != SurveyStatus.CLOSED:
        raise Http404
    found = selectors.survey_results(survey, texts_shown=10**9)
    return xlsx_response(exports.results_workbook(found), f"survey-{survey.pk}-results.xlsx")
