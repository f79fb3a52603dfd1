"""Models of the congress app: the workers' congress (职代会) of a company.

A ``Term`` (届) of a company's congress has representatives grouped in delegations (代表团)
and holds sessions (次会议) and joint meetings (联席会议). The ballots app builds on
``Term``, ``Representative``, ``Session`` and ``Attendance``: keep their names stable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint, user_link
from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit


class Term(TimeStampedModel):
    """A term (第N届) of the company's workers' congress, usually 3–5 years."""

    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="congress_terms"
    )
    number = models.PositiveSmallIntegerField(_("term number"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    motion_seconds_required = models.PositiveSmallIntegerField(
        _("seconds required for a motion"), default=2
    )

    class Meta:
        verbose_name = _("congress term")
        verbose_name_plural = _("congress terms")
        ordering = ["company", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="congress_term_number"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="congress_term_dates",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Term %(number)s") % {"number": self.number})


class Delegation(TimeStampedModel):
    """A delegation (代表团) of representatives, usually one per department."""

    term = models.ForeignKey(
        Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="delegations"
    )
    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="congress_delegations",
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head of delegation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["term", "name"]
        constraints = [
            models.UniqueConstraint(fields=["term", "name"], name="congress_delegation_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Representative(TimeStampedModel):
    """A representative (职工代表) elected for a term."""

    term = models.ForeignKey(
        Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="representatives"
    )
    user = user_link(_("employee"), related_name="congress_seats")
    delegation = models.ForeignKey(
        Delegation,
        verbose_name=_("delegation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_active = models.BooleanField(_("active"), default=True)
    elected_on = models.DateField(_("elected on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["term", "user"], name="congress_representative_once"),
        ]

    def __str__(self) -> str:
        return str(self.user)


class SessionKind(models.TextChoices):
    PLENARY = "plenary", _("Plenary session")
    JOINT = "joint", _("Joint meeting")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("In session")
    CLOSED = "closed", _("Closed")


class Session(TimeStampedModel):
    """A session (第N次会议) of the term, or a joint meeting (联席会议) between sessions."""

    term = models.ForeignKey(
        Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="sessions"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=SessionKind.choices, default=SessionKind.PLENARY
    )
    held_on = models.DateField(_("held on"))
    motions_open_on = models.DateField(_("motions open on"), null=True, blank=True)
    motions_close_on = models.DateField(_("motions close on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    agenda = models.TextField(_("agenda"), blank=True)

    class Meta:
        verbose_name = _("congress session")
        verbose_name_plural = _("congress sessions")
        ordering = ["term", "-held_on", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "kind", "number"], name="congress_session_number"
            ),
            choices_constraint("kind", SessionKind, "congress_session_kind"),
            choices_constraint("status", SessionStatus, "congress_session_status"),
        ]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    """A representative's presence at a session (check-in on the day)."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="attendances"
    )
    representative = models.ForeignKey(
        Representative,
        verbose_name=_("representative"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when the representative checked in themselves."),
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "representative"], name="congress_attendance_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} @ {self.session}"


class LeaveOfAbsence(models.Model):
    """A representative excused from a session (请假), recorded by the union office on the
    sign-in sheet. Not counted as present (the quorum counts check-ins only); a check-in
    cancels it, and a representative is never both present and on leave."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="leaves"
    )
    representative = models.ForeignKey(
        Representative,
        verbose_name=_("representative"),
        on_delete=models.CASCADE,
        related_name="leaves",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("leave of absence")
        verbose_name_plural = _("leaves of absence")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "representative"], name="congress_leave_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} @ {self.session}"


# --- Motions (提案) ---------------------------------------------------------------------------


class MotionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SEEKING = "seeking", _("Awaiting seconds")
    SUBMITTED = "submitted", _("Submitted to the committee")
    REGISTERED = "registered", _("Registered")
    MERGED = "merged", _("Merged")
    DECLINED = "declined", _("Declined (now a suggestion)")
    ASSIGNED = "assigned", _("Being handled")
    ANSWERED = "answered", _("Answered")
    SENT_BACK = "sent_back", _("Sent back for a new answer")
    CLOSED = "closed", _("Closed")


class Motion(TimeStampedModel):
    """A motion (提案) by a representative for a session."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.PROTECT, related_name="motions"
    )
    proposer = user_link(_("proposer"), related_name="congress_motions")
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    title = models.CharField(_("subject"), max_length=200)
    reasons = models.TextField(_("reasons"))
    measures = models.TextField(_("proposed measures"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MotionStatus.choices,
        default=MotionStatus.DRAFT,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_motions",
    )
    decline_reasons = models.TextField(_("reasons for declining"), blank=True)
    suggestion = models.ForeignKey(
        "voice.Suggestion",
        verbose_name=_("suggestion"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The suggestion a declined motion became."),
    )
    lead_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="congress_motions_led",
    )
    assisting_units = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("assisting units"),
        blank=True,
        related_name="congress_motions_assisted",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    due_on = models.DateField(_("answer due on"), null=True, blank=True)
    chase_count = models.PositiveIntegerField(_("times chased"), default=0)
    last_chased_at = models.DateTimeField(_("last chased at"), null=True, blank=True)
    answer_measures = models.TextField(_("measures taken"), blank=True)
    answer_result = models.TextField(_("result"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = user_link(_("answered by"), null=True)
    first_answered_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    rating = models.CharField(  # noqa: DJ001 - null until rated (supervision reads it)
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, null=True, blank=True
    )
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    sent_back_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    first_rating = models.CharField(  # noqa: DJ001 - like rating
        _("first satisfaction"),
        max_length=20,
        choices=Satisfaction.choices,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="congress_motion_number"),
            choices_constraint("status", MotionStatus, "congress_motion_status"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__in=Satisfaction.values),
                name="congress_motion_rating",
            ),
        ]
        indexes = [models.Index(fields=["lead_unit", "status"], name="congress_motion_lead")]

    def __str__(self) -> str:
        return self.title


class MotionSecond(models.Model):
    """A second (附议) of a motion by another representative."""

    motion = models.ForeignKey(
        Motion, verbose_name=_("motion"), on_delete=models.CASCADE, related_name="seconds"
    )
    user = user_link(_("representative"))
    created_at = models.DateTimeField(_("seconded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("second")
        verbose_name_plural = _("seconds")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["motion", "user"], name="congress_second_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.motion}"


class AnswerRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")
    ASSISTING = "assisting", _("Assisting unit")


class MotionAnswer(models.Model):
    """One answer to a motion, kept for good: the lead unit's answer (a new answer after a
    send-back is a new row, the first stays), and each assisting unit's answer (协办意见),
    which the lead unit sees and takes into its own. ``round`` 1 is the first answer, 2 the
    answer after the send-back; an assisting answer belongs to the round it was given in."""

    motion = models.ForeignKey(
        Motion, verbose_name=_("motion"), on_delete=models.CASCADE, related_name="answers"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("as"), max_length=20, choices=AnswerRole.choices)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    measures = models.TextField(_("measures taken"))
    result = models.TextField(_("result"), blank=True)
    answered_by = user_link(_("answered by"), null=True)
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("motion answer")
        verbose_name_plural = _("motion answers")
        ordering = ["answered_at", "id"]
        constraints = [choices_constraint("role", AnswerRole, "congress_motion_answer_role")]

    def __str__(self) -> str:
        return f"{self.motion} ← {self.unit}"


# --- Patrols, director reports, meetings --------------------------------------------------------


class Patrol(TimeStampedModel):
    """A patrol (巡视) by representatives: what they saw and what they suggest."""

    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    author = user_link(_("recorded by"))
    patrolled_on = models.DateField(_("date"))
    units = models.ManyToManyField(OrgUnit, verbose_name=_("units visited"), related_name="+")
    participants = models.CharField(_("participants"), max_length=300, blank=True)
    findings = models.TextField(_("findings"))
    suggestions = models.TextField(_("suggestions"), blank=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-patrolled_on", "-id"]

    def __str__(self) -> str:
        return f"{self.patrolled_on} {self.author}"


class PatrolReport(models.Model):
    """A patrol's report sent to the board of a unit it visited: a disclosure of that unit,
    which goes through the unit's normal approval before it is published there."""

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="reports"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_by = user_link(_("sent by"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("patrol report")
        verbose_name_plural = _("patrol reports")
        ordering = ["patrol", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "unit"], name="congress_patrol_report_once")
        ]

    def __str__(self) -> str:
        return f"{self.patrol} → {self.unit}"


class DirectorReport(TimeStampedModel):
    """An employee director's or supervisor's yearly performance report (履职情况)."""

    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    author = user_link(_("author"), related_name="director_reports")
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("report text"))
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("director's report")
        verbose_name_plural = _("directors' reports")
        ordering = ["-year", "author__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "year"], name="congress_director_report_year"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    CONGRESS_JOINT = "congress_joint", _("Joint meeting of the congress")
    PARTY_ADMIN_UNION = "party_admin_union", _("Party, administration and union joint meeting")
    MIDDLE_MANAGERS = "middle_managers", _("Middle managers' meeting")
    ECONOMIC_ANALYSIS = "economic_analysis", _("Economic analysis meeting")
    TEAM_DEMOCRATIC = "team_democratic", _("Team democratic management meeting")
    BOARD = "board", _("Shareholders' / board / supervisory board meeting")


class Meeting(TimeStampedModel):
    """A meeting recorded as a supplementary form of democratic management."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="congress_meetings"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("attendees"), blank=True, related_name="+"
    )
    attendees_text = models.TextField(_("other attendees"), blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"))
    decisions = models.TextField(_("decisions"), blank=True)
    concerns_employees = models.BooleanField(_("concerns employees' interests"), default=False)
    recorded_by = user_link(_("recorded by"))
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-id"]
        constraints = [
            choices_constraint("kind", MeetingKind, "congress_meeting_kind"),
        ]

    def __str__(self) -> str:
        return self.title
