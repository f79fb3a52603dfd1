"""State changes of anonymous reports. Nothing here takes or stores the reporter.

Services used by the reporter (:func:`report_submit`, :func:`report_add_information`) have
no ``actor`` and write no audit event: an audit event carries a precise time and, for a
signed-in person, who they are. They do not write a report either: they *hold* it, sealed,
until the end of the release window (gongkai.reporting.release), so that no row version of a
report carries the reporter's transaction id. Audit events about reports are written only
for the inspectors' own actions, with the inspector as actor, and carry no content of the
report (the audit log is read by others than the inspectors).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.files import PreparedFile, prepare_upload
from gongkai.core.text import clean_text
from gongkai.core.workflow import Workflow, rows
from gongkai.notify.workflow import take_step
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action
from gongkai.reporting import receipts, release, tokens
from gongkai.reporting.models import (
    Evidence,
    MessageSide,
    Report,
    ReportingChannel,
    ReportMessage,
    ReportSource,
    ReportStatus,
)
from gongkai.reporting.permissions import can_handle

SUBJECT_MAX = 200
BODY_MAX = 20_000
MESSAGE_MAX = 10_000
SUMMARY_MAX = 10_000
FILES_PER_SUBMISSION = 5
EVIDENCE_PER_REPORT = 30
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# received → under review → concluded; each step is named by the state it leads to.
FLOW = Workflow(
    model=Report,
    table=[
        *rows(
            ReportStatus.UNDER_REVIEW,
            [ReportStatus.RECEIVED],
            ReportStatus.UNDER_REVIEW,
            Action.REPORT_HANDLE,
        ),
        *rows(
            ReportStatus.CONCLUDED,
            [ReportStatus.RECEIVED, ReportStatus.UNDER_REVIEW],
            ReportStatus.CONCLUDED,
            Action.REPORT_HANDLE,
        ),
    ],
    stale=gettext_lazy("A report that is “%(status)s” cannot be moved to “%(to)s”."),
    stale_field="to",
    lost=gettext_lazy("A report that is “%(status)s” cannot be moved to “%(to)s”."),
)


def _today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _text(value: str, *, field: str, limit: int, label: str) -> str:
    """:func:`clean_text` with the reporting channel's messages, which name the field."""

    def too_long(limit: int, length: int) -> str:
        return _("%(field)s is too long: at most %(limit)s characters (now %(count)s).") % {
            "field": label,
            "limit": limit,
            "count": length,
        }

    return clean_text(
        value,
        field=field,
        limit=limit,
        empty=_("Please fill in %(field)s.") % {"field": label},
        too_long=too_long,
    )


def _company(company: OrgUnit | None) -> OrgUnit:
    if company is None or company.kind != UnitKind.COMPANY or not company.is_active:
        raise ServiceError(_("Choose the company the report is about."), field="company")
    return company


def prepare_evidence(uploads: Sequence[UploadedFile]) -> list[PreparedFile]:
    """Sniff and clean the files before any transaction (images take a moment). The
    reporter's file names are dropped here."""
    if len(uploads) > FILES_PER_SUBMISSION:
        raise ServiceError(
            _("At most %(max)s files at a time.") % {"max": FILES_PER_SUBMISSION}, field="evidence"
        )
    prepared: list[PreparedFile] = []
    for upload in uploads:
        if upload.size is not None and upload.size > EVIDENCE_MAX_BYTES:
            raise ServiceError(
                _("A file is larger than %(limit)s.")
                % {"limit": filesizeformat(EVIDENCE_MAX_BYTES)},
                field="evidence",
            )
        try:
            prepared.append(prepare_upload(upload))
        except ServiceError as error:
            raise ServiceError(error.message, field="evidence") from error
        if len(prepared[-1].data) > EVIDENCE_MAX_BYTES:
            raise ServiceError(
                _("A file is larger than %(limit)s.")
                % {"limit": filesizeformat(EVIDENCE_MAX_BYTES)},
                field="evidence",
            )
    return prepared


def _store_evidence(report: Report, files: list[PreparedFile]) -> None:
    if not files:
        return
    first = (report.evidence.aggregate(n=Max("number"))["n"] or 0) + 1
    if first - 1 + len(files) > EVIDENCE_PER_REPORT:
        raise ServiceError(
            _("A report can have at most %(max)s files.") % {"max": EVIDENCE_PER_REPORT},
            field="evidence",
        )
    Evidence.objects.bulk_create(
        Evidence(
            report=report,
            number=first + i,
            content_type=f.kind.content_type,
            extension=f.kind.extension,
            size=len(f.data),
            sha256=f.sha256,
            data=f.data,
        )
        for i, f in enumerate(files)
    )


def _add_message(report: Report, *, side: str, body: str) -> ReportMessage:
    seq = (report.messages.aggregate(n=Max("seq"))["n"] or 0) + 1
    return ReportMessage.objects.create(
        report=report, side=side, body=body, seq=seq, written_on=_today()
    )


@dataclass(frozen=True)
class Filed:
    report: Report | None  # None: sent online, held until the release (see release.py)
    code: str  # shown once, never stored


