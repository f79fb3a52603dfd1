"""The catalog's obligations as deadlines for the reminder engine (gongkai/disclosure/deadlines.py):
every active unit × catalog entry × period that it is charged with and has not published,
due when the compliance engine says it is, with the people who draft for the unit.

The seeded catalog's rules used here: pay (departments, monthly, 10 days after the month),
team-bonus (teams, monthly, 10 days), entertainment (companies and departments, quarterly,
15 days). In 2026, 10 October is a Saturday worked (调休) and 1-7 October are National Day.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from gongkai.audit.models import AuditEvent
from gongkai.core import deadlines as registry
from gongkai.core.deadlines import Deadline
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay, DayKind
from gongkai.disclosure import catalog_services, deadlines
from gongkai.disclosure.compliance import compliance_of
from gongkai.disclosure.deadlines import SOURCE, ObligationDeadlines
from gongkai.disclosure.models import CatalogEntry, CatalogRule, DisclosureStatus
from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.org.services import role_grant, unit_create, unit_update
from tests.conftest import Org
from tests.factories import UserFactory, published_disclosure
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 5)  # a Thursday; October's pay is due Tuesday 10 November


@pytest.fixture(autouse=True)
def calendar(db):
    load_year(CalendarDay, 2026)  # the suite's flush may have emptied the calendar


@pytest.fixture
def pinned():
    with time_machine.travel(datetime(2026, 11, 5, 10, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def officer(org: Org):
    user = UserFactory(unit=org.boiler)
    role_grant(actor=None, user=user, role=Role.DEPT_OFFICER, unit=org.boiler)
    return user


def scan(first: date, last: date, today: date = TODAY) -> dict[str, Deadline]:
    """Every deadline yielded, by key; fails on a key yielded twice."""
    found: dict[str, Deadline] = {}
    for batch in SOURCE.open_between(first, last, today=today):
        assert batch, "no empty batches"
        for deadline in batch:
            assert deadline.key not in found, deadline.key
            found[deadline.key] = deadline
    return found


def key(unit: OrgUnit, code: str, period: str) -> str:
    return f"{unit.pk}:{code}:{period}"


def compliance_due(unit: OrgUnit, code: str, period: str, today: date = TODAY) -> date:
    """The deadline the compliance engine gives the obligation (the boards' figure)."""
    year = int(period[:4])
    obligations = compliance_of(unit, year, today=today).obligations
    return next(o.due for o in obligations if o.entry.code == code and o.period.key == period)


# --- What is yielded ------------------------------------------------------------------------


def test_the_source_is_registered_for_the_reminder_engine():
    assert registry.source("obligation") is SOURCE
    assert isinstance(SOURCE, ObligationDeadlines)
    with translation.override("zh-hans"):
        assert SOURCE.label() == "目录公开义务"


def test_a_due_obligation_is_yielded_with_its_due_date_people_key_and_link(org: Org, officer):
    found = scan(date(2026, 11, 5), date(2026, 11, 12))
    pay = found[key(org.boiler, "pay", "2026-10")]
    assert pay.kind == "obligation"
    assert pay.due == date(2026, 11, 10) == compliance_due(org.boiler, "pay", "2026-10")
    assert pay.unit_id == org.boiler.pk
    # The holders of the drafting right on the department itself: its officer and its head
    # (not the union office, which holds it on the company above).
    assert pay.people == frozenset({officer.pk, org["depthead"].pk})
    assert (pay.group, pay.escalate, pay.private, pay.lead) == (True, True, False, None)
    link = urlparse(pay.url)
    assert link.path == reverse("disclosure:create")
    assert parse_qs(link.query) == {"unit": ["rd-boiler"], "entry": ["pay"], "period": ["2026-10"]}
    # Every department owes October's pay, and every team its monthly items; the companies
    # owe nothing due then.
    departments = [org.boiler, org.turbine, org.union_dept, org.other_dept]
    teams = [org.boiler_team, org.turbine_team]
    monthly = ["team-bonus", "attendance", "safety-performance"]
    assert set(found) == {key(u, "pay", "2026-10") for u in departments} | {
        key(t, code, "2026-10") for t in teams for code in monthly
    }


def test_the_title_is_in_the_site_language_whatever_language_the_scan_runs_in(org: Org):
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("en"):
        pay = scan(date(2026, 11, 10), date(2026, 11, 10))[key(org.boiler, "pay", "2026-10")]
        assert translation.get_language() == "en"  # the scan left the language alone
    with translation.override("zh-hans"):
        zh = scan(date(2026, 11, 10), date(2026, 11, 10))[key(org.boiler, "pay", "2026-10")]
    assert pay.title == zh.title  # 锅炉分场：薪酬分配，2026年10月
    assert pay.title.startswith("锅炉分场") and "薪酬分配" in pay.title
    assert pay.title.endswith("2026年10月")  # the period in Chinese, not "2026-10"
    assert type(pay.title) is str  # plain text, not a lazy string


def test_a_unit_without_drafters_is_reminded_through_the_nearest_unit_above(org: Org):
    found = scan(date(2026, 11, 10), date(2026, 11, 10))
    # Nobody drafts on the turbine department: the company's holders (the union office).
    assert found[key(org.turbine, "pay", "2026-10")].people == frozenset({org["union"].pk})
    # The other company has nobody up its chain: no one to tell, still a deadline.
    assert found[key(org.other_dept, "pay", "2026-10")].people == frozenset()
    # A team's head drafts for it.
    teams = scan(date(2026, 11, 10), date(2026, 11, 10))
    bonus = teams[key(org.boiler_team, "team-bonus", "2026-10")]
    assert bonus.people == frozenset({org["teamlead"].pk})


def test_an_inactive_holder_or_a_revoked_role_is_not_told(org: Org, officer):
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    pay = scan(date(2026, 11, 10), date(2026, 11, 10))[key(org.boiler, "pay", "2026-10")]
    assert pay.people == frozenset({org["depthead"].pk})


def test_only_deadlines_between_the_dates_both_included(org: Org):
    on_the_day = scan(date(2026, 11, 10), date(2026, 11, 10))
    assert key(org.boiler, "pay", "2026-10") in on_the_day
    assert scan(date(2026, 11, 11), date(2026, 11, 30)).keys().isdisjoint(on_the_day)
    assert scan(date(2026, 11, 1), date(2026, 11, 9)).keys().isdisjoint(on_the_day)
    assert not list(SOURCE.open_between(date(2026, 11, 12), date(2026, 11, 10), today=TODAY))


def test_overdue_obligations_are_yielded_until_published(org: Org):
    """September's pay was due on 10 October; the engine escalates what is still open."""
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    assert found[key(org.turbine, "pay", "2026-09")].due == date(2026, 10, 10)
    assert key(org.turbine, "entertainment", "2026-Q3") in found  # due 15 October


def test_a_period_that_has_not_begun_owes_nothing_yet(org: Org):
    """A rule due on the period's last day: December is due on the 31st, but on 5 November
    nobody can publish it yet (the compliance engine counts only begun periods)."""
    CatalogRule.objects.create(
        entry=CatalogEntry.objects.get(code="pay"),
        effective_from=date(2026, 11, 1),
        frequency="monthly",
        deadline_days=0,
        unit_kinds=["department"],
        default_scope="internal",
    )
    found = scan(date(2026, 11, 5), date(2026, 12, 31))
    assert key(org.boiler, "pay", "2026-11") in found  # began on 1 November, due the 30th
    assert key(org.boiler, "pay", "2026-12") not in found
    later = scan(date(2026, 12, 1), date(2026, 12, 31), today=date(2026, 12, 1))
    assert later[key(org.boiler, "pay", "2026-12")].due == date(2026, 12, 31)


# --- What is met ----------------------------------------------------------------------------


def test_a_published_obligation_is_not_yielded_even_when_late(org: Org):
    record(org, org.boiler, "pay", period="2026-09", published=date(2026, 10, 20))  # late
    record(org, org.turbine, "pay", period="2026-09", published=date(2026, 10, 9))  # on time
    record(org, org.union_dept, "pay", period="2026-09", is_nil=True, published=date(2026, 11, 2))
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    assert key(org.boiler, "pay", "2026-09") not in found
    assert key(org.turbine, "pay", "2026-09") not in found
    assert key(org.union_dept, "pay", "2026-09") not in found  # nothing to report, attested
    assert key(org.other_dept, "pay", "2026-09") in found


def test_an_item_published_through_the_workflow_late_is_met(org: Org):
    published_disclosure(
        unit=org.turbine,
        entry_code="entertainment",
        period="2026-Q3",
        published_at=datetime(2026, 11, 3, 15, tzinfo=SH),
    )
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    assert key(org.turbine, "entertainment", "2026-Q3") not in found
    assert key(org.boiler, "entertainment", "2026-Q3") in found


def test_a_withdrawn_publication_reopens_the_obligation(org: Org):
    record(
        org, org.boiler, "pay", period="2026-09", published=date(2026, 10, 9),
        status=DisclosureStatus.WITHDRAWN,
    )  # fmt: skip
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    assert key(org.boiler, "pay", "2026-09") in found


def test_a_draft_or_an_item_in_review_is_not_met_and_the_reminder_opens_it(
    org: Org, officer, pinned
):
    draft = disclosure_create(
        actor=officer,
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="pay"),
        title="十月薪酬",
        period="2026-10",
        procedure="按制度分配",
        result="共计 1,000 元",
    )
    found = scan(date(2026, 11, 10), date(2026, 11, 10))
    pay = found[key(org.boiler, "pay", "2026-10")]
    assert pay.url == reverse("disclosure:detail", kwargs={"pk": draft.pk})
    assert urlparse(found[key(org.turbine, "pay", "2026-10")].url).path == reverse(
        "disclosure:create"
    )
    disclosure_transition(actor=officer, disclosure=draft, transition=Transition.SUBMIT)
    found = scan(date(2026, 11, 10), date(2026, 11, 10))
    pay = found[key(org.boiler, "pay", "2026-10")]  # in review: still not published
    assert pay.url == reverse("disclosure:detail", kwargs={"pk": draft.pk})


