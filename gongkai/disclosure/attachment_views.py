"""Downloading a disclosure's attached file."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from gongkai.disclosure.attachments import kind_of
from gongkai.disclosure.models import Attachment
from gongkai.policy.disclosure import can_read_attachment

# The file is shown on its own, never as a page of the site: nothing in it may run or load.
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; sandbox"


@require_safe
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file with its sniffed type. Missing and not-yours look the same (404); someone
    not signed in is sent to the login page either way."""
    attachment = (
        Attachment.objects.select_related("disclosure__unit", "disclosure__published_revision")
        .filter(pk=pk)
        .first()
    )
    if attachment is None or not can_read_attachment(request.user, attachment):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    return stored_file_response(
        attachment.file, content_type=attachment.content_type, filename=attachment.original_name
    )


def stored_file_response(field: Any, *, content_type: str, filename: str) -> FileResponse:
    """An uploaded file (disclosure attachment, suggestion or objection evidence, a
    self-report) served with its sniffed type, never as a page of the site: shown inline only
    when it is one of our re-encoded images, downloaded otherwise; private, not cached."""
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None  # the row outlived its file (restored backup, lost volume)
    kind = kind_of(content_type)
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not (kind is not None and kind.inline),
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    patch_cache_control(response, private=True, no_cache=True)
    return response
