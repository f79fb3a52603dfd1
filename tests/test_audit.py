"""The audit log: appended by every change of consequence, never changed or deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent, AuditLogIsAppendOnly
from gongkai.audit.services import record_event
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.conftest import Org


@pytest.fixture
def event(org: Org) -> AuditEvent:
    return record_event(
        actor=org["union"],
        action="test.changed",
        target=org.boiler,
        before={"name": "a"},
        after={"name": "b"},
    )


def test_event_records_who_what_when_before_after(org: Org, event: AuditEvent):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == org["union"]
    assert stored.actor_label == str(org["union"])
    assert stored.target_type == "org.orgunit" and stored.target_id == str(org.boiler.pk)
    assert stored.before == {"name": "a"} and stored.after == {"name": "b"}
    assert abs(stored.at - timezone.now()) < timedelta(minutes=1)


def test_events_cannot_be_changed_or_deleted_through_the_application(event: AuditEvent):
    event.action = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.changed"


def test_the_database_refuses_to_update_an_event(event: AuditEvent):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE id = %s", ["tampered", event.pk]
        )
    assert AuditEvent.objects.get(pk=event.pk).action == "test.changed"


def test_a_failed_change_leaves_no_event(org: Org):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        role_grant(actor=org["union"], user=org["employee"], role=Role.UNIT_HEAD, unit=org.boiler)
        raise RuntimeError("the surrounding work failed")
    assert AuditEvent.objects.count() == before


def test_supervision_browses_and_filters_the_log(org: Org, client: Client, event: AuditEvent):
    role_grant(
        actor=org["union"], user=org["employee"], role=Role.TEAM_OFFICER, unit=org.boiler_team
    )
    client.force_login(org["supervisor"])
    page = client.get(reverse("audit:event_list"), {"action": "org.role_granted"})
    assert page.status_code == 200
    events = list(page.context["page"].object_list)
    assert events and all(e.action == "org.role_granted" for e in events)
    assert "test.changed" not in {e.action for e in events}
    everything = client.get(reverse("audit:event_list")).context["page"].paginator.count
    assert (
        everything
        == AuditEvent.objects.filter(scope_path__startswith=org.company.path).count()
        + AuditEvent.objects.filter(scope_path="").count()
    )


def test_log_of_another_company_is_not_shown(org: Org, client: Client):
    record_event(actor=None, action="test.elsewhere", target=org.other_dept)
    client.force_login(org["union"])
    page = client.get(reverse("audit:event_list"), {"action": "test.elsewhere"})
    assert page.context["page"].paginator.count == 0


def test_date_filters_and_bad_dates(org: Org, client: Client, event: AuditEvent):
    client.force_login(org["union"])
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    found = client.get(
        reverse("audit:event_list"), {"since": today.isoformat(), "action": "test.changed"}
    )
    assert found.context["page"].paginator.count == 1
    none = client.get(
        reverse("audit:event_list"), {"since": tomorrow.isoformat(), "action": "test.changed"}
    )
    assert none.context["page"].paginator.count == 0
    bad = client.get(reverse("audit:event_list"), {"since": "2026-13-45"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["since"]


def test_audit_list_paginates_with_a_fixed_number_of_queries(
    org, client, django_assert_max_num_queries
):
    for i in range(120):
        record_event(actor=org["union"], action="test.bulk", target=org.boiler, after={"i": i})
    client.force_login(org["union"])
    client.get(reverse("audit:event_list"))  # warm the session
    with django_assert_max_num_queries(10):
        page = client.get(reverse("audit:event_list"), {"action": "test.bulk", "page": 2})
    assert page.context["page"].number == 2
    assert len(page.context["page"].object_list) == 50
