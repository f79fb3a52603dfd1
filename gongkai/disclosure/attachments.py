"""Files attached to disclosures: PDF, PNG and JPEG images, .xlsx and .docx only.

The type is sniffed from the content; the file's name and the browser's declared type are
ignored (an .exe named .pdf is refused, and so is a text file named .docx). Office files are
zips: their member list must show a Word or Excel document, their declared unpacked size is
capped (zip bombs) and macro-enabled documents are refused. Images are decoded and re-encoded
with Pillow, upright (the EXIF orientation applied), converted to sRGB and without any of their
metadata: EXIF (with GPS), XMP, ICC profile, comments and text chunks; the result is checked.
The stored name is random; the user's file name is kept, without any path, for downloads.

Files can be added and removed while the disclosure is a draft, by whoever may edit it. Files
that were part of a published revision stay: the published record is never changed in place.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import Attachment, Disclosure, DisclosureStatus
from gongkai.org.roster_parse import MAX_UNPACKED_RATIO, zip_unpacked_size
from gongkai.policy.disclosure import attachment_in_published_record, can_edit

MAX_PER_DISCLOSURE = 30
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; decoding needs ~150 MB
MAX_ZIP_MEMBERS = 5_000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
NAME_MAX = 200
UNSAFE_NAME_CHARS_RE = re.compile(r'[\x00-\x1f\x7f<>:"|?*;]')
METADATA_KEYS = frozenset({"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"})

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


# --- Images -----------------------------------------------------------------------------------


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


# --- Names and uploads ------------------------------------------------------------------------


def safe_name(name: str, kind: FileKind) -> str:
    """The user's file name without any path, control or shell-special characters, ending
    with an extension of the sniffed type ("scan.jpg" that is a PNG becomes "scan.png")."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = UNSAFE_NAME_CHARS_RE.sub("_", name).strip().strip(".").strip()
    stem, dot, extension = name.rpartition(".")
    extension = f".{extension.lower()}" if dot and stem else ""
    if extension not in kind.extensions:
        if extension not in KNOWN_EXTENSIONS:
            stem = name  # "minutes.final" keeps its dot: only a known type's extension goes
        extension = kind.extension
    stem = stem.strip()[: NAME_MAX - len(extension)] or "attachment"
    return stem + extension


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


# --- Services ---------------------------------------------------------------------------------


def _require_editable(actor: User, disclosure: Disclosure) -> None:
    if disclosure.status != DisclosureStatus.DRAFT:
        raise ServiceError(_("Files can be attached or removed only while it is a draft."))
    if not can_edit(actor, disclosure):
        raise ServiceError(_("You may not edit this disclosure."))


def attachment_add(*, actor: User, disclosure: Disclosure, upload: UploadedFile) -> Attachment:
    """Attach a file to a draft. The file is read and cleaned before the transaction (an
    image can take a second: SQLite's IMMEDIATE transactions would hold the write lock)."""
    _require_editable(actor, disclosure)
    prepared = prepare_upload(upload)
    with transaction.atomic():
        locked = Disclosure.objects.select_for_update().select_related("unit").get(pk=disclosure.pk)
        _require_editable(actor, locked)
        if locked.attachments.count() >= MAX_PER_DISCLOSURE:
            raise _refused(
                _("A disclosure can have at most %(max)s files.") % {"max": MAX_PER_DISCLOSURE}
            )
        attachment = Attachment(
            disclosure=locked,
            original_name=prepared.name,
            content_type=prepared.kind.content_type,
            size=len(prepared.data),
            sha256=prepared.sha256,
            uploaded_by=actor,
        )
        stored = f"{uuid.uuid4().hex}{prepared.kind.extension}"
        attachment.file.save(stored, ContentFile(prepared.data), save=False)
        try:
            attachment.save()
            record_event(
                actor=actor,
                action="attachment.added",
                target=locked,
                unit=locked.unit,
                after={
                    "attachment": attachment.pk,
                    "name": attachment.original_name,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


@transaction.atomic
def attachment_remove(*, actor: User, attachment: Attachment) -> None:
    """Remove a file from a draft, unless it is part of a published revision."""
    locked = (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("unit", "published_revision")
        .get(pk=attachment.disclosure_id)
    )
    _require_editable(actor, locked)
    current = Attachment.objects.filter(pk=attachment.pk, disclosure=locked).first()
    if current is None:
        raise ServiceError(_("The file was already removed."))
    current.disclosure = locked
    if attachment_in_published_record(current):
        raise ServiceError(
            _(
                "This file is part of the published record and stays. Say in the reason for "
                "the correction that it is superseded, and attach the new one."
            )
        )
    name, storage = current.file.name or "", current.file.storage
    record_event(
        actor=actor,
        action="attachment.removed",
        target=locked,
        unit=locked.unit,
        before={
            "attachment": current.pk,
            "name": current.original_name,
            "content_type": current.content_type,
            "size": current.size,
            "sha256": current.sha256,
        },
    )
    current.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def kind_of(content_type: str) -> FileKind | None:
    return KIND_BY_CONTENT_TYPE.get(content_type)
