"""A catalog rule change never rewrites history (issue 13, item 2): a rule takes effect only
from a period that has not begun (or, confirmed, the current one), each period is judged by
the rule in force when it began, in compliance and in the drafting checks alike, and a rule
that has not taken effect yet can be replaced."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from gongkai.core.errors import ServiceError
from gongkai.disclosure.catalog_services import catalog_rule_add
from gongkai.disclosure.compliance import State, compliance_of
from gongkai.disclosure.models import CatalogEntry
from gongkai.disclosure.services import disclosure_create
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.factories import UserFactory
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
MAY = datetime(2026, 5, 10, 10, tzinfo=SH)  # Q2 and May have begun
MONTHLY = {
    "unit_kinds": ["company", "department"],
    "frequency": "monthly",
    "deadline_days": 10,
    "default_scope": "internal",
    "requires_procedure": True,
    "requires_result": True,
    "reason": "改为按月公开",
}


def form_data(effective_from: date, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        **MONTHLY,
        "effective_from": effective_from.isoformat(),
        "requires_procedure": "on",
        "requires_result": "on",
    }
    return data | extra


def entertainment() -> CatalogEntry:
    return CatalogEntry.objects.get(code="entertainment")


def add_monthly(org, effective_from: date, **kwargs: object):
    return catalog_rule_add(
        actor=org["union"],
        entry=entertainment(),
        effective_from=effective_from,
        **MONTHLY,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_rule_dated_in_the_past_is_refused_and_the_table_keeps_its_rows(org, client):
    record(org, org.boiler, "entertainment", period="2026-Q1", published=date(2026, 4, 8))
    client.force_login(org["union"])
    url = reverse("catalog:entry", args=["entertainment"])
    with time_machine.travel(MAY, tick=False):
        response = client.post(url, form_data(date(2026, 1, 1), confirm_current="on"))
        assert response.status_code == 400
        assert "2026-05-01" in response.content.decode()  # the earliest date it could take
        assert entertainment().rules.count() == 1
        with pytest.raises(ServiceError):
            add_monthly(org, date(2026, 4, 1), confirm_current=True)  # Q2 has begun
    table = compliance_of(org.boiler, 2026, today=date(2026, 5, 10))
    rows = [(o.period.key, o.state) for o in table.obligations if o.entry.code == "entertainment"]
    assert rows == [("2026-Q1", State.ON_TIME), ("2026-Q2", State.NOT_DUE)]


def test_the_current_period_only_with_confirmation(org, client):
    client.force_login(org["union"])
    url = reverse("catalog:entry", args=["entertainment"])
    with time_machine.travel(MAY, tick=False):
        unconfirmed = client.post(url, form_data(date(2026, 5, 1)))
        assert unconfirmed.status_code == 400
        assert entertainment().rules.count() == 1
        confirmed = client.post(url, form_data(date(2026, 5, 1), confirm_current="on"))
        assert confirmed.status_code == 302
    assert entertainment().rules.count() == 2
    table = compliance_of(org.boiler, 2026, today=date(2026, 7, 20))
    periods = [o.period.key for o in table.obligations if o.entry.code == "entertainment"]
    # Q2 began under the quarterly rule and keeps it; May on is monthly.
    assert periods == ["2026-Q1", "2026-Q2", "2026-05", "2026-06", "2026-07"]


def test_a_future_rule_leaves_earlier_periods_alone_everywhere(org):
    record(org, org.boiler, "entertainment", period="2026-Q1", published=date(2026, 4, 8))
    with time_machine.travel(MAY, tick=False):
        add_monthly(org, date(2026, 7, 1))
    table = compliance_of(org.boiler, 2026, today=date(2026, 8, 20))
    rows = [(o.period.key, o.state) for o in table.obligations if o.entry.code == "entertainment"]
    assert rows == [
        ("2026-Q1", State.ON_TIME),
        ("2026-Q2", State.OVERDUE),
        ("2026-07", State.OVERDUE),
        ("2026-08", State.NOT_DUE),
    ]
    # Drafting judges the period by the rule in force when it began, as compliance does.
    officer = UserFactory(unit=org.boiler)
    role_grant(actor=None, user=officer, role=Role.DEPT_OFFICER, unit=org.boiler)
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        late_quarter = disclosure_create(
            actor=officer, unit=org.boiler, entry=entertainment(), title="二季度", period="2026-Q2"
        )
        july = disclosure_create(
            actor=officer, unit=org.boiler, entry=entertainment(), title="七月", period="2026-07"
        )
        with pytest.raises(ServiceError):
            disclosure_create(
                actor=officer,
                unit=org.boiler,
                entry=entertainment(),
                title="三季度",
                period="2026-Q3",
            )
    assert late_quarter.period == "2026-Q2" and july.period == "2026-07"


def test_a_rule_not_yet_in_force_is_replaced_by_an_earlier_one(org, client):
    with time_machine.travel(MAY, tick=False):
        mistaken = add_monthly(org, date(2026, 7, 1))
        catalog_rule_add(
            actor=org["union"],
            entry=entertainment(),
            effective_from=date(2026, 6, 1),
            **(MONTHLY | {"frequency": "quarterly", "deadline_days": 15, "reason": "撤回误改"}),  # type: ignore[arg-type]
        )
        client.force_login(org["union"])
        page = client.get(reverse("catalog:entry", args=["entertainment"])).content.decode()
    assert "replaced before it took effect" in page or "生效前已被替换" in page
    table = compliance_of(org.boiler, 2026, today=date(2026, 12, 31))
    periods = [o.period.key for o in table.obligations if o.entry.code == "entertainment"]
    assert periods == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert mistaken.pk  # the row stays, for the record


def test_only_the_union_office_adds_rules(org, client):
    client.force_login(org["depthead"])
    with time_machine.travel(MAY, tick=False):
        response = client.post(
            reverse("catalog:entry", args=["entertainment"]), form_data(date(2026, 7, 1))
        )
    assert response.status_code == 403
    assert entertainment().rules.count() == 1


def test_the_catalog_announces_a_scheduled_change(org, client):
    with time_machine.travel(MAY, tick=False):
        add_monthly(org, date(2026, 7, 1))
        client.force_login(org["employee"])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get(reverse("catalog:index")).content.decode()
        entry_page = client.get(reverse("catalog:entry", args=["entertainment"])).content.decode()
    assert "changes on" in page
    assert "not yet in force" in entry_page and "in force" in entry_page
