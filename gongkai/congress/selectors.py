"""Reads of the congress: terms, roster, attendance and quorum.

The ballots app relies on ``session_quorum``, ``present_user_ids``, ``representatives_of``,
``is_representative`` and ``current_term``: keep their signatures stable.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.congress.models import (
    AnswerRole,
    Attendance,
    DirectorReport,
    Meeting,
    Motion,
    MotionAnswer,
    MotionStatus,
    Patrol,
    PatrolReport,
    Representative,
    Session,
    Term,
)
from gongkai.core.handling import Handling, HandlingSource
from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus
from gongkai.disclosure.permissions import readable_disclosures_q
from gongkai.org.models import OrgUnit


@dataclass(frozen=True)
class Quorum:
    """Attendance of a session against the term's active representatives.

    ``reached`` means MORE than two thirds present (``present * 3 > total * 2``): exactly two
    thirds is not enough."""

    present: int
    total: int
    reached: bool

    @classmethod
    def of(cls, present: int, total: int) -> Quorum:
        return cls(present=present, total=total, reached=total > 0 and present * 3 > total * 2)

    @property
    def needed(self) -> int:
        """How many must be present for the quorum: the smallest n with 3n > 2·total."""
        return (self.total * 2) // 3 + 1 if self.total else 0


def representatives_of(term: Term) -> QuerySet[Representative]:
    """The term's active representatives."""
    return Representative.objects.filter(term=term, is_active=True)


def is_representative(user: Any, term: Term) -> bool:
    """Is ``user`` an active representative of ``term``?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return representatives_of(term).filter(user=user).exists()


def representative_for(user: Any, term: Term) -> Representative | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return representatives_of(term).filter(user=user).first()


def current_term(company: OrgUnit, *, on: datetime.date | None = None) -> Term | None:
    """The company's term running on ``on`` (today by default); failing that, the latest
    one that has started."""
    day = on or timezone.localdate()
    terms = Term.objects.filter(company=company, starts_on__lte=day)
    return terms.filter(ends_on__gte=day).order_by("-starts_on").first() or (
        terms.order_by("-starts_on").first()
    )


def present_user_ids(session: Session) -> set[int]:
    """Users of the active representatives checked in at the session."""
    return set(
        Attendance.objects.filter(session=session, representative__is_active=True).values_list(
            "representative__user_id", flat=True
        )
    )


def session_quorum(session: Session) -> Quorum:
    total = Representative.objects.filter(term_id=session.term_id, is_active=True).count()
    present = Attendance.objects.filter(session=session, representative__is_active=True).count()
    return Quorum.of(present, total)


# --- Motions ------------------------------------------------------------------------------------

OPEN_HANDLING = (MotionStatus.ASSIGNED, MotionStatus.SENT_BACK)
PUBLIC_STATUSES = [s for s in MotionStatus.values if s != MotionStatus.DRAFT]


def overdue_q(today: datetime.date | None = None) -> Q:
    """Motions a unit owes an answer to, past their due date (derived, never stored)."""
    today = today or timezone.localdate()
    return Q(status__in=OPEN_HANDLING, due_on__lt=today)


def with_relations(qs: QuerySet[Motion]) -> QuerySet[Motion]:
    return qs.select_related(
        "session__term__company", "proposer", "lead_unit", "merged_into", "answered_by"
    )


def answers_of(motion: Motion) -> list[MotionAnswer]:
    """Every answer to the motion in the order given: the lead unit's answers (the first
    stays after a second one) and the assisting units' answers."""
    return list(
        MotionAnswer.objects.filter(motion=motion)
        .select_related("unit", "answered_by")
        .order_by("answered_at", "id")
    )


def answer_history(motion: Motion) -> list[dict[str, Any]]:
    """The answers grouped by round: each round's lead answer (None while it is owed) with
    the assisting answers given in that round."""
    rounds: dict[int, dict[str, Any]] = {}
    for answer in answers_of(motion):
        entry = rounds.setdefault(
            answer.round, {"round": answer.round, "lead": None, "assisting": []}
        )
        if answer.role == AnswerRole.LEAD:
            entry["lead"] = answer
        else:
            entry["assisting"].append(answer)
    return [rounds[r] for r in sorted(rounds)]


