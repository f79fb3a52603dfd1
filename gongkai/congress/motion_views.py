"""Motion pages: list, draft, detail, one page per step, the tracking table and its export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.congress import motions as services
from gongkai.congress import permissions as policy
from gongkai.congress import selectors
from gongkai.congress.export import tracking_workbook
from gongkai.congress.forms import (
    AnswerForm,
    AssignForm,
    AssistForm,
    DeclineForm,
    EmptyForm,
    MergeForm,
    MotionForm,
    RateForm,
    TrackingFilterForm,
)
from gongkai.congress.models import AnswerRole, Motion, MotionStatus, Session
from gongkai.congress.views import session_for, user_company
from gongkai.core.errors import ServiceError
from gongkai.core.spreadsheets import xlsx_response
from gongkai.org.models import OrgUnit

PER_PAGE = 30
EXPORT_MAX = 20_000


def motion_for(request: HttpRequest, pk: int) -> Motion:
    motion = get_object_or_404(selectors.with_relations(Motion.objects.all()), pk=pk)
    if not policy.can_see_motion(request.user, motion):
        raise Http404
    return motion


def _units(motion: Motion) -> Any:
    company = motion.session.term.company
    return OrgUnit.objects.filter(path__startswith=company.path, is_active=True).order_by("path")


@login_required
def motion_list(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    qs = selectors.public_motions(company).order_by("-session__held_on", "number", "-id")
    status = request.GET.get("status", "")
    if status in MotionStatus.values:
        qs = qs.filter(status=status)
    session = None
    if request.GET.get("session", "").isdigit():
        session = Session.objects.filter(
            pk=int(request.GET["session"]), term__company=company
        ).first()
        if session is not None:
            qs = qs.filter(session=session)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "congress/motions.html",
        {
            "company": company,
            "page": page,
            "status": status,
            "session": session,
            "statuses": [c for c in MotionStatus.choices if c[0] != MotionStatus.DRAFT],
            "counts": selectors.motion_counts(company),
            "drafts": selectors.my_drafts(request.user, company),
            "may_track": policy.can_track(request.user, company),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def motion_create(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_for(request, pk)
    if not policy.can_propose(request.user, session):
        raise PermissionDenied
    form = MotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            motion = services.motion_draft(
                actor=signed_in_user(request), session=session, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("Your draft is saved. Ask the other representatives for seconds when ready."),
            )
            return redirect("congress:motion_detail", pk=motion.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": _("New motion"), "session": session},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def motion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    motion = motion_for(request, pk)
    if not policy.can_edit_motion(request.user, motion):
        raise PermissionDenied
    initial = {"title": motion.title, "reasons": motion.reasons, "measures": motion.measures}
    form = MotionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.motion_update(
                actor=signed_in_user(request), motion=motion, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("congress:motion_detail", pk=motion.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": motion.title, "session": motion.session},
        status=400 if request.method == "POST" else 200,
    )


# step → (may the user take it?, form factory, service call, label, success message)
Step = tuple[
    Callable[[Any, Motion], bool],
    Callable[..., forms.Form],  # (motion, data), and the user for the assisting answer
    Callable[[Any, Motion, dict[str, Any]], Any],
    Any,
    Any,
]


def _assist_form(motion: Motion, data: Any, user: Any = None) -> forms.Form:
    return AssistForm(data, units=policy.assisting_units_for(user, motion))


def _proposer_may(motion: Motion, user: Any) -> bool:
    return motion.proposer_id == user.pk and policy.can_propose(user, motion.session)


STEPS: dict[str, Step] = {
    "seek": (
        lambda u, m: m.status == MotionStatus.DRAFT and _proposer_may(m, u),
        lambda m, data: EmptyForm(data),
        lambda u, m, d: services.motion_seek_seconds(actor=u, motion=m),
        gettext_lazy("Ask for seconds"),
        gettext_lazy("The other representatives can now second your motion."),
    ),
    "second": (
        lambda u, m: policy.can_second(u, m) and not m.seconds.filter(user=u).exists(),
        lambda m, data: EmptyForm(data),
        lambda u, m, d: services.motion_second(actor=u, motion=m),
        gettext_lazy("Second this motion"),
        gettext_lazy("You seconded the motion."),
    ),
    "submit": (
        lambda u, m: m.status in (MotionStatus.DRAFT, MotionStatus.SEEKING) and _proposer_may(m, u),
        lambda m, data: EmptyForm(data),
        lambda u, m, d: services.motion_submit(actor=u, motion=m),
        gettext_lazy("Submit to the motion committee"),
        gettext_lazy("The motion is submitted to the committee."),
    ),
    "register": (
        lambda u, m: m.status == MotionStatus.SUBMITTED and policy.can_handle(u, m),
        lambda m, data: EmptyForm(data),
        lambda u, m, d: services.motion_register(actor=u, motion=m),
        gettext_lazy("Register (立案)"),
        gettext_lazy("The motion is registered."),
    ),
    "merge": (
        lambda u, m: m.status == MotionStatus.SUBMITTED and policy.can_handle(u, m),
        lambda m, data: MergeForm(
            data,
            targets=Motion.objects.filter(
                session=m.session, status__in=services.REGISTERED_OR_LATER
            ).order_by("number"),
        ),
        lambda u, m, d: services.motion_merge(actor=u, motion=m, into=d["into"]),
        gettext_lazy("Merge into another motion"),
        gettext_lazy("The motion is merged."),
    ),
    "decline": (
        lambda u, m: m.status == MotionStatus.SUBMITTED and policy.can_handle(u, m),
        lambda m, data: DeclineForm(data, units=_units(m)),
        lambda u, m, d: services.motion_decline(
            actor=u, motion=m, reasons=d["reasons"], unit=d["unit"], category=d["category"]
        ),
        gettext_lazy("Decline and turn into a suggestion"),
        gettext_lazy("The motion is declined and goes on as a suggestion."),
    ),
    "assign": (
        lambda u, m: m.status in services.FLOW.sources("assign") and policy.can_handle(u, m),
        lambda m, data: AssignForm(
            data,
            units=_units(m),
            initial={
                "lead_unit": m.lead_unit,
                "due_on": m.due_on,
                "assisting_units": list(m.assisting_units.all()),
            },
        ),
        lambda u, m, d: services.motion_assign(
            actor=u,
            motion=m,
            lead_unit=d["lead_unit"],
            due_on=d["due_on"],
            assisting_units=d["assisting_units"],
        ),
        gettext_lazy("Assign to units"),
        gettext_lazy("The motion is assigned."),
    ),
    "chase": (
        lambda u, m: services.is_overdue(m) and policy.can_handle(u, m),
        lambda m, data: EmptyForm(data),
        lambda u, m, d: services.motion_chase(actor=u, motion=m),
        gettext_lazy("Chase (催办)"),
        gettext_lazy("The units are reminded."),
    ),
    "assist": (
        lambda u, m: policy.can_assist(u, m),
        _assist_form,
        lambda u, m, d: services.motion_assist(actor=u, motion=m, unit=d["unit"], text=d["text"]),
        gettext_lazy("Answer as an assisting unit"),
        gettext_lazy("Your unit's answer is sent to the lead unit."),
    ),
    "answer": (
        lambda u, m: policy.can_answer(u, m),
        lambda m, data: AnswerForm(
            data, initial={"measures": m.answer_measures, "result": m.answer_result}
        ),
        lambda u, m, d: services.motion_answer(
            actor=u, motion=m, measures=d["measures"], result=d["result"]
        ),
        gettext_lazy("Answer"),
        gettext_lazy("The answer is sent to the proposer."),
    ),
    "rate": (
        lambda u, m: policy.can_rate(u, m),
        lambda m, data: RateForm(data),
        lambda u, m, d: services.motion_rate(actor=u, motion=m, value=d["value"]),
        gettext_lazy("Rate the answer"),
        gettext_lazy("Thank you; your rating is recorded."),
    ),
}


def available_steps(user: Any, motion: Motion) -> list[tuple[str, Any]]:
    return [(name, step[3]) for name, step in STEPS.items() if step[0](user, motion)]


@login_required
def motion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    motion = motion_for(request, pk)
    return render(
        request,
        "congress/motion.html",
        {
            "motion": motion,
            "seconds": motion.seconds.select_related("user"),
            "required": motion.session.term.motion_seconds_required,
            "assisting": motion.assisting_units.all(),
            "merged": motion.merged_motions.all(),
            "history": selectors.answer_history(motion),
            "steps": available_steps(request.user, motion),
            "may_edit": policy.can_edit_motion(request.user, motion),
            "overdue": services.is_overdue(motion),
            "is_proposer": motion.proposer_id == request.user.pk,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def motion_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    motion = motion_for(request, pk)
    if step not in STEPS:
        raise Http404
    may, make_form, apply, label, done = STEPS[step]
    if not may(request.user, motion):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = make_form(motion, data, request.user) if step == "assist" else make_form(motion, data)
    if request.method == "POST" and form.is_valid():
        try:
            apply(request.user, motion, form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, str(done))
            return redirect("congress:motion_detail", pk=motion.pk)
    return render(
        request,
        "congress/motion_step.html",
        {
            "motion": motion,
            "form": form,
            "step": step,
            "label": label,
            **(_assisting_context(motion) if step == "answer" else {}),
        },
        status=400 if request.method == "POST" else 200,
    )


def _assisting_context(motion: Motion) -> dict[str, Any]:
    """What the lead unit sees on its answer page: the assisting units' answers of this
    round and the assisting units that have not answered yet."""
    this_round = services.answer_round(motion)
    given = [
        a
        for a in selectors.answers_of(motion)
        if a.role == AnswerRole.ASSISTING and a.round == this_round
    ]
    answered = {a.unit_id for a in given}
    return {
        "assisting_answers": given,
        "assisting_missing": [u for u in motion.assisting_units.all() if u.pk not in answered],
    }


# --- Tracking (the committee) -----------------------------------------------------------------


def _tracking(request: HttpRequest) -> tuple[Any, TrackingFilterForm, Any]:
    company = user_company(request)
    if not policy.can_track(request.user, company):
        raise PermissionDenied
    units = OrgUnit.objects.filter(path__startswith=company.path, is_active=True).order_by("path")
    form = TrackingFilterForm(request.GET or None, units=units)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "status": form.cleaned_data["status"],
            "unit": form.cleaned_data["unit"],
            "overdue": form.cleaned_data["overdue"],
        }
    return company, form, selectors.tracking(company, **filters)


@login_required
def tracking(request: HttpRequest) -> HttpResponse:
    company, form, qs = _tracking(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "congress/tracking.html",
        {
            "company": company,
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "counts": selectors.motion_counts(company),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def tracking_xlsx(request: HttpRequest) -> HttpResponse:
    company, _form, qs = _tracking(request)
    data = tracking_workbook(qs[:EXPORT_MAX], today=timezone.localdate())
    stamp = timezone.localdate().isoformat()
    return xlsx_response(data, f"motions-{company.code}-{stamp}.xlsx")
