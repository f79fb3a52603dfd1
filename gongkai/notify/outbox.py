"""Messages leaving the site: who gets what by which channel, when, and the sending itself.

A notice is written in-app at once (``services.notify``); everything outside the site is
decided and sent by the queue (``notify.tasks``), never in the request:

1. **fan-out** turns one notice into :class:`Delivery` rows, one per person who wants it
   by e-mail and one per chat robot of the unit, in one transaction, tagged with the
   notice's ``batch`` so that running the fan-out again creates nothing twice. A person's
   :class:`Preference` decides: e-mail or not; at once, or held for the daily digest; and
   their quiet hours, which push an immediate message (and the digest) to the hour they end.
2. **sending** claims each delivery with a conditional UPDATE (queued or retrying →
   sending), so two workers never send the same one, and records each attempt. A failed
   attempt is retried with doubling waits up to ``NOTIFY_ATTEMPTS``; then it is failed, in
   the delivery log for the union office (at once when the mail server refuses the message
   for good, a 5xx answer). A worker killed mid-send leaves "sending" rows
   that :func:`requeue_stale` hands back after ``STALE_AFTER`` (at-least-once: the one
   message in flight may arrive twice, never zero times). Just before sending, an e-mail
   is dropped (failed, with the reason) when its person has since left, lost their address
   or turned e-mail off, and a robot post when its robot was disabled.

Outbound events (``notify.events``) are deliveries too (channel ``event``, one per endpoint,
written in the transaction of the change rather than by a fan-out task) and are sent by
:func:`send_event` with the same claiming, attempts, waits, log and stale-claim handling; a
receiver's 4xx other than 408 and 429 fails one at once, and the endpoint is checked again
before each attempt (:func:`event_unwanted`).

Nothing personal leaves through a channel: a notice marked ``private`` (anonymous reports,
objections filed anonymously, ballots, survey answers) goes out as "you have a new item"
with a link to the notifications page, and a robot only ever receives notices addressed to
its unit, never one meant for a person. A robot's message carries no footer about personal
preferences (a group cannot choose them).
"""

from __future__ import annotations

import contextlib
import json
import os
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongkai.accounts.models import User
from gongkai.core import secretbox
from gongkai.notify import robots
from gongkai.notify.models import Delivery, EventEndpoint, Preference, Robot
from gongkai.org.models import OrgUnit

Status = Delivery.Status
Channel = Delivery.Channel
ROBOT_CHANNELS = [c.value for c in Channel if c not in (Channel.EMAIL, Channel.EVENT)]

EMAIL_BATCH = 200  # e-mails sent over one SMTP connection by one task
STALE_AFTER = timedelta(minutes=15)
SUBJECT_LENGTH = 120
SEALED_PURPOSE = "notify.robot"
LOG_LENGTH = 20  # attempts kept in a delivery's log


def new_batch() -> str:
    return uuid.uuid4().hex


