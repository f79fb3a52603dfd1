"""The notice pages: each person's preferences; the union office's chat robots, delivery log
and failed background tasks, each within its own units; secrets never shown again; and the
queue's failure hook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.core.queue import HUEY, task
from gongkai.notify import admin_services
from gongkai.notify.models import Delivery, Notification, Preference, Robot, TaskFailure
from gongkai.org.models import Role
from tests.conftest import PERSONAS, Org
from tests.factories import person_with

WECOM_KEY = "0f9e8d7c-SEKRIT-WECOM-KEY"
WECOM_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
DING_TOKEN = "SEKRIT-DING-TOKEN-77"
DING_URL = f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}"
DING_SECRET = "SECsekrit-signing-secret-1234"
FEISHU_TOKEN = "sekrit-feishu-hook-5566"
FEISHU_URL = f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_TOKEN}"
SECRETS = (WECOM_KEY, DING_TOKEN, DING_SECRET, FEISHU_TOKEN, "SEKRIT")


def as_user(user: Any, *, english: bool = True) -> Client:
    c = Client()
    c.force_login(user)
    if english:
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def text(response: Any) -> str:
    return response.content.decode()


def no_secret_in(content: str) -> None:
    for secret in SECRETS:
        assert secret not in content


def audit_text() -> str:
    return json.dumps(
        [
            [e.action, e.target_label, e.before, e.after]
            for e in AuditEvent.objects.filter(action__startswith="notify.")
        ],
        ensure_ascii=False,
    )


def wecom_robot(org: Org, unit: Any = None, name: str = "锅炉分场群") -> Robot:
    return admin_services.robot_create(
        actor=org["union"], unit=unit or org.boiler, name=name, platform="wecom", address=WECOM_URL
    )


def ding_robot(org: Org, unit: Any = None, name: str = "汽机钉钉群") -> Robot:
    return admin_services.robot_create(
        actor=org["union"],
        unit=unit or org.turbine,
        name=name,
        platform="dingtalk",
        address=DING_URL,
        secret=DING_SECRET,
    )


@pytest.fixture
def other_union(org: Org):
    """The union office of the other company."""
    return person_with(Role.UNION_OFFICE, org.other_company)


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What reaches the chat platforms (nothing leaves the test)."""
    calls: list[dict[str, Any]] = []

    def fake_post(platform: str, url: str, secret: str, **kwargs: Any) -> None:
        calls.append({"platform": platform, "url": url, "secret": secret, **kwargs})

    monkeypatch.setattr("gongkai.notify.robots.post", fake_post)
    return calls


@pytest.fixture
def clean_schedule() -> Iterator[None]:
    """Tasks scheduled for later stay in the in-memory queue: none is left behind."""
    HUEY.storage.flush_schedule()
    yield
    HUEY.storage.flush_schedule()


# --- Who may open which page ----------------------------------------------------------------

UNION_PAGES = ("robots", "robot_add", "deliveries", "failures")


@pytest.mark.parametrize("name", UNION_PAGES)
def test_union_pages_are_the_union_offices_alone(org: Org, name: str):
    url = reverse(f"notifications:{name}")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    for who in PERSONAS:
        expected = 200 if who == "union" else 403
        assert as_user(org[who]).get(url).status_code == expected, who


def test_preferences_are_for_every_signed_in_person(org: Org):
    url = reverse("notifications:preferences")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    for who in PERSONAS:
        assert as_user(org[who]).get(url).status_code == 200, who


def test_robot_pages_refuse_others_and_anonymous(org: Org):
    robot = wecom_robot(org)
    gets = ("robot_edit", "robot_delete")
    posts = ("robot_toggle", "robot_test", "robot_delete", "robot_edit")
    for name in gets:
        url = reverse(f"notifications:{name}", args=[robot.pk])
        assert Client().get(url).status_code == 302
        assert as_user(org["employee"]).get(url).status_code == 403
        assert as_user(org["depthead"]).get(url).status_code == 403
    for name in posts:
        url = reverse(f"notifications:{name}", args=[robot.pk])
        assert Client().post(url, {"enabled": "0"}).status_code == 302
        assert as_user(org["leader"]).post(url, {"enabled": "0"}).status_code == 403
    robot.refresh_from_db()
    assert robot.enabled and Robot.objects.filter(pk=robot.pk).exists()
    assert not Delivery.objects.filter(robot=robot).exists()