# --- Who is charged -------------------------------------------------------------------------


def test_a_unit_charged_from_a_later_date_or_deactivated_owes_nothing_for_that_period(org: Org):
    # Created mid-October: charged from the periods that begin after, so from November.
    new = unit_create(
        actor=None,
        code="rd-chem",
        name="化学分场",
        kind=UnitKind.DEPARTMENT,
        parent=org.company,
        charged_from=date(2026, 10, 16),
    )
    # Deactivated on 3 November, after October ended: it answers for October on its board,
    # but nobody is left to remind.
    with time_machine.travel(datetime(2026, 11, 3, 10, tzinfo=SH), tick=False):
        unit_update(actor=None, unit=org.turbine, name=org.turbine.name, order=0, is_active=False)
    found = scan(date(2026, 11, 1), date(2026, 12, 31))
    assert key(new, "pay", "2026-10") not in found
    assert found[key(new, "pay", "2026-11")].due == date(2026, 12, 10)
    assert not [k for k in found if k.startswith(f"{org.turbine.pk}:")]
    assert key(org.boiler, "pay", "2026-10") in found


def test_a_unit_deactivated_before_the_period_ended_and_reactivated_owes_only_later_periods(
    org: Org,
):
    with time_machine.travel(datetime(2026, 10, 20, 10, tzinfo=SH), tick=False):
        unit_update(actor=None, unit=org.turbine, name=org.turbine.name, order=0, is_active=False)
        turbine = OrgUnit.objects.get(pk=org.turbine.pk)
        unit_update(actor=None, unit=turbine, name=turbine.name, order=0, is_active=True)
    found = scan(date(2026, 11, 1), date(2026, 12, 31))
    assert key(org.turbine, "pay", "2026-10") not in found  # began before 21 October
    assert key(org.turbine, "pay", "2026-11") in found


