"""The catalog (what must be published, by whom, how often, by when) and disclosures."""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint, user_link
from gongkai.core.periods import Frequency
from gongkai.core.satisfaction import Satisfaction
from gongkai.core.scope import Scope
from gongkai.org.models import OrgUnit, UnitKind


class Category(models.Model):
    """A node of the catalog's category tree (三招, 三费, 三评, 三分 …)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


REMIND_DAYS_MAX = 30  # working days: a reminder about six weeks ahead at most


class CatalogEntry(TimeStampedModel):
    """One obligation of the catalog (公开目录). Its rules are versioned: see CatalogRule."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="entries"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Read by the reminder engine through the obligations' deadline source (deadlines.py).
    remind_days_before = models.PositiveSmallIntegerField(
        _("reminder, working days before the deadline"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(REMIND_DAYS_MAX)],
        help_text=_("Remind this many working days before the deadline (empty: the default)."),
    )

    class Meta:
        verbose_name = _("catalog entry")
        verbose_name_plural = _("catalog entries")
        ordering = ["category__order", "order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remind_days_before__lte=REMIND_DAYS_MAX)
                | models.Q(remind_days_before__isnull=True),
                name="catalogentry_remind_days_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CatalogRule(models.Model):
    """What a catalog entry demands, from ``effective_from`` on. Editing the catalog adds a
    rule; the old one still decides the periods that began before, so history is never
    rewritten. Rows are never updated."""

    entry = models.ForeignKey(
        CatalogEntry,
        verbose_name=_("catalog entry"),
        on_delete=models.PROTECT,
        related_name="rules",
    )
    effective_from = models.DateField(_("effective from"))
    unit_kinds = models.JSONField(_("unit kinds that publish it"), default=list)
    frequency = models.CharField(_("frequency"), max_length=20, choices=Frequency.choices)
    deadline_days = models.PositiveSmallIntegerField(
        _("days after the period ends"),
        default=10,
        help_text=_(
            "Publishing within this many days after the period (or event) counts as on time."
        ),
    )
    default_scope = models.CharField(
        _("default scope"), max_length=10, choices=Scope.choices, default=Scope.INTERNAL
    )
    requires_procedure = models.BooleanField(_("procedure required"), default=True)
    requires_result = models.BooleanField(_("result required"), default=True)
    reason = models.CharField(_("reason for the change"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("catalog rule")
        verbose_name_plural = _("catalog rules")
        ordering = ["entry", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "effective_from"], name="catalogrule_once_per_day"
            ),
            choices_constraint("frequency", Frequency, "catalogrule_frequency_valid"),
            choices_constraint("default_scope", Scope, "catalogrule_scope_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.entry} @ {self.effective_from}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("catalog rules are never changed; add a new one")
        super().save(*args, **kwargs)

    def applies_to(self, unit: OrgUnit) -> bool:
        return unit.kind in self.unit_kinds


class DisclosureStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    HEAD_APPROVED = "head_approved", _("Approved by the unit head")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Disclosure(TimeStampedModel):
    """A disclosure (公开事项) of a unit for a catalog entry and a period or event.

    The row holds the working copy that goes through the workflow; what was published lives
    in immutable :class:`Revision` rows. ``is_nil`` marks a signed "nothing to report this
    period" attestation, which counts as published.
    """

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="disclosures"
    )
    entry = models.ForeignKey(
        CatalogEntry,
        verbose_name=_("catalog entry"),
        on_delete=models.PROTECT,
        related_name="disclosures",
    )
    period = models.CharField(_("period"), max_length=10, blank=True, db_index=True)
    event_date = models.DateField(_("event date"), null=True, blank=True)
    is_nil = models.BooleanField(_("nothing to report"), default=False)
    title = models.CharField(_("title"), max_length=200)
    procedure = models.TextField(_("procedure (办事程序)"), blank=True)
    result = models.TextField(_("result (办事结果)"), blank=True)
    table = models.JSONField(_("table"), null=True, blank=True)
    scope = models.CharField(
        _("scope"), max_length=10, choices=Scope.choices, default=Scope.INTERNAL
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DisclosureStatus.choices,
        default=DisclosureStatus.DRAFT,
        db_index=True,
    )
    author = user_link(_("author"), related_name="authored_disclosures")
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    first_published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, db_index=True
    )
    published_revision = models.ForeignKey(
        "Revision",
        verbose_name=_("published revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    # Which submission is under review (each submission starts the approval chain again)
    # and how many of its approvals it has (policy.rules.approval_chain).
    review_round = models.PositiveIntegerField(_("review round"), default=0)
    approvals = models.PositiveSmallIntegerField(_("approvals given"), default=0)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-first_published_at", "-id"]
        constraints = [
            choices_constraint("status", DisclosureStatus, "disclosure_status_valid"),
            choices_constraint("scope", Scope, "disclosure_scope_valid"),
            models.CheckConstraint(
                condition=~models.Q(period="") | models.Q(event_date__isnull=False),
                name="disclosure_has_period_or_event",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "entry", "period"], name="disclosure_obligation"),
            models.Index(fields=["unit", "-first_published_at"], name="disclosure_board"),
            # Covers the compliance aggregate (first publication per unit × entry × period of
            # the disclosures in force) so it is read from the index alone.
            models.Index(
                fields=["unit", "entry", "period", "first_published_at"],
                condition=models.Q(published_revision__isnull=False)
                & ~models.Q(status="withdrawn"),
                name="disclosure_in_force_first",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.published_revision_id is not None and self.status != DisclosureStatus.WITHDRAWN

    @property
    def period_or_event(self) -> str:
        return self.period or (self.event_date.isoformat() if self.event_date else "")


class StepKind(models.TextChoices):
    """What a person did to a disclosure, as its timeline shows it."""

    CREATE = "create", _("Drafted")
    SUBMIT = "submit", _("Submitted for approval")
    APPROVE = "approve", _("Approved")
    ENDORSE = "endorse", _("Approved by the leadership group")
    REJECT = "reject", _("Returned to the author")
    PUBLISH = "publish", _("Published")
    CORRECT = "correct", _("Correction started")
    WITHDRAW = "withdraw", _("Withdrawn")
    ATTEST = "attest", _("Signed: nothing to report")


class DisclosureStep(models.Model):
    """One step someone took on a disclosure, with their name and role as they were then:
    who drafted it, who approved it at which level (and for which missing level, with what
    reason, when standing in), who published, corrected or withdrew it. Rows are never
    changed; an approval level is taken once per review round (the database refuses a
    second)."""

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("disclosure"), on_delete=models.PROTECT, related_name="steps"
    )
    kind = models.CharField(_("step"), max_length=20, choices=StepKind.choices)
    review_round = models.PositiveIntegerField(_("review round"), default=0)
    level = models.PositiveSmallIntegerField(_("approval level"), null=True, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("for the unit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = user_link(_("by"))
    actor_name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=30, blank=True)
    acting_for = models.TextField(_("acting for the missing level because"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("disclosure step")
        verbose_name_plural = _("disclosure steps")
        ordering = ["disclosure", "id"]
        constraints = [
            choices_constraint("kind", StepKind, "disclosurestep_kind_valid"),
            models.UniqueConstraint(
                fields=["disclosure", "review_round", "level"],
                condition=models.Q(level__isnull=False),
                name="disclosurestep_level_once_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disclosure_id}: {self.kind} by {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("disclosure steps are never changed")
        super().save(*args, **kwargs)


class Revision(models.Model):
    """What was published, never changed: revision 1 is the first publication, each
    correction adds the next with its public reason."""

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("disclosure"), on_delete=models.PROTECT, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revision"))
    title = models.CharField(_("title"), max_length=200)
    procedure = models.TextField(_("procedure (办事程序)"), blank=True)
    result = models.TextField(_("result (办事结果)"), blank=True)
    table = models.JSONField(_("table"), null=True, blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    reason = models.TextField(_("reason for the correction"), blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = user_link(_("published by"))

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["disclosure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} (r{self.number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("published revisions are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("published revisions are never deleted")


class Attachment(models.Model):
    """A file attached to a disclosure: type sniffed from the content, image metadata
    stripped, size limited (see attachments.py)."""

    disclosure = models.ForeignKey(
        Disclosure,
        verbose_name=_("disclosure"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # The revision with which the file was first published; empty while it is only part of
    # a draft (or of a correction not yet published).
    published_in = models.ForeignKey(
        "Revision",
        verbose_name=_("published with"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Rating(models.Model):
    """An employee's satisfaction with a disclosure: the board's barometer. One each."""

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("disclosure"), on_delete=models.CASCADE, related_name="ratings"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(_("satisfaction"), max_length=20, choices=Satisfaction.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "user"], name="rating_once_per_employee"),
            choices_constraint("value", Satisfaction, "rating_value_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.disclosure_id}: {self.value}"


class ReadReceipt(models.Model):
    """An employee opened a published disclosure (已阅); recorded once."""

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.CASCADE, related_name="read_receipts"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "user"], name="read_once_per_employee")
        ]

    def __str__(self) -> str:
        return f"{self.disclosure_id} read by {self.user_id}"


class Regulation(TimeStampedModel):
    """A document of the rules library (制度), e.g. 《班务公开规定》; versioned."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    company = models.ForeignKey(
        OrgUnit,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="regulations",
        limit_choices_to={"kind": UnitKind.COMPANY},
    )
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("regulation")
        verbose_name_plural = _("regulations")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.title


class RegulationVersion(models.Model):
    regulation = models.ForeignKey(Regulation, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"))
    effective_from = models.DateField(_("effective from"), default=date.today)
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        verbose_name = _("regulation version")
        verbose_name_plural = _("regulation versions")
        ordering = ["regulation", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulation", "number"], name="regulation_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.regulation} v{self.number}"
