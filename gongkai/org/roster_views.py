"""Roster import pages for the union office: upload → dry run → confirm.

The upload is checked with a dry run that writes nothing and shows the plan and every error.
The file's bytes wait in ``default_storage`` under a random name, known only to this session
together with their SHA-256; the confirmation re-reads them, plans again against the
database as it is then, applies, and deletes the stored file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongkai.accounts.requests import signed_in_user
from gongkai.core.access import require
from gongkai.core.uploads import declared_body_too_large, too_large_message
from gongkai.org import roster
from gongkai.org.forms import RosterUploadForm
from gongkai.org.models import OrgUnit
from gongkai.org.selectors import importable_companies

SESSION_KEY = "roster_upload"
STORAGE_DIR = "roster"
STALE_AFTER = timedelta(days=1)
LISTED_AT_MOST = 200  # per list on the plan page; the counts are always complete
ERRORS_LISTED_AT_MOST = 1000


class PendingUpload(TypedDict):
    token: str
    name: str
    sha256: str
    filename: str
    company: int


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
    filename = upload.name or ""
    result = roster.roster_import(
        actor=signed_in_user(request), company=company, data=data, filename=filename, dry_run=True
    )
    context = plan_context(result, company=company, filename=filename)
    if result.errors:
        return render(request, "org/roster_plan.html", context, status=400)
    if result.plan is not None and result.plan.has_changes:
        context["token"] = stash_upload(request, data=data, filename=filename, company=company)
    return render(request, "org/roster_plan.html", context)


@login_required
@require_POST
def roster_confirm(request: HttpRequest) -> HttpResponse:
    require(request.user, "org.roster_import")
    pending: PendingUpload | None = request.session.get(SESSION_KEY)
    token = request.POST.get("token", "")
    if pending is None or not hmac.compare_digest(token, pending["token"]):
        messages.error(request, _("This import is no longer pending. Upload the file again."))
        return redirect("org:roster_import")
    company = OrgUnit.objects.filter(pk=pending["company"]).first()
    if company is None:
        discard_upload(request)
        raise PermissionDenied
    require(request.user, "org.roster_import", company)
    try:
        data = load_upload(pending)
        if data is None:
            messages.error(request, _("The uploaded file is no longer available. Upload it again."))
            return redirect("org:roster_import")
        result = roster.roster_import(
            actor=signed_in_user(request),
            company=company,
            data=data,
            filename=pending["filename"],
            dry_run=False,
        )
    finally:
        discard_upload(request)
    if not result.applied:
        context = plan_context(result, company=company, filename=pending["filename"])
        return render(request, "org/roster_plan.html", context, status=400)
    assert result.plan is not None  # noqa: S101 - an applied import has its plan
    counts = result.plan.counts
    messages.success(
        request,
        _(
            "The roster was imported: %(employees_created)s new and %(employees_changed)s "
            "changed employees, %(departments_created)s new departments and "
            "%(teams_created)s new teams."
        )
        % counts,
    )
    return redirect("org:roster_import")


def plan_context(result: roster.RosterResult, *, company: OrgUnit, filename: str) -> dict[str, Any]:
    plan = result.plan
    context: dict[str, Any] = {
        "company": company,
        "filename": filename,
        "errors": result.errors[:ERRORS_LISTED_AT_MOST],
        "error_count": len(result.errors),
        "plan": plan,
        "listed_at_most": LISTED_AT_MOST,
    }
    if plan is not None:
        context.update(
            counts=plan.counts,
            new_teams=[roster.unit_label(company, key) for key in plan.new_teams],
            new_employees=plan.new_employees[:LISTED_AT_MOST],
            changed_employees=plan.changed_employees[:LISTED_AT_MOST],
            not_in_file=plan.not_in_file[:LISTED_AT_MOST],
        )
    return context


# --- The uploaded file between the dry run and the confirmation -------------------------------


def stash_upload(request: HttpRequest, *, data: bytes, filename: str, company: OrgUnit) -> str:
    discard_upload(request)
    purge_stale_uploads()
    token = secrets.token_urlsafe(24)
    name = default_storage.save(f"{STORAGE_DIR}/{token}", ContentFile(data))
    request.session[SESSION_KEY] = PendingUpload(
        token=token,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=filename[:200],
        company=company.pk,
    )
    return token


def load_upload(pending: PendingUpload) -> bytes | None:
    """The stored bytes, or None when they are gone or are not the bytes that were checked."""
    try:
        with default_storage.open(pending["name"], "rb") as handle:
            data: bytes = handle.read()
    except OSError:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return data if hmac.compare_digest(digest, pending["sha256"]) else None


def discard_upload(request: HttpRequest) -> None:
    pending: PendingUpload | None = request.session.pop(SESSION_KEY, None)
    if pending is not None:
        default_storage.delete(pending["name"])


def purge_stale_uploads() -> None:
    """Delete uploads that were checked but never confirmed."""
    try:
        _dirs, files = default_storage.listdir(STORAGE_DIR)
    except OSError:
        return
    cutoff = timezone.now() - STALE_AFTER
    for name in files:
        path = f"{STORAGE_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except OSError:
            continue
