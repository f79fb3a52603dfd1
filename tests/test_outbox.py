"""Notices leaving the site, end to end through the queue's tasks: ``notify`` and
``announce`` → fan-out → deliveries → a real SMTP session and real HTTP posts to loopback
receivers. The on-commit callbacks run (``django_capture_on_commit_callbacks``), the tasks
run at once, and what they schedule for later runs with ``tests.queue.run_scheduled``."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import OperationalError, connections
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.notify import outbox, tasks
from gongkai.notify.models import Delivery, Notification, Preference, Robot
from gongkai.notify.services import announce, notify
from tests.factories import UserFactory
from tests.queue import empty_queue, run_scheduled, scheduled_count  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("empty_queue")
pytest_plugins = ["tests.receivers"]  # smtp_receiver, robot_receiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
SITE = "https://gk.example"
SECRET = "SECf00dfeed-signing-secret"
Status = Delivery.Status


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_NOTIFICATIONS = True
    settings.NOTIFY_ATTEMPTS = 4
    settings.NOTIFY_RETRY_DELAY = 30


@pytest.fixture
def people(org):
    """The boiler team's people with addresses (the employee, the rep, the team lead)."""
    for login in ("employee", "rep", "teamlead", "depthead", "turbine_worker", "outsider"):
        user = org[login]
        user.email = f"{login}@example.com"
        user.save(update_fields=["email"])
    return org


def prefer(user: User, **choices) -> Preference:
    pref, _created = Preference.objects.update_or_create(user=user, defaults=choices)
    return pref


def make_robot(unit, platform: str, url: str, *, secret: str = "", enabled: bool = True) -> Robot:
    return Robot.objects.create(
        unit=unit,
        name=f"{unit.name} {platform}",
        platform=platform,
        sealed_url=outbox.seal_secret(unit.pk, "sealed_url", url),
        sealed_secret=outbox.seal_secret(unit.pk, "sealed_secret", secret),
        enabled=enabled,
    )


def recipients(smtp) -> list[str]:
    return sorted(address for mail in smtp.messages for address in mail.recipients)


# --- Who receives what ----------------------------------------------------------------------


def test_notify_mails_each_person_who_wants_email_once(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    employee, rep, lead, depthead = (
        people["employee"],
        people["rep"],
        people["teamlead"],
        people["depthead"],
    )
    prefer(rep, email=False)  # turned e-mail off
    depthead.email = ""  # has no address
    depthead.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[employee, rep, lead, depthead, employee],
            message="您的意见已答复：关于夜班餐补",
            url="/voice/7/",
        )
    # Everyone has it in the site; only those who want it by e-mail, and have an address, by
    # mail, once each.
    assert Notification.objects.filter(message__startswith="您的意见已答复").count() == 4
    assert recipients(smtp_receiver) == ["employee@example.com", "teamlead@example.com"]
    mail = smtp_receiver.to("employee@example.com")[0]
    assert mail.subject == "您的意见已答复：关于夜班餐补"
    assert f"{SITE}/voice/7/" in mail.body
    assert f"{SITE}/notifications/preferences/" in mail.body  # how to change it
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_nothing_is_sent_before_the_transaction_commits(people, smtp_receiver):
    notify(users=[people["employee"]], message="尚未提交的通知")
    assert smtp_receiver.messages == []
    assert not Delivery.objects.exists()


def test_notify_never_reaches_a_chat_robot(
    people, smtp_receiver, robot_receiver, django_capture_on_commit_callbacks
):
    for platform in ("wecom", "dingtalk", "feishu", "webhook"):
        make_robot(people.boiler_team, platform, robot_receiver.add(platform))
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["employee"], people["teamlead"]], message="轮到您审批：班组费用")
    assert len(smtp_receiver.messages) == 2
    assert robot_receiver.requests == 0
    assert not Delivery.objects.filter(robot__isnull=False).exists()


