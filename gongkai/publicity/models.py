"""Models of the publicity app: publicity windows (公示) on
published disclosures, objections (异议) with their evidence and findings, and outcomes.

Open, closed and upcoming are derived from the dates and today's date (server local date);
no job ever flips a flag (time-dependent state is derived: docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint, user_link
from gongkai.disclosure.models import Disclosure


class PublicityKind(models.TextChoices):
    CADRE = "cadre", _("Cadre pre-appointment publicity (干部任前公示)")
    GENERAL = "general", _("General publicity")


class Outcome(models.TextChoices):
    NO_OBJECTION = "no_objection", _("No objection was raised")
    UNFOUNDED = "unfounded", _("Objections were found unfounded")
    SUSPENDED = "suspended", _("Appointment suspended")
    WITHDRAWN = "withdrawn", _("Appointment withdrawn")
    OTHER = "other", _("Other")


class Finding(models.TextChoices):
    FOUNDED = "founded", _("Founded")
    PARTLY = "partly", _("Partly founded")
    UNFOUNDED = "unfounded", _("Unfounded")


class WindowState(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open for objections")
    CLOSED = "closed", _("Closed")


class Publicity(TimeStampedModel):
    """A publicity window on a published disclosure: objections may be filed from
    ``starts_on`` to ``ends_on`` inclusive; afterwards the unit publishes the outcome."""

    disclosure = models.ForeignKey(
        Disclosure,
        verbose_name=_("disclosure"),
        on_delete=models.PROTECT,
        related_name="publicities",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=PublicityKind.choices, default=PublicityKind.CADRE
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    opened_by = user_link(_("opened by"))
    outcome = models.CharField(  # noqa: DJ001 - null until published (the contract)
        _("outcome"), max_length=20, choices=Outcome.choices, null=True, blank=True
    )
    outcome_text = models.TextField(_("outcome explained"), blank=True)
    outcome_published_at = models.DateTimeField(_("outcome published at"), null=True, blank=True)
    outcome_published_by = user_link(_("outcome published by"), null=True)

    class Meta:
        verbose_name = _("publicity window")
        verbose_name_plural = _("publicity windows")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="publicity_ends_after_start",
            ),
            choices_constraint("kind", PublicityKind, "publicity_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(outcome__isnull=True) | models.Q(outcome__in=Outcome.values),
                name="publicity_outcome_valid",
            ),
        ]
        indexes = [models.Index(fields=["ends_on"], name="publicity_ends_on")]

    def __str__(self) -> str:
        return str(self.disclosure)

    def state_on(self, today: date) -> WindowState:
        if today < self.starts_on:
            return WindowState.UPCOMING
        if today > self.ends_on:
            return WindowState.CLOSED
        return WindowState.OPEN


class Objection(models.Model):
    """An objection (异议) filed during a publicity window. ``filed_by`` is always stored,
    for the supervision group; when ``anonymous`` it is shown to no one else (see
    gongkai.publicity.permissions). Only the date is kept, not the time of day."""

    publicity = models.ForeignKey(
        Publicity,
        verbose_name=_("publicity window"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    filed_by = user_link(_("filed by"))
    filed_on = models.DateField(_("filed on"))
    anonymous = models.BooleanField(_("anonymous"), default=False)
    text = models.TextField(_("facts"))
    finding = models.CharField(  # noqa: DJ001 - null until recorded (the contract)
        _("finding"), max_length=20, choices=Finding.choices, null=True, blank=True
    )
    finding_text = models.TextField(_("finding explained"), blank=True)
    finding_recorded_at = models.DateTimeField(_("finding recorded at"), null=True, blank=True)
    finding_recorded_by = user_link(_("finding recorded by"), null=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["publicity", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(finding__isnull=True) | models.Q(finding__in=Finding.values),
                name="objection_finding_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(finding__isnull=True)
                | models.Q(finding_recorded_at__isnull=False),
                name="objection_finding_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.publicity_id})"


class ObjectionEvidence(models.Model):
    """A file backing an objection: type sniffed and image metadata stripped exactly as
    for disclosure attachments (gongkai.disclosure.attachments.prepare_upload)."""

    objection = models.ForeignKey(
        Objection,
        verbose_name=_("objection"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField(_("file"), upload_to="objections/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["objection", "id"]

    def __str__(self) -> str:
        return self.original_name
