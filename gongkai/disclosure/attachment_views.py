"""Downloading a disclosure's attached file."""

from __future__ import annotations

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
    kind = kind_of(attachment.content_type)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # the row outlived its file (restored backup, lost volume)
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not (kind is not None and kind.inline),  # only our re-encoded images
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    patch_cache_control(response, private=True, no_cache=True)
    return response