def test_a_private_notice_says_only_that_there_is_something_new(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    secret_text = "匿名举报：张三在招标中收受回扣"
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["employee"]], message=secret_text, url="/reports/99/", private=True)
    # In the site the person reads it; outside it, nothing of it.
    assert Notification.objects.get(user=people["employee"]).message == secret_text
    [mail] = smtp_receiver.messages
    assert "张三" not in mail.text and "回扣" not in mail.text
    assert "/reports/99/" not in mail.text
    assert f"{SITE}/notifications/" in mail.body
    delivery = Delivery.objects.get()
    assert "张三" not in delivery.subject + delivery.body
    assert delivery.url == "/notifications/"


def test_a_message_with_line_breaks_still_makes_a_valid_subject(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["employee"]], message="第一行\r\n第二行\nBcc: evil@example.com")
    [mail] = smtp_receiver.messages
    assert mail.subject == "第一行 第二行 Bcc: evil@example.com"
    assert mail.recipients == ["employee@example.com"]
    assert mail.message["Bcc"] is None


def test_announce_reaches_the_units_enabled_robots_and_the_readers_who_asked_for_news(
    people, smtp_receiver, robot_receiver, django_capture_on_commit_callbacks
):
    team = people.boiler_team
    urls = {
        "wecom": robot_receiver.add("wecom"),
        "dingtalk": robot_receiver.add("dingtalk", secret=SECRET),
        "feishu": robot_receiver.add("feishu", secret=SECRET),
        "webhook": robot_receiver.add("webhook", secret=SECRET),
    }
    for platform, url in urls.items():
        make_robot(team, platform, url, secret="" if platform == "wecom" else SECRET)
    disabled = robot_receiver.add("dingtalk")
    make_robot(team, "dingtalk", disabled, enabled=False)
    other_units = robot_receiver.add("wecom")
    make_robot(people.turbine_team, "wecom", other_units)
    make_robot(people.boiler, "wecom", robot_receiver.add("wecom"))  # the parent's robot

    prefer(people["employee"], board_news=True)
    prefer(people["rep"], board_news=True, email=False)  # news, but not by e-mail
    prefer(people["turbine_worker"], board_news=True)  # not a reader of this board
    # teamlead: never asked for news

    with django_capture_on_commit_callbacks(execute=True):
        announce(unit=team, message="锅炉运行一班公开了《班组费用》", url="/boards/rd-boiler-1/")

    for platform, url in urls.items():
        [posted] = robot_receiver.to(url)
        assert "锅炉运行一班公开了《班组费用》" in posted.everything, platform
        assert f"{SITE}/boards/rd-boiler-1/" in posted.everything
        # A group cannot choose personal preferences: no such footer.
        assert "/notifications/preferences/" not in posted.everything
    assert robot_receiver.to(disabled) == []
    assert robot_receiver.to(other_units) == []
    assert len(robot_receiver.messages) == 4
    assert recipients(smtp_receiver) == ["employee@example.com"]
    assert smtp_receiver.messages[0].subject == "锅炉运行一班公开了《班组费用》"


def test_announce_without_news_reaches_only_the_robots(
    people, smtp_receiver, robot_receiver, django_capture_on_commit_callbacks
):
    url = robot_receiver.add("feishu")
    make_robot(people.boiler_team, "feishu", url)
    prefer(people["employee"], board_news=True)
    with django_capture_on_commit_callbacks(execute=True):
        announce(unit=people.boiler_team, message="本周五召开班组民主生活会", news=False)
    assert len(robot_receiver.to(url)) == 1
    assert smtp_receiver.messages == []


# --- When -----------------------------------------------------------------------------------