def test_the_notifications_page_links_preferences_and_the_union_pages(org: Org):
    page = text(as_user(org["employee"]).get(reverse("notifications:list")))
    assert reverse("notifications:preferences") in page
    assert reverse("notifications:robots") not in page
    page = text(as_user(org["union"]).get(reverse("notifications:list")))
    assert reverse("notifications:robots") in page
    assert reverse("notifications:deliveries") in page


def test_failures_are_only_for_a_union_office_of_a_top_level_unit(org: Org):
    department_union = person_with(Role.UNION_OFFICE, org.boiler)
    c = as_user(department_union)
    assert c.get(reverse("notifications:robots")).status_code == 200
    assert c.get(reverse("notifications:failures")).status_code == 403


# --- Preferences ----------------------------------------------------------------------------


def preference_post(**overrides: Any) -> dict[str, Any]:
    data = {"email": "on", "timing": "immediate", "quiet_from": "", "quiet_until": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_preferences_show_the_address_or_that_there_is_none(org: Org):
    employee = org["employee"]
    employee.email = "zhang.san@example.com"
    employee.save()
    page = text(as_user(employee).get(reverse("notifications:preferences")))
    assert "zhang.san@example.com" in page
    page = text(as_user(org["rep"]).get(reverse("notifications:preferences")))
    assert "You have no e-mail address on record" in page


def test_saving_preferences_with_quiet_hours_over_midnight(org: Org):
    employee = org["employee"]
    c = as_user(employee)
    response = c.post(
        reverse("notifications:preferences"),
        preference_post(
            email="on", timing="digest", board_news="on", quiet_from="22:00", quiet_until="07:00"
        ),
    )
    assert response.status_code == 302
    pref = Preference.objects.get(user=employee)
    assert pref.email and pref.board_news and pref.timing == "digest"
    assert (pref.quiet_from, pref.quiet_until) == (time(22), time(7))
    event = AuditEvent.objects.get(action="notify.preference_changed")
    assert event.actor == employee
    assert event.after["quiet_from"] == "22:00" and event.after["timing"] == "digest"
    page = text(c.get(reverse("notifications:preferences")))
    assert 'value="22:00"' in page and 'value="07:00"' in page
    # Turning e-mail off and clearing the quiet hours.
    c.post(reverse("notifications:preferences"), preference_post(email=None))
    pref.refresh_from_db()
    assert not pref.email and pref.quiet_from is None and pref.quiet_until is None


def test_saving_the_same_preferences_again_records_nothing_new(org: Org):
    c = as_user(org["employee"])
    c.post(reverse("notifications:preferences"), preference_post(timing="digest"))
    c.post(reverse("notifications:preferences"), preference_post(timing="digest"))
    assert AuditEvent.objects.filter(action="notify.preference_changed").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quiet_from": "22:00"}, "Give both the start and the end"),
        ({"quiet_until": "07:00"}, "Give both the start and the end"),
        ({"quiet_from": "08:00", "quiet_until": "08:00"}, "cannot start and end at the same"),
        ({"quiet_from": "25:99", "quiet_until": "07:00"}, "Enter a valid time"),
        ({"quiet_from": "x" * 10_000, "quiet_until": "07:00"}, "Enter a valid time"),
        ({"quiet_from": "22:00\x00", "quiet_until": "07:00"}, "Enter a valid time"),
        ({"timing": "hourly"}, "Select a valid choice"),
    ],
)
def test_bad_preferences_are_refused_and_nothing_is_lost(org: Org, data: dict, message: str):
    c = as_user(org["employee"])
    response = c.post(
        reverse("notifications:preferences"), preference_post(board_news="on", **data)
    )
    assert response.status_code == 400
    page = text(response)
    assert message in page
    # What was typed is still there.
    assert 'name="board_news" id="id_board_news" checked' in page
    assert not Preference.objects.filter(user=org["employee"]).exists()
    assert not AuditEvent.objects.filter(action="notify.preference_changed").exists()


def test_people_see_their_own_emails_and_nobody_elses(org: Org):
    employee, rep = org["employee"], org["rep"]
    Delivery.objects.create(
        channel="email", user=employee, batch="b1", subject="员工的通知甲", body="x"
    )
    Delivery.objects.create(channel="email", user=rep, batch="b2", subject="代表的通知乙", body="x")
    page = text(as_user(employee).get(reverse("notifications:preferences")))
    assert "员工的通知甲" in page
    assert "代表的通知乙" not in page


