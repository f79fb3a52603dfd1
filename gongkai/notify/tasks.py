"""The notify tasks: fan-out, sending, the sweeper, the digest.

Every task takes ids and plain values and is idempotent: a fan-out writes its batch once,
a send claims each delivery before sending it, so running any of them twice sends nothing
twice.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.core.queue import crontab, lock_task, periodic, task
from gongkai.notify import outbox
from gongkai.notify.models import Delivery
from gongkai.org.models import OrgUnit

WAITING = (Delivery.Status.QUEUED, Delivery.Status.RETRYING)


def chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def dispatch(deliveries: list[Delivery]) -> None:
    """Enqueue the sending of ``deliveries`` that may go now or later (held ones wait for
    the digest): e-mails in batches (those due at the same later moment together), each
    robot post and each event alone, delayed ones at their time."""
    now = timezone.now()
    emails_now: list[int] = []
    emails_later: dict[datetime, list[int]] = {}
    for d in deliveries:
        if d.status not in WAITING:
            continue
        later = d.not_before if d.not_before is not None and d.not_before > now else None
        if d.channel == Delivery.Channel.EMAIL:
            if later is None:
                emails_now.append(d.pk)
            else:
                emails_later.setdefault(later, []).append(d.pk)
        else:
            sender = send_event if d.channel == Delivery.Channel.EVENT else send_robot
            if later is not None:
                sender.schedule((d.pk,), eta=later)
            else:
                sender(d.pk)
    for ids in chunks(emails_now, outbox.EMAIL_BATCH):
        send_emails(ids)
    for eta, waiting in emails_later.items():
        for ids in chunks(waiting, outbox.EMAIL_BATCH):
            send_emails.schedule((ids,), eta=eta)


@task()
def fan_out_personal(
    user_ids: list[int], message: str, url: str, private: bool, batch: str
) -> None:
    """E-mail a notice to the people it was written for, as each of them prefers."""
    text = outbox.outbound_text(message, url, private=private)
    users = User.objects.filter(pk__in=user_ids)
    rows = outbox.personal_deliveries(users, text, batch=batch, now=timezone.now())
    dispatch(outbox.store(rows, batch=batch))


@task()
def fan_out_unit(unit_id: int, message: str, url: str, batch: str, news: bool) -> None:
    """A unit's notice: to its chat robots, and (``news``) by e-mail to the readers of its
    board who asked for new items."""
    text = outbox.outbound_text(message, url, private=False)
    rows = outbox.robot_deliveries(unit_id, text, batch=batch)
    if news:
        unit = OrgUnit.objects.get(pk=unit_id)
        rows += outbox.personal_deliveries(
            outbox.board_readers(unit), text, batch=batch, now=timezone.now(), news=True
        )
    dispatch(outbox.store(rows, batch=batch))


@task()
def send_emails(ids: list[int]) -> None:
    """Send these e-mails over one connection; those that failed are tried again later,
    each wait doubling."""
    waits: dict[int, list[int]] = {}
    for pk, wait in outbox.send_emails(ids).items():
        waits.setdefault(wait, []).append(pk)
    for wait, pks in waits.items():
        send_emails.schedule((pks,), delay=wait)


@task()
def send_robot(delivery_id: int) -> None:
    """Post to one robot; tried again later when it failed."""
    wait = outbox.send_robot(delivery_id)
    if wait is not None:
        send_robot.schedule((delivery_id,), delay=wait)


@task()
def send_event(delivery_id: int) -> None:
    """Post one outbound event; tried again later when it failed."""
    wait = outbox.send_event(delivery_id)
    if wait is not None:
        send_event.schedule((delivery_id,), delay=wait)


@task()
def send_event_batch(batch: str) -> None:
    """Send the deliveries of one event (written with the change that caused it)."""
    dispatch(
        list(
            Delivery.objects.filter(batch=batch, channel=Delivery.Channel.EVENT).only(
                "pk", "channel", "status", "not_before"
            )
        )
    )


@periodic(crontab(minute="*/5"))
@lock_task("notify-sweep")
def sweep() -> None:
    """Every five minutes: hand back deliveries of a worker that died, and send whatever is
    due and not on its way (a schedule lost with a restarted in-memory queue)."""
    now = timezone.now()
    outbox.requeue_stale(now=now)
    due = outbox.due_ids(now=now, limit=5000)
    dispatch(
        list(Delivery.objects.filter(pk__in=due).only("pk", "channel", "status", "not_before"))
    )


@periodic(crontab(minute="0", hour=str(outbox.digest_hour_utc())))
@lock_task("notify-digest")
def send_digests() -> None:
    """Once a day: each person's held e-mails in one digest."""
    made = outbox.digest(now=timezone.now())
    dispatch(
        list(Delivery.objects.filter(pk__in=made).only("pk", "channel", "status", "not_before"))
    )


# The reminder engine's tasks (the hourly scan and its fan-out) live beside the engine; the
# worker registers them by importing it here, as Huey imports every app's tasks module.
from gongkai.notify import reminders as reminders  # noqa: E402
