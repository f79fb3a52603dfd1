"""The engine of time: reminders before a deadline, on the day, escalations after it, on
working days, each stage once, stopping when the deadline is met."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError

from gongkai.core import deadlines as registry
from gongkai.core.deadlines import Deadline
from gongkai.core.models import CalendarDay, DayKind
from gongkai.notify import reminders
from gongkai.notify.models import Delivery, Notification, Reminder, Robot
from gongkai.notify.outbox import seal_secret

DUE = date(2026, 12, 17)  # a Thursday


class FakeSource:
    """Deadlines held in a list; ``met`` ones are no longer yielded, as a real source does."""

    kind = "test"

    def __init__(self) -> None:
        self.items: list[Deadline] = []
        self.met: set[str] = set()
        self.asked: list[tuple[date, date]] = []

    def label(self) -> str:
        return "test deadlines"

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        self.asked.append((first, last))
        batch = [d for d in self.items if first <= d.due <= last and d.key not in self.met]
        if batch:
            yield batch


@pytest.fixture
def source(monkeypatch) -> FakeSource:
    fake = FakeSource()
    monkeypatch.setattr(registry, "_SOURCES", {"test": fake})
    return fake


def deadline(org, *, key: str = "1", due: date = DUE, **extra) -> Deadline:
    options = {
        "kind": "test",
        "key": key,
        "due": due,
        "unit_id": org.boiler_team.pk,
        "title": "锅炉运行一班: 班组考勤公开",
        "url": "/boards/rd-boiler-1/",
        "people": frozenset({org["employee"].pk}),
    }
    options.update(extra)
    return Deadline(**options)


def notices(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("message", flat=True))


def scan(day: date) -> int:
    return reminders.scan(day)


@pytest.mark.django_db
def test_each_stage_goes_to_the_right_people_once(org, source) -> None:
    source.items.append(deadline(org))
    employee, head, union = org["employee"], org["teamlead"], org["union"]

    assert scan(date(2026, 12, 11)) == 0  # a Friday: four working days before, too early
    assert scan(date(2026, 12, 14)) == 1  # Monday: three working days before
    [first] = notices(employee)
    assert "锅炉运行一班: 班组考勤公开" in first and "2026-12-17" in first
    assert scan(date(2026, 12, 14)) == 0  # the same day again: nothing twice
    assert scan(date(2026, 12, 15)) == 0  # the stage is still "before": already sent
    assert scan(date(2026, 12, 17)) == 1  # the day itself
    assert len(notices(employee)) == 2
    assert notices(head) == []
    assert scan(date(2026, 12, 18)) == 1  # one working day overdue: the unit's head
    assert len(notices(head)) == 1 and notices(union) == []
    assert len(notices(employee)) == 2  # the head is told, not the person again
    assert scan(date(2026, 12, 21)) == 0  # two working days overdue: nothing new
    assert scan(date(2026, 12, 22)) == 1  # three: the union office
    assert len(notices(union)) == 1
    stages = Reminder.objects.filter(kind="test", key="1").values_list("stage", flat=True)
    assert sorted(stages) == ["before", "day", "head", "union"]


@pytest.mark.django_db
def test_nothing_on_days_off_and_working_days_follow_the_calendar(org, source) -> None:
    CalendarDay.objects.create(day=date(2026, 12, 15), kind=DayKind.HOLIDAY, name="假日")
    CalendarDay.objects.create(day=date(2026, 12, 12), kind=DayKind.WORKDAY, name="调休上班")
    source.items.append(deadline(org))

    assert scan(date(2026, 12, 13)) == 0  # Sunday: no reminders on a day off
    # Three working days before the 17th are the 16th, the 14th and Saturday the 12th (调休).
    assert reminders.stage_dates(source.items[0], reminders.calendar_for([2026]))["before"] == (
        date(2026, 12, 12)
    )
    assert scan(date(2026, 12, 12)) == 1
    assert scan(date(2026, 12, 15)) == 0  # the holiday


@pytest.mark.django_db
def test_a_met_deadline_is_never_reminded_again(org, source) -> None:
    source.items.append(deadline(org))
    assert scan(date(2026, 12, 14)) == 1
    source.met.add("1")  # published: the source no longer yields it
    for day in (date(2026, 12, 17), date(2026, 12, 18), date(2026, 12, 22)):
        assert scan(day) == 0
    assert len(notices(org["employee"])) == 1
    assert notices(org["teamlead"]) == notices(org["union"]) == []


@pytest.mark.django_db
def test_a_missed_day_sends_only_the_latest_stage(org, source) -> None:
    """The worker was down until the deadline had passed by three working days: the union
    office is told, not a stale "due in 3 days" to the officer."""
    source.items.append(deadline(org))
    assert scan(date(2026, 12, 22)) == 1
    assert notices(org["employee"]) == [] and notices(org["teamlead"]) == []
    assert len(notices(org["union"])) == 1


@pytest.mark.django_db
def test_old_backlog_is_not_escalated(org, source) -> None:
    source.items.append(deadline(org, due=date(2026, 11, 2)))
    assert scan(date(2026, 12, 14)) == 0
    assert Reminder.objects.count() == 0


@pytest.mark.django_db
def test_lead_per_deadline_and_no_escalation_where_nothing_can_be_overdue(org, source) -> None:
    source.items.append(deadline(org, key="a", lead=5))
    source.items.append(deadline(org, key="b", escalate=False))
    assert scan(date(2026, 12, 10)) == 1  # five working days before the 17th: only "a"
    assert scan(date(2026, 12, 18)) == 1  # "a" escalates to the head; "b" never does
    assert scan(date(2026, 12, 22)) == 1
    assert not Reminder.objects.filter(key="b", stage__in=["head", "union"]).exists()


@pytest.mark.django_db
def test_a_unit_without_a_head_escalates_to_the_head_above(org, source) -> None:
    source.items.append(deadline(org, unit_id=org.turbine_team.pk))
    assert scan(date(2026, 12, 18)) == 1
    # 汽机运行一班 and 汽机分场 have no head; the company has none either: the union office
    assert len(notices(org["union"])) == 1
    assert notices(org["teamlead"]) == notices(org["depthead"]) == []


@pytest.mark.django_db
def test_a_second_worker_cannot_send_a_stage_twice(org, source) -> None:
    source.items.append(deadline(org))
    [batch] = list(reminders.plan(date(2026, 12, 14)))
    assert reminders.deliver(batch, today=date(2026, 12, 14)) == 1
    with pytest.raises(IntegrityError):
        reminders.deliver(batch, today=date(2026, 12, 14))  # planned before the first sent
    assert len(notices(org["employee"])) == 1  # the losing batch rolled back entirely


@pytest.mark.django_db
def test_e_mail_and_the_team_robot_hear_a_group_deadline(
    org, source, django_capture_on_commit_callbacks
) -> None:
    employee = org["employee"]
    employee.email = "employee@example.com"
    employee.save()
    robot = Robot.objects.create(
        unit=org.boiler_team,
        name="班组群",
        platform="wecom",
        sealed_url=seal_secret(org.boiler_team.pk, "sealed_url", "http://127.0.0.1:9/hook"),
    )
    Robot.objects.create(
        unit=org.turbine_team,
        name="别的班组",
        platform="wecom",
        sealed_url=seal_secret(org.turbine_team.pk, "sealed_url", "http://127.0.0.1:9/x"),
    )
    source.items.append(deadline(org, group=True))
    with django_capture_on_commit_callbacks(execute=True):
        scan(date(2026, 12, 14))
    assert [m.to for m in mail.outbox] == [["employee@example.com"]]
    assert "班组考勤公开" in mail.outbox[0].body
    assert list(Delivery.objects.filter(robot__isnull=False).values_list("robot", flat=True)) == [
        robot.pk
    ]
    # The escalation goes to the head, never to the group chat.
    with django_capture_on_commit_callbacks(execute=True):
        scan(date(2026, 12, 18))
    assert Delivery.objects.filter(robot__isnull=False).count() == 1


@pytest.mark.django_db
def test_a_private_deadline_says_nothing_outside_the_site(
    org, source, django_capture_on_commit_callbacks
) -> None:
    employee = org["employee"]
    employee.email = "employee@example.com"
    employee.save()
    Robot.objects.create(
        unit=org.boiler_team,
        name="班组群",
        platform="wecom",
        sealed_url=seal_secret(org.boiler_team.pk, "sealed_url", "http://127.0.0.1:9/hook"),
    )
    source.items.append(deadline(org, title="匿名异议：某某多报加班", private=True, group=True))
    with django_capture_on_commit_callbacks(execute=True):
        scan(date(2026, 12, 14))
    assert "匿名异议" in notices(employee)[0]  # in the site, to the person, it may say
    [message] = mail.outbox
    assert "匿名异议" not in message.subject + message.body
    assert "某某" not in message.subject + message.body
    assert not Delivery.objects.filter(robot__isnull=False).exists()


@pytest.mark.django_db
def test_dry_run_explains_and_sends_nothing(org, source) -> None:
    source.items.append(deadline(org))
    out = StringIO()
    call_command("reminders", "--date", "2026-12-18", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "test\t1\thead\tdue 2026-12-17" in text
    assert "teamlead" in text  # to whom
    assert "1 reminders would be sent" in text
    assert Reminder.objects.count() == 0 and Notification.objects.count() == 0

    out = StringIO()
    call_command("reminders", "--date", "2026-12-19", "--dry-run", stdout=out)
    assert "not a working day" in out.getvalue()

    call_command("reminders", "--date", "2026-12-18", stdout=StringIO())
    assert Reminder.objects.filter(stage="head").count() == 1


def test_dry_run_refuses_a_bad_date() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reminders", "--date", "18/12/2026", "--dry-run")
