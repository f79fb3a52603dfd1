"""Secret ballots: resolution votes (表决) and democratic evaluations (民主评议).

Secrecy by construction (docs/SECURITY.md, "Secret ballots"):

* ``Elector`` is the electorate snapshotted at opening (who may vote, in which rater group).
* ``Participation`` is "has voted": one row per (poll, user), a database UNIQUE constraint is
  what stops a second ballot. It carries no timestamp and no link to the ballot.
* ``PendingBallot`` is the holding area while the poll is open: written in the voter's own
  transaction together with the participation row (so a crash never leaves one without the
  other), and therefore sharing its PostgreSQL ``xmin`` and its SQLite ``rowid`` order. So it
  holds no readable choice: only a sealed box (gongkai.core.secretbox: the rater group and
  the choices, encrypted under a key derived from SECRET_KEY, which is not in the database,
  and padded to one length for every ballot of the poll).
* ``SealedBallot`` is the ballot table. After the close, a separate transaction that touches
  nothing else opens the boxes, writes the ballots in a random order with fresh random keys
  (all stamped with that transaction's id, never a voter's) and empties the holding table
  with TRUNCATE (a new file: no row version of a box survives, whatever VACUUM could do).
* ``PendingReceipt`` and ``Receipt`` do the same for the voter's receipt code (shown once to
  the voter, never stored with them): a box of its own in the voter's transaction, then a
  readable table of codes only, written by a sealing transaction of its own in a random
  order — apart from the ballots, so that even in the database a code leads to no choice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel, choices_constraint


class PollKind(models.TextChoices):
    RESOLUTION = "resolution", _("Resolution vote")
    EVALUATION = "evaluation", _("Democratic evaluation")


class PollStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    PUBLISHED = "published", _("Published")


class Majority(models.TextChoices):
    OF_ALL = "all", _("More than half of all representatives")
    OF_PRESENT = "present", _("More than half of the representatives present")


class Choice(models.TextChoices):
    """A resolution ballot's answer on one item."""

    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class Grade(models.TextChoices):
    """An evaluation ballot's grade for one cadre."""

    EXCELLENT = "excellent", _("Excellent")
    COMPETENT = "competent", _("Competent")
    BASIC = "basic", _("Basically competent")
    INCOMPETENT = "incompetent", _("Incompetent")
    UNKNOWN = "unknown", _("Not known to me")


# Grade scores for the weighted score; "not known" has none and is left out of every rate.
GRADE_SCORES: dict[str, int] = {
    Grade.EXCELLENT: 100,
    Grade.COMPETENT: 80,
    Grade.BASIC: 60,
    Grade.INCOMPETENT: 0,
}


class Poll(TimeStampedModel):
    """One vote or evaluation. Draft → open → closed → published, never back."""

    kind = models.CharField(_("kind"), max_length=16, choices=PollKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    company = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    session = models.ForeignKey(
        "congress.Session",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="polls",
        verbose_name=_("congress session"),
    )
    # For a mass evaluation (no session): the electorate is the active employees of this subtree.
    unit = models.ForeignKey(
        "org.OrgUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit whose employees vote"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PollStatus.choices, default=PollStatus.DRAFT
    )
    majority = models.CharField(
        _("majority needed"), max_length=8, choices=Majority.choices, default=Majority.OF_ALL
    )
    excellent_quota_percent = models.PositiveSmallIntegerField(
        _("maximum share of cadres graded excellent on one ballot (%)"), null=True, blank=True
    )
    min_ballots = models.PositiveIntegerField(
        _("minimum ballots before results are shown"), default=1
    )
    incompetent_threshold_percent = models.PositiveSmallIntegerField(
        _("flag a cadre when the incompetent rate passes (%)"), default=30
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # The last day to vote, as announced: the reminders ask the electors who have not voted
    # to vote by then. The vote still closes only when the union office closes it.
    closes_on = models.DateField(_("planned closing date"), null=True, blank=True)
    # Snapshot at opening.
    opened_at = models.DateTimeField(null=True, blank=True)
    electorate_size = models.PositiveIntegerField(default=0)
    present_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)  # all representatives / employees
    closed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The tally computed at close from the sealed ballots (see tally.py).
    result = models.JSONField(null=True, blank=True, editable=False)
    disclosure = models.ForeignKey(
        "disclosure.Disclosure", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            choices_constraint("kind", PollKind, "ballots_poll_kind"),
            choices_constraint("status", PollStatus, "ballots_poll_status"),
            models.CheckConstraint(
                condition=models.Q(excellent_quota_percent__isnull=True)
                | models.Q(excellent_quota_percent__lte=100),
                name="ballots_poll_quota_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_evaluation(self) -> bool:
        return self.kind == PollKind.EVALUATION


class Item(models.Model):
    """A resolution item voted on, or a cadre listed for evaluation."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(_("item"), max_length=300, blank=True)
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cadre"),
    )
    cadre_position = models.CharField(_("position"), max_length=200, blank=True)
    cadre_unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "cadre"],
                condition=models.Q(cadre__isnull=False),
                name="ballots_item_cadre_once",
            )
        ]

    def __str__(self) -> str:
        if self.cadre_id:
            return f"{self.cadre} {self.cadre_position}".strip()
        return self.title


class RaterGroup(models.Model):
    """Optional rater groups of an evaluation (leaders, middle managers, representatives...)
    with weights; the weighted score is Σ weight × the group's average score."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("group"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=4)
    # Electors not listed in any group's members fall into the default group.
    is_default = models.BooleanField(_("default group"), default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=Decimal("0")), name="ballots_group_weight"
            ),
            models.UniqueConstraint(fields=["poll", "name"], name="ballots_group_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class Elector(models.Model):
    """Who may vote in an open poll (snapshot at opening) and in which rater group."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="electors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(RaterGroup, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="ballots_elector_once")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.poll_id}"


class Participation(models.Model):
    """ "Has voted". The UNIQUE constraint is the one-person-one-ballot rule; no timestamp."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="ballots_one_ballot_per_voter")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.poll_id}"


class PendingBallot(models.Model):
    """A ballot cast while the poll is open, sealed in a box (gongkai.ballots.boxes): no
    voter, no time, no readable choice or group, a random key, one length per poll."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    box = models.BinaryField()

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.poll_id}"


class SealedBallot(models.Model):
    """A ballot after close: moved out of its box in a random order with a fresh random key
    by one transaction that writes nothing else; every tally and recount is computed from
    these rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(RaterGroup, on_delete=models.PROTECT, null=True, related_name="+")
    choices = models.JSONField()

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.poll_id}"


class PendingReceipt(models.Model):
    """A voter's receipt code while the poll is open, sealed in a box of its own (written by
    the voter's transaction with "has voted"): no voter, no time, no readable code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    box = models.BinaryField()

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.poll_id}"


class Receipt(models.Model):
    """The receipt code of a counted ballot, published after the close so that each voter can
    check that their ballot was counted. Codes only: written by a sealing transaction of its
    own, in a random order, with a fresh random key, in a table apart from the ballots (no
    column, id, time or order leads from a code to a ballot or to a voter)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("receipt code"), max_length=20)

    class Meta:
        indexes = [models.Index(fields=["poll", "code"], name="ballots_receipt_poll_code")]

    def __str__(self) -> str:
        return self.code
