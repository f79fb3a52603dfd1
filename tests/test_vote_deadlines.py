"""A vote's planned closing date (the last day to vote) and the reminders before it.

The union office sets the date when it sets up a vote and may move it while the vote is open
(audited); a date in the past is refused. Voters see "Vote by <date>" on the vote's page and
in their list; the union office sees the date on the manage page and, once it has passed
with the vote still open, is asked to close it (nothing closes by itself). The "vote"
deadline source yields open votes due in the dates asked, for exactly the electors who have
not voted (read from "has voted" only), and the reminder engine reminds them three working
days before and on the day, never after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.ballots.models import Elector, Poll, PollKind, PollStatus
from gongkai.ballots.services import (
    CadreSpec,
    ballot_cast,
    poll_close,
    poll_closing_date_set,
    poll_create,
    poll_open,
    poll_update,
)
from gongkai.core import deadlines
from gongkai.core.deadlines import Deadline
from gongkai.core.errors import ServiceError
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.notify import reminders
from gongkai.notify.models import Notification, Reminder
from gongkai.org.models import OrgUnit
from tests.conftest import Org
from tests.factories import UserFactory
from tests.test_ballots import all_same, cadres, make_hall, resolution

pytestmark = pytest.mark.usefixtures("english")

TZ = dt.timezone(dt.timedelta(hours=8))
TODAY = date(2026, 11, 20)  # a Friday; no holiday until the end of the year
DUE = date(2026, 11, 27)  # the Friday after
WINDOW = (TODAY, TODAY + timedelta(days=14))


def at(day: date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with time_machine.travel(at(TODAY), tick=False):
        yield


@pytest.fixture
def calendar(db) -> None:
    load_year(CalendarDay, 2026)  # the suite's flush may have emptied the calendar


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def shown(day: date) -> str:
    """A date as the pages show it in English."""
    with translation.override("en"):
        return formats.date_format(day)


def team_evaluation(
    org: Org, *, unit: OrgUnit | None = None, closes_on: date | None = DUE, opened: bool = True
) -> Poll:
    """A mass evaluation by the employees of the boiler team (teamlead, rep, employee)."""
    poll = poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.EVALUATION,
        title="锅炉运行一班年终群众评议",
        unit=unit or org.boiler_team,
        cadres=[CadreSpec(user=u) for u in cadres(org, 2)],
        closes_on=closes_on,
    )
    return poll_open(actor=org["union"], poll=poll) if opened else poll


def electors(poll: Poll) -> frozenset[int]:
    return frozenset(Elector.objects.filter(poll=poll).values_list("user_id", flat=True))


def ids(*users: User) -> frozenset[int]:
    return frozenset(u.pk for u in users)


def vote(poll: Poll, user: User) -> None:
    """Through the real cast service, as the ballot page does."""
    ballot_cast(actor=user, poll=poll, choices=all_same(poll, "competent"))


def collect(first: date, last: date, *, today: date = TODAY) -> dict[str, Deadline]:
    found: dict[str, Deadline] = {}
    for batch in deadlines.source("vote").open_between(first, last, today=today):
        assert isinstance(batch, list) and batch
        for deadline in batch:
            assert deadline.kind == "vote" and deadline.key not in found
            found[deadline.key] = deadline
    return found


# --- Setting the date -------------------------------------------------------------------------


def resolution_form(hall, **extra: str) -> dict[str, str]:
    return {
        "title": "关于2026年工资调整方案的表决",
        "session": str(hall.session.pk),
        "majority": "all",
        "items": "工资调整方案\n福利分配方案",
        **extra,
    }


def test_the_union_office_sets_the_planned_closing_date_in_the_form(org: Org, client: Client):
    hall = make_hall(org, total=3, present=3)
    client.force_login(org["union"])
    form = client.get(reverse("ballots:new", args=["resolution"])).content.decode()
    assert 'name="closes_on"' in form and 'type="date"' in form
    response = client.post(
        reverse("ballots:new", args=["resolution"]),
        resolution_form(hall, closes_on=DUE.isoformat()),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    poll = Poll.objects.get()
    assert poll.closes_on == DUE
    created = AuditEvent.objects.get(action="ballots.created")
    assert created.after["closes_on"] == DUE.isoformat()
    # the draft's edit form shows it, and changes it
    edit = client.get(reverse("ballots:edit", args=[poll.pk])).content.decode()
    assert f'value="{DUE.isoformat()}"' in edit
    later = DUE + timedelta(days=3)
    response = client.post(
        reverse("ballots:edit", args=[poll.pk]), resolution_form(hall, closes_on=later.isoformat())
    )
    assert response.status_code == 302
    assert Poll.objects.get(pk=poll.pk).closes_on == later
    edited = AuditEvent.objects.get(action="ballots.edited")
    assert (edited.before, edited.after["closes_on"]) == (
        {"closes_on": DUE.isoformat()},
        later.isoformat(),
    )
    # optional: today is allowed, and so is no date at all
    client.post(
        reverse("ballots:edit", args=[poll.pk]), resolution_form(hall, closes_on=TODAY.isoformat())
    )
    assert Poll.objects.get(pk=poll.pk).closes_on == TODAY
    client.post(reverse("ballots:edit", args=[poll.pk]), resolution_form(hall, closes_on=""))
    assert Poll.objects.get(pk=poll.pk).closes_on is None


def test_an_evaluation_takes_it_too(org: Org, client: Client):
    hall = make_hall(org, total=3, present=3)
    people = cadres(org, 2)
    client.force_login(org["union"])
    response = client.post(
        reverse("ballots:new", args=["evaluation"]),
        {
            "title": "中层干部民主评议",
            "session": hall.session.pk,
            "cadres": "\n".join(u.employee_no for u in people),
            "min_ballots": "1",
            "incompetent_threshold_percent": "30",
            "closes_on": DUE.isoformat(),
        },
    )
    assert response.status_code == 302
    assert Poll.objects.get().closes_on == DUE


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ((TODAY - timedelta(days=1)).isoformat(), "has passed"),
        ("2020-01-01", "has passed"),
        ("2026-02-30", "valid date"),
        ("下周五", "valid date"),
    ],
)
def test_a_past_or_bad_date_is_refused_with_a_clear_error(
    org: Org, client: Client, value: str, says: str
):
    hall = make_hall(org, total=3, present=3)
    in_english(client).force_login(org["union"])
    response = client.post(
        reverse("ballots:new", args=["resolution"]), resolution_form(hall, closes_on=value)
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert says in html and 'class="field invalid"' in html
    assert "关于2026年工资调整方案的表决" in html  # what was typed is kept
    assert not Poll.objects.exists()


def test_the_services_refuse_a_past_date(org: Org):
    hall = make_hall(org, total=3, present=3)
    yesterday = TODAY - timedelta(days=1)
    with pytest.raises(ServiceError) as error:
        resolution(org, hall, closes_on=yesterday)
    assert error.value.field == "closes_on" and "2026-11-19 has passed" in error.value.message
    poll = resolution(org, hall, closes_on=DUE)
    with pytest.raises(ServiceError):
        poll_update(
            actor=org["union"],
            poll=poll,
            title="改",
            session=hall.session,
            items=["一"],
            closes_on=yesterday,
        )
    poll = poll_open(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError):
        poll_closing_date_set(actor=org["union"], poll=poll, closes_on=yesterday)
    assert Poll.objects.get(pk=poll.pk).closes_on == DUE
    assert Poll.objects.get(pk=poll.pk).title == "关于2026年工资调整方案的表决"


@pytest.mark.parametrize("login", ["leader", "supervisor", "rep", "depthead", "employee"])
def test_nobody_but_the_union_office_sets_or_moves_it(org: Org, client: Client, login: str):
    hall = make_hall(org, total=3, present=3)
    client.force_login(org[login])
    response = client.post(
        reverse("ballots:new", args=["resolution"]),
        resolution_form(hall, closes_on=DUE.isoformat()),
    )
    assert response.status_code == 403
    assert not Poll.objects.exists()
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, closes_on=DUE))
    response = client.post(
        reverse("ballots:edit", args=[poll.pk]),
        {"closes_on": (DUE + timedelta(days=5)).isoformat()},
    )
    assert response.status_code in (403, 404)
    with pytest.raises(ServiceError):
        poll_closing_date_set(actor=org[login], poll=poll, closes_on=DUE + timedelta(days=5))
    assert Poll.objects.get(pk=poll.pk).closes_on == DUE
    assert not AuditEvent.objects.filter(action="ballots.edited").exists()


def test_it_may_be_moved_while_the_vote_is_open_and_that_is_audited(org: Org, client: Client):
    poll = team_evaluation(org)
    in_english(client).force_login(org["union"])
    url = reverse("ballots:edit", args=[poll.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # only the date can change once the vote is open
    assert 'name="closes_on"' in html and 'name="title"' not in html and 'name="cadres"' not in html
    later = DUE + timedelta(days=4)
    response = client.post(url, {"closes_on": later.isoformat(), "title": "偷改标题"})
    assert response.status_code == 302
    poll.refresh_from_db()
    assert (poll.closes_on, poll.title, poll.status) == (later, "锅炉运行一班年终群众评议", "open")
    event = AuditEvent.objects.get(action="ballots.edited")
    assert (event.before, event.after) == (
        {"closes_on": DUE.isoformat()},
        {"closes_on": later.isoformat()},
    )
    assert event.actor_id == org["union"].pk
    # the same date again changes and records nothing
    client.post(url, {"closes_on": later.isoformat()})
    assert AuditEvent.objects.filter(action="ballots.edited").count() == 1
    # a past date: the form again, with the reason, and nothing changed
    bad = client.post(url, {"closes_on": "2026-11-01"})
    assert bad.status_code == 400 and "has passed" in bad.content.decode()
    assert Poll.objects.get(pk=poll.pk).closes_on == later
    # cleared: no planned date (and no reminders)
    client.post(url, {"closes_on": ""})
    assert Poll.objects.get(pk=poll.pk).closes_on is None
    assert AuditEvent.objects.filter(action="ballots.edited").count() == 2
    # once closed, it no longer changes
    poll_close(actor=org["union"], poll=poll)
    closed = client.post(url, {"closes_on": DUE.isoformat()}, follow=True)
    assert "Only a vote that has not been opened can be edited." in closed.content.decode()
    with pytest.raises(ServiceError):
        poll_closing_date_set(actor=org["union"], poll=poll, closes_on=DUE)
    assert Poll.objects.get(pk=poll.pk).closes_on is None


# --- Showing it -------------------------------------------------------------------------------


def test_voters_see_vote_by_the_date_and_the_union_office_sees_it_on_the_manage_page(
    org: Org, client: Client
):
    poll = team_evaluation(org)
    detail = reverse("ballots:detail", args=[poll.pk])
    in_english(client).force_login(org["rep"])
    for url in (detail, reverse("ballots:list")):
        page = client.get(url).content.decode()
        assert f"Vote by {shown(DUE)}" in page, url
    vote(poll, org["rep"])
    for url in (detail, reverse("ballots:list")):
        assert "Vote by" not in client.get(url).content.decode()  # voted: nothing to remind
    # not an elector: the vote is not theirs to see
    client.force_login(org["turbine_worker"])
    assert client.get(detail).status_code == 404
    assert "Vote by" not in client.get(reverse("ballots:list")).content.decode()
    # the union office: the planned date on the manage page, a link to move it, no alarm yet
    client.force_login(org["union"])
    page = client.get(detail).content.decode()
    assert f"Planned closing date: <strong>{shown(DUE)}</strong>" in page
    assert reverse("ballots:edit", args=[poll.pk]) in page
    assert "close it" not in page and "Planned to close on" not in page
    # and says so when there is none
    other = team_evaluation(org, closes_on=None)
    page = client.get(reverse("ballots:detail", args=[other.pk])).content.decode()
    assert "No planned closing date" in page


def test_the_chinese_pages_say_it_too(org: Org, client: Client):
    poll = team_evaluation(org)
    client.force_login(org["employee"])
    page = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
    assert "2026年11月27日" in page


@pytest.mark.usefixtures("calendar")
def test_past_the_date_the_union_office_is_asked_to_close_it_and_nothing_closes_by_itself(
    org: Org, client: Client
):
    poll = team_evaluation(org)
    in_english(client)
    after = DUE + timedelta(days=3)  # Monday
    with time_machine.travel(at(after), tick=False):
        reminders.scan(after)
        client.force_login(org["union"])
        close = reverse("ballots:close", args=[poll.pk])
        for url in (reverse("ballots:detail", args=[poll.pk]), reverse("ballots:list")):
            page = client.get(url).content.decode()
            assert f"Planned to close on {shown(DUE)}" in page and "close it" in page, url
            assert f'href="{close}"' in page
        client.force_login(org["employee"])
        page = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
        assert f"Planned to close on {shown(DUE)}" in page and "close it" not in page
        assert "Vote now" in page  # still open: one may still vote
    poll.refresh_from_db()
    assert poll.status == PollStatus.OPEN and poll.closed_at is None and poll.result is None


# --- The deadline source ------------------------------------------------------------------------


def test_votes_are_a_registered_kind_of_deadline():
    source = deadlines.source("vote")
    assert source.kind == "vote" and source.label() == "Votes closing"


def test_an_open_vote_is_due_for_exactly_the_electors_who_have_not_voted(org: Org):
    poll = team_evaluation(org)
    found = collect(*WINDOW)
    assert list(found) == [str(poll.pk)]
    d = found[str(poll.pk)]
    assert d.due == DUE
    assert d.unit_id == org.boiler_team.pk
    assert d.title == "Vote: 锅炉运行一班年终群众评议"
    assert d.url == reverse("ballots:vote", args=[poll.pk]) == f"/congress/votes/{poll.pk}/vote/"
    assert not d.escalate and not d.private and not d.group
    assert d.people == electors(poll) == ids(org["teamlead"], org["rep"], org["employee"])
    vote(poll, org["employee"])
    assert collect(*WINDOW)[str(poll.pk)].people == ids(org["teamlead"], org["rep"])
    org["teamlead"].is_active = False
    org["teamlead"].save()
    assert collect(*WINDOW)[str(poll.pk)].people == ids(org["rep"])
    vote(poll, org["rep"])
    assert collect(*WINDOW)[str(poll.pk)].people == frozenset()  # everyone has voted


def test_a_session_vote_is_the_company_s(org: Org):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, closes_on=DUE))
    d = collect(*WINDOW)[str(poll.pk)]
    assert d.unit_id == org.company.pk
    assert d.people == ids(*hall.present)
    assert d.title == "Vote: 关于2026年工资调整方案的表决"


def test_a_vote_due_on_either_end_of_the_dates_counts_and_outside_them_not(org: Org):
    poll = team_evaluation(org)
    assert str(poll.pk) in collect(DUE, DUE)
    assert str(poll.pk) in collect(TODAY, DUE)
    assert collect(TODAY, DUE - timedelta(days=1)) == {}
    assert collect(DUE + timedelta(days=1), DUE + timedelta(days=30)) == {}


def test_closed_draft_or_undated_votes_are_not_due(org: Org):
    team_evaluation(org, opened=False)  # a draft with a date
    team_evaluation(org, closes_on=None)  # open, no planned date
    closed = team_evaluation(org)
    poll_close(actor=org["union"], poll=closed)
    assert collect(*WINDOW) == {}
    # closed early, before its planned date: nobody is reminded any more
    early = team_evaluation(org)
    assert list(collect(*WINDOW)) == [str(early.pk)]
    poll_close(actor=org["union"], poll=early)
    assert collect(*WINDOW) == {}


def count_queries() -> tuple[int, dict[str, Deadline]]:
    with CaptureQueriesContext(connection) as queries:
        found = collect(*WINDOW)
    return len(queries), found


def test_queries_do_not_grow_with_votes_or_electors(org: Org):
    team_evaluation(org)
    one, _found = count_queries()
    voted: dict[int, set[int]] = {}
    for n, unit in enumerate([org.boiler, org.turbine_team, org.company]):
        people = [UserFactory(employee_no=f"V{n}{i}", unit=unit) for i in range(4)]
        poll = team_evaluation(org, unit=unit, closes_on=DUE + timedelta(days=n))
        vote(poll, people[0])
        voted[poll.pk] = {people[0].pk}
        if unit == org.company:  # the union office votes too, in the company-wide one
            vote(poll, org["union"])
            voted[poll.pk].add(org["union"].pk)
    many, found = count_queries()
    assert many == one == 2  # the votes, their electors who have not voted
    assert len(found) == 4
    for key, d in found.items():
        poll = Poll.objects.get(pk=int(key))
        assert d.people == electors(poll) - voted.get(poll.pk, set())
        assert len(d.people) >= 3


# --- Through the reminder engine -----------------------------------------------------------------


def notices(user: User) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("pk").values_list("message", flat=True)
    )


@pytest.mark.usefixtures("calendar")
def test_electors_who_have_not_voted_are_reminded_before_and_on_the_day_and_never_after(org: Org):
    poll = team_evaluation(org)
    url = reverse("ballots:vote", args=[poll.pk])
    vote(poll, org["employee"])  # voted before any reminder
    days = [TODAY + timedelta(days=n) for n in range(0, 15)]
    got: dict[date, dict[str, int]] = {}
    for day in days:
        with time_machine.travel(at(day, 9), tick=False):
            reminders.scan(day)
        got[day] = {login: len(notices(org[login])) for login in ("teamlead", "rep", "employee")}
        if day == date(2026, 11, 25):
            vote(poll, org["rep"])  # votes between the two reminders
    before = date(2026, 11, 24)  # three working days before Friday 27th
    for day in days:
        if day < before:
            assert got[day] == {"teamlead": 0, "rep": 0, "employee": 0}, day
        elif day < DUE:
            assert got[day] == {"teamlead": 1, "rep": 1, "employee": 0}, day
        else:  # the day, and nothing more after it (a vote is never overdue)
            assert got[day] == {"teamlead": 2, "rep": 1, "employee": 0}, day
    first, second = notices(org["teamlead"])  # in the site's language
    assert "锅炉运行一班年终群众评议" in first and "2026-11-27" in first
    assert first.startswith("提醒") and "3 个工作日" in first
    assert "锅炉运行一班年终群众评议" in second and "今日到期" in second
    assert notices(org["rep"]) == [first]
    assert set(Notification.objects.values_list("url", flat=True)) == {url}
    assert set(Reminder.objects.values_list("kind", "key", "stage")) == {
        ("vote", str(poll.pk), "before"),
        ("vote", str(poll.pk), "day"),
    }
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN  # the reminders close nothing
