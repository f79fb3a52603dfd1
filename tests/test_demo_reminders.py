"""On ``make run`` the demo shows the reminder engine at work, whatever the day it is loaded:
a deadline three working days away reminds the team lead ("teamlead"), one overdue by one
working day is escalated to the boiler department's head ("depthead"), one overdue by three
to the union office ("union"), in the site and by e-mail (the demo logins have addresses),
and ``reminders --dry-run`` explains each.

The demo is loaded once per day below, with the clock pinned to it (Asia/Shanghai), on the
2026 working-day calendar (its holidays and 调休): a Monday (the team's November catalog
items are due on Thursday), a Thursday before a weekend (nothing of the team's catalog is
due three working days later: a suggestion is), the eve of the National Day holiday (three
working days ahead is the Saturday worked after it; three working days back crosses the
Mid-Autumn holiday), and a day inside that holiday (no reminder is sent on a rest day: the
next working day's scan sends them, and ``seed_demo`` says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.ballots.models import Poll, PollStatus
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.core.workdays import calendar_for
from gongkai.demo.calendar import reminder_days
from gongkai.demo.org import BOILER_TEAM, DEMO_LOGINS
from gongkai.notify import reminders
from gongkai.notify.models import Delivery, Notification, Reminder
from gongkai.org.models import OrgUnit
from gongkai.surveys.models import Survey, SurveyStatus
from tests.conftest import ensure_catalog, walked_here
from tests.queue import clear

SH = ZoneInfo("Asia/Shanghai")
Stage = Reminder.Stage


@dataclass(frozen=True)
class Day:
    """A day the demo is loaded, and the dates the reminders must fall on (worked out by
    hand on the 2026 calendar)."""

    moment: datetime
    scan_on: date  # the day the reminders go
    before: date  # due three working days after it: the team lead is reminded
    head: date  # due one working day before it: escalated to the unit's head
    union: date  # due three working days before it: escalated to the union office


DAYS = {
    "monday": Day(
        datetime(2026, 12, 7, 10, 0, tzinfo=SH),
        scan_on=date(2026, 12, 7),
        before=date(2026, 12, 10),  # Thursday: the team's November items are due
        head=date(2026, 12, 4),  # the Friday before
        union=date(2026, 12, 2),  # the Wednesday before
    ),
    "thursday-before-a-weekend": Day(
        datetime(2026, 3, 19, 9, 0, tzinfo=SH),
        scan_on=date(2026, 3, 19),
        before=date(2026, 3, 24),  # Tuesday, over the weekend
        head=date(2026, 3, 18),
        union=date(2026, 3, 16),
    ),
    "eve-of-national-day": Day(
        datetime(2026, 9, 30, 16, 0, tzinfo=SH),
        scan_on=date(2026, 9, 30),
        before=date(2026, 10, 10),  # 8-9 October, then Saturday the 10th, worked (调休)
        head=date(2026, 9, 29),
        union=date(2026, 9, 24),  # 28-29 September, then back over Mid-Autumn (25-27)
    ),
    "inside-national-day": Day(
        datetime(2026, 10, 3, 11, 0, tzinfo=SH),
        scan_on=date(2026, 10, 8),  # the holiday runs to Wednesday the 7th
        before=date(2026, 10, 12),  # 9 October, Saturday the 10th (调休), Monday the 12th
        head=date(2026, 9, 30),
        union=date(2026, 9, 28),
    ),
}


@dataclass(frozen=True)
class Loaded:
    day: Day
    output: str  # what seed_demo printed

    @property
    def rest_day(self) -> bool:
        return self.day.scan_on != self.day.moment.date()


# PostgreSQL walks a working day and a rest day (tests.conftest.walked_here).
PG_DAYS = ("monday", "inside-national-day")


@pytest.fixture(scope="module", params=walked_here(DAYS, PG_DAYS), ids=walked_here(DAYS, PG_DAYS))
def loaded(request, django_db_setup, django_db_blocker):
    """The demo seeded once per day, outside the per-test transactions, the clock pinned to
    that day; flushed afterwards so the other tests start from the migrated state."""
    day = DAYS[request.param]
    with time_machine.travel(day.moment, tick=True), django_db_blocker.unblock():
        ensure_catalog()
        load_year(CalendarDay, 2026)  # the migration's calendar, in case a flush emptied it
        out = StringIO()
        call_command("seed_demo", stdout=out)
        try:
            yield Loaded(day, out.getvalue())
        finally:
            call_command("flush", "--noinput")
            ensure_catalog()
            load_year(CalendarDay, 2026)
            clear()


def login(name: str) -> User:
    return User.objects.get(employee_no=name)


@contextmanager
def before_the_scan(day: date) -> Iterator[None]:
    """The state just before the scan of ``day``. Loaded on a working day, seed_demo has
    sent that day's reminders already (once each: a dry run of the day is then empty), so
    the day's reminder rows are forgotten for the block (a savepoint rolled back)."""
    with transaction.atomic():
        Reminder.objects.filter(sent_on=day).delete()
        yield
        transaction.set_rollback(True)


