"""Downloading a disclosure's attached file."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from gongkai.core.files import stored_file_response
from gongkai.disclosure.models import Attachment
from gongkai.disclosure.permissions import can_read_attachment


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