# --- Robots: adding, and what is never shown ------------------------------------------------


def add_post(org: Org, **overrides: Any) -> dict[str, Any]:
    data = {
        "unit": org.boiler.pk,
        "name": "锅炉分场群",
        "platform": "wecom",
        "address": WECOM_URL,
        "secret": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_union_office_adds_a_robot_and_its_address_is_never_shown(org: Org):
    c = as_user(org["union"])
    response = c.post(reverse("notifications:robot_add"), add_post(org))
    assert response.status_code == 302
    robot = Robot.objects.get()
    assert robot.unit == org.boiler and robot.enabled and robot.platform == "wecom"
    assert robot.url_hint == "qyapi.weixin.qq.com"
    assert WECOM_KEY.encode() not in bytes(robot.sealed_url)
    listing = text(c.get(reverse("notifications:robots")))
    assert "锅炉分场群" in listing and "qyapi.weixin.qq.com" in listing
    no_secret_in(listing)
    no_secret_in(text(c.get(reverse("notifications:robot_edit", args=[robot.pk]))))
    no_secret_in(text(c.get(reverse("notifications:robot_delete", args=[robot.pk]))))
    no_secret_in(text(c.get(reverse("audit:event_list"))))
    event = AuditEvent.objects.get(action="notify.robot_added")
    assert event.actor == org["union"] and event.scope_path == org.boiler.path
    assert event.after["address"] == "qyapi.weixin.qq.com"
    no_secret_in(audit_text())


def test_a_signing_secret_is_sealed_and_shown_only_as_set(org: Org):
    c = as_user(org["union"])
    response = c.post(
        reverse("notifications:robot_add"),
        add_post(
            org, unit=org.turbine.pk, platform="dingtalk", address=DING_URL, secret=DING_SECRET
        ),
    )
    assert response.status_code == 302
    robot = Robot.objects.get()
    assert DING_SECRET.encode() not in bytes(robot.sealed_secret)
    listing = text(c.get(reverse("notifications:robots")))
    assert "secret set" in listing
    no_secret_in(listing)
    assert AuditEvent.objects.get(action="notify.robot_added").after["secret"] == "set"
    no_secret_in(audit_text())


def test_a_secret_typed_before_a_form_error_is_not_sent_back(org: Org):
    c = as_user(org["union"])
    response = c.post(
        reverse("notifications:robot_add"),
        add_post(
            org, platform="dingtalk", address="https://oapi.dingtalk.com/wrong", secret=DING_SECRET
        ),
    )
    assert response.status_code == 400
    assert DING_SECRET not in text(response)
    assert not Robot.objects.exists()


def test_environment_references_are_accepted_and_shown_by_name(org: Org):
    c = as_user(org["union"])
    response = c.post(
        reverse("notifications:robot_add"),
        add_post(
            org,
            platform="feishu",
            address="env:FEISHU_UNION_HOOK",
            secret="env:FEISHU_UNION_SECRET",
        ),
    )
    assert response.status_code == 302
    robot = Robot.objects.get()
    assert robot.url_hint == "env:FEISHU_UNION_HOOK"
    listing = text(c.get(reverse("notifications:robots")))
    assert "env:FEISHU_UNION_HOOK" in listing and "secret set" in listing
    assert "FEISHU_UNION_SECRET" not in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"address": "javascript:alert(1)"}, "Enter a web address starting with https://"),
        ({"address": "JaVaScRiPt://qyapi.weixin.qq.com/%0aalert(1)"}, "Enter a web address"),
        ({"address": "data:text/html,<script>alert(1)</script>"}, "Enter a web address"),
        ({"address": "ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"}, "Enter a web"),
        ({"address": "https://"}, "Enter a web address"),
        ({"address": "https://qyapi.weixin.qq.com:99999/x"}, "Enter a web address"),
        ({"address": "https://qyapi.weixin.qq.com/" + "a" * 5000}, "at most 1000 characters"),
        ({"address": WECOM_URL + "\x00"}, "Null characters are not allowed"),
        ({"address": WECOM_URL + "\n"}, None),  # stripped: accepted
        ({"address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "not the address of"),
        ({"address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="}, "not the address"),
        ({"address": DING_URL}, "not the address of a WeCom robot"),
        ({"address": WECOM_URL.replace("https", "http")}, "reached over HTTPS"),
        ({"address": "https://evil.example/cgi-bin/webhook/send?key=1"}, "is your own relay"),
        ({"address": "env:BAD NAME"}, "must not contain spaces"),
        ({"address": "env:1BAD"}, "An environment reference is env:"),
        ({"secret": "SECsomething"}, "WeCom group robots are not signed"),
        ({"name": ""}, "This field is required"),
        ({"name": "群" * 101}, "at most 100 characters"),
        ({"name": "   "}, "This field is required"),
        ({"platform": "email"}, "Select a valid choice"),
        ({"platform": "carrier-pigeon"}, "Select a valid choice"),
        ({"unit": "99999999999999999999"}, "Select a valid choice"),
        ({"unit": "abc"}, "Select a valid choice"),
    ],
)
def test_hostile_robot_input_is_refused_with_a_clear_error(
    org: Org, overrides: dict, message: str | None
):
    response = as_user(org["union"]).post(
        reverse("notifications:robot_add"), add_post(org, **overrides)
    )
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert message in text(response)
    assert not Robot.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="notify.robot").exists()