def public_motions(company: OrgUnit) -> QuerySet[Motion]:
    """Every motion of the company's congress past the draft stage: published with its
    handling. Only the relations the lists show are joined."""
    return Motion.objects.filter(
        session__term__company=company, status__in=PUBLIC_STATUSES
    ).select_related("session", "proposer", "lead_unit")


def my_drafts(user: Any, company: OrgUnit) -> QuerySet[Motion]:
    return Motion.objects.filter(
        session__term__company=company, proposer=user, status=MotionStatus.DRAFT
    ).select_related("session")


def tracking(
    company: OrgUnit,
    *,
    status: str = "",
    unit: OrgUnit | None = None,
    overdue: bool = False,
    session: Session | None = None,
) -> QuerySet[Motion]:
    """The committee's tracking table: registered-or-submitted motions with filters."""
    qs = public_motions(company)
    if session is not None:
        qs = qs.filter(session=session)
    if status:
        qs = qs.filter(status=status)
    if unit is not None:
        qs = qs.filter(lead_unit__path__startswith=unit.path)
    if overdue:
        qs = qs.filter(overdue_q())
    return qs.order_by("session__held_on", "number", "id")


@dataclass
class UnitHandling:
    """How a lead unit (or a subtree of lead units) handled its motions in a period."""

    unit: OrgUnit
    registered: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    overdue_open: int = 0
    open_not_due: int = 0
    ratings: dict[str, int] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return self.registered

    @property
    def pending(self) -> int:
        return self.open_not_due

    @property
    def on_time_rate(self) -> float | None:
        answered = self.answered_on_time + self.answered_late
        return None if not answered else self.answered_on_time / answered

    def figures(self) -> Handling:
        """As handling figures (:mod:`gongkai.core.handling`)."""
        return Handling.counted(
            on_time=self.answered_on_time,
            late=self.answered_late,
            overdue=self.overdue_open,
            open=self.open_not_due,
            ratings=self.ratings,
        )


def handling_stats(
    units: Iterable[OrgUnit | str],
    start: datetime.date,
    end: datetime.date,
    *,
    today: datetime.date | None = None,
    subtree: bool = True,
) -> dict[int, UnitHandling]:
    """Motions registered between ``start`` and ``end`` (inclusive) and assigned to a lead
    unit: how many, answered on time (first answer on or before the due date, local time),
    late, overdue and still open (judged on ``today``), open and not yet due, and the
    proposers' ratings (the latest of each motion). One query.

    ``units`` is either subtree roots as paths (``["/1/"]``: the figures per lead unit,
    keyed by the lead unit's pk) or units (keyed by each given unit's pk: the motions led
    by it, and with ``subtree`` by the units below it)."""
    given = list(units)
    if not given:
        return {}
    today = today or timezone.localdate()
    by_path = all(isinstance(u, str) for u in given)
    paths = [u if isinstance(u, str) else u.path for u in given]
    within = Q()
    if by_path or subtree:
        for path in paths:
            within |= Q(lead_unit__path__startswith=path)
    else:
        within = Q(lead_unit_id__in=[u.pk for u in given if not isinstance(u, str)])
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    rows = (
        Motion.objects.filter(within, registered_at__gte=since, registered_at__lt=until)
        .select_related("lead_unit")
        .only("status", "due_on", "first_answered_at", "answered_at", "rating", "lead_unit")
    )
    stats: dict[int, UnitHandling] = {}
    if not by_path:
        for u in given:
            if not isinstance(u, str):
                stats[u.pk] = UnitHandling(unit=u)
    for motion in rows:
        lead = motion.lead_unit
        assert lead is not None  # noqa: S101 - filtered on the lead unit
        if by_path:
            targets = [stats.setdefault(lead.pk, UnitHandling(unit=lead))]
        else:
            targets = [
                entry
                for entry in stats.values()
                if entry.unit.pk == lead.pk or (subtree and lead.path.startswith(entry.unit.path))
            ]
        for entry in targets:
            _count(entry, motion, today)
    return stats


def _count(entry: UnitHandling, motion: Motion, today: datetime.date) -> None:
    entry.registered += 1
    answered = motion.first_answered_at or motion.answered_at
    if answered is not None and motion.due_on is not None:
        if timezone.localtime(answered).date() <= motion.due_on:
            entry.answered_on_time += 1
        else:
            entry.answered_late += 1
    elif motion.status in OPEN_HANDLING:
        if motion.due_on is not None and motion.due_on < today:
            entry.overdue_open += 1
        else:
            entry.open_not_due += 1
    if motion.rating:
        entry.ratings[motion.rating] = entry.ratings.get(motion.rating, 0) + 1


