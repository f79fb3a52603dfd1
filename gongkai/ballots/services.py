"""State changes of votes and evaluations: set up, open, cast, close (seal), publish, recount.

Casting is never audited (the participation row already records who voted; an audit row per
cast would be orderable against the ballots). Nothing here logs a choice.

Secrecy on the database (docs/SECURITY.md): the voter's transaction writes the participation
row and a *sealed box* (gongkai.ballots.boxes, gongkai.core.ballotbox) — never a readable
choice. After the close, a transaction of its own (:func:`finish_close`) opens the boxes,
writes the ballots in a random order and empties the holding table with TRUNCATE; the result
is verified, each step retried and, when it still fails, logged and raised as
:class:`SealingFailed` (the vote stays closed, uncounted, until ``manage.py ballots_seal`` or
the close button finishes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.ballots import boxes
from gongkai.ballots.models import (
    Choice,
    Elector,
    Grade,
    Item,
    Majority,
    Participation,
    PendingBallot,
    PendingReceipt,
    Poll,
    PollKind,
    PollStatus,
    RaterGroup,
    Receipt,
    SealedBallot,
)
from gongkai.ballots.publication import publish_result
from gongkai.ballots.tally import tally
from gongkai.congress.selectors import present_user_ids, session_quorum
from gongkai.core import holding
from gongkai.core.errors import ServiceError
from gongkai.core.text import clean_text, normalize_text
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can

MAX_TITLE = 200
MAX_ITEMS = 200
MAX_ITEM_TITLE = 300
MAX_DESCRIPTION = 5000


class AlreadyVoted(ServiceError):
    """The voter's ballot is already recorded; nothing changed."""


class SealingFailed(ServiceError):
    """The vote is closed but its ballots are not yet sealed and counted (logged; retried by
    ``manage.py ballots_seal`` and by the close button)."""


@dataclass(frozen=True)
class CadreSpec:
    user: User
    position: str = ""


@dataclass(frozen=True)
class GroupSpec:
    name: str
    weight: Decimal
    members: Sequence[User] = ()
    is_default: bool = False


# --- Setting up -----------------------------------------------------------------------------


def require_manager(actor: User, company: OrgUnit) -> None:
    if not can(actor, Action.VOTE_MANAGE, company):
        raise ServiceError(_("You may not manage votes of this company."))


def clean_closes_on(closes_on: date | None) -> date | None:
    """The planned closing date (the last day to vote), if any: not before today."""
    if closes_on is not None and closes_on < timezone.localdate():
        raise ServiceError(
            _(
                "The planned closing date %(date)s has passed: choose today or a later day, "
                "or leave it empty."
            )
            % {"date": closes_on.isoformat()},
            field="closes_on",
        )
    return closes_on


def clean_settings(
    *,
    kind: str,
    title: str,
    description: str,
    session: Any,
    unit: OrgUnit | None,
    company: OrgUnit,
    majority: str,
    excellent_quota_percent: int | None,
    min_ballots: int,
    incompetent_threshold_percent: int,
    closes_on: date | None = None,
) -> dict[str, Any]:
    title = clean_text(
        title,
        field="title",
        limit=MAX_TITLE,
        empty=_("Give the vote a title."),
        too_long=_("The title is too long."),
    )
    if len(description or "") > MAX_DESCRIPTION:
        raise ServiceError(_("The description is too long."), field="description")
    if kind not in PollKind.values:
        raise ServiceError(_("Unknown kind of vote."), field="kind")
    if majority not in Majority.values:
        raise ServiceError(_("Unknown majority rule."), field="majority")
    if session is None and unit is None:
        raise ServiceError(
            _("Choose a congress session, or the unit whose employees evaluate."), field="session"
        )
    if session is not None and unit is not None:
        raise ServiceError(_("Choose either a congress session or a unit, not both."), field="unit")
    if session is not None and session.term.company_id != company.pk:
        raise ServiceError(_("This session belongs to another company."), field="session")
    if unit is not None and not unit.path.startswith(company.path):
        raise ServiceError(_("This unit belongs to another company."), field="unit")
    if kind == PollKind.RESOLUTION and session is None:
        raise ServiceError(_("A resolution is voted by a congress session."), field="session")
    if excellent_quota_percent is not None and not 1 <= excellent_quota_percent <= 100:
        raise ServiceError(_("The quota is a percentage from 1 to 100."), field="excellent_quota")
    if min_ballots < 1:
        raise ServiceError(_("At least one ballot is needed."), field="min_ballots")
    if not 0 <= incompetent_threshold_percent <= 100:
        raise ServiceError(
            _("The threshold is a percentage from 0 to 100."), field="incompetent_threshold"
        )
    return {
        "kind": kind,
        "title": title,
        "description": normalize_text(description),
        "session": session,
        "unit": unit,
        "majority": majority,
        "excellent_quota_percent": excellent_quota_percent,
        "min_ballots": min_ballots,
        "incompetent_threshold_percent": incompetent_threshold_percent,
        "closes_on": clean_closes_on(closes_on),
    }


