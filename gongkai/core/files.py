"""Uploaded files and file downloads: the one mechanism every part uses.

Accepted are PDF, PNG and JPEG images, .xlsx and .docx only. The type is sniffed from the
content; the file's name and the browser's declared type are ignored (an .exe named .pdf is
refused, and so is a text file named .docx). Office files are zips: their member list must show
a Word or Excel document, their declared unpacked size is capped (zip bombs) and macro-enabled
documents are refused. Images are decoded and re-encoded with Pillow, upright (the EXIF
orientation applied), converted to sRGB and without any of their metadata: EXIF (with GPS), XMP,
ICC profile, comments and text chunks; the result is checked. The stored name is random; the
user's file name is kept, without any path, for downloads.

Downloads go out with a safe file name, ``X-Content-Type-Options: nosniff``, private and not
cached; uploaded files also with a sandboxing Content-Security-Policy, so that nothing in them
runs as a page of the site. The request-size checks made before a body is read are in
:mod:`gongkai.core.uploads`.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from gongkai.core.errors import ServiceError
from gongkai.core.uploads import MAX_UNPACKED_RATIO, zip_unpacked_size

StoredModel = TypeVar("StoredModel", bound=models.Model)

MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; decoding needs ~150 MB
MAX_ZIP_MEMBERS = 5_000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
NAME_MAX = 200
UNSAFE_NAME_CHARS_RE = re.compile(r'[\x00-\x1f\x7f<>:"|?*;]')
PATH_SEPARATORS_RE = re.compile(r"[\\/]")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f]")
METADATA_KEYS = frozenset({"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"})
# An uploaded file is shown on its own, never as a page of the site: nothing in it may run or
# load.
SANDBOX_CSP = "default-src 'none'; img-src 'self'; sandbox"

WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
SHEET_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str  # given to a stored name, and to a user's name that lacks it
    extensions: tuple[str, ...]  # accepted as they are in a user's name
    pillow_formats: tuple[str, ...] = ()  # images: what Pillow must find; the first is written
    inline: bool = False  # shown in the browser rather than downloaded


PDF = FileKind("application/pdf", ".pdf", (".pdf",))
PNG = FileKind("image/png", ".png", (".png",), pillow_formats=("PNG",), inline=True)
# MPO: the multi-picture JPEG many phones write; its first picture is kept.
JPEG = FileKind(
    "image/jpeg", ".jpg", (".jpg", ".jpeg"), pillow_formats=("JPEG", "MPO"), inline=True
)
XLSX = FileKind(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", (".xlsx",)
)
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", (".docx",)
)
KINDS = (PDF, PNG, JPEG, XLSX, DOCX)
KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in KINDS}
KNOWN_EXTENSIONS = frozenset(ext for kind in KINDS for ext in kind.extensions) | {
    ".exe",
    ".doc",
    ".xls",
    ".zip",
    ".gif",
    ".txt",
}


def kind_of(content_type: str) -> FileKind | None:
    return KIND_BY_CONTENT_TYPE.get(content_type)


def _refused(message: str) -> ServiceError:
    return ServiceError(message, field="file")


def _not_accepted() -> ServiceError:
    return _refused(
        _(
            "This kind of file is not accepted. Attach PDF files, PNG or JPEG images, "
            ".xlsx workbooks or .docx documents."
        )
    )


# --- Sniffing ---------------------------------------------------------------------------------


def sniff(data: bytes) -> FileKind:
    """The kind of file, from its first bytes (and, for a zip, its member list)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    raise _not_accepted()


def _office_kind(data: bytes) -> FileKind:
    try:
        if zip_unpacked_size(data) > MAX_UNPACKED_RATIO * settings.ATTACHMENT_MAX_BYTES:
            raise _refused(_("The file is too large once unpacked."))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise _not_accepted()
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names:
                raise _not_accepted()
            if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES_BYTES:
                raise _not_accepted()
            content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise _not_accepted() from error
    except (RuntimeError, NotImplementedError, zlib.error) as error:  # encrypted, odd methods
        raise _not_accepted() from error
    if b"macroEnabled" in content_types or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        raise _refused(
            _("Documents with macros are not accepted. Save it as .docx or .xlsx without macros.")
        )
    if WORD_MAIN in content_types and any(name.startswith("word/") for name in names):
        return DOCX
    if SHEET_MAIN in content_types and any(name.startswith("xl/") for name in names):
        return XLSX
    raise _not_accepted()


# --- Images: metadata stripped ----------------------------------------------------------------


def clean_image(data: bytes, kind: FileKind) -> bytes:
    """The image re-encoded upright, in sRGB, without any metadata."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in kind.pillow_formats:
                raise _not_accepted()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refused(
                    _("The image is too large (%(width)s × %(height)s pixels).")
                    % {"width": width, "height": height}
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            icc = image.info.get("icc_profile")
            clean = _without_metadata(_to_srgb(upright, icc), kind)
            out = io.BytesIO()
            if kind is JPEG:
                clean.save(out, "JPEG", quality=90)
            else:
                clean.save(out, "PNG")
    except ServiceError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise _refused(_("The image could not be read; it may be damaged.")) from error
    except (ValueError, TypeError, MemoryError) as error:
        raise _refused(_("The image could not be read; it may be damaged.")) from error
    cleaned = out.getvalue()
    _check_clean(cleaned)
    return cleaned


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Colours as the embedded profile meant them, so that dropping the profile keeps them."""
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the pixels as they are
    return converted if converted is not None else image


