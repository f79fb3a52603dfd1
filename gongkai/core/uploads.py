"""Upload limits: the declared request body before Django reads it, zip archives before they
are opened."""

from __future__ import annotations

import io
import zipfile

from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
# An .xlsx or .docx is a zip: refuse archives that unpack to far more than the upload limit.
MAX_UNPACKED_RATIO = 20


def declared_body_too_large(request: HttpRequest, limit: int) -> bool:
    """True when the request announces a body larger than ``limit`` plus form overhead.

    Checked before ``request.POST``/``request.FILES`` are touched, so a huge upload is
    refused without being streamed to a temporary file first. (A proxy body limit such as
    nginx's ``client_max_body_size`` should stop it even earlier.)
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > limit + MULTIPART_OVERHEAD


def too_large_message(limit: int) -> str:
    return _("The file is larger than %(limit)s. Remove unneeded columns or split it.") % {
        "limit": filesizeformat(limit)
    }


def zip_unpacked_size(raw: bytes) -> int:
    """The total size of a zip's members once unpacked, as its directory declares it
    (nothing is unpacked). Raises zipfile.BadZipFile, ValueError or OSError on a damaged or
    non-zip file. The zip-bomb guard of spreadsheets and attachments."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return sum(info.file_size for info in archive.infolist())