def set_items(
    poll: Poll,
    *,
    items: Sequence[str] = (),
    cadres: Sequence[CadreSpec] = (),
    groups: Sequence[GroupSpec] = (),
) -> None:
    """Replace the poll's items (resolution) or listed cadres (evaluation) and rater groups."""
    poll.items.all().delete()
    poll.groups.all().delete()
    if poll.kind == PollKind.RESOLUTION:
        titles = [t.strip() for t in items if t and t.strip()]
        if not titles:
            raise ServiceError(_("List at least one item to vote on."), field="items")
        if len(titles) > MAX_ITEMS:
            raise ServiceError(_("Too many items."), field="items")
        if any(len(t) > MAX_ITEM_TITLE for t in titles):
            raise ServiceError(_("An item is too long."), field="items")
        Item.objects.bulk_create([Item(poll=poll, order=n, title=t) for n, t in enumerate(titles)])
        return
    if not cadres:
        raise ServiceError(_("List at least one person to evaluate."), field="cadres")
    if len(cadres) > MAX_ITEMS:
        raise ServiceError(_("Too many people to evaluate."), field="cadres")
    seen: set[int] = set()
    for spec in cadres:
        if spec.user.pk in seen:
            raise ServiceError(
                _("%(name)s is listed twice.") % {"name": spec.user.name}, field="cadres"
            )
        seen.add(spec.user.pk)
    Item.objects.bulk_create(
        [
            Item(
                poll=poll,
                order=n,
                cadre=spec.user,
                cadre_position=(spec.position or spec.user.position or "")[:200],
                cadre_unit_id=spec.user.unit_id,
            )
            for n, spec in enumerate(cadres)
        ]
    )
    if groups:
        if sum(1 for g in groups if g.is_default) != 1:
            raise ServiceError(
                _("Mark exactly one rater group as the default group."), field="groups"
            )
        names = [g.name.strip() for g in groups]
        if any(not name for name in names) or len(set(names)) != len(names):
            raise ServiceError(_("Each rater group needs its own name."), field="groups")
        if any(g.weight <= 0 for g in groups):
            raise ServiceError(_("Each rater group needs a positive weight."), field="groups")
        member_ids: set[int] = set()
        for group_spec in groups:
            ids = {u.pk for u in group_spec.members}
            if ids & member_ids:
                raise ServiceError(_("A person belongs to one rater group only."), field="groups")
            member_ids |= ids
            group = RaterGroup.objects.create(
                poll=poll,
                name=group_spec.name.strip(),
                weight=group_spec.weight,
                is_default=group_spec.is_default,
            )
            group.members.set(list(group_spec.members))


@transaction.atomic
def poll_create(
    *,
    actor: User,
    company: OrgUnit,
    kind: str,
    title: str,
    description: str = "",
    session: Any = None,
    unit: OrgUnit | None = None,
    majority: str = Majority.OF_ALL,
    excellent_quota_percent: int | None = None,
    min_ballots: int = 1,
    incompetent_threshold_percent: int = 30,
    closes_on: date | None = None,
    items: Sequence[str] = (),
    cadres: Sequence[CadreSpec] = (),
    groups: Sequence[GroupSpec] = (),
) -> Poll:
    require_manager(actor, company)
    fields = clean_settings(
        kind=kind,
        title=title,
        description=description,
        session=session,
        unit=unit,
        company=company,
        majority=majority,
        excellent_quota_percent=excellent_quota_percent,
        min_ballots=min_ballots,
        incompetent_threshold_percent=incompetent_threshold_percent,
        closes_on=closes_on,
    )
    poll = Poll.objects.create(company=company, created_by=actor, **fields)
    set_items(poll, items=items, cadres=cadres, groups=groups)
    record_event(
        actor=actor,
        action="ballots.created",
        target=poll,
        unit=company,
        after={
            "title": poll.title,
            "kind": poll.kind,
            "items": poll.items.count(),
            "closes_on": iso(poll.closes_on),
        },
    )
    return poll


