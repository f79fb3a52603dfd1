from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gongkai.accounts.models import User
from gongkai.accounts.requests import signed_in_user
from gongkai.accounts.services import (
    account_set_active,
    account_unlock,
    temporary_password_issue,
)
from gongkai.core.access import can, can_on_person, require, require_on_person, scope_paths
from gongkai.core.errors import ServiceError
from gongkai.org.forms import MemberSearchForm, RoleGrantForm
from gongkai.org.models import OrgUnit, RoleAssignment
from gongkai.org.selectors import unit_chain, unit_children, unit_role_holders, unit_tree
from gongkai.org.services import role_grant, role_revoke

MEMBERS_PER_PAGE = 50


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "org.view")
    roots = OrgUnit.objects.filter(path__in=scope_paths(request.user, "org.view"))
    units = [unit for root in roots for unit in unit_tree(root)]
    return render(request, "org/unit_list.html", {"units": units})


def unit_for(request: HttpRequest, code: str, action: str) -> OrgUnit:
    unit = get_object_or_404(OrgUnit, code=code)
    require(request.user, action, unit)
    return unit


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_for(request, code, "org.view")
    context: dict[str, object] = {
        "unit": unit,
        "chain": unit_chain(unit),
        "children": unit_children(unit),
    }
    if can(request.user, "org.members_view", unit):
        search = MemberSearchForm(request.GET or None)
        members = (
            User.objects.filter(unit__path__startswith=unit.path, is_active=True)
            .select_related("unit")
            .order_by("unit__depth", "unit__order", "unit__name", "employee_no")
        )
        if search.is_valid() and search.cleaned_data["q"]:
            q = search.cleaned_data["q"]
            members = members.filter(Q(name__icontains=q) | Q(employee_no__icontains=q))
        context["search"] = search
        context["members"] = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
        context["role_holders"] = unit_role_holders(unit)
    if can(request.user, "org.role_manage", unit):
        context["grant_form"] = RoleGrantForm()
    return render(request, "org/unit_detail.html", context)


@login_required
@require_POST
def role_grant_view(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_for(request, code, "org.role_manage")
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        try:
            role_grant(
                actor=signed_in_user(request),
                user=form.cleaned_data["employee_no"],
                role=form.cleaned_data["role"],
                unit=unit,
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The role was granted."))
            return redirect("org:unit_detail", code=unit.code)
    return render(
        request,
        "org/role_grant.html",
        {"unit": unit, "grant_form": form, "chain": unit_chain(unit)},
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def role_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(RoleAssignment.objects.select_related("unit", "user"), pk=pk)
    require(request.user, "org.role_manage", assignment.unit)
    if request.method == "POST":
        role_revoke(actor=signed_in_user(request), assignment=assignment)
        messages.success(request, _("The role was revoked."))
        return redirect("org:unit_detail", code=assignment.unit.code)
    return render(request, "org/role_revoke_confirm.html", {"assignment": assignment})


@login_required
def person_detail(request: HttpRequest, employee_no: str) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("unit"), employee_no=employee_no)
    require_on_person(request.user, "org.members_view", person)
    return render(
        request,
        "org/person_detail.html",
        {
            "person": person,
            "chain": unit_chain(person.unit) if person.unit else [],
            "assignments": person.role_assignments.select_related("unit").order_by("role"),
            "may_manage": can_on_person(request.user, "accounts.manage", person),
        },
    )


@login_required
@require_POST
def person_unlock(request: HttpRequest, employee_no: str) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("unit"), employee_no=employee_no)
    require_on_person(request.user, "accounts.manage", person)
    account_unlock(actor=signed_in_user(request), user=person)
    messages.success(request, _("The account is unlocked."))
    return redirect("org:person_detail", employee_no=person.employee_no)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_password(request: HttpRequest, employee_no: str) -> HttpResponse:
    """Confirm, then issue a one-time password; it is shown once and never stored in clear."""
    person = get_object_or_404(User.objects.select_related("unit"), employee_no=employee_no)
    require_on_person(request.user, "accounts.manage", person)
    context: dict[str, object] = {"person": person}
    if request.method == "POST":
        try:
            context["password"] = temporary_password_issue(
                actor=signed_in_user(request), user=person
            )
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("org:person_detail", employee_no=person.employee_no)
    return render(request, "org/person_password.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def person_active(request: HttpRequest, employee_no: str) -> HttpResponse:
    """Confirm, then deactivate (or reactivate) an account."""
    person = get_object_or_404(User.objects.select_related("unit"), employee_no=employee_no)
    require_on_person(request.user, "accounts.manage", person)
    if request.method == "POST":
        try:
            account_set_active(
                actor=signed_in_user(request), user=person, active=not person.is_active
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The account is active again.")
                if person.is_active
                else _("The account is deactivated."),
            )
        return redirect("org:person_detail", employee_no=person.employee_no)
    return render(request, "org/person_active_confirm.html", {"person": person})
