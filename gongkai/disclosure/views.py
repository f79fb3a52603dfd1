"""The disclosure workflow pages: my work, draft, edit, detail, steps, history, attest."""

from __future__ import annotations

from typing import Any

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
from gongkai.core.errors import ServiceError
from gongkai.disclosure import approvals, selectors, services
from gongkai.disclosure import permissions as disclosure_policy
from gongkai.disclosure.attachments import attachment_add, attachment_remove
from gongkai.disclosure.diff import revision_diff
from gongkai.disclosure.engagement import rating_summary, reads_for, receipt_record
from gongkai.disclosure.forms import (
    AttachmentForm,
    AttestationForm,
    ContentForm,
    DisclosureCreateForm,
)
from gongkai.disclosure.models import Attachment, CatalogEntry, Disclosure, Revision
from gongkai.disclosure.services import Transition
from gongkai.disclosure.step_forms import StepForm
from gongkai.disclosure.tables import table_to_text, totals_initial
from gongkai.disclosure.workbench import workbench
from gongkai.ledger import transparency
from gongkai.policy.rules import Action, can

PER_PAGE = 20


def disclosure_for(request: HttpRequest, pk: int) -> Disclosure:
    """The disclosure if this user may read it; the same 404 when missing or not theirs."""
    disclosure = get_object_or_404(selectors.with_relations(Disclosure.objects.all()), pk=pk)
    if not disclosure_policy.can_read(request.user, disclosure):
        raise Http404
    return disclosure


