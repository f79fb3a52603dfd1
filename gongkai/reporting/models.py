"""Models of the reporting app (举报): anonymous reports to the discipline inspectors.

What a report row holds is the whole promise of this app, so it is spelled out here: the
company it is addressed to, how it arrived (online, hotline, letter, in person), the subject
and text, its status and the inspectors' conclusion, the day it arrived and the day it last
changed (days only: no time of day), and the keyed digest of its receipt code. There is no
user, no IP address, no user agent, no file name and no precise timestamp, and the model
does not inherit TimeStampedModel. Primary keys are random UUIDs, so that neither the id
nor the order of ids tells in which order reports arrived within a day.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

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

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=ReportSource.values), name="report_source_valid"
            ),
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
            models.CheckConstraint(
                condition=models.Q(side__in=MessageSide.values), name="report_message_side_valid"
            ),
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
