"""Pages of inspection rounds, department inspections, findings and rectification. Thin:
parse the form, ask gongkai.policy, call one service, redirect with a message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from gongkai.accounts.requests import AuthedRequest
from gongkai.congress.models import Patrol, PatrolReport
from gongkai.core.errors import ServiceError
from gongkai.core.files import stored_file_response
from gongkai.core.uploads import declared_body_too_large, too_large_message
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, can, visible_scope_paths
from gongkai.supervision.forms import (
    ChecklistForm,
    FileForm,
    FindingForm,
    InspectionForm,
    PatrolRectificationForm,
    ReportForm,
    RoundForm,
    VerifyForm,
)
from gongkai.supervision.models import (
    Circular,
    InspectedDepartment,
    InspectionRound,
    Rectification,
    RectificationStatus,
    RoundStatus,
)
from gongkai.supervision.permissions import (
    can_manage_inspection,
    can_manage_round,
    can_open_rectification_from_patrol,
    can_view_inspection,
    can_view_rectification,
    can_view_round,
    rectifications_q,
    reportable_rectifications_q,
    rounds_q,
)
from gongkai.supervision.rectification import (
    Step,
    available_steps,
    rectification_accept,
    rectification_open_from_patrol,
    rectification_report,
    rectification_send_back,
    state_of,
)
from gongkai.supervision.selectors import ranking, rectification_rows, round_departments
from gongkai.supervision.services import (
    checklist_update,
    clean_checklist,
    finding_record,
    inspection_attach_report,
    inspection_record,
    repeat_candidates,
    round_close,
    round_open,
    uninspected,
)

PER_PAGE = 30
HANDLING_LABELS = {
    "suggestions": gettext_lazy("Suggestions answered on time"),
    "motions": gettext_lazy("Motions answered on time"),
    "objections": gettext_lazy("Objections answered on time"),
}


# --- The section's landing page ----------------------------------------------------------------


@login_required
@require_safe
def home(request: AuthedRequest) -> HttpResponse:
    """What the supervision group does here, with the parts the viewer may use."""
    user = request.user
    may = {
        "rounds": can(user, Action.INSPECTION_MANAGE) or can(user, Action.COMPLIANCE_VIEW),
        "open_round": can(user, Action.INSPECTION_MANAGE),
        "rectifications": any(
            can(user, action)
            for action in (
                Action.RECTIFICATION_REPORT,
                Action.RECTIFICATION_VERIFY,
                Action.COMPLIANCE_VIEW,
            )
        ),
        "report_rectifications": can(user, Action.RECTIFICATION_REPORT),
        "record_accountability": can(user, Action.ACCOUNTABILITY_RECORD),
        "view_accountability": can(user, Action.ACCOUNTABILITY_VIEW),
        "compliance": can(user, Action.COMPLIANCE_VIEW),
        "assessment": can(user, Action.ASSESSMENT_VIEW),
    }
    return render(
        request,
        "supervision/home.html",
        {"may_see": may, "year": timezone.localdate().year},
    )


# --- Rounds ----------------------------------------------------------------------------------


def managed_companies(user: Any) -> Any:
    roots = visible_scope_paths(user, Action.INSPECTION_MANAGE)
    query = Q(pk__in=[])
    for root in roots:
        query |= Q(path__startswith=root)
    return OrgUnit.objects.filter(query, kind=UnitKind.COMPANY, is_active=True).order_by("path")


@login_required
@require_safe
def round_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not (can(user, Action.INSPECTION_MANAGE) or can(user, Action.COMPLIANCE_VIEW)):
        raise PermissionDenied
    rounds = InspectionRound.objects.filter(rounds_q(user)).select_related("company")
    page = Paginator(rounds, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/round_list.html",
        {"page": page, "may_open": can(user, Action.INSPECTION_MANAGE)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_create(request: AuthedRequest) -> HttpResponse:
    companies = managed_companies(request.user)
    if not companies:
        raise PermissionDenied
    form = RoundForm(request.POST or None, companies=companies)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                round = round_open(
                    actor=request.user,
                    company=form.cleaned_data["company"],
                    title=form.cleaned_data["title"],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    departments=list(form.cleaned_data["departments"]),
                    checklist=form.checklist_items(),
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The inspection round was opened."))
                return redirect("supervision:round_detail", pk=round.pk)
        status = 400
    elif not form.is_bound:
        form.initial["checklist"] = "\n".join(clean_checklist(None))
    return render(request, "supervision/round_form.html", {"form": form}, status=status)


def round_for(request: AuthedRequest, pk: int, *, manage: bool = False) -> InspectionRound:
    round = get_object_or_404(InspectionRound.objects.select_related("company"), pk=pk)
    allowed = can_manage_round if manage else can_view_round
    if not allowed(request.user, round):
        raise PermissionDenied
    return round


@login_required
@require_safe
def round_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    round = round_for(request, pk)
    departments = round_departments(round)
    circulars = list(Circular.objects.filter(round=round).select_related("supersedes"))
    return render(
        request,
        "supervision/round_detail.html",
        {
            "round": round,
            "ranked": ranking(departments),
            "checklist": list(round.checklist.all()),
            "circulars": circulars,
            "may_manage": can_manage_round(request.user, round),
            "is_open": round.status == RoundStatus.OPEN,
            "has_draft": any(not c.is_issued for c in circulars),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_checklist(request: AuthedRequest, pk: int) -> HttpResponse:
    round = round_for(request, pk, manage=True)
    form = ChecklistForm(
        request.POST or None,
        initial={"items": "\n".join(item.text for item in round.checklist.all())},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                checklist_update(
                    actor=request.user,
                    round=round,
                    items=[i.strip() for i in form.cleaned_data["items"].splitlines()],
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The checklist was saved."))
                return redirect("supervision:round_detail", pk=round.pk)
        status = 400
    return render(
        request, "supervision/checklist_form.html", {"round": round, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    round = round_for(request, pk, manage=True)
    pending = uninspected(round)
    reasons = {d.department_id: request.POST.get(f"reason_{d.department_id}", "") for d in pending}
    error = ""
    if request.method == "POST":
        try:
            round_close(actor=request.user, round=round, reasons=reasons)
        except ServiceError as failure:
            error = failure.message
        else:
            messages.success(request, _("The round was closed. You can now draft its circular."))
            return redirect("supervision:round_detail", pk=round.pk)
        if round.status != RoundStatus.OPEN:
            messages.error(request, error)
            return redirect("supervision:round_detail", pk=round.pk)
    return render(
        request,
        "supervision/round_close.html",
        {
            "round": round,
            "pending": [(d, reasons.get(d.department_id, "")) for d in pending],
            "error": error,
        },
        status=400 if error else 200,
    )


# --- A department's inspection ---------------------------------------------------------------


def inspection_for(request: AuthedRequest, pk: int, *, manage: bool = False) -> InspectedDepartment:
    inspected = get_object_or_404(
        InspectedDepartment.objects.select_related("round__company", "department"), pk=pk
    )
    allowed = can_manage_inspection if manage else can_view_inspection
    if not allowed(request.user, inspected):
        raise PermissionDenied
    return inspected


@login_required
@require_safe
def inspection_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    inspected = inspection_for(request, pk)
    answers = {a.item_id: a for a in inspected.answers.all()}
    findings = list(
        inspected.findings.select_related("rectification", "repeat_of__inspected__round")
    )
    today = timezone.localdate()
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspected": inspected,
            "round": inspected.round,
            "checklist": [(item, answers.get(item.pk)) for item in inspected.round.checklist.all()],
            "findings": [(f, state_of(f.rectification, today).value) for f in findings],
            "snapshot": inspected.compliance_snapshot,
            "handling": [
                (HANDLING_LABELS.get(name, name), figures)
                for name, figures in (inspected.compliance_snapshot or {})
                .get("handling", {})
                .items()
            ],
            "satisfaction": inspected.board_satisfaction,
            "may_manage": can_manage_inspection(request.user, inspected)
            and inspected.round.status == RoundStatus.OPEN,
            "file_form": FileForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    inspected = inspection_for(request, pk, manage=True)
    items = list(inspected.round.checklist.all())
    initial: dict[str, Any] = {
        "inspected_on": inspected.inspected_on or timezone.localdate(),
        "self_report": inspected.self_report,
        "representative_notes": inspected.representative_notes,
    }
    for answer in inspected.answers.all():
        initial[f"answer_{answer.item_id}"] = answer.answer
        initial[f"note_{answer.item_id}"] = answer.note
    form = InspectionForm(request.POST or None, initial=initial, items=items)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                inspection_record(
                    actor=request.user,
                    inspected=inspected,
                    inspected_on=form.cleaned_data["inspected_on"],
                    self_report=form.cleaned_data["self_report"],
                    representative_notes=form.cleaned_data["representative_notes"],
                    answers=form.answers(),
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The inspection was saved."))
                return redirect("supervision:inspection_detail", pk=inspected.pk)
        status = 400
    return render(
        request,
        "supervision/inspection_form.html",
        {"inspected": inspected, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_file(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """GET: the self-report file. POST: attach (replace) it."""
    if request.method == "GET":
        inspected = inspection_for(request, pk)
        if not inspected.self_report_file:
            raise Http404
        return stored_file_response(
            inspected.self_report_file,
            content_type=inspected.self_report_content_type,
            filename=inspected.self_report_file_name,
        )
    inspected = inspection_for(request, pk, manage=True)
    limit = settings.ATTACHMENT_MAX_BYTES
    if declared_body_too_large(request, limit):
        messages.error(request, too_large_message(limit))
        return redirect("supervision:inspection_detail", pk=inspected.pk)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            inspection_attach_report(
                actor=request.user, inspected=inspected, upload=form.cleaned_data["file"]
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The self-report file was attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect("supervision:inspection_detail", pk=inspected.pk)


@login_required
@require_http_methods(["GET", "POST"])
def finding_create(request: AuthedRequest, pk: int) -> HttpResponse:
    inspected = inspection_for(request, pk, manage=True)
    candidates = repeat_candidates(inspected)
    default_due = timezone.localdate() + timedelta(days=30)
    form = FindingForm(request.POST or None, initial={"due_on": default_due}, candidates=candidates)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                finding_record(
                    actor=request.user,
                    inspected=inspected,
                    text=form.cleaned_data["text"],
                    severity=form.cleaned_data["severity"],
                    due_on=form.cleaned_data["due_on"],
                    repeat_of=form.cleaned_data["repeat_of"],
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(
                    request,
                    _("The finding was recorded; the department's head was asked to rectify it."),
                )
                return redirect("supervision:inspection_detail", pk=inspected.pk)
        status = 400
    return render(
        request,
        "supervision/finding_form.html",
        {"inspected": inspected, "form": form, "candidates": candidates},
        status=status,
    )


# --- Rectification ---------------------------------------------------------------------------

STATUS_FILTERS = {
    "open": Q(status__in=[RectificationStatus.PENDING, RectificationStatus.SENT_BACK]),
    "reported": Q(status=RectificationStatus.REPORTED),
    "accepted": Q(status=RectificationStatus.ACCEPTED),
}
SOURCE_FILTERS = {
    "finding": Q(finding__isnull=False),
    "patrol": Q(patrol__isnull=False),
}


@login_required
@require_safe
def rectification_list(request: AuthedRequest) -> HttpResponse:
    """The unit heads' board of their rectifications ("my rectifications"), and for the
    supervision group every rectification it verifies: from inspection findings and from
    patrols alike. ``?patrol=<id>`` shows those of one patrol (with the button to open one)."""
    user = request.user
    if not any(
        can(user, action)
        for action in (
            Action.RECTIFICATION_REPORT,
            Action.RECTIFICATION_VERIFY,
            Action.COMPLIANCE_VIEW,
        )
    ):
        raise PermissionDenied
    mine = request.GET.get("mine") == "1" or not (
        can(user, Action.RECTIFICATION_VERIFY) or can(user, Action.COMPLIANCE_VIEW)
    )
    qs = Rectification.objects.filter(
        reportable_rectifications_q(user) if mine else rectifications_q(user)
    )
    show = request.GET.get("status", "")
    if show in STATUS_FILTERS:
        qs = qs.filter(STATUS_FILTERS[show])
    source = request.GET.get("source", "")
    if source in SOURCE_FILTERS:
        qs = qs.filter(SOURCE_FILTERS[source])
    patrol = None
    if (chosen := request.GET.get("patrol", "")).isdigit():
        patrol = get_object_or_404(Patrol.objects.select_related("company"), pk=int(chosen))
        qs = qs.filter(patrol=patrol)
    qs = rectification_rows(qs).order_by("status", "due_on", "id")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "supervision/rectification_list.html",
        {
            "page": page,
            "rows": [(r, state_of(r, today).value) for r in page.object_list],
            "mine": mine,
            "show": show,
            "source": source,
            "patrol": patrol,
            "may_open": patrol is not None
            and can_open_rectification_from_patrol(user, patrol)
            and PatrolReport.objects.filter(patrol=patrol).exists(),
            "may_report": can(user, Action.RECTIFICATION_REPORT),
            "may_see_all": can(user, Action.RECTIFICATION_VERIFY)
            or can(user, Action.COMPLIANCE_VIEW),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rectification_from_patrol(request: AuthedRequest, patrol_pk: int) -> HttpResponse:
    """The supervision group opens a rectification from a patrol, for a unit it visited."""
    patrol = get_object_or_404(Patrol.objects.select_related("company"), pk=patrol_pk)
    if not can_open_rectification_from_patrol(request.user, patrol):
        raise PermissionDenied
    form = PatrolRectificationForm(request.POST or None, units=patrol.units.order_by("path"))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = rectification_open_from_patrol(
                    actor=request.user, patrol=patrol, **form.cleaned_data
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The rectification item is opened; the unit is told."))
                return redirect("supervision:rectification_detail", pk=item.pk)
        status = 400
    return render(
        request,
        "supervision/rectification_open.html",
        {
            "form": form,
            "patrol": patrol,
            "sent": PatrolReport.objects.filter(patrol=patrol).exists(),
        },
        status=status,
    )


def rectification_for(request: AuthedRequest, pk: int) -> Rectification:
    rectification = get_object_or_404(
        rectification_rows(Rectification.objects.all()).select_related(
            "reported_by", "verified_by", "finding__inspected__round__company"
        ),
        pk=pk,
    )
    if not can_view_rectification(request.user, rectification):
        raise PermissionDenied
    return rectification


def rectification_page(
    request: AuthedRequest,
    rectification: Rectification,
    *,
    report_form: ReportForm | None = None,
    verify_form: VerifyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    steps = available_steps(request.user, rectification)
    return render(
        request,
        "supervision/rectification_detail.html",
        {
            "rectification": rectification,
            "finding": rectification.finding,
            "patrol": rectification.patrol,
            "timeliness": state_of(rectification).value,
            "report_form": (report_form or ReportForm(initial={"report": rectification.report}))
            if Step.REPORT in steps
            else None,
            "verify_form": (verify_form or VerifyForm()) if Step.ACCEPT in steps else None,
            "own_report": rectification.status == RectificationStatus.REPORTED
            and rectification.reported_by_id == request.user.pk
            and can(request.user, Action.RECTIFICATION_VERIFY),
        },
        status=status,
    )


@login_required
@require_safe
def rectification_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return rectification_page(request, rectification_for(request, pk))


@login_required
@require_POST
def rectification_report_view(request: AuthedRequest, pk: int) -> HttpResponse:
    rectification = rectification_for(request, pk)
    limit = settings.ATTACHMENT_MAX_BYTES
    if declared_body_too_large(request, limit):
        messages.error(request, too_large_message(limit))
        return redirect("supervision:rectification_detail", pk=rectification.pk)
    form = ReportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            rectification_report(
                actor=request.user,
                rectification=rectification,
                report=form.cleaned_data["report"],
                evidence=form.cleaned_data["evidence"],
            )
        except ServiceError as error:
            if error.field is None and Step.REPORT not in available_steps(
                request.user, rectification
            ):
                messages.error(request, error.message)
                return redirect("supervision:rectification_detail", pk=rectification.pk)
            form.add_error("report" if error.field == "report" else "evidence", error.message)
        else:
            messages.success(request, _("Your report was sent to the supervision group."))
            return redirect("supervision:rectification_detail", pk=rectification.pk)
    return rectification_page(request, rectification, report_form=form, status=400)


@login_required
@require_POST
def rectification_verify_view(request: AuthedRequest, pk: int) -> HttpResponse:
    rectification = rectification_for(request, pk)
    form = VerifyForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "accept":
                rectification_accept(actor=request.user, rectification=rectification)
                messages.success(request, _("The rectification was accepted."))
            else:
                rectification_send_back(
                    actor=request.user,
                    rectification=rectification,
                    reasons=form.cleaned_data["reasons"],
                )
                messages.success(request, _("The rectification was sent back."))
        except ServiceError as error:
            if error.field == "reasons":
                error.add_to_form(form)
                return rectification_page(request, rectification, verify_form=form, status=400)
            messages.error(request, error.message)
        return redirect("supervision:rectification_detail", pk=rectification.pk)
    return rectification_page(request, rectification, verify_form=form, status=400)


@login_required
@require_safe
def rectification_evidence(request: AuthedRequest, pk: int) -> HttpResponseBase:
    rectification = rectification_for(request, pk)
    if not rectification.evidence:
        raise Http404
    return stored_file_response(
        rectification.evidence,
        content_type=rectification.evidence_content_type,
        filename=rectification.evidence_name,
    )
