"""Models of the surveys app: satisfaction surveys (满意度测评).

Anonymity is a property of the tables, not of the views (see docs fragment
surveys-security.md). The three tables are a sealed ballot box (gongkai.core.ballotbox), as
for secret ballots:

* ``Participation`` says WHO answered (the one-answer rule; a database UNIQUE constraint).
* ``BoxedAnswer`` is the ballot box while the survey is open: written in the same transaction
  as the participation (so it shares the respondent's PostgreSQL ``xmin`` and SQLite ``rowid``
  order), it holds nothing readable — one sealed box per answer (question, the respondent's
  unit, rating and text, encrypted under a key derived from SECRET_KEY, which is not in the
  database, padded to one length per kind of question), the survey and a random UUID key.
* ``Answer`` is the final table, written when the survey is sealed: every boxed answer of
  the survey opened and written in a random order (all rows share one ``xmin``, the
  ``rowid``/``id`` order is the shuffle), the box emptied so that no version of it survives
  (PostgreSQL ``TRUNCATE``; SQLite ``secure_delete`` and a WAL checkpoint).
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel
from gongkai.core.satisfaction import Satisfaction

MAX_TITLE = 200
MAX_INTRO = 5_000
MAX_QUESTION = 500
MAX_TEXT_ANSWER = 2_000
MAX_QUESTIONS = 50


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Opened")
    CLOSED = "closed", _("Closed")


class Phase(models.TextChoices):
    """What a survey looks like today: derived from the status and the dates."""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Not started yet")
    RUNNING = "running", _("Open for answers")
    ENDED = "ended", _("Ended, results being sealed")
    CLOSED = "closed", _("Closed")


class QuestionKind(models.TextChoices):
    RATING = "rating", _("Satisfaction rating")
    TEXT = "text", _("Free text")


class Survey(TimeStampedModel):
    title = models.CharField(_("title"), max_length=MAX_TITLE)
    intro = models.TextField(_("introduction"), blank=True)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("addressed unit"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Every employee of this unit and the units below it is asked."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(
        _("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    # Whether the addressed employees may read the results once the survey is closed (the
    # figures only: never a free-text answer; groups below MIN_RESPONDENTS stay withheld).
    results_published = models.BooleanField(
        _("results published to the employees"),
        default=False,
        help_text=_(
            "Once the survey is closed, every employee it was addressed to can read the "
            "results: the figures only, never an individual answer."
        ),
    )
    # The day it was sealed (a day, not a time: see the security notes).
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in SurveyStatus]),
                name="survey_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")),
                name="survey_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def phase(self, today: date | None = None) -> Phase:

        today = today or timezone.localdate()
        if self.status == SurveyStatus.DRAFT:
            return Phase.DRAFT
        if self.status == SurveyStatus.CLOSED:
            return Phase.CLOSED
        if today < self.starts_on:
            return Phase.SCHEDULED
        if today <= self.ends_on:
            return Phase.RUNNING
        return Phase.ENDED


class Question(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=MAX_QUESTION)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "order"], name="question_order_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in QuestionKind]),
                name="question_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_rating(self) -> bool:
        return self.kind == QuestionKind.RATING


class SurveyUnit(models.Model):
    """The roster snapshot taken when the survey is opened: how many active employees each
    unit of the subtree had (its direct members). The response rate's denominator."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="unit_counts")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    eligible = models.PositiveIntegerField(_("eligible employees"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "unit"], name="surveyunit_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.eligible}"


class Participation(models.Model):
    """That ``user`` answered ``survey`` (never what). One each, enforced by the database.
    ``unit`` is the unit the answer was counted for (the user's unit when answering)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "user"], name="participation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.user_id}"


RATING_VALUES = [v.value for v in Satisfaction]


class AnswerBase(models.Model):
    """One answer to one question, with the respondent's unit and nothing that identifies
    the respondent: no user, no time, no link to other answers of the same respondent."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(max_length=20, choices=Satisfaction.choices, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.rating or self.text[:40]


class BoxedAnswer(models.Model):
    """The ballot box while the survey is open (emptied when it is sealed): one sealed box
    per answer (gongkai.surveys.services.answer_box), no user, no time, a random key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    box = models.BinaryField()

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.survey_id}"


class Answer(AnswerBase):
    """A sealed answer. Rows of a survey are written at once, in a random order."""

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__in=["", *RATING_VALUES]), name="answer_rating_valid"
            ),
        ]
        indexes = [
            # covers the results' GROUP BY unit, question, rating: an index-only scan in order
            models.Index(
                fields=["survey", "unit", "question", "rating"], name="answer_results_cover"
            ),
            models.Index(fields=["survey", "question"], name="answer_survey_question"),
        ]