@transaction.atomic
def poll_update(
    *,
    actor: User,
    poll: Poll,
    title: str,
    description: str = "",
    session: Any = None,
    unit: OrgUnit | None = None,
    majority: str = Majority.OF_ALL,
    excellent_quota_percent: int | None = None,
    min_ballots: int = 1,
    incompetent_threshold_percent: int = 30,
    closes_on: date | None = None,
    items: Sequence[str] = (),
    cadres: Sequence[CadreSpec] = (),
    groups: Sequence[GroupSpec] = (),
) -> Poll:
    locked = Poll.objects.select_for_update().get(pk=poll.pk)
    require_manager(actor, locked.company)
    if locked.status != PollStatus.DRAFT:
        raise ServiceError(_("Only a vote that has not been opened can be edited."))
    fields = clean_settings(
        kind=locked.kind,
        title=title,
        description=description,
        session=session,
        unit=unit,
        company=locked.company,
        majority=majority,
        excellent_quota_percent=excellent_quota_percent,
        min_ballots=min_ballots,
        incompetent_threshold_percent=incompetent_threshold_percent,
        closes_on=closes_on,
    )
    before = {"closes_on": iso(locked.closes_on)}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    set_items(locked, items=items, cadres=cadres, groups=groups)
    after: dict[str, Any] = {"title": locked.title, "items": locked.items.count()}
    if before["closes_on"] != iso(locked.closes_on):
        after["closes_on"] = iso(locked.closes_on)
    record_event(
        actor=actor,
        action="ballots.edited",
        target=locked,
        unit=locked.company,
        before=before if "closes_on" in after else None,
        after=after,
    )
    return locked


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@transaction.atomic
def poll_closing_date_set(*, actor: User, poll: Poll, closes_on: date | None) -> Poll:
    """Set, move or clear the planned closing date (the last day to vote) of a vote not yet
    closed; audited as an edit. Reminders follow the new date (the engine reads it each
    day). It closes nothing: only :func:`poll_close` does."""
    locked = Poll.objects.select_for_update().get(pk=poll.pk)
    require_manager(actor, locked.company)
    if locked.status not in (PollStatus.DRAFT, PollStatus.OPEN):
        raise ServiceError(
            _("The planned closing date can be changed only until the vote is closed."),
            field="closes_on",
        )
    closes_on = clean_closes_on(closes_on)
    if closes_on == locked.closes_on:
        return locked
    before = {"closes_on": iso(locked.closes_on)}
    Poll.objects.filter(pk=locked.pk).update(closes_on=closes_on, updated_at=timezone.now())
    locked.refresh_from_db()
    record_event(
        actor=actor,
        action="ballots.edited",
        target=locked,
        unit=locked.company,
        before=before,
        after={"closes_on": iso(locked.closes_on)},
    )
    return locked


# --- Opening --------------------------------------------------------------------------------


def electorate_of(poll: Poll) -> tuple[list[int], int, int]:
    """(eligible user ids, present, total) at this moment."""
    if poll.session is not None:
        quorum = session_quorum(poll.session)
        if not quorum.reached:
            raise ServiceError(
                _(
                    "The quorum is not reached: %(present)s of %(total)s representatives are "
                    "present; more than two thirds are needed to open a vote."
                )
                % {"present": quorum.present, "total": quorum.total}
            )
        ids = sorted(present_user_ids(poll.session))
        return ids, quorum.present, quorum.total
    if poll.unit is None:
        raise ServiceError(_("Choose the unit whose employees evaluate."))
    ids = sorted(
        User.objects.filter(is_active=True, unit__path__startswith=poll.unit.path).values_list(
            "pk", flat=True
        )
    )
    return ids, len(ids), len(ids)


