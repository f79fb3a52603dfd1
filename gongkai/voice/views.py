"""Suggestion pages: list, mine, the handler's queue, submit, detail with the step forms,
follow, and the attached files. Thin: parse, ask gongkai.voice.permissions, call a service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.core.files import stored_file_response
from gongkai.core.uploads import declared_body_too_large
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths
from gongkai.voice import permissions as policy
from gongkai.voice import selectors, services
from gongkai.voice.forms import (
    AnswerForm,
    AssignForm,
    DeclineForm,
    FilterForm,
    RateForm,
    ReviewCloseForm,
    ReviewReturnForm,
    SubmitForm,
)
from gongkai.voice.models import StepKind, Suggestion, SuggestionAttachment
from gongkai.voice.services import MAX_ATTACHMENTS

PER_PAGE = 20

STEP_FORMS: dict[StepKind, type[forms.Form]] = {
    StepKind.ACCEPT: forms.Form,
    StepKind.DECLINE: DeclineForm,
    StepKind.ASSIGN: AssignForm,
    StepKind.ANSWER: AnswerForm,
    StepKind.RATE: RateForm,
    StepKind.REVIEW_RETURN: ReviewReturnForm,
    StepKind.REVIEW_CLOSE: ReviewCloseForm,
}


def suggestion_for(request: HttpRequest, pk: int) -> Suggestion:
    """The suggestion if this user may see it; the same 404 when missing or not theirs."""
    suggestion = get_object_or_404(selectors.with_relations(Suggestion.objects.all()), pk=pk)
    if not policy.can_view(request.user, suggestion):
        raise Http404
    return suggestion


def mark_authors(user: Any, suggestions: Iterable[Suggestion]) -> None:
    """Give each suggestion ``shown_author``: the author, or None where the name is hidden
    from this user. Templates print only ``shown_author``, never ``author``."""
    for s in suggestions:
        s.shown_author = s.author if policy.can_see_author(user, s) else None  # type: ignore[attr-defined]


def _page(request: HttpRequest, qs: QuerySet[Suggestion]) -> Any:
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    mark_authors(request.user, page.object_list)
    return page


@login_required
@require_GET
def suggestion_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    unit: OrgUnit | None = None
    status = category = ""
    if form.is_valid():
        status = form.cleaned_data["status"]
        category = form.cleaned_data["category"]
        if form.cleaned_data["unit"]:
            unit = OrgUnit.objects.filter(code=form.cleaned_data["unit"]).first()
            if unit is None or not policy.can_view_unit(request.user, unit):
                raise Http404
    qs = selectors.filtered(
        selectors.visible_suggestions(request.user), unit=unit, status=status, category=category
    )
    context = {
        "page": _page(request, qs),
        "form": form,
        "unit": unit,
        "today": timezone.localdate(),
        "may_work": policy.may_work_on_suggestions(request.user),
    }
    return render(request, "voice/list.html", context)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    context = {"page": _page(request, selectors.mine(request.user)), "mine": True}
    return render(request, "voice/list.html", context)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if not policy.may_work_on_suggestions(request.user):
        raise PermissionDenied
    work = selectors.work_queue(request.user)
    mark_authors(request.user, [*work.to_handle, *work.to_answer, *work.to_review])
    return render(request, "voice/queue.html", {"work": work})


def submittable_units(user: Any) -> QuerySet[OrgUnit]:
    q = Q(pk__in=[])
    for root in visible_scope_paths(user, Action.SUGGESTION_SUBMIT):
        q |= Q(path__startswith=root)
    return OrgUnit.objects.active().filter(q).order_by("path")


@login_required
def submit(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    units = submittable_units(request.user)
    if not units.exists():
        raise PermissionDenied
    limit = MAX_ATTACHMENTS * _attachment_limit()
    if request.method == "POST" and declared_body_too_large(request, limit):
        context = {
            "form": SubmitForm(units=units),
            "upload_error": _("The files are too large together; attach fewer or smaller."),
        }
        return render(request, "voice/submit.html", context, status=413)
    own = units.filter(pk=signed_in_user(request).unit_id or 0).first()
    wanted = units.filter(code=request.GET.get("unit", "")).first() or own
    form = SubmitForm(
        request.POST or None, request.FILES or None, units=units, initial={"unit": wanted}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            suggestion = services.suggestion_submit(
                actor=signed_in_user(request),
                unit=data["unit"],
                category=data["category"],
                title=data["title"],
                body=data["body"],
                name_hidden=data["name_hidden"],
                attachments=data["attachments"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request, _("Your suggestion was sent. You will be notified of each step.")
            )
            return redirect("voice:detail", pk=suggestion.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "voice/submit.html", {"form": form}, status=status)


def _attachment_limit() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def step_form(
    kind: StepKind, suggestion: Suggestion, data: Any = None, files: Any = None
) -> forms.Form:
    form_class = STEP_FORMS[kind]
    kwargs: dict[str, Any] = {"prefix": kind.value}
    if kind == StepKind.ASSIGN:
        kwargs["units"] = OrgUnit.objects.active().subtree_of(suggestion.unit).order_by("path")
        kwargs["initial"] = {"responsible_unit": suggestion.unit}
    return form_class(data, files, **kwargs)


def render_detail(
    request: HttpRequest,
    suggestion: Suggestion,
    *,
    bound: tuple[StepKind, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    mark_authors(user, [suggestion])
    steps = list(suggestion.steps.select_related("unit"))
    forms_by_kind = {
        kind: step_form(kind, suggestion) for kind in services.available_steps(user, suggestion)
    }
    if bound is not None:
        forms_by_kind[bound[0]] = bound[1]
    context = {
        "s": suggestion,
        "steps": steps,
        "step_forms": list(forms_by_kind.items()),
        "attachments": list(suggestion.attachments.all()),
        "following": services.is_following(user, suggestion),
        "may_read_reason": policy.can_read_rating_reason(user, suggestion),
        "may_follow": suggestion.author_id != user.pk,
        "followers": suggestion.followers.count(),
        "today": timezone.localdate(),
    }
    return render(request, "voice/detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, suggestion_for(request, pk))


@login_required
@require_POST
def act(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    suggestion = suggestion_for(request, pk)
    try:
        kind = StepKind(step)
    except ValueError:
        raise Http404 from None
    if kind not in STEP_FORMS:
        raise Http404
    form = step_form(kind, suggestion, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        actor = signed_in_user(request)
        try:
            if kind == StepKind.ACCEPT:
                services.suggestion_accept(actor=actor, suggestion=suggestion)
            elif kind == StepKind.DECLINE:
                services.suggestion_decline(
                    actor=actor, suggestion=suggestion, reason=data["reason"]
                )
            elif kind == StepKind.ASSIGN:
                services.suggestion_assign(
                    actor=actor,
                    suggestion=suggestion,
                    responsible_unit=data["responsible_unit"],
                    due_on=data["due_on"],
                )
            elif kind == StepKind.ANSWER:
                services.suggestion_answer(
                    actor=actor,
                    suggestion=suggestion,
                    answer=data["answer"],
                    action_taken=data["action_taken"],
                )
            elif kind == StepKind.RATE:
                services.suggestion_rate(
                    actor=actor,
                    suggestion=suggestion,
                    rating=data["rating"],
                    reason=data["reason"],
                )
            elif kind == StepKind.REVIEW_RETURN:
                services.suggestion_review_return(
                    actor=actor, suggestion=suggestion, due_on=data["due_on"], note=data["note"]
                )
            else:
                services.suggestion_review_close(
                    actor=actor, suggestion=suggestion, note=data["note"]
                )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": kind.label})
            return redirect("voice:detail", pk=suggestion.pk)
    suggestion = suggestion_for(request, pk)
    return render_detail(request, suggestion, bound=(kind, form), status=400)


@login_required
@require_POST
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = suggestion_for(request, pk)
    if request.POST.get("follow") == "0":
        services.suggestion_unfollow(actor=signed_in_user(request), suggestion=suggestion)
        messages.success(request, _("You no longer follow this suggestion."))
    else:
        try:
            services.suggestion_follow(actor=signed_in_user(request), suggestion=suggestion)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("You follow this suggestion: each step is notified."))
    return redirect("voice:detail", pk=suggestion.pk)


@login_required
@require_safe
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    suggestion = suggestion_for(request, pk)
    item = get_object_or_404(SuggestionAttachment, pk=attachment_pk, suggestion=suggestion)
    return stored_file_response(
        item.file, content_type=item.content_type, filename=item.original_name
    )
