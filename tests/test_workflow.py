"""gongkai.core.workflow: the transition table and the conditional UPDATE, on a model of its
own (an anonymous report), apart from any app's services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gongkai.core.errors import ServiceError
from gongkai.core.workflow import Transition, Workflow, rows
from gongkai.org.models import UnitKind
from gongkai.reporting.models import Report, ReportStatus
from tests.factories import make_unit

R = ReportStatus

FLOW = Workflow(
    model=Report,
    table=[
        *rows("review", [R.RECEIVED], R.UNDER_REVIEW, "report.handle"),
        *rows("close", [R.RECEIVED, R.UNDER_REVIEW], R.CONCLUDED, "report.handle"),
        *rows("close", [R.UNDER_REVIEW], R.RECEIVED, "report.handle"),
    ],
    stale="It is now %(status)s, not for %(to)s.",
    lost="Someone else was first.",
    stale_field="to",
)


@pytest.fixture
def report(db) -> Report:
    company = make_unit("公司", UnitKind.COMPANY, code="wf")
    today = timezone.localdate()
    return Report.objects.create(
        company=company,
        subject="s",
        body="b",
        received_on=today,
        updated_on=today,
        receipt_digest="x" * 64,
    )


def test_reading_the_table():
    assert FLOW.steps() == ["review", "close"]
    assert FLOW.sources("close") == {R.RECEIVED, R.UNDER_REVIEW}
    assert FLOW.allows("review", R.RECEIVED) and not FLOW.allows("review", R.CONCLUDED)
    assert FLOW.row("close", R.UNDER_REVIEW) == Transition(
        "close", R.UNDER_REVIEW, R.CONCLUDED, "report.handle"
    )
    assert FLOW.row("close", R.UNDER_REVIEW, R.RECEIVED).target == R.RECEIVED
    assert [row.name for row in FLOW.leaving(R.RECEIVED)] == ["review", "close"]
    with pytest.raises(ValueError):
        Workflow(model=Report, table=rows("a", ["x", "x"], "y", "z"), stale="", lost="")


def test_apply_moves_the_row_and_the_object(report):
    before = FLOW.apply(report, "review", changes={"summary": "看过"})
    assert before == R.RECEIVED
    assert report.status == R.UNDER_REVIEW and report.summary == "看过"
    report.refresh_from_db()
    assert report.status == R.UNDER_REVIEW and report.summary == "看过"
    FLOW.apply(report, "close", target=R.RECEIVED)
    assert Report.objects.get(pk=report.pk).status == R.RECEIVED


def test_a_step_that_does_not_leave_the_state_is_refused_with_the_stale_message(report):
    FLOW.apply(report, "close")
    with pytest.raises(ServiceError) as error:
        FLOW.apply(report, "review")
    assert error.value.message == f"It is now {R.CONCLUDED.label}, not for ."
    assert error.value.field == "to"
    with pytest.raises(ValueError):  # a target the table does not list
        FLOW.apply(report, "close", target=R.UNDER_REVIEW, seen=R.UNDER_REVIEW)


def test_the_loser_of_a_race_changes_nothing(report):
    first = Report.objects.get(pk=report.pk)
    second = Report.objects.get(pk=report.pk)
    FLOW.apply(first, "review")
    with pytest.raises(ServiceError) as error:
        FLOW.apply(second, "close", changes={"summary": "迟到的"})
    assert error.value.message == "Someone else was first."
    report.refresh_from_db()
    assert report.status == R.UNDER_REVIEW and report.summary == ""