def planned(day: date) -> list[reminders.Planned]:
    """What the scan of ``day`` sends (or sent), as the dry run lists it."""
    with before_the_scan(day):
        return [p for batch in reminders.plan(day) for p in batch]


def send(loaded: Loaded) -> None:
    """The scan of the day the reminders go: seed_demo's own on a working day; on a rest
    day nothing was sent, and the next working day's scan sends them (``reminders``)."""
    if loaded.rest_day:
        assert not Reminder.objects.exists()
        call_command("reminders", "--date", loaded.day.scan_on.isoformat(), stdout=StringIO())


def working_days(a: date, b: date) -> int:
    return calendar_for([2026]).working_days_between(a, b)


@pytest.mark.django_db
def test_the_demo_dates_its_deadlines_on_working_days(loaded):
    day = loaded.day
    days = reminder_days(day.moment.date())
    assert timezone.localdate() == day.moment.date()
    assert days.scan_on == day.scan_on
    assert days.reminded("suggestion") == days.reminded("obligation") == day.before
    assert (days.head_overdue, days.union_overdue) == (day.head, day.union)
    assert working_days(day.scan_on, day.before) == 3
    assert working_days(day.head, day.scan_on) == 1
    assert working_days(day.union, day.scan_on) == 3


@pytest.mark.django_db
def test_teamlead_is_reminded_of_a_deadline_three_working_days_away(loaded):
    day = loaded.day
    team = OrgUnit.objects.get(code=BOILER_TEAM)
    teamlead = login("teamlead")
    mine = [
        p
        for p in planned(day.scan_on)
        if p.stage == Stage.BEFORE and p.deadline.unit_id == team.pk and teamlead.pk in p.people
    ]
    assert mine, "teamlead has no reminder before a deadline"
    for p in mine:
        assert p.deadline.due == day.before
        assert p.deadline.kind in ("obligation", "suggestion")
        assert p.deadline.due.isoformat() in p.message and " 3 " in p.message
    # The team's catalog when an item of it falls due then (left as the team lead's draft
    # when its period is over), else a suggestion assigned to the team.
    kinds = {p.deadline.kind for p in mine}
    if day.before in (date(2026, 12, 10), date(2026, 10, 10)):
        assert kinds == {"obligation"}
    else:
        assert kinds == {"suggestion"}
    send(loaded)
    for p in mine:
        assert Reminder.objects.filter(
            kind=p.deadline.kind, key=p.deadline.key, stage=Stage.BEFORE, sent_on=day.scan_on
        ).exists()
        assert Notification.objects.filter(
            user=teamlead, message=p.message, url=p.deadline.url
        ).exists()


@pytest.mark.django_db
def test_what_is_overdue_is_escalated_to_depthead_and_the_union_office(loaded):
    day = loaded.day
    plans = planned(day.scan_on)
    boiler = OrgUnit.objects.get(code="rd-boiler")
    depthead, union = login("depthead"), login("union")
    # (Other items of the demo may fall due on those days too, depending on the day: the
    # demo's own two are the boiler department's overdue motion and the overdue suggestion.)
    head = [
        p
        for p in plans
        if p.stage == Stage.HEAD and p.deadline.due == day.head and p.deadline.kind == "motion"
    ]
    assert len(head) == 1
    assert head[0].deadline.unit_id == boiler.pk and head[0].people == {depthead.pk}
    to_union = [
        p
        for p in plans
        if p.stage == Stage.UNION
        and p.deadline.due == day.union
        and p.deadline.kind == "suggestion"
    ]
    assert len(to_union) == 1
    assert to_union[0].people == {union.pk}
    # Escalations go to the head or the union office, never to the unit's group chat.
    assert not head[0].robots and not to_union[0].robots
    send(loaded)
    for p, user in ((head[0], depthead), (to_union[0], union)):
        assert Notification.objects.filter(user=user, message=p.message).exists()
        assert f" {working_days(p.deadline.due, day.scan_on)} " in p.message