@transaction.atomic
def poll_open(*, actor: User, poll: Poll, at: datetime | None = None) -> Poll:
    """Snapshot the electorate and open the poll (refused below the quorum). ``at``
    back-dates the step: only for entering past records (the demo); pages never pass it."""
    locked = Poll.objects.select_for_update(of=("self",)).select_related("unit").get(pk=poll.pk)
    require_manager(actor, locked.company)
    if locked.status != PollStatus.DRAFT:
        raise ServiceError(_("This vote has already been opened."))
    if not locked.items.exists():
        raise ServiceError(_("List at least one item to vote on."))
    ids, present, total = electorate_of(locked)
    if not ids:
        raise ServiceError(_("Nobody is eligible to vote."))
    group_of: dict[int, int] = {}
    default_group: int | None = None
    for group in locked.groups.prefetch_related("members"):
        if group.is_default:
            default_group = group.pk
        for member in group.members.all():
            group_of[member.pk] = group.pk
    Elector.objects.bulk_create(
        [
            Elector(poll=locked, user_id=uid, group_id=group_of.get(uid, default_group))
            for uid in ids
        ],
        batch_size=1000,
    )
    now = at or timezone.now()
    won = Poll.objects.filter(pk=locked.pk, status=PollStatus.DRAFT).update(
        status=PollStatus.OPEN,
        opened_at=now,
        electorate_size=len(ids),
        present_count=present,
        total_count=total,
        updated_at=now,
    )
    if not won:
        raise ServiceError(_("This vote has already been opened."))
    locked.refresh_from_db()
    record_event(
        actor=actor,
        action="ballots.opened",
        target=locked,
        unit=locked.company,
        before={"status": PollStatus.DRAFT},
        after={
            "status": PollStatus.OPEN,
            "electorate": len(ids),
            "present": present,
            "total": total,
        },
    )
    return locked


# --- Casting --------------------------------------------------------------------------------


def clean_ballot(poll: Poll, choices: Mapping[str, str]) -> dict[str, str]:
    """Check a ballot's content; return it keyed by item id. Raises ServiceError."""
    item_ids = [str(pk) for pk in poll.items.values_list("pk", flat=True)]
    allowed = Choice.values if poll.kind == PollKind.RESOLUTION else Grade.values
    clean: dict[str, str] = {}
    for key in item_ids:
        value = choices.get(key, "")
        if not value:
            continue
        if value not in allowed:
            raise ServiceError(_("A choice is not on the ballot's scale."))
        clean[key] = value
    if set(choices) - set(item_ids):
        raise ServiceError(_("The ballot names an item that is not on this vote."))
    if len(clean) != len(item_ids):
        if poll.kind == PollKind.EVALUATION:
            raise ServiceError(_("Grade every person on the list (or choose “not known to me”)."))
        raise ServiceError(_("Choose for, against or abstain on every item."))
    if poll.kind == PollKind.EVALUATION and poll.excellent_quota_percent is not None:
        limit = len(item_ids) * poll.excellent_quota_percent // 100
        excellent = sum(1 for v in clean.values() if v == Grade.EXCELLENT)
        if excellent > limit:
            raise ServiceError(
                _("At most %(limit)s of the %(count)s people may be graded excellent.")
                % {"limit": limit, "count": len(item_ids)}
            )
    return clean


