"""The outbound events of publicity windows (gongkai.notify.events): ``publicity.opened``
and ``publicity.closed``.

A window opens and closes by date (``Publicity.state_on``), not by a service call: nothing
changes in the database on the day it opens or the day after it ends. So the events come
from where the date is noticed: :func:`announce_windows`, run every hour by
``publicity.tasks.window_events``, emits "opened" for each window whose first day has come
and "closed" for each whose last day has passed, looking back :data:`LOOKBACK_DAYS` days (a
stopped worker catches up). A window opened by :func:`~gongkai.publicity.services.
publicity_open` to start today is told at once, from that service. Each event's id is fixed
by the window and the change (``key``), and an event with a key is written once, so the
hourly runs and the service never tell a window's opening twice.

The events are internal (only signed-in readers of the disclosure see its windows) and carry
what those readers see: the kind, the dates, the disclosure's title and link, and, once
closed, how many objections were filed. Never an objection's text or who filed it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from gongkai.disclosure.models import DisclosureStatus
from gongkai.notify.events import Audience, absolute, emit, moment
from gongkai.notify.models import EventKind
from gongkai.publicity.models import Publicity

LOOKBACK_DAYS = 7


def start_of(day: date) -> datetime:
    """The first moment of ``day`` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def opened_at(publicity: Publicity) -> datetime:
    """When the window opened: the start of its first day, or when it was created on that
    day (a window opened to start today)."""
    return max(start_of(publicity.starts_on), publicity.created_at)


def window_data(publicity: Publicity) -> dict[str, object]:
    disclosure = publicity.disclosure
    revision = disclosure.published_revision
    title = revision.title if revision is not None else disclosure.title
    return {
        "publicity": publicity.pk,
        "kind": publicity.kind,
        "starts_on": publicity.starts_on.isoformat(),
        "ends_on": publicity.ends_on.isoformat(),
        "title": title,
        "disclosure": {
            "id": disclosure.pk,
            "title": title,
            "url": absolute(reverse("disclosure:detail", args=[disclosure.pk])),
        },
        "url": absolute(reverse("publicity:detail", args=[publicity.pk])),
    }


def emit_opened(publicity: Publicity) -> None:
    emit(
        EventKind.PUBLICITY_OPENED,
        unit=publicity.disclosure.unit,
        audience=Audience.INTERNAL,
        data=window_data(publicity),
        occurred_at=opened_at(publicity),
        key=f"publicity.opened:{publicity.pk}",
    )


def emit_closed(publicity: Publicity, *, objections: int) -> None:
    closed_at = start_of(publicity.ends_on + timedelta(days=1))
    emit(
        EventKind.PUBLICITY_CLOSED,
        unit=publicity.disclosure.unit,
        audience=Audience.INTERNAL,
        data=window_data(publicity) | {"objections": objections, "closed_at": moment(closed_at)},
        occurred_at=closed_at,
        key=f"publicity.closed:{publicity.pk}",
    )


def announce_windows(today: date) -> int:
    """Emit the events of the windows that opened or closed in the last
    :data:`LOOKBACK_DAYS` days up to ``today`` (local date), each once; windows of a
    withdrawn disclosure are not told. Returns how many windows were looked at."""
    since = today - timedelta(days=LOOKBACK_DAYS)
    windows = Publicity.objects.select_related(
        "disclosure__unit", "disclosure__published_revision"
    ).exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
    opened = list(windows.filter(starts_on__gte=since, starts_on__lte=today).order_by("pk"))
    closed = list(
        windows.filter(ends_on__gte=since - timedelta(days=1), ends_on__lt=today)
        .annotate(filed=Count("objections"))
        .order_by("pk")
    )
    for publicity in opened:
        with transaction.atomic():
            emit_opened(publicity)
    for publicity in closed:
        with transaction.atomic():
            emit_closed(publicity, objections=publicity.filed)
    return len(opened) + len(closed)