def test_a_relay_is_allowed_when_the_union_office_says_so(org: Org):
    relay = "http://wecom-relay.plant.local:8080/wx/cgi-bin/webhook/send?key=SEKRIT-RELAY"
    c = as_user(org["union"])
    refused = c.post(reverse("notifications:robot_add"), add_post(org, address=relay))
    assert refused.status_code == 400
    assert "wecom-relay.plant.local is not WeCom&#x27;s own address" in text(refused)
    accepted = c.post(reverse("notifications:robot_add"), add_post(org, address=relay, relay="on"))
    assert accepted.status_code == 302
    robot = Robot.objects.get()
    assert robot.url_hint == "wecom-relay.plant.local:8080"
    no_secret_in(text(c.get(reverse("notifications:robots"))))
    # Even over a relay the path must be the platform's.
    wrong = "http://wecom-relay.plant.local/other?key=1"
    response = c.post(reverse("notifications:robot_add"), add_post(org, address=wrong, relay="on"))
    assert response.status_code == 400


def test_a_union_office_cannot_add_a_robot_to_another_companys_unit(org: Org, other_union):
    response = as_user(org["union"]).post(
        reverse("notifications:robot_add"), add_post(org, unit=org.other_dept.pk)
    )
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert not Robot.objects.exists()
    page = text(as_user(other_union).get(reverse("notifications:robot_add")))
    assert org.other_dept.name in page and org.boiler.name not in page


# --- Robots: changing, enabling, deleting ---------------------------------------------------


def test_changing_a_robot_keeps_what_is_left_empty(org: Org):
    robot = ding_robot(org)
    sealed_url, sealed_secret = bytes(robot.sealed_url), bytes(robot.sealed_secret)
    c = as_user(org["union"])
    url = reverse("notifications:robot_edit", args=[robot.pk])
    response = c.post(
        url, {"name": "汽机分场钉钉群", "platform": "dingtalk", "address": "", "secret": ""}
    )
    assert response.status_code == 302
    robot.refresh_from_db()
    assert robot.name == "汽机分场钉钉群"
    assert bytes(robot.sealed_url) == sealed_url and bytes(robot.sealed_secret) == sealed_secret
    event = AuditEvent.objects.get(action="notify.robot_changed")
    assert event.before == {"name": "汽机钉钉群"} and event.after == {"name": "汽机分场钉钉群"}


def test_changing_the_address_and_removing_the_secret(org: Org):
    robot = ding_robot(org)
    c = as_user(org["union"])
    url = reverse("notifications:robot_edit", args=[robot.pk])
    new_url = "https://oapi.dingtalk.com/robot/send?access_token=SEKRIT-NEW-TOKEN"
    response = c.post(
        url,
        {"name": robot.name, "platform": "dingtalk", "address": new_url, "clear_secret": "on"},
    )
    assert response.status_code == 302
    robot.refresh_from_db()
    assert not bytes(robot.sealed_secret)
    event = AuditEvent.objects.get(action="notify.robot_changed")
    assert event.after == {"secret": "removed", "address": "replaced"}
    assert "SEKRIT-NEW-TOKEN" not in audit_text()
    assert "SEKRIT-NEW-TOKEN" not in text(c.get(url))