def site_link(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url else settings.SITE_URL


def one_line(value: str) -> str:
    """``value`` on one line (an e-mail subject may not contain a line break)."""
    return " ".join(value.split())


# --- Preferences ----------------------------------------------------------------------------


def preference_of(user: User) -> Preference:
    """The person's preference (the defaults when they never chose)."""
    found = Preference.objects.filter(user=user).first()
    return found if found is not None else Preference(user=user)


def in_quiet_hours(pref: Preference, moment: datetime) -> datetime | None:
    """When ``moment`` (aware) falls in ``pref``'s quiet hours, the moment they end; else
    None. Quiet hours may run over midnight (22:00 → 07:00)."""
    start, end = pref.quiet_from, pref.quiet_until
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(moment)
    now = local.time()
    if start < end:
        quiet = start <= now < end
        end_day = local.date()
    else:
        quiet = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not quiet:
        return None
    return timezone.make_aware(datetime.combine(end_day, end), local.tzinfo)


# --- Fan-out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """What leaves the site for one notice: ``body`` ends with the link; ``footer`` (how to
    change one's preferences) is added to e-mails only."""

    subject: str
    body: str
    url: str
    footer: str = ""

    @property
    def email_body(self) -> str:
        return f"{self.body}\n\n-- \n{self.footer}" if self.footer else self.body


def preferences_footer() -> str:
    return _("Choose how you receive notices: %(link)s") % {
        "link": site_link(reverse("notifications:preferences"))
    }


def outbound_text(message: str, url: str, *, private: bool) -> Text:
    """What leaves the site for ``message``: the message itself, or, for a private one,
    only that there is something new (in the site's language)."""
    with override(settings.LANGUAGE_CODE):
        if private:
            link = reverse("notifications:list")
            subject = _("gongkai: you have a new item")
            body = _("You have a new item in gongkai.")
        else:
            link = url
            subject = one_line(message)[:SUBJECT_LENGTH]
            body = message.strip()
        footer = preferences_footer()
    return Text(subject=subject, body=f"{body}\n\n{site_link(link)}", url=link, footer=footer)


def personal_deliveries(
    users: Iterable[User], text: Text, *, batch: str, now: datetime, news: bool = False
) -> list[Delivery]:
    """The e-mail deliveries of ``text`` to ``users`` as their preferences say (``news``:
    only to those who asked for new items on their boards)."""
    if not settings.EMAIL_NOTIFICATIONS:
        return []
    people = list({u.pk: u for u in users if u.is_active and u.email}.values())
    prefs = {p.user_id: p for p in Preference.objects.filter(user__in=people)}
    rows = []
    for user in people:
        pref = prefs.get(user.pk) or Preference(user=user)
        if not pref.email or (news and not pref.board_news):
            continue
        status, not_before = Status.QUEUED, None
        if pref.timing == Preference.Timing.DIGEST:
            status = Status.HELD
        else:
            not_before = in_quiet_hours(pref, now)
        rows.append(
            Delivery(
                channel=Channel.EMAIL,
                user=user,
                batch=batch,
                subject=text.subject,
                body=text.email_body,
                url=text.url,
                status=status,
                not_before=not_before,
            )
        )
    return rows


def robot_deliveries(unit_id: int, text: Text, *, batch: str) -> list[Delivery]:
    """One delivery per enabled robot of the unit (without the e-mail footer)."""
    return [
        Delivery(
            channel=robot.platform,
            robot=robot,
            batch=batch,
            subject=text.subject,
            body=text.body,
            url=text.url,
        )
        for robot in Robot.objects.filter(unit_id=unit_id, enabled=True)
    ]


def store(rows: list[Delivery], *, batch: str) -> list[Delivery]:
    """Write ``rows`` unless the batch was written before (a retried fan-out); the batch's
    deliveries either way. Two fan-outs of one batch at the same moment write each
    recipient's row once (unique per batch and recipient; the second insert is ignored)."""
    with transaction.atomic():
        if not Delivery.objects.filter(batch=batch).exists():
            Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return list(Delivery.objects.filter(batch=batch).only("pk", "channel", "status", "not_before"))


def board_readers(unit: OrgUnit) -> Iterable[User]:
    """The people whose boards show ``unit``'s board: those in the unit and below it."""
    return User.objects.filter(is_active=True, unit__path__startswith=unit.path).only(
        "pk", "email", "is_active"
    )


# --- Sending --------------------------------------------------------------------------------


def claim(
    ids: Iterable[int], *, now: datetime, channels: Iterable[str] | None = None
) -> list[Delivery]:
    """Take the deliveries that are due and not taken (one conditional UPDATE): queued or
    retrying, not before now, of ``channels`` when given. Returns those taken by this
    call."""
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    ready = Delivery.objects.filter(
        due, pk__in=list(ids), status__in=[Status.QUEUED, Status.RETRYING]
    )
    if channels is not None:
        ready = ready.filter(channel__in=list(channels))
    token = uuid.uuid4().hex
    # One UPDATE takes the rows and stamps them with this call's token; a row another
    # worker took first no longer matches the WHERE, so it is not ours.
    ready.update(status=Status.SENDING, claim=token, claimed_at=now)
    return list(
        Delivery.objects.filter(status=Status.SENDING, claim=token)
        .select_related("user", "robot", "endpoint")
        .order_by("pk")
    )


def record_attempt(
    delivery: Delivery, *, now: datetime, error: str = "", final: bool = False
) -> int | None:
    """Write the attempt's result; returns the seconds until the next attempt when it must
    be retried, None when it is done (sent, or failed for good; ``final``: failed at once,
    a retry would not help)."""
    delivery.attempts += 1
    delivery.log = [*delivery.log, {"at": now.isoformat(), "result": error or "ok"}][-LOG_LENGTH:]
    retry_in: int | None = None
    if not error:
        delivery.status, delivery.sent_at, delivery.last_error = Status.SENT, now, ""
    elif final or delivery.attempts >= settings.NOTIFY_ATTEMPTS:
        delivery.status, delivery.last_error = Status.FAILED, error[:500]
    else:
        retry_in = settings.NOTIFY_RETRY_DELAY * 2 ** (delivery.attempts - 1)
        delivery.status, delivery.last_error = Status.RETRYING, error[:500]
        delivery.not_before = now + timedelta(seconds=retry_in)
    delivery.save(
        update_fields=["attempts", "log", "status", "sent_at", "last_error", "not_before"]
    )
    return retry_in


def unwanted(delivery: Delivery, prefs: dict[int, Preference]) -> str:
    """Why an e-mail delivery must no longer go (the person left, has no address, or turned
    e-mail off since it was written); empty when it may."""
    user = delivery.user
    if user is None or not user.is_active or not user.email:
        return _("not sent: the person is no longer active or has no e-mail address")
    pref = prefs.get(user.pk)
    if pref is not None and not pref.email:
        return _("not sent: the person turned e-mail off")
    return ""


def permanent(exc: BaseException) -> bool:
    """Whether the SMTP server refused the message for good (a 5xx answer to the recipient
    or to the message); a refused sender is the site's configuration, tried again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _answer in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return False
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def send_emails(ids: Iterable[int]) -> dict[int, int]:
    """Send the due e-mail deliveries among ``ids`` over one connection. Returns the
    deliveries to retry, with the seconds to wait."""
    now = timezone.now()
    taken = claim(ids, now=now, channels=[Channel.EMAIL])
    retry: dict[int, int] = {}
    if not taken:
        return retry
    prefs = {
        p.user_id: p
        for p in Preference.objects.filter(user_id__in=[d.user_id for d in taken if d.user_id])
    }
    with override(settings.LANGUAGE_CODE):
        for delivery in list(taken):
            reason = unwanted(delivery, prefs)
            if reason:
                record_attempt(delivery, now=now, error=reason, final=True)
                taken.remove(delivery)
    if not taken:
        return retry
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # any failure to reach the server is one attempt for each
        for delivery in taken:
            wait = record_attempt(delivery, now=now, error=error_text(exc))
            if wait is not None:
                retry[delivery.pk] = wait
        return retry
    try:
        for delivery in taken:
            assert delivery.user is not None  # noqa: S101 - checked by unwanted()
            message = EmailMessage(
                subject=one_line(delivery.subject),
                body=delivery.body,
                to=[delivery.user.email],
                connection=connection,
                # RFC 3834: a notice sent by a program; no auto-replies to it.
                headers={"Auto-Submitted": "auto-generated"},
            )
            try:
                message.send()
            except Exception as exc:  # recorded, retried unless the server said never
                wait = record_attempt(
                    delivery, now=timezone.now(), error=error_text(exc), final=permanent(exc)
                )
                if wait is not None:
                    retry[delivery.pk] = wait
                if session_lost(connection):
                    # The server hung up (421, a dropped line): a new session for the rest.
                    close_quietly(connection)
                    # Should it fail, the next send tries again and records that.
                    with contextlib.suppress(Exception):
                        connection.open()
            else:
                record_attempt(delivery, now=timezone.now())
    finally:
        close_quietly(connection)
    return retry


def session_lost(connection: BaseEmailBackend) -> bool:
    """Whether the SMTP session of ``connection`` is closed (after a 421 or a dropped
    line); other backends never lose one."""
    smtp = getattr(connection, "connection", False)
    return smtp is None or (isinstance(smtp, smtplib.SMTP) and smtp.sock is None)


def close_quietly(connection: BaseEmailBackend) -> None:
    # The messages are recorded; a failed QUIT changes nothing.
    with contextlib.suppress(Exception):
        connection.close()


def open_sealed(key_id: str, box: bytes) -> str:
    """A sealed address or secret (:func:`seal_value`): the value, or, for an ``env:NAME``
    reference, the environment variable's value."""
    box = bytes(box or b"")
    if not box:
        return ""
    value = secretbox.open_box(SEALED_PURPOSE, key_id, box).decode()
    if value.startswith("env:"):
        return os.environ.get(value[4:], "")
    return value


def seal_value(key_id: str, value: str) -> bytes:
    """``value`` sealed for the row and field ``key_id`` names (empty stays empty)."""
    return secretbox.seal(SEALED_PURPOSE, key_id, value.encode()) if value else b""


def robot_secret(robot: Robot, field: str) -> str:
    """The robot's address or secret: an ``env:NAME`` reference, or the sealed value."""
    return open_sealed(f"{robot.unit_id}:{field}", bytes(getattr(robot, field) or b""))


def seal_secret(unit_id: int, field: str, value: str) -> bytes:
    return seal_value(f"{unit_id}:{field}", value)


def endpoint_key(endpoint_id: int, field: str) -> str:
    """The sealing key id of an event endpoint's field (a robot's start with a digit)."""
    return f"endpoint:{endpoint_id}:{field}"


def endpoint_secret(endpoint: EventEndpoint, field: str) -> str:
    """The endpoint's address or secret (``sealed_url``, ``sealed_secret``)."""
    return open_sealed(endpoint_key(endpoint.pk, field), bytes(getattr(endpoint, field) or b""))


def send_robot(delivery_id: int) -> int | None:
    """Post one robot delivery; the seconds to wait before the next attempt, or None."""
    now = timezone.now()
    taken = claim([delivery_id], now=now, channels=ROBOT_CHANNELS)
    if not taken:
        return None
    delivery = taken[0]
    robot = delivery.robot
    with override(settings.LANGUAGE_CODE):
        if robot is None or not robot.enabled:
            error = _("not sent: the robot was disabled")
            return record_attempt(delivery, now=now, error=error, final=True)
        try:
            url = robot_secret(robot, "sealed_url")
            secret = robot_secret(robot, "sealed_secret")
        except secretbox.BoxError:
            error = _("the robot's address cannot be read (was SECRET_KEY changed?)")
            return record_attempt(delivery, now=now, error=error)
        try:
            robots.post(
                robot.platform,
                url,
                secret,
                title=one_line(delivery.subject),
                text=delivery.body,
                timeout=settings.ROBOT_TIMEOUT,
            )
        except robots.DeliveryError as exc:
            return record_attempt(delivery, now=now, error=str(exc))
        except Exception as exc:  # a fault of ours: recorded (its kind only, never the URL)
            return record_attempt(delivery, now=now, error=type(exc).__name__)
    return record_attempt(delivery, now=timezone.now())


TEST_EVENT = "test"  # the type of the test event the union office sends from the page


def event_unwanted(delivery: Delivery, endpoint: EventEndpoint | None) -> str:
    """Why an event delivery must no longer go, checked again just before each attempt
    (the endpoint may have changed since the event was written): the endpoint was disabled
    (a test event still goes, to check an endpoint before enabling it), no longer asks for
    this type, no longer covers the event's unit, or no longer sees internal items and this
    one is. Empty when it may go."""
    if endpoint is None:
        return _("not sent: the endpoint was deleted")
    try:
        body = json.loads(delivery.body)
    except ValueError:
        return _("not sent: the event cannot be read")
    kind = body.get("type") if isinstance(body, dict) else None
    if kind == TEST_EVENT:
        return ""
    if not endpoint.enabled:
        return _("not sent: the endpoint was disabled")
    if kind not in (endpoint.events or []):
        return _("not sent: the endpoint no longer asks for this event")
    if body.get("audience") != "public" and not endpoint.sees_internal:
        return _("not sent: the endpoint no longer receives internal items")
    code = (body.get("unit") or {}).get("code", "")
    unit = OrgUnit.objects.filter(code=code).only("path").first() if code else None
    if unit is None or not endpoint.units.filter(pk__in=unit.path_ids).exists():
        return _("not sent: the endpoint no longer covers this unit")
    return ""


def send_event(delivery_id: int) -> int | None:
    """Post one event delivery (its stored JSON body, signed now); the seconds to wait
    before the next attempt, or None. A receiver that refuses the request itself (a 4xx
    other than 408 and 429) is not asked again: the delivery fails at once."""
    now = timezone.now()
    taken = claim([delivery_id], now=now, channels=[Channel.EVENT])
    if not taken:
        return None
    delivery = taken[0]
    endpoint = delivery.endpoint
    with override(settings.LANGUAGE_CODE):
        reason = event_unwanted(delivery, endpoint)
        if reason:
            return record_attempt(delivery, now=now, error=reason, final=True)
        assert endpoint is not None  # noqa: S101 - checked by event_unwanted()
        try:
            url = endpoint_secret(endpoint, "sealed_url")
            secret = endpoint_secret(endpoint, "sealed_secret")
        except secretbox.BoxError:
            error = _("the endpoint's address cannot be read (was SECRET_KEY changed?)")
            return record_attempt(delivery, now=now, error=error)
        if not secret:
            # An env:NAME secret whose variable is not set: never send an unsigned event.
            error = _("the endpoint's signing secret is empty (is its variable set?)")
            return record_attempt(delivery, now=now, error=error)
        body = json.loads(delivery.body)
        try:
            robots.post_event(
                url,
                secret,
                body=delivery.body.encode(),
                event=str(body.get("type", "")),
                delivery=str(delivery.pk),
                timeout=settings.ROBOT_TIMEOUT,
            )
        except robots.DeliveryError as exc:
            return record_attempt(delivery, now=now, error=str(exc), final=exc.permanent)
        except Exception as exc:  # a fault of ours: recorded (its kind only, never the URL)
            return record_attempt(delivery, now=now, error=type(exc).__name__)
    return record_attempt(delivery, now=timezone.now())


def requeue_stale(*, now: datetime) -> int:
    """Hand back deliveries left "sending" by a worker that died mid-send (taken more than
    ``STALE_AFTER`` ago: ``claimed_at``). The interrupted send counts as an attempt, so a
    message that kills its worker every time ends failed instead of looping."""
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_AFTER)
    with override(settings.LANGUAGE_CODE):
        error = _("interrupted while sending")
    with transaction.atomic():
        failed = stale.filter(attempts__gte=settings.NOTIFY_ATTEMPTS - 1).update(
            status=Status.FAILED, claim="", attempts=F("attempts") + 1, last_error=error
        )
        handed = stale.update(
            status=Status.RETRYING, claim="", attempts=F("attempts") + 1, last_error=error
        )
    return failed + handed


