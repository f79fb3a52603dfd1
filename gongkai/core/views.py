from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.utils import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gongkai.core import jobs
from gongkai.core.files import download_response
from gongkai.core.models import Job, JobStatus

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


# --- Background jobs ----------------------------------------------------------------------------

# The status fragment answers this when the job is over: htmx swaps it in and stops polling.
STOP_POLLING = 286


def owned_job(request: HttpRequest, pk: uuid.UUID) -> tuple[Job, jobs.Kind]:
    """The job if the signed-in user owns it (anyone else: 404, as for a missing one) and
    may still have it (403)."""
    job = Job.objects.filter(pk=pk, owner_id=request.user.pk).first()
    kind = jobs.kind_of(job.kind) if job is not None else None
    if job is None or kind is None:
        raise Http404
    if not kind.allowed(request.user, job):
        raise PermissionDenied
    return job, kind


def job_context(request: HttpRequest, job: Job, kind: jobs.Kind) -> dict[str, Any]:
    context: dict[str, Any] = {
        "job": job,
        "title": kind.title(job),
        "back_url": kind.back_url(job) if kind.back_url else "",
        "result_template": "",
    }
    if job.status == JobStatus.DONE:
        context["result_template"] = kind.result_template
        if kind.result_context is not None:
            context.update(kind.result_context(job, request.user))
    return context


@login_required
@never_cache
@require_safe
def job_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A job's page: its progress, refreshed by htmx every second while it runs, then its
    result (a download, or the kind's result template) or why it failed."""
    job, kind = owned_job(request, pk)
    return render(request, "core/job.html", job_context(request, job, kind))


@login_required
@never_cache
@require_safe
def job_status(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The fragment the page polls; once the job is over, with the status that stops the
    polling."""
    job, kind = owned_job(request, pk)
    return render(
        request,
        "core/_job_status.html",
        job_context(request, job, kind),
        status=STOP_POLLING if job.is_finished else 200,
    )


@login_required
@never_cache
@require_safe
def job_download(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The job's file, to its owner only, while they may still have it."""
    job, _kind = owned_job(request, pk)
    data = jobs.read_result(job)
    if data is None:
        raise Http404
    return download_response(data, content_type=job.content_type, filename=job.file_name)