def test_a_new_platform_needs_a_new_address(org: Org):
    robot = wecom_robot(org)
    response = as_user(org["union"]).post(
        reverse("notifications:robot_edit", args=[robot.pk]),
        {"name": robot.name, "platform": "feishu", "address": ""},
    )
    assert response.status_code == 400
    assert "Enter the address again" in text(response)
    robot.refresh_from_db()
    assert robot.platform == "wecom"


def test_enabling_and_disabling(org: Org):
    robot = wecom_robot(org)
    c = as_user(org["union"])
    url = reverse("notifications:robot_toggle", args=[robot.pk])
    assert c.get(url).status_code == 405
    assert c.post(url, {"enabled": "0"}).status_code == 302
    robot.refresh_from_db()
    assert not robot.enabled
    assert "disabled" in text(c.get(reverse("notifications:robots")))
    c.post(url, {"enabled": "1"})
    robot.refresh_from_db()
    assert robot.enabled
    assert list(
        AuditEvent.objects.filter(action__in=["notify.robot_enabled", "notify.robot_disabled"])
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["notify.robot_disabled", "notify.robot_enabled"]


def test_deleting_needs_the_confirmation_post(org: Org):
    robot = wecom_robot(org)
    Delivery.objects.create(channel="wecom", robot=robot, batch="b1", subject="旧消息", body="x")
    c = as_user(org["union"])
    url = reverse("notifications:robot_delete", args=[robot.pk])
    page = c.get(url)
    assert page.status_code == 200
    assert "Delete the robot?" in text(page) and "1 line in the delivery log" in text(page)
    assert Robot.objects.filter(pk=robot.pk).exists()
    assert c.post(url).status_code == 302
    assert not Robot.objects.filter(pk=robot.pk).exists()
    event = AuditEvent.objects.get(action="notify.robot_deleted")
    assert event.before["name"] == "锅炉分场群" and event.before["deliveries"] == 1
    no_secret_in(audit_text())


# --- Robots: the test message ---------------------------------------------------------------


def test_a_test_message_reaches_that_robot_only(
    org: Org, posted: list, django_capture_on_commit_callbacks
):
    robot = wecom_robot(org)
    wecom_robot(org, name="同一分场的另一个群")
    ding_robot(org, unit=org.boiler)
    c = as_user(org["union"])
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("notifications:robot_test", args=[robot.pk]))
    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:delivery", args=[delivery.pk])
    assert delivery.robot == robot and delivery.status == Delivery.Status.SENT
    assert len(posted) == 1
    assert posted[0]["url"] == WECOM_URL and posted[0]["platform"] == "wecom"
    assert AuditEvent.objects.filter(action="notify.robot_tested").count() == 1
    page = text(c.get(response["Location"]))
    assert robot.name in page and "accepted" in page
    no_secret_in(page)


def test_test_messages_are_limited(org: Org, posted: list):
    robot = wecom_robot(org)
    c = as_user(org["union"])
    for _ in range(admin_services.TEST_LIMIT):
        assert c.post(reverse("notifications:robot_test", args=[robot.pk])).status_code == 302
    response = c.post(reverse("notifications:robot_test", args=[robot.pk]), follow=True)
    assert "test messages were sent to this robot" in text(response)
    assert Delivery.objects.count() == admin_services.TEST_LIMIT


def test_a_test_message_to_a_failing_robot_shows_the_error_without_the_key(
    org: Org, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks, clean_schedule
):
    from gongkai.notify import robots

    def failing(platform: str, url: str, secret: str, **kwargs: Any) -> None:
        raise robots.DeliveryError(f"HTTP 404 from {url}")

    monkeypatch.setattr("gongkai.notify.robots.post", failing)
    robot = wecom_robot(org)
    c = as_user(org["union"])
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("notifications:robot_test", args=[robot.pk]))
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.RETRYING
    page = text(c.get(response["Location"]))
    assert "HTTP 404 from https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…" in page
    no_secret_in(page)
    no_secret_in(text(c.get(reverse("notifications:deliveries"))))


