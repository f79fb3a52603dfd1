"""Outbound events (gongkai.notify.events): endpoints registered by the union office receive,
on a loopback HTTP receiver that verifies each signature as a receiver would, the events of
their units that they asked for, with only what they may see; retried, failed, once each;
the pages and who may use them; hostile input."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.disclosure.services import Transition, disclosure_transition, disclosure_update
from gongkai.ledger.models import LedgerEntry
from gongkai.notify import admin_services, events, outbox, tasks
from gongkai.notify.models import Delivery, EventEndpoint, EventKind
from gongkai.notify.services import in_app_only
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from gongkai.policy.rules import Action, can
from gongkai.publicity.events import announce_windows
from gongkai.publicity.services import objection_file, publicity_open
from gongkai.voice import services as voice
from gongkai.voice.models import SuggestionCategory
from tests.conftest import Org
from tests.factories import UserFactory, approve_through, published_disclosure
from tests.queue import empty_queue, run_scheduled  # noqa: F401 - fixture
from tests.receivers import Answer, RobotReceiver, as_json

pytestmark = pytest.mark.usefixtures("empty_queue")

SITE = "https://gk.example"
SECRET = "SECevt-7f3a91c2d4e5b6a7-shared"
TZ = ZoneInfo("Asia/Shanghai")
PUBLIC_KINDS = [
    EventKind.DISCLOSURE_PUBLISHED,
    EventKind.DISCLOSURE_CORRECTED,
    EventKind.DISCLOSURE_WITHDRAWN,
]
Status = Delivery.Status


# --- The receiver ---------------------------------------------------------------------------

EVENTS_PREFIX = "/events/"
FRESH = 300  # seconds a timestamp may be away from the receiver's clock


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """What a receiver does with each request (the docs' example): a fresh timestamp, and
    the signature over "timestamp." + the raw body compared in constant time."""
    timestamp = headers.get("x-gongkai-timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > FRESH:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers.get("x-gongkai-signature", ""), "sha256=" + mac.hexdigest())


@dataclass
class Received:
    key: str
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def data(self) -> dict[str, Any]:
        return self.body["data"]


class EventReceiver(RobotReceiver):
    """The robot receiver, plus endpoints at /events/<key> that take outbound events."""

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: dict[str, str] = {}
        self.events: list[Received] = []

    def add_endpoint(self, secret: str = SECRET) -> str:
        key = uuid.uuid4().hex
        self.endpoints[key] = secret
        return f"{self.base}{EVENTS_PREFIX}{key}"

    def answer_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([("status", status)] * count)

    def _fault(self, platform: str, how: str, detail: Any) -> Answer | None:
        if how == "status":
            return as_json(detail, {"error": "refused"})
        return super()._fault(platform, how, detail)

    def _answer(
        self, platform: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> Answer:
        if not path.startswith(EVENTS_PREFIX):
            return super()._answer(platform, path, query, headers, raw)
        key = path[len(EVENTS_PREFIX) :]
        secret = self.endpoints.get(key)
        if secret is None:
            return Answer(404, b"not found")
        if not verify(secret, headers, raw, self.now()):
            return self._refuse("event", as_json(401, {"error": "bad signature"}))
        if not headers.get("content-type", "").startswith("application/json"):
            return self._refuse("event", as_json(415, {"error": "not json"}))
        body = json.loads(raw.decode("utf-8"))
        if headers.get("x-gongkai-event") != body.get("type"):
            return self._refuse("event", as_json(400, {"error": "type header"}))
        if not headers.get("x-gongkai-delivery", "").isdigit():
            return self._refuse("event", as_json(400, {"error": "delivery header"}))
        with self._lock:
            self.events.append(Received(key, body, headers, raw))
        return Answer(204)

    def at(self, url: str) -> list[Received]:
        key = url.rsplit("/", 1)[-1]
        return [e for e in self.events if e.key == key]


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    found = EventReceiver()
    found.start()
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.NOTIFY_ATTEMPTS = 4
    settings.NOTIFY_RETRY_DELAY = 30
    settings.ROBOT_TIMEOUT = 5


@pytest.fixture
def now_commits(django_capture_on_commit_callbacks):
    """``with now_commits():`` runs what waits for the commit (the sending) at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- Helpers --------------------------------------------------------------------------------


def register(
    org: Org,
    receiver: EventReceiver,
    *,
    units=None,
    kinds=None,
    internal: bool = False,
    actor: str = "union",
    name: str = "集团档案系统",
    secret: str = SECRET,
) -> tuple[EventEndpoint, str]:
    url = receiver.add_endpoint(secret)
    if kinds is None:
        kinds = list(EventKind.values) if internal else PUBLIC_KINDS
    endpoint = admin_services.endpoint_create(
        actor=org[actor] if isinstance(actor, str) else actor,
        name=name,
        units=units if units is not None else [org.company],
        events=kinds,
        sees_internal=internal,
        address=url,
        secret=secret,
    )
    return endpoint, url


def team_defaults(unit, kw: dict[str, Any]) -> dict[str, Any]:
    """Teams publish no hospitality expenses: a team's item is its monthly bonus."""
    if unit.kind == "team":
        return {"entry_code": "team-bonus", "period": "2026-09", **kw}
    return kw


def public_item(unit, title="2026年第三季度业务招待费公开", **kw):
    return published_disclosure(unit=unit, title=title, scope="public", **team_defaults(unit, kw))


def internal_item(unit, title="INTERNAL-班组奖金分配", **kw):
    return published_disclosure(unit=unit, title=title, scope="internal", **team_defaults(unit, kw))


def other_union(org: Org):
    """The union office of the other company."""
    user = UserFactory(employee_no="other-union", name="他司工会", unit=org.other_dept)
    role_grant(actor=None, user=user, role=Role.UNION_OFFICE, unit=org.other_company)
    return user


def site_language(message: str) -> str:
    """``message`` as the sender writes it into the log: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message)


def bodies(endpoint: EventEndpoint) -> str:
    """Everything ever written for ``endpoint`` (its deliveries' subjects, bodies, links)."""
    return "\n".join(
        f"{d.subject}\n{d.body}\n{d.url}" for d in Delivery.objects.filter(endpoint=endpoint)
    )


def correct_and_republish(org: Org, item, **fields):
    item = disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.CORRECT, reason="更正金额"
    )
    item = disclosure_update(actor=org["union"], disclosure=item, **fields)
    item = disclosure_transition(actor=org["union"], disclosure=item, transition=Transition.SUBMIT)
    item = approve_through(item)
    return disclosure_transition(actor=org["union"], disclosure=item, transition=Transition.PUBLISH)


def withdraw(org: Org, item, reason: str = "REASON-重复发布"):
    return disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason=reason
    )


