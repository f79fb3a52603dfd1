"""The home page: who you are, the roles you hold and where they let you go. It is the
policy's own page (what you may do), so it lives here, above org and below every part."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongkai.accounts.requests import signed_in_user
from gongkai.org.selectors import unit_chain
from gongkai.policy.rules import grants_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    chain = unit_chain(user.unit) if user.unit else []
    assignments = user.role_assignments.select_related("unit").order_by("role")
    return render(
        request,
        "policy/home.html",
        {"chain": chain, "assignments": assignments, "roles": grants_for(user).roles()},
    )
