"""Attachments: the type sniffed from the content, image metadata stripped, size limited,
only on drafts and by their editors, and downloaded only by those who may read them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.core import files as files_module
from gongkai.core.errors import ServiceError
from gongkai.core.files import DOCX, JPEG, PDF, PNG, XLSX, safe_name
from gongkai.core.periods import Period
from gongkai.disclosure import attachments as attachments_module
from gongkai.disclosure.attachments import attachment_add, attachment_remove
from gongkai.disclosure.models import Attachment, CatalogEntry, Disclosure, Scope
from gongkai.disclosure.obligations import holding_disclosure
from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory, approve_through

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


# --- Building disclosures with files ----------------------------------------------------------


def person_on(unit: OrgUnit, role: str) -> User:
    user = UserFactory(unit=unit)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return User.objects.get(pk=user.pk)


def draft_on(
    unit: OrgUnit,
    *,
    scope: str | None = None,
    author: User | None = None,
    period: str | None = None,
) -> Disclosure:
    """A draft of the unit's natural catalog entry, by a disclosure officer of the unit,
    for ``period``; without it, for 2026-10 or the latest month before it that no
    disclosure of the unit holds yet (one disclosure per unit, entry and period)."""
    author = author or person_on(
        unit, Role.TEAM_OFFICER if unit.kind == UnitKind.TEAM else Role.DEPT_OFFICER
    )
    code, natural, event = {
        UnitKind.TEAM: ("team-bonus", "2026-10", None),
        UnitKind.DEPARTMENT: ("pay", "2026-10", None),
        UnitKind.COMPANY: ("recruitment", "", date(2026, 10, 8)),
    }[unit.kind]
    entry = CatalogEntry.objects.get(code=code)
    if natural and period is None:
        month = Period.parse(natural)
        while holding_disclosure(unit, entry, month.key) is not None:
            month = month.previous()
        period = month.key
    return disclosure_create(
        actor=author,
        unit=unit,
        entry=entry,
        title="2026年10月公开",
        procedure="<p>按制度办理</p>",
        result="<p>结果如下</p>",
        period=period or "",
        event_date=event,
        scope=scope,
    )


def publish(disclosure: Disclosure) -> Disclosure:
    """Submit, approve at every level of the chain, and publish."""
    author = disclosure.author
    disclosure_transition(actor=author, disclosure=disclosure, transition=Transition.SUBMIT)
    disclosure = approve_through(disclosure)
    return disclosure_transition(actor=author, disclosure=disclosure, transition=Transition.PUBLISH)


def upload(data: bytes, name: str = "minutes.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def attachment_on(
    unit: OrgUnit,
    *,
    scope: str | None = None,
    published: bool = True,
    withdrawn: bool = False,
    period: str | None = None,
) -> Attachment:
    """A PDF attached to a disclosure of ``unit`` (see :func:`draft_on` for ``period``),
    published (or left a draft). Used by the access matrix too."""
    disclosure = draft_on(unit, scope=scope, period=period)
    attachment = attachment_add(
        actor=disclosure.author, disclosure=disclosure, upload=upload(PDF_BYTES)
    )
    if published:
        disclosure = publish(disclosure)
    if withdrawn:
        union = person_on(unit, Role.UNION_OFFICE)
        disclosure_transition(
            actor=union, disclosure=disclosure, transition=Transition.WITHDRAW, reason="有误"
        )
    return attachment


def jpeg_with_gps_and_orientation() -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS R5"
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to show upright
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 20.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 29.0),
    }
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home", icc_profile=srgb)
    return out.getvalue()


def png_with_text_chunks(mode: str = "RGB") -> bytes:
    image = Image.new(mode, (30, 10))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "张伟")
    info.add_text("Comment", "宿舍楼")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 39.9</x:xmpmeta>")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Huawei"
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def office_zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def docx_bytes(macro: bool = False) -> bytes:
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main}"/>'
            "</Types>"
        ),
        "_rels/.rels": "<Relationships/>",
        "word/document.xml": "<w:document/>",
    }
    if macro:
        members["word/vbaProject.bin"] = b"\x00" * 64
    return office_zip(members)


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["事由", "金额"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def stored_bytes(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


@pytest.fixture
def draft(org: Org) -> Disclosure:
    return draft_on(org.boiler_team)


# --- Sniffing ---------------------------------------------------------------------------------


def test_a_pdf_is_accepted_hashed_and_audited(draft):
    attachment = attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    assert attachment.content_type == PDF.content_type
    assert attachment.original_name == "minutes.pdf"
    assert stored_bytes(attachment) == PDF_BYTES
    assert attachment.size == len(PDF_BYTES)
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert "minutes" not in attachment.file.name  # stored under a random name
    event = AuditEvent.objects.get(action="attachment.added")
    assert event.after["sha256"] == attachment.sha256 and event.actor == draft.author


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (docx_bytes(), "决议.docx", DOCX),
        (xlsx_bytes(), "明细.xlsx", XLSX),
        (png_with_text_chunks(), "照片.png", PNG),
        (jpeg_with_gps_and_orientation(), "照片.jpg", JPEG),
    ],
)
def test_office_files_and_images_are_recognised_by_content(draft, data, name, kind):
    declared_wrong = upload(data, name, content_type="application/octet-stream")
    attachment = attachment_add(actor=draft.author, disclosure=draft, upload=declared_wrong)
    assert attachment.content_type == kind.content_type
    assert attachment.original_name == name


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "invoice.pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "photo.jpg"),
        (b"This is plain text, not a document.\n", "minutes.docx"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "funny.gif"),
        (b"<html><script>alert(1)</script></html>", "page.pdf"),
        (office_zip({"readme.txt": "hello"}), "archive.docx"),
        (office_zip({"[Content_Types].xml": "<Types/>", "other/x.xml": "<x/>"}), "a.xlsx"),
        (b"PK\x03\x04 not really a zip", "broken.docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.doc"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "photo.jpg"),
    ],
)
def test_what_the_content_does_not_show_as_accepted_is_refused(draft, data, name):
    with pytest.raises(ServiceError) as caught:
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(data, name))
    assert caught.value.field == "file"
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="attachment.added").exists()


def test_macro_enabled_documents_are_refused(draft):
    with pytest.raises(ServiceError, match="macros"):
        attachment_add(
            actor=draft.author, disclosure=draft, upload=upload(docx_bytes(True), "a.docx")
        )


def test_a_zip_bomb_is_refused_from_its_directory(draft, settings):
    settings.ATTACHMENT_MAX_BYTES = 10_000
    bomb = office_zip(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": b"\x00" * (20 * 10_000 + 1),  # compresses to a few hundred bytes
        }
    )
    assert len(bomb) < 10_000
    with pytest.raises(ServiceError, match="too large once unpacked"):
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(bomb, "a.docx"))


def test_oversize_files_are_refused_whatever_they_declare(draft, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PDF_BYTES) - 1
    with pytest.raises(ServiceError, match="larger than"):
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    lying = upload(PDF_BYTES)
    lying.size = 10  # the declared size is not trusted: what is read is checked
    with pytest.raises(ServiceError, match="larger than"):
        attachment_add(actor=draft.author, disclosure=draft, upload=lying)
    assert not Attachment.objects.exists()


def test_an_empty_file_is_refused(draft):
    with pytest.raises(ServiceError, match="empty"):
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(b""))


def test_an_image_with_too_many_pixels_is_refused(draft, monkeypatch):
    monkeypatch.setattr(files_module, "MAX_PIXELS", 100)
    with pytest.raises(ServiceError, match="too large"):
        attachment_add(
            actor=draft.author, disclosure=draft, upload=upload(png_with_text_chunks(), "a.png")
        )


# --- Metadata stripping -----------------------------------------------------------------------


def test_a_jpeg_is_stored_upright_without_exif_gps_comment_or_icc(draft):
    original = jpeg_with_gps_and_orientation()
    with Image.open(io.BytesIO(original)) as before:  # what the test built really has it all
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert {"exif", "comment", "icc_profile"} <= set(before.info)
    attachment = attachment_add(
        actor=draft.author, disclosure=draft, upload=upload(original, "IMG_0001.JPG")
    )
    data = stored_bytes(attachment)
    with Image.open(io.BytesIO(data)) as after:
        assert after.format == "JPEG"
        assert len(after.getexif()) == 0
        assert not after.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "comment", "icc_profile", "xmp"} & set(after.info)
        assert after.size == (20, 40)  # the orientation was applied, then dropped
    assert b"Canon" not in data and b"taken at home" not in data
    assert attachment.original_name == "IMG_0001.jpg"
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()


def test_a_png_loses_its_text_chunks_xmp_and_exif(draft):
    original = png_with_text_chunks()
    with Image.open(io.BytesIO(original)) as before:
        assert {"Author", "Comment", "XML:com.adobe.xmp", "exif"} <= set(before.info)
    attachment = attachment_add(
        actor=draft.author, disclosure=draft, upload=upload(original, "scan.png")
    )
    data = stored_bytes(attachment)
    with Image.open(io.BytesIO(data)) as after:
        assert after.info == {} or set(after.info) <= {"dpi", "gamma"}
        assert not after.text and len(after.getexif()) == 0
    assert "张伟".encode() not in data and b"xmpmeta" not in data and b"Huawei" not in data


def test_a_phones_multi_picture_jpeg_is_stored_as_one_clean_jpeg(draft):
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N"}
    out = io.BytesIO()
    first, second = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second], exif=exif)
    with Image.open(io.BytesIO(out.getvalue())) as before:
        assert before.format == "MPO"
    attachment = attachment_add(
        actor=draft.author, disclosure=draft, upload=upload(out.getvalue(), "IMG.jpg")
    )
    with Image.open(io.BytesIO(stored_bytes(attachment))) as after:
        assert after.format == "JPEG" and len(after.getexif()) == 0
        assert getattr(after, "n_frames", 1) == 1


def test_a_palette_png_keeps_its_transparency(draft):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=1)
    attachment = attachment_add(
        actor=draft.author, disclosure=draft, upload=upload(out.getvalue(), "logo.png")
    )
    with Image.open(io.BytesIO(stored_bytes(attachment))) as after:
        assert after.mode == "RGBA" and after.getpixel((0, 0))[3] == 0


def test_an_image_named_as_another_type_gets_the_right_extension(draft):
    attachment = attachment_add(
        actor=draft.author, disclosure=draft, upload=upload(png_with_text_chunks(), "scan.jpg")
    )
    assert attachment.content_type == "image/png" and attachment.original_name == "scan.png"


@pytest.mark.parametrize(
    ("name", "kind", "safe"),
    [
        ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
        ("C:\\Users\\张伟\\会议纪要.PDF", PDF, "会议纪要.pdf"),
        ("report.final", PDF, "report.final.pdf"),
        ("noextension", DOCX, "noextension.docx"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("invoice.exe", PDF, "invoice.pdf"),
        ('a"b<c>|d\x00e.pdf', PDF, "a_b_c__d_e.pdf"),
        (".htaccess", PDF, "htaccess.pdf"),
        ("", PDF, "attachment.pdf"),
        ("/", PDF, "attachment.pdf"),
        ("长" * 300 + ".xlsx", XLSX, "长" * 195 + ".xlsx"),
    ],
)
def test_original_names_are_sanitised(name, kind, safe):
    assert safe_name(name, kind) == safe


# --- Who may attach, and when -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "rep", "turbine_worker", "outsider", "supervisor"])
def test_someone_who_may_not_edit_the_draft_is_refused(org, draft, who):
    with pytest.raises(ServiceError, match="may not edit"):
        attachment_add(actor=org[who], disclosure=draft, upload=upload(PDF_BYTES))
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("who", ["teamlead", "depthead", "union"])
def test_the_units_drafters_may_attach_to_the_draft(org, draft, who):
    attachment_add(actor=org[who], disclosure=draft, upload=upload(PDF_BYTES))
    assert draft.attachments.count() == 1


def test_nothing_is_attached_once_the_draft_is_submitted(draft):
    disclosure_transition(actor=draft.author, disclosure=draft, transition=Transition.SUBMIT)
    with pytest.raises(ServiceError, match="only while it is a draft"):
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))


def test_a_disclosure_has_a_limited_number_of_files(draft, monkeypatch):
    monkeypatch.setattr(attachments_module, "MAX_PER_DISCLOSURE", 1)
    attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    with pytest.raises(ServiceError, match="at most 1"):
        attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))


def test_a_draft_file_is_removed_with_its_stored_bytes_and_audited(
    draft, django_capture_on_commit_callbacks
):
    attachment = attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    storage, name = attachment.file.storage, attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        attachment_remove(actor=draft.author, attachment=attachment)
    assert not Attachment.objects.exists()
    assert not storage.exists(name)
    assert AuditEvent.objects.get(action="attachment.removed").before["sha256"] == attachment.sha256


def test_removing_is_refused_to_others_and_after_submission(org, draft):
    attachment = attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    with pytest.raises(ServiceError, match="may not edit"):
        attachment_remove(actor=org["employee"], attachment=attachment)
    disclosure_transition(actor=draft.author, disclosure=draft, transition=Transition.SUBMIT)
    with pytest.raises(ServiceError, match="only while it is a draft"):
        attachment_remove(actor=draft.author, attachment=attachment)
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_published_file_stays_through_a_correction_but_a_new_one_can_go(org):
    published = attachment_on(org.boiler_team)
    disclosure = published.disclosure
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.CORRECT, reason="补充"
    )
    with pytest.raises(ServiceError, match="published record"):
        attachment_remove(actor=disclosure.author, attachment=published)
    added = attachment_add(actor=disclosure.author, disclosure=disclosure, upload=upload(PDF_BYTES))
    attachment_remove(actor=disclosure.author, attachment=added)
    assert list(disclosure.attachments.all()) == [published]


# --- Downloading ------------------------------------------------------------------------------


def get(client: Client, user: User | None, attachment_id: int):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("attachments:download", args=[attachment_id]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_team_member_downloads_the_published_file_with_safe_headers(org, client):
    attachment = attachment_on(org.boiler_team)
    response = get(client, org["employee"], attachment.pk)
    assert response.status_code == 200
    assert body(response) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="minutes.pdf"' in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]


def test_images_are_shown_inline_and_chinese_names_survive(org, client):
    disclosure = draft_on(org.boiler_team)
    attachment = attachment_add(
        actor=disclosure.author,
        disclosure=disclosure,
        upload=upload(png_with_text_chunks(), "现场照片.png"),
    )
    publish(disclosure)
    response = get(client, org["employee"], attachment.pk)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert "filename*=utf-8''%E7%8E%B0" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("employee", 200),
        ("teamlead", 200),
        ("depthead", 200),
        ("union", 200),
        ("turbine_worker", 404),
        ("outsider", 404),
    ],
)
def test_only_readers_of_the_disclosure_download_its_file(org, client, who, status):
    attachment = attachment_on(org.boiler_team)
    assert get(client, org[who], attachment.pk).status_code == status


def test_anonymous_is_sent_to_login_whether_the_file_exists_or_not(org, client):
    attachment = attachment_on(org.boiler_team)
    for pk in (attachment.pk, 999_999):
        response = get(client, None, pk)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_missing_file_and_someone_elses_look_the_same(org, client):
    attachment = attachment_on(org.turbine_team)
    hidden = get(client, org["employee"], attachment.pk)
    missing = get(Client(), org["employee"], 999_999)
    assert hidden.status_code == missing.status_code == 404


def test_a_public_disclosures_file_is_open_to_anyone(org, client):
    attachment = attachment_on(org.company, scope=Scope.PUBLIC)
    assert get(client, None, attachment.pk).status_code == 200
    assert get(client, org["outsider"], attachment.pk).status_code == 200


def test_a_drafts_file_is_seen_only_by_those_who_see_the_working_copy(org, client):
    attachment = attachment_on(org.boiler_team, published=False)
    assert get(Client(), org["employee"], attachment.pk).status_code == 404
    assert get(Client(), org["rep"], attachment.pk).status_code == 404
    assert get(Client(), org["teamlead"], attachment.pk).status_code == 200
    assert get(Client(), attachment.disclosure.author, attachment.pk).status_code == 200


def test_a_file_added_to_a_correction_is_hidden_from_readers_until_it_is_published(org):
    published = attachment_on(org.boiler_team)
    disclosure = published.disclosure
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.CORRECT, reason="补充"
    )
    added = attachment_add(actor=disclosure.author, disclosure=disclosure, upload=upload(PDF_BYTES))
    assert get(Client(), org["employee"], published.pk).status_code == 200
    assert get(Client(), org["employee"], added.pk).status_code == 404
    assert get(Client(), org["teamlead"], added.pk).status_code == 200
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.SUBMIT
    )
    approve_through(disclosure)
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.PUBLISH
    )
    assert get(Client(), org["employee"], added.pk).status_code == 200


def test_a_withdrawn_disclosures_files_are_no_longer_served_to_readers(org):
    attachment = attachment_on(org.boiler_team, withdrawn=True)
    assert get(Client(), org["employee"], attachment.pk).status_code == 404
    assert get(Client(), org["teamlead"], attachment.pk).status_code == 200


def test_a_row_whose_file_is_lost_answers_404_not_500(org, client):
    attachment = attachment_on(org.boiler_team)
    attachment.file.storage.delete(attachment.file.name)
    assert get(client, org["employee"], attachment.pk).status_code == 404


def test_download_accepts_only_safe_methods(org, client):
    attachment = attachment_on(org.boiler_team)
    client.force_login(org["employee"])
    url = reverse("attachments:download", args=[attachment.pk])
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
