"""gongkai.core.models.choices_constraint: the check every choices field's model declares."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, models, transaction

from gongkai.core.models import CalendarDay, DayKind, choices_constraint


def test_choices_constraint_is_the_check_on_the_values() -> None:
    made = choices_constraint("kind", DayKind, "core_calendarday_kind_valid")
    written = models.CheckConstraint(
        condition=models.Q(kind__in=["holiday", "workday"]), name="core_calendarday_kind_valid"
    )
    assert made == written
    assert made.deconstruct() == written.deconstruct()


@pytest.mark.django_db
def test_the_database_refuses_a_value_outside_the_choices() -> None:
    CalendarDay.objects.create(day=dt.date(2099, 3, 11), kind=DayKind.HOLIDAY)
    with transaction.atomic(), pytest.raises(IntegrityError, match=r"(?i)check"):
        CalendarDay.objects.create(day=dt.date(2099, 3, 12), kind="weekend")
