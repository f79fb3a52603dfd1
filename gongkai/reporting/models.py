"""Models of the reporting app (举报): anonymous reports to the discipline inspectors.

What a report row holds is the whole promise of this app, so it is spelled out here: the
company it is addressed to, how it arrived (online, hotline, letter, in person), the subject
and text, its status and the inspectors' conclusion, the day it arrived and the day it last
changed (days only: no time of day), and the keyed digest of its receipt code. There is no
user, no IP address, no user agent, no file name and no precise timestamp, and the model
does not inherit TimeStampedModel. Primary keys are random UUIDs, so that neither the id
nor the order of ids tells in which order reports arrived within a day.

Nor does the database's own bookkeeping date a report or tie it to the reporter: what the
reporter's transaction writes is a ``HeldSubmission`` — a sealed box (gongkai.core.secretbox)
that nobody can read from the database — and reports, messages and files are written from
the boxes by a separate release transaction, at the end of a release window, in a random
order (gongkai.reporting.release). ``SpentToken`` remembers the one-time tokens of the forms
whose submission was released, so that a form sent twice files one report.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import choices_constraint
from gongkai.org.models import OrgUnit


class ReportStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    CONCLUDED = "concluded", _("Concluded")


class ReportSource(models.TextChoices):
    ONLINE = "online", _("Online form")
    HOTLINE = "hotline", _("Reporting hotline")
    LETTER = "letter", _("Letter")
    IN_PERSON = "in_person", _("In person")


class ReportingChannel(models.Model):
    """How to reach a company's discipline inspectors: shown on /report/ and every board."""

    company = models.OneToOneField(
        OrgUnit,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="reporting_channel",
    )
    hotline = models.CharField(_("reporting hotline"), max_length=40)
    postal_address = models.CharField(_("postal address"), max_length=300)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("reporting channel")
        verbose_name_plural = _("reporting channels")

    def __str__(self) -> str:
        return f"{self.company} {self.hotline}"


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(
        _("channel"), max_length=20, choices=ReportSource.choices, default=ReportSource.ONLINE
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("what happened"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.RECEIVED
    )
    summary = models.TextField(_("conclusion"), blank=True)
    received_on = models.DateField(_("received on"), db_index=True)
    updated_on = models.DateField(_("last changed on"))
    concluded_on = models.DateField(_("concluded on"), null=True, blank=True)
    # HMAC-SHA256 of the receipt code (hex); the code itself is never stored.
    receipt_digest = models.CharField(_("receipt digest"), max_length=64, unique=True)
    # Marked by the inspectors: the same matter as another report, handled with it.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_on"]
        constraints = [
            choices_constraint("status", ReportStatus, "report_status_valid"),
            choices_constraint("source", ReportSource, "report_source_valid"),
        ]

    def __str__(self) -> str:
        return str(_("Report %(ref)s")) % {"ref": self.reference}

    @property
    def reference(self) -> str:
        """A short reference for inspectors to talk about a report (not a secret)."""
        return self.id.hex[:8].upper()


class MessageSide(models.TextChoices):
    REPORTER = "reporter", _("Reporter")
    INSPECTORS = "inspectors", _("Discipline inspectors")


class ReportMessage(models.Model):
    """Information added by the reporter, or an answer of the inspectors to the reporter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="messages"
    )
    side = models.CharField(_("from"), max_length=20, choices=MessageSide.choices)
    body = models.TextField(_("text"))
    # Messages of one day are shown in the order written, without storing a time.
    seq = models.PositiveIntegerField(_("number"))
    written_on = models.DateField(_("date"))

    class Meta:
        verbose_name = _("report message")
        verbose_name_plural = _("report messages")
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["report", "seq"], name="report_message_seq_unique"),
            choices_constraint("side", MessageSide, "report_message_side_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.report.reference} #{self.seq}"


class Evidence(models.Model):
    """A file given with a report. Kept in the database (not on a file system, which would
    record a precise modification time), sniffed and cleaned: images re-encoded without any
    metadata. The reporter's file name is not kept; it is shown as "evidence-N.ext"."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="evidence"
    )
    number = models.PositiveIntegerField(_("number"))
    content_type = models.CharField(_("type"), max_length=100)
    extension = models.CharField(_("extension"), max_length=10)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    data = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="evidence_number_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"evidence-{self.number}{self.extension}"


class HeldSubmission(models.Model):
    """A report or an addition sent online, until its release window ends.

    Written by the reporter's own transaction, so its row versions carry that transaction's
    id — next to the ids of whatever else the reporter did at that moment. So it holds nothing
    readable: the content (kind, company, subject, text, files, day, receipt digest) is a
    sealed box, padded to one of a few lengths. ``lookup`` is another keyed digest of the
    receipt code than ``Report.receipt_digest`` (so the reporter can read a report still
    held; a random one for an addition); ``token`` the keyed digest of the form's one-time
    token (UNIQUE: the same form sent twice while held fails here); ``release_after`` the end
    of the release window, no finer than the window. The release (gongkai.reporting.release)
    empties this table with TRUNCATE, so no version of a box outlives its release."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lookup = models.CharField(max_length=64, db_index=True)
    token = models.CharField(max_length=64, unique=True)
    release_after = models.DateTimeField(db_index=True)
    box = models.BinaryField()

    def __str__(self) -> str:
        return f"held {self.id.hex[:8]}"


class SpentToken(models.Model):
    """The keyed digest of a one-time form token whose submission was released (written by the
    release, never by the reporter's transaction), kept until the token has expired anyway."""

    digest = models.CharField(max_length=64, primary_key=True)
    expires_on = models.DateField(db_index=True)

    def __str__(self) -> str:
        return self.digest[:8]
