"""Models of the voice app: employees' suggestions (意见建议) and how each was handled.

A suggestion is sent to a unit; the unit accepts (or declines with a public reason) and
assigns it to a responsible unit with a due date; that unit answers; the author rates the
handling. Every step is also kept as a :class:`SuggestionStep` row (append-only), so the
public timeline shows the whole procedure and not only the latest answer. "Overdue" and
"late" are computed from the dates, never stored.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint, user_link
from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit

TITLE_MAX = 200
BODY_MAX = 5000
TEXT_MAX = 5000


class SuggestionCategory(models.TextChoices):
    PRODUCTION_SAFETY = "production_safety", _("Production and safety")
    MANAGEMENT = "management", _("Management")
    PAY_WELFARE = "pay_welfare", _("Pay and welfare")
    WORKING_CONDITIONS = "working_conditions", _("Working conditions")
    DISCLOSURE_WORK = "disclosure_work", _("Disclosure work")
    OTHER = "other", _("Other")


class SuggestionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ASSIGNED = "assigned", _("Assigned")
    ANSWERED = "answered", _("Answered")
    REOPENED = "reopened", _("Reopened for review")
    CLOSED = "closed", _("Closed")


class Suggestion(TimeStampedModel):
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("sent to"),
        on_delete=models.PROTECT,
        related_name="suggestions",
    )
    responsible_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suggestions_responsible",
    )
    author = user_link(_("suggested by"), related_name="suggestions")
    name_hidden = models.BooleanField(_("name hidden from the public"), default=False)
    category = models.CharField(_("category"), max_length=30, choices=SuggestionCategory.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(_("suggestion"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.SUBMITTED,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    action_taken = models.TextField(_("what was done"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # null: "not rated yet" (the contract other parts code against)
    rating = models.CharField(  # noqa: DJ001
        _("rating"), max_length=20, choices=Satisfaction.choices, null=True, blank=True
    )
    # Why the author was dissatisfied (the latest "dissatisfied" rating; empty otherwise).
    # Read by the author and the union office reviewing it, never shown to the public.
    rating_reason = models.TextField(_("reason for dissatisfaction"), blank=True)
    reopened = models.BooleanField(_("reopened once"), default=False)
    review_note = models.TextField(_("review note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            choices_constraint("status", SuggestionStatus, "suggestion_status_valid"),
            choices_constraint("category", SuggestionCategory, "suggestion_category_valid"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__in=Satisfaction.values),
                name="suggestion_rating_valid",
            ),
        ]
        indexes = [models.Index(fields=["unit", "-submitted_at"], name="suggestion_unit_recent")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date | None = None) -> bool:
        """Assigned, not answered, and the due date has passed."""
        today = today or timezone.localdate()
        return (
            self.status == SuggestionStatus.ASSIGNED
            and self.due_on is not None
            and self.due_on < today
        )

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    @property
    def answered_late(self) -> bool:
        """The latest answer came after the due date."""
        if self.answered_at is None or self.due_on is None:
            return False
        return timezone.localdate(self.answered_at) > self.due_on


class StepKind(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    ACCEPT = "accept", _("Accepted")
    DECLINE = "decline", _("Declined")
    ASSIGN = "assign", _("Assigned")
    ANSWER = "answer", _("Answered")
    RATE = "rate", _("Rated by the author")
    REVIEW_RETURN = "review_return", _("Sent back for a new answer")
    REVIEW_CLOSE = "review_close", _("Closed after review")


class SuggestionStep(models.Model):
    """One step of the handling, for the public timeline. Never changed after it is written.
    The acting person is not shown publicly (the author's own steps would name them); the
    acting unit is."""

    suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("suggestion"), on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField(_("step"), max_length=20, choices=StepKind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    action_taken = models.TextField(_("what was done"), blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    rating = models.CharField(
        _("rating"), max_length=20, choices=Satisfaction.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("handling step")
        verbose_name_plural = _("handling steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.suggestion_id}: {self.kind}"

    @property
    def late(self) -> bool:
        return (
            self.kind == StepKind.ANSWER
            and self.due_on is not None
            and timezone.localdate(self.at) > self.due_on
        )


class SuggestionFollower(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_suggestions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "user"], name="suggestion_follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.suggestion_id}"


class SuggestionAttachment(models.Model):
    """Evidence attached by the author: sniffed and cleaned as disclosure attachments are
    (gongkai.disclosure.attachments.prepare_upload)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="suggestions/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name
