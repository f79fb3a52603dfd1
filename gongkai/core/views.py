from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gongkai.org.selectors import unit_chain
from gongkai.policy import grants_for

logger = logging.getLogger(__name__)


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
@require_safe  # GET, and HEAD for the monitors and load balancers that use it
def healthz(request: HttpRequest) -> JsonResponse:
    """For monitoring: 200 ``{"status": "ok"}`` when the database answers, else 503
    ``{"status": "unavailable"}``. Nothing about which database, engine or version, to
    anyone: monitoring needs up or down, and the details are in the server's log."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("Health check: the database does not answer (%s)", type(exc).__name__)
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