# --- The rule in force and the calendar ----------------------------------------------------


def test_a_rule_change_mid_period_judges_only_the_periods_that_begin_after_it(org: Org):
    pay = CatalogEntry.objects.get(code="pay")
    CatalogRule.objects.create(
        entry=pay,
        effective_from=date(2026, 10, 15),  # mid-October: October keeps its 10 days
        frequency="monthly",
        deadline_days=1,
        unit_kinds=["department"],
        default_scope="internal",
    )
    found = scan(date(2026, 11, 1), date(2026, 12, 31))
    october = found[key(org.boiler, "pay", "2026-10")]
    november = found[key(org.boiler, "pay", "2026-11")]
    assert october.due == date(2026, 11, 10) == compliance_due(org.boiler, "pay", "2026-10")
    assert november.due == date(2026, 12, 1) == compliance_due(org.boiler, "pay", "2026-11")


def test_a_rule_that_changes_the_frequency_changes_the_periods(org: Org):
    CatalogRule.objects.create(
        entry=CatalogEntry.objects.get(code="pay"),
        effective_from=date(2026, 10, 1),
        frequency="quarterly",
        deadline_days=10,
        unit_kinds=["department"],
        default_scope="internal",
    )
    found = scan(date(2026, 10, 1), date(2027, 1, 31), today=date(2026, 12, 20))
    pay = {k for k in found if k.startswith(f"{org.boiler.pk}:pay:")}
    # September under the monthly rule (due 10 October), then the fourth quarter.
    assert pay == {key(org.boiler, "pay", "2026-09"), key(org.boiler, "pay", "2026-Q4")}
    assert found[key(org.boiler, "pay", "2026-Q4")].due == date(2027, 1, 11)  # 10th: Sunday