# --- Who receives what ----------------------------------------------------------------------


def test_a_publication_reaches_the_endpoints_that_asked_for_it_in_its_subtree(
    org, receiver, now_commits
):
    _boiler, boiler_url = register(org, receiver, units=[org.boiler])
    _turbine, turbine_url = register(org, receiver, units=[org.turbine])
    _other_kind, other_kind_url = register(org, receiver, kinds=[EventKind.DISCLOSURE_WITHDRAWN])
    _other_company, other_company_url = register(
        org, receiver, units=[org.other_company], actor=other_union(org)
    )
    _disabled, disabled_url = register(org, receiver, units=[org.boiler])
    admin_services.endpoint_set_enabled(actor=org["union"], endpoint=_disabled, enabled=False)

    with now_commits():
        item = public_item(org.boiler_team)

    [event] = receiver.at(boiler_url)
    assert event.type == "disclosure.published"
    assert event.data["disclosure"] == item.pk
    for url in (turbine_url, other_kind_url, other_company_url, disabled_url):
        assert receiver.at(url) == []
    assert len(receiver.events) == 1


def test_the_event_is_signed_and_carries_what_the_public_page_shows(org, receiver, now_commits):
    endpoint, url = register(org, receiver, units=[org.boiler])
    with now_commits():
        item = public_item(org.boiler_team)
    [event] = receiver.at(url)
    delivery = Delivery.objects.get(endpoint=endpoint)

    # The headers as documented; the signature was checked by the receiver (verify()).
    assert event.headers["content-type"].startswith("application/json")
    assert event.headers["x-gongkai-event"] == "disclosure.published"
    assert event.headers["x-gongkai-delivery"] == str(delivery.pk)
    assert event.headers["x-gongkai-signature"].startswith("sha256=")
    assert SECRET not in json.dumps(event.headers) + event.raw.decode()

    body = event.body
    assert set(body) == {"id", "type", "occurred_at", "unit", "audience", "data"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert body["occurred_at"].endswith("+08:00")
    assert datetime.fromisoformat(body["occurred_at"]).tzinfo is not None
    assert body["unit"] == {"code": org.boiler_team.code, "name": org.boiler_team.name}
    assert body["audience"] == "public"
    revision = item.published_revision
    entry = LedgerEntry.objects.filter(disclosure=item).order_by("-sequence").first()
    assert body["data"] == {
        "disclosure": item.pk,
        "title": "2026年第三季度业务招待费公开",
        "category": item.entry.category.name,
        "catalog_entry": {"code": item.entry.code, "name": item.entry.name},
        "period": item.period,
        "nothing_to_report": False,
        "revision": 1,
        "scope": "public",
        "url": f"{SITE}/public/{item.pk}/",
        "ledger_sequence": entry.sequence,
        "published_at": body["data"]["published_at"],
    }
    published_at = datetime.fromisoformat(body["data"]["published_at"])
    assert published_at == revision.published_at.replace(microsecond=0)
    # The stored body is what was signed: byte for byte.
    assert event.raw == delivery.body.encode()
    assert delivery.status == Status.SENT and delivery.attempts == 1


def test_a_public_only_endpoint_hears_nothing_of_an_internal_item(org, receiver, now_commits):
    public_only, public_url = register(org, receiver)
    internal, internal_url = register(org, receiver, internal=True)
    with now_commits():
        item = internal_item(org.boiler_team, entry_code="team-bonus", period="2026-09")
    assert receiver.at(public_url) == []
    assert not Delivery.objects.filter(endpoint=public_only).exists()
    [event] = receiver.at(internal_url)
    assert event.body["audience"] == "internal"
    assert event.data["title"] == "INTERNAL-班组奖金分配"
    assert event.data["scope"] == "internal"
    assert event.data["url"] == f"{SITE}/disclosures/{item.pk}/"  # the signed-in page

    with now_commits():
        withdraw(org, item)
    assert receiver.at(public_url) == []
    assert [e.type for e in receiver.at(internal_url)] == [
        "disclosure.published",
        "disclosure.withdrawn",
    ]
    assert "INTERNAL" not in bodies(public_only)
    assert Delivery.objects.filter(endpoint=internal).count() == 2


def test_a_correction_is_revision_two_with_its_reason(org, receiver, now_commits):
    _endpoint, url = register(org, receiver)
    with now_commits():
        item = public_item(org.boiler)
    with now_commits():
        correct_and_republish(org, item, title="更正后的标题")
    published, corrected = receiver.at(url)
    assert published.type == "disclosure.published"
    assert corrected.type == "disclosure.corrected"
    assert corrected.data["revision"] == 2
    assert corrected.data["title"] == "更正后的标题"
    assert corrected.data["correction_reason"] == "更正金额"
    assert corrected.data["ledger_sequence"] > published.data["ledger_sequence"]
    assert corrected.body["id"] != published.body["id"]


def test_a_correction_that_makes_an_item_internal_tells_public_endpoints_only_that(
    org, receiver, now_commits
):
    public_only, public_url = register(org, receiver)
    _internal, internal_url = register(org, receiver, internal=True)
    with now_commits():
        item = public_item(org.boiler, title="原公开标题")
    with now_commits():
        correct_and_republish(org, item, title="SECRET-改为内部的标题", scope="internal")
    _first, redacted = receiver.at(public_url)
    assert redacted.type == "disclosure.corrected"
    assert redacted.body["audience"] == "public"
    assert redacted.data == {
        "disclosure": item.pk,
        "revision": 2,
        "scope": "internal",
        "published_at": redacted.data["published_at"],
    }
    assert "SECRET-改为内部的标题" not in bodies(public_only)
    full = receiver.at(internal_url)[-1]
    assert full.data["title"] == "SECRET-改为内部的标题"
    assert full.body["id"] == redacted.body["id"]  # one event, two views of it


def test_a_withdrawal_sends_the_tombstone(org, receiver, now_commits):
    _endpoint, url = register(org, receiver)
    with now_commits():
        item = public_item(org.boiler)
    with now_commits():
        withdraw(org, item)
    tombstone = receiver.at(url)[-1]
    assert tombstone.type == "disclosure.withdrawn"
    assert tombstone.data["title"] == "2026年第三季度业务招待费公开"
    assert tombstone.data["reason"] == "REASON-重复发布"
    assert datetime.fromisoformat(tombstone.data["withdrawn_at"]).tzinfo is not None
    entry = LedgerEntry.objects.filter(disclosure=item).order_by("-sequence").first()
    assert tombstone.data["ledger_sequence"] == entry.sequence


def test_an_attestation_is_published_internally_as_nothing_to_report(org, receiver, now_commits):
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import attestation_file

    public_only, _public_url = register(org, receiver)
    _internal, internal_url = register(org, receiver, internal=True)
    with now_commits():
        attestation_file(
            actor=org["teamlead"],
            unit=org.boiler_team,
            entry=CatalogEntry.objects.get(code="team-bonus"),
            reason="本月无奖金分配",
            period="2026-09",
        )
    [event] = receiver.at(internal_url)
    assert event.type == "disclosure.published"
    assert event.data["nothing_to_report"] is True
    assert not Delivery.objects.filter(endpoint=public_only).exists()


# --- Suggestions and publicity windows ------------------------------------------------------


def answered_suggestion(org: Org, *, hidden: bool):
    suggestion = voice.suggestion_submit(
        actor=org["employee"],
        unit=org.boiler,
        category=SuggestionCategory.WORKING_CONDITIONS,
        title="锅炉房通风不足",
        body="BODY-夏季锅炉房温度过高，建议增加排风扇。",
        name_hidden=hidden,
    )
    suggestion = voice.suggestion_accept(actor=org["depthead"], suggestion=suggestion)
    suggestion = voice.suggestion_assign(
        actor=org["depthead"],
        suggestion=suggestion,
        responsible_unit=org.boiler_team,
        due_on=timezone.localdate() + timedelta(days=10),
    )
    return voice.suggestion_answer(
        actor=org["teamlead"], suggestion=suggestion, answer="已加装两台排风扇", action_taken="采购"
    )


@pytest.mark.parametrize("hidden", [True, False])
def test_an_answered_suggestion_reaches_internal_endpoints_without_its_author(
    org, receiver, now_commits, hidden
):
    _internal, internal_url = register(org, receiver, internal=True, units=[org.boiler])
    _turbine, turbine_url = register(org, receiver, internal=True, units=[org.turbine])
    with now_commits():
        suggestion = answered_suggestion(org, hidden=hidden)
    [event] = receiver.at(internal_url)
    assert event.type == "suggestion.answered"
    assert event.body["audience"] == "internal"
    assert event.data["suggestion"] == suggestion.pk
    assert event.data["answer"] == "已加装两台排风扇"
    assert event.data["responsible_unit"]["code"] == org.boiler_team.code
    assert event.data["url"] == SITE + reverse("voice:detail", args=[suggestion.pk])
    raw = event.raw.decode()
    for secret in (org["employee"].name, "BODY-"):
        assert secret not in raw  # never the author, named or hidden, nor the text
    assert "author" not in raw
    assert receiver.at(turbine_url) == []


def test_a_public_only_endpoint_cannot_ask_for_suggestions_or_windows(org, receiver, english):
    for kind in (EventKind.SUGGESTION_ANSWERED, EventKind.PUBLICITY_OPENED):
        with pytest.raises(ServiceError) as refused:
            register(org, receiver, kinds=[kind], internal=False)
        assert refused.value.field == "events"
    with pytest.raises(ValueError):
        events.emit(
            EventKind.SUGGESTION_ANSWERED,
            unit=org.boiler,
            audience=events.Audience.PUBLIC,
            data={},
        )


@pytest.fixture
def holidays(db):
    load_year(CalendarDay, 2026)


def local(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def test_publicity_windows_open_and_close_by_date_each_told_once(
    org, receiver, now_commits, holidays
):
    public_only, _public_url = register(org, receiver)
    _endpoint, url = register(
        org,
        receiver,
        internal=True,
        kinds=[EventKind.PUBLICITY_OPENED, EventKind.PUBLICITY_CLOSED],
    )
    with time_machine.travel(local(date(2026, 9, 25), 9), tick=False):
        item = published_disclosure(
            unit=org.boiler,
            entry_code="cadre-appointment",
            event_date=date(2026, 9, 25),
            title="拟任锅炉分场副主任人选任前公示",
        )
        with now_commits():
            window = publicity_open(
                actor=org["depthead"],
                disclosure=item,
                kind="cadre",
                starts_on=date(2026, 9, 28),  # five working days: to 2026-10-10
            )
        with now_commits():
            announce_windows(date(2026, 9, 25))
    assert receiver.at(url) == []  # not open yet

    for hour in (0, 1, 9):  # the hourly task, three times on the first day
        with time_machine.travel(local(date(2026, 9, 28), hour), tick=False), now_commits():
            announce_windows(date(2026, 9, 28))
    [opened] = receiver.at(url)
    assert opened.type == "publicity.opened"
    assert opened.data["publicity"] == window.pk
    assert opened.data["starts_on"] == "2026-09-28" and opened.data["ends_on"] == "2026-10-10"
    assert opened.data["disclosure"]["id"] == item.pk
    assert opened.body["occurred_at"] == "2026-09-28T00:00:00+08:00"

    with time_machine.travel(local(date(2026, 9, 29)), tick=False):
        objection_file(
            actor=org["employee"],
            publicity=window,
            text="OBJECTION-拟任人选有违章记录，与公示材料不符。",
            anonymous=True,
        )
    # The worker was stopped for two days after the window closed: it catches up, once.
    for day in (date(2026, 10, 12), date(2026, 10, 12), date(2026, 10, 13)):
        with time_machine.travel(local(day), tick=False), now_commits():
            announce_windows(day)
    _opened, closed = receiver.at(url)
    assert closed.type == "publicity.closed"
    assert closed.data["objections"] == 1
    assert closed.body["occurred_at"] == "2026-10-11T00:00:00+08:00"
    raw = closed.raw.decode()
    assert "OBJECTION-" not in raw and org["employee"].name not in raw
    assert not Delivery.objects.filter(endpoint=public_only).exists()


def test_a_window_opened_to_start_today_is_told_at_once_and_not_again(
    org, receiver, now_commits, holidays
):
    _endpoint, url = register(org, receiver, internal=True)
    with time_machine.travel(local(date(2026, 9, 28), 9), tick=False), now_commits():
        item = published_disclosure(
            unit=org.boiler, entry_code="cadre-appointment", event_date=date(2026, 9, 28)
        )
        publicity_open(
            actor=org["depthead"],
            disclosure=item,
            kind="cadre",
            starts_on=date(2026, 9, 28),
        )
    assert [e.type for e in receiver.at(url)] == ["disclosure.published", "publicity.opened"]
    with time_machine.travel(local(date(2026, 9, 28), 11), tick=False), now_commits():
        announce_windows(date(2026, 9, 28))
    assert [e.type for e in receiver.at(url)] == ["disclosure.published", "publicity.opened"]


# --- Sending: once, retries, failures -------------------------------------------------------


def test_a_delivery_sent_twice_arrives_once(org, receiver, now_commits):
    endpoint, url = register(org, receiver)
    with now_commits():
        public_item(org.boiler)
    delivery = Delivery.objects.get(endpoint=endpoint)
    tasks.send_event(delivery.pk)
    tasks.send_event_batch(delivery.batch)
    assert outbox.send_event(delivery.pk) is None
    assert len(receiver.at(url)) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_keyed_event_emitted_twice_is_written_once(org, receiver, now_commits):
    endpoint, url = register(org, receiver, internal=True)
    for _ in range(2):
        with now_commits():
            events.emit(
                EventKind.PUBLICITY_OPENED,
                unit=org.boiler,
                audience=events.Audience.INTERNAL,
                data={"title": "x"},
                key="publicity.opened:424242",
            )
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
    assert len(receiver.at(url)) == 1


def test_a_failing_receiver_is_retried_with_backoff_then_the_delivery_fails(
    org, receiver, now_commits
):
    endpoint, url = register(org, receiver)
    receiver.fail_next(10, how="http")
    with time_machine.travel(local(date(2026, 10, 9)), tick=False) as clock:
        with now_commits():
            public_item(org.boiler)
        delivery = Delivery.objects.get(endpoint=endpoint)
        assert delivery.status == Status.RETRYING
        assert delivery.not_before == local(date(2026, 10, 9)) + timedelta(seconds=30)
        run_scheduled(clock=clock)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 4  # NOTIFY_ATTEMPTS
    assert [entry["result"] for entry in delivery.log] == ["HTTP 500"] * 4
    # 30 s, 60 s, 120 s between the attempts.
    times = [datetime.fromisoformat(entry["at"]) for entry in delivery.log]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps == [30, 60, 120]
    assert receiver.at(url) == []


def test_a_receiver_that_recovers_gets_the_event_once(org, receiver, now_commits):
    endpoint, url = register(org, receiver)
    receiver.fail_next(2, how="http")
    with time_machine.travel(local(date(2026, 10, 9)), tick=False) as clock:
        with now_commits():
            public_item(org.boiler)
        run_scheduled(clock=clock)
    [event] = receiver.at(url)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Status.SENT and delivery.attempts == 3
    assert [entry["result"] for entry in delivery.log] == ["HTTP 500", "HTTP 500", "ok"]
    assert event.body["id"] == delivery.batch


@pytest.mark.parametrize(
    ("status", "retried"), [(400, False), (410, False), (408, True), (429, True)]
)
def test_a_refusal_stops_at_once_but_timeouts_and_rate_limits_are_retried(
    org, receiver, now_commits, status, retried
):
    endpoint, url = register(org, receiver)
    receiver.answer_next(status)
    with time_machine.travel(local(date(2026, 10, 9)), tick=False) as clock:
        with now_commits():
            public_item(org.boiler)
        delivery = Delivery.objects.get(endpoint=endpoint)
        assert delivery.last_error.startswith(f"HTTP {status}")
        assert delivery.status == (Status.RETRYING if retried else Status.FAILED)
        run_scheduled(clock=clock)
    delivery.refresh_from_db()
    assert delivery.status == (Status.SENT if retried else Status.FAILED)
    assert len(receiver.at(url)) == (1 if retried else 0)


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(org, receiver, now_commits):
    url = receiver.add_endpoint("SECthe-receivers-own-other-secret")
    endpoint = admin_services.endpoint_create(
        actor=org["union"],
        name="错密钥",
        units=[org.company],
        events=PUBLIC_KINDS,
        sees_internal=False,
        address=url,
        secret=SECRET,
    )
    with now_commits():
        public_item(org.boiler)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Status.FAILED and delivery.last_error.startswith("HTTP 401")
    assert receiver.events == []


def test_what_changed_on_the_endpoint_before_sending_is_respected(org, receiver, english):
    endpoint, url = register(org, receiver, internal=True)
    internal_item(org.boiler_team, entry_code="team-bonus", period="2026-09")  # not committed
    public_item(org.boiler)
    waiting = list(Delivery.objects.filter(endpoint=endpoint).order_by("pk"))
    assert len(waiting) == 2
    admin_services.endpoint_update(
        actor=org["union"],
        endpoint=endpoint,
        name=endpoint.name,
        units=[org.company],
        events=PUBLIC_KINDS,
        sees_internal=False,
    )
    for delivery in waiting:
        tasks.send_event(delivery.pk)
    internal, public = (Delivery.objects.get(pk=d.pk) for d in waiting)
    assert internal.status == Status.FAILED
    assert internal.last_error == site_language(
        "not sent: the endpoint no longer receives internal items"
    )
    assert public.status == Status.SENT
    assert [e.body["audience"] for e in receiver.at(url)] == ["public"]

    public_item(org.turbine)
    admin_services.endpoint_set_enabled(actor=org["union"], endpoint=endpoint, enabled=False)
    late = Delivery.objects.filter(endpoint=endpoint).latest("pk")
    tasks.send_event(late.pk)
    late.refresh_from_db()
    assert late.status == Status.FAILED
    assert late.last_error == site_language("not sent: the endpoint was disabled")
    assert len(receiver.at(url)) == 1


def test_nothing_is_written_for_history_loaded_in_app_only(org, receiver):
    endpoint, _url = register(org, receiver)
    with in_app_only():
        public_item(org.boiler)
    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_nothing_is_sent_for_a_change_rolled_back(org, receiver):
    from django.db import transaction

    endpoint, _url = register(org, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        public_item(org.boiler)
        raise RuntimeError
    assert not Delivery.objects.filter(endpoint=endpoint).exists()
    assert receiver.requests == 0


# --- The pages ------------------------------------------------------------------------------


def endpoint_post(org: Org, url: str, **changes) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "集团档案系统",
        "units": [str(org.boiler.pk)],
        "events": list(PUBLIC_KINDS),
        "address": url,
        "secret": SECRET,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_union_office_adds_tests_changes_disables_and_deletes_an_endpoint(
    org, receiver, client: Client, login, django_capture_on_commit_callbacks
):
    login(org["union"])
    url = receiver.add_endpoint()
    response = client.post(reverse("notifications:endpoint_add"), endpoint_post(org, url))
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = EventEndpoint.objects.get()
    assert list(endpoint.units.all()) == [org.boiler]
    assert endpoint.sees_internal is False and endpoint.enabled

    page = client.get(reverse("notifications:endpoints")).content.decode()
    assert "集团档案系统" in page and "127.0.0.1" in page
    assert url not in page and SECRET not in page
    edit = client.get(reverse("notifications:endpoint_edit", args=[endpoint.pk])).content.decode()
    assert url not in edit and SECRET not in edit and endpoint.url_hint in edit

    # The test event, also while disabled.
    client.post(reverse("notifications:endpoint_toggle", args=[endpoint.pk]), {"enabled": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:endpoint_test", args=[endpoint.pk]))
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert response.url == reverse("notifications:delivery", args=[delivery.pk])
    [event] = receiver.at(url)
    assert event.type == "test" and event.body["unit"] is None
    detail = client.get(response.url).content.decode()
    assert "集团档案系统" in detail and event.body["id"] in detail
    log = client.get(
        reverse("notifications:deliveries"), {"channel": "event", "endpoint": endpoint.pk}
    ).content.decode()
    assert reverse("notifications:delivery", args=[delivery.pk]) in log

    # Changed: empty address and secret keep the stored ones.
    response = client.post(
        reverse("notifications:endpoint_edit", args=[endpoint.pk]),
        endpoint_post(org, "", secret="", name="改名后的系统", units=[str(org.company.pk)]),
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "改名后的系统"
    assert outbox.endpoint_secret(endpoint, "sealed_url") == url
    assert outbox.endpoint_secret(endpoint, "sealed_secret") == SECRET

    confirm = client.get(reverse("notifications:endpoint_delete", args=[endpoint.pk]))
    assert confirm.status_code == 200 and "改名后的系统" in confirm.content.decode()
    client.post(reverse("notifications:endpoint_delete", args=[endpoint.pk]))
    assert not EventEndpoint.objects.exists()
    assert not Delivery.objects.filter(channel="event").exists()

    codes = list(
        AuditEvent.objects.filter(action__startswith="notify.endpoint_")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert codes == [
        "notify.endpoint_added",
        "notify.endpoint_disabled",
        "notify.endpoint_tested",
        "notify.endpoint_changed",
        "notify.endpoint_deleted",
    ]
    logged = json.dumps(list(AuditEvent.objects.values_list("before", "after")), ensure_ascii=False)
    assert SECRET not in logged and url not in logged
    deleted = AuditEvent.objects.get(action="notify.endpoint_deleted")
    assert deleted.before["deliveries"] == 1 and deleted.scope_path == org.company.path


def test_a_test_event_is_limited_per_endpoint(org, receiver, english):
    endpoint, _url = register(org, receiver)
    for _ in range(admin_services.TEST_LIMIT):
        admin_services.endpoint_test(actor=org["union"], endpoint=endpoint)
    with pytest.raises(ServiceError, match="test events were sent"):
        admin_services.endpoint_test(actor=org["union"], endpoint=endpoint)


def test_only_the_union_office_of_the_units_may_see_or_change_endpoints(
    org, receiver, client: Client, login
):
    assert can(org["union"], Action.EVENTS_MANAGE, org.boiler_team)
    for who in ("employee", "rep", "teamlead", "depthead", "leader", "supervisor", "discipline"):
        assert not can(org[who], Action.EVENTS_MANAGE)
    assert not can(org["union"], Action.EVENTS_MANAGE, org.other_company)

    endpoint, _url = register(org, receiver)
    outsider = other_union(org)
    names = ["endpoint_edit", "endpoint_delete"]
    posts = ["endpoint_toggle", "endpoint_test", "endpoint_delete", "endpoint_edit"]

    login(org["employee"])
    assert client.get(reverse("notifications:endpoints")).status_code == 403
    assert client.get(reverse("notifications:endpoint_add")).status_code == 403
    for name in names:
        assert client.get(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 403
    for name in posts:
        assert client.post(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 403

    other = Client()
    login(outsider, other)
    assert "集团档案系统" not in other.get(reverse("notifications:endpoints")).content.decode()
    for name in names:
        assert other.get(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 404
    for name in posts:
        assert other.post(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 404
    delivery = admin_services.endpoint_test(actor=org["union"], endpoint=endpoint)
    detail = reverse("notifications:delivery", args=[delivery.pk])
    assert other.get(detail).status_code == 404
    assert detail not in other.get(reverse("notifications:deliveries")).content.decode()
    # Nor may they register our units: the form does not offer them, the service refuses.
    response = other.post(
        reverse("notifications:endpoint_add"), endpoint_post(org, receiver.add_endpoint())
    )
    assert response.status_code == 400
    with pytest.raises(ServiceError):
        register(org, receiver, actor=outsider, units=[org.boiler])
    endpoint.refresh_from_db()
    assert endpoint.enabled and EventEndpoint.objects.count() == 1


def test_an_endpoint_reaching_beyond_ones_units_is_not_in_ones_charge(org, receiver, client, login):
    """An endpoint of both companies (set up by a group-level office) is managed only by
    someone who holds every one of its units: a company's union office does not see it."""
    shared = EventEndpoint.objects.create(
        name="跨公司", events=PUBLIC_KINDS, sealed_url=b"x", sealed_secret=b"x"
    )
    shared.units.set([org.boiler, org.other_dept])
    login(org["union"])
    assert client.get(reverse("notifications:endpoint_edit", args=[shared.pk])).status_code == 404
    with pytest.raises(ServiceError):
        admin_services.endpoint_set_enabled(actor=org["union"], endpoint=shared, enabled=False)


# --- Hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://127.0.0.1/events",
        "//127.0.0.1/events",
        "http:///no-host",
        "https://example.com/a b",
        "https://example.com/\nX-Injected: 1",
        "env:1BAD",
        "https://example.com/" + "a" * 1000,
        "",
    ],
)
def test_addresses_other_than_http_and_https_are_refused(org, receiver, address, english):
    with pytest.raises(ServiceError) as refused:
        admin_services.endpoint_create(
            actor=org["union"],
            name="x",
            units=[org.company],
            events=PUBLIC_KINDS,
            sees_internal=False,
            address=address,
            secret=SECRET,
        )
    assert refused.value.field == "address"
    assert not EventEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "Enter a signing secret"),
        ("short", "too short"),
        ("S" * 501, "too long"),
        ("SEC with spaces inside it", "spaces"),
        ("SEC\x00nul-inside-the-secret", "control"),
    ],
)
def test_bad_secrets_are_refused(org, receiver, secret, message, english):
    with pytest.raises(ServiceError, match=message) as refused:
        register(org, receiver, secret=secret)
    assert refused.value.field == "secret"
    assert not EventEndpoint.objects.exists()


def test_bad_events_units_and_names_are_refused(org, receiver, english):
    cases = [
        ({"kinds": []}, "events"),
        ({"kinds": ["disclosure.published", "ballot.cast"]}, "events"),
        ({"units": []}, "units"),
        ({"units": [org.other_company]}, "units"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 101}, "name"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ServiceError) as refused:
            register(org, receiver, **kwargs)
        assert refused.value.field == field, kwargs
    assert not EventEndpoint.objects.exists()


def test_html_in_a_name_is_shown_as_text(org, receiver, client, login):
    register(org, receiver, name='<script>alert("x")</script><b>档案</b>')
    login(org["union"])
    page = client.get(reverse("notifications:endpoints")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;档案&lt;/b&gt;" in page


def test_a_secret_typed_into_a_form_with_an_error_is_not_shown_back(org, client, login):
    login(org["union"])
    response = client.post(
        reverse("notifications:endpoint_add"),
        endpoint_post(org, "javascript:alert(1)", secret="SECtyped-but-never-shown-again"),
    )
    assert response.status_code == 400
    assert "SECtyped-but-never-shown-again" not in response.content.decode()


def test_the_signature_is_the_webhooks_one():
    """One signature function for the signed webhook robot and for events."""
    from gongkai.notify import robots

    body = b'{"id":"x"}'
    headers = robots.signed_headers("s3cret-s3cret-s3cret", body, now=1_700_000_000)
    assert headers["X-Gongkai-Timestamp"] == "1700000000"
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256)
    assert headers["X-Gongkai-Signature"] == f"sha256={expected.hexdigest()}"
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify("s3cret-s3cret-s3cret", lower, body, 1_700_000_000)
    assert not verify("s3cret-s3cret-s3cret", lower, body + b" ", 1_700_000_000)
    assert not verify("s3cret-s3cret-s3cret", lower, body, time.time())  # stale