def handling_figures(
    units: Sequence[OrgUnit], start: datetime.date, end: datetime.date, *, today: datetime.date
) -> dict[int, Handling]:
    """The handling figures of the motions each unit leads itself, registered in [start,
    end]."""
    stats = handling_stats(units, start, end, today=today, subtree=False)
    return {unit_id: item.figures() for unit_id, item in stats.items()}


HANDLING_SOURCE = HandlingSource(
    name="motions", label=_("Motions"), order=20, rated=True, figures=handling_figures
)


def motion_counts(company: OrgUnit, session: Session | None = None) -> dict[str, int]:
    qs = Motion.objects.filter(session__term__company=company, status__in=PUBLIC_STATUSES)
    if session is not None:
        qs = qs.filter(session=session)
    counts = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    counts["overdue"] = qs.filter(overdue_q()).count()
    return counts


# --- Session documents --------------------------------------------------------------------------

SESSION_DOCUMENTS = ("annual-goals", "financial-report", "integrity", "entertainment-use")


@dataclass(frozen=True)
class SessionDocument:
    entry: CatalogEntry
    period: str
    disclosures: list[Disclosure]

    @property
    def missing(self) -> bool:
        return not self.disclosures


def session_documents(session: Session, user: Any) -> list[SessionDocument]:
    """The documents a plenary session reviews: the company's published disclosures of the
    four catalog entries for the year before the session (the year under review) and for
    the session's own year (the goals ahead), the user may read. Missing ones are listed."""

    company_id = session.term.company_id
    years = [str(session.held_on.year - 1), str(session.held_on.year)]
    entries = {e.code: e for e in CatalogEntry.objects.filter(code__in=SESSION_DOCUMENTS)}
    published = (
        Disclosure.objects.filter(
            readable_disclosures_q(user),
            unit_id=company_id,
            entry__code__in=SESSION_DOCUMENTS,
            period__in=years,
            published_revision__isnull=False,
        )
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .select_related("entry")
        .order_by("-period", "-first_published_at")
    )
    found: dict[str, list[Disclosure]] = {}
    for item in published:
        found.setdefault(item.entry.code, []).append(item)
    documents = []
    for code in SESSION_DOCUMENTS:
        if code in entries:
            documents.append(
                SessionDocument(
                    entry=entries[code], period=years[0], disclosures=found.get(code, [])
                )
            )
    return documents


# --- Patrols, reports, meetings ----------------------------------------------------------------


def patrols_of(company: OrgUnit) -> QuerySet[Patrol]:
    return Patrol.objects.filter(company=company).select_related("author").prefetch_related("units")


# a report on a board: published (a correction in progress keeps its revision shown)
_ON_BOARD = {"disclosure__published_revision__isnull": False}


def published_patrols(company: OrgUnit) -> QuerySet[Patrol]:
    """The company's patrols with a report published on a visited unit's board."""
    return patrols_of(company).filter(
        pk__in=PatrolReport.objects.filter(patrol__company=company, **_ON_BOARD)
        .exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
        .values("patrol_id")
    )


def patrol_is_published(patrol: Patrol) -> bool:
    return (
        PatrolReport.objects.filter(patrol=patrol, **_ON_BOARD)
        .exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
        .exists()
    )


def patrol_reports(patrol: Patrol) -> QuerySet[PatrolReport]:
    return PatrolReport.objects.filter(patrol=patrol).select_related("unit", "disclosure")


def director_reports_of(company: OrgUnit) -> QuerySet[DirectorReport]:
    return DirectorReport.objects.filter(company=company).select_related("author", "disclosure")


def meetings_of(company: OrgUnit) -> QuerySet[Meeting]:
    return Meeting.objects.filter(unit__path__startswith=company.path).select_related(
        "unit", "disclosure"
    )


def meetings_needing_publication(company: OrgUnit) -> QuerySet[Meeting]:
    """Meetings whose decisions concern employees but were not sent for publication."""
    return meetings_of(company).filter(concerns_employees=True, disclosure__isnull=True)
