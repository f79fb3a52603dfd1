"""Pages for access tokens: a person's own (``/api/tokens/``) and, for the union office,
service accounts and their tokens (``/api/services/``). A new token's value is shown once,
in the response to the form that created it, and never again."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.api import selectors, services
from gongkai.api.forms import ServiceAccountForm, TokenForm
from gongkai.api.models import AccessToken
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, require


def issue(
    request: HttpRequest,
    units: QuerySet[OrgUnit],
    create: Callable[..., tuple[AccessToken, str]],
) -> tuple[TokenForm, str | None]:
    """The token form of a page, and on a valid POST the token ``create`` makes from it: its
    value, to be shown this once (the form comes back empty), or None and the form with the
    service's refusal beside the field."""
    form = TokenForm(request.POST or None, units=units)
    if request.method != "POST" or not form.is_valid():
        return form, None
    data = form.cleaned_data
    try:
        _token, created = create(
            name=data["name"],
            scope=data["scope"],
            units=list(data["units"]),
            expires_on=data["expires_on"],
        )
    except ServiceError as error:
        error.add_to_form(form)
        return form, None
    return TokenForm(units=units), created


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if hasattr(user, "service_account"):
        raise PermissionDenied
    form, created = issue(
        request,
        selectors.token_units(user),
        lambda **fields: services.personal_token_create(actor=user, **fields),
    )
    context = {
        "form": form,
        "created": created,
        "tokens": services.tokens_of(user),
        "may_manage_services": can(user, Action.API_SERVICE_MANAGE),
    }
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, "api/tokens.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    token = selectors.token_for(user, pk)
    back = (
        reverse("api:tokens")
        if token.kind == AccessToken.Kind.PERSONAL
        else reverse("api:service", args=[token.user.service_account.pk])
    )
    if request.method == "POST":
        try:
            services.token_revoke(actor=user, token=token)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
        return redirect(back)
    return render(request, "api/token_revoke.html", {"token": token, "back": back})


@login_required
@require_http_methods(["GET", "POST"])
def service_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.API_SERVICE_MANAGE)
    user = signed_in_user(request)
    form = ServiceAccountForm(request.POST or None, units=selectors.managed_units(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.service_account_create(
                actor=user,
                name=data["name"],
                description=data["description"],
                role=data["role"],
                unit=data["unit"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("The service account “%(name)s” is created. Issue it a token.")
                % {"name": account.user.name},
            )
            return redirect("api:service", account.pk)
    context = {"form": form, "accounts": selectors.service_accounts_for(user)}
    status = 400 if request.method == "POST" else 200
    return render(request, "api/services.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    account = selectors.service_account_for(user, pk)
    form, created = issue(
        request,
        selectors.managed_units(user),
        lambda **fields: services.service_token_create(actor=user, account=account, **fields),
    )
    context = {
        "account": account,
        "roles": account.user.role_assignments.select_related("unit"),
        "form": form,
        "created": created,
        "tokens": services.tokens_of(account.user),
    }
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, "api/service.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def service_disable(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    account = selectors.service_account_for(user, pk)
    if request.method == "POST":
        try:
            services.service_account_disable(actor=user, account=account)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("“%(name)s” is disabled: its tokens no longer work.")
                % {"name": account.user.name},
            )
        return redirect("api:services")
    return render(request, "api/service_disable.html", {"account": account})