# --- One company's union office and another's -----------------------------------------------


def test_another_companys_union_office_neither_sees_nor_changes_robots(
    org: Org, other_union, posted: list
):
    robot = wecom_robot(org)
    c = as_user(other_union)
    assert "锅炉分场群" not in text(c.get(reverse("notifications:robots")))
    for name in ("robot_edit", "robot_delete"):
        assert c.get(reverse(f"notifications:{name}", args=[robot.pk])).status_code == 404
    for name in ("robot_edit", "robot_delete", "robot_toggle", "robot_test"):
        response = c.post(
            reverse(f"notifications:{name}", args=[robot.pk]),
            {"name": "改名", "platform": "wecom", "enabled": "0"},
        )
        assert response.status_code == 404
    robot.refresh_from_db()
    assert robot.enabled and robot.name == "锅炉分场群"
    assert not Delivery.objects.exists() and not posted


def test_the_services_refuse_a_robot_outside_the_actors_scope(org: Org, other_union):
    from gongkai.core.errors import ServiceError

    robot = wecom_robot(org)
    with pytest.raises(ServiceError):
        admin_services.robot_set_enabled(actor=other_union, robot=robot, enabled=False)
    with pytest.raises(ServiceError):
        admin_services.robot_delete(actor=org["depthead"], robot=robot)
    with pytest.raises(ServiceError):
        admin_services.robot_create(
            actor=other_union, unit=org.boiler, name="x", platform="wecom", address=WECOM_URL
        )


def test_the_delivery_log_shows_only_the_union_offices_units(org: Org, other_union):
    mine = wecom_robot(org)
    theirs = admin_services.robot_create(
        actor=other_union,
        unit=org.other_dept,
        name="另一家公司的群",
        platform="feishu",
        address=FEISHU_URL,
    )
    rows = [
        Delivery.objects.create(
            channel="wecom", robot=mine, batch="1", subject="本公司机器人消息", body="x"
        ),
        Delivery.objects.create(
            channel="feishu", robot=theirs, batch="2", subject="他公司机器人消息", body="x"
        ),
        Delivery.objects.create(
            channel="email",
            user=org["employee"],
            batch="3",
            subject="本公司职工邮件",
            body="x",
            status=Delivery.Status.FAILED,
            attempts=6,
            last_error="SMTPRecipientsRefused",
        ),
        Delivery.objects.create(
            channel="email", user=org["outsider"], batch="4", subject="他公司职工邮件", body="x"
        ),
    ]
    page = text(as_user(org["union"]).get(reverse("notifications:deliveries")))
    assert "本公司机器人消息" in page and "本公司职工邮件" in page
    assert "他公司机器人消息" not in page and "他公司职工邮件" not in page
    assert "SMTPRecipientsRefused" in page and org["employee"].name in page
    page = text(as_user(other_union).get(reverse("notifications:deliveries")))
    assert "他公司机器人消息" in page and "他公司职工邮件" in page
    assert "本公司机器人消息" not in page and "本公司职工邮件" not in page
    c = as_user(other_union)
    assert c.get(reverse("notifications:delivery", args=[rows[0].pk])).status_code == 404
    assert c.get(reverse("notifications:delivery", args=[rows[2].pk])).status_code == 404
    assert c.get(reverse("notifications:delivery", args=[rows[1].pk])).status_code == 200


def test_the_delivery_log_filters(org: Org):
    robot = wecom_robot(org)
    other = ding_robot(org)
    Delivery.objects.create(channel="wecom", robot=robot, batch="1", subject="甲消息", body="x")
    Delivery.objects.create(channel="dingtalk", robot=other, batch="2", subject="乙消息", body="x")
    Delivery.objects.create(
        channel="email",
        user=org["employee"],
        batch="3",
        subject="丙邮件",
        body="x",
        status=Delivery.Status.FAILED,
    )
    c = as_user(org["union"])
    url = reverse("notifications:deliveries")
    page = text(c.get(url, {"robot": robot.pk}))
    assert "甲消息" in page and "乙消息" not in page and "丙邮件" not in page
    page = text(c.get(url, {"channel": "email"}))
    assert "丙邮件" in page and "甲消息" not in page
    page = text(c.get(url, {"status": "failed"}))
    assert "丙邮件" in page and "乙消息" not in page
    page = text(c.get(url, {"status": "sent"}))
    assert "No deliveries match these filters." in page
    # Nonsense filters are ignored (or refused as a bad request), never a server error.
    for query in ({"robot": "99999999999999999999"}, {"status": "bogus"}, {"page": "x" * 1000}):
        assert c.get(url, query).status_code == 200
    assert c.get(url, {"status": "\x00"}).status_code == 400