def _create(
    *, company: OrgUnit, source: str, subject: str, body: str, files: list[PreparedFile]
) -> Filed:
    code = receipts.new_code()
    today = _today()
    report = Report.objects.create(
        company=company,
        source=source,
        subject=subject,
        body=body,
        received_on=today,
        updated_on=today,
        receipt_digest=receipts.digest(code),
    )
    _store_evidence(report, files)
    return Filed(report=report, code=code)


def _held_files(files: list[PreparedFile]) -> list[release.HeldFile]:
    return [
        release.HeldFile(f.kind.content_type, f.kind.extension, f.sha256, f.data) for f in files
    ]


def report_submit(
    *,
    company: OrgUnit | None,
    subject: str,
    body: str,
    uploads: Sequence[UploadedFile] = (),
    token: str | None = None,
) -> Filed:
    """A report sent through the online form. There is deliberately no ``actor``. The report
    is held, sealed, until the end of the release window (``Filed.report`` is None);
    ``token`` is the form's one-time token (tokens.BadToken, tokens.AlreadySent: nothing
    stored)."""
    company = _company(company)
    subject = _text(subject, field="subject", limit=SUBJECT_MAX, label=_("the subject"))
    body = _text(body, field="body", limit=BODY_MAX, label=_("what happened"))
    files = prepare_evidence(uploads)
    code = receipts.new_code()
    held = release.Held(
        kind=release.REPORT,
        digest=receipts.digest(code),
        body=body,
        day=_today(),
        company_id=company.pk,
        subject=subject,
        files=_held_files(files),
    )
    release.hold(held, lookup=receipts.digest(code, salt=receipts.HELD_SALT), token=token)
    return Filed(report=None, code=code)


def report_enter(
    *,
    actor: User,
    company: OrgUnit | None,
    source: str,
    subject: str,
    body: str,
    uploads: Sequence[UploadedFile] = (),
    token: str | None = None,
) -> Filed:
    """A report that came by the hotline, by letter or in person, entered by an inspector.
    The inspector hands the receipt code over to the reporter. ``token``: the form's one-time
    token (tokens.BadToken, tokens.AlreadySent: nothing stored), so that a refresh of the page
    with the code does not enter the report twice."""
    company = _company(company)
    if not can_handle(actor, company):
        raise ServiceError(_("You may not handle reports of this company."))
    if source not in (ReportSource.HOTLINE, ReportSource.LETTER, ReportSource.IN_PERSON):
        raise ServiceError(_("Choose how the report arrived."), field="source")
    subject = _text(subject, field="subject", limit=SUBJECT_MAX, label=_("the subject"))
    body = _text(body, field="body", limit=BODY_MAX, label=_("what happened"))
    files = prepare_evidence(uploads)
    with transaction.atomic():
        if token is not None:
            tokens.spend(token)
        filed = _create(company=company, source=source, subject=subject, body=body, files=files)
        record_event(
            actor=actor,
            action="report.entered",
            target=filed.report,
            unit=company,
            target_label=str(filed.report),
            after={"source": source},
        )
    return filed


def report_find(*, code: str) -> Report | None:
    """The report of a receipt code, or None. A malformed code is hashed and looked up like
    any other, so that forged and wrong codes take the same path."""
    digests = receipts.candidate_digests(code)
    found = None
    for report in Report.objects.filter(receipt_digest__in=digests).select_related("company"):
        if receipts.matches(report.receipt_digest, code):
            found = report
    return found


def report_add_information(
    *,
    report: Report | release.HeldReport,
    body: str,
    uploads: Sequence[UploadedFile] = (),
    token: str | None = None,
) -> None:
    """More information from the reporter (who proved it by the receipt code), to a report
    released or still held. Held like a report, and added at the release."""
    body = _text(body, field="body", limit=MESSAGE_MAX, label=_("the information"))
    files = prepare_evidence(uploads)
    if isinstance(report, Report):
        current = Report.objects.get(pk=report.pk)
        if current.status == ReportStatus.CONCLUDED:
            raise ServiceError(
                _("This report is concluded. To report something new, send a new report.")
            )
        if current.evidence.count() + len(files) > EVIDENCE_PER_REPORT:
            raise ServiceError(
                _("A report can have at most %(max)s files.") % {"max": EVIDENCE_PER_REPORT},
                field="evidence",
            )
    elif len(report.files) + len(files) > EVIDENCE_PER_REPORT:
        raise ServiceError(
            _("A report can have at most %(max)s files.") % {"max": EVIDENCE_PER_REPORT},
            field="evidence",
        )
    held = release.Held(
        kind=release.ADDITION,
        digest=report.receipt_digest,
        body=body,
        day=_today(),
        files=_held_files(files),
        order=release.now_order(),
    )
    release.hold(held, lookup=release.new_lookup(), token=token)


def _locked_for(actor: User, report: Report) -> Report:
    locked = Report.objects.select_for_update().select_related("company").get(pk=report.pk)
    if not can_handle(actor, locked.company):
        raise ServiceError(_("You may not handle reports of this company."))
    return locked