def _without_metadata(image: Image.Image, kind: FileKind) -> Image.Image:
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # transparency lives in info, which is cleared
    if kind is JPEG and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    clean = image.copy()
    clean.info = {}
    return clean


def _check_clean(data: bytes) -> None:
    """Read the result back: no EXIF (so no GPS), XMP, ICC, comment or text chunk remains."""
    with Image.open(io.BytesIO(data)) as check:
        exif = check.getexif()
        leftovers = (
            METADATA_KEYS & set(check.info)
            or len(exif)
            or exif.get_ifd(0x8825)  # GPSInfo
            or getattr(check, "text", None)
        )
    if leftovers:
        raise _refused(_("The image's metadata could not be removed."))


# --- Names ------------------------------------------------------------------------------------


def _without_unsafe_chars(name: str) -> str:
    return UNSAFE_NAME_CHARS_RE.sub("_", name).strip().strip(".").strip()


def safe_name(name: str, kind: FileKind) -> str:
    """The user's file name without any path, control or shell-special characters, ending
    with an extension of the sniffed type ("scan.jpg" that is a PNG becomes "scan.png")."""
    name = unicodedata.normalize("NFC", name or "")
    name = _without_unsafe_chars(PATH_SEPARATORS_RE.split(name)[-1])
    stem, dot, extension = name.rpartition(".")
    extension = f".{extension.lower()}" if dot and stem else ""
    if extension not in kind.extensions:
        if extension not in KNOWN_EXTENSIONS:
            stem = name  # "minutes.final" keeps its dot: only a known type's extension goes
        extension = kind.extension
    stem = stem.strip()[: NAME_MAX - len(extension)] or "attachment"
    return stem + extension


def download_name(name: str) -> str:
    """A name to offer a download under (a document's title, say), safe in the header:
    control characters (a line break in a title) replaced. Quotes, backslashes and non-ASCII
    characters are escaped or RFC 6266-encoded by ``content_disposition_header``."""
    name = unicodedata.normalize("NFC", name or "")
    return CONTROL_CHARS_RE.sub("_", name).strip() or "download"


def stored_name(kind: FileKind) -> str:
    """A random name for the storage, with the sniffed type's extension."""
    return f"{uuid.uuid4().hex}{kind.extension}"


# --- Uploads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedFile:
    data: bytes
    kind: FileKind
    name: str
    sha256: str


def prepare_upload(upload: UploadedFile) -> PreparedFile:
    """Read (within the size limit), sniff, clean. Raises ServiceError with the reason."""
    limit = settings.ATTACHMENT_MAX_BYTES
    too_large = _refused(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)})
    if upload.size is not None and upload.size > limit:
        raise too_large
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise _refused(_("The file is empty."))
    kind = sniff(data)
    if kind.pillow_formats:
        data = clean_image(data, kind)
    return PreparedFile(
        data=data,
        kind=kind,
        name=safe_name(upload.name or "", kind),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store(field: FieldFile, prepared: PreparedFile) -> None:
    """Save the prepared file in the field's storage under a random name (the model is not
    saved)."""
    field.save(stored_name(prepared.kind), ContentFile(prepared.data), save=False)


def file_fields(prepared: PreparedFile) -> dict[str, Any]:
    """The columns every stored-file model of gongkai has, for a prepared file."""
    return {
        "original_name": prepared.name,
        "content_type": prepared.kind.content_type,
        "size": len(prepared.data),
        "sha256": prepared.sha256,
    }


def store_records(
    model: type[StoredModel],
    prepared: Sequence[PreparedFile],
    *,
    stored: list[StoredModel],
    **owner: Any,
) -> None:
    """Store each file and save a ``model`` row for it with the ``owner`` fields; ``stored``
    collects the rows whose files are written, for the caller to delete if the transaction
    fails."""
    for item in prepared:
        record = model(**owner, **file_fields(item))
        store(record.file, item)  # type: ignore[attr-defined]  # every such model has .file
        stored.append(record)
        record.save()


# --- Downloads --------------------------------------------------------------------------------


def _protect(response: HttpResponse | FileResponse, *, sandbox: bool) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    if sandbox:
        response["Content-Security-Policy"] = SANDBOX_CSP
    patch_cache_control(response, private=True, no_cache=True)


def download_response(
    data: bytes, *, content_type: str, filename: str, inline: bool = False, sandbox: bool = False
) -> HttpResponse:
    """``data`` as a file: downloaded (or, ``inline``, shown by the browser) under a safe
    name, never sniffed into another type, private and not cached. ``sandbox`` for bytes a user
    uploaded: nothing in them may run."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = (
        content_disposition_header(not inline, download_name(filename)) or "attachment"
    )
    _protect(response, sandbox=sandbox)
    return response


def stored_file_response(field: FieldFile, *, content_type: str, filename: str) -> FileResponse:
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
        filename=download_name(filename),
    )
    _protect(response, sandbox=True)
    return response