def test_the_delivery_log_is_paginated_newest_first(org: Org):
    robot = wecom_robot(org)
    Delivery.objects.bulk_create(
        Delivery(channel="wecom", robot=robot, batch=str(i), subject=f"消息{i:03d}", body="x")
        for i in range(55)
    )
    c = as_user(org["union"])
    first = text(c.get(reverse("notifications:deliveries")))
    assert "消息054" in first and "消息000" not in first
    assert first.index("消息054") < first.index("消息053")
    second = text(c.get(reverse("notifications:deliveries"), {"page": 2}))
    assert "消息000" in second


# --- Failed background tasks ----------------------------------------------------------------


@task(retries=0)
def pages_always_fails(note: str) -> None:
    raise RuntimeError(f"{note}: https://oapi.dingtalk.com/robot/send?access_token=LEAKY")


@task(retries=1, retry_delay=60)
def pages_fails_twice(note: str) -> None:
    raise ValueError(note)


def test_the_failure_hook_records_a_failed_task_and_tells_the_union_office(
    org: Org, other_union, clean_schedule
):
    pages_always_fails("第一次失败")
    failure = TaskFailure.objects.get()
    assert failure.task == "tests.test_notify_pages.pages_always_fails"
    assert failure.final
    assert failure.error.startswith("RuntimeError: 第一次失败")
    assert "LEAKY" not in failure.error
    told = Notification.objects.filter(url=reverse("notifications:failures"))
    # The union offices of the top-level units, nobody else.
    assert set(told.values_list("user", flat=True)) == {org["union"].pk, other_union.pk}
    page = text(as_user(org["union"]).get(reverse("notifications:failures")))
    assert "pages_always_fails" in page and "given up" in page
    # A second failure within the hour is recorded but told only once.
    pages_always_fails("第二次失败")
    assert TaskFailure.objects.count() == 2
    assert told.count() == 2


def test_every_failed_attempt_is_recorded_and_only_the_last_is_told(org: Org, clean_schedule):
    pages_fails_twice("重试中")
    failure = TaskFailure.objects.get()
    assert not failure.final and failure.error == "ValueError: 重试中"
    assert not Notification.objects.filter(url=reverse("notifications:failures")).exists()
    for scheduled in HUEY.scheduled():
        if scheduled.name == "pages_fails_twice":
            HUEY.execute(scheduled, timestamp=scheduled.eta)  # the retry, when it is due
    assert list(TaskFailure.objects.order_by("pk").values_list("final", flat=True)) == [
        False,
        True,
    ]
    assert Notification.objects.filter(
        user=org["union"], url=reverse("notifications:failures")
    ).exists()


def test_the_hook_is_connected_once_and_never_raises(
    org: Org, monkeypatch: pytest.MonkeyPatch, clean_schedule
):
    from huey.signals import SIGNAL_ERROR

    from gongkai.notify.apps import NotifyConfig

    receivers = HUEY._signal.receivers[SIGNAL_ERROR]
    assert receivers.count(admin_services.on_task_error) == 1
    NotifyConfig.ready(NotifyConfig.create("gongkai.notify"))  # a second ready()
    assert receivers.count(admin_services.on_task_error) == 1

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(TaskFailure.objects, "create", broken)
    admin_services.on_task_error(SIGNAL_ERROR, object(), RuntimeError("x"))  # no exception
    pages_always_fails("数据库不可用")  # the task's caller sees no exception either
    assert not TaskFailure.objects.exists()


def test_the_failures_page_is_paginated_newest_first(org: Org):
    TaskFailure.objects.bulk_create(
        TaskFailure(task=f"gongkai.x.task{i:03d}", task_id=str(i), error="E") for i in range(55)
    )
    c = as_user(org["union"])
    first = text(c.get(reverse("notifications:failures")))
    assert "task054" in first and "task000" not in first
    assert "task000" in text(c.get(reverse("notifications:failures"), {"page": 2}))
