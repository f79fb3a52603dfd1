"""Changes made on the notice pages: a person's preferences, the union office's chat robots
and outbound event endpoints, and the record of failed background tasks.

Every function is keyword-only, runs in one transaction and writes its audit event in it. A
robot's address and signing secret are sealed (``outbox.seal_secret``) before they touch the
database and never leave it again through these pages or the audit log: an event says only
the host and whether a secret is set.

**Robot addresses.** Only ``http``/``https`` URLs (or an ``env:NAME`` reference, read by the
worker when it sends). For WeCom, DingTalk and Feishu the address must have the documented
shape (WeCom ``/cgi-bin/webhook/send?key=…``, DingTalk ``/robot/send?access_token=…``, Feishu
``/open-apis/bot/v2/hook/…``), so that a pasted address of the wrong platform or a truncated
one is caught when it is entered, not when the first notice is lost. The platform's own host
must be reached over HTTPS (the key is in the address). Another host is allowed only when
the union office says it is their own relay (``relay``): a plant network often reaches the
internet only through an intranet proxy, so refusing other hosts would make robots unusable
there, while accepting them silently would let a typo'd host receive the key. Over a relay,
plain HTTP is accepted (an intranet hop), and the path must still end with the platform's.
A plain signed webhook may be any http(s) address.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.queue import after_commit
from gongkai.core.text import clean_text
from gongkai.notify import events, outbox, tasks
from gongkai.notify.models import (
    INTERNAL_ONLY_EVENTS,
    Delivery,
    EventEndpoint,
    EventKind,
    Notification,
    Preference,
    Robot,
    TaskFailure,
)
from gongkai.notify.selectors import address_hint, scrub
from gongkai.notify.services import notify
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, holders

logger = logging.getLogger(__name__)

Channel = Delivery.Channel

ROBOT_PLATFORMS = tuple(outbox.ROBOT_CHANNELS)
MAX_ADDRESS = 1000
MAX_SECRET = 500
ENV_REFERENCE = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]{0,99}")
# The documented host(s) and path of each platform's robot, and the query parameter that
# carries its key (None: the key is the last part of the path).
OFFICIAL_HOSTS: dict[str, frozenset[str]] = {
    Channel.WECOM: frozenset({"qyapi.weixin.qq.com"}),
    Channel.DINGTALK: frozenset({"oapi.dingtalk.com"}),
    Channel.FEISHU: frozenset({"open.feishu.cn", "open.larksuite.com"}),
}
PATHS: dict[str, re.Pattern[str]] = {
    Channel.WECOM: re.compile(r"/cgi-bin/webhook/send"),
    Channel.DINGTALK: re.compile(r"/robot/send"),
    Channel.FEISHU: re.compile(r"/open-apis/bot/v2/hook/[A-Za-z0-9_-]+"),
}
RELAY_PATHS: dict[str, re.Pattern[str]] = {
    platform: re.compile(r"(?:/[^?#]*)?" + shape.pattern) for platform, shape in PATHS.items()
}
KEY_PARAMETER: dict[str, str] = {Channel.WECOM: "key", Channel.DINGTALK: "access_token"}
EXAMPLES: dict[str, str] = {
    Channel.WECOM: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    Channel.DINGTALK: "https://oapi.dingtalk.com/robot/send?access_token=…",
    Channel.FEISHU: "https://open.feishu.cn/open-apis/bot/v2/hook/…",
}
PLATFORM_NAMES: dict[str, Any] = {
    Channel.WECOM: gettext_lazy("WeCom"),
    Channel.DINGTALK: gettext_lazy("DingTalk"),
    Channel.FEISHU: gettext_lazy("Feishu"),
}
UNSIGNED = frozenset({Channel.WECOM})  # WeCom group robots take no signing secret
TEST_LIMIT = 3  # test messages per robot ...
TEST_WINDOW = timedelta(minutes=10)  # ... in this time
TEST_BATCH = "test-"
FAILURE_NOTICE_EVERY = timedelta(hours=1)  # one notice per task name, at most, in this time
# The tasks that carry notices themselves: a failure of one is told in-app only, so that
# telling it cannot start another failing one.
NOTICE_TASKS = frozenset(
    {"gongkai.notify.tasks.fan_out_personal", "gongkai.notify.tasks.send_emails"}
)
# What the audit log says of a signing secret (never the secret itself).
SIGNING_SET = "set"
SIGNING_NOT_SET = "not set"
SIGNING_CHANGED = "replaced"
SIGNING_REMOVED = "removed"


# --- Preferences ----------------------------------------------------------------------------


def _time_text(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def check_quiet_hours(quiet_from: time | None, quiet_until: time | None) -> None:
    if (quiet_from is None) != (quiet_until is None):
        field = "quiet_until" if quiet_until is None else "quiet_from"
        raise ServiceError(
            _("Give both the start and the end of your quiet hours, or neither."), field=field
        )
    if quiet_from is not None and quiet_from == quiet_until:
        raise ServiceError(
            _(
                "Quiet hours cannot start and end at the same time. To stop e-mails "
                "altogether, turn e-mail off."
            ),
            field="quiet_until",
        )


@transaction.atomic
def preference_save(
    *,
    actor: User,
    email: bool,
    timing: str,
    board_news: bool,
    quiet_from: time | None,
    quiet_until: time | None,
) -> Preference:
    """Set ``actor``'s own notice preference. Quiet hours: both or neither, and not empty;
    they may run over midnight (22:00 → 07:00)."""
    if timing not in Preference.Timing.values:
        raise ServiceError(_("Choose at once or one daily digest."), field="timing")
    check_quiet_hours(quiet_from, quiet_until)
    if quiet_from is not None:
        quiet_from = quiet_from.replace(second=0, microsecond=0, tzinfo=None)
    if quiet_until is not None:
        quiet_until = quiet_until.replace(second=0, microsecond=0, tzinfo=None)
    pref, _created = Preference.objects.select_for_update().get_or_create(user=actor)
    old = {
        "email": _yes(pref.email),
        "timing": pref.timing,
        "board_news": _yes(pref.board_news),
        "quiet_from": _time_text(pref.quiet_from),
        "quiet_until": _time_text(pref.quiet_until),
    }
    new = {
        "email": _yes(email),
        "timing": timing,
        "board_news": _yes(board_news),
        "quiet_from": _time_text(quiet_from),
        "quiet_until": _time_text(quiet_until),
    }
    pref.email, pref.timing, pref.board_news = email, timing, board_news
    pref.quiet_from, pref.quiet_until = quiet_from, quiet_until
    pref.save()
    before = {k: v for k, v in old.items() if v != new[k]}
    if before:
        record_event(
            actor=actor,
            action="notify.preference_changed",
            target=pref,
            unit=actor.unit,
            target_label=str(actor),
            before=before,
            after={k: new[k] for k in before},
        )
    return pref


# --- Robots ---------------------------------------------------------------------------------


def _refuse_control(value: str, *, field: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in value):
        raise ServiceError(
            _("The address must not contain spaces, line breaks or control characters."),
            field=field,
        )


def check_address(platform: str, value: str, *, relay: bool = False) -> str:
    """``value`` as it will be stored (stripped); a ServiceError on ``address`` when it is
    not an address of ``platform`` (see the module's note)."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("Enter the robot's address."), field="address")
    if len(value) > MAX_ADDRESS:
        raise ServiceError(
            _("The address is too long (at most %(limit)s characters).") % {"limit": MAX_ADDRESS},
            field="address",
        )
    _refuse_control(value, field="address")
    if value.startswith("env:"):
        if not ENV_REFERENCE.fullmatch(value):
            raise ServiceError(
                _(
                    "An environment reference is env: followed by the variable's name "
                    "(letters, digits and underscores), for example env:WECOM_UNION_URL."
                ),
                field="address",
            )
        return value
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = ""
    if scheme not in ("http", "https") or not host:
        raise ServiceError(
            _("Enter a web address starting with https:// (or http:// inside your network)."),
            field="address",
        )
    if platform not in PATHS:
        return value  # a signed webhook: any http(s) address
    name = PLATFORM_NAMES[platform]
    official = host in OFFICIAL_HOSTS[platform]
    # The platform's own host: exactly its path. A relay may put that path under a prefix
    # of its own, so the path must end with it.
    shape = PATHS[platform] if official else RELAY_PATHS[platform]
    shape_ok = shape.fullmatch(parts.path) is not None
    key = KEY_PARAMETER.get(platform)
    if key is not None and not parse_qs(parts.query).get(key, [""])[0].strip():
        shape_ok = False
    if not shape_ok:
        raise ServiceError(
            _(
                "This is not the address of a %(platform)s robot. Copy the whole address "
                "from the robot's settings; it looks like %(example)s"
            )
            % {"platform": name, "example": EXAMPLES[platform]},
            field="address",
        )
    if official and scheme != "https":
        raise ServiceError(
            _("%(platform)s is reached over HTTPS: the address must start with https://.")
            % {"platform": name},
            field="address",
        )
    if not official and not relay:
        raise ServiceError(
            _(
                "%(host)s is not %(platform)s's own address (%(official)s). If it is your own "
                "relay to %(platform)s (an intranet proxy), tick “This is our relay” and save "
                "again."
            )
            % {
                "host": host,
                "platform": name,
                "official": ", ".join(sorted(OFFICIAL_HOSTS[platform])),
            },
            field="address",
        )
    return value


def check_secret(platform: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if platform in UNSIGNED:
        raise ServiceError(
            _("WeCom group robots are not signed: leave the signing secret empty."),
            field="secret",
        )
    if len(value) > MAX_SECRET:
        raise ServiceError(
            _("The signing secret is too long (at most %(limit)s characters).")
            % {"limit": MAX_SECRET},
            field="secret",
        )
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in value):
        raise ServiceError(
            _("The signing secret must not contain spaces or control characters."),
            field="secret",
        )
    if value.startswith("env:") and not ENV_REFERENCE.fullmatch(value):
        raise ServiceError(
            _(
                "An environment reference is env: followed by the variable's name "
                "(letters, digits and underscores), for example env:DINGTALK_SECRET."
            ),
            field="secret",
        )
    return value


def _check_platform(platform: str) -> None:
    if platform not in ROBOT_PLATFORMS:
        raise ServiceError(_("Choose the robot's platform."), field="platform")


def _check_name(name: str) -> str:
    return clean_text(
        name,
        field="name",
        limit=100,
        empty=_("Give the robot a name (for example, the group chat it posts to)."),
        too_long=_("The name is too long (at most 100 characters)."),
    )


def _require_manage(actor: User, unit: OrgUnit) -> None:
    if not can(actor, Action.NOTICE_MANAGE, unit):
        raise ServiceError(_("You may not manage the chat robots of this unit."), field="unit")


def _secret_state(robot: Robot) -> str:
    return SIGNING_SET if bytes(robot.sealed_secret or b"") else SIGNING_NOT_SET


def _locked(robot: Robot) -> Robot:
    current = Robot.objects.select_for_update().select_related("unit").filter(pk=robot.pk).first()
    if current is None:
        raise ServiceError(_("This robot was deleted in the meantime."))
    return current


@transaction.atomic
def robot_create(
    *,
    actor: User,
    unit: OrgUnit,
    name: str,
    platform: str,
    address: str,
    secret: str = "",
    relay: bool = False,
) -> Robot:
    """A new robot of ``unit``, enabled: the unit's notices go to its group chat."""
    _require_manage(actor, unit)
    if not unit.is_active:
        raise ServiceError(_("This unit is no longer active."), field="unit")
    name = _check_name(name)
    _check_platform(platform)
    address = check_address(platform, address, relay=relay)
    secret = check_secret(platform, secret)
    robot = Robot.objects.create(
        unit=unit,
        name=name,
        platform=platform,
        sealed_url=outbox.seal_secret(unit.pk, "sealed_url", address),
        sealed_secret=outbox.seal_secret(unit.pk, "sealed_secret", secret),
        url_hint=address_hint(address),
        enabled=True,
        created_by=actor,
    )
    record_event(
        actor=actor,
        action="notify.robot_added",
        target=robot,
        unit=unit,
        after={
            "unit": unit.name,
            "name": name,
            "platform": platform,
            "address": robot.url_hint,
            "secret": _secret_state(robot),
        },
    )
    return robot


@transaction.atomic
def robot_update(
    *,
    actor: User,
    robot: Robot,
    name: str,
    platform: str,
    address: str = "",
    secret: str = "",
    clear_secret: bool = False,
    relay: bool = False,
) -> Robot:
    """Change a robot. An empty ``address`` or ``secret`` keeps the stored one (which is
    never shown); a new platform needs its address entered again."""
    robot = _locked(robot)
    _require_manage(actor, robot.unit)
    name = _check_name(name)
    _check_platform(platform)
    if platform != robot.platform and not (address or "").strip():
        raise ServiceError(
            _("Enter the address again: a robot of another platform has another address."),
            field="address",
        )
    if clear_secret and (secret or "").strip():
        raise ServiceError(
            _("Either enter a new signing secret or remove it, not both."), field="secret"
        )
    old = {
        "name": robot.name,
        "platform": robot.platform,
        "address": robot.url_hint,
        "secret": _secret_state(robot),
    }
    new_address = (address or "").strip()
    if new_address:
        new_address = check_address(platform, new_address, relay=relay)
        robot.sealed_url = outbox.seal_secret(robot.unit_id, "sealed_url", new_address)
        robot.url_hint = address_hint(new_address)
    new_secret = check_secret(platform, secret)
    secret_change = ""
    if new_secret:
        robot.sealed_secret = outbox.seal_secret(robot.unit_id, "sealed_secret", new_secret)
        secret_change = SIGNING_CHANGED if old["secret"] == SIGNING_SET else SIGNING_SET
    elif (clear_secret or platform in UNSIGNED) and old["secret"] == SIGNING_SET:
        robot.sealed_secret = b""
        secret_change = SIGNING_REMOVED
    robot.name, robot.platform = name, platform
    robot.save()
    new = {
        "name": name,
        "platform": platform,
        "address": robot.url_hint,
        "secret": secret_change or old["secret"],
    }
    before = {k: v for k, v in old.items() if v != new[k]}
    after = {k: new[k] for k in before}
    if new_address and "address" not in before:
        before["address"], after["address"] = old["address"], SIGNING_CHANGED
    if before:
        record_event(
            actor=actor,
            action="notify.robot_changed",
            target=robot,
            unit=robot.unit,
            before=before,
            after=after,
        )
    return robot


@transaction.atomic
def robot_set_enabled(*, actor: User, robot: Robot, enabled: bool) -> Robot:
    """Turn a robot on or off: a disabled robot receives no notices (a test message still
    reaches it, to check it before turning it on)."""
    robot = _locked(robot)
    _require_manage(actor, robot.unit)
    if robot.enabled == enabled:
        return robot
    robot.enabled = enabled
    robot.save(update_fields=["enabled"])
    record_event(
        actor=actor,
        action="notify.robot_enabled" if enabled else "notify.robot_disabled",
        target=robot,
        unit=robot.unit,
    )
    return robot


@transaction.atomic
def robot_delete(*, actor: User, robot: Robot) -> int:
    """Delete a robot, and with it its lines of the delivery log (the model's cascade); the
    audit event keeps its name, platform, host and how many deliveries went. Returns that
    number."""
    robot = _locked(robot)
    _require_manage(actor, robot.unit)
    sent = robot.deliveries.count()
    record_event(
        actor=actor,
        action="notify.robot_deleted",
        target=robot,
        unit=robot.unit,
        before={
            "unit": robot.unit.name,
            "name": robot.name,
            "platform": robot.platform,
            "address": robot.url_hint,
            "secret": _secret_state(robot),
            "deliveries": sent,
        },
    )
    robot.delete()
    return sent


def _test_quota(deliveries: QuerySet[Delivery], refusal: str) -> None:
    """At most :data:`TEST_LIMIT` test deliveries in :data:`TEST_WINDOW` to one robot or
    endpoint (``deliveries``: all of its), so that a group chat or a receiver is not
    flooded; ``refusal`` names the count and the minutes."""
    recent = deliveries.filter(
        batch__startswith=TEST_BATCH, created_at__gte=timezone.now() - TEST_WINDOW
    ).count()
    if recent >= TEST_LIMIT:
        minutes = int(TEST_WINDOW.total_seconds() // 60)
        raise ServiceError(refusal % {"count": recent, "minutes": minutes})


@transaction.atomic
def robot_test(*, actor: User, robot: Robot) -> Delivery:
    """Send a test message to this robot only: one delivery, sent by the queue once the
    transaction commits. At most :data:`TEST_LIMIT` in :data:`TEST_WINDOW` per robot, so
    that a group chat is not flooded."""
    robot = _locked(robot)
    _require_manage(actor, robot.unit)
    _test_quota(
        Delivery.objects.filter(robot=robot),
        _(
            "%(count)s test messages were sent to this robot in the last %(minutes)s "
            "minutes. Look at the delivery log, then try again later."
        ),
    )
    with override(settings.LANGUAGE_CODE):
        subject = _("gongkai: test message")
        body = _(
            "This is a test message from gongkai to the robot “%(robot)s” of %(unit)s, sent "
            "by %(person)s. If you read it here, notices of %(unit)s will arrive in this chat."
        ) % {"robot": robot.name, "unit": robot.unit.name, "person": actor.name}
    delivery = Delivery.objects.create(
        channel=robot.platform,
        robot=robot,
        batch=f"{TEST_BATCH}{uuid.uuid4().hex[: 32 - len(TEST_BATCH)]}",
        subject=subject,
        body=f"{body}\n\n{outbox.site_link('')}",
        url="",
    )
    record_event(
        actor=actor,
        action="notify.robot_tested",
        target=robot,
        unit=robot.unit,
        after={"delivery": delivery.pk},
    )
    after_commit(tasks.send_robot, delivery.pk)
    return delivery


# --- Outbound event endpoints ---------------------------------------------------------------

MAX_ENDPOINT_UNITS = 50
MIN_EVENT_SECRET = 16  # characters of a signing secret typed in (an env:NAME may be shorter)


def _check_endpoint_name(name: str) -> str:
    return clean_text(
        name,
        field="name",
        limit=100,
        empty=_("Give the endpoint a name (for example, the system that receives the events)."),
        too_long=_("The name is too long (at most 100 characters)."),
    )


def _check_endpoint_units(actor: User, units: list[OrgUnit]) -> list[OrgUnit]:
    """The chosen units, once each, in tree order: active, within the actor's charge."""
    chosen = sorted({u.pk: u for u in units}.values(), key=lambda u: u.path)
    if not chosen:
        raise ServiceError(_("Choose at least one unit."), field="units")
    if len(chosen) > MAX_ENDPOINT_UNITS:
        raise ServiceError(
            _("Choose at most %(limit)s units (a unit covers the units below it).")
            % {"limit": MAX_ENDPOINT_UNITS},
            field="units",
        )
    for unit in chosen:
        if not can(actor, Action.EVENTS_MANAGE, unit):
            raise ServiceError(
                _("You may not register events of %(unit)s.") % {"unit": unit.name},
                field="units",
            )
        if not unit.is_active:
            raise ServiceError(
                _("%(unit)s is no longer active.") % {"unit": unit.name}, field="units"
            )
    return chosen


def _check_events(events: list[str], *, sees_internal: bool) -> list[str]:
    chosen = set(events)
    if not chosen:
        raise ServiceError(_("Choose at least one event."), field="events")
    if chosen - set(EventKind.values):
        raise ServiceError(_("Choose events from the list."), field="events")
    if not sees_internal and chosen & INTERNAL_ONLY_EVENTS:
        raise ServiceError(
            _(
                "Suggestions and publicity windows are seen only by signed-in employees: to "
                "receive their events, let the endpoint also see internal items."
            ),
            field="events",
        )
    return [kind for kind in EventKind.values if kind in chosen]


def _check_sees_internal(actor: User, units: list[OrgUnit], sees_internal: bool) -> None:
    """Nobody lets a system see what they may not read themselves."""
    if sees_internal and not all(can(actor, Action.DISCLOSURE_READ_ALL, u) for u in units):
        raise ServiceError(
            _("You may not let an endpoint see internal items that you cannot read yourself."),
            field="sees_internal",
        )


def check_endpoint_address(value: str) -> str:
    if not (value or "").strip():
        raise ServiceError(_("Enter the address that receives the events."), field="address")
    return check_address(Channel.WEBHOOK, value)


def check_event_secret(value: str, *, required: bool) -> str:
    """A signing secret: every event is signed, so one is required when the endpoint is
    added; at least :data:`MIN_EVENT_SECRET` characters unless it is an ``env:NAME``."""
    value = check_secret(Channel.WEBHOOK, value)
    if not value:
        if required:
            raise ServiceError(
                _("Enter a signing secret: every event is signed with it."), field="secret"
            )
        return ""
    if not value.startswith("env:") and len(value) < MIN_EVENT_SECRET:
        raise ServiceError(
            _("The signing secret is too short (at least %(limit)s characters).")
            % {"limit": MIN_EVENT_SECRET},
            field="secret",
        )
    return value


def common_unit(units: list[OrgUnit]) -> OrgUnit | None:
    """The lowest unit above or at every unit of ``units`` (the endpoint's place in the
    audit log); None when they share no root."""
    if not units:
        return None
    chains = [u.path_ids for u in units]
    shared: list[int] = []
    for ids in zip(*chains, strict=False):
        if len(set(ids)) != 1:
            break
        shared.append(ids[0])
    if not shared:
        return None
    return OrgUnit.objects.filter(pk=shared[-1]).first()


def endpoint_in_charge(actor: Any, endpoint: EventEndpoint) -> bool:
    """Whether ``actor`` manages ``endpoint``: every one of its units is in their charge."""
    units = list(endpoint.units.all())
    return bool(units) and all(can(actor, Action.EVENTS_MANAGE, u) for u in units)


def _endpoint_facts(endpoint: EventEndpoint, units: list[OrgUnit]) -> dict[str, Any]:
    """What the audit log says of an endpoint (never its address or secret)."""
    return {
        "name": endpoint.name,
        "units": [u.code for u in units],
        "events": list(endpoint.events),
        "sees_internal": _yes(endpoint.sees_internal),
        "address": endpoint.url_hint,
    }


def _locked_endpoint(actor: User, endpoint: EventEndpoint) -> EventEndpoint:
    current = EventEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if current is None:
        raise ServiceError(_("This endpoint was deleted in the meantime."))
    if not endpoint_in_charge(actor, current):
        raise ServiceError(_("You may not manage this endpoint."))
    return current


@transaction.atomic
def endpoint_create(
    *,
    actor: User,
    name: str,
    units: list[OrgUnit],
    events: list[str],
    sees_internal: bool,
    address: str,
    secret: str,
) -> EventEndpoint:
    """A new endpoint, enabled: the chosen events of the chosen units (and the units below
    them) are sent to ``address``, signed with ``secret``."""
    name = _check_endpoint_name(name)
    chosen = _check_endpoint_units(actor, units)
    kinds = _check_events(events, sees_internal=sees_internal)
    _check_sees_internal(actor, chosen, sees_internal)
    address = check_endpoint_address(address)
    secret = check_event_secret(secret, required=True)
    endpoint = EventEndpoint.objects.create(
        name=name,
        events=kinds,
        sees_internal=sees_internal,
        sealed_url=b"",
        sealed_secret=b"",
        url_hint=address_hint(address),
        enabled=True,
        created_by=actor,
    )
    # Sealed under the endpoint's own id: a box cannot be moved to another endpoint.
    endpoint.sealed_url = outbox.seal_value(outbox.endpoint_key(endpoint.pk, "sealed_url"), address)
    endpoint.sealed_secret = outbox.seal_value(
        outbox.endpoint_key(endpoint.pk, "sealed_secret"), secret
    )
    endpoint.save(update_fields=["sealed_url", "sealed_secret"])
    endpoint.units.set(chosen)
    record_event(
        actor=actor,
        action="notify.endpoint_added",
        target=endpoint,
        unit=common_unit(chosen),
        after={**_endpoint_facts(endpoint, chosen), "secret": SIGNING_SET},
    )
    return endpoint


@transaction.atomic
def endpoint_update(
    *,
    actor: User,
    endpoint: EventEndpoint,
    name: str,
    units: list[OrgUnit],
    events: list[str],
    sees_internal: bool,
    address: str = "",
    secret: str = "",
) -> EventEndpoint:
    """Change an endpoint. An empty ``address`` or ``secret`` keeps the stored one (never
    shown). The new units must be in the actor's charge, as the old ones were."""
    endpoint = _locked_endpoint(actor, endpoint)
    old_units = list(endpoint.units.order_by("path"))
    old = _endpoint_facts(endpoint, old_units) | {"secret": SIGNING_SET}
    name = _check_endpoint_name(name)
    chosen = _check_endpoint_units(actor, units)
    kinds = _check_events(events, sees_internal=sees_internal)
    _check_sees_internal(actor, chosen, sees_internal)
    fields = ["name", "events", "sees_internal"]
    new_address = (address or "").strip()
    if new_address:
        new_address = check_endpoint_address(new_address)
        endpoint.sealed_url = outbox.seal_value(
            outbox.endpoint_key(endpoint.pk, "sealed_url"), new_address
        )
        endpoint.url_hint = address_hint(new_address)
        fields += ["sealed_url", "url_hint"]
    new_secret = check_event_secret(secret, required=False)
    if new_secret:
        endpoint.sealed_secret = outbox.seal_value(
            outbox.endpoint_key(endpoint.pk, "sealed_secret"), new_secret
        )
        fields.append("sealed_secret")
    endpoint.name, endpoint.events, endpoint.sees_internal = name, kinds, sees_internal
    endpoint.save(update_fields=fields)
    if [u.pk for u in chosen] != [u.pk for u in old_units]:
        endpoint.units.set(chosen)
    new = _endpoint_facts(endpoint, chosen) | {
        "secret": SIGNING_CHANGED if new_secret else SIGNING_SET
    }
    before = {k: v for k, v in old.items() if v != new[k]}
    after = {k: new[k] for k in before}
    if new_address and "address" not in before:
        before["address"], after["address"] = old["address"], SIGNING_CHANGED
    if before:
        record_event(
            actor=actor,
            action="notify.endpoint_changed",
            target=endpoint,
            unit=common_unit(chosen),
            before=before,
            after=after,
        )
    return endpoint


@transaction.atomic
def endpoint_set_enabled(*, actor: User, endpoint: EventEndpoint, enabled: bool) -> EventEndpoint:
    """Turn an endpoint on or off: a disabled endpoint is sent no events, not even those
    waiting for a retry (a test event still goes, to check it before turning it on)."""
    endpoint = _locked_endpoint(actor, endpoint)
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    endpoint.save(update_fields=["enabled"])
    record_event(
        actor=actor,
        action="notify.endpoint_enabled" if enabled else "notify.endpoint_disabled",
        target=endpoint,
        unit=common_unit(list(endpoint.units.all())),
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: EventEndpoint) -> int:
    """Delete an endpoint and, with it, its lines of the delivery log (as for a robot: the
    log is read through the endpoint's units, and its bodies hold items' data that should
    not outlive the integration). The audit event keeps its name, units, events, host and
    how many deliveries went. Returns that number."""
    endpoint = _locked_endpoint(actor, endpoint)
    units = list(endpoint.units.order_by("path"))
    sent = endpoint.deliveries.count()
    record_event(
        actor=actor,
        action="notify.endpoint_deleted",
        target=endpoint,
        unit=common_unit(units),
        before={**_endpoint_facts(endpoint, units), "deliveries": sent},
    )
    endpoint.delete()
    return sent


@transaction.atomic
def endpoint_test(*, actor: User, endpoint: EventEndpoint) -> Delivery:
    """Send a test event (type ``test``, no item's data) to this endpoint only, also when
    it is disabled; at most :data:`TEST_LIMIT` in :data:`TEST_WINDOW` per endpoint."""
    endpoint = _locked_endpoint(actor, endpoint)
    now = timezone.now()
    _test_quota(
        Delivery.objects.filter(endpoint=endpoint),
        _(
            "%(count)s test events were sent to this endpoint in the last %(minutes)s "
            "minutes. Look at the delivery log, then try again later."
        ),
    )
    ident = f"{TEST_BATCH}{uuid.uuid4().hex[: 32 - len(TEST_BATCH)]}"
    with override(settings.LANGUAGE_CODE):
        message = _(
            "This is a test event from gongkai to the endpoint “%(endpoint)s”, sent by %(person)s."
        ) % {"endpoint": endpoint.name, "person": actor.name}
    body = events.body_of(
        ident=ident,
        kind=outbox.TEST_EVENT,
        occurred_at=now,
        unit=None,
        audience=events.Audience.PUBLIC,
        data={"message": message, "site": outbox.site_link("")},
    )
    delivery = Delivery.objects.create(
        channel=Channel.EVENT,
        endpoint=endpoint,
        batch=ident,
        subject=outbox.TEST_EVENT,
        body=body,
        url="",
    )
    record_event(
        actor=actor,
        action="notify.endpoint_tested",
        target=endpoint,
        unit=common_unit(list(endpoint.units.all())),
        after={"delivery": delivery.pk},
    )
    after_commit(tasks.send_event, delivery.pk)
    return delivery


# --- Failed background tasks ----------------------------------------------------------------


def task_name(task: Any) -> str:
    """A Huey task's full name: its module and function (``gongkai.notify.tasks.send_robot``)."""
    name = getattr(task, "name", "") or type(task).__name__
    module = getattr(type(task), "__module__", "") or ""
    return (f"{module}.{name}" if module and not module.startswith("huey") else name)[:100]


def error_text(exc: BaseException | None) -> str:
    if exc is None:
        return _("timed out")
    text = f"{type(exc).__name__}: {exc}".replace("\x00", "")
    return scrub(text)[:500]


def record_task_failure(*, task: str, task_id: str, error: str, final: bool) -> TaskFailure:
    """Record one failed attempt of a background task; when it was the last one, tell the
    union office (see :func:`tell_union_office`)."""
    with transaction.atomic():
        failure = TaskFailure.objects.create(
            task=task[:100], task_id=task_id[:64], error=error[:500], final=final
        )
    if final:
        tell_union_office(failure)
    return failure


def tell_union_office(failure: TaskFailure) -> int:
    """Tell the union office of every top-level unit (``NOTICE_MANAGE`` there) that a task
    failed for good, at most once an hour per task: the failures page lists every one.
    A task that carries notices is told in-app only. Returns how many were told."""
    earlier = (
        TaskFailure.objects.filter(
            task=failure.task, final=True, at__gte=failure.at - FAILURE_NOTICE_EVERY
        )
        .exclude(pk=failure.pk)
        .exists()
    )
    if earlier:
        return 0
    people: dict[int, User] = {}
    for top in OrgUnit.objects.filter(depth=1, is_active=True):
        people.update({u.pk: u for u in holders(Action.NOTICE_MANAGE, top)})
    if not people:
        return 0
    with override(settings.LANGUAGE_CODE):
        message = _(
            "A background task failed and will not be retried: %(task)s (%(error)s). See the "
            "failed tasks."
        ) % {"task": failure.task.rsplit(".", 1)[-1], "error": failure.error[:120]}
    url = reverse("notifications:failures")
    with transaction.atomic():
        if failure.task in NOTICE_TASKS:
            Notification.objects.bulk_create(
                [Notification(user=u, message=message[:300], url=url) for u in people.values()]
            )
        else:
            notify(users=people.values(), message=message, url=url)
    return len(people)


def on_task_error(signal: str, task: Any, exc: BaseException | None = None, *args: Any) -> None:
    """Huey's SIGNAL_ERROR (and SIGNAL_TIMEOUT) receiver: record the failed attempt. It never
    raises: a failure to record is logged, and the worker goes on."""
    try:
        record_task_failure(
            task=task_name(task),
            task_id=str(getattr(task, "id", "") or ""),
            error=error_text(exc),
            final=not getattr(task, "retries", 0),
        )
    except Exception:  # the hook must never break the worker
        logger.exception("Could not record the failure of task %r", task)