@login_required
def work(request: HttpRequest) -> HttpResponse:
    user = request.user
    may_draft = can(user, Action.DISCLOSURE_DRAFT)
    context = {
        "drafts": Paginator(selectors.my_drafts(user), PER_PAGE).get_page(request.GET.get("page")),
        "awaiting": selectors.awaiting_approval(user)[:100],
        "in_review": selectors.in_review_by_me(user)[:100],
        "may_draft": may_draft,
        # The catalog's obligations due and overdue, per unit, with a "draft it" link.
        "bench": workbench(user, timezone.localdate()) if may_draft else [],
    }
    return render(request, "disclosure/work.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.DISCLOSURE_DRAFT):
        raise PermissionDenied
    units = selectors.draftable_units(request.user)
    initial = {  # the workbench's "Draft it" link names the unit, the entry and the period
        "unit": units.filter(code=request.GET.get("unit", "")).first(),
        "entry": CatalogEntry.objects.filter(
            code=request.GET.get("entry", "")[:60], is_active=True
        ).first(),
        "period": request.GET.get("period", "")[:10],
    }
    form = DisclosureCreateForm(
        request.POST or None, request.FILES or None, units=units, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = services.disclosure_create(
                actor=signed_in_user(request),
                unit=data["unit"],
                entry=data["entry"],
                title=data["title"],
                procedure=data["procedure"],
                result=data["result"],
                period=data["period"],
                event_date=data["event_date"],
                table=data.get("table"),
                scope=data["scope"] or None,
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The draft is saved. Submit it for approval when ready."))
            return redirect("disclosure:detail", pk=disclosure.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "disclosure/form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    if not disclosure_policy.can_edit(request.user, disclosure):
        raise PermissionDenied
    initial = {
        "title": disclosure.title,
        "procedure": disclosure.procedure,
        "result": disclosure.result,
        "scope": disclosure.scope,
        "table_text": table_to_text(disclosure.table),
        **totals_initial(disclosure.table),
    }
    form = ContentForm(
        request.POST or None, request.FILES or None, initial=initial, entry=disclosure.entry
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields: dict[str, Any] = {k: data[k] for k in ("title", "procedure", "result", "scope")}
        if data.get("table") is not None or data.get("table_text") == "":
            fields["table"] = data.get("table")
        try:
            services.disclosure_update(
                actor=signed_in_user(request), disclosure=disclosure, **fields
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("disclosure:detail", pk=disclosure.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "disclosure/form.html",
        {"form": form, "disclosure": disclosure, "creating": False},
        status=status,
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    user = request.user
    working = disclosure_policy.can_see_working_copy(user, disclosure)
    withdrawn_readable = disclosure_policy.can_read_withdrawn(user, disclosure)
    published: Revision | None = disclosure.published_revision
    if published is not None and disclosure.is_published:
        receipt_record(user=user, disclosure=disclosure)
    context: dict[str, Any] = {
        "disclosure": disclosure,
        "published": published,
        "working": working,
        "withdrawn_readable": withdrawn_readable,
        # Who drafted, approved at each level and published what readers see; the whole
        # timeline for those who follow the work and for the supervision group.
        "signed": approvals.published_by_whom(disclosure) if published is not None else [],
        "timeline": approvals.timeline(disclosure) if working or withdrawn_readable else [],
        "awaiting": approvals.pending(disclosure) if working else None,
        "transitions": services.available_transitions(user, disclosure) if working else [],
        "may_edit": disclosure_policy.can_edit(user, disclosure),
        "revisions": list(disclosure.revisions.order_by("number")),
        # Its entries as leaves of the public transparency log, each with its proof.
        "leaves": transparency.leaves_of(list(disclosure.ledger_entries.order_by("sequence")))
        if published is not None
        else [],
        "attachments": [
            a
            for a in disclosure.attachments.select_related("disclosure")
            if disclosure_policy.can_read_attachment(user, a)
        ],
        "attachment_form": AttachmentForm()
        if disclosure_policy.can_edit(user, disclosure)
        else None,
    }
    if disclosure.is_published and not disclosure.is_nil:
        context["rating"] = rating_summary(disclosure, user)
    if can(user, Action.READS_VIEW, disclosure.unit) and published is not None:
        context["reads"] = reads_for(disclosure)
    return render(request, "disclosure/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    try:
        chosen = Transition(transition)
    except ValueError:
        raise Http404 from None
    if not services.may_transition(request.user, disclosure, chosen):
        raise PermissionDenied
    stand_in = services.acting_for(request.user, disclosure)
    form: StepForm | None = StepForm(
        request.POST or None,
        needs_reason=chosen in services.NEEDS_REASON,
        acting_for=stand_in.name if stand_in is not None else "",
    )
    if form is not None and form.empty:
        form = None
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form is not None else {}
        try:
            services.disclosure_transition(
                actor=signed_in_user(request),
                disclosure=disclosure,
                transition=chosen,
                reason=data.get("reason", ""),
                acting_for=data.get("acting_for", ""),
            )
        except ServiceError as error:
            if form is not None and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                messages.error(request, error.message)
                return redirect("disclosure:detail", pk=disclosure.pk)
        else:
            messages.success(request, STEP_DONE[chosen])
            return redirect("disclosure:detail", pk=disclosure.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "disclosure/step.html",
        {
            "disclosure": disclosure,
            "transition": chosen,
            "form": form,
            "stand_in": stand_in,
            "label": STEP_LABELS[chosen],
        },
        status=status,
    )


@login_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    revisions = list(disclosure.revisions.select_related("published_by").order_by("number"))
    if not revisions:
        raise Http404
    numbers = [r.number for r in revisions]
    try:
        a = int(request.GET.get("a", numbers[-2] if len(numbers) > 1 else numbers[0]))
        b = int(request.GET.get("b", numbers[-1]))
    except ValueError:
        a, b = numbers[0], numbers[-1]
    by_number = {r.number: r for r in revisions}
    old, new = by_number.get(a, revisions[0]), by_number.get(b, revisions[-1])
    return render(
        request,
        "disclosure/history.html",
        {
            "disclosure": disclosure,
            "revisions": revisions,
            "old": old,
            "new": new,
            "diff": revision_diff(old, new) if old.pk != new.pk else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def attest(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.DISCLOSURE_DRAFT):
        raise PermissionDenied
    units = selectors.draftable_units(request.user)
    form = AttestationForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = services.attestation_file(
                actor=signed_in_user(request),
                unit=data["unit"],
                entry=data["entry"],
                reason=data["reason"],
                period=data["period"],
                event_date=data["event_date"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The attestation is filed and shows on the board."))
            return redirect("disclosure:detail", pk=disclosure.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "disclosure/attest.html", {"form": form}, status=status)


@login_required
@require_http_methods(["POST"])
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    if not disclosure_policy.can_edit(request.user, disclosure):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(
                actor=signed_in_user(request),
                disclosure=disclosure,
                upload=form.cleaned_data["file"],
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The file is attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect("disclosure:detail", pk=disclosure.pk)


@login_required
@require_http_methods(["GET", "POST"])
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    disclosure = disclosure_for(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, disclosure=disclosure)
    if not disclosure_policy.can_edit(request.user, disclosure):
        raise PermissionDenied
    if request.method == "POST":
        try:
            attachment_remove(actor=signed_in_user(request), attachment=attachment)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The file is removed from the draft."))
        return redirect("disclosure:detail", pk=disclosure.pk)
    return render(
        request,
        "disclosure/attachment_remove.html",
        {"disclosure": disclosure, "attachment": attachment},
    )


STEP_LABELS = {
    Transition.SUBMIT: gettext_lazy("Submit for approval"),
    Transition.APPROVE: gettext_lazy("Approve"),
    Transition.ENDORSE: gettext_lazy("Approve as the leadership group"),
    Transition.REJECT: gettext_lazy("Return to the author"),
    Transition.PUBLISH: gettext_lazy("Publish"),
    Transition.CORRECT: gettext_lazy("Correct (new revision)"),
    Transition.WITHDRAW: gettext_lazy("Withdraw"),
}
STEP_DONE = {
    Transition.SUBMIT: gettext_lazy("Submitted for approval."),
    Transition.APPROVE: gettext_lazy("Approved."),
    Transition.ENDORSE: gettext_lazy("Approved by the leadership group."),
    Transition.REJECT: gettext_lazy("Returned to the author with your reason."),
    Transition.PUBLISH: gettext_lazy("Published."),
    Transition.CORRECT: gettext_lazy(
        "A correction draft is open; the published revision stays visible "
        "until the correction is published."
    ),
    Transition.WITHDRAW: gettext_lazy("Withdrawn; a notice with your reason stays on the board."),
}