def test_digest_holds_messages_until_the_digest_then_one_mail_per_person(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    employee, lead = people["employee"], people["teamlead"]
    prefer(employee, timing=Preference.Timing.DIGEST)
    prefer(lead, timing=Preference.Timing.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[employee, lead], message="第一条：会议纪要已公开", url="/a/")
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[employee], message="第二条：您的意见已答复", url="/b/")
    assert smtp_receiver.messages == []
    assert Delivery.objects.filter(status=Status.HELD).count() == 3

    tasks.send_digests()
    assert recipients(smtp_receiver) == ["employee@example.com", "teamlead@example.com"]
    digest = smtp_receiver.to("employee@example.com")[0]
    assert "第一条：会议纪要已公开" in digest.body and "第二条：您的意见已答复" in digest.body
    assert f"{SITE}/a/" in digest.body and f"{SITE}/b/" in digest.body
    assert "2" in digest.subject
    assert Delivery.objects.filter(status=Status.DIGESTED).count() == 3

    tasks.send_digests()  # nothing held any more: nothing sent twice
    assert len(smtp_receiver.messages) == 2


def test_quiet_hours_delay_a_mail_until_they_end(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    employee, lead = people["employee"], people["teamlead"]
    prefer(employee, quiet_from=time(22, 0), quiet_until=time(7, 30))
    with time_machine.travel(datetime(2026, 3, 10, 23, 15, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[employee, lead], message="夜间到达的通知", url="/x/")
        # The team lead has no quiet hours; the employee's mail waits for the morning.
        assert recipients(smtp_receiver) == ["teamlead@example.com"]
        waiting = Delivery.objects.get(user=employee)
        assert waiting.status == Status.QUEUED
        assert waiting.not_before == datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI)
        assert scheduled_count() == 1

        tasks.sweep()  # the sweeper does not send it early either
        assert len(smtp_receiver.messages) == 1

        run_scheduled(clock=clock)
        assert timezone.localtime(timezone.now()) >= datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI)
    assert recipients(smtp_receiver) == ["employee@example.com", "teamlead@example.com"]
    waiting.refresh_from_db()
    assert waiting.status == Status.SENT
    assert waiting.sent_at >= datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI)


def test_a_digest_that_falls_in_quiet_hours_waits_for_their_end(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    employee = people["employee"]
    prefer(employee, timing=Preference.Timing.DIGEST, quiet_from=time(16), quiet_until=time(18))
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[employee], message="白天攒下的通知")
        clock.move_to(datetime(2026, 3, 10, 17, 0, tzinfo=SHANGHAI))
        tasks.send_digests()
        assert smtp_receiver.messages == []
        run_scheduled(clock=clock)
        assert timezone.localtime(timezone.now()).hour == 18
    [mail] = smtp_receiver.messages
    assert "白天攒下的通知" in mail.body


