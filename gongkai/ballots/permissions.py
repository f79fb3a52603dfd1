"""Object-level rules for votes and evaluations (gongkai.ballots).

Managing (set up, open, watch turnout, close, publish) is the union office's (VOTE_MANAGE on
the company); recounting is the supervision group's (VOTE_RECOUNT). Casting is decided by the
electorate snapshotted when the poll opened, never by a role. A representative of the
session's term who is not in that electorate (checked in after the vote opened, or not at all)
sees the vote's page, which tells them why they cannot vote, instead of a bare 404 (the session
page lists its votes to them already). Results are shown to nobody
before the poll closes; after close to the managers and the supervision group; after
publication to every employee of the company (it is a published disclosure by then).
"""

from __future__ import annotations

from typing import Any

from gongkai.ballots.models import Elector, Poll, PollStatus
from gongkai.congress.selectors import is_representative
from gongkai.policy.rules import Action, can


def may_manage(user: Any, poll: Poll) -> bool:
    return can(user, Action.VOTE_MANAGE, poll.company)


def may_recount(user: Any, poll: Poll) -> bool:
    return poll.status in (PollStatus.CLOSED, PollStatus.PUBLISHED) and can(
        user, Action.VOTE_RECOUNT, poll.company
    )


def is_elector(user: Any, poll: Poll) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Elector.objects.filter(poll=poll, user_id=user.pk).exists()


def in_company(user: Any, poll: Poll) -> bool:
    unit = getattr(user, "unit", None)
    return unit is not None and unit.path.startswith(poll.company.path)


def may_view(user: Any, poll: Poll) -> bool:
    """The poll's page (title, items, status, turnout figures once closed)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if may_manage(user, poll) or can(user, Action.VOTE_RECOUNT, poll.company):
        return True
    if poll.status == PollStatus.DRAFT:
        return False
    return (
        is_elector(user, poll)
        or (poll.status == PollStatus.PUBLISHED and in_company(user, poll))
        or is_session_representative(user, poll)
    )


def is_session_representative(user: Any, poll: Poll) -> bool:
    """An active representative of the term of the poll's session (whether in its electorate
    or not)."""
    session = poll.session
    return session is not None and is_representative(user, session.term)


def may_cast(user: Any, poll: Poll) -> bool:
    return poll.status == PollStatus.OPEN and is_elector(user, poll)


def may_see_results(user: Any, poll: Poll) -> bool:
    if poll.status == PollStatus.PUBLISHED:
        return may_view(user, poll)
    if poll.status == PollStatus.CLOSED:
        return may_manage(user, poll) or can(user, Action.VOTE_RECOUNT, poll.company)
    return False  # draft or open: no one
