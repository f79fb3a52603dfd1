"""Pages of circulars (draft, edit, issue; PDF and .docx through a background job) and
accountability decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from gongkai.accounts.requests import AuthedRequest
from gongkai.core import jobs
from gongkai.core.errors import ServiceError
from gongkai.policy.rules import Action, can, visible_scope_paths
from gongkai.supervision import jobs as circular_jobs
from gongkai.supervision.accountability import accountability_record
from gongkai.supervision.circulars import (
    circular_draft,
    circular_issue,
    circular_update,
)
from gongkai.supervision.forms import AccountabilityForm, CircularForm
from gongkai.supervision.models import AccountabilityDecision, Circular, Finding
from gongkai.supervision.permissions import (
    accountability_q,
    can_manage_circular,
    can_read_circular,
    can_view_accountability,
    circulars_q,
)
from gongkai.supervision.views import PER_PAGE, round_for

# --- Circulars -------------------------------------------------------------------------------


@login_required
@require_safe
def circular_list(request: AuthedRequest) -> HttpResponse:
    circulars = (
        Circular.objects.filter(circulars_q(request.user))
        .select_related("round", "supersedes")
        .prefetch_related("superseded_by")
    )
    page = Paginator(circulars, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "supervision/circular_list.html", {"page": page})


def circular_for(request: AuthedRequest, pk: int, *, manage: bool = False) -> Circular:
    circular = get_object_or_404(
        Circular.objects.select_related(
            "round__company", "supersedes", "disclosure", "disclosure__published_revision"
        ),
        pk=pk,
    )
    allowed = can_manage_circular if manage else can_read_circular
    if not allowed(request.user, circular):
        raise PermissionDenied
    return circular


@login_required
@require_safe
def circular_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    circular = circular_for(request, pk)
    superseded_by = circular.superseded_by.filter(status="issued").first()
    return render(
        request,
        "supervision/circular_detail.html",
        {
            "circular": circular,
            "superseded_by": superseded_by,
            "may_manage": can_manage_circular(request.user, circular),
        },
    )


@login_required
@require_POST
def circular_create(request: AuthedRequest, pk: int) -> HttpResponse:
    """Draft the circular of a closed round (POST from the round's page)."""
    round = round_for(request, pk, manage=True)
    try:
        circular = circular_draft(actor=request.user, round=round)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("supervision:round_detail", pk=round.pk)
    messages.success(request, _("A draft circular was generated from the round; review it."))
    return redirect("supervision:circular_edit", pk=circular.pk)


@login_required
@require_POST
def circular_supersede(request: AuthedRequest, pk: int) -> HttpResponse:
    old = circular_for(request, pk, manage=True)
    try:
        circular = circular_draft(actor=request.user, round=old.round, supersedes=old)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("supervision:circular_detail", pk=old.pk)
    messages.success(request, _("A new draft that will supersede the circular was created."))
    return redirect("supervision:circular_edit", pk=circular.pk)


@login_required
@require_http_methods(["GET", "POST"])
def circular_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    circular = circular_for(request, pk, manage=True)
    if circular.is_issued:
        messages.error(
            request,
            _(
                "This circular has been issued and cannot be changed; draft a new one to "
                "supersede it."
            ),
        )
        return redirect("supervision:circular_detail", pk=circular.pk)
    form = CircularForm(
        request.POST or None, initial=CircularForm.initial_for(circular), circular=circular
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                circular_update(
                    actor=request.user,
                    circular=circular,
                    title=form.cleaned_data["title"],
                    number=form.cleaned_data["number"],
                    sections=form.sections(),
                    supersede_reason=form.cleaned_data.get("supersede_reason"),
                )
            except ServiceError as error:
                if error.field == "sections":
                    form.add_error(None, error.message)
                else:
                    error.add_to_form(form)
            else:
                messages.success(request, _("The draft was saved."))
                return redirect("supervision:circular_detail", pk=circular.pk)
        status = 400
    return render(
        request,
        "supervision/circular_form.html",
        {"circular": circular, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def circular_issue_view(request: AuthedRequest, pk: int) -> HttpResponse:
    circular = circular_for(request, pk, manage=True)
    if request.method == "POST":
        try:
            circular_issue(actor=request.user, circular=circular)
        except ServiceError as error:
            messages.error(request, error.message)
            if error.field == "supersede_reason":
                return redirect("supervision:circular_edit", pk=circular.pk)
        else:
            messages.success(
                request, _("The circular was issued and published to the departments.")
            )
        return redirect("supervision:circular_detail", pk=circular.pk)
    if circular.is_issued:
        return redirect("supervision:circular_detail", pk=circular.pk)
    return render(request, "supervision/circular_issue.html", {"circular": circular})


def circular_document_job(request: AuthedRequest, pk: int, fmt: str) -> HttpResponse:
    """Start making the circular's document in the background (or find the same one asked
    for a moment ago) and go to the job's page, which offers the download."""
    circular = circular_for(request, pk)
    return jobs.start_for(
        request,
        kind=circular_jobs.DOCUMENT,
        params=circular_jobs.document_params(circular, fmt),
        back_url=reverse("supervision:circular_detail", args=[circular.pk]),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def circular_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    return circular_document_job(request, pk, "pdf")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def circular_docx(request: AuthedRequest, pk: int) -> HttpResponse:
    return circular_document_job(request, pk, "docx")


# --- Accountability --------------------------------------------------------------------------


@login_required
@require_safe
def accountability_list(request: AuthedRequest) -> HttpResponse:
    decisions = (
        AccountabilityDecision.objects.filter(accountability_q(request.user))
        .select_related("person", "unit", "finding__inspected__round")
        .order_by("-decided_on", "-id")
    )
    page = Paginator(decisions, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/accountability_list.html",
        {
            "page": page,
            "may_record": can(request.user, Action.ACCOUNTABILITY_RECORD),
            "may_view_all": can(request.user, Action.ACCOUNTABILITY_VIEW),
        },
    )


def findings_in_scope(user: object) -> object:
    query = Q(pk__in=[])
    for root in visible_scope_paths(user, Action.ACCOUNTABILITY_RECORD):
        query |= Q(inspected__department__path__startswith=root)
    return (
        Finding.objects.filter(query)
        .select_related("inspected__round", "inspected__department")
        .order_by("-inspected__round__period_start", "inspected__department__name", "id")
    )


@login_required
@require_http_methods(["GET", "POST"])
def accountability_create(request: AuthedRequest) -> HttpResponse:
    if not can(request.user, Action.ACCOUNTABILITY_RECORD):
        raise PermissionDenied
    initial: dict[str, object] = {"decided_on": timezone.localdate()}
    if request.GET.get("finding", "").isdigit():
        initial["finding"] = int(request.GET["finding"])
    form = AccountabilityForm(
        request.POST or None,
        initial=initial,
        findings=findings_in_scope(request.user),  # type: ignore[arg-type]
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                decision = accountability_record(
                    actor=request.user,
                    person=form.cleaned_data["employee_no"],
                    measure=form.cleaned_data["measure"],
                    decided_on=form.cleaned_data["decided_on"],
                    finding=form.cleaned_data["finding"],
                    cause=form.cleaned_data["cause"],
                    details=form.cleaned_data["details"],
                )
            except ServiceError as error:
                if error.field == "person":
                    form.add_error("employee_no", error.message)
                else:
                    error.add_to_form(form)
            else:
                messages.success(request, _("The accountability decision was recorded."))
                return redirect("supervision:accountability_detail", pk=decision.pk)
        status = 400
    return render(request, "supervision/accountability_form.html", {"form": form}, status=status)


@login_required
@require_safe
def accountability_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    decision = (
        AccountabilityDecision.objects.select_related(
            "person",
            "unit",
            "recorded_by",
            "finding__inspected__round",
            "finding__inspected__department",
        )
        .filter(pk=pk)
        .first()
    )
    # Missing and not-yours look the same: who was held to account is itself sensitive.
    if decision is None or not can_view_accountability(request.user, decision):
        raise Http404
    return render(request, "supervision/accountability_detail.html", {"decision": decision})