def lock_open_poll(poll_id: int) -> str:
    """The poll's status, holding a share lock on its row (PostgreSQL) so that a concurrent
    close waits for casts in flight, and casts that come after the close see it closed.
    SQLite's IMMEDIATE transactions already serialise writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT status FROM ballots_poll WHERE id = %s FOR SHARE", [poll_id])
            row = cursor.fetchone()
        return row[0] if row else ""
    return Poll.objects.filter(pk=poll_id).values_list("status", flat=True).first() or ""


def ballot_cast(*, actor: User, poll: Poll, choices: Mapping[str, str]) -> str:
    """Record ``actor``'s ballot and return its receipt code, to be shown to the voter once
    and kept nowhere with them. The participation row, the ballot and the code are written in
    one transaction (the ballot and the code each in a sealed box of its own); the UNIQUE
    constraint on (poll, user) rejects a second ballot, raced or not (AlreadyVoted: nothing
    changed). Not audited, never logged."""
    with transaction.atomic():
        status = lock_open_poll(poll.pk)
        if status != PollStatus.OPEN:
            raise ServiceError(_("This vote is not open."))
        elector = Elector.objects.filter(poll_id=poll.pk, user_id=actor.pk).first()
        if elector is None:
            raise ServiceError(_("You are not eligible to vote in this vote."))
        clean = clean_ballot(poll, choices)
        if not boxes.BOX.participate(poll.pk, actor.pk):
            raise AlreadyVoted(
                _("You have already voted; your ballot is recorded. Nothing was changed.")
            )
        # The only row of this transaction besides "has voted": a box nobody can read from the
        # database (no readable choice or group; one length for every ballot of the poll).
        boxes.BOX.hold(
            poll.pk,
            [(boxes.content(elector.group_id, clean), boxes.box_length(poll.kind, clean.keys()))],
        )
        # The receipt code: a box of its own, moved by a seal of its own into a table apart
        # from the ballots, so that not even the database pairs a code with a choice.
        code = boxes.receipt_code()
        boxes.RECEIPTS.hold(poll.pk, [(boxes.receipt_content(code), boxes.RECEIPT_LENGTH)])
    return code


# --- Closing, sealing, counting -------------------------------------------------------------


def result_of(poll: Poll, ballots: Sequence[tuple[int | None, dict[str, str]]]) -> dict[str, Any]:
    items = []
    for item in poll.items.select_related("cadre"):
        if poll.kind == PollKind.RESOLUTION:
            items.append({"id": item.pk, "label": item.title})
        else:
            if item.cadre is None:
                continue
            items.append(
                {
                    "id": item.pk,
                    "label": item.cadre.name,
                    "cadre_id": item.cadre_id,
                    "unit_id": item.cadre_unit_id,
                    "position": item.cadre_position,
                }
            )
    groups = [{"id": g.pk, "name": g.name, "weight": g.weight} for g in poll.groups.all()]
    return tally(
        kind=poll.kind,
        items=items,
        groups=groups,
        ballots=ballots,
        majority=poll.majority,
        present=poll.present_count,
        total=poll.total_count,
        electorate=poll.electorate_size,
        min_ballots=poll.min_ballots,
        incompetent_threshold=poll.incompetent_threshold_percent,
    )


def sealed_ballots(poll: Poll) -> list[tuple[int | None, dict[str, str]]]:
    return list(SealedBallot.objects.filter(poll=poll).values_list("group_id", "choices"))


def count(poll_id: int) -> Poll:
    """Count the sealed ballots and store the result (once). Refuses when boxes are left or
    the ballots do not match the participation rows one for one."""
    with transaction.atomic():
        poll = Poll.objects.select_for_update().get(pk=poll_id)
        if poll.result is not None:
            return poll
        if PendingBallot.objects.filter(poll_id=poll_id).exists():
            raise holding.HoldingError("ballots of a closed vote are still in their boxes")
        if PendingReceipt.objects.filter(poll_id=poll_id).exists():
            raise holding.HoldingError("receipt codes of a closed vote are still in their boxes")
        ballots = sealed_ballots(poll)
        voters = Participation.objects.filter(poll_id=poll_id).count()
        if len(ballots) != voters:
            raise holding.HoldingError(f"{len(ballots)} ballots for {voters} voters")
        # At most one code per ballot (ballots cast before codes existed have none).
        codes = Receipt.objects.filter(poll_id=poll_id).count()
        if codes > voters:
            raise holding.HoldingError(f"{codes} receipt codes for {voters} voters")
        poll.result = result_of(poll, ballots)
        Poll.objects.filter(pk=poll_id, result__isnull=True).update(result=poll.result)
    return poll


def finish_close(poll_id: int) -> Poll:
    """Seal (gongkai.core.ballotbox: the boxes opened and written as ballots in a random order
    by a transaction that writes nothing else, the holding table emptied, the result
    verified), then the receipt codes the same way in a transaction of their own, then count;
    each step retried. A step that still fails is logged and raised as
    :class:`SealingFailed`. Safe to call again."""
    try:
        boxes.BOX.seal(
            poll_id,
            partial(boxes.sealed_ballot, poll_id),
            what=f"Sealing the ballots of vote {poll_id}",
        )
        # A transaction of its own: the codes never share a transaction id with the ballots.
        boxes.RECEIPTS.seal(
            poll_id,
            partial(boxes.receipt_row, poll_id),
            what=f"Sealing the receipt codes of vote {poll_id}",
        )
        return holding.with_retries(f"Counting vote {poll_id}", lambda: count(poll_id))
    except holding.HoldingError:
        raise SealingFailed(
            _(
                "The vote is closed, but its ballots could not be sealed and counted yet "
                "(the error is in the server log). Nobody can vote any more and no ballot is "
                "lost; press the button again, or run manage.py ballots_seal."
            )
        ) from None


def poll_close(*, actor: User, poll: Poll, at: datetime | None = None) -> Poll:
    """Close once, then seal and count (:func:`finish_close`, separate transactions).
    (``at``: as above.) Raises :class:`SealingFailed` when the vote closed but sealing or
    counting failed."""
    with transaction.atomic():
        current = Poll.objects.get(pk=poll.pk)
        require_manager(actor, current.company)
        now = at or timezone.now()
        # The conditional UPDATE is the lock: a second close (or a close of a draft) matches
        # nothing. On PostgreSQL it waits for casts holding a share lock on the row.
        won = Poll.objects.filter(pk=current.pk, status=PollStatus.OPEN).update(
            status=PollStatus.CLOSED, closed_at=now, updated_at=now
        )
        if not won:
            raise ServiceError(_("Only an open vote can be closed; this one is not open."))
        current.refresh_from_db()
        record_event(
            actor=actor,
            action="ballots.closed",
            target=current,
            unit=current.company,
            before={"status": PollStatus.OPEN},
            after={
                "status": PollStatus.CLOSED,
                "ballots": Participation.objects.filter(poll=current).count(),
            },
        )
    return finish_close(current.pk)


def poll_finish(*, actor: User, poll: Poll) -> Poll:
    """The close button again, on a vote closed but not yet counted: seal and count."""
    require_manager(actor, poll.company)
    current = Poll.objects.get(pk=poll.pk)
    if current.status != PollStatus.CLOSED:
        raise ServiceError(_("Only an open vote can be closed; this one is not open."))
    return finish_close(current.pk)


def unfinished_polls() -> list[int]:
    """Votes closed (or later) whose ballots are not sealed and counted, or which still have
    boxes in the holding table."""
    ids = set(
        Poll.objects.filter(
            status__in=[PollStatus.CLOSED, PollStatus.PUBLISHED], result__isnull=True
        ).values_list("pk", flat=True)
    )
    for held in (PendingBallot, PendingReceipt):
        ids |= set(
            held.objects.exclude(poll__status=PollStatus.OPEN)
            .values_list("poll_id", flat=True)
            .distinct()
        )
    return sorted(ids)


@dataclass(frozen=True)
class Recount:
    stored: dict[str, Any] | None
    recounted: dict[str, Any]

    @property
    def equal(self) -> bool:
        return self.stored == self.recounted


@transaction.atomic
def poll_recount(*, actor: User, poll: Poll) -> Recount:
    """The supervision group recounts from the stored ballots; audited."""
    if not can(actor, Action.VOTE_RECOUNT, poll.company):
        raise ServiceError(_("You may not recount this vote."))
    current = Poll.objects.get(pk=poll.pk)
    if current.status not in (PollStatus.CLOSED, PollStatus.PUBLISHED):
        raise ServiceError(_("A vote is counted only after it closes."))
    if current.result is None:
        raise ServiceError(_("The ballots of this vote are not sealed and counted yet."))
    recount = Recount(stored=current.result, recounted=result_of(current, sealed_ballots(current)))
    record_event(
        actor=actor,
        action="ballots.recounted",
        target=current,
        unit=current.company,
        after={"ballots": recount.recounted["ballots"], "equal": recount.equal},
    )
    return recount


@transaction.atomic
def poll_publish(*, actor: User, poll: Poll, at: datetime | None = None) -> Poll:
    """Publish the result (with the turnout) as a disclosure of the company."""
    current = Poll.objects.select_for_update().get(pk=poll.pk)
    require_manager(actor, current.company)
    if current.status != PollStatus.CLOSED:
        raise ServiceError(_("Only a closed vote's result can be published."))
    if current.result is None:
        raise ServiceError(_("The ballots of this vote are not sealed and counted yet."))
    now = at or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):  # the board's language, not the clicker's
        disclosure = publish_result(actor=actor, poll=current, at=now)
    Poll.objects.filter(pk=current.pk, status=PollStatus.CLOSED).update(
        status=PollStatus.PUBLISHED, published_at=now, disclosure=disclosure, updated_at=now
    )
    current.refresh_from_db()
    record_event(
        actor=actor,
        action="ballots.published",
        target=current,
        unit=current.company,
        before={"status": PollStatus.CLOSED},
        after={"status": PollStatus.PUBLISHED, "disclosure": disclosure.pk},
    )
    return current


def parse_weight(text: str) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise ServiceError(_("A weight is a number such as 0.4."), field="groups") from None
    if not value.is_finite() or value <= 0 or value > 100:
        raise ServiceError(_("A weight is a number such as 0.4."), field="groups")
    return value
