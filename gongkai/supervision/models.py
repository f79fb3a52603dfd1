"""Models of the supervision app: semi-annual inspection rounds (监督检查), their findings and
rectification (整改), circulars (通报) and accountability decisions (责任追究)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint, user_link
from gongkai.org.models import OrgUnit


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class InspectionRound(TimeStampedModel):
    """One inspection round of a company's supervision group, e.g. "2026 first half"."""

    company = models.ForeignKey(
        OrgUnit,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="inspection_rounds",
    )
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(
        _("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    opened_by = user_link(_("opened by"), null=True)

    class Meta:
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        ordering = ["-period_start", "-id"]
        constraints = [
            choices_constraint("status", RoundStatus, "round_status_valid"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="round_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class InspectedDepartment(TimeStampedModel):
    """A department inspected in a round: what it reported, the figures frozen at the time of
    inspection, the checklist answers, what the representatives said, and the findings."""

    round = models.ForeignKey(
        InspectionRound,
        verbose_name=_("inspection round"),
        on_delete=models.CASCADE,
        related_name="departments",
    )
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspections"
    )
    self_report = models.TextField(_("self-report"), blank=True)
    self_report_file = models.FileField(
        _("self-report file"), upload_to="supervision/reports/%Y/", blank=True
    )
    self_report_file_name = models.CharField(_("file name"), max_length=200, blank=True)
    self_report_content_type = models.CharField(_("type"), max_length=100, blank=True)
    compliance_snapshot = models.JSONField(_("compliance figures"), null=True, blank=True)
    board_satisfaction = models.JSONField(_("board satisfaction"), null=True, blank=True)
    representative_notes = models.TextField(_("notes from hearing the representatives"), blank=True)
    inspected_on = models.DateField(_("inspected on"), null=True, blank=True)
    # A department of the round left uninspected when it was closed: why, by whom, when.
    not_inspected_reason = models.TextField(_("why it was not inspected"), blank=True)
    not_inspected_recorded_at = models.DateTimeField(_("reason recorded at"), null=True, blank=True)
    not_inspected_recorded_by = user_link(_("reason recorded by"), null=True)

    class Meta:
        verbose_name = _("inspected department")
        verbose_name_plural = _("inspected departments")
        ordering = ["round", "department__order", "department__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "department"], name="inspected_department_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.department}"

    @property
    def was_inspected(self) -> bool:
        """The inspection was recorded (or a finding, which presupposes it)."""
        return self.inspected_on is not None or any(True for _f in self.findings.all())


class ChecklistItem(models.Model):
    """A question of a round's checklist ("board updated within the month", ...)."""

    round = models.ForeignKey(
        InspectionRound,
        verbose_name=_("inspection round"),
        on_delete=models.CASCADE,
        related_name="checklist",
    )
    text = models.CharField(_("checklist item"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class Answer(models.TextChoices):
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    NOT_APPLICABLE = "na", _("Not applicable")


class ChecklistAnswer(models.Model):
    inspected = models.ForeignKey(
        InspectedDepartment,
        verbose_name=_("inspected department"),
        on_delete=models.CASCADE,
        related_name="answers",
    )
    item = models.ForeignKey(
        ChecklistItem,
        verbose_name=_("checklist item"),
        on_delete=models.CASCADE,
        related_name="answers",
    )
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("checklist answer")
        verbose_name_plural = _("checklist answers")
        constraints = [
            models.UniqueConstraint(fields=["inspected", "item"], name="checklist_answer_once"),
            choices_constraint("answer", Answer, "checklist_answer_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.answer}"


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    SERIOUS = "serious", _("Serious")


class Finding(TimeStampedModel):
    """A problem (问题) found in a department; it becomes a rectification task."""

    inspected = models.ForeignKey(
        InspectedDepartment,
        verbose_name=_("inspected department"),
        on_delete=models.CASCADE,
        related_name="findings",
    )
    text = models.TextField(_("finding"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeats",
    )
    recorded_by = user_link(_("recorded by"), null=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["inspected", "id"]
        constraints = [choices_constraint("severity", Severity, "finding_severity_valid")]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_id is not None


class RectificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    SENT_BACK = "sent_back", _("Sent back")


class Rectification(TimeStampedModel):
    """The task of rectifying a problem (整改): the responsible unit's head reports what was
    done, with evidence, by the due date; the supervision group accepts it or sends it back
    with reasons. It comes from one of two sources (exactly one is set):

    - an inspection finding (``finding``; the unit is the inspected department), or
    - an employee representatives' patrol (巡视: ``patrol``, the visited ``unit``, the
      ``problem`` to rectify and who ``opened_by`` it).
    """

    finding = models.OneToOneField(
        Finding,
        verbose_name=_("finding"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rectification",
    )
    patrol = models.ForeignKey(
        "congress.Patrol",
        verbose_name=_("patrol"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rectifications",
    )
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    problem = models.TextField(_("problem to rectify"), blank=True)
    opened_by = user_link(_("opened by"), null=True)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RectificationStatus.choices,
        default=RectificationStatus.PENDING,
        db_index=True,
    )
    report = models.TextField(_("what was done"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to="supervision/evidence/%Y/", blank=True)
    evidence_name = models.CharField(_("file name"), max_length=200, blank=True)
    evidence_content_type = models.CharField(_("type"), max_length=100, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    first_reported_at = models.DateTimeField(_("first reported at"), null=True, blank=True)
    reported_by = user_link(_("reported by"), null=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = user_link(_("verified by"), null=True)
    reasons = models.TextField(_("reasons for sending back"), blank=True)
    times_sent_back = models.PositiveSmallIntegerField(_("times sent back"), default=0)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_on", "id"]
        constraints = [
            choices_constraint("status", RectificationStatus, "rectification_status_valid"),
            # Exactly one source: a finding (whose department is the unit), or a patrol with
            # the visited unit, the problem and who opened it.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        finding__isnull=False,
                        patrol__isnull=True,
                        unit__isnull=True,
                        problem="",
                    )
                    | (
                        models.Q(
                            finding__isnull=True,
                            patrol__isnull=False,
                            unit__isnull=False,
                            opened_by__isnull=False,
                        )
                        & ~models.Q(problem="")
                    )
                ),
                name="rectification_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.problem_text[:60]

    @property
    def from_patrol(self) -> bool:
        return self.patrol_id is not None

    @property
    def responsible_unit(self) -> OrgUnit:
        """The unit whose head reports: the inspected department, or the unit visited."""
        finding = self.finding if self.finding_id is not None else None
        if finding is not None:
            return finding.inspected.department
        assert self.unit is not None  # noqa: S101 - the check constraint guarantees it
        return self.unit

    @property
    def problem_text(self) -> str:
        """What is to be rectified: the finding's text, or the problem found on the patrol."""
        finding = self.finding if self.finding_id is not None else None
        return finding.text if finding is not None else self.problem


class CircularStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


CIRCULAR_FROZEN = "issued circulars are never changed"


class Circular(TimeStampedModel):
    """The written circular (通报) of a round. A draft is edited; once issued it is published
    as a disclosure and frozen (this model, and a database trigger, refuse changes); it can
    only be superseded by a new circular that points to it."""

    round = models.ForeignKey(
        InspectionRound,
        verbose_name=_("inspection round"),
        on_delete=models.PROTECT,
        related_name="circulars",
    )
    number = models.CharField(_("document number"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=200)
    # [{"heading": str, "paragraphs": [str, ...], "table": {"columns": [...], "rows": [...]}}]
    sections = models.JSONField(_("sections"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=CircularStatus.choices, default=CircularStatus.DRAFT
    )
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("supersedes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    supersede_reason = models.CharField(_("reason for superseding"), max_length=500, blank=True)
    created_by = user_link(_("drafted by"), null=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = user_link(_("issued by"), null=True)
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("circular")
        verbose_name_plural = _("circulars")
        ordering = ["-issued_at", "-id"]
        constraints = [
            choices_constraint("status", CircularStatus, "circular_status_valid"),
            models.UniqueConstraint(
                fields=["supersedes"],
                condition=models.Q(status="issued"),
                name="circular_superseded_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_issued(self) -> bool:
        return self.status == CircularStatus.ISSUED

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and (
            self.status == CircularStatus.ISSUED
            or Circular.objects.filter(pk=self.pk, status=CircularStatus.ISSUED).exists()
        ):
            raise ValueError(CIRCULAR_FROZEN)
        super().save(*args, **kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if Circular.objects.filter(pk=self.pk, status=CircularStatus.ISSUED).exists():
            raise ValueError(CIRCULAR_FROZEN)
        return super().delete(*args, **kwargs)

    delete.alters_data = True  # type: ignore[attr-defined]


class Measure(models.TextChoices):
    ADMONITION = "admonition", _("Admonishing talk")
    CRITICISM = "criticism", _("Criticism")
    WRITTEN_SELF_CRITICISM = "self_criticism", _("Written self-criticism")
    CIRCULATED_CRITICISM = "circulated", _("Circulated criticism")
    WRITTEN_WARNING = "warning", _("Written warning")
    PAY_DEDUCTION = "pay_deduction", _("Performance pay deduction")
    OTHER = "other", _("Other measure")


class AccountabilityDecision(TimeStampedModel):
    """A decision of the supervision group holding a person to account (责任追究), linked to
    its cause: a finding, or a failure described in words."""

    person = user_link(_("person"), related_name="accountability_decisions")
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="accountability_decisions",
    )
    finding = models.ForeignKey(
        Finding,
        verbose_name=_("finding"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accountability_decisions",
    )
    cause = models.TextField(_("cause"), blank=True)
    measure = models.CharField(_("measure taken"), max_length=20, choices=Measure.choices)
    details = models.TextField(_("details"), blank=True)
    decided_on = models.DateField(_("decided on"))
    recorded_by = user_link(_("recorded by"), null=True)

    class Meta:
        verbose_name = _("accountability decision")
        verbose_name_plural = _("accountability decisions")
        ordering = ["-decided_on", "-id"]
        constraints = [
            choices_constraint("measure", Measure, "accountability_measure_valid"),
            models.CheckConstraint(
                condition=models.Q(finding__isnull=False) | ~models.Q(cause=""),
                name="accountability_has_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_measure_display()}"
