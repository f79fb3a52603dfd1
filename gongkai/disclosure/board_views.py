"""Board pages (公开栏), the rating action, and the public page (no login)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongkai.accounts.requests import signed_in_user
from gongkai.core.board_sections import board_sections
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.boards import BoardRequest, board_body, board_chain, board_items
from gongkai.disclosure.engagement import MAX_COMMENT, rating_submit
from gongkai.disclosure.models import Disclosure, Regulation
from gongkai.disclosure.permissions import (
    can_rate,
    can_read_attachment,
    is_public_record,
    public_record_q,
)
from gongkai.org.models import UnitKind
from gongkai.policy.rules import Action, require

PUBLIC_PER_PAGE = 25


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """``/boards/``: your own unit's board (its page links the units above and below); the
    public page for visitors; the organisation for an account without a unit."""
    if not request.user.is_authenticated:
        return redirect("public:index")
    unit = signed_in_user(request).unit
    return redirect("boards:board", code=unit.code) if unit else redirect("org:unit_list")


@login_required
@require_GET
def board(request: HttpRequest, code: str) -> HttpResponse:
    chain = board_chain(code)
    if not chain:
        raise Http404
    unit = chain[-1]
    require(request.user, Action.BOARD_VIEW, unit)
    board = BoardRequest.build(
        unit=unit,
        chain=chain,
        user=request.user,
        query=request.GET,
        language=get_language() or "",
        today=timezone.localdate(timezone=timezone.get_default_timezone()),
    )
    status, body = board_body(board)
    context = {
        "unit": unit,
        "body": mark_safe(body),  # noqa: S308 - our own template's output, from the cache
        # The rules library has its own section on the company's board.
        "regulations": list(Regulation.objects.filter(company=unit).order_by("order", "code"))
        if unit.kind == UnitKind.COMPANY
        else [],
        "sections": board_sections(unit=unit, user=request.user),
    }
    return render(request, "boards/board.html", context, status=status)


class RatingForm(forms.Form):
    value = forms.ChoiceField(
        label=gettext_lazy("How satisfied are you?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def back_to(request: HttpRequest, disclosure: Disclosure) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("boards:board", args=[disclosure.unit.code])


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = get_object_or_404(
        Disclosure.objects.select_related("unit", "published_revision"), pk=pk
    )
    if not can_rate(request.user, disclosure):
        raise PermissionDenied
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rating_submit(
                actor=signed_in_user(request),
                disclosure=disclosure,
                value=form.cleaned_data["value"],
                comment=form.cleaned_data["comment"],
            )
        except ServiceError as error:
            if error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                messages.error(request, error.message)
                return redirect(back_to(request, disclosure))
        else:
            messages.success(request, _("Thank you: your rating was recorded."))
            return redirect(back_to(request, disclosure))
    context = {"disclosure": disclosure, "form": form, "next": back_to(request, disclosure)}
    return render(request, "boards/rate.html", context, status=400)


# --- The public page: public-scope items of every company, no login ---------------------------


def public_items() -> Paginator[Disclosure]:
    return Paginator(board_items(Disclosure.objects.filter(public_record_q())), PUBLIC_PER_PAGE)


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    page = public_items().get_page(request.GET.get("page"))
    return render(request, "boards/public_index.html", {"page": page})


@require_GET
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = get_object_or_404(
        Disclosure.objects.select_related("unit", "entry__category", "published_revision"), pk=pk
    )
    published = disclosure.published_revision
    if published is None or not is_public_record(disclosure):
        raise Http404  # internal and unpublished items do not exist here
    revisions = disclosure.revisions.filter(number__lte=published.number)
    # The files of the published record, as anyone may download them (the page is the same
    # for everyone): none once withdrawn, none of a correction not yet published.
    visitor = AnonymousUser()
    attachments = [
        attachment
        for attachment in disclosure.attachments.filter(published_in__isnull=False).only(
            "pk", "disclosure_id", "original_name", "content_type", "size", "published_in_id"
        )
        if can_read_attachment(visitor, attachment)
    ]
    context = {
        "disclosure": disclosure,
        "published": published,
        "revisions": revisions.order_by("number").only("number", "published_at", "reason"),
        "attachments": attachments,
    }
    return render(request, "boards/public_detail.html", context)