def due_ids(*, now: datetime, channel: str | None = None, limit: int = 10_000) -> list[int]:
    """Deliveries queued or waiting for a retry whose time has come (for the sweeper)."""
    rows = Delivery.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        status__in=[Status.QUEUED, Status.RETRYING],
    )
    if channel is not None:
        rows = rows.filter(channel=channel)
    return list(rows.order_by("pk").values_list("pk", flat=True)[:limit])


# --- Digest ---------------------------------------------------------------------------------


def digest(*, now: datetime) -> list[int]:
    """Gather each person's held e-mails into one digest delivery (pushed to the end of
    their quiet hours when the digest hour falls in them); the digests' ids."""
    held = (
        Delivery.objects.filter(status=Status.HELD, channel=Channel.EMAIL)
        .order_by("user_id", "created_at", "pk")
        .values_list("pk", "user_id", "subject", "url")
    )
    by_user: dict[int, list[tuple[int, str, str]]] = {}
    for pk, user_id, subject, url in held:
        by_user.setdefault(user_id, []).append((pk, subject, url))
    prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=list(by_user))}
    made = []
    with override(settings.LANGUAGE_CODE), transaction.atomic():
        footer = preferences_footer()
        for user_id, items in by_user.items():
            # Only rows still held: a concurrent digest cannot gather them twice.
            gathered = Delivery.objects.filter(
                pk__in=[pk for pk, _s, _u in items], status=Status.HELD
            ).update(status=Status.DIGESTED, sent_at=now)
            if not gathered:
                continue
            lines = [f"- {subject}\n  {site_link(url)}" for _pk, subject, url in items]
            pref = prefs.get(user_id)
            digest_row = Delivery.objects.create(
                channel=Channel.EMAIL,
                user_id=user_id,
                batch=new_batch(),
                subject=_("gongkai: %(count)d notices today") % {"count": len(items)},
                body="\n".join(lines) + f"\n\n-- \n{footer}",
                url=reverse("notifications:list"),
                not_before=in_quiet_hours(pref, now) if pref is not None else None,
            )
            made.append(digest_row.pk)
    return made


def digest_hour_utc() -> int:
    """The UTC hour of ``NOTIFY_DIGEST_HOUR`` site time (the site's zone has no DST)."""
    zone = timezone.get_default_timezone()
    offset = datetime.combine(timezone.now().date(), time(12), zone).utcoffset() or timedelta()
    return int((settings.NOTIFY_DIGEST_HOUR - offset.total_seconds() / 3600) % 24)
