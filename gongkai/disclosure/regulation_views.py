from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import Regulation
from gongkai.disclosure.regulations import regulation_revise
from gongkai.disclosure.selectors import subtree_q
from gongkai.policy.rules import Action, can, require, visible_scope_paths


class RevisionForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    note = forms.CharField(label=gettext_lazy("What changed"), max_length=200)


def visible_regulations(user: object) -> list[Regulation]:
    roots = visible_scope_paths(user, Action.BOARD_VIEW)
    return list(
        Regulation.objects.filter(subtree_q(roots, "company__path"))
        .select_related("company")
        .order_by("order", "code")
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.BOARD_VIEW)
    return render(
        request, "disclosure/regulations.html", {"regulations": visible_regulations(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, code: str) -> HttpResponse:
    regulation = get_object_or_404(Regulation.objects.select_related("company"), code=code)
    if not can(request.user, Action.BOARD_VIEW, regulation.company):
        raise Http404
    versions = list(regulation.versions.select_related("published_by").order_by("-number"))
    may_manage = can(request.user, Action.REGULATION_MANAGE, regulation.company)
    form = (
        RevisionForm(request.POST or None, initial={"body": versions[0].body if versions else ""})
        if may_manage
        else None
    )
    if request.method == "POST":
        require(request.user, Action.REGULATION_MANAGE, regulation.company)
        assert form is not None  # noqa: S101
        if form.is_valid():
            try:
                regulation_revise(
                    actor=signed_in_user(request), regulation=regulation, **form.cleaned_data
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The new version is published."))
                return redirect("rules:detail", code=regulation.code)
    shown = versions[0] if versions else None
    wanted = request.GET.get("v")
    if wanted and wanted.isdigit():
        shown = next((v for v in versions if v.number == int(wanted)), shown)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "disclosure/regulation_detail.html",
        {"regulation": regulation, "versions": versions, "shown": shown, "form": form},
        status=status,
    )
