from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongkai.org.selectors import unit_chain
from gongkai.policy import grants_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    chain = unit_chain(user.unit) if user.unit else []
    assignments = user.role_assignments.select_related("unit").order_by("role")
    return render(
        request,
        "core/home.html",
        {"chain": chain, "assignments": assignments, "roles": grants_for(user).roles()},
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except DatabaseError:
        database = "unavailable"
    healthy = database == "ok"
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "vendor": connection.vendor,
        },
        status=200 if healthy else 503,
    )