def test_holidays_and_adjusted_working_days_move_the_deadline_as_compliance_does(org: Org):
    # September + 10 days is Saturday 10 October, a worked Saturday (调休): due that day.
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    september = found[key(org.boiler, "pay", "2026-09")]
    assert september.due == date(2026, 10, 10) == compliance_due(org.boiler, "pay", "2026-09")
    # Without the adjusted working day it is an ordinary Saturday: due Monday the 12th.
    CalendarDay.objects.filter(day=date(2026, 10, 10), kind=DayKind.WORKDAY).delete()
    found = scan(date(2026, 10, 1), date(2026, 10, 31))
    assert found[key(org.boiler, "pay", "2026-09")].due == date(2026, 10, 12)
    assert compliance_due(org.boiler, "pay", "2026-09") == date(2026, 10, 12)


def test_a_deadline_in_a_public_holiday_moves_past_it(org: Org):
    CatalogRule.objects.create(
        entry=CatalogEntry.objects.get(code="pay"),
        effective_from=date(2026, 9, 1),
        frequency="monthly",
        deadline_days=1,
        unit_kinds=["department"],
        default_scope="internal",
    )
    # 1 October is National Day (1-7 October): due the 8th, the first working day after.
    assert (
        scan(date(2026, 10, 1), date(2026, 10, 7))
        .keys()
        .isdisjoint({key(org.boiler, "pay", "2026-09")})
    )
    found = scan(date(2026, 10, 8), date(2026, 10, 8))
    assert found[key(org.boiler, "pay", "2026-09")].due == date(2026, 10, 8)
    assert compliance_due(org.boiler, "pay", "2026-09") == date(2026, 10, 8)


def test_an_inactive_entry_owes_nothing(org: Org):
    CatalogEntry.objects.filter(code="pay").update(is_active=False)
    found = scan(date(2026, 11, 1), date(2026, 11, 30))
    assert not [k for k in found if ":pay:" in k]


# --- The reminder's lead --------------------------------------------------------------------


def test_the_entrys_reminder_days_are_the_deadlines_lead(org: Org):
    CatalogEntry.objects.filter(code="pay").update(remind_days_before=7)
    found = scan(date(2026, 11, 1), date(2026, 11, 30))
    assert found[key(org.boiler, "pay", "2026-10")].lead == 7
    CatalogEntry.objects.filter(code="pay").update(remind_days_before=0)
    found = scan(date(2026, 11, 1), date(2026, 11, 30))
    assert found[key(org.boiler, "pay", "2026-10")].lead == 0  # on the day only, not the default
    bonus = found[key(org.boiler_team, "team-bonus", "2026-10")]
    assert bonus.lead is None  # not set: the engine's default


# --- Setting it: the union office, on the catalog entry's page -----------------------------


def entry_page(client, code: str = "pay") -> str:
    return reverse("catalog:entry", args=[code])