@pytest.mark.django_db
def test_the_dry_run_lists_them_with_their_reasons(loaded):
    day = loaded.day
    plans = {(p.deadline.kind, p.deadline.key, p.stage): p for p in planned(day.scan_on)}
    out = StringIO()
    with before_the_scan(day.scan_on):
        call_command("reminders", "--dry-run", "--date", day.scan_on.isoformat(), stdout=out)
        # Nothing was sent by the dry run.
        assert not Reminder.objects.filter(sent_on=day.scan_on).exists()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith(f"{day.scan_on}: {len(plans)} reminders would be sent")
    listed: dict[tuple[str, str, str], tuple[str, str, str, str]] = {}
    for line in lines[:-1]:
        kind, ident, stage, due, to, reason, message = line.split("\t")
        listed[(kind, ident, stage)] = (due, to, reason, message)
    assert listed.keys() == plans.keys()
    expected = {
        ("teamlead", Stage.BEFORE, day.before),
        ("depthead", Stage.HEAD, day.head),
        ("union", Stage.UNION, day.union),
    }
    found = set()
    for key, (due, to, reason, message) in listed.items():
        p = plans[key]
        assert reason == p.reason and reason and message == p.message
        assert due == f"due {p.deadline.due}" and p.deadline.due.isoformat() in reason
        names = to.removeprefix("to: ").removesuffix(" + unit robots").split(", ")
        for name, stage, on in expected:
            if key[2] == stage and p.deadline.due == on and name in names:
                found.add(name)
    assert found == {"teamlead", "depthead", "union"}


@pytest.mark.django_db
def test_seed_demo_says_what_it_sent_or_when_it_will(loaded):
    day, output = loaded.day, loaded.output
    if loaded.rest_day:
        assert f"({day.moment.date()}) is not a working day" in output
        assert f"reminders --dry-run --date {day.scan_on}" in output
        assert not Reminder.objects.exists()
        assert not Delivery.objects.exists()
    else:
        assert f"Reminders and escalations sent today ({day.scan_on})" in output
        sent = Reminder.objects.filter(sent_on=day.scan_on)
        assert sent.filter(stage=Stage.BEFORE, due_on=day.before).exists()
        # once each: a later scan of the day sends nothing again
        assert reminders.scan(day.scan_on) == 0
    for name, stage, due in (
        ("teamlead", Stage.BEFORE, day.before),
        ("depthead", Stage.HEAD, day.head),
        ("union", Stage.UNION, day.union),
    ):
        line = next(
            line
            for line in output.splitlines()
            if f", {stage}, due {due}: to " in line and name in line
        )
        assert line.rsplit(": ", 1)[1].strip()  # with its reason


@pytest.mark.django_db
def test_the_demo_logins_have_addresses_and_are_emailed(loaded):
    for d in DEMO_LOGINS:
        assert login(d.login).email == f"{d.login}@example.com"
    if loaded.rest_day:
        assert not Delivery.objects.exists()
        return  # sent on the next working day (the test above sends them)
    for name in ("teamlead", "depthead", "union"):
        assert Delivery.objects.filter(
            channel=Delivery.Channel.EMAIL, user__employee_no=name
        ).exists(), name


@pytest.mark.django_db
def test_the_open_vote_and_survey_close_a_few_working_days_ahead(loaded):
    day = loaded.day
    vote = Poll.objects.get(status=PollStatus.OPEN)
    assert vote.closes_on == day.before
    survey = Survey.objects.get(status=SurveyStatus.OPEN)
    assert working_days(day.scan_on, survey.ends_on) == 5
    assert survey.starts_on <= day.moment.date() <= survey.ends_on
    # rep has not voted yet: reminded that the vote closes, on the day the reminders go.
    rep = login("rep")
    closing = [p for p in planned(day.scan_on) if p.deadline.kind == "vote"]
    assert [p.stage for p in closing] == [Stage.BEFORE] and rep.pk in closing[0].people
    assert not closing[0].robots
