"""What the notice pages read: robots, event endpoints, deliveries and failed tasks, each
within the reader's scope (``NOTICE_MANAGE`` for robots and notices, ``EVENTS_MANAGE`` for
event endpoints: the union office, on its units' subtrees).

A robot is in scope when its unit is; an event endpoint when every one of its units is (an
endpoint of two companies is managed only by whoever holds both); a delivery when its
robot's unit is, or its person's unit is (a person without a unit only for a holder on a
top-level unit, as ``policy.rules.can_on_person`` decides), or its endpoint is. Failed
background tasks belong to no unit: only a holder on a top-level unit reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from gongkai.accounts.models import User
from gongkai.notify.models import Delivery, EventEndpoint, EventKind, Robot, TaskFailure
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, require, visible_scope_paths

OWN_DELIVERIES = 20


def scope_roots(user: Any) -> list[str]:
    return visible_scope_paths(user, Action.NOTICE_MANAGE)


def is_top_level(path: str) -> bool:
    return path.count("/") == 2


def _under(field: str, roots: list[str]) -> Q:
    """``field`` (a path) in one of the subtrees; matches nothing without roots."""
    if not roots:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": root}) for root in roots))


def manageable_units(user: Any) -> QuerySet[OrgUnit]:
    """The active units on which ``user`` may set up robots, in tree order."""
    return OrgUnit.objects.filter(_under("path", scope_roots(user)), is_active=True).order_by(
        "path"
    )


def robots_for(user: Any) -> QuerySet[Robot]:
    return (
        Robot.objects.filter(_under("unit__path", scope_roots(user)))
        .select_related("unit")
        .order_by("unit__path", "name", "pk")
    )


def robot_for(user: Any, pk: int) -> Robot:
    """The robot ``pk`` when it is in ``user``'s scope: 403 for someone who manages no
    robots at all, 404 for a robot outside their units, as for a missing one (another
    company's robots are not even confirmed to exist)."""
    require(user, Action.NOTICE_MANAGE)
    robot = robots_for(user).filter(pk=pk).first()
    if robot is None:
        raise Http404
    return robot


def event_roots(user: Any) -> list[str]:
    return visible_scope_paths(user, Action.EVENTS_MANAGE)


def event_units(user: Any) -> QuerySet[OrgUnit]:
    """The active units whose events ``user`` may register, in tree order."""
    return OrgUnit.objects.filter(_under("path", event_roots(user)), is_active=True).order_by(
        "path"
    )


def endpoints_for(user: Any) -> QuerySet[EventEndpoint]:
    """The endpoints in ``user``'s charge: those with units, all of them within the user's
    subtrees (``EVENTS_MANAGE``)."""
    links = EventEndpoint.units.through.objects.filter(eventendpoint_id=OuterRef("pk"))
    stray = links.exclude(_under("orgunit__path", event_roots(user)))
    return (
        EventEndpoint.objects.filter(Exists(links), ~Exists(stray))
        .prefetch_related("units")
        .order_by("name", "pk")
    )


def endpoint_for(user: Any, pk: int) -> EventEndpoint:
    """Like :func:`robot_for`: 403 for someone who manages no endpoints, 404 for one
    outside their charge, as for a missing one."""
    require(user, Action.EVENTS_MANAGE)
    found = endpoints_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def may_see_deliveries(user: Any) -> bool:
    """The delivery log is the union office's: of notices, or of events, or both."""
    return can(user, Action.NOTICE_MANAGE) or can(user, Action.EVENTS_MANAGE)


def deliveries_for(
    user: Any,
    *,
    status: str = "",
    channel: str = "",
    robot: int | None = None,
    endpoint: int | None = None,
) -> QuerySet[Delivery]:
    """The delivery log in ``user``'s scope, newest first, filtered: notices within their
    ``NOTICE_MANAGE`` subtrees, events of the endpoints in their charge."""
    roots = scope_roots(user)
    scope = _under("robot__unit__path", roots) | _under("user__unit__path", roots)
    if any(is_top_level(root) for root in roots):
        scope |= Q(user__isnull=False, user__unit__isnull=True)
    if can(user, Action.EVENTS_MANAGE):
        scope |= Q(endpoint__in=endpoints_for(user).values("pk"))
    rows = Delivery.objects.filter(scope)
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if robot is not None:
        rows = rows.filter(robot_id=robot)
    if endpoint is not None:
        rows = rows.filter(endpoint_id=endpoint)
    return (
        rows.select_related("user", "robot", "robot__unit", "endpoint")
        .defer("body", "log")
        .order_by("-created_at", "-pk")
    )


def delivery_for(user: Any, pk: int) -> Delivery:
    """Like :func:`robot_for`: 403 without the right, 404 outside the reader's units."""
    if not may_see_deliveries(user):
        raise PermissionDenied
    found = deliveries_for(user).defer(None).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def own_deliveries(user: User) -> list[Delivery]:
    """The person's own e-mails, newest first (the last :data:`OWN_DELIVERIES`)."""
    return list(
        Delivery.objects.filter(user=user, channel=Delivery.Channel.EMAIL)
        .only("pk", "subject", "status", "created_at", "sent_at", "channel")
        .order_by("-created_at", "-pk")[:OWN_DELIVERIES]
    )


def may_see_failures(user: Any) -> bool:
    """Failed background tasks concern the whole site: only the union office of a top-level
    unit reads them."""
    return any(is_top_level(root) for root in scope_roots(user))


def failures() -> QuerySet[TaskFailure]:
    return TaskFailure.objects.order_by("-at", "-pk")


def task_failures(task: str, *, since: datetime) -> QuerySet[TaskFailure]:
    """The recorded failures, since ``since``, of the background tasks whose name contains
    ``task`` (``"release_due"``), newest first: for a part to tell its own readers that its
    task failed. Only the time and the task are for them; the error is the union office's."""
    return TaskFailure.objects.filter(task__contains=task, at__gte=since).order_by("-at", "-pk")


# --- What is shown of a robot and of an error ------------------------------------------------


@dataclass(frozen=True)
class EndpointRow:
    """An endpoint as the pages show it: its units and events, a hint of its address."""

    endpoint: EventEndpoint
    units: list[OrgUnit]
    events: list[str]


def endpoint_row(endpoint: EventEndpoint) -> EndpointRow:
    labels = dict(EventKind.choices)
    units = sorted(endpoint.units.all(), key=lambda u: u.path)
    return EndpointRow(endpoint, units, [str(labels.get(k, k)) for k in endpoint.events])


@dataclass(frozen=True)
class RobotRow:
    """A robot as the pages show it: never its address or secret, only a hint."""

    robot: Robot
    hint: str
    secret_set: bool


def robot_row(robot: Robot) -> RobotRow:
    return RobotRow(robot, robot.url_hint, bool(bytes(robot.sealed_secret or b"")))


# A query string (a WeCom key, a DingTalk access token) or the token at the end of a Feishu
# hook's path, as they may appear in an error message (urllib3: "... with url: /robot/send?
# access_token=…"), are cut before an error is shown.
_QUERY = re.compile(r"\?[^\s'\"<>)]*")
_HOOK_TOKEN = re.compile(r"(/hook/)[^\s/'\"<>)?]+")


def scrub(text: str) -> str:
    """``text`` without anything of a robot's address that is secret."""
    return _HOOK_TOKEN.sub(r"\1…", _QUERY.sub("?…", text or ""))


def address_hint(value: str) -> str:
    """What is shown of an address: the host (and port), or the name of the environment
    variable an ``env:`` reference names."""
    if value.startswith("env:"):
        return value[:100]
    parts = urlsplit(value)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return (f"{host}:{port}" if port else host)[:100]
