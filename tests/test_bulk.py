"""gongkai.core.bulk.insert writes what bulk_create would (dates and aware times as the ORM
stores them, read back equal), refuses a call that leaves out a required column before
writing anything, and breaks a unique constraint as loudly as bulk_create."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from gongkai.core.bulk import insert
from gongkai.notify.models import Notification, Reminder
from tests.conftest import Org

pytestmark = pytest.mark.django_db

FIELDS = ["kind", "key", "stage", "due_on", "unit", "sent_on", "recipients"]


def test_rows_read_back_as_the_orm_would_have_written_them(org: Org):
    at = datetime(2026, 12, 7, 8, 30, 15, 123456, tzinfo=UTC)
    insert(
        Notification,
        ["user", "message", "url", "created_at"],
        [(org["employee"].pk, "提醒:十月考勤公开三个工作日后到期", "/x/", at)] * 3,
    )
    stored = list(Notification.objects.filter(user=org["employee"]))
    assert len(stored) == 3
    assert {(n.message, n.url, n.created_at, n.read_at) for n in stored} == {
        ("提醒:十月考勤公开三个工作日后到期", "/x/", at, None)
    }
    insert(Reminder, FIELDS, [("obligation", "k1", "before", date(2026, 12, 10), org.boiler.pk,
                               date(2026, 12, 7), 2)])  # fmt: skip
    reminder = Reminder.objects.get(key="k1")
    assert (reminder.due_on, reminder.sent_on, reminder.unit_id, reminder.recipients) == (
        date(2026, 12, 10), date(2026, 12, 7), org.boiler.pk, 2,
    )  # fmt: skip


def test_a_required_column_left_out_is_named_and_nothing_is_written(org: Org):
    with pytest.raises(ValueError, match="must give created_at"):
        insert(Notification, ["user", "message", "url"], [(org["employee"].pk, "x", "")])
    assert not Notification.objects.exists()


def test_a_duplicate_breaks_the_unique_constraint(org: Org):
    row = ("obligation", "k1", "before", date(2026, 12, 10), org.boiler.pk, date(2026, 12, 7), 1)
    insert(Reminder, FIELDS, [row])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(Reminder, FIELDS, [row])
    assert Reminder.objects.count() == 1
    insert(Reminder, FIELDS, [])  # nothing to do