def test_outside_quiet_hours_a_mail_goes_at_once(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    prefer(people["employee"], quiet_from=time(22, 0), quiet_until=time(7, 30))
    with (
        time_machine.travel(datetime(2026, 3, 10, 14, 0, tzinfo=SHANGHAI)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify(users=[people["employee"]], message="白天的通知")
    assert len(smtp_receiver.messages) == 1
    assert scheduled_count() == 0


# --- Failures and retries -------------------------------------------------------------------


def test_a_refused_mail_is_retried_and_arrives_exactly_once(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    smtp_receiver.refuse_next(1, code=451)
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[people["employee"], people["teamlead"]], message="请确认会议时间")
        # The first message was refused, the second went.
        assert len(smtp_receiver.messages) == 1
        failed = Delivery.objects.get(status=Status.RETRYING)
        assert failed.attempts == 1
        assert "451" in failed.last_error
        assert failed.log[0]["result"] != "ok"
        assert failed.not_before > timezone.now()
        assert scheduled_count() == 1

        run_scheduled(clock=clock)
    assert recipients(smtp_receiver) == ["employee@example.com", "teamlead@example.com"]
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert failed.attempts == 2
    assert [entry["result"] == "ok" for entry in failed.log] == [False, True]
    assert scheduled_count() == 0


def test_an_unreachable_mail_server_is_retried_until_it_is_back(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    smtp_receiver.stop()
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[people["employee"], people["teamlead"]], message="服务器停机期间的通知")
        assert set(Delivery.objects.values_list("status", flat=True)) == {Status.RETRYING}
        assert run_scheduled(clock=clock, rounds=1) == 1  # both in one batch, still down
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {2}
        smtp_receiver.start()
        run_scheduled(clock=clock)
    assert recipients(smtp_receiver) == ["employee@example.com", "teamlead@example.com"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_after_the_last_attempt_a_mail_is_failed(
    people, smtp_receiver, django_capture_on_commit_callbacks, settings
):
    smtp_receiver.refuse_next(100, code=451)
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[people["employee"]], message="始终被拒收的通知")
        run_scheduled(clock=clock)
    delivery = Delivery.objects.get()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == settings.NOTIFY_ATTEMPTS
    assert len(delivery.log) == settings.NOTIFY_ATTEMPTS
    assert "451" in delivery.last_error
    assert smtp_receiver.refused == settings.NOTIFY_ATTEMPTS
    assert smtp_receiver.messages == []
    assert scheduled_count() == 0


def test_when_the_server_closes_the_session_mid_batch_the_rest_still_go(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    smtp_receiver.refuse_next(1, code=421)  # 421: the server closes the session
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[people["employee"], people["teamlead"], people["depthead"]],
            message="会话中断",
        )
    assert len(smtp_receiver.messages) == 2
    assert Delivery.objects.filter(status=Status.SENT).count() == 2
    assert Delivery.objects.get(status=Status.RETRYING).attempts == 1


def test_a_mail_refused_for_good_is_failed_at_once_and_the_others_still_go(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    smtp_receiver.refuse_next(1, code=550)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["employee"], people["teamlead"]], message="永久拒收")
    refused = Delivery.objects.get(status=Status.FAILED)
    assert (refused.attempts, "550" in refused.last_error) == (1, True)
    assert Delivery.objects.filter(status=Status.SENT).count() == 1
    assert len(smtp_receiver.messages) == 1
    assert scheduled_count() == 0


def test_the_waits_between_attempts_double(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    smtp_receiver.refuse_next(3)
    start = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[people["employee"]], message="重试间隔")
        run_scheduled(clock=clock)
    delivery = Delivery.objects.get()
    assert delivery.status == Status.SENT
    moments = [datetime.fromisoformat(entry["at"]) for entry in delivery.log]
    waits = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert waits == [30, 60, 120]


def test_a_failing_robot_is_retried_and_posts_exactly_once(
    people, robot_receiver, django_capture_on_commit_callbacks
):
    url = robot_receiver.add("dingtalk", secret=SECRET)
    make_robot(people.boiler_team, "dingtalk", url, secret=SECRET)
    robot_receiver.fail_next(1, how="platform")
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            announce(unit=people.boiler_team, message="班组会议改到周四")
        delivery = Delivery.objects.get()
        assert delivery.status == Status.RETRYING
        assert "-1" in delivery.last_error
        assert url not in delivery.last_error and SECRET not in delivery.last_error
        assert robot_receiver.to(url) == []
        run_scheduled(clock=clock)
    assert len(robot_receiver.to(url)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)


def test_a_robot_with_a_wrong_secret_ends_failed_with_the_platforms_reason(
    people, robot_receiver, django_capture_on_commit_callbacks, settings
):
    url = robot_receiver.add("feishu", secret=SECRET)
    make_robot(people.boiler_team, "feishu", url, secret="SECwrong")
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            announce(unit=people.boiler_team, message="签名错误的机器人")
        run_scheduled(clock=clock)
    delivery = Delivery.objects.get()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == settings.NOTIFY_ATTEMPTS
    assert "19021" in delivery.last_error
    assert "SECwrong" not in delivery.last_error
    assert robot_receiver.messages == []


def test_a_robot_disabled_before_its_turn_is_not_posted_to(
    people, robot_receiver, django_capture_on_commit_callbacks
):
    url = robot_receiver.add("wecom")
    robot = make_robot(people.boiler_team, "wecom", url)
    robot_receiver.fail_next(1)
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            announce(unit=people.boiler_team, message="停用前的通知")
        robot.enabled = False
        robot.save(update_fields=["enabled"])
        run_scheduled(clock=clock)
    assert robot_receiver.to(url) == []
    assert Delivery.objects.get().status == Status.FAILED


def test_a_person_who_turns_email_off_while_a_mail_waits_does_not_get_it(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    employee = people["employee"]
    prefer(employee, quiet_from=time(22, 0), quiet_until=time(7, 0))
    with time_machine.travel(datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify(users=[employee], message="夜里的通知")
        prefer(employee, email=False)
        run_scheduled(clock=clock)
    assert smtp_receiver.messages == []
    assert Delivery.objects.get().status == Status.FAILED


# --- Idempotence and races ------------------------------------------------------------------


def test_running_a_fan_out_or_a_send_twice_sends_nothing_twice(
    people, smtp_receiver, robot_receiver
):
    url = robot_receiver.add("webhook", secret=SECRET)
    make_robot(people.boiler_team, "webhook", url, secret=SECRET)
    prefer(people["employee"], board_news=True)
    users = [people["employee"].pk, people["teamlead"].pk]

    tasks.fan_out_personal(users, "同一批通知", "/x/", False, "batch-personal-1")
    tasks.fan_out_personal(users, "同一批通知", "/x/", False, "batch-personal-1")
    tasks.fan_out_unit(people.boiler_team.pk, "同一条公告", "/y/", "batch-unit-1", True)
    tasks.fan_out_unit(people.boiler_team.pk, "同一条公告", "/y/", "batch-unit-1", True)
    assert Delivery.objects.filter(batch="batch-personal-1").count() == 2
    assert Delivery.objects.filter(batch="batch-unit-1").count() == 2  # the robot + employee
    assert len(smtp_receiver.messages) == 3
    assert len(robot_receiver.messages) == 1

    email_ids = list(
        Delivery.objects.filter(channel=Delivery.Channel.EMAIL).values_list("pk", flat=True)
    )
    tasks.send_emails(email_ids)
    tasks.send_robot(Delivery.objects.get(robot__isnull=False).pk)
    tasks.sweep()
    tasks.send_digests()
    assert len(smtp_receiver.messages) == 3
    assert len(robot_receiver.messages) == 1


def test_two_claims_of_the_same_delivery_only_one_gets_it(people):
    delivery = Delivery.objects.create(
        channel=Delivery.Channel.EMAIL, user=people["employee"], batch="b", subject="s", body="b"
    )
    now = timezone.now()
    first = outbox.claim([delivery.pk], now=now)
    second = outbox.claim([delivery.pk], now=now)
    assert [d.pk for d in first] == [delivery.pk]
    assert second == []
    delivery.refresh_from_db()
    assert delivery.status == Status.SENDING and delivery.claim


def test_a_claim_takes_only_what_is_due_and_of_its_channel(people):
    employee = people["employee"]
    robot = make_robot(people.boiler_team, "wecom", "http://127.0.0.1:9/")
    now = timezone.now()
    later = Delivery.objects.create(
        channel="email",
        user=employee,
        batch="b",
        subject="s",
        body="b",
        not_before=now + timedelta(hours=1),
    )
    held = Delivery.objects.create(
        channel="email", user=employee, batch="b2", subject="s", body="b", status=Status.HELD
    )
    post = Delivery.objects.create(channel="wecom", robot=robot, batch="b", subject="s", body="b")
    assert outbox.claim([later.pk, held.pk, post.pk], now=now, channels=["email"]) == []
    assert outbox.send_emails([post.pk]) == {}
    post.refresh_from_db()
    assert post.status == Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_only_one_gets_it():
    user = UserFactory(email="racer@example.com")
    delivery = Delivery.objects.create(
        channel=Delivery.Channel.EMAIL, user=user, batch="race", subject="s", body="b"
    )
    barrier = threading.Barrier(2)
    taken: list[int] = []
    errors: list[BaseException] = []

    def claim() -> list[int]:
        # SQLite's test database lives in memory with a shared cache, where a reader meeting
        # a writer gets "table is locked" at once instead of waiting out the busy timeout as
        # the file database of `make run` does: try again, as that wait would.
        for _attempt in range(50):
            try:
                return [d.pk for d in outbox.claim([delivery.pk], now=timezone.now())]
            except OperationalError as locked:
                if "locked" not in str(locked):
                    raise
                threading.Event().wait(0.02)
        raise AssertionError("still locked after a second")

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            taken.extend(claim())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert taken == [delivery.pk]


def test_requeue_stale_hands_back_a_delivery_stuck_in_sending(people, smtp_receiver):
    now = timezone.now()
    stuck = Delivery.objects.create(
        channel="email",
        user=people["employee"],
        batch="s",
        subject="卡住的通知",
        body="正文",
        status=Status.SENDING,
        claim="dead-worker",
        claimed_at=now - timedelta(minutes=20),
    )
    busy = Delivery.objects.create(
        channel="email",
        user=people["teamlead"],
        batch="s",
        subject="正在发送",
        body="正文",
        status=Status.SENDING,
        claim="live-worker",
        claimed_at=now - timedelta(minutes=2),
    )
    assert outbox.requeue_stale(now=now) == 1
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.claim, stuck.attempts) == (Status.RETRYING, "", 1)
    assert busy.status == Status.SENDING  # a live worker's delivery is left alone

    tasks.sweep()  # the sweeper sends what was handed back
    assert recipients(smtp_receiver) == ["employee@example.com"]
    stuck.refresh_from_db()
    assert stuck.status == Status.SENT


def test_a_delivery_that_keeps_killing_its_worker_ends_failed(people, settings):
    now = timezone.now()
    stuck = Delivery.objects.create(
        channel="email",
        user=people["employee"],
        batch="s",
        subject="s",
        body="b",
        status=Status.SENDING,
        claimed_at=now - timedelta(hours=1),
        attempts=settings.NOTIFY_ATTEMPTS - 1,
    )
    outbox.requeue_stale(now=now)
    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED


def test_one_notice_reaches_a_person_or_robot_once_even_if_written_twice(people):
    """Two fan-outs of one notice racing past the "already written?" check: the database
    keeps one delivery per recipient of the batch."""
    employee = people["employee"]
    robot = make_robot(people.boiler_team, "wecom", "http://127.0.0.1:9/")

    def rows() -> list[Delivery]:
        return [
            Delivery(channel="email", user=employee, batch="twice", subject="s", body="b"),
            Delivery(channel="wecom", robot=robot, batch="twice", subject="s", body="b"),
        ]

    Delivery.objects.bulk_create(rows())
    Delivery.objects.bulk_create(rows(), ignore_conflicts=True)  # the second fan-out
    assert Delivery.objects.filter(batch="twice").count() == 2


def test_history_loaded_in_app_only_is_never_sent(
    people, smtp_receiver, django_capture_on_commit_callbacks
):
    """The demo's past year (seed_demo) writes its notices in the site only."""
    from gongkai.notify.services import in_app_only

    robot = make_robot(people.boiler_team, "wecom", "http://127.0.0.1:9/")
    with django_capture_on_commit_callbacks(execute=True), in_app_only():
        notify(users=[people["employee"]], message="去年的意见已答复", url="/voice/1/")
        announce(unit=robot.unit, message="去年的公开", url="/disclosures/1/")
    assert Notification.objects.filter(message="去年的意见已答复").count() == 1
    assert smtp_receiver.messages == [] and not Delivery.objects.exists()
    # Outside the block, notices leave the site again.
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["employee"]], message="今天的通知", url="/voice/2/")
    assert recipients(smtp_receiver) == ["employee@example.com"]