@transaction.atomic
def report_transition(*, actor: User, report: Report, to: str, summary: str = "") -> Report:
    """received → under review → concluded (with a summary the reporter can read)."""
    locked = _locked_for(actor, report)
    FLOW.check(locked, to, to)
    today = _today()
    changes: dict[str, Any] = {"updated_on": today}
    if to == ReportStatus.CONCLUDED:
        changes["summary"] = _text(
            summary, field="summary", limit=SUMMARY_MAX, label=_("the conclusion")
        )
        changes["concluded_on"] = today
    take_step(
        FLOW,
        locked,
        to,
        actor=actor,
        audit="report.status_changed",
        unit=locked.company,
        target_label=str(locked),
        changes=changes,
        target=to,
    )
    return locked


@transaction.atomic
def report_reply(*, actor: User, report: Report, body: str) -> ReportMessage:
    """An answer to the reporter, read with the receipt code."""
    locked = _locked_for(actor, report)
    body = _text(body, field="body", limit=MESSAGE_MAX, label=_("the answer"))
    message = _add_message(locked, side=MessageSide.INSPECTORS, body=body)
    Report.objects.filter(pk=locked.pk).update(updated_on=_today())
    record_event(
        actor=actor,
        action="report.replied",
        target=locked,
        unit=locked.company,
        target_label=str(locked),
        after={"message": message.seq},
    )
    return message


REFERENCE = re.compile(r"[0-9A-F]{8}")


def _reference_label(report: Report | None) -> str:
    return report.reference if report is not None else ""


@transaction.atomic
def report_mark_duplicate(*, actor: User, report: Report, of: str) -> Report:
    """Mark ``report`` as a duplicate of the report of the company whose reference (the 8
    characters the inspectors see) is ``of``; an empty ``of`` removes the mark. The reporter
    sees it with the receipt code. Audited with the inspector as actor, references only."""
    locked = _locked_for(actor, report)
    typed = (of or "").strip().upper()
    target: Report | None = None
    if typed:
        if not REFERENCE.fullmatch(typed):
            raise ServiceError(
                _("Type the other report's reference: 8 characters such as 3F9A0C12."),
                field="of",
            )
        matches = list(
            Report.objects.filter(company=locked.company, id__startswith=typed.lower())
            .exclude(pk=locked.pk)
            .select_related("duplicate_of")[:2]
        )
        if not matches:
            raise ServiceError(
                _("No other report of this company has the reference %(ref)s.") % {"ref": typed},
                field="of",
            )
        if len(matches) > 1:  # pragma: no cover - 32 bits; would need a longer reference
            raise ServiceError(_("Several reports have this reference."), field="of")
        target = matches[0]
        seen = {locked.pk}
        while target.duplicate_of_id is not None and target.pk not in seen:  # to the first one
            seen.add(target.pk)
            target = Report.objects.get(pk=target.duplicate_of_id)
        if target.pk in seen:
            raise ServiceError(_("That report is itself a duplicate of this one."), field="of")
    previous = (
        Report.objects.filter(pk=locked.duplicate_of_id).first() if locked.duplicate_of_id else None
    )
    if (target.pk if target else None) == locked.duplicate_of_id:
        return locked
    locked.duplicate_of = target
    locked.updated_on = _today()
    locked.save(update_fields=["duplicate_of", "updated_on"])
    record_event(
        actor=actor,
        action="report.duplicate_marked",
        target=locked,
        unit=locked.company,
        target_label=str(locked),
        before={"duplicate_of": _reference_label(previous)},
        after={"duplicate_of": _reference_label(target)},
    )
    return locked


# --- The channel (hotline, address) -----------------------------------------------------------

CHANNEL_CACHE_SECONDS = 600


def channel_cache_key(company_id: int) -> str:
    return f"reporting:channel:{company_id}"


@transaction.atomic
def channel_save(
    *, actor: User, company: OrgUnit, hotline: str, postal_address: str, email: str = ""
) -> ReportingChannel:
    company = _company(company)
    if not can_handle(actor, company):
        raise ServiceError(_("You may not handle reports of this company."))
    hotline = _text(hotline, field="hotline", limit=40, label=_("the hotline"))
    postal_address = _text(
        postal_address, field="postal_address", limit=300, label=_("the postal address")
    )
    email = (email or "").strip()
    channel = ReportingChannel.objects.select_for_update().filter(company=company).first()
    fields = ["hotline", "postal_address", "email"]
    new = {"hotline": hotline, "postal_address": postal_address, "email": email}
    if channel is None:
        channel = ReportingChannel.objects.create(company=company, **new)
        before: dict[str, str] = {}
        after = new
    else:
        before = {f: getattr(channel, f) for f in fields if getattr(channel, f) != new[f]}
        after = {f: new[f] for f in before}
        for f in fields:
            setattr(channel, f, new[f])
        channel.save()
    if after:
        record_event(
            actor=actor,
            action="report.channel_changed",
            target=channel,
            unit=company,
            before=before,
            after=after,
        )
    # Now, and again after the commit (a board read in between may have cached the old one).
    cache.delete(channel_cache_key(company.pk))
    transaction.on_commit(lambda: cache.delete(channel_cache_key(company.pk)))
    return channel
