from __future__ import annotations

import logging

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


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
