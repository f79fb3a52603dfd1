from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class TimeStampedModel(models.Model):
    """Creation and last-change times, for the models that change."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def user_link(
    verbose_name: StrOrPromise, *, null: bool = False, related_name: str = "+"
) -> models.ForeignKey[Any, Any]:
    """The user who did something (PROTECT: people are deactivated, never deleted); ``null``
    (and blank) for a step not done yet, or done by the system."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name=related_name,
    )


def choices_constraint(
    field: str, choices: type[models.Choices], name: str
) -> models.CheckConstraint:
    """The database's check that ``field`` holds one of the values of ``choices``."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (non-working day)")
    WORKDAY = "workday", _("Adjusted working day (调休)")


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday (not worked) or an adjusted
    working day (a Saturday or Sunday that is worked, 调休). One row per date."""

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["day"]
        constraints = [choices_constraint("kind", DayKind, "core_calendarday_kind_valid")]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.get_kind_display()}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """A piece of slow work done for one person in the background (``gongkai.core.jobs``): a
    roster check or import, a PDF or Word document. Its page shows the progress and then the
    result: a file to download, or data that the kind's template shows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    # A job is its owner's own passing business: it goes with them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # SHA-256 of the parameters as canonical JSON: finds an identical job to reuse.
    params_key = models.CharField(max_length=64)
    # The owner's language when they asked: the work speaks it (messages, documents).
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)  # 0: not known (yet)
    message = models.CharField(_("message"), max_length=200, blank=True)
    # What the job works on (an uploaded roster), kept until the work is over with it.
    input_file = models.FileField(_("input file"), upload_to="jobs/", max_length=200, blank=True)
    input_sha256 = models.CharField(max_length=64, blank=True)  # checked before it is used
    file = models.FileField(_("file"), upload_to="jobs/", max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Written with every progress report: a running job whose heartbeat stops was left by a
    # worker that died, and may be taken up again.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["owner", "kind", "params_key", "created_at"], name="core_job_same"
            ),
            models.Index(fields=["status", "heartbeat_at"], name="core_job_status"),
            models.Index(fields=["created_at"], name="core_job_created"),
        ]
        constraints = [choices_constraint("status", JobStatus, "core_job_status_valid")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


# --- Transparency logs (gongkai.core.tlog) ---------------------------------------------------


class TransparencyLog(models.Model):
    """One Merkle tree log (gongkai.core.tlog.store): its size, root and compact range (the
    hashes of the full subtrees of the size's binary decomposition, end to end)."""

    name = models.SlugField(_("name"), primary_key=True, max_length=40)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    frontier = models.BinaryField(_("compact range"), default=b"")
    # SHA-256 of the empty string: the root of the empty tree (RFC 6962).
    root = models.BinaryField(
        _("root"),
        default=bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transparency log")
        verbose_name_plural = _("transparency logs")

    def __str__(self) -> str:
        return f"{self.name} ({self.size})"


class LogTile(models.Model):
    """The hashes of one tile (C2SP tlog-tiles), end to end: growing while partial, never
    changed once it holds 256 (a trigger refuses)."""

    log = models.ForeignKey(TransparencyLog, on_delete=models.PROTECT, related_name="tiles")
    level = models.PositiveSmallIntegerField(_("tile level"))
    index = models.PositiveBigIntegerField(_("tile index"))
    data = models.BinaryField(_("hashes"))

    class Meta:
        verbose_name = _("log tile")
        verbose_name_plural = _("log tiles")
        constraints = [
            models.UniqueConstraint(fields=["log", "level", "index"], name="core_logtile_unique")
        ]

    def __str__(self) -> str:
        return f"{self.log_id} tile/{self.level}/{self.index}"


class LogBundle(models.Model):
    """The data of up to 256 leaves (a C2SP entry bundle: uint16 length-prefixed), growing
    while partial, never changed once it holds 256 (a trigger refuses)."""

    log = models.ForeignKey(TransparencyLog, on_delete=models.PROTECT, related_name="bundles")
    index = models.PositiveBigIntegerField(_("bundle index"))
    count = models.PositiveSmallIntegerField(_("entries"))
    data = models.BinaryField(_("entries"))

    class Meta:
        verbose_name = _("log entry bundle")
        verbose_name_plural = _("log entry bundles")
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="core_logbundle_unique")
        ]

    def __str__(self) -> str:
        return f"{self.log_id} tile/entries/{self.index}"


class LogCheckpoint(models.Model):
    """A signed checkpoint of a log (C2SP tlog-checkpoint in a signed note), one per size;
    never changed (a trigger refuses)."""

    log = models.ForeignKey(TransparencyLog, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.PositiveBigIntegerField(_("size"))
    root = models.BinaryField(_("root"))
    note = models.TextField(_("signed note"))
    created_at = models.DateTimeField(_("signed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-size"]
        constraints = [
            models.UniqueConstraint(fields=["log", "size"], name="core_logcheckpoint_unique")
        ]

    def __str__(self) -> str:
        return f"{self.log_id} {self.size}"

    @property
    def root_hex(self) -> str:
        return bytes(self.root).hex()

    @property
    def short_root(self) -> str:
        """The first 16 hexadecimal digits of the root: enough to compare by eye."""
        return self.root_hex[:16]


class LogCosignature(models.Model):
    """A witness's cosignature of a checkpoint (C2SP tlog-cosignature), as it answered."""

    checkpoint = models.ForeignKey(
        LogCheckpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(_("witness"), max_length=200)
    line = models.TextField(_("signature line"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="core_logcosignature_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness}: {self.checkpoint}"
