"""Employees' engagement with published disclosures: satisfaction ratings (the board's
barometer, 公开栏是满意度的晴雨表) and read receipts (已阅).

One rating per employee and one receipt per reader are enforced by the database's unique
constraints, not by a check-then-insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.board_cache import board_changed
from gongkai.disclosure.models import Disclosure, Rating, ReadReceipt
from gongkai.disclosure.permissions import can_rate, can_read_published

MAX_COMMENT = 500


@dataclass(frozen=True)
class Tally:
    """Counts of satisfied / basically satisfied / dissatisfied, with percentages."""

    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.basic + self.dissatisfied

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0

    @property
    def satisfied_pct(self) -> int:
        return self.percent(self.satisfied)

    @property
    def basic_pct(self) -> int:
        return self.percent(self.basic)

    @property
    def dissatisfied_pct(self) -> int:
        return self.percent(self.dissatisfied)

    @property
    def content_pct(self) -> int:
        """Satisfied or basically satisfied: the usual headline figure (满意率)."""
        return self.percent(self.satisfied + self.basic)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Tally:
        counts = {row["value"]: row["n"] for row in rows}
        return cls(
            satisfied=counts.get(Satisfaction.SATISFIED, 0),
            basic=counts.get(Satisfaction.BASIC, 0),
            dissatisfied=counts.get(Satisfaction.DISSATISFIED, 0),
        )


def tally(ratings: QuerySet[Rating]) -> Tally:
    """One aggregate query."""
    return Tally.from_rows(ratings.values("value").annotate(n=Count("id")).order_by())


def tallies_by_disclosure(ids: Iterable[int]) -> dict[int, Tally]:
    """The tally of each disclosure in ``ids``, in one aggregate query."""
    rows: dict[int, list[Mapping[str, Any]]] = {}
    for row in (
        Rating.objects.filter(disclosure_id__in=list(ids))
        .values("disclosure_id", "value")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows.setdefault(row["disclosure_id"], []).append(row)
    return {pk: Tally.from_rows(found) for pk, found in rows.items()}


@transaction.atomic
def rating_submit(*, actor: User, disclosure: Disclosure, value: str, comment: str = "") -> Rating:
    """Rate a published disclosure. One rating per employee: a second one is refused.

    Ratings are private: the audit event records that the disclosure was rated and how many
    ratings it has, not by whom; everyone but the rater sees only the counts."""
    if not can_rate(actor, disclosure):
        raise ServiceError(_("You may not rate this disclosure."))
    if value not in Satisfaction.values:
        raise ServiceError(_("Choose how satisfied you are."), field="value")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError(
            _("The comment is too long (at most %(n)s characters).") % {"n": MAX_COMMENT},
            field="comment",
        )
    if Rating.objects.filter(disclosure=disclosure, user=actor).exists():
        raise ServiceError(already_rated())
    try:
        with transaction.atomic():  # the savepoint keeps the outer transaction usable
            rating = Rating.objects.create(
                disclosure=disclosure, user=actor, value=value, comment=comment
            )
    except IntegrityError:  # a concurrent second rating: the unique constraint decides
        raise ServiceError(already_rated()) from None
    # That a rating happened, never who gave which: no actor, no value, no comment, no tally
    # by value (consecutive events' tallies would show each rating's value, and the time and
    # the list of raters would name them). Only the rater sees their own rating.
    record_event(
        actor=None,
        action="disclosure.rated",
        target=disclosure,
        unit=disclosure.unit,
        after={"ratings": Rating.objects.filter(disclosure=disclosure).count()},
    )

    board_changed(disclosure.unit_id)
    return rating


def already_rated() -> str:
    return _("You have already rated this disclosure; each employee rates it once.")


@dataclass(frozen=True)
class RatingSummary:
    tally: Tally
    mine: Rating | None
    may_rate: bool


def rating_summary(disclosure: Disclosure, user: Any) -> RatingSummary:
    """What the rating include (boards/_rating.html) shows: two queries."""
    mine = None
    if getattr(user, "is_authenticated", False):
        mine = Rating.objects.filter(disclosure=disclosure, user=user).first()
    return RatingSummary(
        tally=tally(Rating.objects.filter(disclosure=disclosure)),
        mine=mine,
        may_rate=mine is None and can_rate(user, disclosure),
    )


# --- Read receipts ----------------------------------------------------------------------------


def receipt_record(*, user: Any, disclosure: Disclosure) -> None:
    """Record that ``user`` opened the published disclosure (已阅); once, however often they
    open it (the unique constraint ignores repeats, also under concurrency). Not an audit
    event: the receipt is itself the record, and reading changes nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return
    if not disclosure.is_published or not can_read_published(user, disclosure):
        return
    ReadReceipt.objects.bulk_create(
        [ReadReceipt(disclosure=disclosure, user=user)], ignore_conflicts=True
    )


@dataclass(frozen=True)
class Reads:
    readers: int  # distinct active members of the unit's subtree who opened it
    members: int  # active members of the unit's subtree

    @property
    def percent(self) -> int:
        return round(100 * self.readers / self.members) if self.members else 0


def reads_for(disclosure: Disclosure) -> Reads:
    """How many of the unit (its whole subtree) have read it: two counting queries. The
    caller checks Action.READS_VIEW on the disclosure's unit."""
    path = disclosure.unit.path
    readers = ReadReceipt.objects.filter(
        disclosure=disclosure, user__is_active=True, user__unit__path__startswith=path
    ).count()
    members = User.objects.filter(is_active=True, unit__path__startswith=path).count()
    return Reads(readers=readers, members=members)
