"""Files attached to disclosures: the rules of attaching them (drafts only, by whoever may
edit the disclosure, at most ``MAX_PER_DISCLOSURE``). Reading, sniffing, cleaning and storing a
file is :mod:`gongkai.core.files`.

Files can be added and removed while the disclosure is a draft, by whoever may edit it. Files
that were part of a published revision stay: the published record is never changed in place.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.files import file_fields, prepare_upload, store
from gongkai.disclosure.models import Attachment, Disclosure, DisclosureStatus
from gongkai.disclosure.permissions import attachment_in_published_record, can_edit

MAX_PER_DISCLOSURE = 30


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
            raise ServiceError(
                _("A disclosure can have at most %(max)s files.") % {"max": MAX_PER_DISCLOSURE},
                field="file",
            )
        attachment = Attachment(disclosure=locked, uploaded_by=actor, **file_fields(prepared))
        store(attachment.file, prepared)
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