def test_the_union_office_sets_the_reminder_on_the_entry_page(org: Org, client, pinned):
    client.force_login(org["union"])
    page = client.get(entry_page(client)).content.decode()
    assert 'name="remind_days_before"' in page
    rules = CatalogRule.objects.count()
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": "5"})
    assert response.status_code == 302
    pay = CatalogEntry.objects.get(code="pay")
    assert pay.remind_days_before == 5
    assert CatalogRule.objects.count() == rules  # no rule added by this form
    event = AuditEvent.objects.get(action="catalog.reminder_set")
    assert (event.actor_id, event.before, event.after) == (
        org["union"].pk,
        {"remind_days_before": None},
        {"remind_days_before": 5},
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(entry_page(client)).content.decode()
    assert "Drafters are reminded 5 working days before each deadline." in page
    assert 'value="5"' in page
    # Emptied: back to the default.
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": ""})
    assert response.status_code == 302
    assert CatalogEntry.objects.get(code="pay").remind_days_before is None
    assert AuditEvent.objects.filter(action="catalog.reminder_set").count() == 2


@pytest.mark.parametrize("value", ["31", "-1", "3.5", "abc", "9" * 30, "5; DROP TABLE x"])
def test_a_reminder_out_of_range_or_not_a_number_is_refused_and_nothing_changes(
    org: Org, client, pinned, value
):
    CatalogEntry.objects.filter(code="pay").update(remind_days_before=4)
    client.force_login(org["union"])
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error"' in page
    assert f'value="{value}"' in page  # what was typed is kept
    assert CatalogEntry.objects.get(code="pay").remind_days_before == 4
    assert not AuditEvent.objects.filter(action="catalog.reminder_set").exists()


def test_the_rule_form_is_not_disturbed_by_the_reminder_form(org: Org, client, pinned):
    client.force_login(org["union"])
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": "x"})
    page = response.content.decode()
    # Only the reminder form shows an error; the rule form is shown unbound, with no errors.
    assert page.count('class="error"') == 1


@pytest.mark.parametrize("login", ["employee", "depthead", "supervisor", "leader"])
def test_nobody_but_the_union_office_may_set_the_reminder(org: Org, client, pinned, login):
    client.force_login(org[login])
    page = client.get(entry_page(client)).content.decode()
    assert 'name="remind_days_before"' not in page
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": "9"})
    assert response.status_code == 403
    assert CatalogEntry.objects.get(code="pay").remind_days_before is None
    assert not AuditEvent.objects.filter(action="catalog.reminder_set").exists()


def test_an_anonymous_visitor_cannot_set_the_reminder(org: Org, client, pinned):
    response = client.post(entry_page(client), {"form": "reminder", "remind_days_before": "9"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert CatalogEntry.objects.get(code="pay").remind_days_before is None


def test_the_service_refuses_what_the_form_would(org: Org):
    from gongkai.core.errors import ServiceError

    pay = CatalogEntry.objects.get(code="pay")
    with pytest.raises(ServiceError):
        catalog_services.catalog_entry_reminder_set(actor=org["union"], entry=pay, days_before=31)
    catalog_services.catalog_entry_reminder_set(actor=org["union"], entry=pay, days_before=2)
    catalog_services.catalog_entry_reminder_set(actor=org["union"], entry=pay, days_before=2)
    assert AuditEvent.objects.filter(action="catalog.reminder_set").count() == 1  # no change


# --- Scale: a fixed number of queries per batch ---------------------------------------------


def departments(org: Org, n: int) -> list[OrgUnit]:
    return [
        unit_create(
            actor=None,
            code=f"rd-d{i}",
            name=f"部门{i}",
            kind=UnitKind.DEPARTMENT,
            parent=org.company,
        )
        for i in range(n)
    ]


def test_the_number_of_queries_does_not_grow_with_the_number_of_units(org: Org):
    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            found = scan(date(2026, 10, 1), date(2026, 11, 30))
        return len(captured.captured_queries), len(found)

    small, small_found = queries()
    made = departments(org, 40)
    for unit in made[:10]:  # some publish, some have drafters: the same queries
        record(org, unit, "pay", period="2026-09", published=date(2026, 10, 9))
        role_grant(actor=None, user=UserFactory(unit=unit), role=Role.DEPT_OFFICER, unit=unit)
    large, large_found = queries()
    assert large_found > small_found + 40
    assert large == small
    # The catalog, the calendar, and per chunk of units: the units, what they published,
    # their drafts, their drafters (one chunk per unit kind here).
    assert large <= 2 + 3 * 4


def test_batches_are_bounded_and_each_costs_a_fixed_number_of_queries(org: Org, monkeypatch):
    departments(org, 30)
    everything = scan(date(2026, 10, 1), date(2026, 11, 30))
    monkeypatch.setattr(deadlines, "PAIRS_PER_CHUNK", 5)  # a few units per chunk
    monkeypatch.setattr(deadlines, "BATCH", 4)
    batches = SOURCE.open_between(date(2026, 10, 1), date(2026, 11, 30), today=TODAY)
    seen: dict[str, Deadline] = {}
    counts = []
    while True:
        with CaptureQueriesContext(connection) as captured:
            batch = next(batches, None)
        if batch is None:
            break
        counts.append(len(captured.captured_queries))
        assert 0 < len(batch) <= 4
        seen |= {d.key: d for d in batch}
    assert seen == everything
    assert len(counts) > 20
    assert counts[0] <= 2 + 4  # the catalog and the calendar, then the first chunk
    # The next chunk (or nothing: the rest of a chunk), and perhaps the read that found the
    # previous kind's units exhausted.
    assert max(counts[1:]) <= 4 + 1
