"""Notices: in-app at once, and out of the site (e-mail, chat robots) through the queue.

``notify`` tells people: a notification row each, now, in the caller's transaction; the
e-mails follow from a task once the transaction commits (``notify.outbox`` says how).
``announce`` tells a unit: its chat robots, and the readers of its board who asked for
news. Neither sends anything inside the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.queue import after_commit
from gongkai.notify import outbox, tasks
from gongkai.notify.models import Notification
from gongkai.org.models import OrgUnit

# False inside :func:`in_app_only`: notices stay in the site, nothing is queued.
_OUTBOUND: ContextVar[bool] = ContextVar("gongkai_notify_outbound", default=True)


@contextmanager
def in_app_only() -> Iterator[None]:
    """Notices written inside stay in the site: no e-mail, no robot post is queued. For
    loading history (the demo's past year), whose events nobody should be told of today."""
    token = _OUTBOUND.set(False)
    try:
        yield
    finally:
        _OUTBOUND.reset(token)


def sending_out() -> bool:
    """False inside :func:`in_app_only`: nothing is to leave the site."""
    return _OUTBOUND.get()


def notify(
    *, users: Iterable[User], message: str, url: str = "", private: bool = False
) -> list[Notification]:
    """Tell ``users``: in-app now, by e-mail as each prefers after commit. ``private``: the
    e-mail says only that there is a new item (anonymous reports, ballots, answers)."""
    people = {u.pk: u for u in users if u.is_active}
    notes = Notification.objects.bulk_create(
        [Notification(user=u, message=message[:300], url=url) for u in people.values()]
    )
    if people and _OUTBOUND.get():
        # A private message's text never leaves the site, so it is not put in the queue
        # either (the e-mail says only that there is a new item).
        outbound = "" if private else message
        after_commit(
            tasks.fan_out_personal, list(people), outbound, url, private, outbox.new_batch()
        )
    return notes


def announce(*, unit: OrgUnit, message: str, url: str = "", news: bool = True) -> None:
    """Tell ``unit``'s group chats (its robots) and, when ``news``, the readers of its board
    who asked for new items by e-mail. Only for what every reader of the board may see."""
    if not _OUTBOUND.get():
        return
    after_commit(tasks.fan_out_unit, unit.pk, message, url, outbox.new_batch(), news)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s unread notices read (all of them, or those of ``ids``): how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
