"""Suggestions (意见建议): the lifecycle, who may take each step, bad input, overdue and late
from dates, followers' notifications, the hidden name, and the handling statistics."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.notify.models import Notification
from gongkai.policy.rules import Action, can
from gongkai.voice import permissions as voice_policy
from gongkai.voice import selectors, services
from gongkai.voice.models import (
    StepKind,
    Suggestion,
    SuggestionAttachment,
    SuggestionCategory,
    SuggestionStatus,
    SuggestionStep,
)
from tests.conftest import PERSONAS

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")

S = SuggestionStatus
TZ = dt.timezone(dt.timedelta(hours=8))


def submit(org, author="employee", unit=None, **kw):
    defaults = {
        "category": SuggestionCategory.WORKING_CONDITIONS,
        "title": "锅炉房通风不足",
        "body": "夏季锅炉房温度过高，建议增加排风扇。",
    }
    return services.suggestion_submit(actor=org[author], unit=unit or org.boiler, **(defaults | kw))


def due(days=10):
    return timezone.localdate() + dt.timedelta(days=days)


def to_state(org, state, **kw):
    """A suggestion to the boiler department by the employee, taken to ``state``."""
    s = submit(org, **kw)
    if state == S.SUBMITTED:
        return s
    s = services.suggestion_accept(actor=org["depthead"], suggestion=s)
    if state == S.ACCEPTED:
        return s
    s = services.suggestion_assign(
        actor=org["depthead"], suggestion=s, responsible_unit=org.boiler_team, due_on=due()
    )
    if state == S.ASSIGNED:
        return s
    s = services.suggestion_answer(
        actor=org["teamlead"], suggestion=s, answer="已加装两台排风扇", action_taken="采购安装"
    )
    if state == S.ANSWERED:
        return s
    s = services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason="仍然很热"
    )
    assert s.status == state == S.REOPENED
    return s


# --- the contract -----------------------------------------------------------------------------


def test_submit_creates_a_followed_audited_suggestion(org):
    s = submit(org, name_hidden=True)
    assert s.status == S.SUBMITTED and s.unit == org.boiler and s.author == org["employee"]
    assert s.name_hidden and s.submitted_at is not None and s.due_on is None
    assert list(s.followers.values_list("user__employee_no", flat=True)) == ["employee"]
    assert list(s.steps.values_list("kind", flat=True)) == [StepKind.SUBMIT]
    event = AuditEvent.objects.get(action="suggestion.submitted")
    assert event.target_id == str(s.pk) and event.after["name_hidden"] is True
    # the department head is told that a suggestion arrived; the author is not
    assert Notification.objects.filter(user=org["depthead"], url__contains=str(s.pk)).exists()
    assert not Notification.objects.filter(user=org["employee"]).exists()


def test_full_lifecycle_satisfied_closes(org):
    s = to_state(org, S.ANSWERED)
    assert s.answered_at is not None and not s.answered_late
    s = services.suggestion_rate(actor=org["employee"], suggestion=s, rating=Satisfaction.SATISFIED)
    assert s.status == S.CLOSED and s.rating == Satisfaction.SATISFIED and not s.reopened
    kinds = list(Suggestion.objects.get(pk=s.pk).steps.values_list("kind", flat=True))
    assert kinds == ["submit", "accept", "assign", "answer", "rate"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "suggestion.submitted",
        "suggestion.accepted",
        "suggestion.assigned",
        "suggestion.answered",
        "suggestion.rated",
    } <= actions


def test_dissatisfied_reopens_once_then_second_rating_closes(org):
    s = to_state(org, S.REOPENED)
    assert s.reopened and s.rating == Satisfaction.DISSATISFIED
    assert Notification.objects.filter(user=org["union"], url__contains=str(s.pk)).exists()
    s = services.suggestion_review_return(
        actor=org["union"], suggestion=s, due_on=due(5), note="请重新答复"
    )
    assert s.status == S.ASSIGNED and s.due_on == due(5)
    s = services.suggestion_answer(actor=org["depthead"], suggestion=s, answer="再次答复")
    s = services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason="仍然很热"
    )
    assert s.status == S.CLOSED and s.rating == Satisfaction.DISSATISFIED
    assert s.steps.filter(kind=StepKind.ANSWER).count() == 2  # both answers stay public


def test_review_can_close_with_a_note(org):
    s = to_state(org, S.REOPENED)
    with pytest.raises(ServiceError) as error:
        services.suggestion_review_close(actor=org["union"], suggestion=s, note="  ")
    assert error.value.field == "note"
    s = services.suggestion_review_close(actor=org["union"], suggestion=s, note="答复已充分")
    assert s.status == S.CLOSED and s.review_note == "答复已充分"


def test_decline_needs_a_public_reason(org):
    s = submit(org)
    with pytest.raises(ServiceError) as error:
        services.suggestion_decline(actor=org["depthead"], suggestion=s, reason="")
    assert error.value.field == "reason"
    assert Suggestion.objects.get(pk=s.pk).status == S.SUBMITTED
    s = services.suggestion_decline(actor=org["depthead"], suggestion=s, reason="不属于本部门")
    assert s.status == S.DECLINED and s.decline_reason == "不属于本部门"


# --- who may take each step -----------------------------------------------------------------

ALLOWED = {
    StepKind.ACCEPT: {"depthead", "union"},
    StepKind.DECLINE: {"depthead", "union"},
    StepKind.ASSIGN: {"depthead", "union"},
    StepKind.ANSWER: {"depthead", "teamlead"},  # the responsible unit (boiler team) and above
    StepKind.RATE: {"employee"},  # the author only
    StepKind.REVIEW_RETURN: {"union"},
    StepKind.REVIEW_CLOSE: {"union"},
}
SOURCE = {
    StepKind.ACCEPT: S.SUBMITTED,
    StepKind.DECLINE: S.SUBMITTED,
    StepKind.ASSIGN: S.ACCEPTED,
    StepKind.ANSWER: S.ASSIGNED,
    StepKind.RATE: S.ANSWERED,
    StepKind.REVIEW_RETURN: S.REOPENED,
    StepKind.REVIEW_CLOSE: S.REOPENED,
}


def take(org, kind, who, s):
    actor = org[who]
    if kind == StepKind.ACCEPT:
        return services.suggestion_accept(actor=actor, suggestion=s)
    if kind == StepKind.DECLINE:
        return services.suggestion_decline(actor=actor, suggestion=s, reason="理由")
    if kind == StepKind.ASSIGN:
        return services.suggestion_assign(
            actor=actor, suggestion=s, responsible_unit=org.boiler_team, due_on=due()
        )
    if kind == StepKind.ANSWER:
        return services.suggestion_answer(actor=actor, suggestion=s, answer="答复")
    if kind == StepKind.RATE:
        return services.suggestion_rate(actor=actor, suggestion=s, rating=Satisfaction.BASIC)
    if kind == StepKind.REVIEW_RETURN:
        return services.suggestion_review_return(actor=actor, suggestion=s, due_on=due())
    return services.suggestion_review_close(actor=actor, suggestion=s, note="复核")


@pytest.mark.parametrize("who", [*PERSONAS, "turbine_worker", "outsider"])
@pytest.mark.parametrize("kind", list(ALLOWED))
def test_step_matrix(org, kind, who):
    s = to_state(org, SOURCE[kind])
    assert services.may_step(org[who], s, kind) == (who in ALLOWED[kind])
    events = AuditEvent.objects.count()
    if who in ALLOWED[kind]:
        after = take(org, kind, who, s)
        assert after.status != SOURCE[kind]
        assert AuditEvent.objects.count() == events + 1
    else:
        with pytest.raises(ServiceError):
            take(org, kind, who, s)
        assert Suggestion.objects.get(pk=s.pk).status == SOURCE[kind]
        assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("kind", list(ALLOWED))
def test_steps_in_the_wrong_state_are_refused(org, kind):
    s = submit(org, title="另一条")
    s = services.suggestion_decline(actor=org["union"], suggestion=s, reason="重复")
    who = sorted(ALLOWED[kind])[0]
    with pytest.raises(ServiceError) as error:
        take(org, kind, who, s)
    assert "declined" in error.value.message.lower() or "已" in error.value.message
    assert Suggestion.objects.get(pk=s.pk).status == S.DECLINED


def test_rating_by_someone_else_is_refused_with_a_clear_message(org):
    s = to_state(org, S.ANSWERED)
    for who in ("depthead", "union", "rep", "teamlead"):
        with pytest.raises(ServiceError) as error:
            services.suggestion_rate(actor=org[who], suggestion=s, rating=Satisfaction.SATISFIED)
        assert "author" in error.value.message
    fresh = Suggestion.objects.get(pk=s.pk)
    assert fresh.status == S.ANSWERED and fresh.rating is None


def test_reopen_only_once(org):
    s = to_state(org, S.REOPENED)
    s = services.suggestion_review_return(actor=org["union"], suggestion=s, due_on=due())
    s = services.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="第二次答复")
    s = services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason="仍然很热"
    )
    assert s.status == S.CLOSED
    assert s.steps.filter(kind=StepKind.REVIEW_RETURN).count() == 1


def test_two_handlers_racing_cannot_both_accept(org):
    s = submit(org)
    first = Suggestion.objects.get(pk=s.pk)
    second = Suggestion.objects.get(pk=s.pk)
    services.suggestion_accept(actor=org["depthead"], suggestion=first)
    with pytest.raises(ServiceError):
        services.suggestion_accept(actor=org["union"], suggestion=second)
    assert AuditEvent.objects.filter(action="suggestion.accepted").count() == 1
    assert SuggestionStep.objects.filter(kind=StepKind.ACCEPT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_in_real_transactions(org):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite serialises writers)")
    import threading

    from django.db import connections

    s = submit(org)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(who):
        try:
            barrier.wait()
            services.suggestion_accept(actor=org[who], suggestion=Suggestion.objects.get(pk=s.pk))
            outcomes.append("ok")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(w,)) for w in ("depthead", "union")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert AuditEvent.objects.filter(action="suggestion.accepted").count() == 1


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"body": "字" * 5001}, "body"),
        ({"category": "nonsense"}, "category"),
    ],
)
def test_bad_submissions_change_nothing(org, kw, field):
    with pytest.raises(ServiceError) as error:
        submit(org, **kw)
    assert error.value.field == field
    assert (
        not Suggestion.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="suggestion.").exists()
    )


def test_only_units_of_ones_own_company(org):
    with pytest.raises(ServiceError) as error:
        submit(org, unit=org.other_dept)
    assert error.value.field == "unit"
    with pytest.raises(ServiceError):
        submit(org, author="outsider", unit=org.boiler)
    assert not Suggestion.objects.exists()


def test_assign_only_within_the_receiving_unit_and_with_a_future_due_date(org):
    s = to_state(org, S.ACCEPTED)
    with pytest.raises(ServiceError) as error:
        services.suggestion_assign(
            actor=org["depthead"], suggestion=s, responsible_unit=org.turbine, due_on=due()
        )
    assert error.value.field == "responsible_unit"
    for bad in (None, timezone.localdate() - dt.timedelta(days=1), due(400)):
        with pytest.raises(ServiceError) as error:
            services.suggestion_assign(
                actor=org["depthead"], suggestion=s, responsible_unit=org.boiler, due_on=bad
            )
        assert error.value.field == "due_on"
    assert Suggestion.objects.get(pk=s.pk).status == S.ACCEPTED


def test_empty_or_huge_answer_is_refused(org):
    s = to_state(org, S.ASSIGNED)
    for text in ("", "答" * 5001):
        with pytest.raises(ServiceError) as error:
            services.suggestion_answer(actor=org["teamlead"], suggestion=s, answer=text)
        assert error.value.field == "answer"
    assert Suggestion.objects.get(pk=s.pk).status == S.ASSIGNED


def test_bad_rating_value(org):
    s = to_state(org, S.ANSWERED)
    with pytest.raises(ServiceError) as error:
        services.suggestion_rate(actor=org["employee"], suggestion=s, rating="great")
    assert error.value.field == "rating"


def png_with_exif() -> bytes:
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def test_attachments_are_sniffed_and_cleaned(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("现场.png", png_with_exif(), content_type="image/png")
    s = submit(org, attachments=[photo])
    attachment = SuggestionAttachment.objects.get(suggestion=s)
    assert attachment.content_type == "image/png" and attachment.original_name == "现场.png"
    with attachment.file.open("rb") as handle:
        data = handle.read()
    assert b"SecretCam" not in data


def test_wrong_file_type_is_refused_and_nothing_is_saved(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile(
        "evidence.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    with pytest.raises(ServiceError) as error:
        submit(org, attachments=[fake])
    assert error.value.field == "attachments"
    assert not Suggestion.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


# --- overdue and late, from dates ----------------------------------------------------------


def test_overdue_and_late_are_computed_from_dates(org):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    with time_machine.travel(start, tick=False):
        s = to_state(org, S.ACCEPTED)
        s = services.suggestion_assign(
            actor=org["depthead"],
            suggestion=s,
            responsible_unit=org.boiler_team,
            due_on=dt.date(2026, 3, 10),
        )
        assert not s.overdue
    assert not s.is_overdue(dt.date(2026, 3, 10))
    assert s.is_overdue(dt.date(2026, 3, 11))
    stats = selectors.handling_stats(
        [org.boiler], dt.date(2026, 3, 1), dt.date(2026, 3, 31), today=dt.date(2026, 3, 11)
    )
    assert stats[org.boiler.pk].overdue_open == 1
    with time_machine.travel(dt.datetime(2026, 3, 12, 10, 0, tzinfo=TZ), tick=False):
        s = services.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="迟到的答复")
        assert not s.overdue and s.answered_late
    answer_step = s.steps.get(kind=StepKind.ANSWER)
    assert answer_step.late
    stats = selectors.handling_stats(
        [org.boiler], dt.date(2026, 3, 1), dt.date(2026, 3, 31), today=dt.date(2026, 3, 20)
    )
    assert stats[org.boiler.pk].answered_late == 1 and stats[org.boiler.pk].overdue_open == 0


def test_answer_on_the_due_date_is_on_time(org):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ), tick=False):
        s = to_state(org, S.ACCEPTED)
        s = services.suggestion_assign(
            actor=org["depthead"],
            suggestion=s,
            responsible_unit=org.boiler,
            due_on=dt.date(2026, 3, 10),
        )
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 30, tzinfo=TZ), tick=False):
        s = services.suggestion_answer(actor=org["depthead"], suggestion=s, answer="按时答复")
    assert not s.answered_late


# --- followers and notifications ------------------------------------------------------------


def test_followers_are_notified_of_every_step_without_the_hidden_name(org):
    s = submit(org, name_hidden=True)
    services.suggestion_follow(actor=org["rep"], suggestion=s)
    s = services.suggestion_accept(actor=org["depthead"], suggestion=s)
    s = services.suggestion_assign(
        actor=org["depthead"], suggestion=s, responsible_unit=org.boiler_team, due_on=due()
    )
    s = services.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="答复")
    for who in ("rep", "employee"):
        notes = Notification.objects.filter(user=org[who], url__contains=f"/{s.pk}/")
        assert notes.count() == 3, who
    # the team lead is told to answer when it is assigned to the team
    assert Notification.objects.filter(user=org["teamlead"]).exists()
    for note in Notification.objects.all():
        assert "employee" not in note.message and org["employee"].name not in note.message
    services.suggestion_unfollow(actor=org["rep"], suggestion=s)
    services.suggestion_rate(actor=org["employee"], suggestion=s, rating=Satisfaction.SATISFIED)
    assert Notification.objects.filter(user=org["rep"]).count() == 3


def test_follow_is_idempotent_and_needs_sight(org):
    s = submit(org)
    assert services.suggestion_follow(actor=org["rep"], suggestion=s)
    assert not services.suggestion_follow(actor=org["rep"], suggestion=s)
    assert s.followers.count() == 2
    with pytest.raises(ServiceError):
        services.suggestion_follow(actor=org["outsider"], suggestion=s)


def test_audit_description_does_not_name_a_hidden_author(org):
    s = submit(org, name_hidden=True)
    for event in AuditEvent.objects.filter(target_id=str(s.pk)):
        assert "employee" not in event.target_label
        assert org["employee"].name not in str(event.after)


# --- statistics -------------------------------------------------------------------------------


def test_handling_stats_in_a_fixed_number_of_queries(org, django_assert_num_queries):
    to_state(org, S.ANSWERED)
    closed = to_state(org, S.ANSWERED, title="第二条")
    services.suggestion_rate(
        actor=org["employee"], suggestion=closed, rating=Satisfaction.SATISFIED
    )
    submit(org, unit=org.boiler_team, title="班组的")
    submit(org, author="turbine_worker", unit=org.turbine, title="汽机的")
    today = timezone.localdate()
    with django_assert_num_queries(1):
        stats = selectors.handling_stats(
            [org.company, org.boiler, org.boiler_team, org.turbine], today, today
        )
    assert stats[org.company.pk].received == 4
    assert stats[org.boiler.pk].received == 3
    assert stats[org.boiler.pk].answered == 2 and stats[org.boiler.pk].answered_on_time == 2
    assert stats[org.boiler.pk].ratings[Satisfaction.SATISFIED] == 1
    assert stats[org.boiler.pk].satisfaction_rate == 1.0
    assert stats[org.boiler_team.pk].received == 1
    assert stats[org.turbine.pk].received == 1
    flat = selectors.handling_stats([org.boiler], today, today, subtree=False)
    assert flat[org.boiler.pk].received == 2


def test_work_queue(org):
    submitted = submit(org, title="待处理")
    assigned = to_state(org, S.ASSIGNED, title="待答复")
    reopened = to_state(org, S.REOPENED, title="待复核")
    queue = selectors.work_queue(org["depthead"])
    assert submitted in queue.to_handle and assigned in queue.to_answer
    assert queue.to_review == []
    assert reopened in selectors.work_queue(org["union"]).to_review
    assert len(selectors.work_queue(org["employee"])) == 0


# --- policy rows for the suggestion actions ---------------------------------------------------

EVERYONE = set(PERSONAS)
POLICY_MATRIX = [
    (Action.SUGGESTION_SUBMIT, "boiler_team", EVERYONE),
    (Action.SUGGESTION_SUBMIT, "company", EVERYONE),
    (Action.SUGGESTION_SUBMIT, "other_dept", set()),
    (Action.SUGGESTION_HANDLE, "boiler", {"depthead", "union"}),
    (Action.SUGGESTION_HANDLE, "boiler_team", {"depthead", "teamlead", "union"}),
    (Action.SUGGESTION_HANDLE, "turbine", {"union"}),
    (Action.SUGGESTION_HANDLE, "other_dept", set()),
    (Action.SUGGESTION_ANSWER, "boiler_team", {"depthead", "teamlead"}),
    (Action.SUGGESTION_ANSWER, "boiler", {"depthead"}),
    (Action.SUGGESTION_ANSWER, "company", set()),
    (Action.SUGGESTION_REVIEW, "boiler", {"union"}),
    (Action.SUGGESTION_REVIEW, "other_dept", set()),
    (Action.SUGGESTION_SEE_AUTHOR, "boiler", {"depthead", "union", "supervisor"}),
    (Action.SUGGESTION_SEE_AUTHOR, "turbine", {"union", "supervisor"}),
    (Action.SUGGESTION_SEE_AUTHOR, "other_dept", set()),
]
POLICY_CASES = [
    (action, unit, who, who in allowed)
    for action, unit, allowed in POLICY_MATRIX
    for who in PERSONAS
]


@pytest.mark.parametrize(
    ("action", "unit", "who", "allowed"),
    POLICY_CASES,
    ids=[f"{a.value}@{u}-{w}" for a, u, w, _ in POLICY_CASES],
)
def test_policy_matrix(org, action, unit, who, allowed):
    assert can(org[who], action, getattr(org, unit)) is allowed


@pytest.mark.parametrize("who", [*PERSONAS, "turbine_worker", "outsider"])
def test_who_sees_a_hidden_author(org, who):
    s = submit(org, author="rep", name_hidden=True)
    expected = who in {"rep", "depthead", "union", "supervisor"}
    assert voice_policy.can_see_author(org[who], s) is expected
    assert voice_policy.can_view(org[who], s) is (who != "outsider")


def test_the_database_refuses_to_change_a_handling_step(org):
    from django.db import DatabaseError, transaction

    s = to_state(org, S.ANSWERED)
    step = s.steps.get(kind=StepKind.ANSWER)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE voice_suggestionstep SET text = %s WHERE id = %s", ["偷偷改", step.pk]
        )
    assert SuggestionStep.objects.get(pk=step.pk).text == step.text


def test_at_most_five_files(org):
    from tests.test_attachments import PDF_BYTES, upload

    with pytest.raises(ServiceError) as error:
        submit(org, attachments=[upload(PDF_BYTES) for _ in range(6)])
    assert error.value.field == "attachments"
    assert not Suggestion.objects.exists()


def test_board_section_only_for_those_who_may_open_the_board(org):
    from gongkai.voice.board import section

    submit(org, name_hidden=True)
    shown = section(unit=org.boiler, user=org["turbine_worker"])
    assert shown is not None and len(shown.context["suggestions"]) == 1
    assert shown.context["suggestions"][0].shown_author is None
    assert section(unit=org.boiler, user=org["outsider"]) is None
