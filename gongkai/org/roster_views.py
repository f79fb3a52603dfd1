"""Roster import pages for the union office: upload → dry run → confirm, in the background.

The upload is checked here for what costs little (the request's size, the file's size and
kind, as before); the file is then stored with a background job (``org.jobs``) that reads
it and plans a dry run, which writes nothing. The job's page shows the progress, then the
plan, every error and the confirm button. The confirmation starts a second job that reads
the same stored bytes, plans again against the database as it is then, applies all or
nothing, and deletes the stored file.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongkai.accounts.requests import signed_in_user
from gongkai.core.access import require
from gongkai.core.errors import ServiceError
from gongkai.core.uploads import declared_body_too_large, too_large_message
from gongkai.org import jobs as roster_jobs
from gongkai.org.forms import RosterUploadForm
from gongkai.org.models import OrgUnit
from gongkai.org.roster_parse import roster_file_problem
from gongkai.org.selectors import importable_companies


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest) -> HttpResponse:
    require(request.user, "org.roster_import")
    companies = importable_companies(request.user)
    if not companies:
        raise PermissionDenied
    if request.method != "POST":
        form = RosterUploadForm(companies=companies)
        return render(request, "org/roster_import.html", {"form": form})
    if declared_body_too_large(request, settings.UPLOAD_MAX_BYTES):
        return render(
            request,
            "org/roster_import.html",
            {
                "form": RosterUploadForm(companies=companies),
                "upload_error": too_large_message(settings.UPLOAD_MAX_BYTES),
            },
            status=400,
        )
    form = RosterUploadForm(request.POST, request.FILES, companies=companies)
    if not form.is_valid():
        return render(request, "org/roster_import.html", {"form": form}, status=400)
    company = form.chosen_company
    require(request.user, "org.roster_import", company)
    upload: UploadedFile = form.cleaned_data["file"]
    data = upload.read()
    problem = roster_file_problem(data)
    if problem is None:
        try:
            job = roster_jobs.start_check(
                owner=signed_in_user(request),
                company=company,
                data=data,
                filename=upload.name or "",
            )
        except ServiceError as error:
            problem = error.message
        else:
            return redirect("core:job", pk=job.pk)
    form.add_error("file", problem)
    return render(request, "org/roster_import.html", {"form": form}, status=400)


@login_required
@require_POST
def roster_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm a check (its job id in ``job``): start the import, or go to the import
    already started from it."""
    require(request.user, "org.roster_import")
    user = signed_in_user(request)
    check = roster_jobs.pending_check(request.POST.get("job", ""), owner=user)
    if check is None:
        messages.error(request, _("This import is no longer pending. Upload the file again."))
        return redirect("org:roster_import")
    company = OrgUnit.objects.filter(pk=check.params.get("company")).first()
    if company is None:
        raise PermissionDenied
    require(request.user, "org.roster_import", company)
    try:
        job = roster_jobs.start_import(owner=user, check=check)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("core:job", pk=check.pk)
    return redirect("core:job", pk=job.pk)
